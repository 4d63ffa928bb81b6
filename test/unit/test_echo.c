/* The shipped UDP echo service (app/echo.c) on the real stack: frames in,
 * the exact frames out, and its counters and the stack's balanced. */
#include "harness.h"
#include "../../app/echo.h"

#define OUR_BCAST 0x0a0002ffu /* 10.0.2.255 */

static uint8_t f[CFG_PKT_BUFSZ];
static uint8_t pay[CFG_MTU];

static void fresh(uint16_t port)
{
	h_init();
	CHECK_EQ(echo_start(port), 0);
	CHECK_EQ(echo_port(), port);
	for (size_t i = 0; i < sizeof pay; i++)
		pay[i] = (uint8_t)(i * 29 + 3);
}

/* A UDP datagram src:sport -> dst:dport with 'len' bytes of pay, in an
 * Ethernet frame to eth_dst from PEER_MAC; a real link pads it to 60
 * bytes (with junk: the echo must not send it back). Returns the length. */
static size_t frame(const uint8_t *eth_dst, uint32_t src, uint32_t dst, uint16_t sport,
		    uint16_t dport, uint16_t len)
{
	size_t o = h_udp_frame_to(f, eth_dst, src, dst, sport, dport, pay, len);
	for (; o < ETH_MIN_FRAME; o++)
		f[o] = 0xee;
	return o;
}

/* The common request: PEER:sport -> us:dport. */
static size_t request(uint16_t sport, uint16_t dport, uint16_t len)
{
	return frame(H_MAC, PEER_IP, H_IP, sport, dport, len);
}

/* Frame i is the echo of 'len' bytes of pay from us:port to PEER:sport,
 * every header field as the wire needs it. */
static void check_echo(int i, uint16_t port, uint16_t sport, uint16_t len)
{
	const uint8_t *fr = h_frames[i], *ip = fr + ETH_HLEN, *u = ip + IP_HLEN;
	CHECK_EQ(h_lens[i], ETH_HLEN + IP_HLEN + UDP_HLEN + len); /* no padding echoed */
	CHECK(!memcmp(fr + ETH_DST, PEER_MAC, 6));
	CHECK(!memcmp(fr + ETH_SRC, H_MAC, 6));
	CHECK_EQ(get16(fr + ETH_TYPE), ETHTYPE_IP);
	h_check_reply_ip(ip, IPPROTO_UDP, IP_HLEN + UDP_HLEN + len);
	CHECK_EQ(get16(u + UDP_SPORT), port);
	CHECK_EQ(get16(u + UDP_DPORT), sport);
	CHECK_EQ(get16(u + UDP_LEN), UDP_HLEN + len);
	CHECK(!memcmp(u + UDP_HLEN, pay, len));
	CHECK(h_udp_ok(ip)); /* also: not 0 */
}

static void check_echo_stats(uint32_t replied, uint32_t src, uint32_t loop, uint32_t bcast)
{
	CHECK_EQ(echo_stats.rx, replied + src + loop + bcast);
	CHECK_EQ(echo_stats.replied, replied);
	CHECK_EQ(echo_stats.drop_src, src);
	CHECK_EQ(echo_stats.drop_loop, loop);
	CHECK_EQ(echo_stats.drop_bcast, bcast);
}

/* After every test: service and stack balanced, pool full. */
static void idle(void)
{
	CHECK(echo_stats_ok());
	h_idle();
}

/* The reply leaves from the request's buffer: no ARP (the peer was never
 * learned), back to the link address it came from, ports and addresses
 * swapped and the UDP checksum kept as it was. */
static void test_echo_in_place(void)
{
	fresh(7);
	/* net_init's ARP announcement is counted already */
	uint32_t arp0 = h_stat("arp", "tx_request"), eth0 = h_stat("eth", "tx");
	uint32_t alloc0 = pkt_stats.alloc;
	size_t n = request(40000, 7, 100);
	h_inject(f, n);
	CHECK_EQ(h_nsent, 1);
	check_echo(0, 7, 40000, 100);
	CHECK_EQ(get16(h_frames[0] + ETH_HLEN + IP_HLEN + UDP_CSUM),
		 get16(f + ETH_HLEN + IP_HLEN + UDP_CSUM));
	CHECK_EQ(pkt_stats.alloc - alloc0, 1); /* the request's buffer, nothing else */
	CHECK_EQ(h_stat("arp", "tx_request"), arp0);
	CHECK_EQ(h_stat("udp", "delivered"), 1);
	CHECK_EQ(h_stat("udp", "tx"), 1);
	CHECK_EQ(h_stat("ip", "tx"), 1);
	CHECK_EQ(h_stat("eth", "tx") - eth0, 1);
	check_echo_stats(1, 0, 0, 0);
	idle();
}

