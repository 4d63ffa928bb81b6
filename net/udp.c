/*
 * UDP (RFC 768) over a static PCB table, lwIP-style. Received datagrams
 * are handed to the application in their receive buffer, marked
 * PKT_F_PSUM: while the payload stays as it was, its sum follows from the
 * checksum in the header still in front of it, so sending the same
 * payload back costs no pass over it.
 */
#include "net.h"
#include "udp.h"
#include "igmp.h"

_Static_assert(CFG_UDP_QUEUE <= 255, "a PCB's queue depth is a byte");
_Static_assert(CFG_UDP_EPHEMERAL_LO >= 1 && CFG_UDP_EPHEMERAL_LO <= CFG_UDP_EPHEMERAL_HI &&
		       CFG_UDP_EPHEMERAL_HI <= 65535, "CFG_UDP_EPHEMERAL_LO..HI: a range of ports");

static NET_GP struct udp_pcb pcbs[CFG_UDP_PCBS];
/* One past the last slot in use: the demux looks no further. A pointer,
 * not a count: the per-datagram loop then needs no multiply. */
static NET_GP struct udp_pcb *top;
/* RFC 6056 3.3.3 (algorithm 3): the secret key of the port hash and
 * next_ephemeral, both drawn at every net_init from net_random(), which
 * the firmware seeds before (virtio-rng, timer jitter, the MAC): another
 * boot, another key, another sequence. */
static uint64_t eph_key;
static uint32_t eph_next;

void udp_init(void)
{
	for (int i = 0; i < CFG_UDP_PCBS; i++)
		pcbs[i] = (struct udp_pcb){0};
	top = pcbs;
	eph_key = (uint64_t)net_random() << 32 | net_random();
	eph_next = net_random();
}

/* Every call checks its PCB first: a pointer kept after udp_remove must
 * not bind (and so receive) or send again. */
static int live(const struct udp_pcb *pcb)
{
	return pcb && pcb->used;
}

static OUT_OF_LINE int udp_closed(void)
{
	STAT(udp, bad_pcb);
	return NET_ERR_CLOSED;
}

/*
 * The most specific listener: connected (remote matches) beats bound to
 * our exact address beats bound to any address. One pass; a connected
 * match ends it. Free and unbound PCBs have port 0, which never matches.
 * The source and destination are read from the header only for a PCB
 * that asks about them. Several PCBs may share a port (UDP_F_REUSE):
 * the first of the most specific kind gets the datagram. Broadcasts and
 * groups' datagrams go to every PCB that takes them (udp_deliver_fan).
 */
static inline __attribute__((always_inline)) struct udp_pcb *
udp_demux(const uint8_t *ih, const uint8_t *u, uint16_t dport_n)
{
	struct udp_pcb *best = NULL;
	for (struct udp_pcb *pcb = pcbs; pcb < top; pcb++) {
		if (pcb->port_n != dport_n || (pcb->local_ip && pcb->local_ip != get32(ih + IP_DST)))
			continue;
		if (pcb->connected) {
			if (pcb->remote_ip == get32(ih + IP_SRC) &&
			    pcb->remote_port == get16(u + UDP_SPORT))
				return pcb;
		} else if (!best || (pcb->local_ip && !best->local_ip)) {
			best = pcb;
		}
	}
	return best;
}

/* No listener: port unreachable (icmp_error stays quiet for broadcasts). */
static OUT_OF_LINE void udp_no_port(struct pkt *p)
{
	STAT(udp, drop_no_port);
	icmp_error(p, ICMP_UNREACH, ICMP_UNREACH_PORT);
	pkt_free(p);
}

/* A PCB without a callback keeps a few datagrams for udp_poll. */
static OUT_OF_LINE void udp_enqueue(struct udp_pcb *pcb, struct pkt *p)
{
	if (pcb->q.len >= pcb->qmax) {
		STAT(udp, drop_queue_full);
		pkt_free(p);
		return;
	}
	STAT(udp, delivered);
	pkt_own(p, PKT_QUEUED);
	pktq_push(&pcb->q, p);
}

/* To a PCB, which owns p from here (callback or queue). */
static void udp_hand_over(struct udp_pcb *pcb, struct pkt *p)
{
	if (!pcb->recv) {
		udp_enqueue(pcb, p);
		return;
	}
	STAT(udp, delivered);
	pkt_own(p, PKT_APP);
	pcb->recv(pcb, p, pcb->arg);
}

/* A broadcast or a group's datagram, as fan_next matches PCBs to it. */
struct fan {
	uint32_t src, dst;
	uint16_t sport, dport;
	int slot; /* the group's igmp_slot; -1: a broadcast */
};

