/* PCI over ECAM: the host bridge from the device tree, enumeration, BAR
 * placement, INTx routing. Everything read from the tree or from config
 * space is checked before it is used. */
#include <string.h>
#include "pci.h"
#include "riscv.h"

#define ECAM_BUS_SIZE (1u << 20)
#define SPACE(hi) ((hi) >> 24 & 3) /* phys.hi space code */
#define SPACE_IO 1
#define SPACE_MEM32 2
#define SPACE_MEM64 3
#define PREFETCH (1u << 30)
#define IO_FLOOR 0x1000 /* leave the legacy ISA ports alone, as Linux does */

static uint32_t prop_u32(const struct fdt_info *fi, const struct fdt_dev *d, const char *name,
			 uint32_t dflt)
{
	uint32_t len;
	const uint8_t *v = fdt_prop(fi, d, name, &len);
	return v && len == 4 ? fdt_be32(v) : dflt;
}

/* ranges: (child phys.hi mid lo, parent address, size) triples. */
static int read_ranges(const struct fdt_info *fi, const struct fdt_dev *d, struct pci_host *h)
{
	uint32_t len, pac = d->parent_ac, sc = prop_u32(fi, d, "#size-cells", 2);
	const uint8_t *v = fdt_prop(fi, d, "ranges", &len);
	uint32_t entry = 4 * (3 + pac + sc);
	if (!v || pac > 2 || sc > 2 || prop_u32(fi, d, "#address-cells", 3) != 3)
		return PCI_E_DT;
	for (uint32_t o = 0; o + entry <= len; o += entry) {
		uint32_t hi = fdt_be32(v + o);
		struct pci_window w = {.pci = fdt_cells(v + o + 4, 2), .cpu = fdt_cells(v + o + 12, pac),
				       .size = fdt_cells(v + o + 12 + 4 * pac, sc)};
		if (SPACE(hi) == SPACE_IO)
			h->io = w;
		else if (SPACE(hi) == SPACE_MEM32)
			h->mem32 = w;
		else if (SPACE(hi) == SPACE_MEM64)
			h->mem64 = w;
	}
	if (h->io.size > IO_FLOOR)
		h->io.used = IO_FLOOR;
	return 0;
}

/* interrupt-map entries are (3 address cells, 1 pin cell, controller
 * phandle, the controller's unit address, its specifier): read here only
 * where every controller named takes no address and one cell, as the
 * PLIC does, so that every entry is 6 cells. */
static int imap_ok(const struct fdt_info *fi, const struct pci_host *h)
{
	if (!h->imap || h->imap_len % 24)
		return 0;
	for (uint32_t o = 0; o < h->imap_len; o += 24) {
		uint32_t ph = fdt_be32(h->imap + o + 16);
		const struct fdt_dev *c = NULL;
		for (unsigned i = 0; i < fi->ndev && !c; i++)
			if (ph && fi->dev[i].phandle == ph)
				c = &fi->dev[i];
		if (!c || prop_u32(fi, c, "#interrupt-cells", 0) != 1 ||
		    prop_u32(fi, c, "#address-cells", 0) != 0)
			return 0;
	}
	return 1;
}

int pci_host_init(const struct fdt_info *fi, const struct fdt_dev *d, struct pci_host *h)
{
	uint32_t len;
	memset(h, 0, sizeof *h);
	if (!d->has_reg || d->size < ECAM_BUS_SIZE)
		return PCI_E_DT;
	h->ecam = (uintptr_t)d->base;
	h->ecam_size = d->size;
	const uint8_t *br = fdt_prop(fi, d, "bus-range", &len);
	h->bus_lo = br && len == 8 ? fdt_be32(br) : 0;
	h->bus_hi = br && len == 8 ? fdt_be32(br + 4) : 255;
	uint64_t nbus = d->size / ECAM_BUS_SIZE; /* the window covers buses from bus_lo */
	if (h->bus_hi > 255 || h->bus_lo > h->bus_hi)
		return PCI_E_DT;
	if (h->bus_hi - h->bus_lo + 1 > nbus)
		h->bus_hi = h->bus_lo + (uint32_t)nbus - 1;
	/* No mask: every bit of the child address and pin counts. */
	const uint8_t *m = fdt_prop(fi, d, "interrupt-map-mask", &len);
	for (int i = 0; i < 4; i++)
		h->imap_mask[i] = m && len == 16 ? fdt_be32(m + 4 * i) : 0xffffffffu;
	h->imap = fdt_prop(fi, d, "interrupt-map", &h->imap_len);
	if (!imap_ok(fi, h))
		h->imap = NULL; /* no INTx routing we can read: no interrupts */
	return read_ranges(fi, d, h);
}

