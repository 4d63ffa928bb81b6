/* IPv4 input/output and ICMP: frames in, exact frames and counters out. */
#include "harness.h"

static uint8_t f[CFG_PKT_BUFSZ];
static uint8_t data[64];

/* Fill in IHL, total length and the header checksum of the IPv4 header
 * at ip, with nopt bytes of options (NOPs) after the fixed part. */
static void fix_ip(uint8_t *ip, size_t nopt, size_t payload)
{
	ip[IP_VHL] = (uint8_t)(0x40 | (IP_HLEN + nopt) / 4);
	put16(ip + IP_LEN, (uint16_t)(IP_HLEN + nopt + payload));
	put16(ip + IP_CSUM, 0);
	put16(ip + IP_CSUM, csum_finish(csum_add(0, ip, IP_HLEN + nopt)));
}

/* Echo request from PEER to dst; returns the frame length. */
static size_t echo(uint8_t *fr, uint32_t dst, size_t nopt, uint16_t id, uint16_t seq, size_t n)
{
	size_t o = h_eth(fr, H_MAC, PEER_MAC, ETHTYPE_IP);
	uint8_t *ip = fr + o;
	h_ip(ip, PEER_IP, dst, IPPROTO_ICMP, 0, 0x4242, 0);
	memset(ip + IP_HLEN, 1, nopt); /* NOP options */
	uint8_t *m = ip + IP_HLEN + nopt;
	m[ICMP_TYPE] = ICMP_ECHO;
	m[ICMP_CODE] = 0;
	put16(m + ICMP_CSUM, 0);
	put16(m + 4, id);
	put16(m + 6, seq);
	memcpy(m + ICMP_HLEN, data, n);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + n)));
	fix_ip(ip, nopt, ICMP_HLEN + n);
	return o + IP_HLEN + nopt + ICMP_HLEN + n;
}

/* An IP datagram of protocol proto (no transport header) to dst. */
static size_t raw(uint8_t *fr, uint32_t src, uint32_t dst, uint8_t proto, size_t n)
{
	size_t o = h_eth(fr, H_MAC, PEER_MAC, ETHTYPE_IP);
	h_ip(fr + o, src, dst, proto, (uint16_t)(IP_HLEN + n), 0x77, 0);
	memcpy(fr + o + IP_HLEN, data, n);
	return o + IP_HLEN + n;
}

static void check_echo_reply(int i, const uint8_t *req, size_t nopt, size_t n)
{
	const uint8_t *ip = h_sent_ip(i);
	CHECK(ip != NULL);
	if (!ip)
		return;
	const uint8_t *rq = req + ETH_HLEN + IP_HLEN + nopt, *m = ip + IP_HLEN;
	CHECK_EQ(h_lens[i], ETH_HLEN + IP_HLEN + ICMP_HLEN + n);
	CHECK(!memcmp(h_frames[i], PEER_MAC, 6));
	CHECK(!memcmp(h_frames[i] + ETH_SRC, H_MAC, 6));
	h_check_reply_ip(ip, IPPROTO_ICMP, IP_HLEN + ICMP_HLEN + n);
	CHECK_EQ(m[ICMP_TYPE], ICMP_ECHOREPLY);
	CHECK_EQ(m[ICMP_CODE], 0);
	CHECK(!memcmp(m + 4, rq + 4, 4 + n)); /* id, seq, data */
	CHECK(h_sum_ok(0, m, ICMP_HLEN + n));
}

/* ---- IPv4 input ---- */