/* The next PCB after index i that takes the datagram: bound to its port,
 * connected (if at all) to its source; for a group's, joined to it and
 * bound to any address or the group's; for a broadcast, bound to any
 * address or our own (lwIP's rule: a service bound to its address still
 * hears its subnet's broadcasts). -1: none. */
static int fan_next(int i, const struct fan *d)
{
	for (i++; pcbs + i < top; i++) {
		const struct udp_pcb *pcb = &pcbs[i];
		if (!pcb->used || pcb->local_port != d->dport ||
		    (pcb->connected && (pcb->remote_ip != d->src || pcb->remote_port != d->sport)))
			continue;
		if (d->slot < 0 ? !pcb->local_ip || pcb->local_ip == netif.ip
				: (pcb->mcast >> d->slot & 1) && (!pcb->local_ip || pcb->local_ip == d->dst))
			return i;
	}
	return -1;
}

/* A copy of a received datagram at the same offsets, from its Ethernet
 * header on, so that udp_reply and udp_poll find the headers in front of
 * the payload as in the original. NULL: no buffer, or a reassembled
 * datagram (a chain). */
static struct pkt *fan_copy(const struct pkt *p)
{
	size_t lo = p->l3 >= ETH_HLEN ? p->l3 - ETH_HLEN : p->l3;
	size_t hi = (size_t)(p->data - p->head) + p->len;
	/* A chain (a datagram that came in fragments) is not copied: that
	 * would take as many buffers again as it holds. */
	struct pkt *q = hi <= CFG_PKT_BUFSZ && !p->frag_next ? pkt_alloc(PKT_STACK) : NULL;
	if (!q)
		return NULL;
	memcpy(q->head + lo, p->head + lo, hi - lo);
	q->data = q->head + (p->data - p->head);
	q->len = p->len;
	q->l3 = p->l3;
	q->flags = p->flags;
	q->csum_start = p->csum_start;
	q->csum_off = p->csum_off;
	return q;
}

/*
 * A broadcast, or a datagram to a group, goes to every PCB that takes it
 * (fan_next). The receive callback owns the buffer it is given (may edit
 * it, send it, keep it), so one buffer cannot reach two receivers: every
 * one but the last gets a copy (udp.mcast_copy, which counts it in as a
 * datagram of its own; no buffer for it: udp.mcast_nocopy, and that PCB
 * misses the datagram), the last one the original. One receiver, the
 * usual case, costs no copy. The next receiver is looked for again after
 * each callback: it may have removed PCBs, left the group or joined
 * others. No receiver: dropped as no_port, without the ICMP error (a
 * broadcast or a group's datagram draws none).
 */
static void udp_deliver_fan(struct pkt *p, struct fan *d)
{
	int i = d->dport && (d->slot >= 0 || ip_is_bcast(d->dst)) ? fan_next(-1, d) : -1;
	if (i < 0) {
		udp_no_port(p);
		return;
	}
	pkt_pull(p, UDP_HLEN);
	for (;;) {
		if (fan_next(i, d) < 0) {
			udp_hand_over(&pcbs[i], p);
			return;
		}
		struct pkt *q = fan_copy(p);
		if (q) {
			STAT(udp, mcast_copy);
			udp_hand_over(&pcbs[i], q);
		} else {
			STAT(udp, mcast_nocopy);
		}
		/* a group's slot may have been freed, even reused, meanwhile */
		if (d->slot >= 0)
			d->slot = igmp_slot(d->dst);
		i = d->slot >= 0 || ip_is_bcast(d->dst) ? fan_next(i, d) : -1;
		if (i < 0) { /* the callback removed the last receiver */
			STAT(udp, drop_no_port);
			pkt_free(p);
			return;
		}
	}
}

/* To the PCB udp_demux picks for the port dport_n (as it lies in the
 * header), or port unreachable; p->data and p->len set here, at the
 * payload. Inline: udp_deliver's path runs it without a call,
 * udp_deliver_other through udp_to_port. */
static inline __attribute__((always_inline)) void udp_to_pcb(struct pkt *p, const uint8_t *ih,
							      uint8_t *u, unsigned len,
							      uint16_t dport_n)
{
	/* port 0 is nobody's, not even an unbound PCB's */
	struct udp_pcb *pcb = dport_n ? udp_demux(ih, u, dport_n) : NULL;
	if (!pcb) {
		pkt_at(p, u, len);
		udp_no_port(p);
		return;
	}
	pkt_at(p, u + UDP_HLEN, len - UDP_HLEN);
	if (!pcb->recv) {
		udp_enqueue(pcb, p);
		return;
	}
	STAT(udp, delivered);
	pkt_own(p, PKT_APP);
	pcb->recv(pcb, p, pcb->arg);
}

