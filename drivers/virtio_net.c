/*
 * virtio-net over virtio-mmio or virtio-pci (virtio_mmio.c, virtio_pci.c:
 * the transports), legacy and modern.
 *
 * Two split virtqueues. Every RX descriptor holds one pool buffer, placed
 * so the Ethernet header lands at CFG_PKT_LINK_OFF whatever the NIC
 * header size; a TX frame goes out as one descriptor whose NIC header is
 * written into the buffer's headroom. No copies either way.
 *
 * Descriptors are taken in ring order: the n-th buffer ever posted to a
 * queue goes into descriptor n mod ring size, so the avail ring holds
 * ring[i] = i for good (written at setup) and no free list is kept. That
 * descriptor is the one posted a whole ring earlier, which an in-order
 * device (QEMU's) has long returned; one that is still out (a device
 * that completes out of order) is waited for, never reused: a buffer is
 * the device's exactly while its slot is set.
 *
 * The interrupt handler only acknowledges and records; the superloop
 * drives the rest through the NIC interface (nic.h), once per pass:
 * virtio_net_rx takes the frames the device returned, the stack answers
 * them, virtio_net_flush notifies and, in batches (CFG_RECLAIM_BATCH),
 * takes sent buffers back (each goes straight to the RX ring) and
 * refills, and virtio_net_idle arms the interrupt before the loop
 * sleeps. The RX interrupt is on while the loop sleeps and off while it
 * polls without sleeping (ring flags, no event index: negotiate says
 * why), the TX one is on only while the RX ring starves, and each queue
 * is notified once per pass at most.
 *
 * Checksums: with GUEST_CSUM a frame the device marks DATA_VALID is
 * PKT_F_CSUM_OK, and one it marks NEEDS_CSUM (the host's own datagram,
 * its L4 checksum left partial) is PKT_F_CSUM_OK | PKT_F_CSUM_PART with
 * csum_start and csum_off, its payload not summed here: the stack's
 * in-place reply keeps it partial, and on the way out the device (with
 * VIRTIO_NET_F_CSUM) or nic_csum_finish completes it.
 *
 * The device is not trusted to keep the ring protocol. A used entry
 * whose id the device does not hold, or a used index that moves further
 * than the buffers it holds, means its view of the rings and ours have
 * parted: every later entry could be stale, so the device is reset and
 * started again (counted in dev_errors), every ring buffer back in the
 * pool. A device that cannot be started again is marked FAILED and the
 * firmware runs on without a NIC. A bad length, or checksum offsets
 * outside the frame, only drop that frame (rx_bad).
 *
 * The receive filter: with CTRL_VQ and CTRL_RX offered, a third queue
 * carries commands (nic.mcast_filter, at join and leave): our MAC and
 * the multicast list in the MAC table, ALLMULTI for a list too long,
 * PROMISC off (QEMU resets to promiscuous). Each command is waited for
 * with a bounded spin; a refusal puts PROMISC back on, a broken control
 * ring resets the device, which then runs without the queue.
 *
 * Shaped for the per-frame cost (net/tune.h lists it): the state the
 * per-frame path touches lives in GP_DATA (one instruction away through
 * gp); rx, flush, idle and tx are leaves, their rare cases split off
 * into OUT_OF_LINE functions reached by a tail call, and their loops
 * start with reload_barrier(); RX descriptors' length and flags, TX
 * descriptors' flags and both avail rings are written once, at setup.
 */
#include <stdio.h>
#include <string.h>
#include "net/csum.h"
#include "config.h"
#include "platform.h"
#include "riscv.h"
#include "virtio.h"
#include "virtio_mmio.h"
#include "virtio_net.h"
#include "virtio_pci.h"

#define FRAME_MAX 1514
#define HDR_MAX 12
#define RXQ 0
#define TXQ 1
#define CTRLQ 2 /* after the one RX/TX pair: we never negotiate MQ */
/* Register reads while waiting for a reset to finish: a device that never
 * finishes must not hang the firmware. (The fuzzer waits less.) */
#ifndef VNET_RESET_SPINS
#define VNET_RESET_SPINS 100000
#endif
/* How long a control command may take. QEMU answers from its main loop
 * (the notify is an ioeventfd, under TCG too), which a busy host may not
 * run for milliseconds; a device that never answers must not hang a
 * join for longer. (The fuzzer waits less.) */
#ifndef VNET_CTRL_WAIT_MS
#define VNET_CTRL_WAIT_MS 1000
#endif
/* Multicast MACs the device's table gets; a longer list turns ALLMULTI
 * on instead. QEMU holds 64 addresses in all, our own one of them. */
#define VNET_MC_MAX 32
/* The control queue holds one command at a time, a chain of at most 4
 * descriptors (header, unicast table, multicast table, ack); legacy PCI
 * fixes its size (QEMU: 64), and a larger one goes without. */
#define CTRL_DESCS 4
#define CTRL_MAX 64

/* Ring indices start at 0, as the device expects after a reset; host
 * tests start both sides near the 16-bit wrap instead. */
#ifdef RVNET_HOST_MMIO
uint16_t virtio_net_host_start_idx;
#define START_IDX virtio_net_host_start_idx
#else
#define START_IDX 0
#endif
/* Sent buffers taken back at once, at most (virtio_net_flush); host
 * tests choose, 0 (every pass) unless they ask. */
#ifdef RVNET_HOST_MMIO
unsigned virtio_net_host_batch;
#define BATCH virtio_net_host_batch
#else
#define BATCH CFG_RECLAIM_BATCH
#endif

/* One split virtqueue. The indices are free-running counters in machine
 * words (no 16-bit wrap to redo after every step): the ring and the
 * device see their low 16 bits. Buffers on the ring (posted, not yet
 * taken back): avail_idx - last_used. */
struct vq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct pkt **slot;       /* descriptor id -> buffer, set while the device may hold it */
	unsigned long size, mask;
	unsigned long want;      /* buffers we post at most: the ring may be larger (legacy
				    PCI fixes its size) */
	unsigned long avail_idx; /* buffers posted; the next goes to descriptor avail_idx & mask
				    (RX: the device sees them at rx_publish) */
	unsigned long kicked;    /* avail_idx when the device was last told */
	unsigned long last_used; /* used entries taken */
	unsigned long counted;   /* frames_fold has counted up to here: last_used (RX;
				    a dropped frame moves it on uncounted) or avail_idx (TX) */
	uintptr_t notify;        /* where the queue index is written to notify */
};

/* Rings as large as a device may insist on (legacy PCI fixes the size);
 * CFG_RXQ_SIZE and CFG_TXQ_SIZE say how many buffers we put on them. */
