/* Ethernet filtering and ARP: frames in, exact frames and counters out. */
#include "harness.h"
#include "../../app/echo.h"

static uint8_t f[CFG_PKT_BUFSZ];
static const uint8_t MAC2[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
#define IP2 0x0a000203u
#define IP_FAR 0x0a000277u /* nobody answers for this one */

/* Would an IP packet to ip go out now, to mac? A miss leaves a pending
 * entry, which is timed out again so nothing stays queued. */
static int cached(uint32_t ip, const uint8_t *mac)
{
	h_reset_sent();
	struct pkt *p = pkt_alloc(PKT_STACK);
	memset(p->data, 0, IP_HLEN);
	p->len = IP_HLEN;
	arp_output(p, ip);
	int hit = 0;
	for (int i = 0; i < h_nsent; i++)
		if (get16(h_frames[i] + ETH_TYPE) == ETHTYPE_IP && !memcmp(h_frames[i], mac, 6))
			hit = 1;
	for (int i = 0; !hit && i <= CFG_ARP_TRIES; i++)
		h_advance(CFG_ARP_RETRY_MS);
	h_reset_sent();
	return hit;
}

/* An IP packet to ip through arp_output, marked by its first byte. */
static void send_marked(uint32_t ip, uint8_t mark)
{
	struct pkt *p = pkt_alloc(PKT_STACK);
	memset(p->data, 0, IP_HLEN);
	p->data[0] = mark;
	p->len = IP_HLEN;
	arp_output(p, ip);
}

/* ---- Ethernet ---- */

static void test_eth_runt(void)
{
	h_init();
	h_eth(f, H_MAC, PEER_MAC, ETHTYPE_ARP);
	h_inject(f, ETH_HLEN - 1);
	CHECK_EQ(h_stat("eth", "drop_runt"), 1);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

static void test_eth_oversize(void)
{
	h_init();
	memset(f, 0, sizeof f);
	h_eth(f, H_MAC, PEER_MAC, ETHTYPE_IP);
	h_inject(f, ETH_HLEN + CFG_MTU + 1);
	CHECK_EQ(h_stat("eth", "drop_oversize"), 1);
	h_inject(f, ETH_HLEN + CFG_MTU); /* the largest allowed frame goes on to IP */
	CHECK_EQ(h_stat("eth", "drop_oversize"), 1);
	CHECK_EQ(h_stat("eth", "to_ip"), 1);
	h_idle();
}

static void test_eth_not_ours(void)
{
	static const uint8_t other[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	h_init();
	h_inject(f, h_arp(f, other, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP));
	h_inject(f, h_arp(f, mcast, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP));
	CHECK_EQ(h_stat("eth", "drop_not_ours"), 2);
	CHECK_EQ(h_stat("arp", "rx"), 0);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

static void test_eth_src_mcast(void)
{
	static const uint8_t mcast[6] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
	h_init();
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP));
	h_reset_sent();
	memcpy(f + ETH_SRC, mcast, 6);
	h_inject(f, 60);
	memcpy(f + ETH_SRC, H_BCAST, 6);
	h_inject(f, 60);
	CHECK_EQ(h_stat("eth", "drop_src_mcast"), 2);
	CHECK_EQ(h_stat("arp", "rx"), 1);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* Every source rule on both paths of eth_input: the usual frame (to our
 * MAC: both addresses checked against our MAC read once) and the general
 * one (a broadcast destination), at two even offsets. A bad source is
 * dropped under its own counter, a good one goes up. A frame at an odd
 * address, which no driver makes, is dropped as drop_align. */
static void test_eth_src_paths(void)
{
	static const uint8_t zero[6], mcast[6] = {0x03, 0, 0, 0, 0, 1};
	const uint8_t *dsts[2] = {H_MAC, H_BCAST};
	for (size_t shift = 0; shift <= 2; shift += 2)
		for (int d = 0; d < 2; d++) {
			h_init();
			size_t n = h_arp(f, dsts[d], ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP);
			CHECK_EQ(h_inject_at(f, n, shift), 0);
			CHECK_EQ(h_stat("eth", "to_arp"), 1);
			h_reset_sent();
			memcpy(f + ETH_SRC, mcast, 6);
			CHECK_EQ(h_inject_at(f, n, shift), 0);
			memcpy(f + ETH_SRC, H_BCAST, 6);
			CHECK_EQ(h_inject_at(f, n, shift), 0);
			memcpy(f + ETH_SRC, zero, 6);
			CHECK_EQ(h_inject_at(f, n, shift), 0);
			memcpy(f + ETH_SRC, H_MAC, 6);
			CHECK_EQ(h_inject_at(f, n, shift), 0);
			CHECK_EQ(h_stat("eth", "drop_src_mcast"), 2);
			CHECK_EQ(h_stat("eth", "drop_src_zero"), 1);
			CHECK_EQ(h_stat("eth", "drop_src_ours"), 1);
			CHECK_EQ(h_stat("eth", "to_arp"), 1);
			CHECK_EQ(h_nsent, 0);
			/* one byte of our MAC off in the destination: not ours */
			memcpy(f + ETH_SRC, PEER_MAC, 6);
			if (d == 0) {
				f[ETH_DST + 5] ^= 1;
				CHECK_EQ(h_inject_at(f, n, shift), 0);
				CHECK_EQ(h_stat("eth", "drop_not_ours"), 1);
				f[ETH_DST + 5] ^= 1;
			}
			CHECK_EQ(h_inject_at(f, n, shift + 1), 0);
			CHECK_EQ(h_stat("eth", "drop_align"), 1);
			CHECK_EQ(h_stat("eth", "to_arp"), 1);
			CHECK_EQ(h_nsent, 0);
			/* Every byte of each address counts (the usual path reads
			 * each as one number, a halfword and a word): a destination
			 * one byte off ours is not ours, a source one byte off ours
			 * is someone else's and goes up. */
			for (int b = 0; b < 6; b++) {
				uint32_t up = h_stat("eth", "to_arp"), other = h_stat("eth", "drop_not_ours");
				memcpy(f + ETH_SRC, H_MAC, 6);
				f[ETH_SRC + b] ^= 0x10;
				CHECK_EQ(h_inject_at(f, n, shift), 0);
				CHECK_EQ(h_stat("eth", "to_arp"), up + 1);
				memcpy(f + ETH_SRC, PEER_MAC, 6);
				if (d == 0) {
					f[ETH_DST + b] ^= 0x10;
					CHECK_EQ(h_inject_at(f, n, shift), 0);
					CHECK_EQ(h_stat("eth", "drop_not_ours"), other + 1);
					f[ETH_DST + b] ^= 0x10;
				}
			}
			CHECK_EQ(h_stat("eth", "drop_src_ours"), 1);
			h_idle();
		}
}

/* A UDP echo request (to port 7) or an ICMP echo request from PEER_IP to
 * us, in a frame from Ethernet source src. */
static size_t udp_echo_req(const uint8_t *src)
{
	size_t n = h_udp_frame(f, 1000, 7, "ping", 4);
	memcpy(f + ETH_SRC, src, 6);
	return n;
}

static size_t icmp_echo_req(const uint8_t *src)
{
	size_t o = h_eth(f, H_MAC, src, ETHTYPE_IP);
	o += h_ip(f + o, PEER_IP, H_IP, IPPROTO_ICMP, IP_HLEN + ICMP_HLEN + 4, 1, 0);
	uint8_t *m = f + o;
	memset(m, 0, ICMP_HLEN);
	m[ICMP_TYPE] = ICMP_ECHO;
	put16(m + 4, 0x1234);
	memcpy(m + ICMP_HLEN, "ping", 4);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + 4)));
	return o + ICMP_HLEN + 4;
}

/* Regression: a request whose Ethernet source is our own MAC (looped
 * back, or spoofed) was answered in place, i.e. to our own MAC. It must
 * draw no frame at all. Each request is first sent from PEER_MAC, to
 * show it is otherwise answered. */
static void test_eth_src_ours(void)
{
	size_t (*const req[2])(const uint8_t *) = {udp_echo_req, icmp_echo_req};
	for (int k = 0; k < 2; k++) {
		h_init();
		CHECK_EQ(echo_start(7), 0);
		h_inject(f, req[k](PEER_MAC));
		CHECK_EQ(h_nsent, 1);
		CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
		h_reset_sent();
		h_inject(f, req[k](H_MAC));
		CHECK_EQ(h_nsent, 0);
		CHECK_EQ(h_stat("eth", "drop_src_ours"), 1);
		CHECK_EQ(h_stat("eth", "to_ip"), 1);
		CHECK_EQ(echo_stats.rx, k == 0); /* the looped one never reached it */
		CHECK(echo_stats_ok());
		h_idle();
	}
}

static void test_eth_vlan(void)
{
	h_init();
	h_arp(f, H_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP);
	put16(f + ETH_TYPE, ETHTYPE_VLAN);
	h_inject(f, 60);
	put16(f + ETH_TYPE, ETHTYPE_QINQ);
	h_inject(f, 60);
	CHECK_EQ(h_stat("eth", "drop_vlan"), 2);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

static void test_eth_type(void)
{
	h_init();
	h_arp(f, H_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP);
	put16(f + ETH_TYPE, 0x86dd);
	h_inject(f, 60);
	CHECK_EQ(h_stat("eth", "drop_type"), 1);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* A frame the driver refuses: eth counts it handed over, the driver
 * counts the refusal (netif.output). eth.tx_err is the stack's own
 * failure: no room in front of the data for the header. */
static void test_eth_tx_err(void)
{
	h_init();
	uint32_t tx = h_stat("eth", "tx");
	h_fail_tx = 1;
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP));
	CHECK_EQ(h_refused, 1);
	CHECK_EQ(h_stat("eth", "tx"), tx + 1);
	CHECK_EQ(h_stat("eth", "tx_err"), 0);
	h_fail_tx = 0;
	struct pkt *p = pkt_alloc(PKT_STACK);
	CHECK(p != NULL);
	if (p) {
		p->data = p->head;
		p->len = 20;
		CHECK_EQ(eth_output(p, PEER_MAC, ETHTYPE_IP), NET_ERR_ARG);
		CHECK_EQ(h_stat("eth", "tx_err"), 1);
		CHECK_EQ(h_stat("eth", "tx"), tx + 1);
	}
	h_idle();
}

/* ---- ARP ---- */

static void test_arp_announce_at_init(void)
{
	h_init();
	net_init();
	CHECK_EQ(h_nsent, 1);
	const uint8_t *a = h_frames[0] + ETH_HLEN;
	CHECK(!memcmp(h_frames[0], H_BCAST, 6));
	CHECK(!memcmp(h_frames[0] + ETH_SRC, H_MAC, 6));
	CHECK_EQ(get16(a + ARP_OPER), ARP_OP_REQUEST);
	CHECK_EQ(get32(a + ARP_SPA), H_IP);
	CHECK_EQ(get32(a + ARP_TPA), H_IP);
	CHECK(!memcmp(a + ARP_THA, H_ZERO, 6));
	h_idle();
}

static void check_reply_to_peer(void)
{
	static const uint8_t want[42] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 10, 0, 2, 2};
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(h_lens[0], 42);
	CHECK(!memcmp(h_frames[0], want, 42));
}

static void test_arp_reply_format(void)
{
	h_init();
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP));
	check_reply_to_peer();
	h_reset_sent();
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP));
	check_reply_to_peer();
	CHECK_EQ(h_stat("arp", "replied"), 2);
	CHECK_EQ(h_stat("arp", "tx_reply"), 2);
	CHECK_EQ(h_stat("eth", "to_arp"), 2);
	CHECK(cached(PEER_IP, PEER_MAC)); /* a request to us creates an entry */
	h_idle();
}

static void test_arp_malformed(void)
{
	h_init();
	size_t n = h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP);
	h_inject(f, ETH_HLEN + ARP_LEN - 1);
	for (int k = 0; k < 5; k++) {
		h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP);
		uint8_t *a = f + ETH_HLEN;
		if (k == 0) put16(a + ARP_HTYPE, 6);
		if (k == 1) put16(a + ARP_PTYPE, 0x86dd);
		if (k == 2) a[ARP_HLEN] = 8;
		if (k == 3) a[ARP_PLEN] = 16;
		if (k == 4) put16(a + ARP_OPER, 3);
		h_inject(f, n);
	}
	CHECK_EQ(h_stat("arp", "drop_malformed"), 6);
	CHECK_EQ(h_nsent, 0);
	CHECK(!cached(PEER_IP, PEER_MAC));
	h_idle();
}