static uintptr_t cfg_addr(const struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
			  unsigned off)
{
	return h->ecam + ((uintptr_t)(bus - h->bus_lo) << 20 | dev << 15 | fn << 12 | (off & 0xffc));
}

/* Addresses outside the bridge's window read as "no device". */
static int cfg_ok(const struct pci_host *h, unsigned bus, unsigned dev, unsigned fn)
{
	return bus >= h->bus_lo && bus <= h->bus_hi && dev < 32 && fn < 8;
}

uint32_t pci_cfg_read(const struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
		      unsigned off)
{
	return cfg_ok(h, bus, dev, fn) ? mmio_read32(cfg_addr(h, bus, dev, fn, off)) : 0xffffffffu;
}

void pci_cfg_write(const struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
		   unsigned off, uint32_t v)
{
	if (cfg_ok(h, bus, dev, fn))
		mmio_write32(cfg_addr(h, bus, dev, fn, off), v);
}

#define RD(d, off) pci_cfg_read(h, (d)->bus, (d)->dev, (d)->fn, off)
#define WR(d, off, v) pci_cfg_write(h, (d)->bus, (d)->dev, (d)->fn, off, v)

/* Size every BAR the standard way, decoding off meanwhile: write ones,
 * read what sticks, put the old value back. */
static int size_bars(const struct pci_host *h, struct pci_dev *d)
{
	uint32_t cmd = RD(d, PCI_COMMAND);
	WR(d, PCI_COMMAND, cmd & ~(uint32_t)(PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER) & 0xffff);
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		unsigned off = PCI_BAR0 + 4 * i;
		uint32_t old = RD(d, off);
		WR(d, off, 0xffffffff);
		uint32_t r = RD(d, off);
		WR(d, off, old);
		struct pci_bar *b = &d->bar[i];
		memset(b, 0, sizeof *b);
		if (r == 0)
			continue;
		if (r & 1) {
			uint32_t mask = r & ~3u;
			if (!(mask >> 16))
				mask |= 0xffff0000u; /* 16-bit I/O decoders read 0 up there */
			b->io = 1;
			b->size = (uint32_t)(~mask + 1);
		} else {
			uint64_t mask = r & ~0xfu;
			b->prefetch = (r >> 3) & 1;
			if ((r >> 1 & 3) == 2) { /* 64-bit: the next BAR holds the top half */
				if (i + 1 >= PCI_MAX_BARS)
					return PCI_E_BAR;
				uint32_t old_hi = RD(d, off + 4);
				WR(d, off + 4, 0xffffffff);
				mask |= (uint64_t)RD(d, off + 4) << 32;
				WR(d, off + 4, old_hi);
				b->is64 = 1;
			} else {
				mask |= 0xffffffff00000000ull;
			}
			b->size = ~mask + 1;
		}
		if (b->size == 0 || (b->size & (b->size - 1)))
			return PCI_E_BAR; /* not a power of two: a broken device */
		i += b->is64;
	}
	return 0;
}