static OUT_OF_LINE void udp_to_port(struct pkt *p, uint16_t dport_n)
{
	udp_to_pcb(p, pkt_iph(p), p->data, p->len, dport_n);
}

/* A datagram that came in a link broadcast or to a group address: one to
 * a broadcast or group address fans out; one to our own address in a
 * link broadcast frame goes where a unicast one would. */
static OUT_OF_LINE void udp_deliver_other(struct pkt *p, uint16_t dport_n)
{
	const uint8_t *ih = pkt_iph(p), *u = p->data;
	struct fan d = {get32(ih + IP_SRC), get32(ih + IP_DST), get16(u + UDP_SPORT),
			get16(u + UDP_DPORT), -1};
	if (ip_is_mcast(d.dst)) {
		d.slot = igmp_slot(d.dst);
		if (d.slot < 0) {
			udp_no_port(p);
			return;
		}
	}
	if (d.slot < 0 && !ip_is_bcast(d.dst)) {
		udp_to_port(p, dport_n);
		return;
	}
	udp_deliver_fan(p, &d);
}

/* The flags of a datagram whose checksum holds: a full checksum (not
 * zero, not partial: NEEDS_CSUM says nothing of the payload's sum) makes
 * it PKT_F_PSUM. */
static uint8_t udp_psum_flags(const struct pkt *p)
{
	uint8_t f = p->flags & (uint8_t)~PKT_F_PSUM;
	return ld16(p->data + UDP_CSUM) && !(f & PKT_F_CSUM_PART) ? f | PKT_F_PSUM : f;
}

/* A datagram with a valid (or no) checksum, flags f (udp_psum_flags or
 * what they come to), its UDP header at u, len bytes from there in this
 * buffer: find its PCB and hand it over. */
static void udp_deliver(struct pkt *p, const uint8_t *ih, uint8_t *u, unsigned len, uint8_t f)
{
	uint16_t dport_n = ld16u(u + UDP_DPORT);
	p->flags = f;
	if (f & PKT_F_BCAST) {
		pkt_at(p, u, len);
		udp_deliver_other(p, dport_n);
		return;
	}
	udp_to_pcb(p, ih, u, len, dport_n);
}

static OUT_OF_LINE void udp_drop_short(struct pkt *p)
{
	STAT(udp, drop_short);
	pkt_free(p);
}

static OUT_OF_LINE void udp_drop_csum(struct pkt *p)
{
	STAT(udp, drop_csum);
	pkt_free(p);
}

/* udp_input's check in general form: headers at any even or odd address
 * (drivers place them aligned; the API does not ask it). */
static OUT_OF_LINE void udp_verify_other(struct pkt *p)
{
	const uint8_t *ih = pkt_iph(p);
	uint32_t pseudo = csum_pseudo(get32(ih + IP_SRC), get32(ih + IP_DST), IPPROTO_UDP, p->len);
	if (csum_fold(csum_add(pseudo, p->data, p->len)) != 0xffff) {
		udp_drop_csum(p);
		return;
	}
	udp_deliver(p, ih, p->data, p->len, udp_psum_flags(p));
}

/*
 * A reassembled datagram: a chain (pkt.h) whose head holds the UDP header
 * (the first fragment carries 8 bytes or more). The same checks over the
 * pieces; the checksum is one pass over them (a NIC's verdict on a
 * fragment says nothing of the datagram: ipfrag.c cleared it). Delivered
 * as a chain: the application walks frag_next (udp.h).
 */
OUT_OF_LINE void udp_input_chain(struct pkt *p)
{
	const uint8_t *u = p->data, *ih = pkt_iph(p);
	unsigned have = pkt_chain_len(p);
	unsigned ulen = p->len >= UDP_HLEN ? get16(u + UDP_LEN) : 0;
	if (ulen < UDP_HLEN || ulen > have) {
		udp_drop_short(p);
		return;
	}
	pkt_chain_trim(p, ulen); /* bytes after it are not part of the datagram */
	if (ld16(u + UDP_CSUM)) {
		uint32_t pseudo = csum_pseudo(get32(ih + IP_SRC), get32(ih + IP_DST), IPPROTO_UDP,
					      (uint16_t)ulen);
		if (csum_fold(pkt_chain_sum(pseudo, p)) != 0xffff) {
			udp_drop_csum(p);
			return;
		}
	}
	udp_deliver(p, ih, p->data, p->len, udp_psum_flags(p)); /* the head's bytes */
}

void udp_input(struct pkt *p, const uint8_t *ih, uint8_t *u, unsigned len, uint64_t addrs)
{
	unsigned ulen = len >= UDP_HLEN ? get16(u + UDP_LEN) : 0;
	if (ulen < UDP_HLEN || ulen > len) {
		udp_drop_short(p);
		return;
	}
	/* from here ulen: bytes after it are not part of the datagram */
	/* checksum 0: the sender computed none */
	uint8_t f = p->flags & (uint8_t)~PKT_F_PSUM;
	if (!ld16(u + UDP_CSUM)) {
		udp_deliver(p, ih, u, ulen, f);
		return;
	}
	if (f & PKT_F_CSUM_OK) {
		udp_deliver(p, ih, u, ulen, f & PKT_F_CSUM_PART ? f : f | PKT_F_PSUM);
		return;
	}
	/* The one pass over the payload, when the NIC has not made it. The
	 * pseudo-header joins the sum as its words lie in the IP header,
	 * its length as the UDP header's (the two are equal now). An IP
	 * header on a word puts u on one too (net.h). */
	if ((uintptr_t)ih & 3) {
		pkt_at(p, u, ulen);
		udp_verify_other(p);
		return;
	}
	uint64_t acc = addrs + (IPPROTO_UDP << 8) + ld16(u + UDP_LEN);
	if (!csum_acc_ok(csum_acc(acc, __builtin_assume_aligned(u, 4), ulen))) {
		udp_drop_csum(p);
		return;
	}
	/* summed in full here: whatever a flag said, the field is a full checksum */
	udp_deliver(p, ih, u, ulen, (f & (uint8_t)~PKT_F_CSUM_PART) | PKT_F_PSUM);
}

struct pkt *udp_poll(struct udp_pcb *pcb, uint32_t *src_ip, uint16_t *src_port)
{
	if (!live(pcb)) {
		udp_closed();
		return NULL;
	}
	struct pkt *p = pktq_pop(&pcb->q);
	if (!p)
		return NULL;
	pkt_own(p, PKT_APP);
	/* the headers are still in the buffer, in front of the payload */
	if (src_ip)
		*src_ip = udp_src_ip(p);
	if (src_port)
		*src_port = udp_src_port(p);
	return p;
}

static OUT_OF_LINE int udp_tx_fail(struct pkt *p, int err)
{
	STAT(udp, tx_err);
	pkt_free(p);
	return err;
}

static int bind_to(struct udp_pcb *pcb, uint32_t ip, uint16_t port, uint32_t rip, uint16_t rport);

/* The first send from an unbound PCB binds it to an ephemeral port,
 * chosen for the peer it sends to. */
static OUT_OF_LINE int udp_sendto_unbound(struct udp_pcb *pcb, struct pkt *p,
							 uint32_t dst_ip, uint16_t dst_port)
{
	int err = bind_to(pcb, pcb->local_ip, 0, dst_ip, dst_port);
	if (err)
		return udp_tx_fail(p, err);
	return udp_sendto(pcb, p, dst_ip, dst_port);
}

/* What a send may not do, counted by name (checked before any header is
 * written): send from a dead PCB, to an address that names no host or
 * group (0/8, 127/8, class E but the limited broadcast; RFC 1122
 * 3.2.1.3) or to port 0, or to a broadcast without being allowed to
 * (SO_BROADCAST's rule: one mistaken address must not reach a subnet). */
static int udp_send_check(const struct udp_pcb *pcb, uint32_t dst_ip, uint16_t dst_port)
{
	if (!live(pcb))
		return udp_closed();
	if (!dst_port || (!ip_is_host(dst_ip) && !ip_is_mcast(dst_ip) && dst_ip != 0xffffffffu)) {
		STAT(udp, tx_err_dst);
		return NET_ERR_ARG;
	}
	if (ip_is_bcast(dst_ip) && !(pcb->flags & UDP_F_BROADCAST)) {
		STAT(udp, tx_err_bcast);
		return NET_ERR_ACCESS;
	}
	return NET_OK;
}

static uint16_t psum_from_header(const uint8_t *ih, const uint8_t *u)
{
	uint16_t ulen = get16(u + UDP_LEN);
	return (uint16_t)~csum_fold(csum_pseudo(get32(ih + IP_SRC), get32(ih + IP_DST), IPPROTO_UDP,
						ulen) +
				    get16(u + UDP_SPORT) + get16(u + UDP_DPORT) + ulen +
				    get16(u + UDP_CSUM));
}

