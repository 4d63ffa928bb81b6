/*
 * libFuzzer target for the whole stack (net/), stateful. An input is a
 * sequence of records [op][len lo][len hi][data: len bytes, ops with *]:
 *
 *   0* raw frame                 6* as 5, plus a valid UDP/ICMP checksum
 *   1  clock += len*10 ms        7  drain the polling PCBs (udp_poll)
 *   2  next len%256 sends fail   8  remove and re-create the queue PCB
 *   3  hold len pool buffers, or all but len&0x7fff if len&0x8000
 *   4* app sends UDP: [dst sel][port hi][port lo][payload]
 *   5* IPv4 to us, headers filled in, IP checksum fixed: [ctl][proto]
 *      [frag 2][id 2][opt words][src 4 if sel 3][dst 4 if sel 3][opts][l4]
 *      ctl: b0 eth broadcast, b1-2 src sel, b3-4 dst sel, b7 NIC csum ok
 *   9  clock += len*65536 ms in one tick (stalled loop, clock wrap)
 *   10* ARP from 02::h/10.0.2.h: [oper][h][b0-1 target sel, b2 probe][b0 bcast]
 *   11 netif.mtu = 68 + len%1433 (first record only)
 *   12* a DHCP server message to dhcp_parse: [ctl][message]; ctl b0: the
 *      message as given, else op, htype, hlen and the magic cookie are
 *      made right so the options are reached (see op_dhcp)
 *   13 the echo service moves to echo_ports[len % 4] (port= at boot)
 *   14* an ICMP error quoting a datagram from one of our PCBs (op_icmp_err)
 *   15* a UDP datagram of up to 65,507 bytes, fragmented, to the echo or
 *      the polled port (op_bigfrag): [ctl][size hi][size lo][chunk][seed]
 *   16* multicast: join, leave, IGMP in, UDP to a group (op_mcast)
 *
 * The op is the first byte mod 14, but for the bytes that are 14 mod 28
 * (14, 42, ..., 238): those are op 14, those that are 27 mod 28
 * (27, 55, ..., 251): op 15, and 15 mod 28 (15, 43, ..., 239): op 16.
 * Records from before kept their meaning (op 0, op 13 and op 1 lost those
 * byte values; no seed or regression input used them).
 *
 * The echo service on port 7 is the firmware's own (app/echo.c).
 * Invariants (FAIL lines) are checked on every frame the stack sends,
 * after every record, and after the input once every timer has run out;
 * (h): an ICMP error reaches a PCB exactly when it quotes a datagram that
 * PCB could have sent (a connected one: to its peer); (i): IGMP is sent
 * only for groups we are in (a Leave for one we just left), as RFC 2236
 * 2 says (TTL 1, Router Alert), at most two reports per join and one
 * per query heard; a group's datagram reaches only PCBs that joined it,
 * each once, and draws nothing but the echo's one unicast reply when
 * the echo service joined that group.
 * FUZZ_VERBOSE=1 traces frames, counters and the ARP table; FUZZ_DENSE=1
 * runs every net_tick walk (see advance), which must not change the trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/net.h"
#include "net/udp.h"
#include "net/dhcp.h"
#include "net/igmp.h"
#include "app/echo.h"

#define OUR_IP 0x0a00020fu  /* 10.0.2.15/24 */
#define PEER_IP 0x0a000202u /* 10.0.2.2, also the gateway */
#define ECHO_PORT 7
/* The ports the echo service is moved between (record 13): none is
 * another PCB's, and all lie below the ephemeral range. */
static const uint16_t echo_ports[] = {ECHO_PORT, 5555, 2000, 53};
#define QUEUE_PORT 9        /* no callback: polled */
#define CONN_PORT 5001      /* polled, connected to PEER_IP:5000 */
#define MCAST_PORT 5353     /* two PCBs (reuse): on any address, on groups[0]'s */
/* The groups record 16 joins: two that share a MAC, one in 224.0.0.0/24. */
static const uint32_t groups[4] = {0xef010203u, 0xe0000105u, 0xef810203u, 0xe00000fbu};
#define DRAIN_MS (CFG_REASS_TIMEOUT_MS + CFG_ARP_RETRY_MS * (CFG_ARP_TRIES + 2))
static const uint8_t OUR_MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ZERO[6];

/* Bookkeeping of the harness: its branches tell the fuzzer nothing about
 * the stack, and the traced compares in its loops cost more than the loops. */
#define UNTRACED __attribute__((no_sanitize("coverage"), noinline)) /* inlined, it would be traced */
#define FAIL(...) (fprintf(stderr, "INVARIANT VIOLATED: " __VA_ARGS__), fputc('\n', stderr), abort())

static struct {
	uint32_t clock;
	uint64_t elapsed; /* ms since the input started */
	unsigned fail_tx, nheld, icmp_errs;
	uint32_t dg_sum, dg_next;   /* the datagram being sent, in fragments */
	uint16_t dg_id, dg_len;
	struct pkt *held[CFG_PKT_COUNT];
	struct udp_pcb *queue, *conn, *app, *mc[2];
	int allow[4];               /* (i) reports groups[k] may still send */
	unsigned mc_rx;             /* datagrams the multicast PCBs were handed */
	uint64_t echo_out;          /* datagrams the echo service sent, every port it had */
	uint64_t echo_prev;         /* replies it attempted on the ports it had before */
	uint64_t echo_prev_rx;      /* datagrams it received on those */
	uint16_t echo_port;
	int app_group;              /* the app sent to a multicast, or a broadcast it may send */
	unsigned errs_told;         /* ICMP errors the harness's error callbacks heard */
	int quiet;                  /* handling an IPv4 broadcast: it draws no IPv4 */
	int ran;                    /* input, output or timers ran: the ARP table may differ from arp[] */
	int unchecked;              /* arp[] was read and not checked yet */
	struct {
		uint32_t ip, stamp;
		uint8_t mac[6];
		int state;          /* as arp_entry_get: 0 free, 1 pending, 2 stable */
	} arp[CFG_ARP_ENTRIES];
	int dense;                  /* run every net_tick walk (see advance) */
	uint32_t born[16];          /* when a reassembly slot may have been opened */
	unsigned nborn;
	unsigned nbig;              /* op_bigfrag datagrams over 8 KB so far */
	unsigned work;              /* frames in and out, pool moves / 16 (not timer
	                               walks: FUZZ_DENSE must run the same records) */
} S;
/* An input's records after this much work are ignored, as bytes past
 * -max_len are: the few inputs that grow to thousands of frames (a 3 %
 * of a corpus took half the time) then cost no more than a few hundred
 * records, and the fuzzer spends the time on more inputs. */
#define WORK_BUDGET 1024
static int verbose, dense;

/* Internet checksum, four bytes a step: nothing shared with csum.c.
 * Under 2^15 steps of at most 2 * 0xffff each, so no overflow. */
UNTRACED static uint32_t sum_add(uint32_t sum, const uint8_t *b, size_t n)
{
	size_t i = 0;
	for (; i + 3 < n; i += 4)
		sum += ((uint32_t)b[i] << 8 | b[i + 1]) + ((uint32_t)b[i + 2] << 8 | b[i + 3]);
	for (; i < n; i++)
		sum += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	return sum;
}

