/*
 * PCI on a generic ECAM host bridge (pci-host-ecam-generic, QEMU virt):
 * the bridge's windows and interrupt map from the device tree, config
 * space access, enumeration, and BAR placement for the one device a
 * driver takes. Nothing has assigned BARs before us (-bios none, OpenSBI
 * neither), so the firmware does; devices it does not drive stay off.
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdint.h>
#include "fdt.h"

#define PCI_MAX_BARS 6

struct pci_window {
	uint64_t cpu;   /* where the CPU sees it */
	uint64_t pci;   /* the bus address the BARs get */
	uint64_t size;
	uint64_t used;  /* bytes handed out from the bottom */
};

struct pci_host {
	uintptr_t ecam;
	uint64_t ecam_size;
	uint32_t bus_lo, bus_hi;
	struct pci_window io, mem32, mem64; /* mem64: prefetchable, above 4 GiB */
	const uint8_t *imap;   /* interrupt-map, in the blob */
	uint32_t imap_len;
	uint32_t imap_mask[4]; /* interrupt-map-mask: 3 address cells + 1 pin cell */
};

struct pci_bar {
	uint64_t addr;   /* CPU address once placed; 0 if absent */
	uint64_t bus;    /* the address written into the BAR */
	uint64_t size;
	uint8_t io, is64, prefetch;
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsys;
	uint8_t pin;      /* 1..4 = INTA..INTD, 0 none */
	uint32_t irq;     /* interrupt controller source, 0 if none */
	struct pci_bar bar[PCI_MAX_BARS];
};

enum {
	PCI_E_DT = -1,      /* the node lacks or garbles reg, ranges, bus-range */
	PCI_E_NOSPACE = -2, /* a BAR does not fit its window */
	PCI_E_BAR = -3,     /* a BAR the device reports makes no sense */
};

/* Read a pci-host-ecam-generic node. 0 or PCI_E_DT. */
int pci_host_init(const struct fdt_info *fi, const struct fdt_dev *d, struct pci_host *h);
uint32_t pci_cfg_read(const struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
		      unsigned off);
void pci_cfg_write(const struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
		   unsigned off, uint32_t v);
/* Every function on every bus of the range, in order: match decides (0 =
 * take it). Multi-function devices are walked; bridges are recognised
 * and passed over (their secondary buses get no numbers from us, so the
 * devices behind them stay unseen). Returns 0 with *out filled for the
 * first match (BARs sized, not placed), -1 if none. */
int pci_find(const struct pci_host *h, int (*match)(const struct pci_dev *d, void *arg),
	     void *arg, struct pci_dev *out);
/* Place d's BARs in the host's windows, then turn on memory/IO decoding
 * and bus mastering. 0, or PCI_E_NOSPACE / PCI_E_BAR (nothing enabled). */
int pci_enable(struct pci_host *h, struct pci_dev *d);
/* The interrupt controller source for (slot, pin) from the interrupt-map
 * (a device on the root bus; pin 1..4). 0 if the map has none. */
uint32_t pci_irq(const struct pci_host *h, unsigned dev, unsigned pin);
/* A capability's offset in config space, walking at most 48 entries; 0
 * if absent. 'after' continues a walk (0 to start). */
unsigned pci_cap(const struct pci_host *h, const struct pci_dev *d, uint8_t id, unsigned after);

/* config space offsets */
#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_CLASS 0x08
#define PCI_HEADER 0x0c  /* header type in bits 23:16 */
#define PCI_BAR0 0x10
#define PCI_SUBSYS 0x2c  /* subsystem vendor 15:0, subsystem id 31:16 */
#define PCI_CAPS 0x34
#define PCI_INT 0x3c     /* line 7:0, pin 15:8 */
#define PCI_CMD_IO 1
#define PCI_CMD_MEM 2
#define PCI_CMD_MASTER 4
#define PCI_CMD_INTX_OFF (1u << 10)
#define PCI_STATUS_CAPS (1u << 20) /* in the COMMAND dword */
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11

#endif
