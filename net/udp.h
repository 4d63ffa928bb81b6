/*
 * UDP for applications: a static table of protocol control blocks
 * (CFG_UDP_PCBS), lwIP's raw API in spirit.
 *
 * Ownership of buffers. Receiving is zero-copy: the receive callback gets
 * the received buffer itself, with p->data at the payload, and owns it
 * from then on (send it back with udp_reply or udp_sendto, keep it, or
 * pkt_free it). A PCB without a callback queues up to its queue depth
 * (udp_set_queue, at most CFG_UDP_QUEUE) datagrams for udp_poll; a full
 * queue drops and counts (udp.drop_queue_full). Every send call takes
 * ownership of the buffer it is given, whatever it returns: the caller
 * never frees a buffer it handed to a send.
 *
 * Sending takes a buffer whose data is the payload and writes the headers
 * into its headroom. A received buffer sent back unchanged needs no pass
 * over the payload: the stack kept the payload's checksum (PKT_F_PSUM).
 * Code that changes payload bytes of a received buffer must clear that
 * flag (p->flags &= ~PKT_F_PSUM) before sending.
 *
 * Errors. Calls that can fail return 0 (NET_OK) or a negative enum
 * net_err (netif.h). Every call on a PCB that is not in use (NULL, or
 * removed by udp_remove) fails with NET_ERR_CLOSED and changes nothing
 * (a send frees the buffer; counted in udp.bad_pcb): a stale pointer can
 * neither send nor bind, so it never receives again. (udp_reply, on the
 * per-datagram path, checks a removed PCB but not NULL.) ICMP errors about datagrams a PCB sent
 * (unreachable, time exceeded, parameter problem) reach it only when the
 * datagram they quote is one it could have sent (udp_err, udp_error).
 *
 * Threading: none. Call from the superloop or from a callback.
 */
#ifndef NET_UDP_H
#define NET_UDP_H

#include <stdint.h>
#include "netif.h"
#include "pkt.h"
#include "wire.h"

struct udp_pcb;
/* A datagram for pcb; p->data at the payload (an even address, as are
 * the headers in front of it: the stack takes no frame at an odd one,
 * eth.drop_align, and every header keeps that parity), p->len its length,
 * PKT_F_BCAST in p->flags if it was sent to a broadcast address or a
 * group (udp_dst_ip(p) tells which). udp_src_ip(p) and udp_src_port(p)
 * say who sent it (always a single host: IP drops datagrams from any
 * other address, ip.drop_src): read from the headers in front of the
 * payload, only by a service that asks. The callback owns p.
 *
 * A datagram that came in fragments is a chain of the fragments' own
 * buffers (no copy): p->data/p->len are its first bytes, p->frag_next
 * the next piece, and so on, in order; pkt_chain_len(p) is the whole
 * payload. Read it as
 *     for (const struct pkt *q = p; q; q = q->frag_next)
 *         use(q->data, q->len);
 * pkt_free(p) frees every piece; udp_reply and udp_sendto take a chain
 * as they take one buffer (unchanged, udp_reply answers it fragment by
 * fragment in place). To reuse the first buffer for a payload of its
 * own, drop the rest first: pkt_chain_trim(p, p->len). An application may build a chain of its own
 * (pkt_alloc'd pieces linked through frag_next) up to 65,507 bytes for
 * udp_sendto: pieces whose sizes are multiples of 8 (all but the last)
 * go out as one fragment each, without a copy. */
typedef void (*udp_recv_fn)(struct udp_pcb *pcb, struct pkt *p, void *arg);
/* An ICMP error (type, code: ICMP_UNREACH with its codes, ICMP_TIMXCEED,
 * 12 parameter problem) about a datagram pcb sent to dst_ip:dst_port.
 * For fragmentation needed (3/4), pcb->pmtu holds the next-hop MTU the
 * router reported (0 if it did not). The PCB may be removed in it. */
typedef void (*udp_err_fn)(struct udp_pcb *pcb, uint8_t type, uint8_t code, uint32_t dst_ip,
			   uint16_t dst_port, void *arg);

