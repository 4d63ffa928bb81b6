/* UDP: length and checksum rules, demultiplexing, queues, binding, and
 * the zero-copy echo path. */
#include "harness.h"

static uint8_t f[CFG_PKT_BUFSZ];
static uint8_t pay[CFG_MTU];

/* What the receive callback saw, and whether it echoes. */
static struct {
	int calls, echo; /* echo: 1 udp_sendto, 2 udp_reply */
	int edit, err;   /* udp_reply: shorten by edit-1 bytes and change them */
	struct udp_pcb *pcb;
	uint16_t len, sport;
	uint32_t src;
	uint8_t flags;
	uint16_t psum;
	uint8_t data[64];
	struct udp_pcb *got[8]; /* the PCBs called, in order (ngot: how many) */
	int ngot;
} rx;

/* How many times pcb was called since rx.ngot was last cleared. */
static int got(const struct udp_pcb *pcb)
{
	int n = 0;
	for (int i = 0; i < rx.ngot && i < 8; i++)
		n += rx.got[i] == pcb;
	return n;
}

static void on_recv(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	uint32_t src = udp_src_ip(p);
	uint16_t sport = udp_src_port(p);
	(void)arg;
	rx.calls++;
	rx.pcb = pcb;
	if (rx.ngot < 8)
		rx.got[rx.ngot] = pcb;
	rx.ngot++;
	rx.len = p->len;
	rx.src = src;
	rx.sport = sport;
	rx.flags = p->flags;
	rx.psum = udp_payload_sum(p);
	memcpy(rx.data, p->data, p->len < 64 ? p->len : 64);
	if (rx.echo == 2) {
		if (rx.edit) { /* change the payload, as an app may */
			p->len = (uint16_t)(p->len - (rx.edit - 1));
			if (p->len)
				p->data[0] ^= 0x5a;
			p->flags &= (uint8_t)~PKT_F_PSUM;
		}
		rx.err = udp_reply(pcb, p);
	} else if (rx.echo)
		udp_sendto(pcb, p, src, sport);
	else
		pkt_free(p);
}

static struct udp_pcb *listen_on(uint32_t ip, uint16_t port, int echo)
{
	struct udp_pcb *pcb = udp_new();
	CHECK(pcb != NULL);
	CHECK_EQ(udp_bind(pcb, ip, port), NET_OK);
	udp_recv(pcb, on_recv, NULL);
	rx.echo = echo;
	return pcb;
}

static void fresh(void)
{
	h_init();
	memset(&rx, 0, sizeof rx);
	for (size_t i = 0; i < sizeof pay; i++)
		pay[i] = (uint8_t)(i * 13 + 5);
}

/* Inject with driver flags (PKT_F_CSUM_OK). */
static void inject_flags(const uint8_t *fr, size_t n, uint8_t flags)
{
	struct pkt *p = pkt_alloc(PKT_STACK);
	pkt_reset_link(p);
	memcpy(p->data, fr, n);
	p->len = (uint16_t)n;
	p->flags = flags;
	net_input(p);
}

/* Recompute the UDP checksum of a frame built by h_udp_frame after an edit. */
static void fix_udp(uint8_t *fr)
{
	uint8_t *ip = fr + ETH_HLEN, *u = ip + IP_HLEN;
	uint16_t ulen = get16(u + UDP_LEN);
	put16(u + UDP_CSUM, 0);
	uint32_t s = csum_pseudo(get32(ip + IP_SRC), get32(ip + IP_DST), IPPROTO_UDP, ulen);
	uint16_t c = csum_finish(csum_add(s, u, ulen));
	put16(u + UDP_CSUM, c ? c : 0xffff);
}

static void fix_ip(uint8_t *ip)
{
	put16(ip + IP_CSUM, 0);
	put16(ip + IP_CSUM, csum_finish(csum_add(0, ip, IP_HLEN)));
}

static uint16_t ref_sum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* ---- input rules ---- */

static void test_udp_short(void)
{
	fresh();
	listen_on(0, 7, 0);
	h_udp_frame(f, 1000, 7, pay, 4);
	put16(f + ETH_HLEN + IP_HLEN + UDP_LEN, 7);
	fix_udp(f);
	h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 4);
	put16(f + ETH_HLEN + IP_HLEN + UDP_LEN, 13); /* beyond the IP payload */
	fix_udp(f);
	h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 4);
	/* an IP payload too short for a UDP header */
	size_t n = h_udp_frame(f, 1000, 7, pay, 0);
	put16(f + ETH_HLEN + IP_LEN, IP_HLEN + 7);
	fix_ip(f + ETH_HLEN);
	h_inject(f, n - 1);
	CHECK_EQ(h_stat("udp", "drop_short"), 3);
	CHECK_EQ(rx.calls, 0);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* Bytes after the UDP length belong to nobody; the echo omits them. */
static void test_udp_trailing_bytes(void)
{
	fresh();
	h_learn_peer();
	listen_on(0, 7, 1);
	size_t n = h_udp_frame(f, 1000, 7, pay, 10);
	put16(f + ETH_HLEN + IP_HLEN + UDP_LEN, UDP_HLEN + 4);
	fix_udp(f);
	h_inject(f, n);
	CHECK_EQ(rx.calls, 1);
	CHECK_EQ(rx.len, 4);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_sent_ip(0);
	CHECK_EQ(get16(ip + IP_LEN), IP_HLEN + UDP_HLEN + 4);
	CHECK_EQ(h_lens[0], ETH_HLEN + IP_HLEN + UDP_HLEN + 4);
	CHECK(h_udp_ok(ip));
	h_idle();
}

static void test_udp_csum_zero_accepted(void)
{
	fresh();
	h_learn_peer();
	listen_on(0, 7, 1);
	size_t n = h_udp_frame(f, 1000, 7, pay, 21);
	put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0);
	h_inject(f, n);
	CHECK_EQ(rx.calls, 1);
	CHECK_EQ(rx.flags & PKT_F_PSUM, 0);
	CHECK_EQ(h_nsent, 1); /* the echo carries a full checksum */
	CHECK(h_udp_ok(h_sent_ip(0)));
	inject_flags(f, n, PKT_F_PSUM); /* whatever the flags said before */
	CHECK_EQ(rx.flags & PKT_F_PSUM, 0);
	CHECK_EQ(h_nsent, 2);
	CHECK(h_udp_ok(h_sent_ip(1)));
	h_idle();
}

static void test_udp_bad_csum(void)
{
	fresh();
	listen_on(0, 7, 0);
	size_t n = h_udp_frame(f, 1000, 7, pay, 21);
	f[n - 1] ^= 1;
	h_inject(f, n);
	CHECK_EQ(h_stat("udp", "drop_csum"), 1);
	CHECK_EQ(rx.calls, 0);
	inject_flags(f, n, PKT_F_CSUM_OK); /* the NIC says it is fine: believed */
	CHECK_EQ(rx.calls, 1);
	h_idle();
}

/* The payload sum handed to the application is right, however the
 * checksum was verified. */
static void test_udp_psum(void)
{
	fresh();
	listen_on(0, 7, 0);
	for (uint16_t len = 0; len < 40; len += 3) {
		size_t n = h_udp_frame(f, 1000, 7, pay + len, len);
		rx.calls = 0;
		inject_flags(f, n, (uint8_t)(len & 1 ? PKT_F_CSUM_OK : 0));
		CHECK_EQ(rx.calls, 1);
		CHECK(rx.flags & PKT_F_PSUM);
		uint16_t want = ref_sum(pay + len, len), got = rx.psum;
		CHECK(got == want || (got == 0xffff && want == 0) || (got == 0 && want == 0xffff));
	}
	h_idle();
}

