/*
 * The NIC drivers, the one probe over the device tree, and the calls
 * into the driver that was probed.
 *
 * Those calls go through a switch on the driver's row, not through
 * pointers, and the table holds only the probes: each driver's rx, flush
 * and idle is then called from one place and the compiler puts it whole
 * into the superloop (net/tune.h), where it runs with the loop's
 * registers and no call of its own. Adding a driver: a row in the table
 * and a case in each switch.
 */
#include <stddef.h>
#include "nic.h"
#include "gem.h"
#include "virtio_net.h"
#include "virtio_pci.h"

enum { NIC_VIRTIO_MMIO, NIC_VIRTIO_PCI, NIC_GEM };

static const char *const virtio_mmio_compat[] = {"virtio,mmio", NULL};
static const char *const pci_ecam_compat[] = {"pci-host-ecam-generic", NULL};
static const char *const gem_compat[] = {"sifive,fu540-c000-gem", "cdns,macb", "cdns,gem", NULL};

static const struct nic_driver drivers[] = {
	[NIC_VIRTIO_MMIO] = {"virtio-net", virtio_mmio_compat, virtio_net_probe},
	[NIC_VIRTIO_PCI] = {"virtio-net", pci_ecam_compat, virtio_pci_probe},
	[NIC_GEM] = {"gem", gem_compat, gem_probe},
};

static struct nic the_nic;

/* Devices in blob order, so a board's first NIC is the one that runs. */
struct nic *nic_probe(const struct fdt_info *fi)
{
	for (unsigned i = 0; i < fi->ndev; i++) {
		const struct fdt_dev *d = &fi->dev[i];
		if (d->disabled)
			continue;
		for (unsigned k = 0; k < sizeof drivers / sizeof drivers[0]; k++)
			for (const char *const *c = drivers[k].compat; *c; c++)
				if (fdt_is_compatible(d, *c) && drivers[k].probe(fi, d, &the_nic) == 0) {
					the_nic.driver = k;
					the_nic.name = drivers[k].name;
					return &the_nic;
				}
	}
	return NULL;
}

unsigned nic_rx(struct nic *n, struct pkt **v, unsigned max)
{
	switch (n->driver) {
	case NIC_VIRTIO_MMIO:
	case NIC_VIRTIO_PCI: return virtio_net_rx(v, max);
	case NIC_GEM: return gem_rx(v, max);
	}
	return 0;
}

void nic_flush(struct nic *n)
{
	switch (n->driver) {
	case NIC_VIRTIO_MMIO:
	case NIC_VIRTIO_PCI: virtio_net_flush(); break;
	case NIC_GEM: gem_flush(); break;
	}
}

int nic_idle(struct nic *n)
{
	switch (n->driver) {
	case NIC_VIRTIO_MMIO:
	case NIC_VIRTIO_PCI: return virtio_net_idle();
	case NIC_GEM: return gem_idle();
	}
	return 0;
}