/* What the in-place path cannot keep goes through udp_sendto: a request
 * without a checksum, and one with IP options. Both replies carry a full,
 * valid, non-zero checksum and a plain 20-byte header. */
static void test_echo_general(void)
{
	fresh(7);
	h_learn_peer(); /* the general path resolves the next hop */
	size_t n = request(40001, 7, 33);
	put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0);
	h_inject(f, n);
	CHECK_EQ(h_nsent, 1);
	check_echo(0, 7, 40001, 33);

	/* options: four NOPs, the header 24 bytes long */
	h_reset_sent();
	n = h_eth(f, H_MAC, PEER_MAC, ETHTYPE_IP);
	uint8_t *ip = f + n, *u = ip + IP_HLEN + 4;
	h_ip(ip, PEER_IP, H_IP, IPPROTO_UDP, IP_HLEN + 4 + UDP_HLEN + 40, 1, 0);
	ip[IP_VHL] = 0x46;
	put32(ip + IP_HLEN, 0x01010101);
	put16(ip + IP_CSUM, 0);
	put16(ip + IP_CSUM, csum_finish(csum_add(0, ip, IP_HLEN + 4)));
	put16(u + UDP_SPORT, 40002);
	put16(u + UDP_DPORT, 7);
	put16(u + UDP_LEN, UDP_HLEN + 40);
	put16(u + UDP_CSUM, 0);
	memcpy(u + UDP_HLEN, pay, 40);
	put16(u + UDP_CSUM, csum_finish(csum_add(csum_pseudo(PEER_IP, H_IP, IPPROTO_UDP,
							     UDP_HLEN + 40), u, UDP_HLEN + 40)));
	h_inject(f, (size_t)(u + UDP_HLEN + 40 - f));
	CHECK_EQ(h_nsent, 1);
	check_echo(0, 7, 40002, 40);
	CHECK_EQ(h_stat("udp", "tx"), 2);
	check_echo_stats(2, 0, 0, 0);
	idle();
}

/* Empty, one byte, the size that just fills a minimum frame, and the
 * largest that fits the MTU, on both paths. */
static void test_echo_sizes(void)
{
	static const uint16_t sizes[] = {0, 1, 18, CFG_MTU - IP_HLEN - UDP_HLEN};
	fresh(7);
	h_learn_peer();
	int k = 0;
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (int nosum = 0; nosum < 2; nosum++, k++) {
			h_reset_sent();
			uint16_t sport = (uint16_t)(50000 + k);
			size_t n = request(sport, 7, sizes[i]);
			if (nosum)
				put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0);
			h_inject(f, n);
			CHECK_EQ(h_nsent, 1);
			check_echo(0, 7, sport, sizes[i]);
		}
	}
	CHECK_EQ(h_stat("udp", "tx"), k);
	CHECK_EQ(h_stat("ip", "tx"), k);
	check_echo_stats((uint32_t)k, 0, 0, 0);
	idle();
}

/* Source ports of services that answer back (CFG_ECHO_DENY_PORTS) get no
 * echo: the two would loop. Our own port 7 counts as a loop. */
static void test_echo_deny_list(void)
{
	static const uint16_t denied[] = {0, 7, 13, 17, 19, 37, 53, 123, 161};
	fresh(7);
	h_learn_peer();
	for (unsigned i = 0; i < sizeof denied / sizeof denied[0]; i++)
		h_inject(f, request(denied[i], 7, 10));
	CHECK_EQ(h_nsent, 0);
	check_echo_stats(0, 8, 1, 0);
	/* next to a denied port, and an ordinary client port: answered */
	h_inject(f, request(8, 7, 10));
	h_inject(f, request(1000, 7, 10));
	CHECK_EQ(h_nsent, 2);
	check_echo(0, 7, 8, 10);
	check_echo(1, 7, 1000, 10);
	check_echo_stats(2, 8, 1, 0);
	idle();
}