/* ---- echo: the reply's checksum comes from the kept payload sum ---- */

static void test_udp_echo_round_trip(void)
{
	fresh();
	h_learn_peer();
	listen_on(0, 7, 1);
	int sent = 0;
	for (uint16_t len = 0; len <= CFG_MTU - IP_HLEN - UDP_HLEN; len += len < 70 ? 1 : 197) {
		h_reset_sent();
		size_t n = h_udp_frame(f, (uint16_t)(40000 + len), 7, pay + len % 7, len);
		h_inject(f, n);
		CHECK_EQ(h_nsent, 1);
		const uint8_t *ip = h_sent_ip(0), *u = ip + IP_HLEN;
		const uint8_t *ru = f + ETH_HLEN + IP_HLEN;
		CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
		CHECK(h_ip_ok(ip));
		CHECK_EQ(get32(ip + IP_SRC), H_IP);
		CHECK_EQ(get32(ip + IP_DST), PEER_IP);
		CHECK_EQ(ip[IP_PROTO], IPPROTO_UDP);
		CHECK_EQ(get16(u + UDP_SPORT), 7);
		CHECK_EQ(get16(u + UDP_DPORT), 40000 + len);
		CHECK_EQ(get16(u + UDP_LEN), UDP_HLEN + len);
		CHECK(!memcmp(u + UDP_HLEN, ru + UDP_HLEN, len));
		CHECK(h_udp_ok(ip));
		sent++;
	}
	CHECK_EQ(h_stat("udp", "tx"), sent);
	h_idle();
}

/* A payload whose checksum computes to 0 goes out as 0xffff, on both
 * the full-sum and the kept-sum path. */
static void test_udp_csum_ffff(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *pcb = listen_on(0, 7, 1);
	/* reply: H_IP:7 -> PEER_IP:1000, 10 bytes, payload 2 bytes x */
	uint32_t s = csum_pseudo(H_IP, PEER_IP, IPPROTO_UDP, 10) + 7 + 1000 + 10;
	uint16_t x = (uint16_t)~csum_fold(s);
	uint8_t b[2];
	put16(b, x);

	struct pkt *p = pkt_alloc(PKT_APP);
	memcpy(p->data, b, 2);
	p->len = 2;
	CHECK_EQ(udp_sendto(pcb, p, PEER_IP, 1000), NET_OK);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(get16(h_sent_ip(0) + IP_HLEN + UDP_CSUM), 0xffff);
	CHECK(h_udp_ok(h_sent_ip(0)));

	/* the request has the same sum (addresses and ports only swap) */
	h_reset_sent();
	size_t n = h_udp_frame(f, 1000, 7, b, 2);
	CHECK_EQ(get16(f + ETH_HLEN + IP_HLEN + UDP_CSUM), 0xffff);
	h_inject(f, n);
	CHECK_EQ(rx.calls, 1);
	CHECK(rx.flags & PKT_F_PSUM);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(get16(h_sent_ip(0) + IP_HLEN + UDP_CSUM), 0xffff);
	CHECK(h_udp_ok(h_sent_ip(0)));
	h_idle();
}

/* udp_reply turns the request around in its buffer: no ARP (the peer is
 * not in the cache), the link address it came from, the checksum kept. */
static void test_udp_reply_in_place(void)
{
	fresh();
	listen_on(0, 7, 2);
	uint32_t arp0 = h_stat("arp", "tx_request"), eth0 = h_stat("eth", "tx");
	int sent = 0;
	uint16_t last_id = 0;
	for (uint16_t len = 0; len <= CFG_MTU - IP_HLEN - UDP_HLEN; len += len < 70 ? 1 : 197) {
		h_reset_sent();
		size_t n = h_udp_frame(f, (uint16_t)(40000 + len), 7, pay + len % 7, len);
		h_inject(f, n);
		CHECK_EQ(rx.err, NET_OK);
		CHECK_EQ(h_nsent, 1);
		CHECK_EQ(h_lens[0], n);
		const uint8_t *fr = h_frames[0], *ip = h_sent_ip(0), *u = ip + IP_HLEN;
		const uint8_t *ru = f + ETH_HLEN + IP_HLEN;
		CHECK(!memcmp(fr + ETH_DST, PEER_MAC, 6));
		CHECK(!memcmp(fr + ETH_SRC, H_MAC, 6));
		CHECK_EQ(get16(fr + ETH_TYPE), ETHTYPE_IP);
		h_check_reply_ip(ip, IPPROTO_UDP, IP_HLEN + UDP_HLEN + len);
		if (sent)
			CHECK(get16(ip + IP_ID) != last_id);
		last_id = get16(ip + IP_ID);
		CHECK_EQ(get16(u + UDP_SPORT), 7);
		CHECK_EQ(get16(u + UDP_DPORT), 40000 + len);
		CHECK_EQ(get16(u + UDP_LEN), UDP_HLEN + len);
		CHECK_EQ(get16(u + UDP_CSUM), get16(ru + UDP_CSUM));
		CHECK(!memcmp(u + UDP_HLEN, ru + UDP_HLEN, len));
		CHECK(h_udp_ok(ip));
		sent++;
	}
	CHECK_EQ(h_stat("udp", "tx"), sent);
	CHECK_EQ(h_stat("ip", "tx"), sent);
	CHECK_EQ(h_stat("eth", "tx") - eth0, sent);
	CHECK_EQ(h_stat("arp", "tx_request"), arp0);
	h_idle();
}

/* What the in-place path cannot keep goes the general way: a request
 * without a checksum, an edited payload, IP options; and a buffer that
 * was never received is refused. */
static void test_udp_reply_general(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *pcb = listen_on(0, 7, 2);
	size_t n = h_udp_frame(f, 4000, 7, pay, 100);
	put16(f + ETH_HLEN + IP_HLEN + UDP_CSUM, 0);
	h_inject(f, n);
	CHECK_EQ(rx.err, NET_OK);
	CHECK_EQ(h_nsent, 1);
	CHECK(get16(h_sent_ip(0) + IP_HLEN + UDP_CSUM) != 0); /* we always send one */
	CHECK(h_udp_ok(h_sent_ip(0)));

	for (int edit = 1; edit <= 3; edit++) { /* same length, then shorter */
		h_reset_sent();
		rx.edit = edit;
		h_inject(f, h_udp_frame(f, 4000, 7, pay, 100));
		CHECK_EQ(rx.err, NET_OK);
		CHECK_EQ(h_nsent, 1);
		const uint8_t *ip = h_sent_ip(0), *u = ip + IP_HLEN;
		CHECK_EQ(get16(u + UDP_LEN), UDP_HLEN + 100 - (edit - 1));
		CHECK_EQ(u[UDP_HLEN], pay[0] ^ 0x5a);
		CHECK(h_udp_ok(ip));
	}
	rx.edit = 0;

	/* options: a 24-byte header in, a 20-byte one out */
	h_reset_sent();
	n = h_eth(f, H_MAC, PEER_MAC, ETHTYPE_IP);
	uint8_t *ip = f + n;
	h_ip(ip, PEER_IP, H_IP, IPPROTO_UDP, IP_HLEN + 4 + UDP_HLEN + 10, 1, 0);
	ip[IP_VHL] = 0x46;
	put32(ip + IP_HLEN, 0x01010100); /* NOPs and an end-of-list */
	put16(ip + IP_CSUM, 0);
	put16(ip + IP_CSUM, csum_finish(csum_add(0, ip, IP_HLEN + 4)));
	uint8_t *u = ip + IP_HLEN + 4;
	put16(u + UDP_SPORT, 4001);
	put16(u + UDP_DPORT, 7);
	put16(u + UDP_LEN, UDP_HLEN + 10);
	put16(u + UDP_CSUM, 0);
	memcpy(u + UDP_HLEN, pay, 10);
	put16(u + UDP_CSUM, csum_finish(csum_add(csum_pseudo(PEER_IP, H_IP, IPPROTO_UDP,
							     UDP_HLEN + 10), u, UDP_HLEN + 10)));
	h_inject(f, (size_t)(u + UDP_HLEN + 10 - f));
	CHECK_EQ(rx.err, NET_OK);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(h_sent_ip(0)[IP_VHL], 0x45);
	CHECK(h_ip_ok(h_sent_ip(0)));
	CHECK_EQ(get16(h_sent_ip(0) + IP_HLEN + UDP_DPORT), 4001);
	CHECK(!memcmp(h_sent_ip(0) + IP_HLEN + UDP_HLEN, pay, 10));
	CHECK(h_udp_ok(h_sent_ip(0)));

	/* never received: no headers to turn around */
	h_reset_sent();
	struct pkt *p = pkt_alloc(PKT_APP);
	p->len = 4;
	CHECK_EQ(udp_reply(pcb, p), NET_ERR_ARG);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_stat("udp", "tx_err"), 1);
	h_idle();
}