static void test_ip_short(void)
{
	h_init();
	size_t n = raw(f, PEER_IP, H_IP, 99, 0);
	h_inject(f, n - 1); /* header cut */
	put16(f + ETH_HLEN + IP_LEN, 40); /* total beyond the frame */
	fix_ip(f + ETH_HLEN, 0, 20);
	h_inject(f, n);
	CHECK_EQ(h_stat("ip", "drop_short"), 2);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

static void test_ip_version(void)
{
	h_init();
	size_t n = raw(f, PEER_IP, H_IP, IPPROTO_UDP, 8);
	f[ETH_HLEN] = 0x65;
	h_inject(f, n);
	CHECK_EQ(h_stat("ip", "drop_version"), 1);
	h_idle();
}

static void test_ip_hlen(void)
{
	h_init();
	size_t n = raw(f, PEER_IP, H_IP, IPPROTO_UDP, 8);
	f[ETH_HLEN] = 0x44;
	h_inject(f, n);
	f[ETH_HLEN] = 0x4f; /* 60-byte header in a 28-byte datagram */
	h_inject(f, n);
	CHECK_EQ(h_stat("ip", "drop_hlen"), 2);
	h_idle();
}

static void test_ip_csum(void)
{
	h_init();
	size_t n = raw(f, PEER_IP, H_IP, IPPROTO_UDP, 8);
	f[ETH_HLEN + IP_CSUM] ^= 1;
	h_inject(f, n);
	CHECK_EQ(h_stat("ip", "drop_csum"), 1);
	n = echo(f, H_IP, 8, 1, 1, 8); /* a header with options takes the long way */
	f[ETH_HLEN + IP_HLEN + 3] ^= 0x10;
	h_inject(f, n);
	CHECK_EQ(h_stat("ip", "drop_csum"), 2);
	CHECK_EQ(h_stat("icmp", "rx"), 0);
	CHECK_EQ(h_stat("udp", "rx"), 0);
	h_idle();
}

static void test_ip_bad_src(void)
{
	static const uint32_t bad[] = {0xffffffffu, 0x0a0002ffu, 0xe0000001u, 0x7f000001u, 0,
				       0xf0000001u, H_IP};
	h_init();
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		h_inject(f, raw(f, bad[i], H_IP, 99, 8));
	echo(f, H_IP, 0, 1, 1, 8);
	put32(f + ETH_HLEN + IP_SRC, H_IP); /* a ping from ourselves */
	fix_ip(f + ETH_HLEN, 0, ICMP_HLEN + 8);
	h_inject(f, ETH_HLEN + IP_HLEN + ICMP_HLEN + 8);
	CHECK_EQ(h_stat("ip", "drop_src"), 8);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* The input path checks sources in network order (netif.ip_n,
 * bcast_n); it must agree with the host-order definitions in netif.h,
 * on a /24, a /31 (no broadcast) and a /8, for every first octet and the
 * edges of the subnet. */
static void test_ip_src_class_sweep(void)
{
	static const uint32_t masks[] = {0xffffff00u, 0xfffffffeu, 0xff000000u};
	for (unsigned m = 0; m < 3; m++) {
		h_init();
		net_set_addr(H_IP, masks[m], 0);
		uint32_t want = 0;
		for (uint32_t first = 0; first < 256; first++) {
			uint32_t tails[] = {0x000001, 0x0002ff, 0x000200, 0xffffff, 0x000000,
					    H_IP & 0xffffff, (H_IP & 0xffffff) ^ 1};
			for (unsigned t = 0; t < sizeof tails / sizeof tails[0]; t++) {
				uint32_t a = first << 24 | tails[t];
				want += !ip_is_unicast(a) || a == netif.ip;
				h_inject(f, raw(f, a, H_IP, 99, 8));
			}
		}
		CHECK_EQ(h_stat("ip", "drop_src"), want);
		CHECK_EQ(h_stat("ip", "drop_src") + h_stat("ip", "drop_proto"), 256 * 7);
		h_idle();
	}
}

static void test_ip_not_ours(void)
{
	h_init();
	h_inject(f, raw(f, PEER_IP, 0x0a000263u, IPPROTO_UDP, 8));
	h_inject(f, raw(f, PEER_IP, 0xe0000001u, IPPROTO_UDP, 8));
	h_inject(f, raw(f, PEER_IP, 0x08080808u, IPPROTO_UDP, 8));
	CHECK_EQ(h_stat("ip", "drop_not_ours"), 3);
	net_set_addr(0, netif.mask, netif.gw); /* unconfigured: 0.0.0.0 is still not an address of ours */
	h_inject(f, raw(f, PEER_IP, 0, IPPROTO_UDP, 8));
	CHECK_EQ(h_stat("ip", "drop_not_ours"), 4);
	net_set_addr(H_IP, netif.mask, netif.gw);
	CHECK_EQ(h_stat("ip", "delivered"), 0);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* Ethernet pads short frames: the reply must follow the IP length. */
static void test_ip_padding_trimmed(void)
{
	h_init();
	h_learn_peer();
	memset(f, 0xaa, sizeof f);
	memcpy(data, "ping", 4);
	size_t n = echo(f, H_IP, 0, 1, 1, 4);
	CHECK(n < ETH_MIN_FRAME);
	h_inject(f, ETH_MIN_FRAME);
	CHECK_EQ(h_nsent, 1);
	check_echo_reply(0, f, 0, 4);
	h_idle();
}

static void test_ip_options_skipped(void)
{
	h_init();
	h_learn_peer();
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	for (size_t nopt = 4; nopt <= 40; nopt += 36) {
		h_reset_sent();
		h_inject(f, echo(f, H_IP, nopt, 0x1234, (uint16_t)nopt, 33));
		CHECK_EQ(h_nsent, 1);
		check_echo_reply(0, f, nopt, 33);
	}
	CHECK_EQ(h_stat("icmp", "echo_replied"), 2);
	h_idle();
}

/* Protocol unreachable: our header, then the offender's header + 8 bytes. */
static void test_ip_proto_unreach(void)
{
	h_init();
	h_learn_peer();
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(0x30 + i);
	size_t n = raw(f, PEER_IP, H_IP, 6, 20);
	h_inject(f, n);
	CHECK_EQ(h_stat("ip", "drop_proto"), 1);
	CHECK_EQ(h_stat("icmp", "tx_err_sent"), 1);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_sent_ip(0);
	CHECK(ip && h_ip_ok(ip));
	if (!ip)
		return;
	const uint8_t *m = ip + IP_HLEN;
	CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
	CHECK_EQ(h_lens[0], ETH_HLEN + IP_HLEN + ICMP_HLEN + IP_HLEN + 8);
	CHECK_EQ(get16(ip + IP_LEN), IP_HLEN + ICMP_HLEN + IP_HLEN + 8);
	CHECK_EQ(ip[IP_PROTO], IPPROTO_ICMP);
	CHECK_EQ(get32(ip + IP_SRC), H_IP);
	CHECK_EQ(get32(ip + IP_DST), PEER_IP);
	CHECK_EQ(m[ICMP_TYPE], ICMP_UNREACH);
	CHECK_EQ(m[ICMP_CODE], ICMP_UNREACH_PROTO);
	CHECK_EQ(get32(m + 4), 0);
	CHECK(!memcmp(m + ICMP_HLEN, f + ETH_HLEN, IP_HLEN + 8));
	CHECK(h_sum_ok(0, m, ICMP_HLEN + IP_HLEN + 8));

	/* the quote keeps the options, and 8 bytes after them */
	h_reset_sent();
	n = raw(f, PEER_IP, H_IP, 6, 12 + 4);
	memmove(f + ETH_HLEN + IP_HLEN + 4, f + ETH_HLEN + IP_HLEN, 12);
	put32(f + ETH_HLEN + IP_HLEN, 0x01010101);
	fix_ip(f + ETH_HLEN, 4, 12);
	h_inject(f, n);
	CHECK_EQ(h_nsent, 1);
	ip = h_sent_ip(0);
	CHECK_EQ(get16(ip + IP_LEN), IP_HLEN + ICMP_HLEN + IP_HLEN + 4 + 8);
	CHECK(!memcmp(ip + IP_HLEN + ICMP_HLEN, f + ETH_HLEN, IP_HLEN + 4 + 8));
	CHECK(h_sum_ok(0, ip + IP_HLEN, ICMP_HLEN + IP_HLEN + 4 + 8));

	/* and stops at the datagram's end */
	h_reset_sent();
	n = raw(f, PEER_IP, H_IP, 6, 3);
	h_inject(f, n);
	CHECK_EQ(h_nsent, 1);
	ip = h_sent_ip(0);
	CHECK_EQ(get16(ip + IP_LEN), IP_HLEN + ICMP_HLEN + IP_HLEN + 3);
	CHECK(!memcmp(ip + IP_HLEN + ICMP_HLEN, f + ETH_HLEN, IP_HLEN + 3));
	h_idle();
}

/* Broadcasts are delivered, but never answered with an error. */
static void test_ip_bcast_no_error(void)
{
	h_init();
	h_learn_peer();
	h_inject(f, raw(f, PEER_IP, 0xffffffffu, 6, 8));
	h_inject(f, raw(f, PEER_IP, 0x0a0002ffu, 6, 8));
	raw(f, PEER_IP, H_IP, 6, 8);
	memcpy(f, H_BCAST, 6); /* link broadcast, IP unicast (RFC 1122 3.2.2) */
	h_inject(f, ETH_HLEN + IP_HLEN + 8);
	CHECK_EQ(h_stat("ip", "drop_proto"), 3);
	CHECK_EQ(h_stat("icmp", "tx_err_sent"), 0);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* ---- IPv4 output ---- */

static void test_ip_output_route(void)
{
	h_init();
	h_learn_peer();
	struct pkt *p = pkt_alloc(PKT_STACK);
	p->len = 8;
	memset(p->data, 0, 8);
	CHECK_EQ(ip_output(p, 0, 0x08080808u, 99), NET_OK); /* via the gateway */
	p = pkt_alloc(PKT_STACK);
	p->len = 8;
	CHECK_EQ(ip_output(p, 0, 0xffffffffu, 99), NET_OK);
	CHECK_EQ(h_nsent, 2);
	const uint8_t *ip = h_sent_ip(0);
	CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
	CHECK_EQ(get32(ip + IP_DST), 0x08080808u);
	CHECK_EQ(get32(ip + IP_SRC), H_IP);
	CHECK(h_ip_ok(ip));
	CHECK(!memcmp(h_frames[1], H_BCAST, 6));
	CHECK(h_ip_ok(h_sent_ip(1)));
	CHECK_EQ(get16(h_sent_ip(1) + IP_ID), (uint16_t)(get16(ip + IP_ID) + 1));

	p = pkt_alloc(PKT_STACK);
	p->len = 8;
	CHECK_EQ(ip_output(p, 0, H_IP, 99), NET_ERR_RTE); /* no loopback */
	CHECK_EQ(h_stat("arp", "tx_request"), 1);        /* not even a question */
	netif.gw = 0;
	p = pkt_alloc(PKT_STACK);
	p->len = 8;
	CHECK_EQ(ip_output(p, 0, 0x08080808u, 99), NET_ERR_RTE);
	p = pkt_alloc(PKT_STACK);
	p->len = 8;
	CHECK(ip_output(p, 0x0a0002ffu, PEER_IP, 99) != NET_OK); /* broadcast source */
	CHECK_EQ(h_stat("ip", "tx_err"), 3);
	CHECK_EQ(h_nsent, 2);
	h_idle();
}

/* Larger than the MTU: handed to fragmentation, never sent whole. */
static void test_ip_output_mtu(void)
{
	h_init();
	h_learn_peer();
	netif.mtu = 576;
	struct pkt *p = pkt_alloc(PKT_STACK);
	p->len = 1000;
	memset(p->data, 0x5a, p->len);
	ip_output(p, 0, PEER_IP, 99);
	CHECK(h_nsent >= 2);
	for (int i = 0; i < h_nsent; i++)
		CHECK(h_lens[i] <= ETH_HLEN + 576);
	h_idle();
}

/* A fragmented echo request comes back from reassembly whole and is
 * answered like any other. */
static void test_ip_frag_echo(void)
{
	static uint8_t whole[128], fr[128];
	h_init();
	h_learn_peer();
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i + 100);
	size_t n = echo(whole, H_IP, 0, 0x55, 2, 40); /* 48 bytes of ICMP */
	for (int k = 0; k < 2; k++) {
		memcpy(fr, whole, ETH_HLEN + IP_HLEN);
		memcpy(fr + ETH_HLEN + IP_HLEN, whole + ETH_HLEN + IP_HLEN + 24 * k, 24);
		uint8_t *ip = fr + ETH_HLEN;
		put16(ip + IP_FRAG, k ? 3 : IP_MF);
		fix_ip(ip, 0, 24);
		h_inject(fr, ETH_HLEN + IP_HLEN + 24);
	}
	CHECK_EQ(h_stat("ip", "frag_held"), 1);
	CHECK_EQ(h_stat("ip", "delivered"), 1);
	/* Reassembled without a copy (a chain of the two buffers), and
	 * answered the same way: each fragment's buffer goes back as a
	 * fragment of the reply, one ID for both. */
	CHECK_EQ(h_nsent, 2);
	static uint8_t m[48];
	for (int k = 0; k < 2 && k < h_nsent; k++) {
		const uint8_t *ip = h_sent_ip(k);
		CHECK(ip != NULL);
		if (!ip)
			return;
		CHECK(h_ip_ok(ip));
		CHECK(!memcmp(h_frames[k], PEER_MAC, 6));
		CHECK_EQ(h_lens[k], ETH_HLEN + IP_HLEN + 24);
		CHECK_EQ(get16(ip + IP_LEN), IP_HLEN + 24);
		CHECK_EQ(get16(ip + IP_FRAG), k ? 3 : IP_MF);
		CHECK_EQ(get16(ip + IP_ID), get16(h_sent_ip(0) + IP_ID));
		CHECK_EQ(get32(ip + IP_SRC), H_IP);
		CHECK_EQ(get32(ip + IP_DST), PEER_IP);
		CHECK_EQ(ip[IP_PROTO], IPPROTO_ICMP);
		memcpy(m + 24 * k, ip + IP_HLEN, 24);
	}
	const uint8_t *rq = whole + ETH_HLEN + IP_HLEN;
	CHECK_EQ(m[ICMP_TYPE], ICMP_ECHOREPLY);
	CHECK_EQ(m[ICMP_CODE], 0);
	CHECK(!memcmp(m + 4, rq + 4, 44)); /* id, seq, data */
	CHECK(h_sum_ok(0, m, 48));
	CHECK(n == ETH_HLEN + IP_HLEN + 48);
	h_idle();
}

/* ---- ICMP ---- */

static void test_icmp_echo_reply(void)
{
	h_init();
	h_learn_peer();
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(0xff - i);
	for (size_t n = 0; n <= 57; n += 19) {
		h_reset_sent();
		h_inject(f, echo(f, H_IP, 0, 0xbeef, (uint16_t)n, n));
		CHECK_EQ(h_nsent, 1);
		check_echo_reply(0, f, 0, n);
	}
	CHECK_EQ(h_stat("icmp", "echo_replied"), 4);
	h_idle();
}

/* id 0, seq 0, zero data: the reply's words all sum to +0, so its
 * checksum must be 0xffff, which an incremental update gets wrong. */
static void test_icmp_echo_zero(void)
{
	h_init();
	h_learn_peer();
	memset(data, 0, sizeof data);
	for (size_t n = 0; n <= 56; n += 56) {
		h_reset_sent();
		h_inject(f, echo(f, H_IP, 0, 0, 0, n));
		CHECK_EQ(get16(f + ETH_HLEN + IP_HLEN + ICMP_CSUM), 0xf7ff);
		CHECK_EQ(h_nsent, 1);
		check_echo_reply(0, f, 0, n);
		CHECK_EQ(get16(h_sent_ip(0) + IP_HLEN + ICMP_CSUM), 0xffff);
	}
	h_idle();
}

/* The peer is not in the ARP cache: the reply goes to the link address
 * the request came from, at once, and the cache stays as it was. */
static void test_icmp_echo_unresolved(void)
{
	h_init();
	memcpy(data, "abcdefgh", 8);
	uint32_t arp0 = h_stat("arp", "tx_request");
	size_t n = echo(f, H_IP, 0, 9, 9, 8);
	h_inject(f, n);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(get16(h_frames[0] + ETH_TYPE), ETHTYPE_IP);
	check_echo_reply(0, f, 0, 8);
	CHECK_EQ(h_stat("arp", "tx_request"), arp0);
	uint32_t ip;
	uint8_t mac[6];
	int state;
	uint32_t age;
	for (unsigned i = 0; arp_entry_get(i, &ip, mac, &state, &age) == 0; i++)
		CHECK_EQ(state, 0);
	h_idle();
}

static void test_icmp_bcast_echo(void)
{
	h_init();
	h_learn_peer();
	h_inject(f, echo(f, 0xffffffffu, 0, 1, 1, 8));
	h_inject(f, echo(f, 0x0a0002ffu, 0, 1, 1, 8));
	echo(f, H_IP, 0, 1, 1, 8);
	memcpy(f, H_BCAST, 6);
	h_inject(f, ETH_HLEN + IP_HLEN + ICMP_HLEN + 8);
	CHECK_EQ(h_stat("icmp", "drop_bcast_echo"), CFG_ICMP_ECHO_BCAST ? 0 : 3);
	CHECK_EQ(h_nsent, CFG_ICMP_ECHO_BCAST ? 3 : 0);
	h_idle();
}

static void test_icmp_short_csum(void)
{
	h_init();
	h_learn_peer();
	size_t n = echo(f, H_IP, 0, 1, 1, 8);
	f[n - 1] ^= 0x40;
	h_inject(f, n);
	CHECK_EQ(h_stat("icmp", "drop_csum"), 1);
	size_t o = raw(f, PEER_IP, H_IP, IPPROTO_ICMP, 7);
	h_inject(f, o);
	CHECK_EQ(h_stat("icmp", "drop_short"), 1);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

static void test_icmp_other_types(void)
{
	h_init();
	h_learn_peer();
	size_t n = echo(f, H_IP, 0, 1, 1, 8);
	uint8_t *m = f + ETH_HLEN + IP_HLEN;
	m[ICMP_TYPE] = ICMP_ECHOREPLY;
	put16(m + ICMP_CSUM, 0);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + 8)));
	h_inject(f, n);
	m[ICMP_TYPE] = ICMP_UNREACH;
	put16(m + ICMP_CSUM, 0);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + 8)));
	h_inject(f, n);
	/* an error quoting nothing (8 bytes of zeros): not UDP's */
	CHECK_EQ(h_stat("icmp", "consumed"), 1);
	CHECK_EQ(h_stat("icmp", "drop_err_quote"), 1);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* icmp_error called directly with a datagram the wire path cannot give it. */
