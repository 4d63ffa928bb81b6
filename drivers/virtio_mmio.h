/* virtio over MMIO (virtio 1.x section 4.2; legacy = version 1) and the
 * split virtqueue layout (section 2.7). */
#ifndef DRIVERS_VIRTIO_MMIO_H
#define DRIVERS_VIRTIO_MMIO_H

#include <stdint.h>

#define VIRTIO_MAGIC 0x74726976 /* "virt" */

enum {
	VMMIO_MAGIC = 0x000,
	VMMIO_VERSION = 0x004,
	VMMIO_DEVICE_ID = 0x008,
	VMMIO_DEV_FEATURES = 0x010,
	VMMIO_DEV_FEATURES_SEL = 0x014,
	VMMIO_DRV_FEATURES = 0x020,
	VMMIO_DRV_FEATURES_SEL = 0x024,
	VMMIO_GUEST_PAGE_SIZE = 0x028, /* legacy */
	VMMIO_QUEUE_SEL = 0x030,
	VMMIO_QUEUE_NUM_MAX = 0x034,
	VMMIO_QUEUE_NUM = 0x038,
	VMMIO_QUEUE_ALIGN = 0x03c,     /* legacy */
	VMMIO_QUEUE_PFN = 0x040,       /* legacy */
	VMMIO_QUEUE_READY = 0x044,
	VMMIO_QUEUE_NOTIFY = 0x050,
	VMMIO_IRQ_STATUS = 0x060,
	VMMIO_IRQ_ACK = 0x064,
	VMMIO_STATUS = 0x070,
	VMMIO_QUEUE_DESC_LO = 0x080,
	VMMIO_QUEUE_DESC_HI = 0x084,
	VMMIO_QUEUE_AVAIL_LO = 0x090,
	VMMIO_QUEUE_AVAIL_HI = 0x094,
	VMMIO_QUEUE_USED_LO = 0x0a0,
	VMMIO_QUEUE_USED_HI = 0x0a4,
	VMMIO_CONFIG = 0x100,
};

enum {
	VSTAT_ACK = 1,
	VSTAT_DRIVER = 2,
	VSTAT_DRIVER_OK = 4,
	VSTAT_FEATURES_OK = 8,
	VSTAT_FAILED = 128,
};

#define VIRTIO_IRQ_USED 1
#define VIRTIO_IRQ_CONFIG 2

#define VIRTIO_DEV_NET 1

/* feature bits */
#define VIRTIO_NET_F_CSUM 0       /* the device finishes partial checksums we send */
#define VIRTIO_NET_F_GUEST_CSUM 1 /* we take partial or verified checksums */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17   /* a control queue, after the RX/TX pair */
#define VIRTIO_NET_F_CTRL_RX 18   /* its receive filter commands */
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2

/* The control queue's commands (5.1.6.5): class, command, data, then an
 * ack byte the device writes. */
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_OK 0

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then uint16_t used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[]; /* then uint16_t avail_event */
};

/* Legacy layout: descriptors and avail ring, then the used ring on the
 * next 'align' boundary. Modern devices take the same three addresses. */
#define VQ_ALIGN 4096
#define VQ_ALIGN_UP(x) (((x) + VQ_ALIGN - 1) & ~(size_t)(VQ_ALIGN - 1))
#define VQ_USED_OFF(n) VQ_ALIGN_UP(16 * (size_t)(n) + 6 + 2 * (size_t)(n))
#define VQ_BYTES(n) (VQ_USED_OFF(n) + VQ_ALIGN_UP(6 + 8 * (size_t)(n)))

/* Event index arithmetic (virtio 1.x 2.7.10): would moving the index from
 * old to new cross the other side's event index? Wraps at 16 bits. */
static inline int vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif
