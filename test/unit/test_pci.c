/* PCI: the host bridge read from QEMU's own virt tree, enumeration and
 * BAR placement against a model of ECAM config space, INTx routing. The
 * driver code (drivers/pci.c) is built for the host unchanged; its MMIO
 * goes to the model (RVNET_HOST_MMIO). */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "drivers/pci.h"

/* ---- the model: config spaces behind an ECAM window ---- */
#define ECAM 0x30000000u
struct fn {
	int present;
	unsigned bus, dev, fn;
	uint32_t cfg[64];          /* 256 bytes of config space */
	uint32_t bar_mask[6];      /* writable bits of each BAR (0: absent) */
	unsigned writes;           /* config writes it received */
};
static struct fn fns[16];
static unsigned nfns;

static struct fn *lookup(uintptr_t a, unsigned *off)
{
	uintptr_t o = a - ECAM;
	unsigned bus = (unsigned)(o >> 20), dev = (unsigned)(o >> 15 & 31), fn = (unsigned)(o >> 12 & 7);
	*off = (unsigned)(o & 0xfff);
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].present && fns[i].bus == bus && fns[i].dev == dev && fns[i].fn == fn)
			return &fns[i];
	return NULL;
}

uint32_t host_mmio_read32(uintptr_t a)
{
	unsigned off;
	struct fn *f = lookup(a, &off);
	return f && off < 256 ? f->cfg[off / 4] : 0xffffffffu;
}

void host_mmio_write32(uintptr_t a, uint32_t v)
{
	unsigned off;
	struct fn *f = lookup(a, &off);
	if (!f || off >= 256)
		return;
	f->writes++;
	if (off >= 0x10 && off < 0x28) {
		unsigned i = (off - 0x10) / 4;
		uint32_t keep = f->cfg[off / 4] & ~f->bar_mask[i]; /* type bits are read-only */
		f->cfg[off / 4] = f->bar_mask[i] ? (v & f->bar_mask[i]) | keep : 0;
	} else if (off == PCI_COMMAND) {
		f->cfg[1] = (f->cfg[1] & 0xffff0000u) | (v & 0x0547);
	} else if (off >= 0x40) {
		f->cfg[off / 4] = v;
	}
}
uint8_t host_mmio_read8(uintptr_t a) { return (uint8_t)host_mmio_read32(a & ~(uintptr_t)3); }
void host_mmio_write8(uintptr_t a, uint8_t v) { (void)a; (void)v; }
uint16_t host_mmio_read16(uintptr_t a) { return (uint16_t)host_mmio_read32(a & ~(uintptr_t)3); }
void host_mmio_write16(uintptr_t a, uint16_t v) { (void)a; (void)v; }
void host_fence(void) {}

static struct fn *add(unsigned bus, unsigned dev, unsigned fn, uint16_t vendor, uint16_t device,
		      uint8_t header)
{
	struct fn *f = &fns[nfns++];
	memset(f, 0, sizeof *f);
	*f = (struct fn){.present = 1, .bus = bus, .dev = dev, .fn = fn};
	f->cfg[0] = (uint32_t)device << 16 | vendor;
	f->cfg[1] = PCI_STATUS_CAPS;
	f->cfg[3] = (uint32_t)header << 16;
	f->cfg[PCI_INT / 4] = 1u << 8; /* INTA */
	return f;
}

/* A BAR: io, 32-bit or 64-bit memory of size bytes. */
static void bar(struct fn *f, unsigned i, uint64_t size, int io, int is64)
{
	uint64_t mask = ~(size - 1);
	f->bar_mask[i] = (uint32_t)mask & (io ? ~3u : ~0xfu);
	f->cfg[4 + i] = io ? 1 : is64 ? 4 | 8 : 0;
	if (is64) {
		f->bar_mask[i + 1] = (uint32_t)(mask >> 32);
		f->cfg[5 + i] = 0;
	}
}

/* ---- QEMU's tree ---- */
static uint8_t *blob;
static size_t blob_len;
static struct fdt_info fi;

static const struct fdt_dev *host_node(void)
{
	return fdt_find(&fi, "pci-host-ecam-generic", NULL);
}