/* Defect: only port 7 was refused as a source, so an echo on port 9 (or
 * 5555) answered a datagram from port 9 (5555), i.e. from another echo
 * service on the same port, and the two bounced it forever. */
static void test_echo_loop_any_port(void)
{
	static const uint16_t ports[] = {9, 5555};
	for (unsigned i = 0; i < 2; i++) {
		uint16_t port = ports[i], other = ports[1 - i];
		fresh(port);
		h_learn_peer();
		h_inject(f, request(port, port, 10));
		CHECK_EQ(h_nsent, 0);
		check_echo_stats(0, 0, 1, 0);
		h_inject(f, request(7, port, 10)); /* the deny list still holds, as drop_src */
		CHECK_EQ(h_nsent, 0);
		check_echo_stats(0, 1, 1, 0);
		h_inject(f, request(other, port, 10));
		h_inject(f, request(1000, port, 10));
		CHECK_EQ(h_nsent, 2);
		check_echo(0, port, other, 10);
		check_echo(1, port, 1000, 10);
		check_echo_stats(2, 1, 1, 0);
		idle();
	}
}

/* One broadcast must not draw a reply from every host: the stack hands
 * these to the service marked broadcast, and it drops them. */
static void test_echo_broadcast(void)
{
	fresh(7);
	h_learn_peer();
	h_inject(f, frame(H_BCAST, PEER_IP, OUR_BCAST, 1000, 7, 10));
	h_inject(f, frame(H_MAC, PEER_IP, OUR_BCAST, 1000, 7, 10));
	h_inject(f, frame(H_BCAST, PEER_IP, 0xffffffffu, 1000, 7, 10));
	h_inject(f, frame(H_BCAST, PEER_IP, H_IP, 1000, 7, 10)); /* link broadcast only */
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_stat("udp", "delivered"), 4);
	check_echo_stats(0, 0, 0, 4);
	idle();
}

/* Sources that name no single host, or name us: the IP layer already
 * drops them, so the service never sees them and nothing is sent. */
static void test_echo_bad_sources(void)
{
	static const uint32_t bad[] = {0, 0x7f000001u, 0xe0000001u, 0xf0000001u, OUR_BCAST,
				       0xffffffffu, H_IP};
	const unsigned nbad = sizeof bad / sizeof bad[0];
	fresh(7);
	h_learn_peer();
	for (unsigned i = 0; i < nbad; i++)
		h_inject(f, frame(H_MAC, bad[i], H_IP, 1000, 7, 10));
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_stat("ip", "drop_src"), nbad);
	CHECK_EQ(h_stat("udp", "rx"), 0);
	check_echo_stats(0, 0, 0, 0);
	idle();
}

/* The driver refuses the reply, on either path: the service counted it
 * replied (handed to the stack, echo.h), the driver counted the refusal,
 * nothing else did; the buffer freed. */
static void test_echo_tx_fail(void)
{
	fresh(7);
	h_learn_peer();
	uint32_t tx = h_stat("eth", "tx");
	h_fail_tx = 1;
	h_inject(f, request(1000, 7, 10));
	size_t n = request(1001, 7, 10);
	put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0);
	h_inject(f, n);
	h_fail_tx = 0;
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_refused, 2);
	CHECK_EQ(h_stat("eth", "tx"), tx + 2);
	CHECK_EQ(h_stat("eth", "tx_err"), 0);
	CHECK_EQ(h_stat("udp", "tx_err") + h_stat("ip", "tx_err"), 0);
	check_echo_stats(2, 0, 0, 0);
	idle();
}

int main(void)
{
	TEST(test_echo_in_place);
	TEST(test_echo_general);
	TEST(test_echo_sizes);
	TEST(test_echo_deny_list);
	TEST(test_echo_loop_any_port);
	TEST(test_echo_broadcast);
	TEST(test_echo_bad_sources);
	TEST(test_echo_tx_fail);
	DONE("echo");
}