/* Changed payload: without PSUM the stack sums it afresh. */
static void test_udp_sendto_fresh(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *pcb = udp_new();
	struct pkt *p = pkt_alloc(PKT_APP);
	memcpy(p->data, pay, 333);
	p->len = 333;
	CHECK_EQ(udp_sendto(pcb, p, PEER_IP, 5353), NET_OK); /* binds an ephemeral port */
	CHECK(pcb->local_port >= CFG_UDP_EPHEMERAL_LO);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_sent_ip(0);
	CHECK(h_udp_ok(ip));
	CHECK_EQ(get16(ip + IP_HLEN + UDP_SPORT), pcb->local_port);
	CHECK_EQ(get16(ip + IP_HLEN + UDP_DPORT), 5353);
	p = pkt_alloc(PKT_APP);
	p->len = 4;
	CHECK(udp_sendto(pcb, p, 0, 5353) != NET_OK);
	p = pkt_alloc(PKT_APP);
	p->len = 4;
	CHECK(udp_send(pcb, p) != NET_OK); /* not connected */
	CHECK_EQ(h_stat("udp", "tx_err"), 2);
	udp_remove(pcb);
	/* bound to a group: speaks from our address */
	pcb = udp_new();
	CHECK_EQ(udp_bind(pcb, 0xe00000fbu, 68), NET_OK);
	p = pkt_alloc(PKT_APP);
	p->len = 4;
	memset(p->data, 0, 4);
	h_reset_sent();
	CHECK_EQ(udp_sendto(pcb, p, PEER_IP, 67), NET_OK);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(get32(h_sent_ip(0) + IP_SRC), H_IP);
	udp_remove(pcb);
	h_idle();
}

/* ---- demultiplexing ---- */

static void test_udp_demux(void)
{
	for (int order = 0; order < 2; order++) {
		fresh();
		struct udp_pcb *any, *local, *conn;
		if (order == 0) {
			any = listen_on(0, 5000, 0);
			local = listen_on(H_IP, 5001, 0);
			conn = listen_on(0, 5002, 0);
		} else {
			conn = listen_on(0, 5002, 0);
			local = listen_on(H_IP, 5001, 0);
			any = listen_on(0, 5000, 0);
		}
		/* all three on one port; bind rules stop that, so use connect */
		CHECK_EQ(udp_connect(conn, PEER_IP, 6000), NET_OK);
		conn->local_port = any->local_port = local->local_port = 5000;
		conn->port_n = any->port_n = local->port_n = N16(5000);

		h_inject(f, h_udp_frame(f, 6000, 5000, pay, 4));
		CHECK(rx.pcb == conn);
		h_inject(f, h_udp_frame(f, 6001, 5000, pay, 4));
		CHECK(rx.pcb == local);
		h_udp_frame(f, 6002, 5000, pay, 4);
		put32(f + ETH_HLEN + IP_DST, 0xffffffffu);
		fix_ip(f + ETH_HLEN);
		fix_udp(f);
		rx.ngot = 0;
		h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 4);
		/* a broadcast: to the wildcard and to ours, not to one connected
		 * elsewhere (test_udp_bcast_receive) */
		CHECK_EQ(rx.ngot, 2);
		CHECK(got(any) == 1 && got(local) == 1);
		udp_remove(local);
		h_inject(f, h_udp_frame(f, 6001, 5000, pay, 4));
		CHECK(rx.pcb == any);
		udp_disconnect(conn);
		CHECK_EQ(udp_bind(conn, 0, 5002), NET_OK);
		h_inject(f, h_udp_frame(f, 6000, 5000, pay, 4));
		CHECK(rx.pcb == any);
		CHECK_EQ(rx.calls, 6);
		CHECK_EQ(h_stat("udp", "delivered"), 6);
		CHECK_EQ(rx.src, PEER_IP);
		CHECK_EQ(rx.sport, 6000);
		udp_remove(any);
		udp_remove(conn);
		h_idle();
	}
}

/* Nobody listens: port unreachable quoting the IP header + UDP header. */
static void test_udp_port_unreach(void)
{
	fresh();
	h_learn_peer();
	listen_on(0, 7, 0);
	size_t n = h_udp_frame(f, 1234, 9999, pay, 100);
	h_inject(f, n);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	CHECK_EQ(h_nsent, 1);
	const uint8_t *ip = h_sent_ip(0), *m = ip + IP_HLEN;
	CHECK(h_ip_ok(ip));
	CHECK_EQ(get32(ip + IP_DST), PEER_IP);
	CHECK_EQ(get16(ip + IP_LEN), IP_HLEN + ICMP_HLEN + IP_HLEN + UDP_HLEN);
	CHECK_EQ(m[ICMP_TYPE], ICMP_UNREACH);
	CHECK_EQ(m[ICMP_CODE], ICMP_UNREACH_PORT);
	CHECK(!memcmp(m + ICMP_HLEN, f + ETH_HLEN, IP_HLEN + UDP_HLEN));
	CHECK(h_sum_ok(0, m, ICMP_HLEN + IP_HLEN + UDP_HLEN));
	h_idle();
}

/* Port 0 reaches nobody, not even a PCB that was never bound. */
static void test_udp_port_zero(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *pcb = udp_new();
	udp_recv(pcb, on_recv, NULL);
	h_inject(f, h_udp_frame(f, 1234, 0, pay, 4));
	CHECK_EQ(rx.calls, 0);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	udp_remove(pcb);
	h_idle();
}

static void test_udp_no_unreach_bcast(void)
{
	fresh();
	h_learn_peer();
	h_udp_frame(f, 1234, 9999, pay, 10);
	put32(f + ETH_HLEN + IP_DST, 0x0a0002ffu);
	fix_ip(f + ETH_HLEN);
	fix_udp(f);
	h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 10);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

/* A broadcast request is answered from our own address. */
static void test_udp_bcast_reply_source(void)
{
	fresh();
	h_learn_peer();
	listen_on(0, 7, 1);
	h_udp_frame(f, 1234, 7, pay, 10);
	put32(f + ETH_HLEN + IP_DST, 0xffffffffu);
	memcpy(f, H_BCAST, 6);
	fix_ip(f + ETH_HLEN);
	fix_udp(f);
	h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 10);
	CHECK_EQ(rx.calls, 1);
	CHECK(rx.flags & PKT_F_BCAST);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(get32(h_sent_ip(0) + IP_SRC), H_IP);
	CHECK(!memcmp(h_frames[0], PEER_MAC, 6));
	CHECK(h_udp_ok(h_sent_ip(0)));
	h_idle();
}