static void test_arp_bad_sender(void)
{
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	h_init();
	size_t n = h_arp(f, H_BCAST, ARP_OP_REQUEST, mcast, PEER_IP, H_ZERO, H_IP);
	memcpy(f + ETH_SRC, PEER_MAC, 6); /* only the ARP field is bad */
	h_inject(f, n);
	h_arp(f, H_BCAST, ARP_OP_REQUEST, H_ZERO, PEER_IP, H_ZERO, H_IP);
	memcpy(f + ETH_SRC, PEER_MAC, 6);
	h_inject(f, n);
	h_arp(f, H_BCAST, ARP_OP_REQUEST, H_MAC, PEER_IP, H_ZERO, H_IP);
	memcpy(f + ETH_SRC, PEER_MAC, 6);
	h_inject(f, n);
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, 0x0a0002ffu, H_ZERO, H_IP));
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, 0xe0000001u, H_ZERO, H_IP));
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REPLY, PEER_MAC, 0, H_MAC, H_IP));
	CHECK_EQ(h_stat("arp", "drop_bad_sender"), 6);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* RFC 5227 probe (sender 0): answered when it asks for us, learns nothing. */
static void test_arp_probe(void)
{
	h_init();
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, 0, H_ZERO, IP2));
	CHECK_EQ(h_stat("arp", "ignored"), 1);
	CHECK_EQ(h_nsent, 0);
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, 0, H_ZERO, H_IP));
	CHECK_EQ(h_stat("arp", "replied"), 1);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *a = h_frames[0] + ETH_HLEN;
	CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
	CHECK_EQ(get16(a + ARP_OPER), ARP_OP_REPLY);
	CHECK_EQ(get32(a + ARP_SPA), H_IP);
	CHECK_EQ(get32(a + ARP_TPA), 0);
	CHECK(!memcmp(a + ARP_THA, PEER_MAC, 6));
	CHECK(!cached(0, PEER_MAC));
	h_idle();
}

static void test_arp_unsolicited_reply(void)
{
	h_init();
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REPLY, PEER_MAC, PEER_IP, H_MAC, H_IP));
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REPLY, MAC2, IP2, H_BCAST, IP2)); /* gratuitous */
	CHECK_EQ(h_stat("arp", "ignored"), 2);
	CHECK_EQ(h_stat("arp", "learned"), 0);
	CHECK_EQ(h_nsent, 0);
	CHECK(!cached(PEER_IP, PEER_MAC));
	CHECK(!cached(IP2, MAC2));
	h_idle();
}

static void test_arp_request_not_for_us(void)
{
	h_init();
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, IP2));
	CHECK_EQ(h_stat("arp", "ignored"), 1);
	CHECK_EQ(h_nsent, 0);
	CHECK(!cached(PEER_IP, PEER_MAC));
	h_idle();
}

/* A known address is updated by any packet from it, asked or not. */
static void test_arp_update_existing(void)
{
	h_init();
	h_learn_peer();
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, MAC2, PEER_IP, H_ZERO, IP2));
	CHECK_EQ(h_stat("arp", "learned"), 1);
	CHECK_EQ(h_nsent, 0);
	CHECK(cached(PEER_IP, MAC2));
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REPLY, PEER_MAC, PEER_IP, H_BCAST, PEER_IP));
	CHECK_EQ(h_stat("arp", "learned"), 2);
	CHECK(cached(PEER_IP, PEER_MAC));
	h_idle();
}

/* A reply to our request resolves the entry and sends what waited, in order. */
static void test_arp_resolve_queue(void)
{
	h_init();
	send_marked(IP2, 1);
	send_marked(IP2, 2);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *a = h_frames[0] + ETH_HLEN;
	CHECK(!memcmp(h_frames[0], H_BCAST, 6));
	CHECK_EQ(get16(h_frames[0] + ETH_TYPE), ETHTYPE_ARP);
	CHECK_EQ(get16(a + ARP_OPER), ARP_OP_REQUEST);
	CHECK(!memcmp(a + ARP_SHA, H_MAC, 6));
	CHECK_EQ(get32(a + ARP_SPA), H_IP);
	CHECK_EQ(get32(a + ARP_TPA), IP2);
	CHECK_EQ(h_stat("arp", "queued"), 2);
	h_reset_sent();
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REPLY, MAC2, IP2, H_MAC, H_IP));
	CHECK_EQ(h_stat("arp", "learned"), 1);
	CHECK_EQ(h_nsent, 2);
	CHECK(!memcmp(h_frames[0], MAC2, 6));
	CHECK_EQ(h_frames[0][ETH_HLEN], 1);
	CHECK_EQ(h_frames[1][ETH_HLEN], 2);
	CHECK_EQ(get16(h_frames[1] + ETH_TYPE), ETHTYPE_IP);
	CHECK(cached(IP2, MAC2));
	h_idle();
}

