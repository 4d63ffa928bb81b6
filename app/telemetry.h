/*
 * A telemetry sender, the second example service (make APP=telemetry):
 * every CFG_TELEM_PERIOD_MS a one-line report of the stack's counters
 * goes to a collector at the gateway's CFG_TELEM_PORT (statsd's port;
 * under QEMU user networking the gateway is the host: `nc -ul 8125`),
 * and any datagram to the query port is answered with the same line.
 *
 * It shows the UDP API a service needs beyond echo's: udp_connect and
 * udp_send to the collector, udp_sendto for the answers, the receive
 * callback, and the error callback: an ICMP unreachable about a report
 * (nobody listens at the collector) holds reports back for
 * CFG_TELEM_BACKOFF_MS instead of sending into the void.
 * Built into the firmware and, unchanged, the unit tests.
 */
#ifndef APP_TELEMETRY_H
#define APP_TELEMETRY_H

#include <stdint.h>

/* queries: IN = rx; OK = answered; DROP = the rest. */
struct telem_stats {
	uint32_t reports;    /* sent to the collector */
	uint32_t report_err; /* a report the stack refused (no route yet, ...) */
	uint32_t refused;    /* ICMP errors about reports: collector unreachable */
	uint32_t rx;         /* queries received */
	uint32_t answered;
	uint32_t drop_src;   /* from a broadcast, a non-unicast source or a port below 1024 */
	uint32_t drop_tx;    /* the answer could not be sent */
};

extern struct telem_stats telem_stats;

/* Bind the query port, open the report PCB (after net_init). 0, or a
 * negative enum net_err. Counters are zeroed. */
int telem_start(uint16_t query_port);
/* Call with the clock (ms) at least every CFG_TELEM_PERIOD_MS: sends a
 * report when one is due. */
void telem_tick(uint32_t now);
/* The report line for now into buf (at most n bytes, no NUL); its length. */
unsigned telem_report(char *buf, unsigned n, uint32_t now);
int telem_stats_ok(void);
void telem_stats_reset(void);

#endif
