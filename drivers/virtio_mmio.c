/* virtio over MMIO (virtio 1.x section 4.2): version 2 (modern) and
 * version 1 (legacy), one register block per slot. */
#include <stddef.h>
#include <stdio.h>
#include "riscv.h"
#include "virtio.h"
#include "virtio_mmio.h"

static uintptr_t base;
static uint32_t version;
static struct vtransport vt;

static uint32_t rd(unsigned off) { return mmio_read32(base + off); }
static void wr(unsigned off, uint32_t v) { mmio_write32(base + off, v); }

/* Legacy devices have one page of feature bits; modern ones two. */
static uint64_t features(void)
{
	uint64_t f = 0;
	for (unsigned sel = 0; sel < version; sel++) {
		wr(VMMIO_DEV_FEATURES_SEL, sel);
		f |= (uint64_t)rd(VMMIO_DEV_FEATURES) << (32 * sel);
	}
	return f;
}

static void set_features(uint64_t f)
{
	for (unsigned sel = 0; sel < version; sel++) {
		wr(VMMIO_DRV_FEATURES_SEL, sel);
		wr(VMMIO_DRV_FEATURES, (uint32_t)(f >> (32 * sel)));
	}
}

static uint8_t status(void) { return (uint8_t)rd(VMMIO_STATUS); }
static void set_status(uint8_t s) { wr(VMMIO_STATUS, s); }

static unsigned queue_max(unsigned q)
{
	wr(VMMIO_QUEUE_SEL, q);
	return rd(VMMIO_QUEUE_NUM_MAX);
}

static int queue_setup(unsigned q, unsigned n, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(VMMIO_QUEUE_SEL, q);
	if (version == 2 && rd(VMMIO_QUEUE_READY))
		return -1; /* already live: not ours to set up */
	wr(VMMIO_QUEUE_NUM, n);
	if (version == 1) {
		if (desc % VQ_ALIGN)
			return -1;
		wr(VMMIO_GUEST_PAGE_SIZE, VQ_ALIGN);
		wr(VMMIO_QUEUE_ALIGN, VQ_ALIGN);
		wr(VMMIO_QUEUE_PFN, (uint32_t)(desc / VQ_ALIGN));
		return 0;
	}
	wr(VMMIO_QUEUE_DESC_LO, (uint32_t)desc);
	wr(VMMIO_QUEUE_DESC_HI, (uint32_t)(desc >> 32));
	wr(VMMIO_QUEUE_AVAIL_LO, (uint32_t)avail);
	wr(VMMIO_QUEUE_AVAIL_HI, (uint32_t)(avail >> 32));
	wr(VMMIO_QUEUE_USED_LO, (uint32_t)used);
	wr(VMMIO_QUEUE_USED_HI, (uint32_t)(used >> 32));
	wr(VMMIO_QUEUE_READY, 1);
	return 0;
}

static uintptr_t notify_addr(unsigned q)
{
	(void)q; /* one register; the value written names the queue */
	return base + VMMIO_QUEUE_NOTIFY;
}

static uint8_t config8(unsigned off) { return mmio_read8(base + VMMIO_CONFIG + off); }

/* A virtio-mmio slot with a network device in it, or NULL (an empty slot
 * reads device id 0). */
const struct vtransport *virtio_mmio_open(uintptr_t b, uint64_t size)
{
	if (size < VMMIO_CONFIG + 8)
		return NULL;
	uint32_t v = mmio_read32(b + VMMIO_VERSION);
	if (mmio_read32(b + VMMIO_MAGIC) != VIRTIO_MAGIC || (v != 1 && v != 2) ||
	    mmio_read32(b + VMMIO_DEVICE_ID) != VIRTIO_DEV_NET)
		return NULL;
	base = b;
	version = v;
	vt = (struct vtransport){
		.name = "virtio-mmio", .modern = v == 2,
		.dev_features = features, .set_features = set_features,
		.status = status, .set_status = set_status,
		.queue_max = queue_max, .queue_setup = queue_setup,
		.notify_addr = notify_addr, .notify_width = 4,
		.isr = b + VMMIO_IRQ_STATUS, .isr_ack = b + VMMIO_IRQ_ACK, .config8 = config8,
	};
	snprintf(vt.info, sizeof vt.info, "at %#lx", (unsigned long)b);
	return &vt;
}
