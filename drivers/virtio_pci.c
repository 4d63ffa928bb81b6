/*
 * virtio over PCI (virtio 1.x section 4.1): a virtio-net function found
 * on the ECAM host bridge, its BARs placed by pci.c, its interrupt the
 * INTx line the bridge's interrupt-map names. Modern devices (virtio 1.0,
 * device 0x1041) are driven through their vendor capabilities: common
 * configuration, notification (with its multiplier), ISR status and
 * device configuration. Legacy and transitional devices (0x1000) through
 * the register block of I/O BAR 0. A device that offers both is driven
 * as modern.
 *
 * MSI-X: QEMU virt has no interrupt controller that takes MSIs without
 * AIA, so the MSI-X capability, when present, is left disabled and the
 * device raises INTx, which the virtio spec requires it to fall back to
 * (4.1.4.3: with MSI-X off, no vectors are used).
 */
#include <stdio.h>
#include "pci.h"
#include "riscv.h"
#include "virtio.h"
#include "virtio_mmio.h"
#include "virtio_net.h"
#include "virtio_pci.h"

#define VENDOR_VIRTIO 0x1af4
#define DEV_NET_MODERN 0x1041
#define DEV_NET_LEGACY 0x1000 /* transitional: subsystem id 1 says network */

/* virtio vendor capability (cfg_type) */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* modern common configuration */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX_CONFIG 0x10
#define C_STATUS 0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_AVAIL 0x28
#define C_Q_USED 0x30
#define NO_VECTOR 0xffff

/* legacy register block in I/O BAR 0 (no MSI-X: config follows at 0x14) */
#define L_HOST_FEATURES 0x00
#define L_GUEST_FEATURES 0x04
#define L_Q_PFN 0x08
#define L_Q_SIZE 0x0c
#define L_Q_SELECT 0x0e
#define L_Q_NOTIFY 0x10
#define L_STATUS 0x12
#define L_ISR 0x13
#define L_CONFIG 0x14

static struct pci_host host;
static struct pci_dev pdev;
static struct {
	uintptr_t common, notify, isr, device; /* modern: CPU addresses of the regions */
	uint32_t notify_mult;
	uintptr_t io;                           /* legacy: the register block */
} r;
static struct vtransport vt;

static int is_virtio_net(const struct pci_dev *d, void *arg)
{
	(void)arg;
	return !(d->vendor == VENDOR_VIRTIO &&
		 (d->device == DEV_NET_MODERN || (d->device == DEV_NET_LEGACY && d->subsys == 1)));
}

/* ---- modern ---- */
static uint32_t c32(unsigned off) { return mmio_read32(r.common + off); }
static void w32(unsigned off, uint32_t v) { mmio_write32(r.common + off, v); }
static void w16(unsigned off, uint16_t v) { mmio_write16(r.common + off, v); }

static uint64_t m_features(void)
{
	w32(C_DFSELECT, 0);
	uint64_t f = c32(C_DF);
	w32(C_DFSELECT, 1);
	return f | (uint64_t)c32(C_DF) << 32;
}

static void m_set_features(uint64_t f)
{
	w32(C_GFSELECT, 0);
	w32(C_GF, (uint32_t)f);
	w32(C_GFSELECT, 1);
	w32(C_GF, (uint32_t)(f >> 32));
}

static uint8_t m_status(void) { return mmio_read8(r.common + C_STATUS); }
static void m_set_status(uint8_t s) { mmio_write8(r.common + C_STATUS, s); }

static unsigned m_queue_max(unsigned q)
{
	w16(C_Q_SELECT, (uint16_t)q);
	return mmio_read16(r.common + C_Q_SIZE);
}

static int m_queue_setup(unsigned q, unsigned n, uint64_t desc, uint64_t avail, uint64_t used)
{
	w16(C_Q_SELECT, (uint16_t)q);
	if (mmio_read16(r.common + C_Q_ENABLE))
		return -1; /* already live: not ours to set up */
	w16(C_Q_SIZE, (uint16_t)n);
	w16(C_Q_MSIX, NO_VECTOR);
	w32(C_Q_DESC, (uint32_t)desc);
	w32(C_Q_DESC + 4, (uint32_t)(desc >> 32));
	w32(C_Q_AVAIL, (uint32_t)avail);
	w32(C_Q_AVAIL + 4, (uint32_t)(avail >> 32));
	w32(C_Q_USED, (uint32_t)used);
	w32(C_Q_USED + 4, (uint32_t)(used >> 32));
	w16(C_Q_ENABLE, 1);
	return 0;
}

static uintptr_t m_notify_addr(unsigned q)
{
	w16(C_Q_SELECT, (uint16_t)q);
	return r.notify + (uintptr_t)mmio_read16(r.common + C_Q_NOFF) * r.notify_mult;
}

static uint8_t m_config8(unsigned off) { return mmio_read8(r.device + off); }

/* The CPU address of a capability's region, if it lies inside a BAR we
 * placed: the offsets are the device's word, so they are checked. */
