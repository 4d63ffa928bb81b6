/*
 * Host harness for the stack: a fake NIC that records every frame the
 * stack sends, frame injection, and a fake clock. Include once per test
 * program (it defines functions and storage).
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stdint.h>
#include <string.h>
#include "../../net/net.h"
#include "../../net/udp.h"
#include "check.h"

#define H_MAX_FRAMES 64
static uint8_t h_frames[H_MAX_FRAMES][CFG_PKT_BUFSZ];
static uint16_t h_lens[H_MAX_FRAMES];
static int h_nsent;      /* frames captured since h_reset_sent() */
static int h_fail_tx;    /* make the fake driver refuse frames */
static int h_refused;    /* frames it refused (a driver's nic.tx_full) */
static uint32_t h_clock;

static const uint8_t H_MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
#define H_IP 0x0a00020fu   /* 10.0.2.15 */
#define PEER_IP 0x0a000202u /* 10.0.2.2, also the gateway */

static inline int h_output(struct pkt *p)
{
	if (h_fail_tx || p->len > CFG_PKT_BUFSZ) {
		h_refused++;
		pkt_free(p);
		return -1;
	}
	if (h_nsent < H_MAX_FRAMES) {
		memcpy(h_frames[h_nsent], p->data, p->len);
		h_lens[h_nsent] = p->len;
	}
	h_nsent++;
	pkt_free(p);
	return 0;
}

static inline void h_reset_sent(void) { h_nsent = 0; }

/* Fresh stack: pool, stats, interface 10.0.2.15/24 gw 10.0.2.2, clock 1000. */
static inline void h_init(void)
{
	pkt_pool_init();
	ip_reass_init(); /* its chains were in the old pool: forgotten before net_tick walks them */
	net_stats_reset();
	memcpy(netif.mac, H_MAC, 6);
	netif.ip = H_IP;
	netif.mask = 0xffffff00u;
	netif.gw = PEER_IP;
	netif.mtu = CFG_MTU;
	netif.link_up = 1;
	netif.output = h_output;
	h_clock = 1000;
	h_fail_tx = h_refused = 0;
	/* Dirty every buffer, so a header field the stack forgets to
	 * write shows up in the frames it sends. */
	struct pkt *all[CFG_PKT_COUNT];
	int n = 0;
	while (n < CFG_PKT_COUNT && (all[n] = pkt_alloc(PKT_STACK)) != NULL)
		memset(all[n++]->head, 0xa5, CFG_PKT_BUFSZ);
	while (n > 0)
		pkt_free(all[--n]);
	pkt_stats = (struct pkt_stats){.low_water = CFG_PKT_COUNT};
	net_tick(h_clock);
	net_init();
	h_reset_sent();
}

static inline void h_advance(uint32_t ms)
{
	h_clock += ms;
	net_tick(h_clock);
}

/* Hand a frame to the stack as a driver would, shift bytes past the
 * link offset (drivers: 0). Returns 0, or -1 if the pool was empty. */
static inline int h_inject_at(const void *frame, size_t len, size_t shift)
{
	struct pkt *p = pkt_alloc(PKT_STACK);
	if (!p)
		return -1;
	pkt_reset_link(p);
	p->data += shift;
	memcpy(p->data, frame, len);
	p->len = (uint16_t)len;
	net_input(p);
	return 0;
}

static inline int h_inject(const void *frame, size_t len)
{
	return h_inject_at(frame, len, 0);
}

/* ---- frame builders (write into buf, return the frame length) ---- */
static inline size_t h_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f + ETH_DST, dst, 6);
	memcpy(f + ETH_SRC, src, 6);
	put16(f + ETH_TYPE, type);
	return ETH_HLEN;
}

/* IPv4 header at f with correct checksum; returns IP_HLEN. */
static inline size_t h_ip(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t total,
		   uint16_t id, uint16_t frag)
{
	memset(f, 0, IP_HLEN);
	f[IP_VHL] = 0x45;
	put16(f + IP_LEN, total);
	put16(f + IP_ID, id);
	put16(f + IP_FRAG, frag);
	f[IP_TTL] = 64;
	f[IP_PROTO] = proto;
	put32(f + IP_SRC, src);
	put32(f + IP_DST, dst);
	put16(f + IP_CSUM, csum_finish(csum_add(0, f, IP_HLEN)));
	return IP_HLEN;
}

/* A whole UDP/IPv4/Ethernet frame from PEER_MAC (IP src) to dst at the
 * link address mac. */
static inline size_t h_udp_frame_to(uint8_t *f, const uint8_t *mac, uint32_t src, uint32_t dst,
				    uint16_t sport, uint16_t dport, const void *payload, uint16_t plen)
{
	size_t o = h_eth(f, mac, PEER_MAC, ETHTYPE_IP);
	o += h_ip(f + o, src, dst, IPPROTO_UDP, (uint16_t)(IP_HLEN + UDP_HLEN + plen), 1, 0);
	uint8_t *u = f + o;
	put16(u + UDP_SPORT, sport);
	put16(u + UDP_DPORT, dport);
	put16(u + UDP_LEN, (uint16_t)(UDP_HLEN + plen));
	put16(u + UDP_CSUM, 0);
	memcpy(u + UDP_HLEN, payload, plen);
	uint32_t s = csum_pseudo(src, dst, IPPROTO_UDP, (uint16_t)(UDP_HLEN + plen));
	uint16_t c = csum_finish(csum_add(s, u, UDP_HLEN + plen));
	put16(u + UDP_CSUM, c ? c : 0xffff);
	return o + UDP_HLEN + plen;
}

/* A whole UDP/IPv4/Ethernet frame from PEER to us. */
static inline size_t h_udp_frame(uint8_t *f, uint16_t sport, uint16_t dport, const void *payload,
			  uint16_t plen)
{
	return h_udp_frame_to(f, H_MAC, PEER_IP, H_IP, sport, dport, payload, plen);
}

static inline uint32_t h_stat(const char *layer, const char *name) { return net_stat_get(layer, name); }

/* ARP packet in an Ethernet frame, padded to the 60-byte minimum as a
 * real link would. */
static inline size_t h_arp(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
			   uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memset(f, 0, ETH_MIN_FRAME);
	size_t o = h_eth(f, eth_dst, sha, ETHTYPE_ARP);
	uint8_t *a = f + o;
	put16(a + ARP_HTYPE, 1);
	put16(a + ARP_PTYPE, ETHTYPE_IP);
	a[ARP_HLEN] = 6;
	a[ARP_PLEN] = 4;
	put16(a + ARP_OPER, op);
	memcpy(a + ARP_SHA, sha, 6);
	put32(a + ARP_SPA, spa);
	memcpy(a + ARP_THA, tha, 6);
	put32(a + ARP_TPA, tpa);
	return ETH_MIN_FRAME;
}

static const uint8_t H_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t H_ZERO[6];

/* Teach the stack PEER's MAC the way a real peer would (it asks for us),
 * and forget the reply that caused. */
static inline void h_learn_peer(void)
{
	uint8_t f[64];
	h_inject(f, h_arp(f, H_BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, H_ZERO, H_IP));
	h_reset_sent();
}

/* After every test: the accounting identity holds, no buffer leaked or
 * was freed twice. */
static inline void h_idle(void)
{
	const char *bad = net_stats_check();
	if (bad)
		printf("  stats identity broken in layer %s\n", bad);
	CHECK(bad == NULL);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT);
	CHECK_EQ(pkt_stats.bad_free, 0);
}

/* Independent checks of frames the stack sent. */
static inline int h_sum_ok(uint32_t sum, const uint8_t *b, size_t n)
{
	/* byte by byte, nothing shared with csum.c */
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static inline int h_ip_ok(const uint8_t *ip) { return h_sum_ok(0, ip, (ip[0] & 15) * 4u); }

/* UDP checksum of the datagram behind IP header ip, recomputed in full. */
static inline int h_udp_ok(const uint8_t *ip)
{
	const uint8_t *u = ip + (ip[0] & 15) * 4;
	uint16_t ulen = get16(u + UDP_LEN);
	uint32_t ps = (get16(ip + IP_SRC) + get16(ip + IP_SRC + 2)) + get16(ip + IP_DST) +
		      get16(ip + IP_DST + 2) + IPPROTO_UDP + ulen;
	return get16(u + UDP_CSUM) != 0 && h_sum_ok(ps, u, ulen);
}

/* Frame i as sent, from its IP header (NULL if not IPv4). */
static inline const uint8_t *h_sent_ip(int i)
{
	return get16(h_frames[i] + ETH_TYPE) == ETHTYPE_IP ? h_frames[i] + ETH_HLEN : NULL;
}

/* A reply's 20-byte IP header from us to PEER: every field we write. */
static inline void h_check_reply_ip(const uint8_t *ip, uint8_t proto, unsigned total)
{
	CHECK(h_ip_ok(ip));
	CHECK_EQ(ip[IP_VHL], 0x45);
	CHECK_EQ(ip[IP_TOS], 0);
	CHECK_EQ(get16(ip + IP_LEN), total);
	CHECK_EQ(get16(ip + IP_FRAG), 0);
	CHECK_EQ(ip[IP_TTL], CFG_IP_TTL);
	CHECK_EQ(ip[IP_PROTO], proto);
	CHECK_EQ(get32(ip + IP_SRC), H_IP);
	CHECK_EQ(get32(ip + IP_DST), PEER_IP);
}

#endif
