/*
 * virtio-net over virtio-mmio, legacy (version 1) and modern (version 2).
 *
 * Two split virtqueues. Every RX descriptor holds one pool buffer, placed
 * so the Ethernet header lands at CFG_PKT_LINK_OFF whatever the NIC
 * header size; a TX frame goes out as one descriptor whose NIC header is
 * written into the buffer's headroom. No copies either way.
 *
 * The interrupt handler only acknowledges and records; the superloop
 * polls it through the NIC interface (nic.h). Interrupts are suppressed while there is work
 * (event index where offered, ring flags otherwise), so a burst costs one
 * interrupt, and the TX side is kicked once per poll, not once per frame.
 *
 * The device is not trusted to keep the ring protocol. A used entry
 * whose id the device does not hold, or a used index that moves further
 * than the buffers it holds, means its view of the rings and ours have
 * parted: every later entry could be stale, so the device is reset and
 * started again (counted in dev_errors), every ring buffer back in the
 * pool. A device that cannot be started again is marked FAILED and the
 * firmware runs on without a NIC. A bad length only drops that frame.
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
/* Register reads while waiting for a reset to finish: a device that never
 * finishes must not hang the firmware. (The fuzzer waits less.) */
#ifndef VNET_RESET_SPINS
#define VNET_RESET_SPINS 100000
#endif

/* Ring indices start at 0, as the device expects after a reset; host
 * tests start both sides near the 16-bit wrap instead. */
#ifdef RVNET_HOST_MMIO
uint16_t virtio_net_host_start_idx;
#define START_IDX virtio_net_host_start_idx
#else
#define START_IDX 0
#endif

struct vq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct pkt **slot;  /* descriptor id -> buffer */
	uint16_t *ids;      /* stack of free descriptor ids */
	uint16_t nids;
	uint16_t size, mask;
	uint16_t avail_idx; /* next avail slot; published with each buffer */
	uint16_t kicked;    /* avail_idx when the device was last told */
	uint16_t last_used; /* next used entry to consume */
	uint16_t spare;     /* ring slots we never fill: the ring may be larger than
			       the buffers we mean to post (legacy PCI fixes its size) */
	uintptr_t notify;   /* where the queue index is written to notify */
};

/* Rings as large as a device may insist on (legacy PCI fixes the size);
 * CFG_RXQ_SIZE and CFG_TXQ_SIZE say how many buffers we put on them. */
#define VQ_MAX (CFG_VQ_MAX > CFG_RXQ_SIZE && CFG_VQ_MAX > CFG_TXQ_SIZE ? CFG_VQ_MAX \
		: CFG_RXQ_SIZE > CFG_TXQ_SIZE ? CFG_RXQ_SIZE : CFG_TXQ_SIZE)
static uint8_t rx_mem[VQ_BYTES(VQ_MAX)] __attribute__((aligned(VQ_ALIGN))) CFG_NOINIT;
static uint8_t tx_mem[VQ_BYTES(VQ_MAX)] __attribute__((aligned(VQ_ALIGN))) CFG_NOINIT;
static struct pkt *rx_slot[VQ_MAX], *tx_slot[VQ_MAX];
static uint16_t rx_ids[VQ_MAX], tx_ids[VQ_MAX];
static struct vq rxq = {.slot = rx_slot, .ids = rx_ids};
static struct vq txq = {.slot = tx_slot, .ids = tx_ids};
static volatile uint32_t events; /* interrupt causes not yet handled */
static int event_idx;

/* The device, as probed, and the transport that reaches it. */
static struct {
	const struct vtransport *t; /* kept when the device is given up: its ISR still acks */
	int live;                   /* 0: none, or given up */
	uint32_t irq, hdrlen;
	uint64_t features;
} dev;
static struct nic *self;      /* what the port sees: link state */
static struct nic_stats stats; /* self->stats points here */
static volatile uint16_t *used_event(struct vq *q) { return &q->avail->ring[q->size]; }
static volatile uint16_t *avail_event(struct vq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->size];
}
static uint16_t used_idx(struct vq *q) { return *(volatile uint16_t *)&q->used->idx; }

/* want: the buffers we mean to post. A device that fixes its ring size
 * (legacy PCI) gets a ring of that size, if it is a power of two we have
 * room for; the others get the smallest power of two that holds want. */
static int vq_setup(struct vq *q, unsigned sel, uint8_t *mem, unsigned want)
{
	const struct vtransport *t = dev.t;
	unsigned max = t->queue_max(sel), n = want;
	if (max == 0)
		return -1;
	if (t->fixed_size)
		n = max;
	while (n > max)
		n >>= 1;
	if (n > VQ_MAX || (n & (n - 1)))
		return -1; /* indices are masked: a power of two */
	memset(mem, 0, VQ_BYTES(n));
	q->size = (uint16_t)n;
	q->mask = (uint16_t)(n - 1);
	q->desc = (struct vring_desc *)mem;
	q->avail = (struct vring_avail *)(mem + 16 * n);
	q->used = (struct vring_used *)(mem + VQ_USED_OFF(n));
	q->nids = 0;
	for (unsigned i = n; i-- > 0;)
		q->ids[q->nids++] = (uint16_t)i;
	q->avail_idx = q->kicked = q->last_used = START_IDX;
	q->avail->idx = q->used->idx = START_IDX;
	q->spare = (uint16_t)(want < n ? n - want : 0);
	q->notify = t->notify_addr(sel);
	return t->queue_setup(sel, n, (uintptr_t)q->desc, (uintptr_t)q->avail, (uintptr_t)q->used);
}

/* Free slots we may still fill. */
static inline unsigned vq_room(const struct vq *q) { return (unsigned)q->nids - q->spare; }

/* Put a buffer on the avail ring. Published at once rather than at kick
 * time: a buffer is the device's exactly while its slot is set, so a used
 * entry for any other id is one the device had no right to return. */
static inline void vq_publish(struct vq *q, uint16_t id)
{
	struct vring_avail *a = q->avail;
	uint16_t idx = q->avail_idx;
	a->ring[idx & q->mask] = id;
	q->avail_idx = ++idx;
	fence(); /* the descriptor and entry before the index that shows them */
	a->idx = idx;
}

/* Notify the device of new avail entries, if it asked to be told. */
static void vq_kick(struct vq *q, unsigned sel)
{
	if (q->avail_idx == q->kicked)
		return;
	fence(); /* our avail index out before we read the device's event index */
	int need = event_idx ? vring_need_event(*avail_event(q), q->avail_idx, q->kicked)
			     : !(*(volatile uint16_t *)&q->used->flags & VRING_USED_F_NO_NOTIFY);
	q->kicked = q->avail_idx;
	if (need) {
		if (dev.t->notify_width == 2)
			mmio_write16(q->notify, (uint16_t)sel);
		else
			mmio_write32(q->notify, sel);
		stats.notifies++;
	}
}

/* Ask for an interrupt on the next used entry (on), or for none (off). */
static void vq_irq(struct vq *q, int on)
{
	if (event_idx)
		*used_event(q) = (uint16_t)(on ? q->last_used : q->last_used - 1);
	else
		q->avail->flags = on ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
}

/* Give a buffer to the device for one received frame. */
static void rx_post(struct pkt *p)
{
	uint16_t id = rxq.ids[--rxq.nids];
	struct vring_desc *d = &rxq.desc[id];
	rxq.slot[id] = p;
	d->addr = (uintptr_t)(p->head + CFG_PKT_LINK_OFF - dev.hdrlen);
	d->len = dev.hdrlen + FRAME_MAX;
	d->flags = VRING_DESC_F_WRITE;
	vq_publish(&rxq, id);
}

static void rx_fill(void)
{
	while (vq_room(&rxq)) {
		struct pkt *p = pkt_alloc(PKT_RXRING);
		if (!p) {
			stats.rx_nobuf++; /* retried on the next poll */
			break;
		}
		rx_post(p);
	}
}

static void rx_refill(void)
{
	rx_fill();
	vq_kick(&rxq, RXQ);
}

/* Can the used index have moved from last_used to end? Only by as many
 * entries as the device holds buffers: a larger step (a jump, or an index
 * moved backwards) would have us read entries it never wrote. One
 * compare per look at the ring, not per entry. */
static inline int used_ok(const struct vq *q, uint16_t end)
{
	unsigned step = (unsigned)end - q->last_used, held = (unsigned)q->size - q->nids;
	/* a backwards step fails too; the 16-bit wrap (rare) needs the second test */
	return step <= held || (uint16_t)step <= held;
}

enum { RING_OK, RING_JUMP, RING_BAD_ID };

/* A sent buffer goes straight back to the RX ring while that has a free
 * slot (it usually has: the frame being answered left one), skipping a
 * trip through the pool. A broken ring is left as it is and reported:
 * only poll may reset the device (vnet_tx can run inside its RX loop),
 * and it finds the same fault when it looks. */
static int tx_reclaim(void)
{
	uint16_t end = used_idx(&txq);
	if (!used_ok(&txq, end))
		return RING_JUMP;
	while (txq.last_used != end) {
		fence();
		uint32_t id = txq.used->ring[txq.last_used & txq.mask].id;
		struct pkt *p = id < txq.size ? txq.slot[id] : NULL;
		if (!p)
			return RING_BAD_ID;
		txq.last_used++;
		txq.slot[id] = NULL;
		txq.ids[txq.nids++] = (uint16_t)id;
		if (vq_room(&rxq) && !p->frag_next && pkt_own(p, PKT_RXRING) == 0) {
			rx_post(p);
		} else {
			pkt_free(p);
		}
	}
	return RING_OK;
}

static int vnet_tx(struct pkt *p)
{
	if (pkt_own(p, PKT_TXRING)) {
		stats.tx_bad++; /* a freed buffer: never put it on the ring */
		return -1;
	}
	if (!dev.live || p->len > FRAME_MAX || pkt_headroom(p) < HDR_MAX) {
		stats.tx_bad++;
		pkt_free(p);
		return -1;
	}
	if (!vq_room(&txq))
		tx_reclaim();
	if (!vq_room(&txq)) {
		stats.tx_full++;
		pkt_free(p);
		return -1;
	}
	/* A zero NIC header: no offloads asked for. Frames start at an even
	 * address in practice, so six halfword stores do it. */
	uint8_t *h = p->data - dev.hdrlen, *z = p->data - HDR_MAX;
	if (((uintptr_t)z & 1) == 0) {
		uint16_t *w = (uint16_t *)(void *)z;
		w[0] = w[1] = w[2] = w[3] = w[4] = w[5] = 0;
	} else {
		memset(z, 0, HDR_MAX);
	}
	uint16_t id = txq.ids[--txq.nids];
	struct vring_desc *d = &txq.desc[id];
	d->addr = (uintptr_t)h;
	d->len = dev.hdrlen + p->len;
	d->flags = 0;
	txq.slot[id] = p;
	vq_publish(&txq, id);
	stats.tx_frames++;
	stats.tx_bytes += p->len;
	return 0;
}

/* NEEDS_CSUM: the sender left the L4 checksum to us (a frame from the
 * host's own stack). Finish it so the stack sees an ordinary frame. */
static void finish_csum(struct pkt *p, const uint8_t *hdr)
{
	unsigned start = hdr[6] | hdr[7] << 8, off = hdr[8] | hdr[9] << 8;
	if (start > p->len || off + 2 > p->len - start)
		return; /* leave it: the stack's own check will drop the frame */
	uint8_t *field = p->data + start + off;
	uint16_t c = csum_finish(csum_add(0, p->data + start, p->len - start));
	c = c ? c : 0xffff;
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
	p->flags |= PKT_F_CSUM_OK;
	stats.csum_fixed++;
}

static void link_update(void)
{
	if (dev.features & (1ull << VIRTIO_NET_F_STATUS))
		self->link_up = dev.t->config8(VNET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
}

static void restart(int fault, const struct vq *q);

unsigned virtio_net_poll(nic_deliver_fn deliver, unsigned budget)
{
	unsigned n = 0;
	if (!dev.live)
		return 0;
	if (events & VIRTIO_IRQ_CONFIG) {
		/* atomic: the interrupt handler may be setting another bit */
		__atomic_fetch_and(&events, ~(uint32_t)VIRTIO_IRQ_CONFIG, __ATOMIC_RELAXED);
		stats.link_changes++;
		link_update();
	}
	int fault;
	uint16_t end = used_idx(&rxq);
	if (!used_ok(&rxq, end)) {
		fault = RING_JUMP;
		goto rx_broken;
	}
	while (rxq.last_used != end && n < budget) {
		fence();
		struct vring_used_elem *e = &rxq.used->ring[rxq.last_used & rxq.mask];
		uint32_t id = e->id, len = e->len;
		struct pkt *p = id < rxq.size ? rxq.slot[id] : NULL;
		if (!p) {
			fault = RING_BAD_ID;
			goto rx_broken;
		}
		rxq.last_used++;
		rxq.slot[id] = NULL;
		rxq.ids[rxq.nids++] = (uint16_t)id;
		if (len < dev.hdrlen || len > dev.hdrlen + FRAME_MAX) {
			stats.rx_bad++;
			pkt_free(p);
			continue;
		}
		const uint8_t *hdr = p->head + CFG_PKT_LINK_OFF - dev.hdrlen;
		p->data = p->head + CFG_PKT_LINK_OFF;
		p->len = (uint16_t)(len - dev.hdrlen);
		p->flags = 0;
		if (hdr[0] & VIRTIO_NET_HDR_F_DATA_VALID)
			p->flags = PKT_F_CSUM_OK;
		else if (hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			finish_csum(p, hdr);
		pkt_own(p, PKT_STACK);
		stats.rx_frames++;
		stats.rx_bytes += p->len;
		n++;
		deliver(p);
	}
	fault = tx_reclaim(); /* after RX, so sent buffers can fill the slots it freed */
	if (fault) {
		restart(fault, &txq);
		return n;
	}
	rx_refill();
	vq_kick(&txq, TXQ);
	return n;
rx_broken:
	restart(fault, &rxq);
	return n;
}

int virtio_net_idle(void)
{
	if (!dev.live)
		return 0;
	vq_kick(&txq, TXQ);
	vq_irq(&rxq, 1);
	/* Sent buffers come back without an interrupt; wait for one only when
	 * the RX ring is starved for buffers that those would refill. */
	int starved = vq_room(&rxq) > (unsigned)(rxq.size - rxq.spare) / 2 &&
		      txq.last_used != txq.avail_idx;
	vq_irq(&txq, starved);
	fence();
	if (used_idx(&rxq) != rxq.last_used || (starved && used_idx(&txq) != txq.last_used))
		return 1;
	if (starved)
		return 0;
	return vq_room(&rxq) > 0 && pkt_free_count() > 0; /* a refill can make progress */
}

static void vnet_rings(unsigned *rx_posted, unsigned *tx_inflight)
{
	*rx_posted = (unsigned)(rxq.size - rxq.nids);
	*tx_inflight = (unsigned)(txq.size - txq.nids);
}

/* A device given up on is still acknowledged: its interrupt line would
 * stay raised otherwise. */
static void isr(void *arg)
{
	(void)arg;
	uint32_t s = dev.t->isr();
	events |= s;
	stats.irqs++;
}

static int fail(const char *why)
{
	dev.t->set_status(dev.t->status() | VSTAT_FAILED);
	printf("virtio-net: %s; device left alone\n", why);
	dev.live = 0;
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

static uint64_t negotiate(void)
{
	uint64_t want = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
			1ull << VIRTIO_RING_F_EVENT_IDX;
	if (CFG_GUEST_CSUM)
		want |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
	if (dev.t->modern)
		want |= 1ull << VIRTIO_F_VERSION_1;
	uint64_t got = dev.t->dev_features() & want;
	dev.t->set_features(got);
	return got;
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
	event_idx = !!(dev.features & (1ull << VIRTIO_RING_F_EVENT_IDX));
	dev.hdrlen = t->modern ? 12 : 10;
	if (vq_setup(&rxq, RXQ, rx_mem, CFG_RXQ_SIZE) || vq_setup(&txq, TXQ, tx_mem, CFG_TXQ_SIZE))
		return fail("queue setup failed");
	vq_irq(&txq, 0);
	rx_fill();
	t->set_status(status | VSTAT_DRIVER_OK);
	vq_kick(&rxq, RXQ); /* not before DRIVER_OK (3.1.1) */
	return 0;
}

/* Every buffer on q back to the pool; the device no longer holds any. */
static void vq_drain(struct vq *q)
{
	for (unsigned id = 0; id < q->size; id++) {
		struct pkt *p = q->slot[id];
		if (p) {
			q->slot[id] = NULL;
			pkt_free(p);
		}
	}
	q->nids = q->size;
}

/* The device broke the ring protocol on q. A reset ends its claim on
 * every buffer; one that does not finish resetting may still write to
 * them, so they stay on the dead rings, counted there, never reused. */
static void restart(int fault, const struct vq *q)
{
	stats.dev_errors++;
	if (fault == RING_BAD_ID)
		stats.rx_bad++;
	printf("virtio-net: %s %s; resetting the device\n", q == &rxq ? "rx" : "tx",
	       fault == RING_JUMP ? "used index jumped" : "used entry for a buffer it does not hold");
	if (reset_device()) {
		fail("device did not reset");
		return;
	}
	vq_drain(&rxq);
	vq_drain(&txq);
	if (start(1) == 0)
		link_update();
}

/* The driver over any transport: virtio_mmio.c's or virtio_pci.c's. */
int virtio_net_start(const struct vtransport *t, uint32_t irq, struct nic *n)
{
	static const uint8_t fallback_mac[6] = CFG_DEFAULT_MAC;
	if (dev.t)
		return -1; /* one device is driven */
	dev.t = t;
	dev.live = 1;
	dev.irq = irq;
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
	n->caps = dev.features & (1ull << VIRTIO_NET_F_GUEST_CSUM) ? NIC_CAP_RX_CSUM : 0;
	n->tx = vnet_tx;
	n->rings = vnet_rings;
	n->stats = &stats;
	snprintf(n->info, sizeof n->info, "%s %s %s irq %u, rx %u tx %u, features %#llx", t->name,
		 t->modern ? "modern" : "legacy", t->info, irq, rxq.size, txq.size,
		 (unsigned long long)dev.features);
	plic_enable(irq, isr, NULL);
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
	dev.live = 0;
	self = NULL;
	events = 0;
	stats = (struct nic_stats){0};
}
#endif
