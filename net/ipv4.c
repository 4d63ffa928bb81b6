/*
 * IPv4 for a host (RFC 791, RFC 1122 3.2): validate, deliver to ICMP or
 * UDP, never forward. Options are accepted and skipped; fragments go to
 * ipfrag.c and come back whole.
 */
#include "net.h"
#include "dhcp.h"
#include "igmp.h"

static NET_GP uint16_t ip_id;

void ip_init(void)
{
	ip_id = 0;
	ip_reass_init();
}

uint16_t ip_new_id(void)
{
	return ip_id++;
}

void ip_tick(uint32_t now)
{
	ip_reass_tick(now);
}

/* Input is split into steps reached by tail calls (tune.h): ip_input
 * checks the header, ip_accept (inline in it) the addresses, ip_local
 * hands the datagram up. The usual datagram (20-byte header, word-aligned,
 * to our address) takes one straight path; anything else is sorted out
 * off it, with the same checks. Along the straight path the header and
 * its length travel as arguments (h, len); a step off it is handed p
 * with p->data and p->len set to them (pkt_at). */

/* Not a unicast host, or ourselves: a spoof, and answering it would
 * send to our own address. The address as it lies in the header: the
 * first octet is its low byte, and netif keeps ours and our broadcast
 * in the same order (ip_is_unicast and ip_is_host, unswapped). Its
 * first octet comes as a byte of its own (taken from a_n, GCC loads a_n
 * sign-extended and zero-extends it again for the header sum): 0 wraps
 * around to the top, 224 and up are groups and class E. */
static int ip_bad_src(uint64_t a_n, unsigned first)
{
	return first - 1u >= 223u || first == 127 || a_n == netif.bcast_n ||
	       a_n == netif.ip_n;
}

/* IGMP, or an unknown transport: protocol unreachable (RFC 1122
 * 3.2.2.1). Off the UDP/ICMP path: IGMP is a few messages a minute. */
static OUT_OF_LINE void ip_no_proto(struct pkt *p)
{
	const uint8_t *h = p->data;
	if (h[IP_PROTO] == IPPROTO_IGMP) {
		pkt_pull(p, (h[IP_VHL] & 0xf) * 4u);
		igmp_input(p);
		return;
	}
	STAT(ip, drop_proto);
	icmp_error(p, ICMP_UNREACH, ICMP_UNREACH_PROTO);
	pkt_free(p);
}

/* The source and destination words of the header at h added up, as
 * udp_input takes them for its pseudo-header (net.h), at any alignment. */
static uint64_t ip_addrs(const uint8_t *h)
{
	return (uint64_t)ld32u(h + IP_SRC) + ld32u(h + IP_DST);
}

/* A whole datagram for us (len bytes from its header h, addrs its
 * addresses' sum, ip_addrs): up to its transport, header skipped. */
static void ip_deliver(struct pkt *p, uint8_t *h, unsigned len, uint64_t addrs)
{
	uint8_t proto = h[IP_PROTO];
	if (proto != IPPROTO_UDP && proto != IPPROTO_ICMP) {
		pkt_at(p, h, len);
		ip_no_proto(p);
		return;
	}
	/* ip.delivered is the transports' rx, read from their outcomes (stats.h) */
	unsigned hlen = (h[IP_VHL] & 0xfu) << 2;
	if (proto == IPPROTO_UDP) {
		udp_input(p, h, h + hlen, len - hlen, addrs);
		return;
	}
	pkt_at(p, h + hlen, len - hlen);
	icmp_input(p);
}

static OUT_OF_LINE void ip_fragment(struct pkt *p)
{
	p = ip_reass(p); /* counts what it holds or drops */
	if (!p)
		return;
	p->l3 = (uint16_t)(p->data - p->head);
	uint8_t *h = p->data;
	if (p->frag_next && h[IP_PROTO] == IPPROTO_UDP) {
		/* a chain (pkt.h): UDP makes its checks over the pieces */
		pkt_pull(p, (h[IP_VHL] & 0xfu) << 2);
		udp_input_chain(p);
		return;
	}
	ip_deliver(p, h, p->len, ip_addrs(h));
}

