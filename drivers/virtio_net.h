#ifndef DRIVERS_VIRTIO_NET_H
#define DRIVERS_VIRTIO_NET_H

#include <stdint.h>
#include "fdt.h"
#include "net/pkt.h"

struct nic_stats {
	uint32_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint32_t rx_nobuf;   /* RX slot left empty: pool exhausted (refilled later) */
	uint32_t rx_bad;     /* device returned a bad descriptor id or length */
	uint32_t tx_full;    /* TX ring full: frame dropped */
	uint32_t tx_bad;     /* frame too big or no headroom for the NIC header */
	uint32_t irqs, notifies, config_changes;
	uint32_t csum_fixed; /* NEEDS_CSUM frames completed in software */
};

struct nic_info {
	uintptr_t base;
	uint32_t irq, version, rxq, txq, hdrlen;
	uint64_t features;
	uint8_t mac[6];
	uint8_t link_up;
};

extern struct nic_stats nic_stats;
extern struct nic_info nic;

/* Finds and starts the first virtio-net device; 0, or -1 (FAILED set,
 * reason printed) and the firmware runs without a NIC. */
int virtio_net_init(const struct fdt_info *b);
/* Reclaims sent buffers, hands up to 'budget' received frames to
 * deliver (p->data at the Ethernet header; deliver owns p), refills the
 * RX ring and sends the notifications the device asked for. Returns
 * the number of frames delivered. */
unsigned virtio_net_poll(void (*deliver)(struct pkt *p), unsigned budget);
/* Anything for the superloop to do? Also arms the interrupts needed
 * to wake it when there is not. Call with interrupts masked. */
int virtio_net_idle_check(void);
int virtio_net_tx(struct pkt *p); /* netif.output; takes ownership */
unsigned virtio_net_rx_posted(void);
unsigned virtio_net_tx_inflight(void);

#endif
