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
 */
#include <stdio.h>
#include <string.h>
#include "net/csum.h"
#include "config.h"
#include "platform.h"
#include "riscv.h"
#include "virtio_mmio.h"
#include "virtio_net.h"

#define FRAME_MAX 1514
#define HDR_MAX 12
#define RXQ 0
#define TXQ 1

struct vq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct pkt **slot;  /* descriptor id -> buffer */
	uint16_t *ids;      /* stack of free descriptor ids */
	uint16_t nids;
	uint16_t size, mask;
	uint16_t avail_idx; /* next avail slot (published at kick time) */
	uint16_t kicked;    /* avail_idx when the device was last told */
	uint16_t last_used; /* next used entry to consume */
};

static uint8_t rx_mem[VQ_BYTES(CFG_RXQ_SIZE)] __attribute__((aligned(VQ_ALIGN))) CFG_NOINIT;
static uint8_t tx_mem[VQ_BYTES(CFG_TXQ_SIZE)] __attribute__((aligned(VQ_ALIGN))) CFG_NOINIT;
static struct pkt *rx_slot[CFG_RXQ_SIZE], *tx_slot[CFG_TXQ_SIZE];
static uint16_t rx_ids[CFG_RXQ_SIZE], tx_ids[CFG_TXQ_SIZE];
static struct vq rxq = {.slot = rx_slot, .ids = rx_ids};
static struct vq txq = {.slot = tx_slot, .ids = tx_ids};
static volatile uint32_t events; /* interrupt causes not yet handled */
static int event_idx;

/* The device, as probed. */
static struct {
	uintptr_t base;
	uint32_t irq, version, hdrlen;
	uint64_t features;
} dev;
static struct nic *self;      /* what the port sees: link state */
static struct nic_stats stats; /* self->stats points here */

static uint32_t rd(unsigned off) { return mmio_read32(dev.base + off); }
static void wr(unsigned off, uint32_t v) { mmio_write32(dev.base + off, v); }
static volatile uint16_t *used_event(struct vq *q) { return &q->avail->ring[q->size]; }
static volatile uint16_t *avail_event(struct vq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->size];
}
static uint16_t used_idx(struct vq *q) { return *(volatile uint16_t *)&q->used->idx; }

static int vq_setup(struct vq *q, unsigned sel, uint8_t *mem, unsigned want)
{
	wr(VMMIO_QUEUE_SEL, sel);
	unsigned max = rd(VMMIO_QUEUE_NUM_MAX);
	if (max == 0 || (dev.version == 2 && rd(VMMIO_QUEUE_READY)))
		return -1;
	unsigned n = want; /* a power of two, for index masking */
	while (n > max)
		n >>= 1;
	memset(mem, 0, VQ_BYTES(n));
	q->size = (uint16_t)n;
	q->mask = (uint16_t)(n - 1);
	q->desc = (struct vring_desc *)mem;
	q->avail = (struct vring_avail *)(mem + 16 * n);
	q->used = (struct vring_used *)(mem + VQ_USED_OFF(n));
	q->nids = 0;
	for (unsigned i = n; i-- > 0;)
		q->ids[q->nids++] = (uint16_t)i;
	wr(VMMIO_QUEUE_NUM, n);
	if (dev.version == 1) {
		wr(VMMIO_QUEUE_ALIGN, VQ_ALIGN);
		wr(VMMIO_QUEUE_PFN, (uint32_t)((uintptr_t)mem / VQ_ALIGN));
	} else {
		uint64_t d = (uintptr_t)q->desc, a = (uintptr_t)q->avail, u = (uintptr_t)q->used;
		wr(VMMIO_QUEUE_DESC_LO, (uint32_t)d);
		wr(VMMIO_QUEUE_DESC_HI, (uint32_t)(d >> 32));
		wr(VMMIO_QUEUE_AVAIL_LO, (uint32_t)a);
		wr(VMMIO_QUEUE_AVAIL_HI, (uint32_t)(a >> 32));
		wr(VMMIO_QUEUE_USED_LO, (uint32_t)u);
		wr(VMMIO_QUEUE_USED_HI, (uint32_t)(u >> 32));
		wr(VMMIO_QUEUE_READY, 1);
	}
	return 0;
}