/* udp_payload_sum of a chain: the same rule over all its pieces. */
static OUT_OF_LINE uint16_t udp_chain_sum(const struct pkt *p)
{
	const uint8_t *u = p->data - UDP_HLEN, *ih = pkt_iph(p);
	if ((p->flags & PKT_F_PSUM) && p->l3 && u == ih + (ih[IP_VHL] & 0xf) * 4u &&
	    get16(u + UDP_LEN) == pkt_chain_len(p) + UDP_HLEN)
		return psum_from_header(ih, u);
	return csum_fold(pkt_chain_sum(0, p));
}

/*
 * The payload's sum. Kept (PKT_F_PSUM, and the received headers still in
 * front of it, telling the same length): a valid checksum makes pseudo +
 * header + payload = -0, so the payload sums to -(pseudo + header), the
 * checksum field among the header words. Otherwise one pass over it.
 */
uint16_t udp_payload_sum(const struct pkt *p)
{
	const uint8_t *u = p->data - UDP_HLEN, *ih = pkt_iph(p);
	if (p->frag_next)
		return udp_chain_sum(p);
	if ((p->flags & PKT_F_PSUM) && p->l3 && u == ih + (ih[IP_VHL] & 0xf) * 4u &&
	    get16(u + UDP_LEN) == (unsigned)p->len + UDP_HLEN)
		return psum_from_header(ih, u);
	return csum_fold(csum_add(0, p->data, p->len));
}

int udp_sendto(struct udp_pcb *pcb, struct pkt *p, uint32_t dst_ip, uint16_t dst_port)
{
	pkt_own(p, PKT_STACK);
	int err = udp_send_check(pcb, dst_ip, dst_port);
	if (err)
		return udp_tx_fail(p, err);
	if (!pcb->local_port)
		return udp_sendto_unbound(pcb, p, dst_ip, dst_port);
	uint16_t psum = udp_payload_sum(p);
	uint8_t *u = pkt_push(p, UDP_HLEN);
	if (!u)
		return udp_tx_fail(p, NET_ERR_ARG);
	/* A chain may hold more than the 65,507 bytes a datagram can */
	if (p->frag_next && pkt_chain_len(p) > 65535 - IP_HLEN)
		return udp_tx_fail(p, NET_ERR_ARG);
	/* A PCB bound to any address (or, wrongly, to a broadcast one)
	 * speaks from the interface address. */
	uint32_t src = pcb->local_ip;
	if (!src || ip_is_bcast(src) || ip_is_mcast(src))
		src = netif.ip;
	uint16_t ulen = (uint16_t)(p->frag_next ? pkt_chain_len(p) : p->len), sport = pcb->local_port;
	put16(u + UDP_SPORT, sport);
	put16(u + UDP_DPORT, dst_port);
	put16(u + UDP_LEN, ulen);
	/* O(1): the payload's sum is known, the header is a few words */
	uint16_t c = csum_finish(csum_pseudo(src, dst_ip, IPPROTO_UDP, ulen) + psum + sport +
				 dst_port + ulen);
	put16(u + UDP_CSUM, c ? c : 0xffff); /* 0 would mean "no checksum" */
	p->flags &= (uint8_t)~(PKT_F_PSUM | PKT_F_CSUM_OK | PKT_F_BCAST | PKT_F_CSUM_PART);
	STAT(udp, tx);
	struct ip_tx tx = {ip_is_mcast(dst_ip) ? pcb->mcast_ttl : pcb->ttl, pcb->tos, 0};
	return ip_output_tx(p, src, dst_ip, IPPROTO_UDP, tx);
}

/*
 * A reassembled datagram sent back unchanged: the ports are swapped in
 * the first fragment's UDP header (the checksum stays valid, as for one
 * frame), and each fragment's buffer goes back as a fragment of the
 * reply (ip_reply_chain; where a piece cannot, ip_output fragments the
 * chain, the UDP header as it now is).
 */
static OUT_OF_LINE int udp_reply_chain(struct pkt *p)
{
	uint8_t *u = p->data - UDP_HLEN;
	u16a *w = (u16a *)u;
	uint16_t sport = w[0];
	w[0] = w[1], w[1] = sport;
	p->data = u;
	p->len = (uint16_t)(p->len + UDP_HLEN);
	p->flags &= (uint8_t)~(PKT_F_PSUM | PKT_F_CSUM_OK);
	STAT(udp, tx);
	return ip_reply_chain(p, IPPROTO_UDP);
}

