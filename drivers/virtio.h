/*
 * What the virtio-net driver needs of a transport (virtio 1.x section 4):
 * feature and status registers, queue setup, where to notify a queue,
 * the interrupt status, and the device's config space. virtio-mmio and
 * virtio-pci (modern and legacy) each provide one; the virtqueues, the
 * feature negotiation and the buffer handling are the driver's, shared.
 */
#ifndef DRIVERS_VIRTIO_H
#define DRIVERS_VIRTIO_H

#include <stdint.h>

struct vtransport {
	const char *name;      /* "virtio-mmio" / "virtio-pci" */
	int modern;            /* virtio 1.0 (VERSION_1, 12-byte net header) */
	uint64_t (*dev_features)(void);
	void (*set_features)(uint64_t f);
	uint8_t (*status)(void);
	void (*set_status)(uint8_t s);
	/* The largest size queue q may have; 0 if there is no such queue. */
	unsigned (*queue_max)(unsigned q);
	int fixed_size;        /* the queue must have exactly that size (legacy PCI) */
	/* Tell the device where queue q's rings are, with n entries, and
	 * enable it. A legacy device takes one page-aligned block whose
	 * layout follows from n (VQ_USED_OFF); 0, or -1 if it refuses. */
	int (*queue_setup)(unsigned q, unsigned n, uint64_t desc, uint64_t avail, uint64_t used);
	/* Where to write the queue index to notify queue q, and how wide. */
	uintptr_t (*notify_addr)(unsigned q);
	unsigned notify_width; /* 2 or 4 bytes */
	/* The interrupt status (bit 0 a queue, bit 1 the configuration
	 * changed), read in the interrupt handler without a call: with
	 * isr_ack a 32-bit register whose value is written back to isr_ack to
	 * acknowledge it (virtio-mmio), else a byte that reading clears (PCI). */
	uintptr_t isr, isr_ack;
	uint8_t (*config8)(unsigned off); /* the device's own configuration */
	char info[64];         /* where it sits, for the banner */
};

#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

/* virtio-net's configuration space (5.1.4) */
#define VNET_CFG_MAC 0
#define VNET_CFG_STATUS 6

/* virtio_mmio.c: the transport of a virtio-mmio slot holding a network
 * device, or NULL (an empty slot, or something else). */
const struct vtransport *virtio_mmio_open(uintptr_t base, uint64_t size);

#endif