int pci_find(const struct pci_host *h, int (*match)(const struct pci_dev *d, void *arg),
	     void *arg, struct pci_dev *out)
{
	/* Only the root bus has a number: bridges get none from us, so the
	 * other buses of the range are unreachable (all ones) and not walked
	 * (256 buses would be 8192 config reads at every boot). */
	for (unsigned bus = h->bus_lo; bus <= h->bus_lo; bus++) {
		for (unsigned dev = 0; dev < 32; dev++) {
			unsigned nfn = 1;
			for (unsigned fn = 0; fn < nfn; fn++) {
				uint32_t id = pci_cfg_read(h, bus, dev, fn, PCI_VENDOR);
				if ((id & 0xffff) == 0xffff)
					continue;
				uint32_t hdr = pci_cfg_read(h, bus, dev, fn, PCI_HEADER) >> 16 & 0xff;
				if (fn == 0 && (hdr & 0x80))
					nfn = 8;
				if ((hdr & 0x7f) != 0)
					continue; /* a bridge (1) or CardBus (2): not ours to drive */
				struct pci_dev d = {
					.bus = (uint8_t)bus, .dev = (uint8_t)dev, .fn = (uint8_t)fn,
					.vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
					.subsys = (uint16_t)(pci_cfg_read(h, bus, dev, fn, PCI_SUBSYS) >> 16),
					.pin = (uint8_t)(pci_cfg_read(h, bus, dev, fn, PCI_INT) >> 8),
				};
				if (match(&d, arg) != 0)
					continue;
				if (size_bars(h, &d))
					continue;
				d.irq = d.pin >= 1 && d.pin <= 4 && bus == h->bus_lo ? pci_irq(h, dev, d.pin) : 0;
				*out = d;
				return 0;
			}
		}
	}
	return -1;
}

/* The lowest aligned address in w that takes size bytes; 0 if none. */
static int place(struct pci_window *w, uint64_t size, uint64_t *pci)
{
	uint64_t at = (w->pci + w->used + size - 1) & ~(size - 1);
	if (!w->size || at < w->pci || at - w->pci > w->size || size > w->size - (at - w->pci))
		return -1;
	w->used = at - w->pci + size;
	*pci = at;
	return 0;
}

int pci_enable(struct pci_host *h, struct pci_dev *d)
{
	uint32_t cmd = PCI_CMD_MASTER;
	struct pci_host saved = *h; /* nothing is handed out unless all fit */
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		struct pci_window *w = b->io ? &h->io : b->is64 && h->mem64.size ? &h->mem64 : &h->mem32;
		uint64_t at;
		if (place(w, b->size, &at) || (!b->is64 && !b->io && at + b->size - 1 > 0xffffffffu)) {
			*h = saved;
			return PCI_E_NOSPACE;
		}
		b->bus = at;
		b->addr = w->cpu + (at - w->pci);
		cmd |= b->io ? PCI_CMD_IO : PCI_CMD_MEM;
	}
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		WR(d, PCI_BAR0 + 4 * i, (uint32_t)b->bus | (b->io ? 1 : 0));
		if (b->is64)
			WR(d, PCI_BAR0 + 4 * ++i, (uint32_t)(b->bus >> 32));
	}
	WR(d, PCI_COMMAND, (RD(d, PCI_COMMAND) & 0xffff & ~PCI_CMD_INTX_OFF) | cmd);
	return 0;
}

/* Masked match of (slot, pin) against the entries imap_ok checked. For
 * a device on the root bus the map holds the swizzle itself. */
uint32_t pci_irq(const struct pci_host *h, unsigned dev, unsigned pin)
{
	const uint32_t *mk = h->imap_mask;
	uint32_t want = (dev << 11) & mk[0], wpin = pin & mk[3];
	for (uint32_t o = 0; h->imap && o + 24 <= h->imap_len; o += 24) {
		const uint8_t *e = h->imap + o;
		if ((fdt_be32(e) & mk[0]) == want && (fdt_be32(e + 4) & mk[1]) == 0 &&
		    (fdt_be32(e + 8) & mk[2]) == 0 && (fdt_be32(e + 12) & mk[3]) == wpin)
			return fdt_be32(e + 20);
	}
	return 0;
}

unsigned pci_cap(const struct pci_host *h, const struct pci_dev *d, uint8_t id, unsigned after)
{
	unsigned off;
	if (!(RD(d, PCI_COMMAND) & PCI_STATUS_CAPS))
		return 0;
	off = after ? (RD(d, after) >> 8 & 0xfc) : (RD(d, PCI_CAPS) & 0xfc);
	for (int n = 0; n < 48 && off >= 0x40; n++) {
		uint32_t c = RD(d, off);
		if ((c & 0xff) == id)
			return off;
		off = c >> 8 & 0xfc;
	}
	return 0;
}