/* Not a datagram that can be answered in place: through udp_sendto
 * (a chain, unchanged, to udp_reply_chain). */
static OUT_OF_LINE int udp_reply_other(struct udp_pcb *pcb, struct pkt *p)
{
	const uint8_t *u = p->data - UDP_HLEN, *ih = pkt_iph(p);
	if (!live(pcb))
		return udp_tx_fail(p, udp_closed());
	if (!p->l3 || u < ih + IP_HLEN)
		return udp_tx_fail(p, NET_ERR_ARG); /* not a received datagram */
	if (p->frag_next && (p->flags & PKT_F_PSUM) && pcb->inplace && ld16(u + UDP_SPORT) &&
	    u == ih + IP_HLEN && get16(u + UDP_LEN) == pkt_chain_len(p) + UDP_HLEN)
		return udp_reply_chain(p);
	return udp_sendto(pcb, p, get32(ih + IP_SRC), get16(u + UDP_SPORT));
}

/*
 * Back to the sender, from the same buffer: the request's UDP header is
 * still in front of the payload. With the payload unchanged in length and
 * its sum known, the checksum stays valid as it is: the reply swaps the
 * ports and, in the pseudo-header, the addresses, and a sum does not
 * depend on the order of its terms. The same holds for a partial one.
 */
int udp_reply(struct udp_pcb *pcb, struct pkt *p)
{
	pkt_own(p, PKT_STACK);
	uint8_t *u = p->data - UDP_HLEN;
	unsigned ulen = p->len + UDP_HLEN;
	if (!(p->flags & (PKT_F_PSUM | PKT_F_CSUM_PART)) || !ip_can_reply(p, u, ulen) ||
	    get16(u + UDP_LEN) != ulen || !ld16(u + UDP_SPORT) ||
	    !pcb->inplace) /* removed, or its own TTL/TOS: udp_sendto decides */
		return udp_reply_other(pcb, p);
	u16a *w = (u16a *)u; /* even, but not always word-aligned */
	uint16_t sport = w[0];
	w[0] = w[1], w[1] = sport;
	STAT(udp, tx);
	return ip_reply_in_place(p, u - IP_HLEN, ulen, IPPROTO_UDP);
}

/* Unconnected, the remote is 0: udp_sendto refuses it. */
int udp_send(struct udp_pcb *pcb, struct pkt *p)
{
	if (!live(pcb)) {
		pkt_own(p, PKT_STACK);
		return udp_tx_fail(p, udp_closed());
	}
	return udp_sendto(pcb, p, pcb->remote_ip, pcb->remote_port);
}

/* Is port taken for a PCB binding to ip? Overlapping addresses (either
 * the wildcard, or the same) conflict, unless both PCBs asked to share
 * (reuse: the binder's UDP_F_REUSE; never for an ephemeral port). */
static int port_in_use(const struct udp_pcb *self, uint32_t ip, uint16_t port, int reuse)
{
	for (int i = 0; i < CFG_UDP_PCBS; i++) {
		const struct udp_pcb *q = &pcbs[i];
		if (q != self && q->used && q->local_port == port &&
		    (!q->local_ip || !ip || q->local_ip == ip) && !(reuse && (q->flags & UDP_F_REUSE)))
			return 1;
	}
	return 0;
}

/* splitmix64's finaliser: every input bit moves every output bit. A
 * keyed mix, not a cryptographic hash (RFC 6056 suggests MD5): enough
 * that the offset for one peer tells nothing of another's without the
 * key, which is what the algorithm asks of it. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * An ephemeral port, RFC 6056 3.3.3 (algorithm 3, "simple hash-based"):
 * port = lo + (next_ephemeral + F(local, remote, key)) % range, trying
 * the next one while in use. Consecutive ports for the same peer, far
 * apart and unpredictable between peers and across boots. With no peer
 * yet (udp_bind with port 0), F would be the same for every such bind
 * and the ports would count up from one offset: there the offset is a
 * fresh draw (algorithm 1). At most CFG_UDP_PCBS - 1 ports are taken by
 * the others, so that many steps past the first find a free one.
 */
static uint16_t ephemeral(const struct udp_pcb *self, uint32_t lip, uint32_t rip, uint16_t rport)
{
	const uint32_t range = CFG_UDP_EPHEMERAL_HI - CFG_UDP_EPHEMERAL_LO + 1u;
	uint32_t offset = rip ? (uint32_t)(mix64(mix64(eph_key ^ lip) ^ ((uint64_t)rip << 16 | rport)) >> 32)
			      : net_random();
	for (uint32_t i = 0; i < range && i <= CFG_UDP_PCBS; i++) {
		uint16_t port = (uint16_t)(CFG_UDP_EPHEMERAL_LO + (offset + eph_next++) % range);
		if (!port_in_use(self, 0, port, 0))
			return port;
	}
	return 0;
}