/* ---- the receive queue ---- */

static void test_udp_queue_poll(void)
{
	fresh();
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_bind(pcb, 0, 53), NET_OK);
	uint32_t ip;
	uint16_t port;
	CHECK(udp_poll(pcb, &ip, &port) == NULL);
	for (int i = 0; i < CFG_UDP_QUEUE + 1; i++)
		h_inject(f, h_udp_frame(f, (uint16_t)(2000 + i), 53, pay + i, (uint16_t)(5 + i)));
	CHECK_EQ(h_stat("udp", "drop_queue_full"), 1);
	CHECK_EQ(pcb->q.len, CFG_UDP_QUEUE);
	for (int i = 0; i < CFG_UDP_QUEUE; i++) {
		struct pkt *p = udp_poll(pcb, &ip, &port);
		CHECK(p != NULL);
		if (!p)
			break;
		CHECK_EQ(ip, PEER_IP);
		CHECK_EQ(port, 2000 + i);
		CHECK_EQ(p->len, 5 + i);
		CHECK(!memcmp(p->data, pay + i, 5 + (size_t)i));
		CHECK_EQ(p->owner, PKT_APP);
		pkt_free(p);
	}
	CHECK(udp_poll(pcb, &ip, &port) == NULL);
	/* an emptied queue takes new datagrams */
	h_inject(f, h_udp_frame(f, 2100, 53, pay, 6));
	struct pkt *p = udp_poll(pcb, &ip, &port);
	CHECK(p != NULL && port == 2100 && p->len == 6);
	if (p)
		pkt_free(p);
	/* arrivals between polls keep their order */
	h_inject(f, h_udp_frame(f, 2201, 53, pay, 6));
	h_inject(f, h_udp_frame(f, 2202, 53, pay, 6));
	pkt_free(udp_poll(pcb, &ip, &port));
	CHECK_EQ(port, 2201);
	h_inject(f, h_udp_frame(f, 2203, 53, pay, 6));
	for (uint16_t want = 2202; want <= 2203; want++) {
		p = udp_poll(pcb, &ip, &port);
		CHECK(p != NULL && port == want);
		if (p)
			pkt_free(p);
	}
	/* removing a PCB frees what it still holds */
	h_inject(f, h_udp_frame(f, 2000, 53, pay, 5));
	udp_remove(pcb);
	h_idle();
}

/* ---- binding ---- */

static void test_udp_bind_conflicts(void)
{
	fresh();
	struct udp_pcb *a = udp_new(), *b = udp_new(), *c = udp_new();
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	CHECK_EQ(udp_bind(b, 0, 5000), NET_ERR_USE);
	CHECK_EQ(udp_bind(b, H_IP, 5000), NET_ERR_USE);
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK); /* itself is no conflict */
	CHECK_EQ(udp_bind(a, H_IP, 6000), NET_OK);
	CHECK_EQ(udp_bind(b, 0xe00000fbu, 6000), NET_OK); /* a group: no overlap */
	CHECK_EQ(udp_bind(c, 0, 6000), NET_ERR_USE);
	CHECK_EQ(udp_bind(c, H_IP, 6000), NET_ERR_USE);
	CHECK_EQ(udp_bind(c, 0, 5000), NET_OK); /* a moved away */
	udp_remove(a);
	udp_remove(b);
	udp_remove(c);
	h_idle();
}

/* ---- per-PCB IP options ---- */

static struct pkt *payload(uint16_t len)
{
	struct pkt *p = pkt_alloc(PKT_APP);
	memcpy(p->data, pay, len);
	p->len = len;
	return p;
}

/* TTL and TOS of unicast sends are the PCB's, a group's TTL its own
 * (1 by default); every fragment carries them; out-of-range values are
 * refused; ICMP's own messages keep the stack's defaults. */
static void test_udp_ttl_tos(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(pcb->ttl, CFG_IP_TTL);
	CHECK_EQ(pcb->tos, 0);
	CHECK_EQ(pcb->mcast_ttl, 1);
	CHECK_EQ(udp_sendto(pcb, payload(10), PEER_IP, 5000), NET_OK);
	CHECK_EQ(h_sent_ip(0)[IP_TTL], CFG_IP_TTL);
	CHECK_EQ(h_sent_ip(0)[IP_TOS], 0);
	CHECK_EQ(udp_set_ttl(pcb, 7), NET_OK);
	CHECK_EQ(udp_set_tos(pcb, 0xb8), NET_OK); /* DSCP EF */
	CHECK_EQ(udp_set_ttl(pcb, 0), NET_ERR_ARG);
	CHECK_EQ(udp_set_ttl(pcb, 256), NET_ERR_ARG);
	CHECK_EQ(udp_set_tos(pcb, 256), NET_ERR_ARG);
	CHECK_EQ(udp_set_mcast_ttl(pcb, 0), NET_ERR_ARG);
	CHECK_EQ(udp_set_mcast_ttl(pcb, 256), NET_ERR_ARG);
	h_reset_sent();
	CHECK_EQ(udp_sendto(pcb, payload(10), PEER_IP, 5000), NET_OK);
	CHECK_EQ(h_nsent, 1);
	CHECK(h_ip_ok(h_sent_ip(0)));
	CHECK_EQ(h_sent_ip(0)[IP_TTL], 7);
	CHECK_EQ(h_sent_ip(0)[IP_TOS], 0xb8);
	CHECK(h_udp_ok(h_sent_ip(0)));
	/* to a group: the multicast TTL, the same TOS */
	h_reset_sent();
	CHECK_EQ(udp_sendto(pcb, payload(10), 0xe00000fbu, 5353), NET_OK);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(h_frames[0][0], 0x01); /* 01:00:5e:00:00:fb */
	CHECK_EQ(h_sent_ip(0)[IP_TTL], 1);
	CHECK_EQ(h_sent_ip(0)[IP_TOS], 0xb8);
	CHECK_EQ(udp_set_mcast_ttl(pcb, 32), NET_OK);
	h_reset_sent();
	CHECK_EQ(udp_sendto(pcb, payload(10), 0xe00000fbu, 5353), NET_OK);
	CHECK_EQ(h_sent_ip(0)[IP_TTL], 32);
	CHECK_EQ(pcb->ttl, 7);
	/* fragments: each one */
	h_reset_sent();
	CHECK_EQ(udp_sendto(pcb, payload(CFG_MTU), PEER_IP, 5000), NET_OK);
	CHECK_EQ(h_nsent, 2);
	for (int i = 0; i < 2 && i < h_nsent; i++) {
		CHECK_EQ(h_sent_ip(i)[IP_TTL], 7);
		CHECK_EQ(h_sent_ip(i)[IP_TOS], 0xb8);
		CHECK(h_ip_ok(h_sent_ip(i)));
	}
	udp_remove(pcb);
	/* a reply from a PCB with its own TTL: not in place, but with it */
	struct udp_pcb *srv = listen_on(0, 7, 2);
	CHECK_EQ(udp_set_ttl(srv, 9), NET_OK);
	h_reset_sent();
	h_inject(f, h_udp_frame(f, 4000, 7, pay, 20));
	CHECK_EQ(rx.err, NET_OK);
	CHECK_EQ(h_nsent, 1);
	CHECK_EQ(h_sent_ip(0)[IP_TTL], 9);
	CHECK(h_udp_ok(h_sent_ip(0)));
	/* back to the defaults: in place again (no ARP needed, none done) */
	CHECK_EQ(udp_set_ttl(srv, CFG_IP_TTL), NET_OK);
	CHECK_EQ(srv->inplace, 1);
	h_reset_sent();
	h_inject(f, h_udp_frame(f, 4000, 7, pay, 20));
	CHECK_EQ(h_nsent, 1);
	h_check_reply_ip(h_sent_ip(0), IPPROTO_UDP, IP_HLEN + UDP_HLEN + 20);
	/* ICMP's messages: the stack's TTL and TOS, whatever PCBs chose */
	h_reset_sent();
	h_inject(f, h_udp_frame(f, 4000, 4444, pay, 20));
	CHECK_EQ(h_nsent, 1);
	h_check_reply_ip(h_sent_ip(0), IPPROTO_ICMP, IP_HLEN + ICMP_HLEN + IP_HLEN + UDP_HLEN);
	udp_remove(srv);
	h_idle();
}

