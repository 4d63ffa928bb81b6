/*
 * virtio-rng over virtio-mmio, legacy and modern, polled: one queue of
 * one descriptor, the device fills the buffer it points to, and we wait
 * for it in a bounded loop. It runs once, before the superloop, so it
 * needs no interrupt and keeps nothing: the device is reset when done.
 */
#include <string.h>
#include "net/config.h"
#include "platform.h"
#include "riscv.h"
#include "virtio_mmio.h"
#include "virtio_rng.h"

#define VIRTIO_DEV_RNG 4
#define RNG_MAX 64
#define PAGE 4096
#define USED_ALIGN 64 /* legacy: where the used ring starts (QueueAlign) */
#define TIMEOUT_MS 100

/* The legacy layout with a one-entry queue: descriptor, avail ring,
 * used ring on the next USED_ALIGN boundary; modern devices take the
 * same three addresses. Page-aligned: a legacy device takes a page
 * number. */
static struct {
	struct vring_desc desc;
	struct { uint16_t flags, idx, ring[1], used_event; } avail;
	struct {
		uint16_t flags, idx;
		struct vring_used_elem ring[1];
		uint16_t avail_event;
	} used __attribute__((aligned(USED_ALIGN)));
	uint8_t buf[RNG_MAX];
} q __attribute__((aligned(PAGE))) CFG_NOINIT;

static uintptr_t base;
static uint32_t rd(unsigned off) { return mmio_read32(base + off); }
static void wr(unsigned off, uint32_t v) { mmio_write32(base + off, v); }

static int is_rng(uintptr_t b)
{
	uint32_t ver = mmio_read32(b + VMMIO_VERSION);
	return mmio_read32(b + VMMIO_MAGIC) == VIRTIO_MAGIC && (ver == 1 || ver == 2) &&
	       mmio_read32(b + VMMIO_DEVICE_ID) == VIRTIO_DEV_RNG;
}

/* Reset, features (none but VERSION_1 on a modern device), queue 0.
 * 0, or -1 if the device will not have it. */
static int setup(uint32_t version)
{
	wr(VMMIO_STATUS, 0);
	wr(VMMIO_STATUS, VSTAT_ACK | VSTAT_DRIVER);
	uint32_t status = VSTAT_ACK | VSTAT_DRIVER;
	if (version == 2) {
		wr(VMMIO_DRV_FEATURES_SEL, 0);
		wr(VMMIO_DRV_FEATURES, 0);
		wr(VMMIO_DRV_FEATURES_SEL, 1);
		wr(VMMIO_DRV_FEATURES, 1); /* VIRTIO_F_VERSION_1, bit 32 */
		status |= VSTAT_FEATURES_OK;
		wr(VMMIO_STATUS, status);
		if (!(rd(VMMIO_STATUS) & VSTAT_FEATURES_OK))
			return -1;
	} else {
		wr(VMMIO_DRV_FEATURES, 0);
		wr(VMMIO_GUEST_PAGE_SIZE, PAGE);
	}
	wr(VMMIO_QUEUE_SEL, 0);
	if (rd(VMMIO_QUEUE_NUM_MAX) == 0)
		return -1;
	memset(&q, 0, sizeof q);
	wr(VMMIO_QUEUE_NUM, 1);
	if (version == 1) {
		wr(VMMIO_QUEUE_ALIGN, USED_ALIGN);
		wr(VMMIO_QUEUE_PFN, (uint32_t)((uintptr_t)&q / PAGE));
	} else {
		uint64_t d = (uintptr_t)&q.desc, a = (uintptr_t)&q.avail, u = (uintptr_t)&q.used;
		wr(VMMIO_QUEUE_DESC_LO, (uint32_t)d);
		wr(VMMIO_QUEUE_DESC_HI, (uint32_t)(d >> 32));
		wr(VMMIO_QUEUE_AVAIL_LO, (uint32_t)a);
		wr(VMMIO_QUEUE_AVAIL_HI, (uint32_t)(a >> 32));
		wr(VMMIO_QUEUE_USED_LO, (uint32_t)u);
		wr(VMMIO_QUEUE_USED_HI, (uint32_t)(u >> 32));
		wr(VMMIO_QUEUE_READY, 1);
	}
	wr(VMMIO_STATUS, status | VSTAT_DRIVER_OK);
	return 0;
}

/* One buffer for the device to fill; how many bytes it wrote. */
static size_t fill(size_t n)
{
	q.desc.addr = (uintptr_t)q.buf;
	q.desc.len = (uint32_t)n;
	q.desc.flags = VRING_DESC_F_WRITE;
	q.avail.ring[0] = 0; /* descriptor 0 */
	fence();
	q.avail.idx = 1;
	fence();
	wr(VMMIO_QUEUE_NOTIFY, 0);
	uint32_t start = timer_ms();
	while (*(volatile uint16_t *)&q.used.idx == 0)
		if (timer_ms() - start > TIMEOUT_MS)
			return 0;
	fence();
	uint32_t len = *(volatile uint32_t *)&q.used.ring[0].len;
	return len < n ? len : n;
}

size_t virtio_rng_read(const struct fdt_info *fi, void *out, size_t n)
{
	const struct fdt_dev *d = NULL;
	size_t got = 0;
	if (n > RNG_MAX)
		n = RNG_MAX;
	while ((d = fdt_find(fi, "virtio,mmio", d)) != NULL)
		if (d->has_reg && d->size >= VMMIO_CONFIG && is_rng((uintptr_t)d->base))
			break;
	if (!d || !n)
		return 0;
	base = (uintptr_t)d->base;
	if (setup(rd(VMMIO_VERSION)) == 0)
		got = fill(n);
	wr(VMMIO_IRQ_ACK, rd(VMMIO_IRQ_STATUS));
	wr(VMMIO_STATUS, 0); /* reset: it lets go of the queue */
	memcpy(out, q.buf, got);
	return got;
}