/* Bind, the address already judged; port 0 picks an ephemeral port for
 * the peer rip:rport (0: none yet). */
static int bind_to(struct udp_pcb *pcb, uint32_t ip, uint16_t port, uint32_t rip, uint16_t rport)
{
	if (!port) {
		port = ephemeral(pcb, ip ? ip : netif.ip, rip, rport);
		if (!port)
			return NET_ERR_USE;
	} else if (port_in_use(pcb, ip, port, pcb->flags & UDP_F_REUSE)) {
		return NET_ERR_USE;
	}
	pcb->local_ip = ip;
	pcb->local_port = port;
	pcb->port_n = (uint16_t)(port >> 8 | port << 8);
	return NET_OK;
}

/* Only an address datagrams can reach us at: any, ours, or a group (to
 * be joined); another host's would bind a port nothing ever reaches, and
 * a broadcast one is the wildcard's business (udp_demux). */
int udp_bind(struct udp_pcb *pcb, uint32_t ip, uint16_t port)
{
	if (!live(pcb))
		return udp_closed();
	if (ip && ip != netif.ip && !ip_is_mcast(ip))
		return NET_ERR_ARG;
	return bind_to(pcb, ip, port, 0, 0);
}

int udp_connect(struct udp_pcb *pcb, uint32_t ip, uint16_t port)
{
	if (!live(pcb))
		return udp_closed();
	if (!ip || !port)
		return NET_ERR_ARG;
	if (!pcb->local_port) {
		int err = bind_to(pcb, pcb->local_ip, 0, ip, port);
		if (err)
			return err;
	}
	pcb->remote_ip = ip;
	pcb->remote_port = port;
	pcb->connected = 1;
	return NET_OK;
}

int udp_disconnect(struct udp_pcb *pcb)
{
	if (!live(pcb))
		return udp_closed();
	pcb->connected = 0;
	pcb->remote_ip = 0;
	pcb->remote_port = 0;
	return NET_OK;
}

int udp_recv(struct udp_pcb *pcb, udp_recv_fn fn, void *arg)
{
	if (!live(pcb))
		return udp_closed();
	pcb->recv = fn;
	pcb->arg = arg;
	return NET_OK;
}

int udp_err(struct udp_pcb *pcb, udp_err_fn fn, void *arg)
{
	if (!live(pcb))
		return udp_closed();
	pcb->errf = fn;
	pcb->err_arg = arg;
	return NET_OK;
}

int udp_error(struct udp_pcb *pcb)
{
	if (!live(pcb))
		return udp_closed();
	int err = pcb->err;
	pcb->err = 0;
	return err;
}

/* ---- options ---- */

/* udp_reply's in-place path writes the stack's default TTL and TOS. */
static void options_changed(struct udp_pcb *pcb)
{
	pcb->inplace = pcb->ttl == CFG_IP_TTL && pcb->tos == 0;
}

static int set_flag(struct udp_pcb *pcb, uint8_t flag, int on)
{
	if (!live(pcb))
		return udp_closed();
	pcb->flags = (uint8_t)(on ? pcb->flags | flag : pcb->flags & ~flag);
	return NET_OK;
}

int udp_set_broadcast(struct udp_pcb *pcb, int on)
{
	return set_flag(pcb, UDP_F_BROADCAST, on);
}

int udp_set_reuse(struct udp_pcb *pcb, int on)
{
	return set_flag(pcb, UDP_F_REUSE, on);
}

/* TTL 0 is never sent (RFC 1122 3.2.1.7). */
int udp_set_ttl(struct udp_pcb *pcb, unsigned ttl)
{
	if (!live(pcb))
		return udp_closed();
	if (ttl < 1 || ttl > 255)
		return NET_ERR_ARG;
	pcb->ttl = (uint8_t)ttl;
	options_changed(pcb);
	return NET_OK;
}

/* 0 would mean "this host only" (RFC 1112 6.1), and nothing loops a
 * group's datagrams back to us: refused rather than silently sent. */
int udp_set_mcast_ttl(struct udp_pcb *pcb, unsigned ttl)
{
	if (!live(pcb))
		return udp_closed();
	if (ttl < 1 || ttl > 255)
		return NET_ERR_ARG;
	pcb->mcast_ttl = (uint8_t)ttl;
	return NET_OK;
}