/* ---- ephemeral ports (RFC 6056 algorithm 3) ---- */

static uint16_t connect_port(uint32_t ip, uint16_t port)
{
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_connect(pcb, ip, port), NET_OK);
	uint16_t lp = pcb->local_port;
	udp_remove(pcb);
	return lp;
}

static uint16_t eph_after(uint16_t port)
{
	return port == CFG_UDP_EPHEMERAL_HI ? CFG_UDP_EPHEMERAL_LO : (uint16_t)(port + 1);
}

static void test_udp_ephemeral(void)
{
	fresh();
	struct udp_pcb *a = udp_new(), *b = udp_new(), *c = udp_new();
	CHECK_EQ(udp_bind(a, 0, 0), NET_OK);
	CHECK_EQ(udp_bind(b, H_IP, 0), NET_OK);
	CHECK_EQ(udp_connect(c, PEER_IP, 53), NET_OK);
	CHECK(a->local_port >= CFG_UDP_EPHEMERAL_LO);
	CHECK(b->local_port >= CFG_UDP_EPHEMERAL_LO);
	CHECK(c->local_port >= CFG_UDP_EPHEMERAL_LO);
	CHECK(a->local_port != b->local_port && b->local_port != c->local_port &&
	      a->local_port != c->local_port);
	udp_remove(b);
	udp_remove(c);
	/* one peer: consecutive ports from a keyed offset; a port in use
	 * is skipped */
	uint16_t p0 = connect_port(PEER_IP, 53), p1 = connect_port(PEER_IP, 53);
	CHECK_EQ(p1, eph_after(p0));
	b = udp_new();
	CHECK_EQ(udp_bind(b, 0, eph_after(p1)), NET_OK);
	CHECK_EQ(connect_port(PEER_IP, 53), eph_after(eph_after(p1)));
	udp_remove(b);
	/* other peers start elsewhere: of four, not all at the next port */
	uint16_t q0 = connect_port(PEER_IP, 53);
	int elsewhere = 0;
	for (uint16_t k = 0; k < 4; k++) {
		uint16_t q = connect_port(0x08080808u + k, 53);
		elsewhere += q != eph_after(q0);
		q0 = q;
	}
	CHECK(elsewhere > 0);
	/* the whole range comes round, the port in use never */
	CHECK_EQ(udp_bind(a, 0, CFG_UDP_EPHEMERAL_HI), NET_OK);
	int bad = 0, lo = 0;
	for (int i = 0; i < 20000; i++) {
		uint16_t port = connect_port(PEER_IP, 123);
		bad += port == CFG_UDP_EPHEMERAL_HI || port < CFG_UDP_EPHEMERAL_LO;
		lo += port == CFG_UDP_EPHEMERAL_LO;
	}
	CHECK_EQ(bad, 0);
	CHECK(lo > 0);
	/* without a peer (bind with port 0): a fresh draw each, not a count */
	int steps = 0;
	uint16_t prev = 0;
	for (int i = 0; i < 64; i++) {
		b = udp_new();
		CHECK_EQ(udp_bind(b, 0, 0), NET_OK);
		CHECK(b->local_port >= CFG_UDP_EPHEMERAL_LO && b->local_port != CFG_UDP_EPHEMERAL_HI);
		steps += b->local_port == eph_after(prev);
		prev = b->local_port;
		udp_remove(b);
	}
	CHECK(steps < 8);
	/* a full table: udp_new says so */
	int n = 1;
	while (udp_new())
		n++;
	CHECK_EQ(n, CFG_UDP_PCBS);
	udp_init();
	h_idle();
}

/* Another boot (net_init after net_seed, as main.c does), another key
 * and start: never the same sequence twice. */
static void test_udp_ephemeral_reboot(void)
{
	uint16_t seq[3][8];
	for (int boot = 0; boot < 3; boot++) {
		fresh();
		if (boot == 2)
			net_seed("other board", 11);
		for (int i = 0; i < 8; i++)
			seq[boot][i] = connect_port(PEER_IP, 53);
		h_idle();
	}
	CHECK(memcmp(seq[0], seq[1], sizeof seq[0]) != 0);
	CHECK(memcmp(seq[1], seq[2], sizeof seq[0]) != 0);
	CHECK(memcmp(seq[0], seq[2], sizeof seq[0]) != 0);
}

/* ---- ICMP errors to the socket ---- */

static uint8_t quote[64]; /* what a router quotes, and zeros after */

/* The quote: our datagram qsrc:sport -> qdst:dport, as a router keeps it. */
static void make_quote(uint32_t qsrc, uint32_t qdst, uint16_t sport, uint16_t dport)
{
	memset(quote, 0, sizeof quote);
	h_ip(quote, qsrc, qdst, IPPROTO_UDP, IP_HLEN + UDP_HLEN + 100, 77, 0);
	quote[IP_TTL] = 1;
	put16(quote + IP_HLEN + UDP_SPORT, sport);
	put16(quote + IP_HLEN + UDP_DPORT, dport);
	put16(quote + IP_HLEN + UDP_LEN, UDP_HLEN + 100);
	put16(quote + IP_HLEN + UDP_CSUM, 0x1234);
}

/* An ICMP error from PEER to us carrying qlen bytes of the quote. */
static size_t icmp_err_frame(uint8_t *fr, uint8_t type, uint8_t code, uint16_t mtu, unsigned qlen)
{
	size_t o = h_eth(fr, H_MAC, PEER_MAC, ETHTYPE_IP);
	o += h_ip(fr + o, PEER_IP, H_IP, IPPROTO_ICMP, (uint16_t)(IP_HLEN + ICMP_HLEN + qlen), 9, 0);
	uint8_t *m = fr + o;
	memset(m, 0, ICMP_HLEN);
	m[ICMP_TYPE] = type;
	m[ICMP_CODE] = code;
	put16(m + 6, mtu);
	memcpy(m + ICMP_HLEN, quote, qlen);
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + qlen)));
	return o + ICMP_HLEN + qlen;
}

static struct {
	int calls, remove;
	struct udp_pcb *pcb;
	uint8_t type, code;
	uint32_t dst;
	uint16_t dport, pmtu;
} er;

static void on_err(struct udp_pcb *pcb, uint8_t type, uint8_t code, uint32_t dst, uint16_t dport,
		   void *arg)
{
	CHECK(arg == &er);
	er.calls++;
	er.pcb = pcb;
	er.type = type;
	er.code = code;
	er.dst = dst;
	er.dport = dport;
	er.pmtu = pcb->pmtu;
	if (er.remove)
		udp_remove(pcb);
}

#define QLEN (IP_HLEN + UDP_HLEN)

/* Errors that quote a datagram the PCB could have sent reach it: by
 * callback, or kept for udp_error (which clears it); the kind tells
 * refused, unreachable, message size (with the next-hop MTU). */
