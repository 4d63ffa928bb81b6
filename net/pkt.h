/*
 * Packet buffers: a static pool of fixed-size buffers with headroom.
 *
 * Ownership is explicit: exactly one of the driver's RX ring, the stack, a
 * queue (ARP, UDP PCB), the app or the driver's TX ring holds a buffer at a
 * time; whoever holds it passes it on or frees it. The owner tag lets a
 * debug build catch double free and use after free at the point of misuse.
 */
#ifndef NET_PKT_H
#define NET_PKT_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

enum pkt_owner {
	PKT_FREE = 0,
	PKT_RXRING,  /* posted to the NIC's RX ring */
	PKT_TXRING,  /* on the NIC's TX ring until the device returns it */
	PKT_STACK,   /* being processed by net/ */
	PKT_QUEUED,  /* on an ARP or UDP receive queue */
	PKT_APP,     /* handed to application code */
};

enum pkt_flags {
	PKT_F_CSUM_OK = 1 << 0, /* NIC verified L4 checksum (virtio DATA_VALID) */
	PKT_F_PSUM = 1 << 1,    /* UDP payload as verified: its sum follows from the headers */
	PKT_F_BCAST = 1 << 2,   /* arrived to a broadcast/multicast address */
	/* 1 << 3: free (was PKT_F_REASM, the 8 KiB reassembly slots: gone,
	 * reassembly now chains the fragments' own pool buffers) */
	/* The L4 checksum field holds only the pseudo-header sum; the rest is
	 * left to the NIC (virtio NEEDS_CSUM): csum_start (from the Ethernet
	 * header) and csum_off (from csum_start) say where. Received so, the
	 * data came from the host's memory and counts as verified; sent so,
	 * the driver must finish the sum (in the device or in software). The
	 * stack keeps it only where the checksum stays valid as it is. */
	PKT_F_CSUM_PART = 1 << 4,
};

struct pkt {
	uint8_t *data;    /* current first byte (a header or the payload) */
	uint16_t len;     /* bytes from data */
	uint8_t owner;    /* enum pkt_owner */
	uint8_t flags;    /* enum pkt_flags */
	uint16_t l3;      /* offset of the IPv4 header from head (set by ip input) */
	uint16_t csum_start; /* with PKT_F_CSUM_PART */
	uint8_t *head;    /* buffer start */
	uint16_t cap;     /* buffer size */
	uint16_t index;   /* pool slot */
	uint16_t csum_off;   /* with PKT_F_CSUM_PART */
	struct pkt *next; /* free list / queue link */
	/* The next piece of the same datagram (a chain; NULL: the last, or
	 * a datagram in one buffer). Apart from next, so a chain can sit on
	 * a queue whole. The head carries the headers and the first bytes,
	 * each further piece's data/len the bytes it adds, in order. */
	struct pkt *frag_next;
};

struct pkt_stats {
	uint32_t alloc;
	uint32_t freed;
	uint32_t alloc_fail;  /* pool empty: the caller drops and counts */
	uint32_t bad_free;    /* double free or free of a foreign pointer */
	uint32_t bad_use;     /* a free buffer handed on: use after free */
	uint32_t low_water;   /* fewest free buffers ever seen */
};

extern struct pkt_stats pkt_stats;

void pkt_pool_init(void);
struct pkt *pkt_alloc(enum pkt_owner owner); /* data at the transport headroom, len 0 */
/* Frees p (not NULL) and every piece chained behind it (frag_next): a
 * chain is one datagram with one owner, so no drop path can leak its
 * tail. */
void pkt_free(struct pkt *p);
unsigned pkt_free_count(void);

/* Give the buffer to a new owner. Every hand-over goes through here, so
 * a debug build catches a freed buffer being passed on (use after free):
 * counted, and the buffer stays free. Returns 0 when p was not free. */
static inline int pkt_own(struct pkt *p, enum pkt_owner owner)
{
#if CFG_PKT_DEBUG
	if (p->owner == PKT_FREE) {
		pkt_stats.bad_use++;
		return -1;
	}
#endif
	p->owner = (uint8_t)owner;
	return 0;
}

static inline size_t pkt_headroom(const struct pkt *p)
{
	return (size_t)(p->data - p->head);
}

static inline size_t pkt_tailroom(const struct pkt *p)
{
	return p->cap - pkt_headroom(p) - p->len;
}

/* Prepend n header bytes; NULL if the headroom is too small. */
static inline uint8_t *pkt_push(struct pkt *p, size_t n)
{
	if (pkt_headroom(p) < n)
		return NULL;
	p->data -= n;
	p->len = (uint16_t)(p->len + n);
	return p->data;
}

/* Where the current header starts and how many bytes follow it. The
 * input path passes these layer to layer in registers (net.h) and sets
 * them in p only where p leaves that path. */
static inline void pkt_at(struct pkt *p, uint8_t *data, unsigned len)
{
	p->data = data;
	p->len = (uint16_t)len;
}

/* Strip n header bytes; the caller has checked n <= len. */
static inline void pkt_pull(struct pkt *p, size_t n)
{
	p->data += n;
	p->len = (uint16_t)(p->len - n);
}

/* Reset a buffer to hold a frame at the link offset (RX refill). */
static inline void pkt_reset_link(struct pkt *p)
{
	p->data = p->head + CFG_PKT_LINK_OFF;
	p->len = 0;
	p->flags = 0;
	p->frag_next = NULL;
}

/* Bytes of the datagram from p->data on, over every piece of its chain:
 * applications read a chain as
 *   for (const struct pkt *q = p; q; q = q->frag_next)
 *       use(q->data, q->len);
 */
static inline unsigned pkt_chain_len(const struct pkt *p)
{
	unsigned n = 0;
	for (; p; p = p->frag_next)
		n += p->len;
	return n;
}

/* Shorten the chain p to n bytes (n <= pkt_chain_len(p)): the piece
 * holding byte n - 1 ends there, the pieces behind it are freed (all of
 * them but the head when n <= p->len). */
void pkt_chain_trim(struct pkt *p, unsigned n);

/* A FIFO of buffers linked through p->next (OpenBSD's mbuf_list): the
 * one queue type of the stack (ARP's held packets, a PCB's datagrams). */
struct pktq {
	struct pkt *head, *tail;
	uint16_t len;
};

static inline void pktq_push(struct pktq *q, struct pkt *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
}

static inline struct pkt *pktq_pop(struct pktq *q)
{
	struct pkt *p = q->head;
	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	p->next = NULL;
	return p;
}

/* Free every buffer on q; returns how many there were. */
unsigned pktq_purge(struct pktq *q);

#endif
