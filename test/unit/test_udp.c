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
} rx;

static void on_recv(struct udp_pcb *pcb, struct pkt *p, uint32_t src, uint16_t sport, void *arg)
{
	(void)arg;
	rx.calls++;
	rx.pcb = pcb;
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
	/* bound to a broadcast address: still speaks from ours */
	pcb = udp_new();
	CHECK_EQ(udp_bind(pcb, 0x0a0002ffu, 68), NET_OK);
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

		h_inject(f, h_udp_frame(f, 6000, 5000, pay, 4));
		CHECK(rx.pcb == conn);
		h_inject(f, h_udp_frame(f, 6001, 5000, pay, 4));
		CHECK(rx.pcb == local);
		h_udp_frame(f, 6002, 5000, pay, 4);
		put32(f + ETH_HLEN + IP_DST, 0xffffffffu);
		fix_ip(f + ETH_HLEN);
		fix_udp(f);
		h_inject(f, ETH_HLEN + IP_HLEN + UDP_HLEN + 4);
		CHECK(rx.pcb == any); /* broadcast: only the wildcard listens */
		udp_remove(local);
		h_inject(f, h_udp_frame(f, 6001, 5000, pay, 4));
		CHECK(rx.pcb == any);
		udp_disconnect(conn);
		CHECK_EQ(udp_bind(conn, 0, 5002), NET_OK);
		h_inject(f, h_udp_frame(f, 6000, 5000, pay, 4));
		CHECK(rx.pcb == any);
		CHECK_EQ(rx.calls, 5);
		CHECK_EQ(h_stat("udp", "delivered"), 5);
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
	/* the range wraps and skips ports in use */
	udp_remove(b);
	udp_remove(c);
	CHECK_EQ(udp_bind(a, 0, CFG_UDP_EPHEMERAL_HI), NET_OK);
	int bad = 0, wrapped = 0;
	for (int i = 0; i < 20000; i++) {
		b = udp_new();
		CHECK_EQ(udp_bind(b, 0, 0), NET_OK);
		bad += b->local_port == CFG_UDP_EPHEMERAL_HI || b->local_port < CFG_UDP_EPHEMERAL_LO;
		wrapped += b->local_port == CFG_UDP_EPHEMERAL_LO;
		udp_remove(b);
	}
	CHECK_EQ(bad, 0);
	CHECK(wrapped > 0);
	/* a full table: udp_new says so */
	int n = 1;
	while (udp_new())
		n++;
	CHECK_EQ(n, CFG_UDP_PCBS);
	udp_init();
	h_idle();
}

static void test_udp_bind_conflicts(void)
{
	fresh();
	struct udp_pcb *a = udp_new(), *b = udp_new(), *c = udp_new();
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK);
	CHECK_EQ(udp_bind(b, 0, 5000), NET_ERR_USE);
	CHECK_EQ(udp_bind(b, H_IP, 5000), NET_ERR_USE);
	CHECK_EQ(udp_bind(a, 0, 5000), NET_OK); /* itself is no conflict */
	CHECK_EQ(udp_bind(a, H_IP, 6000), NET_OK);
	CHECK_EQ(udp_bind(b, 0x0a000210u, 6000), NET_OK);
	CHECK_EQ(udp_bind(c, 0, 6000), NET_ERR_USE);
	CHECK_EQ(udp_bind(c, H_IP, 6000), NET_ERR_USE);
	CHECK_EQ(udp_bind(c, 0, 5000), NET_OK); /* a moved away */
	udp_remove(a);
	udp_remove(b);
	udp_remove(c);
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
	TEST(test_udp_ephemeral);
	TEST(test_udp_bind_conflicts);
	DONE("udp");
}
