/*
 * Ethernet II: filter by destination, dispatch by ethertype, and prepend
 * the header on output. Everything else about the link is the driver's.
 */
#include <stddef.h>
#include "net.h"
#include "igmp.h"

/* Rare outcomes of eth_input, off its path (tune.h: OUT_OF_LINE). */
static OUT_OF_LINE void eth_drop_len(struct pkt *p)
{
	if (p->len < ETH_HLEN)
		STAT(eth, drop_runt);
	else
		STAT(eth, drop_oversize);
	pkt_free(p);
}

static OUT_OF_LINE void eth_drop_src(struct pkt *p)
{
	const uint8_t *s = p->data + ETH_SRC;
	if (mac_is_mcast(s))
		STAT(eth, drop_src_mcast);
	else if (mac_is_zero(s))
		STAT(eth, drop_src_zero); /* no station: a reply could go nowhere */
	else
		STAT(eth, drop_src_ours); /* looped back or spoofed: a reply would come to us */
	pkt_free(p);
}

/* A source no reply may go to: a group, nobody, or ourselves. Frames
 * sit at an even address, so three halfword loads read it. */
static inline int eth_bad_src(const uint8_t *s)
{
	if ((uintptr_t)s & 1)
		return mac_is_mcast(s) || mac_is_zero(s) || eth_is_ours(s);
	const u16a *w = (const u16a *)s;
	return (w[0] & 1) || (w[0] | w[1] | w[2]) == 0 || eth_is_ours(s);
}

static OUT_OF_LINE void eth_other(struct pkt *p, uint16_t type)
{
	if (type == ETHTYPE_ARP) {
		arp_input(p); /* counts arp.rx, which is eth.to_arp (stats.h) */
		return;
	}
	if (type == ETHTYPE_VLAN || type == ETHTYPE_QINQ)
		STAT(eth, drop_vlan);
	else
		STAT(eth, drop_type);
	pkt_free(p);
}

/* From an acceptable source: to which protocol. h and len: the frame
 * (p->data, p->len); IP gets its header and length as arguments (net.h). */
static inline __attribute__((always_inline)) void eth_up(struct pkt *p, uint8_t *h, unsigned len)
{
	uint16_t type = ld16(h + ETH_TYPE);
	if (type != N16(ETHTYPE_IP)) {
		pkt_pull(p, ETH_HLEN);
		eth_other(p, get16(h + ETH_TYPE));
		return;
	}
	ip_input(p, h + ETH_HLEN, len - ETH_HLEN); /* counts ip.rx, which is eth.to_ip (stats.h) */
}

/* Addressed to us or to everyone: from whom, and to which protocol. */
static OUT_OF_LINE void eth_accept(struct pkt *p)
{
	if (eth_bad_src(p->data + ETH_SRC)) {
		eth_drop_src(p);
		return;
	}
	eth_up(p, p->data, p->len);
}

/* IPv4 to a group, at the MAC of a group we are in (RFC 1112 6.4; the
 * MAC stands for 32 groups, IP sorts them out). A group MAC carries
 * nothing else for us: no ARP, and no datagram to our own address,
 * which would be answered as if sent to us alone (RFC 1122 3.3.6). */
static int eth_group(const struct pkt *p)
{
	const uint8_t *f = p->data;
	return mac_is_mcast(f + ETH_DST) && p->len >= ETH_HLEN + IP_HLEN &&
	       get16(f + ETH_TYPE) == ETHTYPE_IP && ip_is_mcast(get32(f + ETH_HLEN + IP_DST)) &&
	       igmp_mac_accepts(f + ETH_DST);
}

/* Not to our MAC: to everyone or to a group of ours (kept, marked), or
 * not for us. The NIC may pass every multicast frame (netif.mcast
 * unset): the filter is here in any case. */
static OUT_OF_LINE void eth_to_other(struct pkt *p)
{
	const uint8_t *d = p->data + ETH_DST;
	if (!mac_is_bcast(d) && !eth_group(p)) {
		STAT(eth, drop_not_ours); /* another host's, or a group we have not joined */
		pkt_free(p);
		return;
	}
	p->flags |= PKT_F_BCAST;
	eth_accept(p);
}

/* A frame at an address other than the usual one (2 past a word): the
 * same checks, in halfwords, or dropped at an odd address. */
static OUT_OF_LINE void eth_input_other(struct pkt *p)
{
	if ((uintptr_t)p->data & 1) {
		/* Drivers place frames at CFG_PKT_LINK_OFF, an even address, and
		 * the stack reads halfwords in place from there on. */
		STAT(eth, drop_align);
		pkt_free(p);
		return;
	}
	if (!eth_is_ours(p->data + ETH_DST)) {
		eth_to_other(p);
		return;
	}
	eth_accept(p);
}

/* A MAC address as one number, byte k at bits 8k, from an address 2 past
 * a word (a frame's destination, netif.mac) or on one (its source). */
static inline uint64_t mac48_at2(const uint8_t *m)
{
	return ld16(m) | (uint64_t)ld32(m + 2) << 16;
}
static inline uint64_t mac48_at0(const uint8_t *m)
{
	return ld32(m) | (uint64_t)ld16(m + 4) << 32;
}

void eth_input(struct pkt *p)
{
	STAT(eth, rx);
	/* one compare for both ends: a runt wraps around to a huge length */
	if ((unsigned)p->len - ETH_HLEN > netif.mtu) {
		eth_drop_len(p);
		return;
	}
	uint8_t *h = p->data;
	if (((uintptr_t)h & 3) != 2) {
		eth_input_other(p);
		return;
	}
	/* The usual frame: each address one compare with ours, and the
	 * source's tests (a group's bit, nobody, ourselves) on the number:
	 * eth_is_ours and eth_bad_src in one. */
	uint64_t ours = mac48_at2(netif.mac);
	if (mac48_at2(h + ETH_DST) != ours) {
		eth_to_other(p);
		return;
	}
	uint64_t src = mac48_at0(h + ETH_SRC);
	if ((src & 1) || !src || src == ours) {
		eth_drop_src(p);
		return;
	}
	eth_up(p, h, p->len);
}

/* A whole frame to the driver, counted as handed over: a refusal is
 * the driver's to count (netif.output). Its answer goes back as it is. */
static int eth_send(struct pkt *p)
{
	STAT(eth, tx);
	return netif.output(p);
}

int eth_output(struct pkt *p, const uint8_t dst[6], uint16_t type)
{
	uint8_t *h = pkt_push(p, ETH_HLEN);
	if (!h) {
		STAT(eth, tx_err);
		pkt_free(p);
		return NET_ERR_ARG;
	}
	/* byte stores: memcpy is a libcall in a freestanding build, and the
	 * header is only 2-byte aligned */
	const uint8_t *m = netif.mac;
	h[0] = dst[0], h[1] = dst[1], h[2] = dst[2], h[3] = dst[3], h[4] = dst[4], h[5] = dst[5];
	h[6] = m[0], h[7] = m[1], h[8] = m[2], h[9] = m[3], h[10] = m[4], h[11] = m[5];
	put16(h + ETH_TYPE, type);
	return eth_send(p);
}

INLINE_STEP int eth_reply(struct pkt *p)
{
	u16a *e = (u16a *)p->data;
	uint16_t a = e[0], b = e[1], c = e[2];
	e[0] = e[3], e[1] = e[4], e[2] = e[5];
	e[3] = a, e[4] = b, e[5] = c;
	return eth_send(p);
}
