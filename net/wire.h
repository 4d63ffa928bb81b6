/*
 * Wire formats: byte offsets and big-endian accessors over a raw buffer
 * (smoltcp's idea of a thin view). Nothing here checks bounds; callers
 * check the length first, then read.
 */
#ifndef NET_WIRE_H
#define NET_WIRE_H

#include <stdint.h>
#include <string.h>
#include "tune.h"

/* The empty asm: see tune.h. A 16-bit value, returned as unsigned: a
 * uint16_t would cost a zero-extension GCC does not see it needs not. */
static inline unsigned get16(const uint8_t *b)
{
	uint32_t hi = b[0];
	__asm__("" : "+r"(hi));
	if (hi > 0xff)
		__builtin_unreachable(); /* what the asm hid from GCC's ranges */
	return hi << 8 | b[1];
}
static inline uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ld16/ld32/N16 assume a little-endian machine"
#endif

/* A field as it lies in memory, in network order, read with one load:
 * compared with a constant in the same order (N16) or an address kept
 * so (netif.ip_n), it needs no byte swap. b must be aligned. */
static inline uint16_t ld16(const uint8_t *b) { return *(const u16a *)b; }
static inline uint32_t ld32(const uint8_t *b) { return *(const u32a *)b; }
/* The same at any alignment, bytewise. */
static inline uint32_t ld32u(const uint8_t *b)
{
	return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint16_t ld16u(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
#define N16(x) ((uint16_t)(((x) & 0xff) << 8 | ((x) >> 8 & 0xff)))
static inline void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static inline void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
}

/* Ethernet II */
#define ETH_HLEN 14
#define ETH_DST 0
#define ETH_SRC 6
#define ETH_TYPE 12
#define ETHTYPE_IP 0x0800
#define ETHTYPE_ARP 0x0806
#define ETHTYPE_VLAN 0x8100
#define ETHTYPE_QINQ 0x88a8
#define ETH_MIN_FRAME 60 /* without FCS */

/* ARP for IPv4 over Ethernet */
#define ARP_LEN 28
#define ARP_HTYPE 0
#define ARP_PTYPE 2
#define ARP_HLEN 4
#define ARP_PLEN 5
#define ARP_OPER 6
#define ARP_SHA 8
#define ARP_SPA 14
#define ARP_THA 18
#define ARP_TPA 24
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* IPv4 */
#define IP_HLEN 20
#define IP_VHL 0
#define IP_TOS 1
#define IP_LEN 2
#define IP_ID 4
#define IP_FRAG 6
#define IP_TTL 8
#define IP_PROTO 9
#define IP_CSUM 10
#define IP_SRC 12
#define IP_DST 16
#define IP_MF 0x2000
#define IP_DF 0x4000
#define IP_OFFMASK 0x1fff
#define IPPROTO_ICMP 1
#define IPPROTO_IGMP 2
#define IPPROTO_UDP 17

/* ICMP */
#define ICMP_HLEN 8
#define ICMP_TYPE 0
#define ICMP_CODE 1
#define ICMP_CSUM 2
#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11
#define ICMP_PARAMPROB 12
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTO 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_TIMXCEED_REASS 1

/* UDP */
#define UDP_HLEN 8
#define UDP_SPORT 0
#define UDP_DPORT 2
#define UDP_LEN 4
#define UDP_CSUM 6

static inline int mac_is_mcast(const uint8_t *m) { return m[0] & 1; }
static inline int mac_is_zero(const uint8_t *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}
static inline int mac_is_bcast(const uint8_t *m)
{
	return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}

#endif
