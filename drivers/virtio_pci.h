/* virtio-net over PCI: the probe of the driver table's row for a
 * pci-host-ecam-generic bridge. */
#ifndef DRIVERS_VIRTIO_PCI_H
#define DRIVERS_VIRTIO_PCI_H

#include "nic.h"

/* Find a virtio-net function behind the bridge d, place its BARs, and
 * start it: 0 and n filled in, or -1 (said why, device left disabled). */
int virtio_pci_probe(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n);

#endif