UNTRACED static int sum_ok(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static int is_group(uint32_t a)
{
	return a == 0xffffffffu || a == (netif.ip | ~netif.mask) || (a >> 28) == 0xe;
}

/* ---- the fake driver: every frame the stack sends is checked ---- */
static void check_arp(const uint8_t *f, size_t n)
{
	const uint8_t *a = f + ETH_HLEN;
	uint16_t op = n >= ETH_HLEN + ARP_LEN ? get16(a + ARP_OPER) : 0;
	if (n != ETH_HLEN + ARP_LEN || get16(a + ARP_HTYPE) != 1 || get16(a + ARP_PTYPE) != ETHTYPE_IP ||
	    a[ARP_HLEN] != 6 || a[ARP_PLEN] != 4 || (op != ARP_OP_REQUEST && op != ARP_OP_REPLY))
		FAIL("malformed ARP sent (%zu bytes, op %u)", n, op);
	if (memcmp(a + ARP_SHA, netif.mac, 6) || get32(a + ARP_SPA) != netif.ip)
		FAIL("ARP sent with a sender that is not us");
	if (op == ARP_OP_REPLY && (mac_is_mcast(f) || memcmp(f, a + ARP_THA, 6)))
		FAIL("ARP reply not unicast to its target");
}

/* An error may only be about a datagram RFC 1122 3.2.2 lets us answer.
 * cut: m is the first fragment of a longer error (an MTU as low as 68
 * cannot carry a 60-byte header's quote whole), so the quote may go on
 * in the next fragment: only what is here is checked. */
static void check_icmp_error(const uint8_t *m, unsigned len, uint32_t dst, int cut)
{
	const uint8_t *q = m + ICMP_HLEN; /* the datagram quoted */
	unsigned qhl = len >= ICMP_HLEN + IP_HLEN ? (q[IP_VHL] & 15) * 4u : 0;
	unsigned qt = q[IP_PROTO] == IPPROTO_ICMP && len > ICMP_HLEN + qhl ? q[qhl] : 0;
	if ((m[0] != ICMP_UNREACH && m[0] != ICMP_TIMXCEED) || qhl < IP_HLEN || (!cut && len < ICMP_HLEN + qhl) ||
	    get32(q + IP_SRC) != dst || get32(q + IP_DST) != netif.ip || (get16(q + IP_FRAG) & IP_OFFMASK) ||
	    (q[IP_PROTO] == IPPROTO_ICMP && ((!cut && len == ICMP_HLEN + qhl) || qt == 3 || qt == 4 ||
					  qt == 5 || qt == 11 || qt == 12)))
		FAIL("ICMP %u/%u sent about a datagram it must not answer", m[0], m[1]);
	if (++S.icmp_errs > CFG_ICMP_RATE_BURST + S.elapsed / CFG_ICMP_RATE_MS)
		FAIL("ICMP rate limit: %u errors in %llu ms", S.icmp_errs, (unsigned long long)S.elapsed);
}

static int group_index(uint32_t g)
{
	for (int k = 0; k < 4; k++)
		if (groups[k] == g)
			return k;
	return -1;
}

/* (i) An IGMP message of ours: 24-byte header with Router Alert, TTL 1,
 * 8 bytes, checksummed; a report to a group we are in (and may still
 * report), a Leave to all-routers for one we are no longer in. */
static void check_igmp_out(const uint8_t *f, size_t n)
{
	const uint8_t *h = f + ETH_HLEN, *m = h + 24;
	if (n != ETH_HLEN + 32 || h[IP_VHL] != 0x46 || get16(h + IP_LEN) != 32 || h[IP_TTL] != 1 ||
	    get32(h + IP_HLEN) != 0x94040000u || !sum_ok(sum_add(0, h, 24)) || !sum_ok(sum_add(0, m, 8)) ||
	    get32(h + IP_SRC) != netif.ip || !mac_is_mcast(f) || f[5] != h[IP_DST + 3])
		FAIL("(i) IGMP message malformed (%zu bytes)", n);
	uint32_t dst = get32(h + IP_DST), group = get32(m + IGMP_GROUP);
	int k = group_index(group);
	if (m[0] == IGMP_V2_REPORT || m[0] == IGMP_V1_REPORT) {
		if (dst != group || k < 0 || igmp_slot(group) < 0)
			FAIL("(i) report for %08x to %08x: not a group we are in", group, dst);
		if (--S.allow[k] < 0)
			FAIL("(i) report for %08x: more than two per join and one per query", group);
	} else if (m[0] == IGMP_LEAVE) {
		if (dst != IGMP_ALL_ROUTERS || k < 0 || igmp_slot(group) >= 0)
			FAIL("(i) Leave for %08x to %08x", group, dst);
	} else {
		FAIL("(i) IGMP type %02x sent", m[0]);
	}
}

static void check_ip(const uint8_t *f, size_t n)
{
	if (n >= ETH_HLEN + IP_HLEN && f[ETH_HLEN + IP_PROTO] == IPPROTO_IGMP) {
		check_igmp_out(f, n);
		return;
	}
	const uint8_t *h = f + ETH_HLEN, *l4 = h + IP_HLEN;
	size_t len = n - ETH_HLEN;
	unsigned hl = len >= IP_HLEN ? (h[IP_VHL] & 15) * 4u : 0, total = hl ? get16(h + IP_LEN) : 0;
	if (hl != IP_HLEN || h[IP_VHL] >> 4 != 4 || total != len || !sum_ok(sum_add(0, h, hl)))
		FAIL("(e) IP header: hlen %u total %u in %zu bytes, or bad checksum", hl, total, len);
	uint32_t src = get32(h + IP_SRC), dst = get32(h + IP_DST);
	int group = is_group(dst);
	if (src != netif.ip || dst == netif.ip || dst == 0 || dst >> 24 == 127 || (group && !S.app_group))
		FAIL("(d) IP packet %08x -> %08x", src, dst);
	if (group != mac_is_mcast(f) || !memcmp(f, ZERO, 6) || !memcmp(f, netif.mac, 6))
		FAIL("(d) IP %08x sent to MAC %02x:..:%02x", dst, f[0], f[5]);

	uint16_t frag = get16(h + IP_FRAG), id = get16(h + IP_ID), ulen = 0;
	unsigned off = (frag & IP_OFFMASK) * 8u, plen = total - hl;
	uint8_t proto = h[IP_PROTO];
	if (((frag & IP_MF) && plen % 8) || off + plen > 65535 || plen == 0)
		FAIL("(e) bad fragment: offset %u length %u", off, plen);
	if (proto != IPPROTO_UDP && proto != IPPROTO_ICMP)
		FAIL("IP protocol %u sent", proto);
	if (off == 0 && proto == IPPROTO_UDP) {
		ulen = plen >= UDP_HLEN ? get16(l4 + UDP_LEN) : 0;
		if (ulen < UDP_HLEN || ulen < plen || !get16(l4 + UDP_CSUM))
			FAIL("(e) UDP length %u in an IP payload of %u, or no checksum", ulen, plen);
		uint16_t sport = get16(l4 + UDP_SPORT), dport = get16(l4 + UDP_DPORT);
		int from_echo = 0;
		for (unsigned k = 0; k < sizeof echo_ports / sizeof echo_ports[0]; k++)
			from_echo |= sport == echo_ports[k];
		S.echo_out += from_echo; /* at its first fragment */
		/* one reply per request; the one being sent is not counted yet */
		if (S.echo_out > S.echo_prev_rx + echo_stats.rx)
			FAIL("(f) echo sent %llu datagrams, received %llu", (unsigned long long)S.echo_out,
			     (unsigned long long)(S.echo_prev_rx + echo_stats.rx));
		if (from_echo && sport == dport)
			FAIL("(g) echo answered a datagram from its own port %u: a loop", sport);
	} else if (off == 0) {
		if (plen < ICMP_HLEN)
			FAIL("(e) ICMP message of %u bytes", plen);
		if (l4[0] != ICMP_ECHOREPLY)
			check_icmp_error(l4, plen, dst, frag & IP_MF);
	}
	/* The L4 checksum over the whole datagram, its fragments summed in
	 * order (they leave in order, unless an ARP queue lost one: no check). */
	if (off == 0) {
		S.dg_id = id;
		S.dg_next = 0;
		S.dg_len = ulen;
		S.dg_sum = ulen ? (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IPPROTO_UDP + ulen : 0;
	}
	if (off != S.dg_next || id != S.dg_id) {
		S.dg_next = ~0u;
		return;
	}
	S.dg_sum = sum_add(S.dg_sum, l4, plen);
	S.dg_next += plen;
	if (!(frag & IP_MF) && (!sum_ok(S.dg_sum) || (S.dg_len && S.dg_len != S.dg_next)))
		FAIL("(e) bad %s checksum or length (%u bytes)", proto == IPPROTO_UDP ? "UDP" : "ICMP", S.dg_next);
}

/* (i) to the echo's group: one reply, UDP from its port to a unicast host */
static int echo_group_reply(const uint8_t *f, size_t n)
{
	const uint8_t *h = f + ETH_HLEN;
	if (S.quiet != 2 || n < ETH_HLEN + IP_HLEN + UDP_HLEN || h[IP_PROTO] != IPPROTO_UDP ||
	    get16(h + IP_HLEN + UDP_SPORT) != S.echo_port || is_group(get32(h + IP_DST)))
		return 0;
	S.quiet = 1;
	return 1;
}

static int fake_output(struct pkt *p)
{
	const uint8_t *f = p->data;
	size_t n = p->len;
	S.work++;
	uint16_t type = n >= ETH_HLEN ? get16(f + ETH_TYPE) : 0;
	if (p->owner != PKT_STACK || p->next || p->data < p->head || p->data + n > p->head + p->cap)
		FAIL("frame handed to the driver: owner %u, linked %d, or outside its buffer", p->owner, !!p->next);
	if (n < ETH_HLEN || n > ETH_HLEN + netif.mtu)
		FAIL("(c) frame of %zu bytes with MTU %u", n, netif.mtu);
	if (memcmp(f + ETH_SRC, netif.mac, 6))
		FAIL("frame not from our MAC");
	if (verbose)
		fprintf(stderr, "  t+%llu tx %zu bytes type %04x%s\n", (unsigned long long)S.elapsed, n, type,
			S.fail_tx ? " (refused)" : "");
	if (type == ETHTYPE_ARP)
		check_arp(f, n);
	else if (type == ETHTYPE_IP && S.quiet && !echo_group_reply(f, n))
		FAIL("IPv4 sent in answer to an IPv4 broadcast/multicast");
	else if (type == ETHTYPE_IP)
		check_ip(f, n);
	else
		FAIL("ethertype %04x sent", type);
	int rc = S.fail_tx ? -1 : 0;
	S.fail_tx -= !!S.fail_tx;
	pkt_free(p);
	return rc;
}

/* ---- the applications ---- */
static void check_app_pkt(const struct pkt *p)
{
	if (p->owner != PKT_APP || p->data < p->head || p->data + p->len > p->head + p->cap ||
	    pkt_headroom(p) < UDP_HLEN + IP_HLEN + ETH_HLEN)
		FAIL("datagram handed to the app: owner %u, headroom %zu", p->owner, pkt_headroom(p));
	/* A reassembled datagram: a chain of at most CFG_REASS_MAX_BUFS
	 * pieces, each within its buffer, as long as the UDP header says */
	unsigned n = 0, len = 0;
	for (const struct pkt *q = p; q; q = q->frag_next, n++) {
		if (n > CFG_REASS_MAX_BUFS || q->owner == PKT_FREE || q->data < q->head ||
		    q->data + q->len > q->head + q->cap || (q != p && !q->len))
			FAIL("datagram handed to the app: piece %u broken", n);
		len += q->len;
	}
	if (len + UDP_HLEN != get16(p->data - UDP_HLEN + UDP_LEN))
		FAIL("datagram handed to the app: %u bytes, UDP length %u", len,
		     get16(p->data - UDP_HLEN + UDP_LEN));
	if (is_group(get32(pkt_iph(p) + IP_DST)) && !(p->flags & PKT_F_BCAST))
		FAIL("datagram to %08x handed to the app without PKT_F_BCAST", get32(pkt_iph(p) + IP_DST));
}

/* (i) a group's datagram only to a PCB that joined it */
static void mc_recv(struct udp_pcb *pcb, struct pkt *p, void *arg)
{
	(void)arg;
	check_app_pkt(p);
	uint32_t dst = udp_dst_ip(p);
	int slot = igmp_slot(dst);
	if ((dst >> 28) == 0xe && (slot < 0 || !(pcb->mcast >> slot & 1)))
		FAIL("(i) datagram to %08x handed to a PCB not in the group", dst);
	S.mc_rx++;
	pkt_free(p);
}

static struct udp_pcb *open_pcb(uint32_t ip, uint16_t port)
{
	struct udp_pcb *pcb = udp_new();
	if (!pcb || udp_bind(pcb, ip, port) != NET_OK)
		FAIL("cannot open UDP port %u", port);
	return pcb;
}

static struct udp_pcb *open_mc(uint32_t ip)
{
	struct udp_pcb *pcb = udp_new();
	if (!pcb || udp_set_reuse(pcb, 1) || udp_bind(pcb, ip, MCAST_PORT) || udp_recv(pcb, mc_recv, NULL))
		FAIL("cannot open the multicast PCB");
	return pcb;
}

/* (h) an error told by callback: to a live PCB of ours, and to a
 * connected one only about its peer */
static void on_err(struct udp_pcb *pcb, uint8_t type, uint8_t code, uint32_t dst, uint16_t dport,
		   void *arg)
{
	(void)arg;
	S.errs_told++;
	if ((pcb != S.conn && pcb != S.app) || !pcb->used)
		FAIL("(h) ICMP error %u/%u told to a PCB that is not a live one of ours", type, code);
	if (pcb->connected && (dst != pcb->remote_ip || dport != pcb->remote_port))
		FAIL("(h) ICMP error about %08x:%u told to a PCB connected to %08x:%u", dst, dport,
		     pcb->remote_ip, pcb->remote_port);
	if (type != ICMP_UNREACH && type != ICMP_TIMXCEED && type != ICMP_PARAMPROB)
		FAIL("(h) ICMP type %u told as an error", type);
}

static void drain(struct udp_pcb *pcb)
{
	struct pkt *p;
	int e = udp_error(pcb); /* a polling PCB's kept error: one of the three */
	if (e && e != NET_ERR_REFUSED && e != NET_ERR_UNREACH && e != NET_ERR_MSGSIZE)
		FAIL("(h) udp_error returned %d", e);
	while ((p = udp_poll(pcb, NULL, NULL))) {
		check_app_pkt(p);
		pkt_free(p);
	}
}

/* ---- the superloop's side: frames in, the clock ---- */
/* The ARP table, read again only if the stack ran since: a call per
 * entry into instrumented code was the costliest part of a record. */
UNTRACED static void read_arp(void)
{
	uint32_t age;
	if (!S.ran)
		return;
	for (unsigned i = 0; i < CFG_ARP_ENTRIES; i++)
		if (arp_entry_get(i, &S.arp[i].ip, S.arp[i].mac, &S.arp[i].state, &age) == 0)
			S.arp[i].stamp = net_now() - age;
	S.ran = 0;
	S.unchecked = 1;
}

/*
 * The clock. The superloop calls net_tick every CFG_TICK_MS, and most of
 * those walks of the timer tables find nothing due: advance() runs only the
 * walks where a timer is due, plus the last one, so that net_tick's idea
 * of when it last ran is the same. Frames and counters come out the same as
 * with every walk run (FUZZ_DENSE=1 runs them all; `check` compares the
 * two traces), at a fraction of the cost: the two 35 s drains at the end
 * of every input were 700 walks.
 * A timer added to net_tick must be added to next_due().
 */
UNTRACED static uint32_t due_in(uint32_t age, uint32_t limit)
{
	return age < limit ? limit - age : 0;
}

/* ms until the first timer is due (0: now), as the tick handlers test it */
UNTRACED static uint32_t next_due(void)
{
	uint32_t d = S.dense ? 0 : UINT32_MAX;
	read_arp();
	for (unsigned i = 0; i < CFG_ARP_ENTRIES; i++) {
		uint32_t age = S.clock - S.arp[i].stamp, st = S.arp[i].state;
		uint32_t t = st == 1 ? due_in(age, CFG_ARP_RETRY_MS) : st == 2 ? due_in(age, CFG_ARP_MAX_AGE_MS) : d;
		d = t < d ? t : d;
	}
	for (unsigned i = 0; i < S.nborn; i++) {
		uint32_t t = due_in(S.clock - S.born[i], CFG_REASS_TIMEOUT_MS);
		d = t < d ? t : d;
	}
	uint32_t t = igmp_next_due(S.clock);
	return t < d ? t : d;
}

/* The reassembly slots cannot be read from here, so inject() notes when
 * one may have been opened: whenever a fragment was held. Too many such
 * times at once: run every walk for the rest of the input. */
UNTRACED static void note_born(void)
{
	if (S.nborn && S.born[S.nborn - 1] == S.clock)
		return;
	if (S.nborn == sizeof S.born / sizeof S.born[0])
		S.dense = 1;
	else
		S.born[S.nborn++] = S.clock;
}

/* After a walk: slots opened this long ago are gone, timed out or not. */
UNTRACED static void forget_born(void)
{
	unsigned k = 0;
	for (unsigned i = 0; i < S.nborn; i++)
		if (S.clock - S.born[i] < CFG_REASS_TIMEOUT_MS)
			S.born[k++] = S.born[i];
	S.nborn = k;
}

static void tick(void)
{
	S.ran = 1;
	net_tick(S.clock);
}

static void step(uint32_t ms)
{
	S.elapsed += ms;
	S.clock += ms;
	tick();
}

UNTRACED static void advance(uint64_t ms)
{
	int skipped = 0;
	while (ms >= CFG_TICK_MS) {
		/* skip the walks before the first deadline: in them net_tick
		 * would only have stored the clock, which the next call does */
		uint64_t idle = next_due(), n = idle ? (idle - 1) / CFG_TICK_MS : 0;
		n = n < ms / CFG_TICK_MS ? n : ms / CFG_TICK_MS;
		S.elapsed += n * CFG_TICK_MS;
		S.clock += (uint32_t)(n * CFG_TICK_MS);
		ms -= n * CFG_TICK_MS;
		skipped |= n != 0;
		if (ms >= CFG_TICK_MS) {
			step(CFG_TICK_MS);
			ms -= CFG_TICK_MS;
			skipped = 0;
			forget_born();
		}
	}
	if (skipped) /* a walk with nothing due (the ARP table stays as read), so */
		net_tick(S.clock); /* net_tick runs the next one when it would have */
	if (ms)
		step((uint32_t)ms);
}

static void inject(const uint8_t *frame, size_t n, uint8_t flags)
{
	struct pkt *p = pkt_alloc(PKT_STACK);
	if (!p)
		return; /* no RX buffer: the NIC drops it */
	pkt_reset_link(p);
	n = n < CFG_PKT_BUFSZ - CFG_PKT_LINK_OFF ? n : CFG_PKT_BUFSZ - CFG_PKT_LINK_OFF;
	memcpy(p->data, frame, n);
	p->len = (uint16_t)n;
	p->flags = flags;
	S.quiet = n >= 34 && get16(frame + ETH_TYPE) == ETHTYPE_IP &&
		  (mac_is_mcast(frame) || is_group(get32(frame + 30)));
	if (S.quiet && echo_group() && get32(frame + 30) == echo_group())
		S.quiet = 2; /* the echo's group: its one unicast reply allowed */
	uint32_t held = net_stats.ip_frag_held, queries = net_stats.igmp_query;
	S.ran = 1;
	S.work++;
	net_input(p);
	S.quiet = 0;
	if (net_stats.ip_frag_held != held)
		note_born();
	if (net_stats.igmp_query != queries) /* a query: one more report each */
		for (int k = 0; k < 4; k++)
			S.allow[k] += igmp_slot(groups[k]) >= 0;
}

static void reset(void)
{
	memset(&S, 0, sizeof S);
	S.clock = 1000;
	S.dense = dense;
	/* The last input's groups go first: the tick below walks the timers
	 * before net_init, and one the last input's clock jumps left
	 * unexpired (op 9 moves it by up to 2^32 ms at once) would report
	 * in this input, against its bookkeeping (found by record 16). */
	igmp_init();
	pkt_pool_init();
	ip_reass_init(); /* its chains were in the old pool: forgotten before tick() walks them */
	net_stats_reset();
	netif = (struct netif){.link_up = 1, .ip = OUR_IP, .mask = 0xffffff00u, .gw = PEER_IP,
			       .mtu = CFG_MTU, .output = fake_output};
	memcpy(netif.mac, OUR_MAC, 6);
	tick();
	net_init(); /* resets ARP, reassembly, ICMP and the UDP PCB table */
	if (echo_start(ECHO_PORT)) /* the shipped service, app/echo.c */
		FAIL("cannot start the echo service");
	S.echo_port = ECHO_PORT;
	S.queue = open_pcb(0, QUEUE_PORT);
	S.conn = open_pcb(OUR_IP, CONN_PORT);
	udp_connect(S.conn, PEER_IP, 5000);
	udp_err(S.conn, on_err, NULL);
	S.app = udp_new(); /* bound to an ephemeral port by its first send */
	udp_err(S.app, on_err, NULL);
	S.mc[0] = open_mc(0);
	S.mc[1] = open_mc(groups[0]);
}

/* Ethernet + IPv4 header (checksummed) in front of l4len bytes at f+14+20+optlen. */
static size_t frame_ip(uint8_t *f, const uint8_t *dmac, uint32_t src, uint32_t dst, uint8_t proto,
		       uint16_t frag, uint16_t id, const uint8_t *opt, unsigned optlen, size_t l4len)
{
	uint8_t *h = f + ETH_HLEN;
	memcpy(f + ETH_DST, dmac, 6);
	memcpy(f + ETH_SRC, PEER_MAC, 6);
	memcpy(f + ETH_TYPE, "\x08\x00\x45\x00", 4);
	memset(h + 4, 0, IP_HLEN - 4);
	h[IP_VHL] = (uint8_t)(0x40 | (IP_HLEN + optlen) / 4);
	put16(h + IP_LEN, (uint16_t)(IP_HLEN + optlen + l4len));
	put32(h + IP_ID, (uint32_t)id << 16 | frag);
	put16(h + IP_TTL, (uint16_t)(64 << 8 | proto));
	put32(h + IP_SRC, src);
	put32(h + IP_DST, dst);
	if (optlen)
		memcpy(h + IP_HLEN, opt, optlen);
	put16(h + IP_CSUM, csum_finish(csum_add(0, h, IP_HLEN + optlen)));
	return ETH_HLEN + IP_HLEN + optlen + l4len;
}

static void op_ip(const uint8_t *b, size_t n, int fix_l4)
{
	static const uint32_t srcs[] = {PEER_IP, 0x0a000203u, 0xc0000207u};
	static const uint32_t dsts[] = {OUR_IP, 0x0a0002ffu, 0xffffffffu};
	static uint8_t f[CFG_PKT_BUFSZ];
	if (n < 7)
		return;
	uint8_t ctl = b[0], proto = b[1], flags = 0;
	uint16_t frag = get16(b + 2);
	unsigned optlen = (b[6] % 11) * 4u, ssel = ctl >> 1 & 3, dsel = ctl >> 3 & 3;
	size_t i = 7;
	uint32_t src = srcs[ssel % 3], dst = dsts[dsel % 3];
	if (ssel == 3 && i + 4 <= n)
		src = get32(b + i), i += 4;
	if (dsel == 3 && i + 4 <= n)
		dst = get32(b + i), i += 4;
	optlen = i + optlen <= n ? optlen : 0;
	const uint8_t *opt = b + i;
	i += optlen;
	size_t l4len = n - i, max = CFG_PKT_BUFSZ - CFG_PKT_LINK_OFF - ETH_HLEN - IP_HLEN - optlen;
	l4len = l4len < max ? l4len : max;
	uint8_t *l4 = f + ETH_HLEN + IP_HLEN + optlen;
	memcpy(l4, b + i, l4len);
	if (fix_l4 && proto == IPPROTO_UDP && l4len >= UDP_HLEN) {
		put16(l4 + UDP_LEN, (uint16_t)l4len);
		put16(l4 + UDP_CSUM, 0);
		uint16_t c = csum_finish(csum_add(csum_pseudo(src, dst, IPPROTO_UDP, (uint16_t)l4len), l4, l4len));
		put16(l4 + UDP_CSUM, c ? c : 0xffff);
	} else if (fix_l4 && proto == IPPROTO_ICMP && l4len >= ICMP_HLEN) {
		put16(l4 + ICMP_CSUM, 0);
		put16(l4 + ICMP_CSUM, csum_finish(csum_add(0, l4, l4len)));
	}
	if (fix_l4 && (ctl & 0x80) && !(frag & (IP_MF | IP_OFFMASK)))
		flags = PKT_F_CSUM_OK; /* the NIC's DATA_VALID: only where it is true */
	n = frame_ip(f, (ctl & 1) ? BCAST : OUR_MAC, src, dst, proto, frag, get16(b + 4), opt, optlen, l4len);
	inject(f, n, flags);
}

/* n pseudo-random bytes from *x, a word a step, and their sum (d at an
 * even offset). Into op_bigfrag's own array, which has room for the
 * last word's spare bytes: in bounds by construction, so neither traced
 * nor checked by ASan. */
UNTRACED __attribute__((no_sanitize("address"))) static uint32_t fill(uint8_t *d, unsigned n, uint32_t *x)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i < n; i += 4) {
		uint32_t v = *x = *x * 1103515245u + 12345u;
		if (n - i < 4) /* bytes past n are not summed */
			v &= ~0u << 8 * (4 - (n - i));
		d[i] = (uint8_t)(v >> 24), d[i + 1] = (uint8_t)(v >> 16);
		d[i + 2] = (uint8_t)(v >> 8), d[i + 3] = (uint8_t)v;
		sum += (v >> 16) + (v & 0xffff);
	}
	return sum;
}

/*
 * A UDP datagram from PEER of 0..65,507 bytes (its payload drawn from
 * seed), with a valid checksum, cut into fragments of 8 * (1 + chunk %
 * 185) bytes (ctl b0: 1480, the common case) and sent as frames: to the
 * echo's port, or (b1) the polled one. ctl b2-3: in order, reversed, one
 * fragment twice, one left out (the datagram times out); b4: a link
 * broadcast; b5: one payload byte spoilt after the checksum (dropped
 * whole); b6: one fragment overlapping its predecessor by 8 bytes.
 * Chains are reassembled, delivered, echoed in place fragment by
 * fragment, or freed on every drop path; check_ip sums the reply.
 * At most CFG_REASS_MAX_BUFS + 4 pieces are sent, and at most four
 * datagrams over 8 KB an input.
 */
static void op_bigfrag(const uint8_t *b, size_t n)
{
	static uint8_t dg[UDP_HLEN + 65507 + 3], f[CFG_PKT_BUFSZ]; /* +3: fill's last word */
	if (n < 5)
		return;
	uint8_t ctl = b[0], seed = b[4];
	unsigned size = (unsigned)b[1] << 8 | b[2];
	size = size < 65507 ? size : 65507;
	if (size > 8192 && S.nbig++ >= 4)
		size %= 8192; /* a fifth 64 KB datagram shows nothing new, at 100 frames' cost */
	unsigned ulen = UDP_HLEN + size, chunk = ctl & 1 ? 1480 : 8 * (1 + b[3] % 185u);
	uint32_t x = seed * 2654435761u + 1;
	uint32_t sum = fill(dg + UDP_HLEN, size, &x);
	put16(dg + UDP_SPORT, 40000 + seed);
	put16(dg + UDP_DPORT, ctl & 2 ? QUEUE_PORT : S.echo_port);
	put16(dg + UDP_LEN, (uint16_t)ulen);
	put16(dg + UDP_CSUM, 0);
	sum += csum_pseudo(PEER_IP, OUR_IP, IPPROTO_UDP, (uint16_t)ulen);
	uint16_t c = csum_finish(sum_add(sum, dg, UDP_HLEN));
	put16(dg + UDP_CSUM, c ? c : 0xffff);
	if ((ctl & 0x20) && size)
		dg[UDP_HLEN + x % size] ^= 0x40;
	unsigned nf = (ulen + chunk - 1) / chunk, mode = ctl >> 2 & 3, pick = nf ? x % nf : 0;
	uint16_t id = (uint16_t)(0x8000 | seed << 4 | (ctl & 15));
	/* Pieces past CFG_REASS_MAX_BUFS only open another datagram of the
	 * same id, to be evicted or time out: a few show that; the thousands
	 * that 8-byte pieces of 9 KB make cost a hundred inputs' time. */
	unsigned sent = nf + (mode == 2);
	sent = sent < CFG_REASS_MAX_BUFS + 4 ? sent : CFG_REASS_MAX_BUFS + 4;
	for (unsigned k = 0; k < sent; k++) {
		unsigned i = mode == 1 ? nf - 1 - k : mode == 2 && k > pick ? k - 1 : k;
		if (mode == 3 && i == pick)
			continue;
		unsigned off = i * chunk, len = ulen - off < chunk ? ulen - off : chunk;
		if ((ctl & 0x40) && i == pick && off >= 8)
			off -= 8, len += 8;
		memcpy(f + ETH_HLEN + IP_HLEN, dg + off, len);
		uint16_t frag = (uint16_t)(off / 8 | (off + len < ulen ? IP_MF : 0));
		inject(f, frame_ip(f, ctl & 0x10 ? BCAST : OUR_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, frag, id,
				   NULL, 0, len), 0);
	}
}