enum udp_flags {
	UDP_F_BROADCAST = 1 << 0, /* may send to a broadcast address (SO_BROADCAST) */
	UDP_F_REUSE = 1 << 1,     /* may share its port with other UDP_F_REUSE PCBs:
	                             a unicast datagram goes to the most specific
	                             one, a broadcast or a group's to each that
	                             takes it (all but one as a copy, udp.mcast_copy) */
};

/* Read its fields freely; change them only through the calls below. */
struct udp_pcb {
	uint8_t used;
	uint8_t connected;
	uint16_t local_port;  /* 0 = not bound */
	uint32_t local_ip;    /* 0 = any */
	uint32_t remote_ip;   /* valid when connected */
	uint16_t remote_port;
	uint16_t port_n;      /* local_port as it lies in a header: the demux compares so */
	uint8_t flags;        /* enum udp_flags */
	uint8_t qmax;         /* receive queue depth for udp_poll */
	uint8_t ttl, tos;     /* IP TTL and TOS (DSCP << 2 | ECN) of unicast sends */
	uint8_t mcast_ttl;    /* IP TTL of multicast sends (default 1: this link) */
	int8_t err;           /* pending error for udp_error (0: none) */
	uint16_t pmtu;        /* next-hop MTU of the last "fragmentation needed" */
	uint8_t inplace;      /* udp_reply may answer in place: in use, default TTL and TOS */
	uint32_t mcast;       /* groups joined: bit i for slot i of the group table */
	udp_recv_fn recv;
	void *arg;
	udp_err_fn errf;
	void *err_arg;
	struct pktq q;        /* datagrams for udp_poll (no callback) */
};

/* A fresh PCB (unbound, TTL CFG_IP_TTL, TOS 0, multicast TTL 1, queue
 * depth CFG_UDP_QUEUE, no flags), or NULL when the table is full. */
struct udp_pcb *udp_new(void);
/* Frees queued datagrams and the slot. The pointer is dead afterwards:
 * every call with it fails (NET_ERR_CLOSED) until udp_new hands the slot
 * out again. Removing a removed PCB does nothing (but count udp.bad_pcb). */
void udp_remove(struct udp_pcb *pcb);
/* Bind to ip (0: any, our own address, or a multicast group) and port
 * (0: an ephemeral port, RFC 6056). NET_ERR_ARG for any other address,
 * NET_ERR_USE if the port is taken on an overlapping address (unless
 * both PCBs set UDP_F_REUSE), NET_ERR_CLOSED. Binding again moves it. */
int udp_bind(struct udp_pcb *pcb, uint32_t ip, uint16_t port);
/* Take only datagrams from ip:port, and send there with udp_send; binds
 * to an ephemeral port first if unbound. NET_ERR_ARG for 0 in either,
 * or what udp_bind returns. */
int udp_connect(struct udp_pcb *pcb, uint32_t ip, uint16_t port);
int udp_disconnect(struct udp_pcb *pcb); /* 0 or NET_ERR_CLOSED */
/* The receive callback (NULL: queue for udp_poll). 0 or NET_ERR_CLOSED. */
int udp_recv(struct udp_pcb *pcb, udp_recv_fn fn, void *arg);
/* The ICMP error callback (NULL: keep the last error for udp_error).
 * 0 or NET_ERR_CLOSED. */
int udp_err(struct udp_pcb *pcb, udp_err_fn fn, void *arg);
/* The pending error, cleared (SO_ERROR): 0, NET_ERR_REFUSED,
 * NET_ERR_UNREACH or NET_ERR_MSGSIZE; NET_ERR_CLOSED for a dead PCB. Only
 * a PCB without an error callback keeps one; a later error replaces it. */
int udp_error(struct udp_pcb *pcb);

/* Options; each returns 0, NET_ERR_ARG for a value out of range, or
 * NET_ERR_CLOSED. */
