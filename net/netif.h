/*
 * The one network interface the stack serves, and what net/ exports
 * besides the UDP API: addresses, the interface's state, the entry points
 * the port calls. The port fills in the MAC, MTU, link state and the
 * transmit hook from the NIC; the application sets the addresses.
 */
#ifndef NET_NETIF_H
#define NET_NETIF_H

#include <stddef.h>
#include <stdint.h>
#include "pkt.h"

/* What every call of net/ that can fail returns: 0 or one of these
 * (applications see them through udp.h too). */
enum net_err {
	NET_OK = 0,
	NET_ERR_IF = -1,      /* the driver refused the frame (nic.h's -1: it counted why) */
	NET_ERR_RTE = -2,     /* no route, or ARP resolution pending/failed */
	NET_ERR_USE = -3,     /* address/port in use */
	NET_ERR_ARG = -4,     /* bad argument (e.g. too big, no headroom, an address
	                         that names no host) */
	NET_ERR_MEM = -5,     /* no buffer / no table slot */
	NET_ERR_CLOSED = -6,  /* the PCB is not in use: removed, or not from udp_new */
	NET_ERR_ACCESS = -7,  /* a broadcast from a PCB without udp_set_broadcast */
	/* Reported by ICMP about a datagram sent earlier (udp_error): */
	NET_ERR_REFUSED = -8, /* port (or protocol) unreachable: nobody listens */
	NET_ERR_UNREACH = -9, /* net/host unreachable, time exceeded, parameter problem */
	NET_ERR_MSGSIZE = -10, /* fragmentation needed: the path MTU is smaller */
};

struct netif {
	uint16_t mtu;
	/* 2 bytes past a word, as a received frame's addresses lie (eth.c
	 * reads both with a halfword and a word load) */
	uint8_t mac[6];
	uint8_t link_up;
	/* Host byte order. Set them before net_init or through net_set_addr,
	 * never directly afterwards: the two below follow from them. */
	uint32_t ip, mask, gw;
	/* Our address and our subnet's broadcast as they lie in a header
	 * (network order read as a native word), for the per-packet
	 * compares; bcast_n is all-ones where the subnet has none (/31, /32). */
	uint32_t ip_n, bcast_n;
	/* Send one frame: p->data is the Ethernet header, p->len the frame
	 * length. Takes ownership in every case; returns 0, or -1 (NET_ERR_IF)
	 * when the frame was dropped: the driver counts why (nic.tx_full,
	 * nic.tx_bad), and the stack hands the -1 back to the sender as it
	 * is, so the reply path ends in a tail call into the driver. */
	int (*output)(struct pkt *p);
	/* Optional: the NIC's multicast filter. The stack tells it of each
	 * group MAC (01:00:5e + the group's low 23 bits) it starts (join 1)
	 * or stops (join 0) needing, once per group: groups that share a MAC
	 * are each told, so the hook counts. All-hosts (224.0.0.1,
	 * 01:00:5e:00:00:01, where IGMP queries come) is never told: it is
	 * always needed. NULL: the NIC must pass every multicast frame on
	 * (QEMU's virtio-net does) and the stack filters alone. */
	void (*mcast)(const uint8_t mac[6], int join);
};

extern struct netif netif;
_Static_assert(offsetof(struct netif, mac) % 4 == 2 && _Alignof(struct netif) >= 4,
	       "netif.mac lies 2 bytes past a word (eth.c)");

/* Stack entry points. */
void net_init(void);              /* after netif is filled in */
void net_input(struct pkt *p);    /* one received frame at p->data; takes ownership */
void net_tick(uint32_t now_ms);   /* advance the clock, run ARP/reassembly timers */
uint32_t net_now(void);           /* the clock as of the last net_tick */
void net_set_link(int up);        /* the NIC's link went up or down */
/* Change the address (DHCP; the boot configuration sets netif before
 * net_init). A new address may mean a new network, and packets waiting
 * for ARP were written with the old one: the ARP cache and its queues
 * are dropped. PCBs bound to the wildcard address follow by themselves. */
void net_set_addr(uint32_t ip, uint32_t mask, uint32_t gw);
/* Entropy for DHCP's xid and jitter (and ephemeral ports): every seed
 * is stirred into a 64-bit state, and net_random draws from it
 * (splitmix64). Not cryptographic: as unpredictable as the seeds were. */
void net_seed(const void *buf, size_t n);
uint32_t net_random(void);

/*
 * Address classes, the one definition each (RFC 1122 3.2.1.3, RFC 5735).
 * ip_is_host: could name one host somewhere: not 0/8 ("this network"),
 * not loopback, not multicast, not class E (nor so 255.255.255.255).
 * ip_is_bcast: the limited or our subnet's broadcast (a /31 or /32 has
 * none, RFC 3021). ip_is_unicast: a host as seen from our interface.
 */
static inline int ip_is_mcast(uint32_t a) { return (a >> 28) == 0xe; }
static inline int ip_is_host(uint32_t a)
{
	return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 28) < 0xe;
}
static inline int ip_is_bcast(uint32_t a)
{
	return a == 0xffffffffu || (~netif.mask > 1 && a == (netif.ip | ~netif.mask));
}
static inline int ip_is_unicast(uint32_t a) { return ip_is_host(a) && !ip_is_bcast(a); }

#endif