static void op_arp(const uint8_t *b, size_t n)
{
	uint8_t f[ETH_MIN_FRAME] = {0}, *a = f + ETH_HLEN;
	if (n < 4)
		return;
	uint8_t sha[6] = {0x02, 0, 0, 0, 0, b[1]};
	uint32_t spa = 0x0a000200u | b[1], tpa[4] = {OUR_IP, spa, 0x0a000263u, 0};
	memcpy(f + ETH_DST, (b[3] & 1) ? BCAST : OUR_MAC, 6);
	memcpy(f + ETH_SRC, sha, 6);
	memcpy(f + ETH_TYPE, "\x08\x06\x00\x01\x08\x00\x06\x04", 8); /* ARP, Ethernet/IPv4 */
	put16(a + ARP_OPER, b[0] % 3 ? b[0] % 3 : b[0]); /* request, reply, or anything */
	memcpy(a + ARP_SHA, sha, 6);
	put32(a + ARP_SPA, b[2] & 4 ? 0 : spa);
	if (b[0] % 3 == 2)
		memcpy(a + ARP_THA, OUR_MAC, 6);
	put32(a + ARP_TPA, tpa[b[2] & 3]);
	inject(f, sizeof f, 0);
}

static void op_send(const uint8_t *b, size_t n)
{
	static const uint32_t dsts[8] = {PEER_IP,     0x0a000203u, 0x0a00024du, 0xc0000201u,
					 0x0a0002ffu, 0xffffffffu, 0xe0000001u, 0x0a000263u};
	struct pkt *p;
	if (n < 3 || !(p = pkt_alloc(PKT_APP)))
		return;
	size_t len = n - 3 < pkt_tailroom(p) ? n - 3 : pkt_tailroom(p);
	memcpy(p->data, b + 3, len);
	p->len = (uint16_t)len;
	uint32_t dst = dsts[b[0] & 7];
	udp_set_broadcast(S.app, b[0] & 8); /* refused to a broadcast without it */
	S.app_group |= (dst >> 28) == 0xe || (is_group(dst) && (b[0] & 8));
	S.ran = 1;
	udp_sendto(S.app, p, dst, get16(b + 1));
}