#define VQ_MAX (CFG_VQ_MAX > CFG_RXQ_SIZE && CFG_VQ_MAX > CFG_TXQ_SIZE ? CFG_VQ_MAX \
		: CFG_RXQ_SIZE > CFG_TXQ_SIZE ? CFG_RXQ_SIZE : CFG_TXQ_SIZE)
static uint8_t rx_mem[VQ_BYTES(VQ_MAX)] __attribute__((aligned(VQ_ALIGN))) CFG_NOINIT;
static uint8_t tx_mem[VQ_BYTES(VQ_MAX)] __attribute__((aligned(VQ_ALIGN))) CFG_NOINIT;
static struct pkt *rx_slot[VQ_MAX], *tx_slot[VQ_MAX];
/* The TX ring's slots without a device (fail): one, never free, so that
 * tx_room() says no and vnet_tx needs no test of dev.live of its own. */
static struct pkt no_room;
static struct pkt *tx_dead[1] = {&no_room};
static GP_DATA struct vq rxq = {.slot = rx_slot};
static GP_DATA struct vq txq = {.slot = tx_slot};
/* virtio_net_rx found the RX ring broken: virtio_net_flush resets the
 * device, once the frames taken before the fault have been handed up. */
#define EV_RX_FAULT (1u << 8)
/* The control queue broke the protocol: virtio_net_flush resets the
 * device (only the poll resets it) and it runs on without the queue. */
#define EV_CTRL_FAULT (1u << 9)
/* No device: none started yet, or the one given up on (fail). The
 * flush's one test of events turns it away, and it needs no test of
 * dev.live of its own; neither does virtio_net_flush_idle's common path. */
#define EV_DEAD (1u << 10)
/* interrupt causes not yet handled, and the EV_ bits */
static GP_DATA volatile uint32_t events = EV_DEAD;

/* The control queue, off the per-frame path. Its buffers are ours for
 * good: what the last filter said stays in them, to be said again after
 * a reset (which forgets the filter: QEMU's passes everything again).
 * Bytes only, so no padding splits a table from its count; counts are
 * little-endian (legacy: the guest's order, the same here). */
static uint8_t ctrl_mem[VQ_BYTES(CTRL_MAX)] __attribute__((aligned(VQ_ALIGN))) CFG_NOINIT;
static struct vq ctrlq;
static struct {
	uint8_t hdr[2];       /* class, command */
	uint8_t on;           /* PROMISC's and ALLMULTI's argument */
	uint8_t ack;          /* the device's answer */
	uint8_t uni[4 + 6];   /* count 1, our MAC */
	uint8_t multi[4 + 6 * VNET_MC_MAX];
} ctrl;

/* The device, as probed, and the transport that reaches it. */
static GP_DATA struct {
	const struct vtransport *t; /* kept when the device is given up: its ISR still acks */
	int live;                   /* 0: none, or given up */
	int rx_open;                /* live, and no RX fault waits for the reset */
	uint32_t irq;
	uintptr_t isr, isr_ack;     /* the transport's interrupt status (virtio.h) */
	unsigned long hdrlen;
	unsigned long rx_off;       /* RX buffer address - head: the header lands before the frame */
	uint8_t tx_csum;            /* VIRTIO_NET_F_CSUM negotiated: the device finishes checksums */
	uint8_t tx_irq;             /* the TX completion interrupt is asked for */
	uint8_t notify16;           /* notifications are 16-bit writes (PCI), else 32-bit */
	uint8_t rx_fault;           /* with EV_RX_FAULT: RING_JUMP or RING_BAD_ID */
	uint8_t ctrl;               /* the control queue is set up and may be used */
	uint8_t ctrl_gone;          /* it broke the protocol: never negotiated again */
	unsigned long rx_low;       /* the flush takes a batch back once fewer RX buffers */
	unsigned long tx_slack;     /* are posted, or more TX buffers held (virtio_net_flush) */
	uint8_t filtered;           /* ctrl holds a filter, said again after a reset */
	uint8_t allmulti;           /* that filter: every multicast (the list was too long) */
	uint64_t features;
} dev;
static struct nic *self;      /* what the port sees: link state */
static GP_DATA struct nic_stats stats; /* self->stats points here */

/* nic.stats_sync. rx_frames and tx_frames are not counted per frame:
 * the rings' free-running positions say how many went by (RX: used
 * entries taken, less the ones dropped, which move counted on; TX:
 * frames posted). Folded into stats here, before anyone reads or clears
 * them, and before a drain or vq_setup moves the positions. */
static void frames_fold(void)
{
	stats.rx_frames += (uint32_t)(rxq.last_used - rxq.counted);
	stats.tx_frames += (uint32_t)(txq.avail_idx - txq.counted);
	rxq.counted = rxq.last_used;
	txq.counted = txq.avail_idx;
}

static inline unsigned long used_idx(const struct vq *q) { return *(volatile uint16_t *)&q->used->idx; }
/* Used entries waiting: the device's 16-bit index against ours. */
static inline unsigned long used_new(const struct vq *q) { return (uint16_t)(used_idx(q) - q->last_used); }
static inline unsigned long held(const struct vq *q) { return q->avail_idx - q->last_used; }
/* May a buffer go onto q now? The descriptor next in line must be back. */
static inline int can_post(const struct vq *q)
{
	return held(q) < q->want && !q->slot[q->avail_idx & q->mask];
}

/* The same for the TX ring, whose buffers may fill it (want == size): a
 * free descriptor next in line says it all. */
static inline int tx_room(void)
{
	return !txq.slot[txq.avail_idx & txq.mask];
}

/* Is the RX ring short of more buffers than a batch lets it be? Then
 * the flush takes sent buffers back and refills it. */
static inline int rx_short(void)
{
	return held(&rxq) < dev.rx_low;
}

/* want: the buffers we mean to post. A device that fixes its ring size
 * (legacy PCI) gets a ring of that size, if it is a power of two we have
 * room for; the others get the smallest power of two that holds want. */
static int vq_setup(struct vq *q, unsigned sel, uint8_t *mem, unsigned want, unsigned cap)
{
	const struct vtransport *t = dev.t;
	unsigned max = t->queue_max(sel), n = want;
	if (max == 0)
		return -1;
	if (t->fixed_size)
		n = max;
	while (n > max)
		n >>= 1;
	if (n > cap || (n & (n - 1)))
		return -1; /* indices are masked: a power of two */
	memset(mem, 0, VQ_BYTES(n));
	q->size = n;
	q->mask = n - 1;
	q->want = want < n ? want : n; /* TX: n (see vq_setup's callers) */
	q->desc = (struct vring_desc *)mem;
	q->avail = (struct vring_avail *)(mem + 16 * n);
	q->used = (struct vring_used *)(mem + VQ_USED_OFF(n));
	for (unsigned i = 0; i < n; i++)
		q->avail->ring[i] = (uint16_t)i; /* descriptors in ring order, for good */
	q->avail_idx = q->kicked = q->last_used = q->counted = START_IDX;
	q->avail->idx = q->used->idx = START_IDX;
	q->notify = t->notify_addr(sel);
	return t->queue_setup(sel, n, (uintptr_t)q->desc, (uintptr_t)q->avail, (uintptr_t)q->used);
}