static void bridge_from_tree(void)
{
	struct pci_host h;
	const struct fdt_dev *d = host_node();
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_EQ(pci_host_init(&fi, d, &h), 0);
	CHECK_EQ(h.ecam, ECAM);
	CHECK_EQ(h.bus_lo, 0);
	CHECK_EQ(h.bus_hi, 255);
	CHECK_EQ(h.io.cpu, 0x3000000u);
	CHECK_EQ(h.io.pci, 0);
	CHECK_EQ(h.io.size, 0x10000u);
	CHECK_EQ(h.io.used, 0x1000u); /* the ISA range is left alone */
	CHECK_EQ(h.mem32.cpu, 0x40000000u);
	CHECK_EQ(h.mem32.pci, 0x40000000u);
	CHECK_EQ(h.mem32.size, 0x40000000u);
	CHECK_EQ(h.mem64.cpu, 0x400000000ull);
	CHECK_EQ(h.mem64.size, 0x400000000ull);
	/* QEMU's map: slot s, pin p -> PLIC 32 + (s + p - 1) % 4 (the swizzle). */
	int bad = 0;
	for (unsigned s = 0; s < 32; s++)
		for (unsigned p = 1; p <= 4; p++)
			bad += pci_irq(&h, s, p) != 32 + (s + p - 1) % 4;
	CHECK_EQ(bad, 0);
}

static struct pci_host h;

static int want_net(const struct pci_dev *d, void *arg)
{
	(void)arg;
	return !(d->vendor == 0x1af4 && (d->device == 0x1041 || (d->device == 0x1000 && d->subsys == 1)));
}

/* An rng in slot 2, a bridge in slot 1, a two-function device in slot 4
 * (function 3 a virtio-net), a transitional virtio-net in slot 5. */
static void layout(void)
{
	nfns = 0;
	struct fn *f = add(0, 1, 0, 0x1b36, 0x000c, 1); /* a bridge: never taken */
	bar(f, 0, 0x1000, 0, 0);
	f = add(0, 2, 0, 0x1af4, 0x1044, 0);
	bar(f, 1, 0x1000, 0, 0);
	bar(f, 4, 0x4000, 0, 1);
	add(0, 4, 0, 0x8086, 0x1234, 0x80);              /* multi-function */
	f = add(0, 4, 3, 0x1af4, 0x1041, 0);             /* modern net, function 3 */
	bar(f, 1, 0x1000, 0, 0);
	bar(f, 4, 0x4000, 0, 1);
	f = add(0, 5, 0, 0x1af4, 0x1000, 0);             /* transitional net */
	f->cfg[PCI_SUBSYS / 4] = 1u << 16;
	bar(f, 0, 0x20, 1, 0);
	bar(f, 1, 0x1000, 0, 0);
	bar(f, 4, 0x4000, 0, 1);
	CHECK_EQ(pci_host_init(&fi, host_node(), &h), 0);
}

static void find_and_place(void)
{
	struct pci_dev d;
	layout();
	CHECK_EQ(pci_find(&h, want_net, NULL, &d), 0);
	CHECK_EQ(d.dev, 4); /* multi-function: found behind function 0 */
	CHECK_EQ(d.fn, 3);
	CHECK_EQ(d.device, 0x1041);
	CHECK_EQ(d.bar[1].size, 0x1000u);
	CHECK_EQ(d.bar[4].size, 0x4000u);
	CHECK(d.bar[4].is64 && d.bar[4].prefetch);
	CHECK_EQ(d.bar[5].size, 0); /* the top half of BAR4 */
	CHECK_EQ(d.irq, 32 + (4 + 1 - 1) % 4);
	CHECK_EQ(pci_enable(&h, &d), 0);
	CHECK_EQ(d.bar[1].addr, 0x40000000u);
	CHECK_EQ(d.bar[4].addr, 0x400000000ull);
	struct fn *f = &fns[3];
	CHECK_EQ(f->cfg[5], 0x40000000u);
	CHECK_EQ(f->cfg[8], 0x0000000cu);   /* 64-bit prefetchable, low half 0 */
	CHECK_EQ(f->cfg[9], 0x4u);          /* high half: 0x4_0000_0000 */
	CHECK_EQ(f->cfg[1] & 7, PCI_CMD_MEM | PCI_CMD_MASTER);
	/* Nothing else was switched on or moved. */
	CHECK_EQ(fns[1].cfg[1] & 7, 0);
	CHECK_EQ(fns[1].cfg[5], 0);
	CHECK_EQ(fns[0].cfg[1] & 7, 0);
	/* The next device placed goes above, aligned. */
	d.bar[1] = (struct pci_bar){.size = 0x2000};
	d.bar[4].size = 0;
	CHECK_EQ(pci_enable(&h, &d), 0);
	CHECK_EQ(d.bar[1].addr, 0x40002000u);
}