/* ---- record 14: an ICMP error about a datagram we sent ----
 * [pcb][kind][ctl][dport 2][sport 2 if pcb%4 == 3][dst 4 if ctl b0][qlen if ctl b4]
 * The quote: an IPv4 + UDP header from our address, from the port of
 * pcb%4 (the queue PCB, the connected one, the app's, or sport: a blind
 * guess) to the connected peer, or else to 10.0.2.2:dport (b0: dst:dport).
 * ctl spoils it: b1 another source, b2 TCP, b3 a later fragment, b4 cut
 * to qlen%32 bytes, b5 the error sent to the subnet broadcast; b6 puts
 * IP options in the quote. (h): the PCB is told exactly when the quote
 * is a datagram it could have sent.
 */
static void op_icmp_err(const uint8_t *b, size_t n)
{
	static const uint8_t kinds[8][2] = {{3, 3}, {3, 1}, {3, 0}, {3, 4}, {11, 0}, {12, 0}, {3, 2}, {3, 13}};
	static uint8_t f[ETH_HLEN + IP_HLEN + ICMP_HLEN + 64];
	if (n < 5)
		return;
	unsigned sel = b[0] % 4, ctl = b[2];
	const uint8_t *kind = kinds[b[1] % 8];
	size_t i = 5;
	struct udp_pcb *pcb = sel == 0 ? S.queue : sel == 1 ? S.conn : sel == 2 ? S.app : NULL;
	uint16_t sport = pcb ? pcb->local_port : 0, dport = get16(b + 3);
	if (sel == 3 && i + 2 <= n)
		sport = get16(b + i), i += 2;
	uint32_t dst = PEER_IP;
	if (pcb && pcb->connected && !(ctl & 1))
		dst = pcb->remote_ip, dport = pcb->remote_port;
	if ((ctl & 1) && i + 4 <= n)
		dst = get32(b + i), i += 4;
	unsigned hl = ctl & 0x40 ? IP_HLEN + 4 : IP_HLEN, qlen = hl + UDP_HLEN;
	if ((ctl & 0x10) && i < n)
		qlen = b[i] % 32 < qlen ? b[i] % 32 : qlen;
	/* the quote: what we would have sent */
	uint8_t *m = f + ETH_HLEN + IP_HLEN, *q = m + ICMP_HLEN;
	memset(q, 0, 64);
	q[IP_VHL] = (uint8_t)(0x40 | hl / 4);
	put16(q + IP_LEN, (uint16_t)(hl + UDP_HLEN + 12));
	put16(q + IP_FRAG, ctl & 8 ? 185 : 0);
	q[IP_TTL] = 1;
	q[IP_PROTO] = ctl & 4 ? 6 : IPPROTO_UDP;
	put32(q + IP_SRC, ctl & 2 ? 0x0a000203u : OUR_IP);
	put32(q + IP_DST, dst);
	memset(q + IP_HLEN, 1, hl - IP_HLEN);
	put16(q + hl + UDP_SPORT, sport);
	put16(q + hl + UDP_DPORT, dport);
	put16(q + hl + UDP_LEN, UDP_HLEN + 12);
	memset(m, 0, ICMP_HLEN);
	m[ICMP_TYPE] = kind[0];
	m[ICMP_CODE] = kind[1];
	put16(m + 6, (uint16_t)(b[1] * 5));
	put16(m + ICMP_CSUM, csum_finish(csum_add(0, m, ICMP_HLEN + qlen)));
	size_t len = frame_ip(f, ctl & 0x20 ? BCAST : OUR_MAC, PEER_IP, ctl & 0x20 ? 0x0a0002ffu : OUR_IP,
			      IPPROTO_ICMP, 0, 0x4242, NULL, 0, ICMP_HLEN + qlen);
	int could = pcb && pcb->used && sport && !(ctl & 0x2e) && qlen == hl + UDP_HLEN &&
		    (!pcb->connected || (dst == pcb->remote_ip && dport == pcb->remote_port));
	uint32_t rx = net_stat_row(NET_STAT_ROW(icmp, rx)), told = net_stats.icmp_err_delivered;
	unsigned heard = S.errs_told;
	inject(f, len, 0);
	if (net_stat_row(NET_STAT_ROW(icmp, rx)) == rx)
		return; /* no buffer for it */
	uint32_t d = net_stats.icmp_err_delivered - told;
	if (pcb && d != (uint32_t)could)
		FAIL("(h) ICMP error %u/%u quoting port %u -> %08x:%u: told %u times, could have sent it: %d",
		     kind[0], kind[1], sport, dst, dport, d, could);
	if (d && pcb && pcb != S.queue && S.errs_told != heard + 1)
		FAIL("(h) ICMP error counted as told, the callback not called");
}

