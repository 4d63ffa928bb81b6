/*
 * IPv4 for a host (RFC 791, RFC 1122 3.2): validate, deliver to ICMP or
 * UDP, never forward. Options are accepted and skipped; fragments go to
 * ipfrag.c and come back whole.
 */
#include "net.h"
#include "dhcp.h"

static uint16_t ip_id;

void ip_init(void)
{
	ip_id = 0;
	ip_reass_init();
}

void ip_tick(uint32_t now)
{
	ip_reass_tick(now);
}

/* Not a unicast host, or ourselves: a spoof, and answering it would
 * send to our own address. */
static int ip_bad_src(uint32_t a)
{
	return !ip_is_unicast(a) || a == netif.ip;
}

/* Input is split into OUT_OF_LINE steps reached by tail calls (tune.h). */

/* An unknown transport: protocol unreachable (RFC 1122 3.2.2.1). */
static OUT_OF_LINE void ip_no_proto(struct pkt *p)
{
	STAT(ip, drop_proto);
	icmp_error(p, ICMP_UNREACH, ICMP_UNREACH_PROTO);
	pkt_free(p);
}

/* A whole datagram for us: up to its transport, header skipped. */
static void ip_deliver(struct pkt *p)
{
	const uint8_t *h = p->data;
	uint8_t proto = h[IP_PROTO];
	if (proto != IPPROTO_UDP && proto != IPPROTO_ICMP) {
		ip_no_proto(p);
		return;
	}
	STAT(ip, delivered);
	pkt_pull(p, (h[IP_VHL] & 0xf) * 4u);
	if (proto == IPPROTO_UDP)
		udp_input(p);
	else
		icmp_input(p);
}

static OUT_OF_LINE void ip_fragment(struct pkt *p)
{
	p = ip_reass(p); /* counts what it holds or drops */
	if (!p)
		return;
	p->l3 = (uint16_t)(p->data - p->head);
	ip_deliver(p);
}

/*
 * Without an address, a DHCP server may answer unicast to the address it
 * offers (RFC 2131 4.1: the client does not ask for broadcast replies),
 * so that much gets in: a whole UDP datagram to port 68, sent to our
 * MAC. Nothing else addressed to an IP we do not have does.
 */
static int ip_dhcp_unicast(const struct pkt *p, uint32_t dst)
{
	const uint8_t *h = p->data;
	unsigned hlen = (h[IP_VHL] & 0xf) * 4u;
	return netif.ip == 0 && ip_is_host(dst) && !(p->flags & PKT_F_BCAST) &&
	       h[IP_PROTO] == IPPROTO_UDP && !(get16(h + IP_FRAG) & (IP_MF | IP_OFFMASK)) &&
	       p->len >= hlen + UDP_HLEN && get16(h + hlen + UDP_DPORT) == DHCP_CLIENT_PORT;
}

/* Checksum valid: addresses, then fragments or delivery. */
static OUT_OF_LINE void ip_accept(struct pkt *p)
{
	const uint8_t *h = p->data;
	uint32_t src = get32(h + IP_SRC), dst = get32(h + IP_DST);
	if (ip_bad_src(src)) {
		STAT(ip, drop_src);
		pkt_free(p);
		return;
	}
	if (dst != netif.ip || dst == 0) {
		if (ip_is_bcast(dst)) {
			p->flags |= PKT_F_BCAST;
		} else if (!ip_dhcp_unicast(p, dst)) {
			STAT(ip, drop_not_ours); /* includes multicast: we join no group */
			pkt_free(p);
			return;
		}
	}
	p->l3 = (uint16_t)(p->data - p->head);
	if (get16(h + IP_FRAG) & (IP_MF | IP_OFFMASK))
		ip_fragment(p);
	else
		ip_deliver(p);
}

/* A header with options, or not 4-byte aligned: the general sum. */
static OUT_OF_LINE void ip_check_long(struct pkt *p)
{
	if (csum_fold(csum_add(0, p->data, (p->data[IP_VHL] & 0xf) * 4u)) != 0xffff) {
		STAT(ip, drop_csum);
		pkt_free(p);
		return;
	}
	ip_accept(p);
}

