/* virtio-net over virtio-mmio or virtio-pci, behind the NIC interface. */
#ifndef DRIVERS_VIRTIO_NET_H
#define DRIVERS_VIRTIO_NET_H

#include "nic.h"

/* Probe a virtio,mmio node: 0 if a network device sits there and is now
 * running (n filled in), -1 otherwise (a failure is said on the console
 * and the device marked FAILED). */
int virtio_net_probe(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n);
/* The driver over a transport (virtio_mmio.c, virtio_pci.c): 0 and n
 * filled in, or -1 (said why; the device marked FAILED). */
struct vtransport;
int virtio_net_start(const struct vtransport *t, uint32_t irq, struct nic *n);
/* The superloop's calls (struct nic_ops in nic.h; max >= 1). */
unsigned long virtio_net_rx(struct pkt **v, unsigned long max);
void virtio_net_flush(void);
int virtio_net_idle(void);
int virtio_net_flush_idle(void); /* flush, then idle: nic_ops.idle */
/* rx, deliver each frame, flush: the unit tests' and the fuzzer's poll. */
unsigned virtio_net_poll(nic_deliver_fn deliver, unsigned budget);

#endif
