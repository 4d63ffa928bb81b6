/*
 * The UDP echo service (RFC 862) on the stack's UDP API alone: built
 * into the firmware, and linked unchanged by the unit tests, the fuzzer
 * and the host benchmark.
 *
 * It never answers a datagram that could start a loop or reach many
 * hosts: one sent to a broadcast or multicast address (but the group
 * echo_join asked for, answered to the sender alone), one from a
 * source that is not a single unicast host, one from a deny-listed
 * port (CFG_ECHO_DENY_PORTS), or one from its own port, whatever that
 * is (two echo services on the same port would bounce forever).
 */
#ifndef APP_ECHO_H
#define APP_ECHO_H

#include <stdint.h>

/* IN = rx; OK = replied; DROP = the rest. rx == replied + drops. A reply
 * is counted as handed to the stack: one the stack or the driver then
 * cannot send is counted there (udp.tx_err, ip.tx_err, nic.tx_full,
 * nic.tx_bad), so the service need not wait for the answer. */
struct echo_stats {
	uint32_t rx;
	uint32_t replied;
	uint32_t drop_src;   /* from a deny-listed port (IP drops non-unicast sources) */
	uint32_t drop_loop;  /* from our own port: another echo service */
	uint32_t drop_bcast; /* sent to a broadcast or multicast address */
	uint32_t mcast;      /* of replied: requests sent to the joined group (not in the sum) */
};

extern struct echo_stats echo_stats;

/* Bind UDP 'port' on every address (after net_init). 0, or a negative
 * enum net_err. Counters are zeroed. */
int echo_start(uint16_t port);
uint16_t echo_port(void);
/* Also answer datagrams sent to group (a multicast address) on the
 * port: joined on the service's PCB (after echo_start; a new echo_start
 * forgets it), replied to with a unicast datagram to the sender from our
 * own address. A second call replaces the group. 0 or a negative enum
 * net_err (NET_ERR_ARG: not a group; NET_ERR_MEM: group table full). */
int echo_join(uint32_t group);
/* Leave the group echo_join joined (the last member's leave sends an
 * IGMP Leave Group): 0, NET_ERR_ARG when none is joined, NET_ERR_CLOSED
 * before echo_start. */
int echo_leave(void);
uint32_t echo_group(void); /* 0: none */
/* Does rx == replied + drops hold? */
int echo_stats_ok(void);
void echo_stats_reset(void);

#endif
