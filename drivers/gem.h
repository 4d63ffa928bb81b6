/* Cadence GEM (the Ethernet MAC of the SiFive FU540/FU740, QEMU's
 * sifive_u), behind the NIC interface. */
#ifndef DRIVERS_GEM_H
#define DRIVERS_GEM_H

#include "nic.h"

/* Probe a GEM node: 0 if it is now running (n filled in), -1 if it is
 * not a GEM or could not be set up (said on the console). */
int gem_probe(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n);
/* The superloop's calls (struct nic_ops in nic.h). */
unsigned long gem_rx(struct pkt **v, unsigned long max);
void gem_flush(void);
int gem_idle(void);
int gem_flush_idle(void); /* flush, then idle: nic_ops.idle */
/* rx, deliver each frame, flush: the unit tests' poll. */
unsigned gem_poll(nic_deliver_fn deliver, unsigned budget);

#endif
