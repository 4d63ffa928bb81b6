/*
 * IPv4 for a host (RFC 791, RFC 1122 3.2): validate, deliver to ICMP or
 * UDP, never forward. Options are accepted and skipped; fragments go to
 * ipfrag.c and come back whole.
 */
#include "net.h"

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

int ip_is_bcast(uint32_t a)
{
	/* a /31 or /32 has no directed broadcast (RFC 3021) */
	return a == 0xffffffffu || (~netif.mask > 1 && a == (netif.ip | ~netif.mask));
}

int ip_is_mcast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

/* Not a unicast host: RFC 1122 3.2.1.3 forbids these as a source. */
static int ip_bad_src(uint32_t a)
{
	return a == 0 || (a >> 24) == 127 || (a >> 28) >= 0xe || ip_is_bcast(a);
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
	if (csum_fold(csum_add(0, h, hlen)) != 0xffff) {
		STAT(ip, drop_csum);
		goto drop;
	}
	p->len = (uint16_t)total; /* drop the link layer's padding */

	uint32_t src = get32(h + IP_SRC), dst = get32(h + IP_DST);
	if (ip_bad_src(src)) {
		STAT(ip, drop_src);
		goto drop;
	}
	if (dst != netif.ip || dst == 0) {
		if (!ip_is_bcast(dst)) {
			STAT(ip, drop_not_ours); /* includes multicast: we join no group */
			goto drop;
		}
		p->flags |= PKT_F_BCAST;
	}
	p->l3 = (uint16_t)(p->data - p->head);

	if (get16(h + IP_FRAG) & (IP_MF | IP_OFFMASK)) {
		p = ip_reass(p); /* counts what it holds or drops */
		if (!p)
			return;
		h = p->data;
		p->l3 = (uint16_t)(p->data - p->head);
		hlen = (h[IP_VHL] & 0xf) * 4u;
	}

	uint8_t proto = h[IP_PROTO];
	pkt_pull(p, hlen);
	if (proto == IPPROTO_UDP) {
		STAT(ip, delivered);
		udp_input(p);
	} else if (proto == IPPROTO_ICMP) {
		STAT(ip, delivered);
		icmp_input(p);
	} else {
		STAT(ip, drop_proto);
		icmp_error(p, ICMP_UNREACH, ICMP_UNREACH_PROTO);
		goto drop;
	}
	return;
drop:
	pkt_free(p);
}

int ip_output(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto)
{
	uint32_t nexthop = dst;
	int err = NET_ERR_ARG;

	if (!src)
		src = netif.ip;
	if (ip_is_bcast(src) || ip_is_mcast(src))
		goto fail;
	if ((dst ^ netif.ip) & netif.mask && !ip_is_bcast(dst) && !ip_is_mcast(dst)) {
		nexthop = netif.gw;
		err = NET_ERR_RTE;
		if (!nexthop)
			goto fail;
	}
	uint8_t *h = pkt_push(p, IP_HLEN);
	if (!h) {
		err = NET_ERR_ARG;
		goto fail;
	}
	uint16_t total = p->len, id = ip_id++;
	uint16_t ttl_proto = (uint16_t)(CFG_IP_TTL << 8 | proto);
	/* Plain stores, and the checksum from the values themselves rather
	 * than a pass over the bytes just written. */
	h[IP_VHL] = 0x45;
	h[IP_TOS] = 0;
	put16(h + IP_LEN, total);
	put16(h + IP_ID, id);
	put16(h + IP_FRAG, 0);
	put16(h + IP_TTL, ttl_proto);
	put32(h + IP_SRC, src);
	put32(h + IP_DST, dst);
	uint32_t sum = 0x4500u + total + id + ttl_proto + (src >> 16) + (src & 0xffff) +
		       (dst >> 16) + (dst & 0xffff);
	put16(h + IP_CSUM, csum_finish(sum));
	p->l3 = (uint16_t)(h - p->head);

	STAT(ip, tx);
	if (total > netif.mtu)
		return ip_frag_output(p, nexthop);
	return arp_output(p, nexthop);
fail:
	STAT(ip, tx_err);
	pkt_free(p);
	return err;
}
