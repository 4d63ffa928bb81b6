/*
 * The NIC drivers and the one probe over the device tree. A row of the
 * table names the compatible strings a driver binds to, its probe and
 * its per-pass calls (struct nic_ops), which the port calls through
 * pointers it keeps with its own state. Adding a driver: a row.
 */
#include <stddef.h>
#include "nic.h"
#include "gem.h"
#include "virtio_net.h"
#include "virtio_pci.h"

static const char *const virtio_mmio_compat[] = {"virtio,mmio", NULL};
static const char *const pci_ecam_compat[] = {"pci-host-ecam-generic", NULL};
static const char *const gem_compat[] = {"sifive,fu540-c000-gem", "cdns,macb", "cdns,gem", NULL};

static const struct nic_ops virtio_ops = {virtio_net_rx, virtio_net_flush, virtio_net_flush_idle};
static const struct nic_ops gem_ops = {gem_rx, gem_flush, gem_flush_idle};

static const struct nic_driver drivers[] = {
	{"virtio-net", virtio_mmio_compat, virtio_net_probe, &virtio_ops},
	{"virtio-net", pci_ecam_compat, virtio_pci_probe, &virtio_ops},
	{"gem", gem_compat, gem_probe, &gem_ops},
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
					the_nic.ops = drivers[k].ops;
					return &the_nic;
				}
	}
	return NULL;
}