static int error_sent(uint32_t src, uint32_t dst, uint8_t proto, uint16_t frag, uint8_t type)
{
	h_reset_sent();
	struct pkt *p = pkt_alloc(PKT_STACK);
	pkt_reset_link(p);
	p->data += ETH_HLEN;
	h_ip(p->data, src, dst, proto, IP_HLEN + 8, 1, frag);
	memset(p->data + IP_HLEN, 0, 8);
	p->data[IP_HLEN] = type;
	p->len = IP_HLEN + 8;
	p->l3 = (uint16_t)(p->data - p->head);
	pkt_pull(p, IP_HLEN);
	icmp_error(p, ICMP_UNREACH, ICMP_UNREACH_PORT);
	pkt_free(p);
	return h_nsent;
}

/* The quote never reaches past the bytes in the buffer, whatever the
 * IP length field claims. */
static void test_icmp_error_bounded(void)
{
	h_init();
	h_learn_peer();
	struct pkt *p = pkt_alloc(PKT_STACK);
	pkt_reset_link(p);
	p->data += ETH_HLEN;
	h_ip(p->data, PEER_IP, H_IP, IPPROTO_UDP, IP_HLEN + 8, 1, 0);
	memset(p->data + IP_HLEN, 0x11, 8);
	p->l3 = (uint16_t)(p->data - p->head);
	p->len = IP_HLEN + 5;
	pkt_pull(p, IP_HLEN);
	icmp_error(p, ICMP_UNREACH, ICMP_UNREACH_PORT);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(get16(h_sent_ip(0) + IP_LEN), IP_HLEN + ICMP_HLEN + IP_HLEN + 5);
	pkt_free(p);
	h_idle();
}

static void test_icmp_error_exceptions(void)
{
	h_init();
	h_learn_peer();
	CHECK_EQ(error_sent(PEER_IP, H_IP, IPPROTO_UDP, 0, 0), 1); /* the control case */
	CHECK_EQ(error_sent(PEER_IP, H_IP, IPPROTO_ICMP, 0, ICMP_ECHO), 1);
	CHECK_EQ(error_sent(PEER_IP, H_IP, IPPROTO_ICMP, 0, ICMP_ECHOREPLY), 1);
	static const uint8_t errs[] = {3, 4, 5, 11, 12};
	for (unsigned i = 0; i < sizeof errs; i++)
		CHECK_EQ(error_sent(PEER_IP, H_IP, IPPROTO_ICMP, 0, errs[i]), 0);
	CHECK_EQ(error_sent(PEER_IP, H_IP, IPPROTO_UDP, 185, 0), 0);        /* offset != 0 */
	CHECK_EQ(error_sent(PEER_IP, H_IP, IPPROTO_UDP, IP_MF, 0), 1);      /* first fragment */
	CHECK_EQ(error_sent(PEER_IP, 0xffffffffu, IPPROTO_UDP, 0, 0), 0);
	CHECK_EQ(error_sent(PEER_IP, 0xe0000001u, IPPROTO_UDP, 0, 0), 0);
	static const uint32_t srcs[] = {0, 0xffffffffu, 0x0a0002ffu, 0xe0000001u, 0x7f000001u};
	for (unsigned i = 0; i < sizeof srcs / sizeof srcs[0]; i++)
		CHECK_EQ(error_sent(srcs[i], H_IP, IPPROTO_UDP, 0, 0), 0);
	CHECK_EQ(h_stat("icmp", "tx_err_sent"), 4);
	h_idle();
}