/* Only CFG_ARP_QUEUE packets wait; the oldest gives way. */
static void test_arp_queue_bound(void)
{
	h_init();
	for (int i = 1; i <= CFG_ARP_QUEUE + 1; i++)
		send_marked(IP2, (uint8_t)i);
	CHECK_EQ(h_stat("arp", "queue_drop"), 1);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT - CFG_ARP_QUEUE);
	h_reset_sent();
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REPLY, MAC2, IP2, H_MAC, H_IP));
	CHECK_EQ(h_nsent, CFG_ARP_QUEUE);
	for (int i = 0; i < CFG_ARP_QUEUE; i++)
		CHECK_EQ(h_frames[i][ETH_HLEN], i + 2);
	h_idle();
}

/* Three requests a second apart, then give up and drop what waited. */
static void test_arp_retries_timeout(void)
{
	h_init();
	send_marked(IP_FAR, 1);
	send_marked(IP_FAR, 2);
	CHECK_EQ(h_nsent, 1);
	h_advance(CFG_ARP_RETRY_MS - CFG_TICK_MS);
	CHECK_EQ(h_nsent, 1);
	h_advance(CFG_TICK_MS);
	CHECK_EQ(h_nsent, 2);
	h_advance(CFG_ARP_RETRY_MS);
	CHECK_EQ(h_nsent, 3);
	for (int i = 0; i < 3; i++) {
		CHECK(!memcmp(h_frames[i], H_BCAST, 6));
		CHECK_EQ(get32(h_frames[i] + ETH_HLEN + ARP_TPA), IP_FAR);
	}
	CHECK_EQ(h_stat("arp", "tx_request"), 1 + 3); /* the start-up announcement too */
	CHECK_EQ(h_stat("arp", "timeout"), 0);
	h_advance(CFG_ARP_RETRY_MS);
	CHECK_EQ(h_nsent, 3);
	CHECK_EQ(h_stat("arp", "timeout"), 1);
	CHECK_EQ(h_stat("arp", "queue_drop"), 2);
	h_advance(10 * CFG_ARP_RETRY_MS);
	CHECK_EQ(h_nsent, 3);
	h_idle();
}

static void test_arp_aging(void)
{
	h_init();
	h_learn_peer();
	h_advance(CFG_ARP_MAX_AGE_MS - CFG_ARP_REFRESH_MS - 1000);
	CHECK(cached(PEER_IP, PEER_MAC));
	CHECK_EQ(h_stat("arp", "tx_request"), 1); /* only the start-up announcement */
	h_advance(CFG_ARP_REFRESH_MS + 1000);
	CHECK(!cached(PEER_IP, PEER_MAC));
	h_idle();
}

/* Used shortly before expiry: a unicast request keeps the entry alive. */
static void test_arp_refresh(void)
{
	h_init();
	h_learn_peer();
	h_advance(CFG_ARP_MAX_AGE_MS - CFG_ARP_REFRESH_MS + 100);
	send_marked(PEER_IP, 1);
	CHECK_EQ(h_nsent, 2);
	const uint8_t *a = h_frames[0] + ETH_HLEN;
	CHECK_EQ(get16(h_frames[0] + ETH_TYPE), ETHTYPE_ARP);
	CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
	CHECK_EQ(get16(a + ARP_OPER), ARP_OP_REQUEST);
	CHECK_EQ(get32(a + ARP_TPA), PEER_IP);
	CHECK_EQ(get16(h_frames[1] + ETH_TYPE), ETHTYPE_IP);
	send_marked(PEER_IP, 2); /* not again right away */
	CHECK_EQ(h_nsent, 3);
	h_advance(CFG_ARP_RETRY_MS);
	send_marked(PEER_IP, 3); /* no answer yet: ask again */
	CHECK_EQ(h_nsent, 5);
	h_reset_sent();
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REPLY, PEER_MAC, PEER_IP, H_MAC, H_IP));
	h_advance(CFG_ARP_REFRESH_MS);
	CHECK(cached(PEER_IP, PEER_MAC)); /* past the old expiry */
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

static void test_arp_cache_full(void)
{
	h_init();
	for (uint32_t i = 0; i < CFG_ARP_ENTRIES; i++) {
		h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, 0x0a000264u + i, H_ZERO, H_IP));
		h_advance(CFG_TICK_MS);
	}
	CHECK_EQ(h_stat("arp", "cache_full"), 0);
	/* the first one hears from its host again: now the second is oldest */
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, 0x0a000264u, H_ZERO, H_IP));
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, MAC2, IP2, H_ZERO, H_IP));
	CHECK_EQ(h_stat("arp", "cache_full"), 1);
	CHECK(cached(IP2, MAC2));
	for (uint32_t i = 0; i < CFG_ARP_ENTRIES; i++)
		if (i != 1)
			CHECK(cached(0x0a000264u + i, PEER_MAC));
	CHECK(!cached(0x0a000265u, PEER_MAC)); /* the oldest went */
	h_idle();
}