static uintptr_t region(unsigned cap, uint32_t need)
{
	uint32_t w1 = pci_cfg_read(&host, pdev.bus, pdev.dev, pdev.fn, cap + 4);
	uint32_t off = pci_cfg_read(&host, pdev.bus, pdev.dev, pdev.fn, cap + 8);
	uint32_t len = pci_cfg_read(&host, pdev.bus, pdev.dev, pdev.fn, cap + 12);
	unsigned bar = w1 & 0xff;
	if (bar >= PCI_MAX_BARS || !pdev.bar[bar].addr || pdev.bar[bar].io || len < need ||
	    off > pdev.bar[bar].size || len > pdev.bar[bar].size - off)
		return 0;
	return (uintptr_t)(pdev.bar[bar].addr + off);
}

static int modern_caps(void)
{
	for (unsigned c = pci_cap(&host, &pdev, PCI_CAP_VENDOR, 0); c;
	     c = pci_cap(&host, &pdev, PCI_CAP_VENDOR, c)) {
		unsigned type = pci_cfg_read(&host, pdev.bus, pdev.dev, pdev.fn, c) >> 24;
		if (type == CAP_COMMON && !r.common)
			r.common = region(c, 0x38);
		else if (type == CAP_NOTIFY && !r.notify) {
			r.notify = region(c, 2);
			r.notify_mult = pci_cfg_read(&host, pdev.bus, pdev.dev, pdev.fn, c + 16);
		} else if (type == CAP_ISR && !r.isr)
			r.isr = region(c, 1);
		else if (type == CAP_DEVICE && !r.device)
			r.device = region(c, 8);
	}
	return r.common && r.notify && r.isr && r.device ? 0 : -1;
}

/* ---- legacy ---- */
static uint64_t l_features(void) { return mmio_read32(r.io + L_HOST_FEATURES); }
static void l_set_features(uint64_t f) { mmio_write32(r.io + L_GUEST_FEATURES, (uint32_t)f); }
static uint8_t l_status(void) { return mmio_read8(r.io + L_STATUS); }
static void l_set_status(uint8_t s) { mmio_write8(r.io + L_STATUS, s); }

static unsigned l_queue_max(unsigned q)
{
	mmio_write16(r.io + L_Q_SELECT, (uint16_t)q);
	return mmio_read16(r.io + L_Q_SIZE);
}

/* Legacy PCI fixes the queue size (the driver cannot choose) and takes
 * the rings as one page-aligned block, by page number. */
static int l_queue_setup(unsigned q, unsigned n, uint64_t desc, uint64_t avail, uint64_t used)
{
	(void)avail;
	(void)used;
	mmio_write16(r.io + L_Q_SELECT, (uint16_t)q);
	if (mmio_read16(r.io + L_Q_SIZE) != n || mmio_read32(r.io + L_Q_PFN) || (desc % VQ_ALIGN))
		return -1;
	mmio_write32(r.io + L_Q_PFN, (uint32_t)(desc / VQ_ALIGN));
	return 0;
}

static uintptr_t l_notify_addr(unsigned q)
{
	(void)q;
	return r.io + L_Q_NOTIFY;
}

static uint8_t l_config8(unsigned off) { return mmio_read8(r.io + L_CONFIG + off); }

int virtio_pci_probe(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n)
{
	if (pci_host_init(fi, d, &host) || pci_find(&host, is_virtio_net, NULL, &pdev))
		return -1;
	int err = pci_enable(&host, &pdev);
	if (err) {
		printf("virtio-pci: %02x:%02x.%x: %s; left disabled\n", pdev.bus, pdev.dev, pdev.fn,
		       err == PCI_E_NOSPACE ? "BARs do not fit the bridge's windows" : "bad BAR");
		return -1;
	}
	if (modern_caps() == 0) {
		vt = (struct vtransport){
			.name = "virtio-pci", .modern = 1,
			.dev_features = m_features, .set_features = m_set_features,
			.status = m_status, .set_status = m_set_status,
			.queue_max = m_queue_max, .queue_setup = m_queue_setup,
			.notify_addr = m_notify_addr, .notify_width = 2,
			.isr = r.isr, .config8 = m_config8, /* reading clears it */
		};
		mmio_write16(r.common + C_MSIX_CONFIG, NO_VECTOR);
	} else {
		if (pdev.device == DEV_NET_MODERN || !pdev.bar[0].io || pdev.bar[0].size < L_CONFIG + 8) {
			printf("virtio-pci: %02x:%02x.%x: no usable register block\n", pdev.bus,
			       pdev.dev, pdev.fn);
			return -1;
		}
		r.io = (uintptr_t)pdev.bar[0].addr;
		vt = (struct vtransport){
			.name = "virtio-pci", .modern = 0,
			.dev_features = l_features, .set_features = l_set_features,
			.status = l_status, .set_status = l_set_status,
			.queue_max = l_queue_max, .fixed_size = 1, .queue_setup = l_queue_setup,
			.notify_addr = l_notify_addr, .notify_width = 2,
			.isr = r.io + L_ISR, .config8 = l_config8, /* reading clears it */
		};
	}
	int at = snprintf(vt.info, sizeof vt.info, "%02x:%02x.%x", pdev.bus, pdev.dev, pdev.fn);
	for (unsigned i = 0; i < PCI_MAX_BARS && at > 0 && (unsigned)at < sizeof vt.info; i++)
		if (pdev.bar[i].addr)
			at += snprintf(vt.info + at, sizeof vt.info - (unsigned)at, " bar%u %#llx", i,
				       (unsigned long long)pdev.bar[i].addr);
	return virtio_net_start(&vt, pdev.irq, n);
}
