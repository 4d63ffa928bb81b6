/*
 * UDP (RFC 768) over a static PCB table, lwIP-style. Received datagrams
 * are handed to the application in their receive buffer; the payload's
 * checksum is kept (PKT_F_PSUM) so that sending the same payload back
 * costs no pass over it.
 */
#include "net.h"
#include "udp.h"

static struct udp_pcb pcbs[CFG_UDP_PCBS];
static uint16_t next_port;

void udp_init(void)
{
	for (int i = 0; i < CFG_UDP_PCBS; i++)
		pcbs[i] = (struct udp_pcb){0};
	next_port = CFG_UDP_EPHEMERAL_LO;
}

/*
 * The most specific listener: connected (remote matches) beats bound to
 * our exact address beats bound to any address. One pass; a connected
 * match ends it.
 */
static struct udp_pcb *udp_demux(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct udp_pcb *best = NULL;
	for (int i = 0; i < CFG_UDP_PCBS; i++) {
		struct udp_pcb *pcb = &pcbs[i];
		if (!pcb->used || pcb->local_port != dport || (pcb->local_ip && pcb->local_ip != dst))
			continue;
		if (pcb->connected) {
			if (pcb->remote_ip == src && pcb->remote_port == sport)
				return pcb;
		} else if (!best || (pcb->local_ip && !best->local_ip)) {
			best = pcb;
		}
	}
	return best;
}

void udp_input(struct pkt *p)
{
	uint8_t *u = p->data;
	const uint8_t *ih = pkt_iph(p);

	STAT(udp, rx);
	if (p->len < UDP_HLEN) {
		STAT(udp, drop_short);
		goto drop;
	}
	uint16_t ulen = get16(u + UDP_LEN);
	if (ulen < UDP_HLEN || ulen > p->len) {
		STAT(udp, drop_short);
		goto drop;
	}
	p->len = ulen; /* bytes after the UDP length are not part of the datagram */

	uint32_t src = get32(ih + IP_SRC), dst = get32(ih + IP_DST);
	uint16_t sport = get16(u + UDP_SPORT), dport = get16(u + UDP_DPORT);
	uint16_t csum = get16(u + UDP_CSUM);
	p->flags &= (uint8_t)~PKT_F_PSUM;
	if (csum) {
		uint32_t pseudo = csum_pseudo(src, dst, IPPROTO_UDP, ulen);
		if (!(p->flags & PKT_F_CSUM_OK) && csum_fold(csum_add(pseudo, u, ulen)) != 0xffff) {
			STAT(udp, drop_csum);
			goto drop;
		}
		/* A valid sum is pseudo + header + payload = -0, so the payload
		 * sums to -(pseudo + header), with the checksum field itself
		 * among the header words. */
		p->psum = (uint16_t)~csum_fold(pseudo + sport + dport + ulen + csum);
		p->flags |= PKT_F_PSUM;
	}

	/* port 0 is nobody's, not even an unbound PCB's */
	struct udp_pcb *pcb = dport ? udp_demux(src, sport, dst, dport) : NULL;
	if (!pcb) {
		STAT(udp, drop_no_port);
		icmp_error(p, ICMP_UNREACH, ICMP_UNREACH_PORT); /* silent for broadcasts */
		goto drop;
	}
	pkt_pull(p, UDP_HLEN);
	if (pcb->recv) {
		STAT(udp, delivered);
		pkt_own(p, PKT_APP);
		pcb->recv(pcb, p, src, sport, pcb->arg);
		return;
	}
	if (pcb->qlen >= CFG_UDP_QUEUE) {
		STAT(udp, drop_queue_full);
		goto drop;
	}
	STAT(udp, delivered);
	pkt_own(p, PKT_QUEUED);
	p->next = NULL;
	if (pcb->qtail)
		pcb->qtail->next = p;
	else
		pcb->qhead = p;
	pcb->qtail = p;
	pcb->qlen++;
	return;
drop:
	pkt_free(p);
}

struct pkt *udp_poll(struct udp_pcb *pcb, uint32_t *src_ip, uint16_t *src_port)
{
	struct pkt *p = pcb->qhead;
	if (!p)
		return NULL;
	pcb->qhead = p->next;
	if (!pcb->qhead)
		pcb->qtail = NULL;
	pcb->qlen--;
	p->next = NULL;
	pkt_own(p, PKT_APP);
	/* the headers are still in the buffer, in front of the payload */
	if (src_ip)
		*src_ip = get32(pkt_iph(p) + IP_SRC);
	if (src_port)
		*src_port = get16(p->data - UDP_HLEN + UDP_SPORT);
	return p;
}

int udp_sendto(struct udp_pcb *pcb, struct pkt *p, uint32_t dst_ip, uint16_t dst_port)
{
	int err = NET_ERR_ARG;

	pkt_own(p, PKT_STACK);
	if (!dst_ip || !dst_port)
		goto fail;
	if (!pcb->local_port && (err = udp_bind(pcb, pcb->local_ip, 0)) != NET_OK)
		goto fail;
	uint8_t *u = pkt_push(p, UDP_HLEN);
	if (!u) {
		err = NET_ERR_ARG;
		goto fail;
	}
	/* A PCB bound to any address (or, wrongly, to a broadcast one)
	 * speaks from the interface address. */
	uint32_t src = pcb->local_ip;
	if (!src || ip_is_bcast(src) || ip_is_mcast(src))
		src = netif.ip;
	uint16_t ulen = p->len;
	put16(u + UDP_SPORT, pcb->local_port);
	put16(u + UDP_DPORT, dst_port);
	put16(u + UDP_LEN, ulen);
	put16(u + UDP_CSUM, 0);
	uint32_t sum = csum_pseudo(src, dst_ip, IPPROTO_UDP, ulen);
	if (p->flags & PKT_F_PSUM)
		sum += p->psum + pcb->local_port + dst_port + ulen;
	else
		sum = csum_add(sum, u, ulen);
	uint16_t c = csum_finish(sum);
	put16(u + UDP_CSUM, c ? c : 0xffff); /* 0 would mean "no checksum" */
	p->flags &= (uint8_t)~(PKT_F_PSUM | PKT_F_CSUM_OK | PKT_F_BCAST);
	STAT(udp, tx);
	return ip_output(p, src, dst_ip, IPPROTO_UDP);
fail:
	STAT(udp, tx_err);
	pkt_free(p);
	return err;
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
			return &pcbs[i];
		}
	}
	return NULL;
}

void udp_remove(struct udp_pcb *pcb)
{
	while (pcb->qhead) {
		struct pkt *p = pcb->qhead;
		pcb->qhead = p->next;
		p->next = NULL;
		pkt_free(p);
	}
	*pcb = (struct udp_pcb){0};
}