static void test_udp_icmp_error_delivered(void)
{
	fresh();
	memset(&er, 0, sizeof er);
	struct udp_pcb *conn = udp_new(), *poll = udp_new();
	CHECK_EQ(udp_connect(conn, PEER_IP, 5000), NET_OK);
	CHECK_EQ(udp_err(conn, on_err, &er), NET_OK);
	CHECK_EQ(udp_bind(poll, H_IP, 6000), NET_OK);
	uint16_t cport = conn->local_port;

	make_quote(H_IP, PEER_IP, cport, 5000);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	CHECK_EQ(er.calls, 1);
	CHECK(er.pcb == conn);
	CHECK_EQ(er.type, ICMP_UNREACH);
	CHECK_EQ(er.code, ICMP_UNREACH_PORT);
	CHECK_EQ(er.dst, PEER_IP);
	CHECK_EQ(er.dport, 5000);
	CHECK_EQ(udp_error(conn), 0); /* a callback takes it: nothing kept */
	/* time exceeded, with a longer quote (IP options in it) */
	memmove(quote + IP_HLEN + 4, quote + IP_HLEN, UDP_HLEN);
	memset(quote + IP_HLEN, 1, 4);
	quote[IP_VHL] = 0x46;
	h_inject(f, icmp_err_frame(f, ICMP_TIMXCEED, 0, 0, QLEN + 4));
	CHECK_EQ(er.calls, 2);
	CHECK_EQ(er.type, ICMP_TIMXCEED);
	CHECK_EQ(er.dport, 5000);

	/* the polling PCB: kept, the latest wins, cleared when read */
	make_quote(H_IP, 0x08080808u, 6000, 53);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_HOST, 0, QLEN));
	CHECK_EQ(udp_error(poll), NET_ERR_UNREACH);
	CHECK_EQ(udp_error(poll), 0);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_NET, 0, QLEN));
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	CHECK_EQ(udp_error(poll), NET_ERR_REFUSED);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 1280, QLEN + 8));
	CHECK_EQ(udp_error(poll), NET_ERR_MSGSIZE);
	CHECK_EQ(poll->pmtu, 1280);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 20, QLEN));
	CHECK_EQ(udp_error(poll), NET_ERR_MSGSIZE);
	CHECK_EQ(poll->pmtu, 0); /* below 68: the router did not say */
	h_inject(f, icmp_err_frame(f, ICMP_PARAMPROB, 0, 0, QLEN));
	CHECK_EQ(udp_error(poll), NET_ERR_UNREACH);
	CHECK_EQ(er.calls, 2);
	CHECK_EQ(h_stat("icmp", "err_delivered"), 8);
	CHECK_EQ(h_stat("icmp", "drop_err_nomatch") + h_stat("icmp", "drop_err_quote"), 0);

	/* fragmentation needed to the callback: the MTU is in pcb->pmtu */
	make_quote(H_IP, PEER_IP, cport, 5000);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 576, QLEN));
	CHECK_EQ(er.calls, 3);
	CHECK_EQ(er.pmtu, 576);
	/* the callback may remove its PCB */
	er.remove = 1;
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	CHECK_EQ(er.calls, 4);
	CHECK(!conn->used);
	/* and then it is nobody's */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	CHECK_EQ(er.calls, 4);
	CHECK_EQ(h_stat("icmp", "drop_err_nomatch"), 1);
	CHECK_EQ(h_nsent, 0); /* no error about an error */
	udp_remove(poll);
	h_idle();
}

/* Blind injection does nothing: every error whose quote is not a
 * datagram a live PCB could have sent is dropped and counted, and no
 * PCB hears of it. */
static void test_udp_icmp_error_blind(void)
{
	fresh();
	memset(&er, 0, sizeof er);
	struct udp_pcb *conn = udp_new(), *poll = udp_new(), *unbound = udp_new();
	CHECK_EQ(udp_connect(conn, PEER_IP, 5000), NET_OK);
	CHECK_EQ(udp_err(conn, on_err, &er), NET_OK);
	CHECK_EQ(udp_err(unbound, on_err, &er), NET_OK);
	CHECK_EQ(udp_bind(poll, 0, 6000), NET_OK);
	uint16_t cport = conn->local_port;
	uint32_t nomatch = 0, bad = 0;

	/* the connected PCB: another peer's address or port */
	make_quote(H_IP, PEER_IP, cport, 5001);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	make_quote(H_IP, 0x0a000203u, cport, 5000);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	/* a port nobody has, port 0 (the unbound PCB's) */
	make_quote(H_IP, PEER_IP, 6001, 5000);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	make_quote(H_IP, PEER_IP, 0, 5000);
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	nomatch += 4;
	CHECK_EQ(h_stat("icmp", "drop_err_nomatch"), nomatch);

	/* malformed or foreign quotes, each otherwise one poll would take */
	make_quote(0x0a000203u, PEER_IP, 6000, 53); /* not from us */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	bad++;
	for (unsigned qlen = 0; qlen < QLEN; qlen += 3) { /* cut short */
		make_quote(H_IP, PEER_IP, 6000, 53);
		h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, qlen));
		bad++;
	}
	make_quote(H_IP, PEER_IP, 6000, 53);
	quote[IP_PROTO] = 6; /* TCP */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	make_quote(H_IP, PEER_IP, 6000, 53);
	put16(quote + IP_FRAG, 100); /* a later fragment: no ports in it */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	make_quote(H_IP, PEER_IP, 6000, 53);
	quote[IP_VHL] = 0x44; /* header length below 20 */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	make_quote(H_IP, PEER_IP, 6000, 53);
	quote[IP_VHL] = 0x4f; /* 60 bytes of header: beyond the quote */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	make_quote(H_IP, PEER_IP, 6000, 53);
	quote[IP_VHL] = 0x65; /* not IPv4 */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	bad += 5;
	/* a good quote, but the error came to a broadcast address */
	make_quote(H_IP, PEER_IP, 6000, 53);
	size_t n = icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN);
	put32(f + ETH_HLEN + IP_DST, 0x0a0002ffu);
	fix_ip(f + ETH_HLEN);
	h_inject(f, n);
	bad++;
	CHECK_EQ(h_stat("icmp", "drop_err_quote"), bad);
	CHECK_EQ(h_stat("icmp", "drop_err_nomatch"), nomatch);
	CHECK_EQ(h_stat("icmp", "err_delivered"), 0);
	CHECK_EQ(er.calls, 0);
	CHECK_EQ(udp_error(poll), 0);
	CHECK_EQ(udp_error(conn), 0);
	CHECK_EQ(h_nsent, 0);
	/* and the same error, quoting what poll sent, is told */
	h_inject(f, icmp_err_frame(f, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, QLEN));
	CHECK_EQ(udp_error(poll), NET_ERR_REFUSED);
	udp_remove(conn);
	udp_remove(poll);
	udp_remove(unbound);
	h_idle();
}

/* ---- broadcasts ---- */

static size_t bcast_frame(uint32_t dst, uint16_t dport)
{
	size_t n = h_udp_frame(f, 1234, dport, pay, 10);
	memcpy(f, H_BCAST, 6);
	put32(f + ETH_HLEN + IP_DST, dst);
	fix_ip(f + ETH_HLEN);
	fix_udp(f);
	return n;
}

/* Received: a PCB bound to our address hears the limited and the subnet
 * broadcast, as a wildcard one does (both get it); a connected one only
 * from its peer; one bound to a group does not. */