int udp_set_tos(struct udp_pcb *pcb, unsigned tos)
{
	if (!live(pcb))
		return udp_closed();
	if (tos > 255)
		return NET_ERR_ARG;
	pcb->tos = (uint8_t)tos;
	options_changed(pcb);
	return NET_OK;
}

int udp_set_queue(struct udp_pcb *pcb, unsigned depth)
{
	if (!live(pcb))
		return udp_closed();
	if (depth > CFG_UDP_QUEUE)
		return NET_ERR_ARG;
	pcb->qmax = (uint8_t)depth;
	return NET_OK;
}

/* ---- groups ---- */

/* One reference per PCB and group: joining twice is no error, and one
 * udp_leave undoes it. */
int udp_join(struct udp_pcb *pcb, uint32_t group)
{
	if (!live(pcb))
		return udp_closed();
	if (!ip_is_mcast(group) || group == IGMP_ALL_HOSTS)
		return NET_ERR_ARG;
	int slot = igmp_slot(group);
	if (slot >= 0 && (pcb->mcast >> slot & 1))
		return NET_OK;
	slot = igmp_join(group);
	if (slot < 0)
		return slot;
	pcb->mcast |= 1u << slot;
	return NET_OK;
}

int udp_leave(struct udp_pcb *pcb, uint32_t group)
{
	if (!live(pcb))
		return udp_closed();
	int slot = igmp_slot(group);
	if (slot < 0 || !(pcb->mcast >> slot & 1))
		return NET_ERR_ARG;
	pcb->mcast &= ~(1u << slot);
	igmp_leave(slot);
	return NET_OK;
}

/* ---- ICMP errors (icmp.c checked the quote's bounds and source) ---- */

/*
 * An ICMP error quoting a UDP datagram we sent to dst:dport from sport.
 * It is the sender's claim, and anyone can send one: it reaches only a
 * PCB that could have sent that datagram: a live PCB on sport (bound to
 * any address, ours, or a group it sends from ours for), connected to
 * exactly dst:dport if connected. A connected PCB that matches is the
 * sender; otherwise the first unconnected one on the port. 0 if told,
 * -1 if no PCB matches.
 */
int udp_icmp_error(uint8_t type, uint8_t code, uint16_t mtu, uint32_t dst, uint16_t sport,
		   uint16_t dport)
{
	struct udp_pcb *hit = NULL;
	for (struct udp_pcb *pcb = pcbs; pcb < top && sport; pcb++) {
		if (!pcb->used || pcb->local_port != sport ||
		    (pcb->local_ip && pcb->local_ip != netif.ip && !ip_is_mcast(pcb->local_ip)))
			continue;
		if (pcb->connected) {
			if (pcb->remote_ip == dst && pcb->remote_port == dport) {
				hit = pcb;
				break;
			}
		} else if (!hit) {
			hit = pcb;
		}
	}
	if (!hit)
		return -1;
	int err = NET_ERR_UNREACH;
	if (type == ICMP_UNREACH && (code == ICMP_UNREACH_PORT || code == ICMP_UNREACH_PROTO))
		err = NET_ERR_REFUSED;
	if (type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG) {
		err = NET_ERR_MSGSIZE;
		hit->pmtu = mtu >= 68 ? mtu : 0; /* RFC 1191: 0 from routers that predate it */
	}
	if (hit->errf)
		hit->errf(hit, type, code, dst, dport, hit->err_arg);
	else
		hit->err = (int8_t)err;
	return 0;
}

/* ---- the table ---- */

struct udp_pcb *udp_new(void)
{
	for (int i = 0; i < CFG_UDP_PCBS; i++) {
		if (!pcbs[i].used) {
			pcbs[i] = (struct udp_pcb){.used = 1, .qmax = CFG_UDP_QUEUE, .ttl = CFG_IP_TTL,
						   .mcast_ttl = 1, .inplace = 1};
			if (top <= &pcbs[i])
				top = &pcbs[i + 1];
			return &pcbs[i];
		}
	}
	return NULL;
}

void udp_remove(struct udp_pcb *pcb)
{
	if (!live(pcb)) {
		udp_closed();
		return;
	}
	pktq_purge(&pcb->q);
	for (int i = 0; i < CFG_MCAST_GROUPS; i++)
		if (pcb->mcast >> i & 1)
			igmp_leave(i); /* the last member's leave sends the Leave */
	*pcb = (struct udp_pcb){0};
	while (top > pcbs && !top[-1].used)
		top--;
}
