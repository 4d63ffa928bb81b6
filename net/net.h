/* Internal interfaces between the layers of net/ (not for applications:
 * those include udp.h and netif.h). */
#ifndef NET_NET_H
#define NET_NET_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "netif.h"
#include "pkt.h"
#include "stats.h"
#include "wire.h"
#include "csum.h"

/* The clock as of the last net_tick, in ms: what net_now() returns, read
 * directly where a call would cost more than the work around it. */
extern uint32_t net_clock;

/* eth.c: p->data at the Ethernet header. */
void eth_input(struct pkt *p);
/* Push the Ethernet header and hand the frame to the driver. Takes ownership. */
int eth_output(struct pkt *p, const uint8_t dst[6], uint16_t type);
/* Send the frame in p (p->data at the received Ethernet header, at an
 * even address, len set) back where it came from: MAC addresses swapped
 * in place. Takes ownership. */
int eth_reply(struct pkt *p);
/* Our MAC address? Frames sit at an even address (the driver's link
 * offset) and netif.mac starts its struct, so the compare is three
 * halfword loads a side; an odd address gets the bytewise one. */
_Static_assert(offsetof(struct netif, mac) % 2 == 0, "netif.mac is read as halfwords");
static inline int eth_is_ours(const uint8_t *a)
{
	const uint8_t *m = netif.mac;
	if ((uintptr_t)a & 1)
		return ((a[0] ^ m[0]) | (a[1] ^ m[1]) | (a[2] ^ m[2]) | (a[3] ^ m[3]) |
			(a[4] ^ m[4]) | (a[5] ^ m[5])) == 0;
	const u16a *x = (const u16a *)a, *y = (const u16a *)m;
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

/* arp.c */
void arp_init(void);
void arp_input(struct pkt *p);           /* p->data at the ARP packet */
/* Send an IPv4 packet (p->data at its IP header) to next hop 'nexthop':
 * resolved now, or queued while a request is outstanding. Takes ownership. */
int arp_output(struct pkt *p, uint32_t nexthop);
void arp_tick(uint32_t now);
void arp_announce(void);                  /* gratuitous ARP at start-up */
/* RFC 5227 address conflict detection, for an address we are about to
 * take (dhcp.c): arp_watch(ip) starts watching ip (0: stop), arp_probe
 * sends a probe for it (sender address 0), arp_conflict says whether,
 * since arp_watch, another host claimed ip or probed for it too. */
void arp_watch(uint32_t ip);
void arp_probe(uint32_t ip);
int arp_conflict(void);
void arp_clear(void);                     /* forget every entry (held packets dropped) */
/* Cache entry i for display: 0 and the fields, or -1 past the end.
 * state: 0 free, 1 pending, 2 stable; age in ms since last confirmed. */
int arp_entry_get(unsigned i, uint32_t *ip, uint8_t mac[6], int *state, uint32_t *age);

/* ipv4.c. Input: h is the IPv4 header, len the bytes from it. The input
 * path keeps these in registers from layer to layer, not in p: p->data
 * and p->len may still describe an outer header until p is delivered or
 * leaves the path (pkt_at). */
void ip_init(void);
void ip_input(struct pkt *p, uint8_t *h, unsigned len);
/* p->data at the transport header (len = transport length). Pushes the IP
 * header, routes, fragments when larger than the MTU. Takes ownership.
 * src 0 means the interface address. ip_output_tx writes the TTL and TOS
 * a UDP PCB chose (and IGMP's Router Alert); ip_output the stack's own
 * (CFG_IP_TTL, TOS 0). A group address goes to its MAC (RFC 1112 6.4),
 * never back to us: there is no loopback. */
struct ip_tx {
	uint8_t ttl, tos;
	uint8_t ra; /* add the Router Alert option (RFC 2113): IGMP's messages */
};
int ip_output_tx(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto, struct ip_tx tx);
static inline int ip_output(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto)
{
	return ip_output_tx(p, src, dst, proto, (struct ip_tx){CFG_IP_TTL, 0, 0});
}
/* Send p back to the sender of the datagram it arrived in: p->data at the
 * reply's transport header, written in place over the request's. Takes
 * ownership. */
int ip_reply(struct pkt *p, uint8_t proto);
/* ip_reply without its checks: the caller made them (ip_can_reply). h is
 * the request's header (pkt_iph), tlen the reply's transport bytes. */
int ip_reply_in_place(struct pkt *p, uint8_t *h, unsigned tlen, uint8_t proto);
static inline const uint8_t *pkt_iph(const struct pkt *p) { return p->head + p->l3; }
/* Would ip_reply answer p in place (rather than through ip_output), once
 * p->data is at t, the reply's transport header, with tlen bytes? The
 * request's header right in front of t, 20 bytes from an even address
 * (the reply is written in halfwords), with an Ethernet header before
 * it; a reply that fits one frame and a request that was not a
 * broadcast. What the request's header said of its own length does not
 * matter: the reply's is written whole, 20 bytes, over it. Chains are not asked about (it does
 * not look at frag_next, to stay off the per-datagram path): ip_reply
 * sends them to ip_reply_chain, and udp_reply never gets here with one
 * (a chain's UDP length is more than its head's). */
static inline int ip_can_reply(const struct pkt *p, const uint8_t *t, unsigned tlen)
{
	const uint8_t *h = pkt_iph(p);
	return p->l3 >= ETH_HLEN && !(p->l3 & 1) && t == h + IP_HLEN &&
	       tlen + IP_HLEN <= netif.mtu && !(p->flags & PKT_F_BCAST);
}
/* A new IP identification (ipfrag.c's in-place replies use one for all
 * the fragments of a datagram). */
uint16_t ip_new_id(void);
void ip_tick(uint32_t now);               /* reassembly timeouts */
/* Set the checksum of the IPv4 header at h (hlen bytes): the one header
 * checksum routine. The common 20-byte header at a 4-byte aligned address
 * takes five word loads (the sum does not care about byte order, RFC 1071
 * 2(B), so the words are summed as they lie and the field is stored the
 * same way); anything else is summed bytewise. Inline: it sits on the
 * reply path. */
static inline void ip_hdr_csum20(uint8_t *h)
{
	*(u16a *)(h + IP_CSUM) = 0;
	const u32a *w = (const u32a *)h;
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffff) + (s >> 32);
	*(u16a *)(h + IP_CSUM) = (uint16_t)~csum_fold((uint32_t)s + (uint32_t)(s >> 32));
}
static inline void ip_hdr_csum(uint8_t *h, unsigned hlen)
{
	if (hlen == IP_HLEN && ((uintptr_t)h & 3) == 0) {
		ip_hdr_csum20(h);
		return;
	}
	put16(h + IP_CSUM, 0);
	put16(h + IP_CSUM, csum_finish(csum_add(0, h, hlen)));
}