/* Show the device the buffers put on the TX ring, up to idx (the new
 * avail_idx, passed in: the fence would have it read again). */
static inline void tx_publish(unsigned long idx)
{
	fence(); /* the descriptor before the index that shows it */
	txq.avail->idx = (uint16_t)idx;
}

/* Show the device the buffers put on the RX ring since. The RX ring is
 * read again only after this, so a used entry for a buffer not yet shown
 * is never taken for an honest one. */
static inline void rx_publish(void)
{
	fence(); /* descriptors before the index that shows them */
	rxq.avail->idx = (uint16_t)rxq.avail_idx;
}

/* Notify the device of new avail entries, unless it said it needs none
 * now (VRING_USED_F_NO_NOTIFY: it is at work on the queue). */
static inline void vq_kick(struct vq *q, unsigned sel)
{
	/* read before the fence, which would have it read again */
	unsigned long avail = q->avail_idx;
	fence(); /* our avail index out before we read the device's flag */
	int need = !(*(volatile uint16_t *)&q->used->flags & VRING_USED_F_NO_NOTIFY);
	q->kicked = avail;
	if (need) {
		/* counted first: under QEMU's -icount the write is best the
		 * last instruction before a branch (see isr_ack) */
		stats.notifies++;
		if (!dev.notify16)
			mmio_write32(q->notify, sel);
		else
			mmio_write16(q->notify, (uint16_t)sel);
	}
}

/* Ask for an interrupt on every used entry (on), or for none (off). */
static inline void vq_irq(struct vq *q, int on)
{
	q->avail->flags = on ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
}

/* Give a buffer to the device for one received frame (can_post said
 * yes); shown at rx_publish. Length and flags: rings_init. */
static inline void rx_post(struct pkt *p)
{
	unsigned long id = rxq.avail_idx++ & rxq.mask;
	rxq.slot[id] = p;
	rxq.desc[id].addr = (uintptr_t)(p->head + dev.rx_off);
}

static OUT_OF_LINE void rx_fill(void)
{
	while (can_post(&rxq)) {
		struct pkt *p = pkt_alloc(PKT_RXRING);
		if (!p) {
			stats.rx_nobuf++; /* retried on the next poll */
			break;
		}
		rx_post(p);
	}
}

/* Can the used index have moved by step? Only by as many entries as the
 * device holds buffers: a larger step (a jump, or an index moved
 * backwards) would have us read entries it never wrote. One compare per
 * look at the ring, not per entry. */
static inline int used_ok(const struct vq *q, unsigned long step)
{
	return step <= held(q);
}

/* The buffer a used entry returns, taken off the ring, or NULL when the
 * device does not hold the id it names. The id is sign-extended so that
 * one unsigned compare also turns away ids of 2^31 and more. */
static inline struct pkt *take(struct vq *q, const struct vring_used_elem *e)
{
	unsigned long id = (unsigned long)(long)(int32_t)e->id;
	struct pkt *p;
	if (id > q->mask || !(p = q->slot[id])) /* mask: size - 1 */
		return NULL;
	q->slot[id] = NULL;
	q->last_used++;
	return p;
}

enum { RING_OK, RING_JUMP, RING_BAD_ID, RING_CTRL };

static void restart(int fault, const struct vq *q);
static int ctrl_program(void);

/* Buffers taken off a ring that go back to the pool, linked through
 * next: freed after the loop, so that the loop itself calls nothing. */
static void drop_list(struct pkt *p)
{
	while (p) {
		struct pkt *next = p->next;
		pkt_free(p);
		p = next;
	}
}

/* Take sent buffers back, a batch at a time (virtio_net_flush). Each
 * goes straight back to the RX ring while that has room (it has: the
 * frames answered left their slots), skipping a trip through the pool;
 * the others are put on *dead. A broken ring is left as it is and
 * reported: only the poll may reset the device (vnet_tx runs inside
 * it), and it finds the same fault when it looks. Out of line, with
 * both rings' state in registers: a batch is what it loops over. */
static OUT_OF_LINE int tx_reclaim(struct pkt **dead)
{
	unsigned long k = used_new(&txq);
	if (!k)
		return RING_OK;
	if (!used_ok(&txq, k))
		return RING_JUMP;
	fence(); /* the entries after the index that shows them */
	/* Both rings walked with pointers, which wrap at their ends: no mask
	 * and scale per buffer. */
	const struct vring_used_elem *used = txq.used->ring, *u = &used[txq.last_used & txq.mask],
				     *uend = &used[txq.size];
	struct pkt **tslot = txq.slot, **rslot = rxq.slot, *list = *dead;
	struct vring_desc *rdesc = rxq.desc;
	unsigned long tsize = txq.size, last = txq.last_used;
	unsigned long ravail = rxq.avail_idx, rfull = rxq.last_used + rxq.want;
	struct pkt **rs = &rslot[ravail & rxq.mask], **rsend = &rslot[rxq.size];
	struct vring_desc *rd = &rdesc[ravail & rxq.mask];
	unsigned long off = dev.rx_off;
	int r = RING_OK;
	do {
		/* take(), in registers: the id sign-extended, so that one
		 * unsigned compare also turns away ids of 2^31 and more */
		unsigned long id = (unsigned long)(long)(int32_t)u->id;
		struct pkt *p;
		if (id >= tsize || !(p = tslot[id])) {
			r = RING_BAD_ID;
			break;
		}
		tslot[id] = NULL;
		last++;
		if (++u == uend)
			u = used;
		/* rx_post(), when can_post() would say yes */
		if (ravail != rfull && !*rs && !p->frag_next && pkt_own(p, PKT_RXRING) == 0) {
			*rs = p;
			rd->addr = (uintptr_t)(p->head + off);
			ravail++;
			rd++;
			if (++rs == rsend) {
				rs = rslot;
				rd = rdesc;
			}
		} else {
			p->next = list;
			list = p;
		}
	} while (--k);
	txq.last_used = last;
	rxq.avail_idx = ravail;
	*dead = list;
	return r;
}

/* The device's NIC header for a frame whose L4 checksum is partial: the
 * device finishes it. Offsets that do not lie inside the frame never
 * reach the device. 0, or -1: the frame cannot go out. */
static int tx_csum(struct pkt *p, uint8_t *h)
{
	unsigned start = p->csum_start, off = p->csum_off;
	if (!dev.tx_csum)
		return nic_csum_finish(p, &stats);
	if (start > p->len || off + 2u > p->len - start)
		return -1;
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h[6] = (uint8_t)start, h[7] = (uint8_t)(start >> 8);
	h[8] = (uint8_t)off, h[9] = (uint8_t)(off >> 8);
	return 0;
}

static OUT_OF_LINE int tx_drop(struct pkt *p, uint32_t *counter)
{
	(*counter)++;
	pkt_free(p);
	return -1;
}

/* Hand a frame of len bytes whose NIC header is written to the device
 * (tx_room said yes). Flags: rings_init. */
static inline int tx_post(struct pkt *p, unsigned long len)
{
	unsigned long idx = txq.avail_idx, id = idx & txq.mask;
	struct vring_desc *d = &txq.desc[id];
	txq.avail_idx = ++idx;
	txq.slot[id] = p;
	d->addr = (uintptr_t)(p->data - dev.hdrlen);
	d->len = (uint32_t)(dev.hdrlen + len);
	stats.tx_bytes += (uint32_t)len;
	tx_publish(idx);
	return 0;
}

/* A zero NIC header: no offloads asked for. HDR_MAX bytes, so the same
 * stores do for the 10-byte legacy header. A frame starts 2 bytes past a
 * word in practice (the pool's buffers are 64-byte aligned, the Ethernet
 * header at CFG_PKT_LINK_OFF), so a halfword, two words and a halfword do
 * it; other addresses take halfwords or bytes, with no call (vnet_tx
 * stays a leaf). */
static inline void hdr_zero(uint8_t *data)
{
	uint8_t *z = data - HDR_MAX;
	/* expected: the stores then lie on the straight path, no jumps */
	if (__builtin_expect(((uintptr_t)z & 3) == 2, 1)) {
		*(uint16_t *)(void *)z = 0;
		*(uint32_t *)(void *)(z + 2) = 0;
		*(uint32_t *)(void *)(z + 6) = 0;
		*(uint16_t *)(void *)(z + 10) = 0;
	} else if (((uintptr_t)z & 1) == 0) {
		uint16_t *w = (uint16_t *)(void *)z;
		w[0] = w[1] = w[2] = w[3] = w[4] = w[5] = 0;
	} else {
		for (int i = 0; i < HDR_MAX; i++)
			((volatile uint8_t *)z)[i] = 0;
	}
}

/* What vnet_tx leaves aside: a dead device, a frame that cannot be
 * sent, a full ring (sent buffers taken back first), a partial checksum. */
static OUT_OF_LINE int tx_slow(struct pkt *p)
{
	if (!dev.live || p->len > FRAME_MAX || pkt_headroom(p) < HDR_MAX)
		return tx_drop(p, &stats.tx_bad);
	if (!tx_room()) {
		struct pkt *dead = NULL;
		tx_reclaim(&dead);
		if (rxq.avail_idx != rxq.kicked) {
			/* what it put on the RX ring, told now: the flush
			 * looks for RX buffers to tell of only in its batches */
			rx_publish();
			vq_kick(&rxq, RXQ);
		}
		drop_list(dead);
		if (!tx_room())
			return tx_drop(p, &stats.tx_full);
	}
	hdr_zero(p->data);
	if ((p->flags & PKT_F_CSUM_PART) && tx_csum(p, p->data - dev.hdrlen))
		return tx_drop(p, &stats.tx_bad);
	return tx_post(p, p->len);
}

/* netif.output: a leaf; every rare case goes to tx_slow. A partial
 * checksum (the host's own datagram, echoed over a tap) goes out
 * NEEDS_CSUM for the device to finish when it took VIRTIO_NET_F_CSUM and
 * the offsets lie inside the frame (tx_csum's checks); tx_slow sorts out
 * the rest: the software sum, bad offsets, an odd address. */
static int vnet_tx(struct pkt *p)
{
	if (pkt_own(p, PKT_TXRING)) {
		stats.tx_bad++; /* a freed buffer: never put it on the ring */
		return -1;
	}
	/* len read once: hdr_zero's stores could be p's, to the compiler */
	unsigned long len = p->len;
	/* no device: no room either (fail) */
	if (len > FRAME_MAX || pkt_headroom(p) < HDR_MAX || !tx_room())
		return tx_slow(p);
	if (__builtin_expect(p->flags & PKT_F_CSUM_PART, 0)) {
		unsigned long start = p->csum_start, off = p->csum_off;
		if (!dev.tx_csum || start > len || off + 2 > len - start || ((uintptr_t)p->data & 1))
			return tx_slow(p);
		hdr_zero(p->data);
		/* little-endian fields (legacy: the guest's order, the same) */
		uint8_t *h = p->data - dev.hdrlen;
		h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		((u16a *)(void *)h)[3] = (uint16_t)start;
		((u16a *)(void *)h)[4] = (uint16_t)off;
		return tx_post(p, len);
	}
	hdr_zero(p->data);
	return tx_post(p, len);
}

/* The pkt flags of a received frame from its NIC header; -1 when its
 * checksum offsets do not lie inside the frame. NEEDS_CSUM: the sender
 * (the host's own stack) left the L4 checksum partial, and its data came
 * from the host's memory: counted as verified, left partial. */
static inline int rx_flags(struct pkt *p, const uint8_t *hdr, uint32_t len)
{
	uint8_t f = hdr[0];
	/* neither flag first: one test for a frame with none (a raw or
	 * forwarded frame, slirp's), as many as before for the others */
	if (!(f & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM)))
		return 0;
	if (f & VIRTIO_NET_HDR_F_DATA_VALID)
		return PKT_F_CSUM_OK;
	/* little-endian fields (legacy: the guest's order, the same here) at
	 * an even address: the header starts 2 or 4 bytes into the buffer */
	unsigned start = ((const u16a *)(const void *)hdr)[3], off = ((const u16a *)(const void *)hdr)[4];
	p->csum_start = (uint16_t)start; /* (stored first: fewer registers live) */
	p->csum_off = (uint16_t)off;
	if (start > len || off + 2u > len - start)
		return -1;
	return PKT_F_CSUM_OK | PKT_F_CSUM_PART;
}

static OUT_OF_LINE unsigned long rx_take(struct pkt **v, struct pkt **vp, struct pkt **vend);

/* A frame with a bad length or bad checksum offsets: counted, back to the
 * pool, and the ring read on for the frames v still has room for (a tail
 * call: however many bad frames come, the stack does not grow). */
static OUT_OF_LINE unsigned long rx_drop(struct pkt **v, struct pkt **vp, struct pkt **vend,
				    struct pkt *p)
{
	stats.rx_bad++;
	rxq.counted++; /* taken, but no frame (frames_fold) */
	pkt_free(p);
	return rx_take(v, vp, vend);
}

/* The frames taken before the fault are good: they are handed up, and
 * the device reset after (virtio_net_flush). Until then the ring is not
 * read past the fault: the next look finds it again. */
static OUT_OF_LINE unsigned long rx_fault(unsigned long n, int fault)
{
	dev.rx_fault = (uint8_t)fault;
	dev.rx_open = 0; /* what lies past the fault is not taken, whatever is posted meanwhile */
	__atomic_fetch_or(&events, EV_RX_FAULT, __ATOMIC_RELAXED);
	return n;
}

/* Take up to max (>= 1) received frames off the RX ring into v; the
 * caller owns them. Their descriptors stay empty until virtio_net_flush.
 * A leaf: the rare cases are tail calls. Frames with a bad length or bad
 * checksum offsets are counted (rx_bad) and go back to the pool. */
/* The loop of virtio_net_rx and rx_take: frames into vp.. until vend;
 * how many are in v then. */
static inline __attribute__((always_inline)) unsigned long rx_loop(struct pkt **v, struct pkt **vp,
							       struct pkt **vend, int first)
{
	unsigned long k = used_new(&rxq);
	/* max >= 1 (nic.h): only a call after a drop can find v full */
	if (!k || !dev.rx_open || (!first && vp == vend))
		return (unsigned long)(vp - v);
	if (!used_ok(&rxq, k))
		return rx_fault((unsigned long)(vp - v), RING_JUMP);
	fence(); /* the entries after the index that shows them */
	do {
		reload_barrier();
		struct vring_used_elem *e = &rxq.used->ring[rxq.last_used & rxq.mask];
		uint32_t len = e->len - (uint32_t)dev.hdrlen; /* a short one wraps: too long */
		struct pkt *p = take(&rxq, e);
		if (!p)
			return rx_fault((unsigned long)(vp - v), RING_BAD_ID);
		uint8_t *data = p->head + CFG_PKT_LINK_OFF;
		int flags = len <= FRAME_MAX ? rx_flags(p, data - dev.hdrlen, len) : -1;
		if (flags < 0) /* dropped ones do not count against max */
			return rx_drop(v, vp, vend, p);
		p->data = data;
		p->len = (uint16_t)len;
		p->flags = (uint8_t)flags;
		pkt_own(p, PKT_STACK);
		stats.rx_bytes += len;
		*vp++ = p;
	} while (--k && vp != vend);
	return (unsigned long)(vp - v);
}

OUT_OF_LINE unsigned long virtio_net_rx(struct pkt **v, unsigned long max)
{
	return rx_loop(v, v, v + max, 1);
}

/* The same loop, on after a dropped frame (rx_drop). */
static OUT_OF_LINE unsigned long rx_take(struct pkt **v, struct pkt **vp, struct pkt **vend)
{
	return rx_loop(v, vp, vend, 0);
}

static void link_update(void)
{
	if (dev.features & (1ull << VIRTIO_NET_F_STATUS))
		self->link_up = dev.t->config8(VNET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
}

/* Each queue told of what it got since (the RX entries shown first). */
static inline void kicks(void)
{
	if (rxq.avail_idx != rxq.kicked) {
		rx_publish();
		vq_kick(&rxq, RXQ);
	}
	if (txq.avail_idx != txq.kicked)
		vq_kick(&txq, TXQ);
}

/* What virtio_net_flush leaves aside: a broken RX ring, a configuration
 * change, and the batch: sent buffers back (onto the RX ring, the rest
 * to the pool), a broken TX ring, the RX ring refilled and notified. */
static OUT_OF_LINE int flush_slow(void)
{
	struct pkt *dead = NULL;
	int news = 0;
	if (!dev.live)
		return 0;
	if (events & EV_CTRL_FAULT) {
		/* the reset ends an RX fault too */
		__atomic_fetch_and(&events, ~(EV_CTRL_FAULT | EV_RX_FAULT), __ATOMIC_RELAXED);
		restart(RING_CTRL, &ctrlq);
		return 1;
	}
	if (events & EV_RX_FAULT) {
		__atomic_fetch_and(&events, ~EV_RX_FAULT, __ATOMIC_RELAXED);
		restart(dev.rx_fault, &rxq);
		return 1;
	}
	if (events & VIRTIO_IRQ_CONFIG) {
		/* atomic: the interrupt handler may be setting another bit */
		__atomic_fetch_and(&events, ~(uint32_t)VIRTIO_IRQ_CONFIG, __ATOMIC_RELAXED);
		stats.link_changes++;
		link_update();
		news = 1;
	}
	int fault = tx_reclaim(&dead);
	drop_list(dead);
	if (fault) {
		restart(fault, &txq);
		return 1;
	}
	if (can_post(&rxq))
		rx_fill();
	kicks();
	return news;
}

/* Is a batch due, or a fault or a configuration change waiting? The
 * flush's whole test (events holds nothing but those). */
static inline int flush_due(void)
{
	return events || rx_short() || held(&txq) > dev.tx_slack;
}

/* After the frames taken were handled: the TX queue notified of what it
 * got. Sent buffers are taken back (onto the RX ring) in batches, once
 * the RX ring holds fewer than dev.rx_low buffers or the TX ring more
 * than dev.tx_slack: one pass in that many pays for reading the TX
 * ring, publishing RX buffers and the RX notify check, not every pass.
 * A leaf but for flush_slow. Without a device (none probed: the rings
 * are empty and want none) nothing is due. The loop flushes instead of
 * going idle only when it goes on without sleeping (a full budget, the
 * busy-poll window): the RX interrupt is then turned off, as every
 * frame would otherwise raise one (ring flags, negotiate), and each
 * costs the busy loop a trip out of QEMU's CPU loop. The idle check
 * turns it back on and looks at the ring again. */
OUT_OF_LINE void virtio_net_flush(void)
{
	if (dev.live)
		vq_irq(&rxq, 0);
	if (flush_due()) {
		flush_slow();
		return;
	}
	if (txq.avail_idx != txq.kicked)
		vq_kick(&txq, TXQ);
}

/* The whole poll in one call, for the unit tests and the fuzzer: take
 * up to budget frames, hand each to deliver, flush. */
unsigned virtio_net_poll(nic_deliver_fn deliver, unsigned budget)
{
	struct pkt *v[32];
	unsigned n = 0, k;
	while (n < budget && (k = (unsigned)virtio_net_rx(v, budget - n < 32 ? budget - n : 32)) != 0) {
		for (unsigned i = 0; i < k; i++)
			deliver(v[i]);
		n += k;
	}
	virtio_net_flush();
	return n;
}

/* Before the superloop sleeps: the interrupts armed, the TX queue told
 * of what it got, and a last look at the rings. One fence serves the
 * interrupt flags written and the TX notify check (vq_kick's, or its
 * own): both are out before the device's indices are read. */
static inline __attribute__((always_inline)) int idle(int live)
{
	if (!live && !dev.live)
		return 0;
	/* what the look after the fence compares, kept in registers: the
	 * fence would have them read again */
	const volatile uint16_t *used = &rxq.used->idx;
	unsigned long last = rxq.last_used;
	vq_irq(&rxq, 1);
	/* Sent buffers come back without an interrupt; wait for one only when
	 * the RX ring is short (the flush's batch) of buffers that those
	 * would refill. */
	int shorted = rx_short();
	int starved = shorted && held(&txq);
	if (starved | dev.tx_irq) {
		vq_irq(&txq, starved);
		dev.tx_irq = (uint8_t)starved;
	}
	if (txq.avail_idx != txq.kicked)
		vq_kick(&txq, TXQ); /* its fence: the flags out too */
	else
		fence(); /* the flags out before we look at the rings again */
	if ((uint16_t)(*used - last))
		return 1;
	if (starved)
		return used_new(&txq) != 0;
	/* a refill can make progress */
	return shorted && can_post(&rxq) && pkt_free_count() > 0;
}

/* The unit tests' and the fuzzer's idle check, after their poll's flush.
 * A leaf. */
OUT_OF_LINE int virtio_net_idle(void)
{
	return idle(0);
}

/* A reset or a configuration change may have changed the link: no
 * sleep then, and the port looks (nic.h). */
static OUT_OF_LINE int flush_slow_idle(void)
{
	if (flush_slow())
		return NIC_IDLE_WORK | NIC_IDLE_LINK;
	return idle(0);
}

/* nic_ops.idle: the flush and the idle check in one leaf (the rare
 * cases tail-called), with one fence where the two calls had two.
 * Nothing in events: a device runs (EV_DEAD). */
OUT_OF_LINE int virtio_net_flush_idle(void)
{
	if (flush_due())
		return flush_slow_idle();
	return idle(1);
}

static void vnet_rings(unsigned *rx_posted, unsigned *tx_inflight)
{
	*rx_posted = (unsigned)held(&rxq);
	*tx_inflight = (unsigned)held(&txq);
}

/* Acknowledge and record, one handler per kind of interrupt status
 * (virtio.h), chosen at start. A device given up on is still
 * acknowledged: its interrupt line would stay raised otherwise. A used
 * buffer needs no record (the rings say so): only a configuration
 * change is kept in events, and nothing else the device sets there
 * (its other bits would read as our EV_ faults). */
static inline void isr_record(unsigned long s)
{
	if (s & VIRTIO_IRQ_CONFIG)
		__atomic_fetch_or(&events, VIRTIO_IRQ_CONFIG, __ATOMIC_RELAXED);
}

/* arg: the status register (dev.isr), which plic_dispatch loads for the
 * call anyway: one load less here. Counted and the ack's address loaded
 * before the accesses: under QEMU's -icount a register access in the
 * middle of a translated block ends it there and the rest runs again
 * as a block of its own (TB-level instruction counts see it twice). */
static void isr_ack(void *arg)
{
	uintptr_t ack = dev.isr_ack;
	stats.irqs++;
	long s = mmio_read32s((uintptr_t)arg);
	if (__builtin_expect(s & VIRTIO_IRQ_CONFIG, 0)) {
		mmio_write32l(ack, (unsigned long)s);
		isr_record((unsigned long)s);
		return;
	}
	mmio_write32l(ack, (unsigned long)s); /* on each path: it ends the block */
}

static void isr_read(void *arg)
{
	stats.irqs++; /* first, as in isr_ack */
	isr_record(mmio_read8((uintptr_t)arg)); /* reading clears it */
}

static int fail(const char *why)
{
	dev.t->set_status(dev.t->status() | VSTAT_FAILED);
	printf("virtio-net: %s; device left alone\n", why);
	dev.live = dev.rx_open = 0;
	txq.slot = tx_dead; /* the buffers it held stay in tx_slot, never reused */
	txq.mask = 0;
	__atomic_fetch_or(&events, EV_DEAD, __ATOMIC_RELAXED);
	if (self)
		self->link_up = 0;
	return -1;
}

/* Write 0 to the status and wait, boundedly, for the reset to finish. */
static int reset_device(void)
{
	dev.t->set_status(0);
	for (unsigned i = 0; i < VNET_RESET_SPINS; i++)
		if (dev.t->status() == 0)
			return 0;
	return -1;
}

/* Checksum offload both ways with CFG_GUEST_CSUM: GUEST_CSUM (we take
 * frames whose checksum is partial or already verified) and CSUM (the
 * device finishes the partial checksums we send). Not the event index
 * (VIRTIO_RING_F_EVENT_IDX): with ring flags the idle check stores one
 * flag instead of an index, and the TX notify check reads one flag the
 * device sets while it is busy: about 5 instructions less per echo
 * (make bench). What the index would add, no interrupt for the frames
 * that come while the loop is busy, the loop gets by turning the RX
 * interrupt off when it polls without sleeping (virtio_net_flush). */
static uint64_t negotiate(void)
{
	uint64_t want = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS;
	if (CFG_GUEST_CSUM)
		want |= 1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_CSUM;
	if (dev.t->modern)
		want |= 1ull << VIRTIO_F_VERSION_1;
	uint64_t offer = dev.t->dev_features();
	/* CTRL_RX needs the queue: both or neither */
	uint64_t cbits = 1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_CTRL_RX;
	if (!dev.ctrl_gone && (offer & cbits) == cbits)
		want |= cbits;
	uint64_t got = offer & want;
	dev.t->set_features(got);
	return got;
}

/* What never changes in a descriptor: an RX buffer's length and the
 * device's right to write it, a TX buffer's flags (0, set by vq_setup). */
static void rings_init(void)
{
	for (unsigned id = 0; id < rxq.size; id++) {
		rxq.desc[id].len = (uint32_t)(dev.hdrlen + FRAME_MAX);
		rxq.desc[id].flags = VRING_DESC_F_WRITE;
	}
}

/* The initialisation sequence (virtio 1.x 3.1.1) on a device just reset,
 * up to DRIVER_OK with the RX ring full. Again after a device error: the
 * device must then offer what it offered at probe time. */
static int start(int again)
{
	const struct vtransport *t = dev.t;
	t->set_status(VSTAT_ACK);
	t->set_status(VSTAT_ACK | VSTAT_DRIVER);
	uint64_t got = negotiate();
	if (again && got != dev.features)
		return fail("device changed its features");
	dev.features = got;
	uint8_t status = VSTAT_ACK | VSTAT_DRIVER;
	if (t->modern) {
		if (!(dev.features & (1ull << VIRTIO_F_VERSION_1)))
			return fail("modern device without VERSION_1");
		status |= VSTAT_FEATURES_OK;
		t->set_status(status);
		if (!(t->status() & VSTAT_FEATURES_OK))
			return fail("device rejected our features");
	}
	dev.tx_csum = !!(dev.features & (1ull << VIRTIO_NET_F_CSUM));
	dev.notify16 = t->notify_width == 2;
	dev.hdrlen = t->modern ? 12 : 10;
	dev.rx_off = CFG_PKT_LINK_OFF - dev.hdrlen;
	txq.slot = tx_slot; /* after a fail: tx_dead */
	if (vq_setup(&rxq, RXQ, rx_mem, CFG_RXQ_SIZE, VQ_MAX) ||
	    vq_setup(&txq, TXQ, tx_mem, CFG_TXQ_SIZE, VQ_MAX))
		return fail("queue setup failed");
	/* Without it the device goes on passing everything, as it was reset
	 * (negotiated but unused is allowed); CTRL_DESCS must fit. */
	dev.ctrl = (dev.features & (1ull << VIRTIO_NET_F_CTRL_RX)) &&
		   t->queue_max(CTRLQ) >= CTRL_DESCS &&
		   vq_setup(&ctrlq, CTRLQ, ctrl_mem, CTRL_DESCS, CTRL_MAX) == 0;
	/* Every TX descriptor may hold a frame (a ring the device made larger
	 * than CFG_TXQ_SIZE too): the descriptor next in line being free is
	 * then the whole test for room (tx_room). */
	txq.want = txq.size;
	/* A batch (virtio_net_flush) is a quarter of a ring at most, so that
	 * a burst still finds most of the RX ring posted; 0 for rings of
	 * fewer than 4: every pass. */
	dev.rx_low = rxq.want - (rxq.want / 4 < BATCH ? rxq.want / 4 : BATCH);
	dev.tx_slack = txq.size / 4 < BATCH ? txq.size / 4 : BATCH;
	rings_init();
	vq_irq(&txq, 0);
	dev.tx_irq = 0;
	rx_fill();
	rx_publish();
	t->set_status(status | VSTAT_DRIVER_OK);
	if (rxq.avail_idx != rxq.kicked)
		vq_kick(&rxq, RXQ); /* not before DRIVER_OK (3.1.1) */
	dev.rx_open = 1;
	return 0;
}

/* Every buffer on q back to the pool; the device no longer holds any.
 * The frame counts are folded first: the RX ring's position moves on
 * here with no frames behind it. */
static void vq_drain(struct vq *q)
{
	frames_fold();
	for (unsigned id = 0; id < q->size; id++) {
		struct pkt *p = q->slot[id];
		if (p) {
			q->slot[id] = NULL;
			pkt_free(p);
		}
	}
	q->last_used = q->counted = q->avail_idx;
}

/* The device broke the ring protocol on q. A reset ends its claim on
 * every buffer; one that does not finish resetting may still write to
 * them, so they stay on the dead rings, counted there, never reused. */
static OUT_OF_LINE void restart(int fault, const struct vq *q)
{
	/* Sent buffers taken back before the fault may sit on the RX ring
	 * unshown: shown now, the dead rings hold exactly what the device
	 * was given, should the reset not finish. */
	rx_publish();
	stats.dev_errors++;
	if (fault == RING_BAD_ID)
		stats.rx_bad++;
	if (fault != RING_CTRL)
		printf("virtio-net: %s %s; resetting the device\n", q == &rxq ? "rx" : "tx",
		       fault == RING_JUMP ? "used index jumped" : "used entry for a buffer it does not hold");
	if (reset_device()) {
		fail("device did not reset");
		return;
	}
	vq_drain(&rxq);
	vq_drain(&txq);
	if (start(1) == 0) {
		link_update();
		if (dev.ctrl && dev.filtered)
			ctrl_program();
	}
}

/* ---- the control queue: the receive filter (VIRTIO_NET_F_CTRL_RX) ---- */

enum { CTRL_OK, CTRL_NAK, CTRL_BROKEN };

static void le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16), b[3] = (uint8_t)(v >> 24);
}

/* The device left the protocol on the control queue: its view of that
 * ring and ours have parted, and it may still hold our command. The poll
 * resets it (a reset ends its claim and, in QEMU, passes everything
 * again) and starts it without the queue: the stack filters. */
static int ctrl_broken(const char *why)
{
	stats.filter_errors++;
	printf("virtio-net: control queue: %s; resetting the device without it\n", why);
	dev.ctrl = 0;
	dev.ctrl_gone = 1;
	dev.features &= ~(1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_CTRL_RX);
	if (self)
		self->mcast_filter = NULL;
	__atomic_fetch_or(&events, EV_CTRL_FAULT, __ATOMIC_RELAXED);
	return CTRL_BROKEN;
}

/* One command, its data already in ctrl, waited for: descriptor 0 heads
 * the chain every time (one command at a time). Everything the device
 * writes is checked: the used index must move by exactly one, within
 * VNET_CTRL_WAIT_MS, and the entry name descriptor 0; else the
 * queue is broken. An ack other than OK, or none written, is a refusal
 * (counted): the queue itself is still good. */
static int ctrl_cmd(uint8_t cls, uint8_t cmd)
{
	struct vring_desc *d = ctrlq.desc;
	unsigned n = 0;
	ctrl.hdr[0] = cls;
	ctrl.hdr[1] = cmd;
	ctrl.ack = 0xff; /* not OK until the device says so */
	d[n] = (struct vring_desc){(uintptr_t)ctrl.hdr, 2, VRING_DESC_F_NEXT, (uint16_t)(n + 1)}, n++;
	if (cls == VIRTIO_NET_CTRL_MAC) {
		/* two descriptors, as a legacy device without ANY_LAYOUT reads them */
		uint32_t k = ctrl.multi[0] | (uint32_t)ctrl.multi[1] << 8;
		d[n] = (struct vring_desc){(uintptr_t)ctrl.uni, sizeof ctrl.uni, VRING_DESC_F_NEXT,
					   (uint16_t)(n + 1)}, n++;
		d[n] = (struct vring_desc){(uintptr_t)ctrl.multi, 4 + 6 * k, VRING_DESC_F_NEXT,
					   (uint16_t)(n + 1)}, n++;
	} else {
		d[n] = (struct vring_desc){(uintptr_t)&ctrl.on, 1, VRING_DESC_F_NEXT, (uint16_t)(n + 1)}, n++;
	}
	d[n] = (struct vring_desc){(uintptr_t)&ctrl.ack, 1, VRING_DESC_F_WRITE, 0};
	ctrlq.avail->ring[ctrlq.avail_idx & ctrlq.mask] = 0;
	vq_irq(&ctrlq, 0); /* we poll: its interrupt would only wake the loop */
	ctrlq.avail_idx++;
	fence(); /* the chain before the index that shows it */
	ctrlq.avail->idx = (uint16_t)ctrlq.avail_idx;
	vq_kick(&ctrlq, CTRLQ);
	uint64_t end = timer_ticks() + timer_ms_to_ticks(VNET_CTRL_WAIT_MS);
	while (!used_new(&ctrlq) && (int64_t)(timer_ticks() - end) < 0)
		;
	unsigned long k = used_new(&ctrlq);
	if (k != 1)
		return ctrl_broken(k ? "used index jumped" : "no answer");
	fence(); /* the entry and the ack after the index that shows them */
	const volatile struct vring_used_elem *e = &ctrlq.used->ring[ctrlq.last_used & ctrlq.mask];
	uint32_t id = e->id, len = e->len;
	if (id != 0)
		return ctrl_broken("used entry for a command it does not hold");
	ctrlq.last_used++;
	if (len < 1 || *(volatile uint8_t *)&ctrl.ack != VIRTIO_NET_OK) {
		stats.filter_errors++;
		return CTRL_NAK;
	}
	return CTRL_OK;
}

