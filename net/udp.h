/*
 * UDP for applications: a static table of protocol control blocks.
 *
 * Receiving is zero-copy: the callback gets the received buffer itself,
 * with p->data at the payload, and owns it from then on (send it back with
 * udp_sendto, keep it, or pkt_free it). A PCB without a callback queues up
 * to CFG_UDP_QUEUE datagrams for udp_poll; a full queue drops and counts.
 *
 * Sending takes a buffer whose data is the payload and writes the headers
 * into its headroom. A received buffer sent back unchanged needs no pass
 * over the payload: the stack kept the payload's checksum (PKT_F_PSUM).
 * Code that changes payload bytes of a received buffer must clear that
 * flag (p->flags &= ~PKT_F_PSUM) before sending.
 */
#ifndef NET_UDP_H
#define NET_UDP_H

#include <stdint.h>
#include "pkt.h"

struct udp_pcb;
typedef void (*udp_recv_fn)(struct udp_pcb *pcb, struct pkt *p, uint32_t src_ip,
			    uint16_t src_port, void *arg);

struct udp_pcb {
	uint8_t used;
	uint8_t connected;
	uint16_t local_port;
	uint32_t local_ip;   /* 0 = any */
	uint32_t remote_ip;  /* valid when connected */
	uint16_t remote_port;
	udp_recv_fn recv;
	void *arg;
	struct pktq q;       /* datagrams for udp_poll (no callback) */
};

struct udp_pcb *udp_new(void);           /* NULL when the table is full */
void udp_remove(struct udp_pcb *pcb);    /* frees queued datagrams too */
int udp_bind(struct udp_pcb *pcb, uint32_t ip, uint16_t port); /* port 0: ephemeral */
int udp_connect(struct udp_pcb *pcb, uint32_t ip, uint16_t port); /* binds if needed */
void udp_disconnect(struct udp_pcb *pcb);
void udp_recv(struct udp_pcb *pcb, udp_recv_fn fn, void *arg);
/* Takes ownership of p in every case. 0 or a negative enum net_err. */
int udp_sendto(struct udp_pcb *pcb, struct pkt *p, uint32_t dst_ip, uint16_t dst_port);
int udp_send(struct udp_pcb *pcb, struct pkt *p); /* to the connected peer */
/* Send a received datagram (from the callback or udp_poll, payload
 * edited in place or not) back to its sender from the same buffer: the
 * request's headers are turned around where they lie. The reply goes to
 * the link address the request came from, without an ARP lookup. Takes
 * ownership of p. */
int udp_reply(struct udp_pcb *pcb, struct pkt *p);
/* Next queued datagram (p->data at the payload) or NULL. */
struct pkt *udp_poll(struct udp_pcb *pcb, uint32_t *src_ip, uint16_t *src_port);

#endif