static void move_echo(uint16_t port);

/* ---- record 16: multicast ----
 * [act][a][b][rest]; act%5:
 *   0 join groups[a%4] on mc[0], mc[1] or (b%3 == 2) the echo service
 *   1 leave it (the echo: a restart on its port forgets its group)
 *   2 an IGMP message from PEER: type {query, v2 report, v1 report,
 *     leave, a}[a%5], Max Resp b, rest: [group sel: groups or 0]
 *     [length sel: 8 12 10 16 6][dst sel: all-hosts, the group,
 *     all-routers, us][b0: spoil the checksum]
 *   3 UDP to groups[a%4] (a%5 == 4: all-hosts) on port {5353, the
 *     echo's, 9}[b%3], payload rest, to the group's MAC
 *   4 remove mc[0] (its memberships go) and open it again
 */
static void op_mcast(const uint8_t *b, size_t n)
{
	static uint8_t f[ETH_HLEN + IP_HLEN + 1400];
	if (n < 3)
		return;
	uint8_t act = b[0] % 5, a = b[1], c = b[2];
	uint32_t g = groups[a % 4];
	int who = c % 3, k = a % 4;
	S.ran = 1;
	if (act == 0) {
		if (igmp_slot(g) < 0)
			S.allow[k] += 2; /* its unsolicited reports */
		int err = who == 2 ? echo_join(g) : udp_join(S.mc[who], g);
		if (err && err != NET_ERR_MEM && err != NET_ERR_ARG)
			FAIL("(i) join of %08x: %d", g, err);
		if ((g >> 8) != 0xe00000 && err == NET_ERR_ARG)
			FAIL("(i) join of %08x refused as no group", g);
		return;
	}
	if (act == 1) {
		if (who == 2)
			move_echo(S.echo_port);
		else
			udp_leave(S.mc[who], g);
		return;
	}
	if (act == 4) {
		udp_remove(S.mc[0]);
		S.mc[0] = open_mc(0);
		return;
	}
	uint8_t mac[6] = {0x01, 0x00, 0x5e, 0, 0, 0};
	uint32_t dst;
	size_t l4;
	uint8_t *l = f + ETH_HLEN + IP_HLEN;
	const uint8_t *r = b + 3;
	size_t rn = n - 3;
	if (act == 2) {
		static const uint8_t types[4] = {IGMP_QUERY, IGMP_V2_REPORT, IGMP_V1_REPORT, IGMP_LEAVE};
		static const uint8_t lens[5] = {8, 12, 10, 16, 6};
		uint8_t gs = rn > 0 ? r[0] % 5 : 0, ls = rn > 1 ? r[1] % 5 : 0, ds = rn > 2 ? r[2] % 4 : 0;
		uint32_t group = gs < 4 ? groups[gs] : 0;
		uint32_t dsts[4] = {IGMP_ALL_HOSTS, group ? group : IGMP_ALL_HOSTS, IGMP_ALL_ROUTERS, OUR_IP};
		l4 = lens[ls];
		memset(l, 0, l4);
		l[0] = a % 5 < 4 ? types[a % 5] : a;
		l[1] = c;
		if (l4 >= 8)
			put32(l + IGMP_GROUP, group);
		put16(l + 2, csum_finish(csum_add(0, l, l4)));
		if (rn > 3 && (r[3] & 1))
			l[2] ^= 0x40;
		dst = dsts[ds];
	} else {
		dst = a % 5 == 4 ? IGMP_ALL_HOSTS : g;
		uint16_t ports[3] = {MCAST_PORT, S.echo_port, QUEUE_PORT};
		l4 = UDP_HLEN + (rn < 1400 - UDP_HLEN ? rn : 1400 - UDP_HLEN);
		put16(l + UDP_SPORT, 1000);
		put16(l + UDP_DPORT, ports[c % 3]);
		put16(l + UDP_LEN, (uint16_t)l4);
		put16(l + UDP_CSUM, 0);
		memcpy(l + UDP_HLEN, r, l4 - UDP_HLEN);
		uint16_t cs = csum_finish(csum_add(csum_pseudo(PEER_IP, dst, IPPROTO_UDP, (uint16_t)l4), l, l4));
		put16(l + UDP_CSUM, cs ? cs : 0xffff);
	}
	if (dst != OUR_IP)
		mac[3] = (uint8_t)(dst >> 16 & 0x7f), mac[4] = (uint8_t)(dst >> 8), mac[5] = (uint8_t)dst;
	size_t len = frame_ip(f, dst == OUR_IP ? OUR_MAC : mac, PEER_IP, dst, act == 2 ? IPPROTO_IGMP : IPPROTO_UDP,
			      0, 0x4343, NULL, 0, l4);
	unsigned members = 0, rx0 = S.mc_rx;
	int slot = igmp_slot(dst);
	for (int i = 0; i < 2 && slot >= 0; i++)
		members += (S.mc[i]->mcast >> slot & 1) != 0;
	inject(f, len, 0);
	if (S.mc_rx - rx0 > members)
		FAIL("(i) a datagram to %08x reached %u PCBs, %u joined", dst, S.mc_rx - rx0, members);
}