void ip_input(struct pkt *p)
{
	const uint8_t *h = p->data;

	STAT(ip, rx);
	if (p->len < IP_HLEN) {
		STAT(ip, drop_short);
		goto drop;
	}
	if (h[IP_VHL] >> 4 != 4) {
		STAT(ip, drop_version);
		goto drop;
	}
	unsigned hlen = (h[IP_VHL] & 0xf) * 4u;
	unsigned total = get16(h + IP_LEN);
	if (hlen < IP_HLEN || hlen > total) {
		STAT(ip, drop_hlen);
		goto drop;
	}
	if (total > p->len) {
		STAT(ip, drop_short);
		goto drop;
	}
	p->len = (uint16_t)total; /* drop the link layer's padding */
	if (hlen != IP_HLEN || ((uintptr_t)h & 3)) {
		ip_check_long(p);
		return;
	}
	if (!csum_ok20(h)) {
		STAT(ip, drop_csum);
		goto drop;
	}
	ip_accept(p);
	return;
drop:
	pkt_free(p);
}

static OUT_OF_LINE int ip_tx_fail(struct pkt *p, int err)
{
	STAT(ip, tx_err);
	pkt_free(p);
	return err;
}

int ip_output(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto)
{
	uint32_t nexthop = dst;

	if (!src)
		src = netif.ip;
	if (src != netif.ip && (ip_is_bcast(src) || ip_is_mcast(src)))
		return ip_tx_fail(p, NET_ERR_ARG);
	/* 0.0.0.0 only speaks to everyone, while learning its address
	 * (RFC 1122 3.2.1.3): DHCP's broadcasts */
	if (!src && dst != 0xffffffffu)
		return ip_tx_fail(p, NET_ERR_RTE);
	if ((dst ^ netif.ip) & netif.mask && !ip_is_bcast(dst) && !ip_is_mcast(dst)) {
		nexthop = netif.gw;
		if (!nexthop)
			return ip_tx_fail(p, NET_ERR_RTE);
	}
	uint8_t *h = pkt_push(p, IP_HLEN);
	if (!h)
		return ip_tx_fail(p, NET_ERR_ARG);
	uint16_t total = p->len;
	h[IP_VHL] = 0x45;
	h[IP_TOS] = 0;
	put16(h + IP_LEN, total);
	put16(h + IP_ID, ip_id++);
	put16(h + IP_FRAG, 0);
	put16(h + IP_TTL, (uint16_t)(CFG_IP_TTL << 8 | proto));
	put32(h + IP_SRC, src);
	put32(h + IP_DST, dst);
	ip_hdr_csum(h, IP_HLEN);
	p->l3 = (uint16_t)(h - p->head);

	STAT(ip, tx);
	if (total > netif.mtu)
		return ip_frag_output(p, nexthop);
	return arp_output(p, nexthop);
}


/*
 * Answer a datagram from its own buffer: the request's IP header (20
 * bytes, at p->l3) and Ethernet header are still in front of the reply's
 * transport header at p->data. Addresses are swapped in place at both
 * layers, so the reply goes to the link address the request came from
 * (its router, when the peer is off-link) without an ARP lookup, and
 * speaks from the address the request was sent to. Anything unusual
 * (options, a broadcast request, a reassembled datagram, a reply too big
 * for one frame) takes the general path through ip_output.
 */
int ip_can_reply(const struct pkt *p, const uint8_t *t, unsigned tlen)
{
	const uint8_t *h = p->head + p->l3;
	return t == h + IP_HLEN && h[IP_VHL] == 0x45 && tlen + IP_HLEN <= netif.mtu &&
	       !(p->flags & (PKT_F_BCAST | PKT_F_REASM)) && p->l3 >= ETH_HLEN && !((uintptr_t)h & 1);
}

int ip_reply(struct pkt *p, uint8_t proto)
{
	uint8_t *h = p->head + p->l3;
	unsigned total = p->len + IP_HLEN;
	if (!ip_can_reply(p, p->data, p->len)) {
		p->flags &= PKT_F_REASM; /* the rest described the request */
		return ip_output(p, 0, get32(h + IP_SRC), proto);
	}
	/* Halfwords as they lie in memory: the ID only has to differ. */
	u16a *w = (u16a *)h;
	uint16_t s0 = w[6], s1 = w[7];
	w[0] = 0x45; /* and TOS 0 */
	w[1] = (uint16_t)(total >> 8 | total << 8);
	w[2] = ip_id++;
	w[3] = 0;
	w[4] = (uint16_t)(CFG_IP_TTL | proto << 8);
	w[6] = w[8], w[7] = w[9], w[8] = s0, w[9] = s1;
	ip_hdr_csum(h, IP_HLEN);
	STAT(ip, tx);
	p->data = h - ETH_HLEN;
	p->len = (uint16_t)(total + ETH_HLEN);
	/* A partial UDP checksum stays one: the frame keeps its layout, and
	 * the pseudo-header's sum does not depend on which address is which. */
	p->flags &= proto == IPPROTO_UDP ? PKT_F_CSUM_PART : 0;
	return eth_reply(p);
}