/* Addressed to us: whole, or a fragment to put together first. */
static void ip_local(struct pkt *p, uint8_t *h, unsigned len, uint64_t addrs)
{
	p->l3 = (uint16_t)(h - p->head);
	if (ld16(h + IP_FRAG) & N16(IP_MF | IP_OFFMASK)) {
		pkt_at(p, h, len);
		ip_fragment(p);
		return;
	}
	ip_deliver(p, h, len, addrs);
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

/* Not to our unicast address: a broadcast, a group we are in (or
 * all-hosts, for IGMP), DHCP's offer, or not ours. A group's datagram
 * is marked PKT_F_BCAST as a broadcast is: no ICMP error about it, no
 * in-place reply, and a service sees it was not sent to it alone. */
static OUT_OF_LINE void ip_to_other(struct pkt *p)
{
	uint32_t dst = get32(p->data + IP_DST);
	if (ip_is_bcast(dst) || (ip_is_mcast(dst) && igmp_ip_accepts(dst, p->data[IP_PROTO]))) {
		p->flags |= PKT_F_BCAST;
	} else if (!ip_dhcp_unicast(p, dst)) {
		STAT(ip, drop_not_ours); /* includes groups we have not joined */
		pkt_free(p);
		return;
	}
	ip_local(p, p->data, p->len, ip_addrs(p->data));
}

static OUT_OF_LINE void ip_drop_src(struct pkt *p)
{
	STAT(ip, drop_src);
	pkt_free(p);
}

/* The header h (len bytes from it) is valid: who sent it, and is it for
 * us? src and dst as they lie in the header (ld32). Inline: ip_input
 * passes the words its header check loaded, with no call between. */
static inline __attribute__((always_inline)) void ip_accept(struct pkt *p, uint8_t *h,
							     unsigned len, uint64_t src,
							     uint64_t dst)
{
	if (ip_bad_src(src, h[IP_SRC])) {
		ip_drop_src(p);
		return;
	}
	if (dst != netif.ip_n || !dst) {
		pkt_at(p, h, len);
		ip_to_other(p);
		return;
	}
	ip_local(p, h, len, src + dst);
}

/* Anything but a 20-byte header at a word-aligned address: the same
 * checks, in general form. */
static OUT_OF_LINE void ip_input_other(struct pkt *p)
{
	const uint8_t *h = p->data;
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
	if (csum_fold(csum_add(0, h, hlen)) != 0xffff) {
		STAT(ip, drop_csum);
		goto drop;
	}
	ip_accept(p, p->data, p->len, ld32u(h + IP_SRC), ld32u(h + IP_DST));
	return;
drop:
	pkt_free(p);
}

void ip_input(struct pkt *p, uint8_t *h, unsigned len)
{
	if (len < IP_HLEN || h[IP_VHL] != 0x45 || ((uintptr_t)h & 3)) {
		pkt_at(p, h, len);
		ip_input_other(p);
		return;
	}
	unsigned total = get16(h + IP_LEN);
	if (total < IP_HLEN || total > len) {
		pkt_at(p, h, len);
		ip_input_other(p); /* counts which */
		return;
	}
	/* from here total: the link layer's padding dropped */
	/* the addresses loaded once, zero-extended, for the sum and the
	 * compares alike (tune.h) */
	const u32a *w = (const u32a *)h;
	uint64_t src = w[3], dst = w[4];
	if (!csum_acc_ok((uint64_t)w[0] + w[1] + w[2] + src + dst)) {
		STAT(ip, drop_csum);
		pkt_free(p);
		return;
	}
	ip_accept(p, h, total, src, dst);
}

static OUT_OF_LINE int ip_tx_fail(struct pkt *p, int err)
{
	STAT(ip, tx_err);
	pkt_free(p);
	return err;
}

int ip_output_tx(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto, struct ip_tx tx)
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
	unsigned hlen = tx.ra ? IP_HLEN + 4 : IP_HLEN;
	uint8_t *h = pkt_push(p, hlen);
	if (!h)
		return ip_tx_fail(p, NET_ERR_ARG);
	/* A chain (pkt.h) is one datagram over its pieces: always fragmented */
	unsigned total = p->frag_next ? pkt_chain_len(p) : p->len;
	if (total > 65535)
		return ip_tx_fail(p, NET_ERR_ARG);
	h[IP_VHL] = (uint8_t)(0x40 | hlen / 4);
	h[IP_TOS] = tx.tos;
	put16(h + IP_LEN, (uint16_t)total);
	put16(h + IP_ID, ip_id++);
	put16(h + IP_FRAG, 0);
	put16(h + IP_TTL, (uint16_t)(tx.ttl << 8 | proto));
	put32(h + IP_SRC, src);
	put32(h + IP_DST, dst);
	if (tx.ra) /* Router Alert (RFC 2113): type 148, length 4, value 0 */
		put32(h + IP_HLEN, 0x94040000u);
	ip_hdr_csum(h, hlen);
	p->l3 = (uint16_t)(h - p->head);

	STAT(ip, tx);
	if (total > netif.mtu || p->frag_next)
		return ip_frag_output(p, nexthop);
	return arp_output(p, nexthop);
}