/* Publish new avail entries and notify, if the device asked to be told. */
static void vq_kick(struct vq *q, unsigned sel)
{
	if (q->avail_idx == q->kicked)
		return;
	fence();
	q->avail->idx = q->avail_idx;
	fence();
	int need = event_idx ? vring_need_event(*avail_event(q), q->avail_idx, q->kicked)
			     : !(*(volatile uint16_t *)&q->used->flags & VRING_USED_F_NO_NOTIFY);
	q->kicked = q->avail_idx;
	if (need) {
		wr(VMMIO_QUEUE_NOTIFY, sel);
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
	rxq.avail->ring[rxq.avail_idx++ & rxq.mask] = id;
}

static void rx_refill(void)
{
	while (rxq.nids) {
		struct pkt *p = pkt_alloc(PKT_RXRING);
		if (!p) {
			stats.rx_nobuf++; /* retried on the next poll */
			break;
		}
		rx_post(p);
	}
	vq_kick(&rxq, RXQ);
}

/* A sent buffer goes straight back to the RX ring while that has a free
 * slot (it usually has: the frame being answered left one), skipping a
 * trip through the pool. */
static void tx_reclaim(void)
{
	uint16_t end = used_idx(&txq);
	while (txq.last_used != end) {
		fence();
		uint32_t id = txq.used->ring[txq.last_used++ & txq.mask].id;
		struct pkt *p = id < txq.size ? txq.slot[id] : NULL;
		if (!p) {
			stats.rx_bad++;
			continue;
		}
		txq.slot[id] = NULL;
		txq.ids[txq.nids++] = (uint16_t)id;
		if (rxq.nids && !(p->flags & PKT_F_REASM) && pkt_own(p, PKT_RXRING) == 0) {
			rx_post(p);
		} else {
			pkt_free(p);
		}
	}
}

static int vnet_tx(struct pkt *p)
{
	if (pkt_own(p, PKT_TXRING)) {
		stats.tx_bad++; /* a freed buffer: never put it on the ring */
		return -1;
	}
	if (!dev.base || p->len > FRAME_MAX || pkt_headroom(p) < HDR_MAX) {
		stats.tx_bad++;
		pkt_free(p);
		return -1;
	}
	if (!txq.nids)
		tx_reclaim();
	if (!txq.nids) {
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
	txq.avail->ring[txq.avail_idx++ & txq.mask] = id;
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
		self->link_up = mmio_read8(dev.base + VMMIO_CONFIG + 6) & VIRTIO_NET_S_LINK_UP;
}

unsigned virtio_net_poll(nic_deliver_fn deliver, unsigned budget)
{
	unsigned n = 0;
	if (!dev.base)
		return 0;
	if (events & VIRTIO_IRQ_CONFIG) {
		events &= ~VIRTIO_IRQ_CONFIG;
		stats.link_changes++;
		link_update();
	}
	uint16_t end = used_idx(&rxq);
	while (rxq.last_used != end && n < budget) {
		fence();
		struct vring_used_elem *e = &rxq.used->ring[rxq.last_used++ & rxq.mask];
		uint32_t id = e->id, len = e->len;
		struct pkt *p = id < rxq.size ? rxq.slot[id] : NULL;
		if (!p) {
			stats.rx_bad++;
			continue;
		}
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
	tx_reclaim(); /* after RX, so sent buffers can fill the slots it freed */
	rx_refill();
	vq_kick(&txq, TXQ);
	return n;
}

int virtio_net_idle(void)
{
	if (!dev.base)
		return 0;
	vq_kick(&txq, TXQ);
	vq_irq(&rxq, 1);
	/* Sent buffers come back without an interrupt; wait for one only when
	 * the RX ring is starved for buffers that those would refill. */
	int starved = rxq.nids > rxq.size / 2 && txq.last_used != txq.avail_idx;
	vq_irq(&txq, starved);
	fence();
	if (used_idx(&rxq) != rxq.last_used || (starved && used_idx(&txq) != txq.last_used))
		return 1;
	if (starved)
		return 0;
	return rxq.nids > 0 && pkt_free_count() > 0; /* a refill can make progress */
}

static void vnet_rings(unsigned *rx_posted, unsigned *tx_inflight)
{
	*rx_posted = (unsigned)(rxq.size - rxq.nids);
	*tx_inflight = (unsigned)(txq.size - txq.nids);
}

static void isr(void *arg)
{
	(void)arg;
	uint32_t s = rd(VMMIO_IRQ_STATUS);
	wr(VMMIO_IRQ_ACK, s);
	events |= s;
	stats.irqs++;
}

static int fail(const char *why)
{
	wr(VMMIO_STATUS, rd(VMMIO_STATUS) | VSTAT_FAILED);
	printf("virtio-net: %s; device %#lx left alone\n", why, (unsigned long)dev.base);
	dev.base = 0;
	return -1;
}

static uint64_t negotiate(void)
{
	uint64_t want = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
			1ull << VIRTIO_RING_F_EVENT_IDX;
	if (CFG_GUEST_CSUM)
		want |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
	if (dev.version == 2)
		want |= 1ull << VIRTIO_F_VERSION_1;
	uint64_t offered = 0;
	for (unsigned sel = 0; sel < dev.version; sel++) {
		wr(VMMIO_DEV_FEATURES_SEL, sel);
		offered |= (uint64_t)rd(VMMIO_DEV_FEATURES) << (32 * sel);
	}
	uint64_t got = offered & want;
	for (unsigned sel = 0; sel < dev.version; sel++) {
		wr(VMMIO_DRV_FEATURES_SEL, sel);
		wr(VMMIO_DRV_FEATURES, (uint32_t)(got >> (32 * sel)));
	}
	return got;
}

/* A virtio-mmio slot: ours if a network device sits in it. */
static int is_net(uintptr_t base)
{
	uint32_t ver = mmio_read32(base + VMMIO_VERSION);
	return mmio_read32(base + VMMIO_MAGIC) == VIRTIO_MAGIC && (ver == 1 || ver == 2) &&
	       mmio_read32(base + VMMIO_DEVICE_ID) == VIRTIO_DEV_NET;
}

int virtio_net_probe(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n)
{
	static const uint8_t fallback_mac[6] = CFG_DEFAULT_MAC;
	(void)fi;
	if (dev.base || !d->has_reg || d->size < VMMIO_CONFIG + 8 || !is_net((uintptr_t)d->base))
		return -1; /* one device is driven; empty slots are not ours */
	dev.base = (uintptr_t)d->base;
	dev.irq = d->irq;
	dev.version = rd(VMMIO_VERSION);
	wr(VMMIO_STATUS, 0); /* reset */
	while (rd(VMMIO_STATUS) != 0)
		;
	wr(VMMIO_STATUS, VSTAT_ACK);
	wr(VMMIO_STATUS, VSTAT_ACK | VSTAT_DRIVER);
	dev.features = negotiate();
	uint32_t status = VSTAT_ACK | VSTAT_DRIVER;
	if (dev.version == 2) {
		if (!(dev.features & (1ull << VIRTIO_F_VERSION_1)))
			return fail("modern device without VERSION_1");
		status |= VSTAT_FEATURES_OK;
		wr(VMMIO_STATUS, status);
		if (!(rd(VMMIO_STATUS) & VSTAT_FEATURES_OK))
			return fail("device rejected our features");
	} else {
		wr(VMMIO_GUEST_PAGE_SIZE, VQ_ALIGN);
	}
	event_idx = !!(dev.features & (1ull << VIRTIO_RING_F_EVENT_IDX));
	dev.hdrlen = dev.version == 2 ? 12 : 10;
	if (vq_setup(&rxq, RXQ, rx_mem, CFG_RXQ_SIZE) || vq_setup(&txq, TXQ, tx_mem, CFG_TXQ_SIZE))
		return fail("queue setup failed");
	self = n;
	for (int i = 0; i < 6; i++)
		n->mac[i] = dev.features & (1ull << VIRTIO_NET_F_MAC)
				    ? mmio_read8(dev.base + VMMIO_CONFIG + i)
				    : fallback_mac[i];
	n->link_up = 1;
	link_update();
	n->mtu = FRAME_MAX - 14;
	n->caps = dev.features & (1ull << VIRTIO_NET_F_GUEST_CSUM) ? NIC_CAP_RX_CSUM : 0;
	n->tx = vnet_tx;
	n->rings = vnet_rings;
	n->stats = &stats;
	snprintf(n->info, sizeof n->info, "virtio-mmio %s at %#lx irq %u, rx %u tx %u, features %#llx",
		 dev.version == 1 ? "legacy" : "modern", (unsigned long)dev.base, dev.irq, rxq.size,
		 txq.size, (unsigned long long)dev.features);
	vq_irq(&txq, 0);
	plic_enable(dev.irq, isr, NULL);
	rx_refill();
	wr(VMMIO_STATUS, status | VSTAT_DRIVER_OK);
	rxq.kicked = 0; /* the device may have ignored a notify before DRIVER_OK */
	vq_kick(&rxq, RXQ);
	return 0;
}