static void test_udp_bcast_receive(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *ours = listen_on(H_IP, 5000, 0), *group = listen_on(0xe00000fbu, 5001, 0);
	h_inject(f, bcast_frame(0xffffffffu, 5000));
	CHECK_EQ(rx.calls, 1);
	CHECK(rx.pcb == ours);
	CHECK(rx.flags & PKT_F_BCAST);
	h_inject(f, bcast_frame(0x0a0002ffu, 5000));
	CHECK_EQ(rx.calls, 2);
	h_inject(f, bcast_frame(0xffffffffu, 5001));
	CHECK_EQ(rx.calls, 2);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	/* a wildcard PCB on the port as well: each gets it, one as a copy */
	struct udp_pcb *any = udp_new();
	CHECK_EQ(udp_set_reuse(any, 1), NET_OK);
	CHECK_EQ(udp_set_reuse(ours, 1), NET_OK);
	CHECK_EQ(udp_bind(ours, H_IP, 5000), NET_OK);
	CHECK_EQ(udp_bind(any, 0, 5000), NET_OK);
	udp_recv(any, on_recv, NULL);
	rx.ngot = 0;
	h_inject(f, bcast_frame(0x0a0002ffu, 5000));
	CHECK(rx.ngot == 2 && got(any) == 1 && got(ours) == 1);
	CHECK_EQ(h_stat("udp", "mcast_copy"), 1);
	CHECK_EQ(rx.len, 10);
	CHECK_EQ(memcmp(rx.data, pay, 10), 0);
	udp_remove(any);
	/* connected to another peer: not from this one */
	CHECK_EQ(udp_connect(ours, 0x0a000203u, 1234), NET_OK);
	h_inject(f, bcast_frame(0x0a0002ffu, 5000));
	CHECK_EQ(rx.calls, 4);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 2);
	CHECK_EQ(udp_connect(ours, PEER_IP, 1234), NET_OK);
	h_inject(f, bcast_frame(0x0a0002ffu, 5000));
	CHECK_EQ(rx.calls, 5);
	CHECK(rx.pcb == ours);
	CHECK_EQ(udp_disconnect(ours), NET_OK);
	/* and unicast still: ours, not the group's */
	h_inject(f, h_udp_frame(f, 1234, 5000, pay, 4));
	CHECK_EQ(rx.calls, 6);
	h_inject(f, h_udp_frame(f, 1234, 5001, pay, 4));
	CHECK_EQ(rx.calls, 6);
	CHECK_EQ(h_nsent, 1); /* port unreachable for the last, not for the broadcast */
	udp_remove(ours);
	udp_remove(group);
	h_idle();
}

/* Sent: a broadcast only from a PCB that asked (SO_BROADCAST). */
static void test_udp_bcast_send(void)
{
	fresh();
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_sendto(pcb, payload(4), 0xffffffffu, 67), NET_ERR_ACCESS);
	CHECK_EQ(udp_sendto(pcb, payload(4), 0x0a0002ffu, 67), NET_ERR_ACCESS);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(h_stat("udp", "tx_err_bcast"), 2);
	CHECK_EQ(udp_set_broadcast(pcb, 1), NET_OK);
	CHECK_EQ(udp_sendto(pcb, payload(4), 0xffffffffu, 67), NET_OK);
	CHECK_EQ(udp_sendto(pcb, payload(4), 0x0a0002ffu, 67), NET_OK);
	CHECK_EQ(h_nsent, 2);
	for (int i = 0; i < 2; i++) {
		CHECK(!memcmp(h_frames[i], H_BCAST, 6));
		CHECK_EQ(get32(h_sent_ip(i) + IP_SRC), H_IP);
		CHECK(h_udp_ok(h_sent_ip(i)));
	}
	CHECK_EQ(udp_set_broadcast(pcb, 0), NET_OK);
	CHECK_EQ(udp_sendto(pcb, payload(4), 0xffffffffu, 67), NET_ERR_ACCESS);
	CHECK_EQ(h_nsent, 2);
	CHECK_EQ(h_stat("udp", "tx_err_bcast"), 3);
	CHECK_EQ(h_stat("udp", "tx_err"), 3);
	udp_remove(pcb);
	h_idle();
}

/* ---- socket hygiene ---- */

/* No datagram to 0/8, 127/8, class E or port 0; a group is fine. */
static void test_udp_send_bad_dst(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *pcb = udp_new();
	static const uint32_t bad[] = {0, 0x00010203u, 0x7f000001u, 0x7fffffffu, 0xf0000001u,
				       0xfffffffeu};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ(udp_sendto(pcb, payload(4), bad[i], 53), NET_ERR_ARG);
	CHECK_EQ(udp_sendto(pcb, payload(4), PEER_IP, 0), NET_ERR_ARG);
	CHECK_EQ(h_stat("udp", "tx_err_dst"), 7);
	CHECK_EQ(h_stat("udp", "tx_err"), 7);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(pcb->local_port, 0); /* nothing was bound for them */
	CHECK_EQ(udp_sendto(pcb, payload(4), 0xe0000001u, 53), NET_OK);
	CHECK_EQ(udp_sendto(pcb, payload(4), PEER_IP, 53), NET_OK);
	CHECK_EQ(h_nsent, 2);
	udp_remove(pcb);
	h_idle();
}

/* udp_bind: any, ours or a group; nobody else's, no broadcast. */
static void test_udp_bind_addresses(void)
{
	fresh();
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_bind(pcb, 0x0a000210u, 5000), NET_ERR_ARG);
	CHECK_EQ(udp_bind(pcb, 0x0a0002ffu, 5000), NET_ERR_ARG);
	CHECK_EQ(udp_bind(pcb, 0xffffffffu, 5000), NET_ERR_ARG);
	CHECK_EQ(udp_bind(pcb, 0x7f000001u, 5000), NET_ERR_ARG);
	CHECK_EQ(pcb->local_port, 0);
	CHECK_EQ(udp_bind(pcb, H_IP, 5000), NET_OK);
	CHECK_EQ(udp_bind(pcb, 0xef000001u, 5000), NET_OK);
	CHECK_EQ(udp_bind(pcb, 0, 5000), NET_OK);
	CHECK_EQ(pcb->local_ip, 0);
	udp_remove(pcb);
	h_idle();
}

/* Several PCBs on one port, all asking for it; unicast goes to the most
 * specific, a broadcast to each of them. */
static void test_udp_reuse(void)
{
	fresh();
	struct udp_pcb *a = udp_new(), *b = udp_new(), *c = udp_new();
	CHECK_EQ(udp_set_reuse(a, 1), NET_OK);
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	CHECK_EQ(udp_bind(b, 0, 5000), NET_ERR_USE); /* b did not ask */
	CHECK_EQ(udp_set_reuse(b, 1), NET_OK);
	CHECK_EQ(udp_bind(b, H_IP, 5000), NET_OK);
	CHECK_EQ(udp_set_reuse(c, 1), NET_OK);
	CHECK_EQ(udp_bind(c, 0, 5000), NET_OK);
	udp_recv(a, on_recv, NULL);
	udp_recv(b, on_recv, NULL);
	udp_recv(c, on_recv, NULL);
	h_inject(f, h_udp_frame(f, 1234, 5000, pay, 4));
	CHECK(rx.pcb == b);
	rx.ngot = 0;
	h_inject(f, bcast_frame(0xffffffffu, 5000));
	CHECK(rx.ngot == 3 && got(a) == 1 && got(b) == 1 && got(c) == 1); /* each once */
	CHECK_EQ(h_stat("udp", "mcast_copy"), 2);
	CHECK_EQ(rx.calls, 4);
	/* to our address in a link broadcast: as unicast, the most specific */
	rx.ngot = 0;
	h_inject(f, bcast_frame(H_IP, 5000));
	CHECK(rx.ngot == 1 && got(b) == 1);
	/* no buffer for the copies: those PCBs miss it, the last gets it */
	struct pkt *hold[CFG_PKT_COUNT + 1];
	int nh = 0;
	while ((hold[nh] = pkt_alloc(PKT_APP)))
		nh++;
	pkt_free(hold[--nh]); /* one for the frame itself */
	rx.ngot = 0;
	h_inject(f, bcast_frame(0xffffffffu, 5000));
	CHECK(rx.ngot == 1 && got(c) == 1);
	CHECK_EQ(h_stat("udp", "mcast_nocopy"), 2);
	while (nh)
		pkt_free(hold[--nh]);
	udp_remove(b);
	h_inject(f, h_udp_frame(f, 1234, 5000, pay, 4));
	CHECK(rx.pcb == a); /* the first of the wildcard ones */
	/* one that does not share keeps the others out, and is kept out */
	udp_remove(a);
	udp_remove(c);
	a = udp_new();
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	CHECK_EQ(udp_set_reuse(a, 1), NET_OK); /* too late for a's own bind */
	b = udp_new();
	CHECK_EQ(udp_set_reuse(b, 1), NET_OK);
	CHECK_EQ(udp_bind(b, 0, 5000), NET_OK); /* both ask now */
	udp_remove(a);
	udp_remove(b);
	h_idle();
}

/* The receive queue's depth is the PCB's, 0..CFG_UDP_QUEUE. */
static void test_udp_queue_depth(void)
{
	fresh();
	struct udp_pcb *pcb = udp_new();
	CHECK_EQ(udp_bind(pcb, 0, 53), NET_OK);
	CHECK_EQ(pcb->qmax, CFG_UDP_QUEUE);
	CHECK_EQ(udp_set_queue(pcb, CFG_UDP_QUEUE + 1), NET_ERR_ARG);
	CHECK_EQ(udp_set_queue(pcb, 1), NET_OK);
	h_inject(f, h_udp_frame(f, 2000, 53, pay, 5));
	h_inject(f, h_udp_frame(f, 2001, 53, pay, 5));
	CHECK_EQ(pcb->q.len, 1);
	CHECK_EQ(h_stat("udp", "drop_queue_full"), 1);
	CHECK_EQ(udp_set_queue(pcb, 0), NET_OK); /* below what is queued: nothing dropped */
	CHECK_EQ(pcb->q.len, 1);
	h_inject(f, h_udp_frame(f, 2002, 53, pay, 5));
	CHECK_EQ(h_stat("udp", "drop_queue_full"), 2);
	uint16_t port = 0;
	struct pkt *p = udp_poll(pcb, NULL, &port);
	CHECK(p != NULL && port == 2000);
	if (p)
		pkt_free(p);
	CHECK(udp_poll(pcb, NULL, NULL) == NULL);
	udp_remove(pcb);
	h_idle();
}

/* A removed PCB neither sends nor receives: every call with the stale
 * pointer fails and changes nothing (before, udp_bind re-bound it and it
 * received again). NULL is refused the same way. */
static void test_udp_removed_pcb(void)
{
	fresh();
	h_learn_peer();
	struct udp_pcb *pcb = listen_on(0, 5000, 0);
	udp_remove(pcb);
	CHECK_EQ(udp_bind(pcb, 0, 5000), NET_ERR_CLOSED);
	CHECK_EQ(udp_recv(pcb, on_recv, NULL), NET_ERR_CLOSED);
	h_inject(f, h_udp_frame(f, 1234, 5000, pay, 4));
	CHECK_EQ(rx.calls, 0);
	CHECK_EQ(h_stat("udp", "drop_no_port"), 1);
	h_reset_sent();
	CHECK_EQ(udp_connect(pcb, PEER_IP, 53), NET_ERR_CLOSED);
	CHECK_EQ(udp_sendto(pcb, payload(4), PEER_IP, 53), NET_ERR_CLOSED);
	CHECK_EQ(udp_send(pcb, payload(4)), NET_ERR_CLOSED);
	struct pkt *p = payload(4);
	CHECK_EQ(udp_reply(pcb, p), NET_ERR_CLOSED);
	CHECK_EQ(udp_disconnect(pcb), NET_ERR_CLOSED);
	CHECK_EQ(udp_err(pcb, on_err, NULL), NET_ERR_CLOSED);
	CHECK_EQ(udp_error(pcb), NET_ERR_CLOSED);
	CHECK_EQ(udp_set_broadcast(pcb, 1), NET_ERR_CLOSED);
	CHECK_EQ(udp_set_reuse(pcb, 1), NET_ERR_CLOSED);
	CHECK_EQ(udp_set_ttl(pcb, 9), NET_ERR_CLOSED);
	CHECK_EQ(udp_set_mcast_ttl(pcb, 9), NET_ERR_CLOSED);
	CHECK_EQ(udp_set_tos(pcb, 9), NET_ERR_CLOSED);
	CHECK_EQ(udp_set_queue(pcb, 1), NET_ERR_CLOSED);
	CHECK(udp_poll(pcb, NULL, NULL) == NULL);
	udp_remove(pcb);
	CHECK_EQ(h_nsent, 0);
	CHECK_EQ(pcb->used, 0);
	CHECK_EQ(pcb->local_port, 0);
	CHECK_EQ(h_stat("udp", "bad_pcb"), 17);
	CHECK_EQ(h_stat("udp", "tx_err"), 3);
	CHECK_EQ(udp_bind(NULL, 0, 1), NET_ERR_CLOSED);
	CHECK_EQ(udp_sendto(NULL, payload(4), PEER_IP, 53), NET_ERR_CLOSED);
	/* a received datagram, its PCB removed before the reply */
	pcb = listen_on(0, 5000, 0);
	h_inject(f, h_udp_frame(f, 1234, 5000, pay, 4)); /* on_recv frees it */
	udp_recv(pcb, NULL, NULL);
	h_inject(f, h_udp_frame(f, 1234, 5000, pay, 4));
	p = udp_poll(pcb, NULL, NULL);
	CHECK(p != NULL);
	udp_remove(pcb);
	h_reset_sent();
	if (p)
		CHECK_EQ(udp_reply(pcb, p), NET_ERR_CLOSED);
	CHECK_EQ(h_nsent, 0);
	h_idle();
}

int main(void)
{
	TEST(test_udp_short);
	TEST(test_udp_trailing_bytes);
	TEST(test_udp_csum_zero_accepted);
	TEST(test_udp_bad_csum);
	TEST(test_udp_psum);
	TEST(test_udp_echo_round_trip);
	TEST(test_udp_csum_ffff);
	TEST(test_udp_reply_in_place);
	TEST(test_udp_reply_general);
	TEST(test_udp_sendto_fresh);
	TEST(test_udp_demux);
	TEST(test_udp_port_unreach);
	TEST(test_udp_port_zero);
	TEST(test_udp_no_unreach_bcast);
	TEST(test_udp_bcast_reply_source);
	TEST(test_udp_queue_poll);
	TEST(test_udp_bind_conflicts);
	TEST(test_udp_ttl_tos);
	TEST(test_udp_ephemeral);
	TEST(test_udp_ephemeral_reboot);
	TEST(test_udp_icmp_error_delivered);
	TEST(test_udp_icmp_error_blind);
	TEST(test_udp_bcast_receive);
	TEST(test_udp_bcast_send);
	TEST(test_udp_send_bad_dst);
	TEST(test_udp_bind_addresses);
	TEST(test_udp_reuse);
	TEST(test_udp_queue_depth);
	TEST(test_udp_removed_pcb);
	DONE("udp");
}