/* The reply's header over the request's at h (p->head + p->l3), in
 * place, tlen transport bytes behind it: halfwords as they lie in memory.
 * The ID only has to differ; TTL and TOS are ours. The caller passes h
 * and tlen as it has them: they are not read back from p after the
 * transport header was written. */
INLINE_STEP int ip_reply_in_place(struct pkt *p, uint8_t *h, unsigned tlen, uint8_t proto)
{
	unsigned total = tlen + IP_HLEN;
	u16a *w = (u16a *)h;
	uint16_t s0 = w[6], s1 = w[7], d0 = w[8], d1 = w[9];
	/* total's bytes swapped, not masked: bits 16 and up hold total >> 8
	 * again, which the halfword store drops and the sum takes back out
	 * (it counts 2^16 as 1) */
	uint32_t len = total >> 8 | total << 8;
	uint16_t id = ip_id++;
	uint16_t ttl_proto = (uint16_t)(CFG_IP_TTL | proto << 8);
	w[0] = 0x45; /* and TOS 0 */
	w[1] = (uint16_t)len;
	w[2] = id;
	w[3] = 0;
	w[4] = ttl_proto;
	w[6] = d0, w[7] = d1, w[8] = s0, w[9] = s1;
	/* the header checksum from the halfwords just written, not read back */
	uint32_t sum = 0x45u + len - (total >> 8) + id + ttl_proto + s0 + s1 + d0 + d1;
	w[5] = (uint16_t)~csum_fold(sum);
	STAT(ip, tx);
	p->data = h - ETH_HLEN;
	p->len = (uint16_t)(total + ETH_HLEN);
	/* A partial UDP checksum stays one: the frame keeps its layout, and
	 * the pseudo-header's sum does not depend on which address is which.
	 * The other flags described the request; a driver reads only that
	 * one (and refills clear them all), so only a reply that is not UDP
	 * needs them cleared. */
	if (proto != IPPROTO_UDP)
		p->flags = 0;
	return eth_reply(p);
}

/*
 * Answer a datagram from its own buffer: the request's IP header (20
 * bytes, at p->l3) and Ethernet header are still in front of the reply's
 * transport header at p->data. Addresses are swapped in place at both
 * layers, so the reply goes to the link address the request came from
 * (its router, when the peer is off-link) without an ARP lookup, and
 * speaks from the address the request was sent to. Anything unusual
 * (options, a broadcast request, a reply too big for one frame) takes
 * the general path through ip_output; a reassembled datagram (a chain)
 * is answered fragment by fragment (ip_reply_chain).
 */
int ip_reply(struct pkt *p, uint8_t proto)
{
	if (p->frag_next)
		return ip_reply_chain(p, proto);
	if (!ip_can_reply(p, p->data, p->len)) {
		p->flags = 0; /* they described the request */
		return ip_output(p, 0, get32(pkt_iph(p) + IP_SRC), proto);
	}
	return ip_reply_in_place(p, p->head + p->l3, p->len, proto);
}