static void test_icmp_rate_limit(void)
{
	h_init();
	h_learn_peer();
	size_t n = raw(f, PEER_IP, H_IP, 6, 8);
	for (int i = 0; i < CFG_ICMP_RATE_BURST + 2; i++)
		h_inject(f, n);
	CHECK_EQ(h_nsent, CFG_ICMP_RATE_BURST);
	CHECK_EQ(h_stat("icmp", "tx_err_limited"), 2);
	h_advance(CFG_ICMP_RATE_MS);
	h_inject(f, n);
	h_inject(f, n);
	CHECK_EQ(h_nsent, CFG_ICMP_RATE_BURST + 1);
	h_advance(1000 * CFG_ICMP_RATE_MS); /* the bucket holds a burst, no more */
	for (int i = 0; i < CFG_ICMP_RATE_BURST + 2; i++)
		h_inject(f, n);
	CHECK_EQ(h_nsent, 2 * CFG_ICMP_RATE_BURST + 1);
	CHECK_EQ(h_stat("icmp", "tx_err_limited"), 5);
	CHECK_EQ(h_stat("ip", "drop_proto"), 2 * CFG_ICMP_RATE_BURST + 6);
	h_idle();
}

int main(void)
{
	TEST(test_ip_short);
	TEST(test_ip_version);
	TEST(test_ip_hlen);
	TEST(test_ip_csum);
	TEST(test_ip_bad_src);
	TEST(test_ip_src_class_sweep);
	TEST(test_ip_not_ours);
	TEST(test_ip_padding_trimmed);
	TEST(test_ip_options_skipped);
	TEST(test_ip_proto_unreach);
	TEST(test_ip_bcast_no_error);
	TEST(test_ip_output_route);
	TEST(test_ip_output_mtu);
	TEST(test_ip_frag_echo);
	TEST(test_icmp_echo_reply);
	TEST(test_icmp_echo_zero);
	TEST(test_icmp_echo_unresolved);
	TEST(test_icmp_bcast_echo);
	TEST(test_icmp_short_csum);
	TEST(test_icmp_other_types);
	TEST(test_icmp_error_bounded);
	TEST(test_icmp_error_exceptions);
	TEST(test_icmp_rate_limit);
	DONE("ip_icmp");
}
