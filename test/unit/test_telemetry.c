/* The telemetry example service (app/telemetry.c) on the real stack:
 * reports to the gateway's collector port, held back after an ICMP error
 * about one, queries answered, and never to a broadcast or a low port;
 * counters balanced, every buffer back. */
#include "harness.h"
#include "../../app/config.h"
#include "../../app/telemetry.h"

#define QPORT 7
static uint8_t f[CFG_PKT_BUFSZ];

static void fresh(void)
{
	h_init();
	h_learn_peer();
	CHECK_EQ(telem_start(QPORT), 0);
}

/* Frame i is a report to PEER_IP:CFG_TELEM_PORT; its source port. */
static uint16_t check_report(int i, const char *seq)
{
	const uint8_t *ip = h_sent_ip(i), *u = ip + IP_HLEN;
	CHECK(h_ip_ok(ip));
	CHECK(h_udp_ok(ip));
	CHECK_EQ(get32(ip + IP_DST), PEER_IP);
	CHECK_EQ(get16(u + UDP_DPORT), CFG_TELEM_PORT);
	CHECK(get16(u + UDP_SPORT) >= CFG_UDP_EPHEMERAL_LO);
	CHECK(!memcmp(u + UDP_HLEN, "rvnet seq=", 10));
	CHECK(!memcmp(u + UDP_HLEN + 10, seq, strlen(seq)));
	return get16(u + UDP_SPORT);
}

static void test_telem_reports(void)
{
	fresh();
	telem_tick(h_clock);
	CHECK_EQ(h_nsent, 1);
	uint16_t sport = check_report(0, "1 ");
	telem_tick(h_clock + CFG_TELEM_PERIOD_MS - 1);
	CHECK_EQ(h_nsent, 1);
	telem_tick(h_clock + CFG_TELEM_PERIOD_MS);
	CHECK_EQ(h_nsent, 2);
	CHECK_EQ(check_report(1, "2 "), sport); /* one connected PCB */
	CHECK_EQ(telem_stats.reports, 2);
	/* no gateway: no report */
	netif.gw = 0;
	telem_tick(h_clock + 2 * CFG_TELEM_PERIOD_MS);
	CHECK_EQ(h_nsent, 2);
	h_idle();
}

/* An ICMP port unreachable quoting a report holds the next ones back. */
static void test_telem_error_backoff(void)
{
	fresh();
	uint32_t t = h_clock;
	telem_tick(t);
	CHECK_EQ(h_nsent, 1);
	/* the collector's host answers with the first 28 bytes of the report */
	size_t o = h_eth(f, H_MAC, PEER_MAC, ETHTYPE_IP);
	o += h_ip(f + o, PEER_IP, H_IP, IPPROTO_ICMP, IP_HLEN + ICMP_HLEN + IP_HLEN + UDP_HLEN, 5, 0);
	uint8_t *m = f + o;
	memset(m, 0, ICMP_HLEN);
	m[ICMP_TYPE] = ICMP_UNREACH;
	m[ICMP_CODE] = ICMP_UNREACH_PORT;
	memcpy(m + ICMP_HLEN, h_sent_ip(0), IP_HLEN + UDP_HLEN);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + IP_HLEN + UDP_HLEN)));
	o += ICMP_HLEN + IP_HLEN + UDP_HLEN;
	h_inject(f, o);
	CHECK_EQ(telem_stats.refused, 1);
	CHECK_EQ(h_stat("icmp", "err_delivered"), 1);
	telem_tick(t + CFG_TELEM_PERIOD_MS);
	telem_tick(t + CFG_TELEM_BACKOFF_MS - 1);
	CHECK_EQ(h_nsent, 1);
	telem_tick(t + CFG_TELEM_BACKOFF_MS);
	CHECK_EQ(h_nsent, 2);
	check_report(1, "2 ");
	/* the same error from a spoofer who guessed wrong (another port): nothing */
	put16(m + ICMP_HLEN + IP_HLEN + UDP_SPORT, (uint16_t)(get16(h_sent_ip(0) + IP_HLEN) + 1));
	put16(m + ICMP_CSUM, 0);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + IP_HLEN + UDP_HLEN)));
	h_inject(f, o);
	CHECK_EQ(telem_stats.refused, 1);
	CHECK_EQ(h_stat("icmp", "drop_err_nomatch"), 1);
	h_idle();
}

/* A query is answered with the report, from the query port, in the
 * query's own buffer; broadcasts and low source ports are not. */
static void test_telem_queries(void)
{
	fresh();
	telem_tick(h_clock);
	h_reset_sent();
	h_inject(f, h_udp_frame(f, 40000, QPORT, "?", 1));
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_sent_ip(0), *u = ip + IP_HLEN;
	CHECK(h_udp_ok(ip));
	CHECK_EQ(get16(u + UDP_SPORT), QPORT);
	CHECK_EQ(get16(u + UDP_DPORT), 40000);
	CHECK(!memcmp(u + UDP_HLEN, "rvnet seq=1 ", 12));
	char want[128];
	unsigned n = telem_report(want, sizeof want, h_clock);
	CHECK_EQ(get16(u + UDP_LEN), UDP_HLEN + n);
	h_inject(f, h_udp_frame(f, 53, QPORT, "?", 1)); /* a DNS server's port */
	h_udp_frame(f, 40000, QPORT, "?", 1);
	memcpy(f, H_BCAST, 6);
	put32(f + ETH_HLEN + IP_DST, 0xffffffffu);
	put16(f + ETH_HLEN + IP_CSUM, 0);
	put16(f + ETH_HLEN + IP_CSUM, csum_finish(csum_add(0, f + ETH_HLEN, IP_HLEN)));
	put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0);
	h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 1);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(telem_stats.rx, 3);
	CHECK_EQ(telem_stats.answered, 1);
	CHECK_EQ(telem_stats.drop_src, 2);
	CHECK(telem_stats_ok());
	h_idle();
}

/* A query that came in fragments (a chain): answered with one report in
 * the first buffer, the rest of the chain freed, not sent along. */
static void test_telem_query_chain(void)
{
	static uint8_t q[3000];
	fresh();
	memset(q, 'x', sizeof q);
	put16(q + UDP_SPORT, 40000);
	put16(q + UDP_DPORT, QPORT);
	put16(q + UDP_LEN, sizeof q);
	put16(q + UDP_CSUM, 0); /* none */
	for (unsigned off = 0; off < sizeof q; off += 1480) {
		unsigned n = sizeof q - off < 1480 ? sizeof q - off : 1480;
		size_t o = h_eth(f, H_MAC, PEER_MAC, ETHTYPE_IP);
		o += h_ip(f + o, PEER_IP, H_IP, IPPROTO_UDP, (uint16_t)(IP_HLEN + n), 77,
			  (uint16_t)(off / 8 | (off + n < sizeof q ? IP_MF : 0)));
		memcpy(f + o, q + off, n);
		h_inject(f, o + n);
	}
	CHECK_EQ(telem_stats.answered, 1);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_sent_ip(0);
	CHECK(h_udp_ok(ip));
	CHECK_EQ(get16(ip + IP_FRAG), 0);
	CHECK(!memcmp(ip + IP_HLEN + UDP_HLEN, "rvnet seq=", 10));
	h_idle();
}

int main(void)
{
	TEST(test_telem_reports);
	TEST(test_telem_error_backoff);
	TEST(test_telem_queries);
	TEST(test_telem_query_chain);
	DONE("telemetry");
}