/* The filter ctrl holds, told to the device: the table first, then
 * ALLMULTI, and PROMISC off last, so that no step drops a frame the
 * filter is to pass. A refusal turns PROMISC back on: the device passes
 * everything, as it did after the reset, and the stack filters. */
static int ctrl_program(void)
{
	int r = ctrl_cmd(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET);
	if (r == CTRL_OK) {
		ctrl.on = dev.allmulti;
		r = ctrl_cmd(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI);
	}
	if (r == CTRL_OK) {
		ctrl.on = 0;
		r = ctrl_cmd(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC);
	}
	if (r == CTRL_NAK) {
		ctrl.on = 1;
		ctrl_cmd(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC);
	}
	return r == CTRL_OK ? 0 : -1;
}

/* nic.mcast_filter: our MAC and the list in the device's MAC table, or
 * ALLMULTI when the list is longer than VNET_MC_MAX (then -1: the
 * device takes every multicast, as the contract asks). Broadcast passes
 * whatever the table holds (QEMU drops it only on NOBCAST, which we
 * never send). */
static int vnet_mcast_filter(struct nic *n, const uint8_t (*macs)[6], unsigned count)
{
	if (!dev.live || !dev.ctrl)
		return -1;
	unsigned k = count <= VNET_MC_MAX ? count : 0;
	le32(ctrl.uni, 1);
	memcpy(ctrl.uni + 4, n->mac, 6);
	le32(ctrl.multi, k);
	if (k)
		memcpy(ctrl.multi + 4, macs, 6 * k);
	dev.allmulti = count > VNET_MC_MAX;
	dev.filtered = 1;
	return ctrl_program() || dev.allmulti ? -1 : 0;
}

/* The driver over any transport: virtio_mmio.c's or virtio_pci.c's. */
int virtio_net_start(const struct vtransport *t, uint32_t irq, struct nic *n)
{
	static const uint8_t fallback_mac[6] = CFG_DEFAULT_MAC;
	if (dev.t)
		return -1; /* one device is driven */
	dev.t = t;
	dev.live = 1;
	events = 0; /* EV_DEAD again should it fail */
	dev.irq = irq;
	dev.isr = t->isr;
	dev.isr_ack = t->isr_ack;
	self = NULL;
	if (reset_device())
		return fail("device did not reset");
	if (start(0))
		return -1;
	self = n;
	for (unsigned i = 0; i < 6; i++)
		n->mac[i] = dev.features & (1ull << VIRTIO_NET_F_MAC) ? t->config8(VNET_CFG_MAC + i)
								       : fallback_mac[i];
	n->link_up = 1;
	link_update();
	n->mtu = FRAME_MAX - 14;
	n->caps = (dev.features & (1ull << VIRTIO_NET_F_GUEST_CSUM) ? NIC_CAP_RX_CSUM : 0) |
		  (dev.tx_csum ? NIC_CAP_TX_CSUM : 0);
	n->tx = vnet_tx;
	n->rings = vnet_rings;
	n->stats = &stats;
	n->stats_sync = frames_fold;
	n->mcast_filter = dev.ctrl ? vnet_mcast_filter : NULL;
	snprintf(n->info, sizeof n->info, "%s %s %s irq %u, rx %u tx %u, features %#llx", t->name,
		 t->modern ? "modern" : "legacy", t->info, irq, (unsigned)rxq.size, (unsigned)txq.size,
		 (unsigned long long)dev.features);
	plic_enable_hot(irq, dev.isr_ack ? isr_ack : isr_read, (void *)dev.isr);
	return 0;
}

/* A virtio,mmio node: ours if a network device sits in the slot. */
int virtio_net_probe(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n)
{
	(void)fi;
	const struct vtransport *t = d->has_reg ? virtio_mmio_open((uintptr_t)d->base, d->size) : NULL;
	return t && !dev.t ? virtio_net_start(t, d->irq, n) : -1;
}

#ifdef RVNET_HOST_MMIO
/* Host tests: reset the device, take the ring buffers back and forget
 * it, so that the next test probes a fresh one. */
void virtio_net_host_detach(void);
void virtio_net_host_detach(void)
{
	if (dev.live && reset_device() == 0) {
		vq_drain(&rxq);
		vq_drain(&txq);
	}
	/* a device that did not reset keeps its buffers: the test's next
	 * pkt_pool_init takes them back */
	memset(rx_slot, 0, sizeof rx_slot);
	memset(tx_slot, 0, sizeof tx_slot);
	dev.t = NULL;
	dev.live = dev.rx_open = 0;
	self = NULL;
	events = EV_DEAD;
	dev.rx_fault = 0;
	dev.ctrl = dev.ctrl_gone = dev.filtered = dev.allmulti = 0;
	frames_fold(); /* the positions stay where they are: counted from them */
	stats = (struct nic_stats){0};
}
#endif
