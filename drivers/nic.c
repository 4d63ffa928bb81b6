/*
 * The NIC drivers, the one probe over the device tree, and the calls
 * into the driver that was probed.
 *
 * Those calls go through a switch on the driver's row, not through a
 * pointer: the compiler can then inline a driver's poll and idle check
 * (a pointer cost about 100 instructions per echoed datagram; make
 * bench). With two drivers in the table GCC inlines neither into the
 * superloop; flatten would (35 instructions fewer) but pulls every cold
 * path and printf in too, 9 KB of code, so it is not used. Adding a
 * driver: a row in the table and a case in each switch.
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
	[NIC_VIRTIO_MMIO] = {"virtio-net", virtio_mmio_compat, virtio_net_probe,
			     virtio_net_poll, virtio_net_idle},
	[NIC_VIRTIO_PCI] = {"virtio-net", pci_ecam_compat, virtio_pci_probe, virtio_net_poll,
			    virtio_net_idle},
	[NIC_GEM] = {"gem", gem_compat, gem_probe, gem_poll, gem_idle},
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

unsigned nic_poll(struct nic *n, nic_deliver_fn deliver, unsigned budget)
{
	switch (n->driver) {
	case NIC_VIRTIO_MMIO:
	case NIC_VIRTIO_PCI: return drivers[NIC_VIRTIO_MMIO].poll(deliver, budget);
	case NIC_GEM: return drivers[NIC_GEM].poll(deliver, budget);
	}
	return 0;
}

int nic_idle(struct nic *n)
{
	switch (n->driver) {
	case NIC_VIRTIO_MMIO:
	case NIC_VIRTIO_PCI: return drivers[NIC_VIRTIO_MMIO].idle();
	case NIC_GEM: return drivers[NIC_GEM].idle();
	}
	return 0;
}