int udp_set_broadcast(struct udp_pcb *pcb, int on); /* sends to broadcasts allowed */
int udp_set_reuse(struct udp_pcb *pcb, int on);     /* before udp_bind: share the port */
int udp_set_ttl(struct udp_pcb *pcb, unsigned ttl); /* 1..255, unicast and broadcast */
int udp_set_mcast_ttl(struct udp_pcb *pcb, unsigned ttl); /* 0..255 */
int udp_set_tos(struct udp_pcb *pcb, unsigned tos); /* 0..255: DSCP << 2 | ECN */
/* Datagrams kept for udp_poll, 0..CFG_UDP_QUEUE; lowering it below what
 * is queued drops nothing, later arrivals wait for room. */
int udp_set_queue(struct udp_pcb *pcb, unsigned depth);

/* Send p's payload to dst_ip:dst_port, from the bound address (ours if
 * bound to any) and port (an ephemeral one is bound first if none).
 * Takes ownership of p in every case. 0, or: NET_ERR_ARG (address 0,
 * 127/8, 0/8 or class E, port 0, no headroom), NET_ERR_ACCESS (a
 * broadcast without UDP_F_BROADCAST), NET_ERR_CLOSED, or what IP, ARP
 * and the driver return (NET_ERR_RTE, NET_ERR_MEM, NET_ERR_IF). Every
 * refusal is counted (udp.tx_err and a named reason). */
int udp_sendto(struct udp_pcb *pcb, struct pkt *p, uint32_t dst_ip, uint16_t dst_port);
/* To the connected peer; NET_ERR_ARG when not connected. As udp_sendto. */
int udp_send(struct udp_pcb *pcb, struct pkt *p);
/* Send a received datagram (from the callback or udp_poll, payload
 * edited in place or not) back to its sender from the same buffer: the
 * request's headers are turned around where they lie. The reply goes to
 * the link address the request came from, without an ARP lookup. What
 * cannot be answered in place (a PCB with its own TTL or TOS among it)
 * goes through udp_sendto. Takes ownership of p;
 * returns as udp_sendto. pcb: the PCB it arrived on (not NULL). */
int udp_reply(struct udp_pcb *pcb, struct pkt *p);
/*
 * Multicast. udp_join(pcb, group) makes the PCB a member of group (a
 * 224.0.0.0/4 address, not all-hosts 224.0.0.1): datagrams sent to the
 * group and to the PCB's port reach it, if it is bound to any address or
 * to the group's. Any number of PCBs may join a group: each gets every
 * datagram (all but one as a copy, see udp.c; counted udp.mcast_copy).
 * The first member makes the stack report the group (IGMPv2, RFC 2236:
 * twice, then in answer to the router's queries), the last one's leave
 * or udp_remove sends a Leave. 0, NET_ERR_ARG (not a group, or for
 * udp_leave one the PCB is not in), NET_ERR_MEM (CFG_MCAST_GROUPS groups
 * in use: igmp.groups_full), NET_ERR_CLOSED. Joining twice is one
 * membership.
 * Sending to a group needs no join: udp_sendto(pcb, p, group, port)
 * goes to the group's MAC with the PCB's multicast TTL (udp_set_mcast_ttl,
 * default 1), from our address. There is no loopback: a datagram we send
 * to a group is not delivered to our own members.
 */
int udp_join(struct udp_pcb *pcb, uint32_t group);
int udp_leave(struct udp_pcb *pcb, uint32_t group);
/* The addresses of a received datagram (p from a receive callback or
 * udp_poll, its data not moved yet: the UDP header is right in front of
 * it): where it went (ours, a broadcast, or a group) and who sent it. */
static inline uint32_t udp_dst_ip(const struct pkt *p)
{
	return get32(p->head + p->l3 + IP_DST);
}
static inline uint32_t udp_src_ip(const struct pkt *p)
{
	return get32(p->head + p->l3 + IP_SRC);
}
static inline uint16_t udp_src_port(const struct pkt *p)
{
	return (uint16_t)get16(p->data - UDP_HLEN + UDP_SPORT);
}

/* Next queued datagram (p->data at the payload; the caller owns it) or
 * NULL (none, or a dead PCB). src_ip, src_port may be NULL. */
struct pkt *udp_poll(struct udp_pcb *pcb, uint32_t *src_ip, uint16_t *src_port);

#endif