/* ipfrag.c: reassembly and output fragmentation. */
void ip_reass_init(void);
/* A fragment (p->data at its IP header, p->l3 set, header already
 * validated). Returns the whole datagram when this fragment completes
 * it, otherwise NULL (the fragment was held or dropped and counted).
 * The datagram is a chain of the fragments' buffers (pkt.h, frag_next):
 * the head's data at its IP header (length and fragment fields now the
 * whole datagram's) and its first payload bytes, every further piece's
 * data/len the payload bytes it adds. Takes ownership of p. */
struct pkt *ip_reass(struct pkt *p);
void ip_reass_tick(uint32_t now);
unsigned ip_reass_held(void); /* buffers the datagrams in progress hold */
/* Send p (p->data at a complete IP header, total length > MTU, or a
 * chain) as fragments: each piece of a chain in its own buffer when
 * every one can be a fragment, else copied into new buffers. Takes
 * ownership. */
int ip_frag_output(struct pkt *p, uint32_t nexthop);
/* ip_reply for a chain: each piece answered in place as a fragment of
 * the reply, or the chain sent through ip_output. Takes ownership. */
int ip_reply_chain(struct pkt *p, uint8_t proto);
/* The unfolded sum (csum_add's) of a chain's bytes from p->data on,
 * added to sum: pieces of odd length shift the next one's bytes. */
uint32_t pkt_chain_sum(uint32_t sum, const struct pkt *p);

/* icmp.c: p->data at the ICMP header, p->l3 set. */
void icmp_init(void);                     /* fills the error rate-limit bucket */
void icmp_input(struct pkt *p);
/* Send an ICMP error about 'orig' (p->l3 set, any data position), quoting
 * its IP header + 8 bytes. Applies the RFC 1122 exceptions (no error about
 * an error, a broadcast/multicast, a non-initial fragment, a non-unicast
 * source) and the rate limit. Does not take ownership of 'orig'. */
void icmp_error(const struct pkt *orig, uint8_t type, uint8_t code);

/* dhcp.c: the client's timers and the link, driven by net.c. */
void dhcp_init(void);
void dhcp_tick(uint32_t now);
void dhcp_link(int up);

/* udp.c. Input: ih the IP header (p->l3 set), u the UDP header right
 * behind it (ih + its length, a multiple of 4), len the bytes from u,
 * addrs the source and destination words as they lie in ih added up
 * (ip_input has them in registers from its own sum: the pseudo-header's
 * addresses without loading them again). */
void udp_init(void);
void udp_input(struct pkt *p, const uint8_t *ih, uint8_t *u, unsigned len, uint64_t addrs);
/* A reassembled datagram (a chain, pkt.h), p->data at its UDP header: ip.c
 * sends it here, not to udp_input, which takes one buffer. */
void udp_input_chain(struct pkt *p);
/* The sum of p's payload (p->data, p->len): from the received headers
 * while PKT_F_PSUM says it is unchanged, else one pass over it. */
uint16_t udp_payload_sum(const struct pkt *p);
/* An ICMP error (type, code; mtu: the next-hop MTU field) quoting a UDP
 * datagram from our address to dst:dport from sport, the quote's bounds
 * checked by icmp.c. Told to the PCB that could have sent it: 0, or -1
 * when none could (udp.c says which). */
int udp_icmp_error(uint8_t type, uint8_t code, uint16_t mtu, uint32_t dst, uint16_t sport,
		   uint16_t dport);

#endif