/* ---- record 12: the DHCP parser (net/dhcp.c), self-contained ----
 * The message goes to dhcp_parse alone (the client's state machine has
 * its unit tests): it must answer 0 or an error, and what it returns on
 * 0 must be within bounds. */
static void op_dhcp(const uint8_t *b, size_t n)
{
	static uint8_t m[CFG_PKT_BUFSZ];
	struct dhcp_msg d;
	if (n < 1)
		return;
	size_t len = n - 1 < sizeof m ? n - 1 : sizeof m;
	memcpy(m, b + 1, len);
	if (!(b[0] & 1) && len >= 240) {
		m[0] = 2, m[1] = 1, m[2] = 6;
		memcpy(m + 236, "\x63\x82\x53\x63", 4);
	}
	/* a copy of exactly len bytes: ASan sees any read past the message */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, m, len);
	int r = dhcp_parse(copy, len, &d);
	free(copy);
	if (r != 0 && r != DHCP_E_SHORT && r != DHCP_E_MALFORMED)
		FAIL("dhcp_parse returned %d", r);
	if (r == DHCP_E_SHORT && len >= 240)
		FAIL("dhcp_parse: %zu bytes called short", len);
	if (r == 0 && (len < 241 || !(d.has & DHCP_HAS_TYPE) || d.l.ndns > CFG_DHCP_DNS_MAX ||
		       d.l.nntp > CFG_DHCP_NTP_MAX || d.overload > 3 ||
		       ((d.has & DHCP_HAS_MTU) && d.l.mtu < 68) || d.yiaddr != get32(m + 16)))
		FAIL("dhcp_parse accepted a message it should not have, or returned nonsense");
}

/* stats.h's identity, sum(IN) == sum(OK) + sum(DROP) per layer, as
 * net_stats_check() states it, but as a table made once: each layer's
 * counted words with their factors (net_stat_terms: derived rows are
 * their words), for a loop over an array instead of a walk of the
 * descriptions per record (its strcmp made it the costliest check). */
#define NSTATS (sizeof(struct net_stats) / sizeof(uint32_t))
#define NTERMS 512
static struct term {
	const char *layer;
	uint16_t index; /* into net_stats as uint32_t[] */
	int8_t factor;  /* 0: the end of a layer (its sum must be 0) */
} terms[NTERMS];
static unsigned nterms;
static int factors[NSTATS]; /* the layer being indexed */

static void add_factor(void *ctx, unsigned offset, int sign)
{
	(void)ctx;
	if (offset % sizeof(uint32_t) || offset / sizeof(uint32_t) >= NSTATS)
		FAIL("a counter at %u, outside struct net_stats", offset);
	factors[offset / sizeof(uint32_t)] += sign;
}

static void layer_terms(const char *layer)
{
	for (unsigned w = 0; w < NSTATS; w++)
		if (factors[w]) {
			if (nterms + 2 > NTERMS || factors[w] < -100 || factors[w] > 100)
				FAIL("layer %s: the identity's table is too small", layer);
			terms[nterms++] = (struct term){layer, (uint16_t)w, (int8_t)factors[w]};
			factors[w] = 0;
		}
	if (nterms == NTERMS)
		FAIL("layer %s: the identity's table is too small", layer);
	terms[nterms++] = (struct term){layer, 0, 0};
}

static void stats_index(void)
{
	if (net_stat_count != NET_STAT_ROWS)
		FAIL("%u counters described, %u rows", net_stat_count, (unsigned)NET_STAT_ROWS);
	for (unsigned i = 0; i < net_stat_count; i++) {
		const struct stat_desc *sd = &net_stat_desc[i];
		if (sd->role != STAT_INFO)
			net_stat_terms(i, sd->role == STAT_IN ? 1 : -1, add_factor, NULL);
		if (i + 1 == net_stat_count || strcmp(sd->layer, net_stat_desc[i + 1].layer))
			layer_terms(sd->layer);
	}
}

/* The first layer that does not add up, or NULL. struct net_stats is
 * uint32_t counters only: read as an array, in bounds, so without ASan's
 * checks (and no memcpy, which ASan intercepts). */
UNTRACED __attribute__((no_sanitize("address"))) static const char *stats_unbalanced(void)
{
	const uint32_t *v = (const uint32_t *)(const void *)&net_stats;
	uint32_t sum = 0;
	for (const struct term *t = terms; t < terms + nterms; t++) {
		if (!t->factor) {
			if (sum)
				return t->layer;
			continue;
		}
		sum += (uint32_t)t->factor * v[t->index];
	}
	return NULL;
}

/* The service restarted on another port, as a boot with port= would
 * have it; its counters start again, what it sent before stays counted. */
static void move_echo(uint16_t port)
{
	S.echo_prev += echo_stats.replied;
	S.echo_prev_rx += echo_stats.rx;
	if (echo_start(port))
		FAIL("cannot move the echo service to port %u", port);
	S.echo_port = port;
}