/* A pending entry with packets waiting survives while a stable one can go. */
static void test_arp_cache_full_keeps_pending(void)
{
	h_init();
	send_marked(IP_FAR, 7);
	for (uint32_t i = 0; i < CFG_ARP_ENTRIES - 1; i++)
		h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, 0x0a000264u + i, H_ZERO, H_IP));
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, MAC2, IP2, H_ZERO, H_IP));
	CHECK_EQ(h_stat("arp", "cache_full"), 1);
	CHECK_EQ(h_stat("arp", "queue_drop"), 0);
	h_reset_sent();
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REPLY, MAC2, IP_FAR, H_MAC, H_IP));
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(h_frames[0][ETH_HLEN], 7);
	h_idle();
}

/* RFC 5227: someone else claims our address. We keep it and announce,
 * at most once per defence interval. */
static void test_arp_conflict(void)
{
	h_init();
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, H_IP, H_ZERO, H_IP));
	CHECK_EQ(h_stat("arp", "conflict"), 1);
	CHECK_EQ(h_stat("arp", "defended"), 1);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *a = h_frames[0] + ETH_HLEN;
	CHECK(!memcmp(h_frames[0], H_BCAST, 6));
	CHECK_EQ(get16(a + ARP_OPER), ARP_OP_REQUEST);
	CHECK(!memcmp(a + ARP_SHA, H_MAC, 6));
	CHECK_EQ(get32(a + ARP_SPA), H_IP);
	CHECK_EQ(get32(a + ARP_TPA), H_IP);
	h_advance(CFG_ARP_DEFEND_MS / 2);
	h_inject(f, h_arp(f, H_MAC, ARP_OP_REPLY, PEER_MAC, H_IP, H_MAC, H_IP));
	CHECK_EQ(h_stat("arp", "conflict"), 2);
	CHECK_EQ(h_stat("arp", "defended"), 1);
	CHECK_EQ(h_nsent, 1);
	h_advance(CFG_ARP_DEFEND_MS / 2);
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, H_IP, H_ZERO, H_IP));
	CHECK_EQ(h_stat("arp", "defended"), 2);
	CHECK_EQ(h_nsent, 2);
	CHECK_EQ(netif.ip, H_IP);
	CHECK(!cached(H_IP, PEER_MAC));
	h_idle();
}

/* Broadcast and multicast next hops need no resolution. */
static void test_arp_group_output(void)
{
	static const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x7f, 0x00, 0xfb};
	h_init();
	send_marked(0xffffffffu, 1);
	send_marked(0x0a0002ffu, 2);
	send_marked(0xefff00fbu, 3);
	CHECK_EQ(h_nsent, 3);
	CHECK(!memcmp(h_frames[0], H_BCAST, 6));
	CHECK(!memcmp(h_frames[1], H_BCAST, 6));
	CHECK(!memcmp(h_frames[2], mc, 6));
	CHECK_EQ(h_stat("arp", "tx_request"), 1);
	h_idle();
}

int main(void)
{
	TEST(test_eth_runt);
	TEST(test_eth_oversize);
	TEST(test_eth_not_ours);
	TEST(test_eth_src_mcast);
	TEST(test_eth_src_ours);
	TEST(test_eth_src_paths);
	TEST(test_eth_vlan);
	TEST(test_eth_type);
	TEST(test_eth_tx_err);
	TEST(test_arp_announce_at_init);
	TEST(test_arp_reply_format);
	TEST(test_arp_malformed);
	TEST(test_arp_bad_sender);
	TEST(test_arp_probe);
	TEST(test_arp_unsolicited_reply);
	TEST(test_arp_request_not_for_us);
	TEST(test_arp_update_existing);
	TEST(test_arp_resolve_queue);
	TEST(test_arp_queue_bound);
	TEST(test_arp_retries_timeout);
	TEST(test_arp_aging);
	TEST(test_arp_refresh);
	TEST(test_arp_cache_full);
	TEST(test_arp_cache_full_keeps_pending);
	TEST(test_arp_conflict);
	TEST(test_arp_group_output);
	DONE("eth_arp");
}