static void transitional_io(void)
{
	struct pci_dev d;
	layout();
	fns[3].present = 0; /* only the transitional one left */
	CHECK_EQ(pci_find(&h, want_net, NULL, &d), 0);
	CHECK_EQ(d.dev, 5);
	CHECK(d.bar[0].io);
	CHECK_EQ(d.bar[0].size, 0x20u);
	CHECK_EQ(pci_enable(&h, &d), 0);
	CHECK_EQ(d.bar[0].addr, 0x3000000u + 0x1000u); /* CPU address of port 0x1000 */
	CHECK_EQ(fns[4].cfg[4], 0x1001u);
	CHECK_EQ(fns[4].cfg[1] & 7, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER);
}

static void no_room(void)
{
	struct pci_dev d;
	layout();
	CHECK_EQ(pci_find(&h, want_net, NULL, &d), 0);
	h.mem64.size = 0;          /* the 64-bit BAR must then fit below 4 GiB */
	h.mem32.size = 0x2000;     /* but the 32-bit window is tiny */
	unsigned writes = fns[3].writes;
	CHECK_EQ(pci_enable(&h, &d), PCI_E_NOSPACE);
	CHECK_EQ(fns[3].writes, writes); /* nothing written, nothing enabled */
	CHECK_EQ(fns[3].cfg[1] & 7, 0);
	CHECK_EQ(h.mem32.used, 0);       /* nothing handed out either */
	h.mem32.size = 0x10000;
	CHECK_EQ(pci_enable(&h, &d), 0); /* both in the 32-bit window, aligned */
	CHECK_EQ(d.bar[1].addr, 0x40000000u);
	CHECK_EQ(d.bar[4].addr, 0x40004000u);
}

/* A device that reports a BAR of no power-of-two size is passed over. */
static void broken_bar(void)
{
	struct pci_dev d;
	layout();
	fns[3].bar_mask[1] = 0xfffff5f0u;
	CHECK_EQ(pci_find(&h, want_net, NULL, &d), 0);
	CHECK_EQ(d.dev, 5); /* the next one */
}

/* Capability lists are device-written: a loop must end. */
static void cap_loop(void)
{
	struct pci_dev d;
	layout();
	fns[3].cfg[PCI_CAPS / 4] = 0x40;
	fns[3].cfg[0x40 / 4] = 0x50u << 8 | PCI_CAP_VENDOR;
	fns[3].cfg[0x50 / 4] = 0x40u << 8 | PCI_CAP_VENDOR; /* back to 0x40 */
	CHECK_EQ(pci_find(&h, want_net, NULL, &d), 0);
	CHECK_EQ(pci_cap(&h, &d, PCI_CAP_VENDOR, 0), 0x40);
	CHECK_EQ(pci_cap(&h, &d, PCI_CAP_VENDOR, 0x40), 0x50);
	CHECK_EQ(pci_cap(&h, &d, PCI_CAP_MSIX, 0), 0); /* not there: ends after 48 steps */
	fns[3].cfg[1] &= ~PCI_STATUS_CAPS;
	CHECK_EQ(pci_cap(&h, &d, PCI_CAP_VENDOR, 0), 0);
}

/* Nothing there at all. */
static void empty_bus(void)
{
	struct pci_dev d;
	nfns = 0;
	CHECK_EQ(pci_host_init(&fi, host_node(), &h), 0);
	CHECK_EQ(pci_find(&h, want_net, NULL, &d), -1);
}

int main(void)
{
	FILE *f = fopen("test/fixtures/virt.dtb", "rb");
	blob = malloc(1 << 16);
	blob_len = f ? fread(blob, 1, 1 << 16, f) : 0;
	if (f)
		fclose(f);
	if (fdt_parse(blob, blob_len, &fi)) {
		printf("cannot read test/fixtures/virt.dtb\n");
		return 1;
	}
	TEST(bridge_from_tree);
	TEST(find_and_place);
	TEST(transitional_io);
	TEST(no_room);
	TEST(broken_bar);
	TEST(cap_loop);
	TEST(empty_bus);
	free(blob);
	DONE("pci");
}