/* memcmp without ASan's interceptor, which also hands libFuzzer the bytes */
UNTRACED static int same_mac(const uint8_t *a, const uint8_t *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) | (a[5] ^ b[5])) == 0;
}

/* Between records the stack is idle: the counters add up, no bad free. */
UNTRACED static void check_idle(const char *when)
{
	const char *layer = stats_unbalanced();
	if (layer)
		FAIL("(b) counters of layer %s do not add up", layer);
	if (!echo_stats_ok())
		FAIL("(b) the echo service's counters do not add up");
	/* idle: every reply sent was one the service counted as attempted */
	if (S.echo_out > S.echo_prev + echo_stats.replied)
		FAIL("(f) echo sent %llu datagrams, attempted %llu", (unsigned long long)S.echo_out,
		     (unsigned long long)(S.echo_prev + echo_stats.replied));
	if (pkt_stats.bad_free || pkt_free_count() + S.nheld > CFG_PKT_COUNT)
		FAIL("%u double/foreign frees, %u free buffers", pkt_stats.bad_free, pkt_free_count());
	if (ip_reass_held() > CFG_REASS_TOTAL_BUFS)
		FAIL("reassembly holds %u buffers, over CFG_REASS_TOTAL_BUFS", ip_reass_held());
	if (when && pkt_free_count() != CFG_PKT_COUNT)
		FAIL("(a) %u of %u buffers leaked %s", CFG_PKT_COUNT - pkt_free_count(), CFG_PKT_COUNT, when);
	/* the ARP cache: one entry per address, none for a group/zero/our own
	 * address or with such a MAC; none pending once every timer ran out */
	read_arp();
	for (unsigned i = 0; (when || S.unchecked) && i < CFG_ARP_ENTRIES; i++) {
		uint32_t ip = S.arp[i].ip;
		const uint8_t *mac = S.arp[i].mac;
		int st = S.arp[i].state, bad = st && (!ip || ip == netif.ip || is_group(ip) || (when && st == 1));
		for (unsigned j = 0; j < i && st; j++)
			bad |= S.arp[j].state && S.arp[j].ip == ip;
		if (st == 2)
			bad |= mac_is_mcast(mac) || same_mac(mac, netif.mac) || same_mac(mac, ZERO);
		if (bad)
			FAIL("ARP entry %u: %08x state %d MAC %02x:..:%02x %s", i, ip, st, mac[0], mac[5],
			     when ? when : "");
	}
	S.unchecked = 0;
}

/* Every reassembly slot must take a new datagram. Second pieces: they
 * time out without an ICMP error (and its ARP traffic), and with ids of
 * their own a stuck slot cannot pass for a free one by taking a piece. */
static void probe_slots(uint16_t id, const char *when)
{
	uint32_t held0 = net_stats.ip_frag_held, ev0 = net_stats.ip_reass_evict;
	if (ip_reass_held())
		FAIL("(a) reassembly still holds %u buffers %s", ip_reass_held(), when);
	for (unsigned i = 0; i < CFG_REASS_SLOTS; i++) {
		uint8_t f[ETH_HLEN + IP_HLEN + 8] = {0};
		inject(f, frame_ip(f, OUR_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, IP_MF | 1, (uint16_t)(id + i), NULL, 0, 8), 0);
	}
	/* a busy slot would be evicted for one of them */
	if (net_stats.ip_frag_held - held0 != CFG_REASS_SLOTS || net_stats.ip_reass_evict != ev0)
		FAIL("(a) a reassembly slot is still busy %s", when);
}

/* Run every timer out; then nothing may be held anywhere. */
static void finish(void)
{
	while (S.nheld)
		pkt_free(S.held[--S.nheld]);
	S.fail_tx = 0;
	drain(S.queue);
	drain(S.conn);
	advance(DRAIN_MS);
	check_idle("after every timeout");
	probe_slots(0xfe00, "after every timeout");
	advance(DRAIN_MS);
	check_idle("by a reassembly timeout");
	probe_slots(0xfd00, "after a reassembly timeout"); /* reset() frees them */
}

/* The state a timer can change, for FUZZ_VERBOSE: the counters and the
 * ARP table (its entries expire silently). */
static void trace_state(const char *when, size_t at)
{
	uint32_t ip, age;
	uint8_t mac[6];
	int st;
	if (!verbose)
		return;
	fprintf(stderr, "  t+%llu %s %zu:", (unsigned long long)S.elapsed, when, at);
	for (unsigned i = 0; i < net_stat_count; i++) {
		const struct stat_desc *sd = &net_stat_desc[i];
		uint32_t v = net_stat_get(sd->layer, sd->name);
		if (v)
			fprintf(stderr, " %s.%s=%u", sd->layer, sd->name, v);
	}
	for (unsigned i = 0; arp_entry_get(i, &ip, mac, &st, &age) == 0; i++)
		if (st)
			fprintf(stderr, " arp[%u]=%08x/%d/%u", i, ip, st, age);
	fputc('\n', stderr);
}

/* The stack allocates nothing: the heap is libFuzzer's, a copy of each
 * input. Filling each copy and keeping 256 MB of freed ones in
 * quarantine only cost time (page faults, a tenth of the run). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "max_malloc_fill_size=0:quarantine_size_mb=0";
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int once;
	if (!once) {
		once = 1;
		verbose = getenv("FUZZ_VERBOSE") != NULL;
		dense = getenv("FUZZ_DENSE") != NULL;
		stats_index();
	}
	reset();
	for (size_t i = 0; i + 3 <= n && S.work < WORK_BUDGET;) {
		uint8_t op = d[i] % 28 == 14 ? 14 : d[i] % 28 == 27 ? 15 : d[i] % 28 == 15 ? 16 : d[i] % 14;
		unsigned len = d[i + 1] | d[i + 2] << 8, k = len & 0x7fff;
		int first = i == 0;
		const uint8_t *b = d + i + 3;
		size_t bl = 0;
		i += 3;
		if (op == 0 || op == 4 || op == 5 || op == 6 || op == 10 || op == 12 || op >= 14) {
			bl = len < n - i ? len : n - i;
			i += bl;
		}
		switch (op) {
		case 0: inject(b, bl, 0); break;
		case 1: advance((uint64_t)len * 10); break;
		case 2: S.fail_tx = len & 0xff; break;
		case 3: /* allocate or release to k held buffers */
			k = len & 0x8000 ? (k < CFG_PKT_COUNT ? CFG_PKT_COUNT - k : 0) : (k < CFG_PKT_COUNT ? k : CFG_PKT_COUNT);
			S.work += (S.nheld > k ? S.nheld - k : k - S.nheld) / 16;
			while (S.nheld > k)
				pkt_free(S.held[--S.nheld]);
			while (S.nheld < k && (S.held[S.nheld] = pkt_alloc(PKT_APP)))
				S.nheld++;
			break;
		case 4: op_send(b, bl); break;
		case 5: op_ip(b, bl, 0); break;
		case 6: op_ip(b, bl, 1); break;
		case 7: drain(S.queue); drain(S.conn); break;
		case 8: udp_remove(S.queue); S.queue = open_pcb(0, QUEUE_PORT); break;
		case 9:
			S.elapsed += (uint64_t)len << 16;
			S.clock += (uint32_t)len << 16;
			tick();
			break;
		case 10: op_arp(b, bl); break;
		case 11: netif.mtu = first ? (uint16_t)(68 + len % 1433) : netif.mtu; break;
		case 12: op_dhcp(b, bl); break;
		case 13: move_echo(echo_ports[len % 4]); break;
		case 14: op_icmp_err(b, bl); break;
		case 15: op_bigfrag(b, bl); break;
		case 16: op_mcast(b, bl); break;
		}
		check_idle(NULL);
		trace_state("record done, byte", i);
	}
	finish();
	trace_state("timers run out, byte", n);
	return 0;
}
