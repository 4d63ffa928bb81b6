/*
 * UDP (RFC 768) over a static PCB table, lwIP-style. Received datagrams
 * are handed to the application in their receive buffer, marked
 * PKT_F_PSUM: while the payload stays as it was, its sum follows from the
 * checksum in the header still in front of it, so sending the same
 * payload back costs no pass over it.
 */
#include "net.h"
#include "udp.h"

static struct udp_pcb pcbs[CFG_UDP_PCBS];
static int npcbs; /* slots in use are all below this: demux looks no further */
static uint16_t next_port;

void udp_init(void)
{
	for (int i = 0; i < CFG_UDP_PCBS; i++)
		pcbs[i] = (struct udp_pcb){0};
	npcbs = 0;
	next_port = CFG_UDP_EPHEMERAL_LO;
}

/*
 * The most specific listener: connected (remote matches) beats bound to
 * our exact address beats bound to any address. One pass; a connected
 * match ends it. Free and unbound PCBs have port 0, which never matches.
 * The source and destination are read from the header only for a PCB
 * that asks about them.
 */
static struct udp_pcb *udp_demux(const struct pkt *p, uint16_t dport)
{
	const uint8_t *ih = pkt_iph(p);
	struct udp_pcb *best = NULL;
	for (struct udp_pcb *pcb = pcbs; pcb < pcbs + npcbs; pcb++) {
		if (pcb->local_port != dport || (pcb->local_ip && pcb->local_ip != get32(ih + IP_DST)))
			continue;
		if (pcb->connected) {
			if (pcb->remote_ip == get32(ih + IP_SRC) &&
			    pcb->remote_port == get16(p->data + UDP_SPORT))
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
	if (pcb->q.len >= CFG_UDP_QUEUE) {
		STAT(udp, drop_queue_full);
		pkt_free(p);
		return;
	}
	STAT(udp, delivered);
	pkt_own(p, PKT_QUEUED);
	pktq_push(&pcb->q, p);
}

/* A datagram with a valid (or no) checksum: find its PCB and hand it over.
 * A partial checksum (NEEDS_CSUM) says nothing of the payload's sum, so
 * only a full one makes it PKT_F_PSUM. */
static void udp_deliver(struct pkt *p)
{
	const uint8_t *u = p->data;
	uint16_t dport = get16(u + UDP_DPORT);
	uint8_t f = p->flags & (uint8_t)~PKT_F_PSUM;
	if (ld16(u + UDP_CSUM) && !(f & PKT_F_CSUM_PART))
		f |= PKT_F_PSUM;
	p->flags = f;
	/* port 0 is nobody's, not even an unbound PCB's */
	struct udp_pcb *pcb = dport ? udp_demux(p, dport) : NULL;
	if (!pcb) {
		udp_no_port(p);
		return;
	}
	pkt_pull(p, UDP_HLEN);
	if (!pcb->recv) {
		udp_enqueue(pcb, p);
		return;
	}
	STAT(udp, delivered);
	pkt_own(p, PKT_APP);
	pcb->recv(pcb, p, get32(pkt_iph(p) + IP_SRC), get16(u + UDP_SPORT), pcb->arg);
}

/* The one pass over the payload, when the NIC has not done it. The
 * pseudo-header joins the sum in memory order, as the words lie in the
 * IP header, when that header is aligned (it is, for the driver's
 * frames); the general form otherwise. */
static int udp_csum_ok(const struct pkt *p)
{
	const uint8_t *ih = pkt_iph(p);
	uint16_t len = p->len;
	if (((uintptr_t)ih & 3) == 0 && ((uintptr_t)p->data & 1) == 0) {
		uint64_t acc = (uint64_t)ld32(ih + IP_SRC) + ld32(ih + IP_DST) + (IPPROTO_UDP << 8) +
			       (uint16_t)(len >> 8 | len << 8);
		return csum_mem(acc, p->data, len) == 0xffff;
	}
	uint32_t pseudo = csum_pseudo(get32(ih + IP_SRC), get32(ih + IP_DST), IPPROTO_UDP, len);
	return csum_fold(csum_add(pseudo, p->data, len)) == 0xffff;
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

void udp_input(struct pkt *p)
{
	const uint8_t *u = p->data;
	STAT(udp, rx);
	unsigned ulen = p->len >= UDP_HLEN ? get16(u + UDP_LEN) : 0;
	if (ulen < UDP_HLEN || ulen > p->len) {
		udp_drop_short(p);
		return;
	}
	p->len = (uint16_t)ulen; /* bytes after it are not part of the datagram */
	/* checksum 0: the sender computed none */
	if (ld16(u + UDP_CSUM) && !(p->flags & PKT_F_CSUM_OK) && !udp_csum_ok(p)) {
		udp_drop_csum(p);
		return;
	}
	udp_deliver(p);
}

struct pkt *udp_poll(struct udp_pcb *pcb, uint32_t *src_ip, uint16_t *src_port)
{
	struct pkt *p = pktq_pop(&pcb->q);
	if (!p)
		return NULL;
	pkt_own(p, PKT_APP);
	/* the headers are still in the buffer, in front of the payload */
	if (src_ip)
		*src_ip = get32(pkt_iph(p) + IP_SRC);
	if (src_port)
		*src_port = get16(p->data - UDP_HLEN + UDP_SPORT);
	return p;
}

static OUT_OF_LINE int udp_tx_fail(struct pkt *p, int err)
{
	STAT(udp, tx_err);
	pkt_free(p);
	return err;
}

/* The first send from an unbound PCB binds it to an ephemeral port. */
static OUT_OF_LINE int udp_sendto_unbound(struct udp_pcb *pcb, struct pkt *p,
							 uint32_t dst_ip, uint16_t dst_port)
{
	int err = udp_bind(pcb, pcb->local_ip, 0);
	if (err)
		return udp_tx_fail(p, err);
	return udp_sendto(pcb, p, dst_ip, dst_port);
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
	if ((p->flags & PKT_F_PSUM) && p->l3 && u == ih + (ih[IP_VHL] & 0xf) * 4u &&
	    get16(u + UDP_LEN) == p->len + UDP_HLEN) {
		uint16_t ulen = get16(u + UDP_LEN);
		return (uint16_t)~csum_fold(csum_pseudo(get32(ih + IP_SRC), get32(ih + IP_DST),
							IPPROTO_UDP, ulen) +
					    get16(u + UDP_SPORT) + get16(u + UDP_DPORT) + ulen +
					    get16(u + UDP_CSUM));
	}
	return csum_fold(csum_add(0, p->data, p->len));
}

int udp_sendto(struct udp_pcb *pcb, struct pkt *p, uint32_t dst_ip, uint16_t dst_port)
{
	pkt_own(p, PKT_STACK);
	if (!dst_ip || !dst_port)
		return udp_tx_fail(p, NET_ERR_ARG);
	if (!pcb->local_port)
		return udp_sendto_unbound(pcb, p, dst_ip, dst_port);
	uint16_t psum = udp_payload_sum(p);
	uint8_t *u = pkt_push(p, UDP_HLEN);
	if (!u)
		return udp_tx_fail(p, NET_ERR_ARG);
	/* A PCB bound to any address (or, wrongly, to a broadcast one)
	 * speaks from the interface address. */
	uint32_t src = pcb->local_ip;
	if (!src || ip_is_bcast(src) || ip_is_mcast(src))
		src = netif.ip;
	uint16_t ulen = p->len, sport = pcb->local_port;
	put16(u + UDP_SPORT, sport);
	put16(u + UDP_DPORT, dst_port);
	put16(u + UDP_LEN, ulen);
	/* O(1): the payload's sum is known, the header is a few words */
	uint16_t c = csum_finish(csum_pseudo(src, dst_ip, IPPROTO_UDP, ulen) + psum + sport +
				 dst_port + ulen);
	put16(u + UDP_CSUM, c ? c : 0xffff); /* 0 would mean "no checksum" */
	p->flags &= (uint8_t)~(PKT_F_PSUM | PKT_F_CSUM_OK | PKT_F_BCAST | PKT_F_CSUM_PART);
	STAT(udp, tx);
	return ip_output(p, src, dst_ip, IPPROTO_UDP);
}

/* Not a datagram that can be answered in place: through udp_sendto. */
static OUT_OF_LINE int udp_reply_other(struct udp_pcb *pcb, struct pkt *p)
{
	const uint8_t *u = p->data - UDP_HLEN, *ih = pkt_iph(p);
	if (!p->l3 || u < ih + IP_HLEN)
		return udp_tx_fail(p, NET_ERR_ARG); /* not a received datagram */
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
	    ld16(u + UDP_LEN) != (uint16_t)(ulen >> 8 | ulen << 8) || !ld16(u + UDP_SPORT))
		return udp_reply_other(pcb, p);
	u16a *w = (u16a *)u; /* even, but not always word-aligned */
	uint16_t sport = w[0];
	w[0] = w[1], w[1] = sport;
	p->data = u;
	p->len = (uint16_t)ulen;
	STAT(udp, tx);
	return ip_reply_in_place(p, IPPROTO_UDP);
}

/* Unconnected, the remote is 0: udp_sendto refuses it. */
int udp_send(struct udp_pcb *pcb, struct pkt *p)
{
	return udp_sendto(pcb, p, pcb->remote_ip, pcb->remote_port);
}

static int port_in_use(const struct udp_pcb *self, uint32_t ip, uint16_t port)
{
	for (int i = 0; i < CFG_UDP_PCBS; i++) {
		const struct udp_pcb *q = &pcbs[i];
		if (q != self && q->used && q->local_port == port &&
		    (!q->local_ip || !ip || q->local_ip == ip))
			return 1;
	}
	return 0;
}

int udp_bind(struct udp_pcb *pcb, uint32_t ip, uint16_t port)
{
	if (!port) {
		/* Walk the range from where the last search stopped: with
		 * CFG_UDP_PCBS ports taken at most, a few steps find one. */
		for (int i = 0; i <= CFG_UDP_PCBS; i++) {
			uint16_t cand = next_port;
			next_port = next_port == CFG_UDP_EPHEMERAL_HI ? CFG_UDP_EPHEMERAL_LO
								      : (uint16_t)(next_port + 1);
			if (!port_in_use(pcb, 0, cand)) {
				port = cand;
				break;
			}
		}
		if (!port)
			return NET_ERR_USE;
	} else if (port_in_use(pcb, ip, port)) {
		return NET_ERR_USE;
	}
	pcb->local_ip = ip;
	pcb->local_port = port;
	return NET_OK;
}

int udp_connect(struct udp_pcb *pcb, uint32_t ip, uint16_t port)
{
	if (!ip || !port)
		return NET_ERR_ARG;
	if (!pcb->local_port) {
		int err = udp_bind(pcb, pcb->local_ip, 0);
		if (err)
			return err;
	}
	pcb->remote_ip = ip;
	pcb->remote_port = port;
	pcb->connected = 1;
	return NET_OK;
}

void udp_disconnect(struct udp_pcb *pcb)
{
	pcb->connected = 0;
	pcb->remote_ip = 0;
	pcb->remote_port = 0;
}

void udp_recv(struct udp_pcb *pcb, udp_recv_fn fn, void *arg)
{
	pcb->recv = fn;
	pcb->arg = arg;
}

struct udp_pcb *udp_new(void)
{
	for (int i = 0; i < CFG_UDP_PCBS; i++) {
		if (!pcbs[i].used) {
			pcbs[i] = (struct udp_pcb){.used = 1};
			if (i >= npcbs)
				npcbs = i + 1;
			return &pcbs[i];
		}
	}
	return NULL;
}

void udp_remove(struct udp_pcb *pcb)
{
	pktq_purge(&pcb->q);
	*pcb = (struct udp_pcb){0};
	while (npcbs > 0 && !pcbs[npcbs - 1].used)
		npcbs--;
}
