/*
 * A model of the Cadence GEM as QEMU 7.2 implements it (hw/net/
 * cadence_gem.c, read for its behaviour), for testing the real driver
 * (drivers/gem.c, built with RVNET_HOST_MMIO) on the host. Include once
 * per program: it defines the MMIO functions the driver's register
 * accesses become and the bus window its DMA addresses go through.
 *
 * What it models: the registers the driver uses (read-only, write-1-to-
 * clear and clear-on-read bits), the interrupt status masked by IMR and
 * the line it drives, MDIO to one PHY, the SA1 address filter, and the
 * two descriptor rings in both formats (8-byte, and 16-byte with DMACFG
 * ADDR64 and the upper address registers), walked as the device walks
 * them: RX filling the buffer at RBOF, writing length, SOF/EOF, checksum
 * status and the used bit, wrapping at the wrap bit, caching the next
 * descriptor; TX on TSTART, setting used on a frame's first descriptor,
 * and TE clear sending it back to TXQBASE.
 *
 * QEMU's RX stall is modelled (gm.hw == 0): the device caches the next RX
 * descriptor when it finishes a frame; if it was ours (used), RXUBR is
 * raised and frames that arrive wait in the back end's queue until NWCTRL
 * is written with RE set, which re-reads the descriptor. With gm.hw = 1
 * it behaves like a real MAC instead: it looks at the descriptor for each
 * frame and drops the frame (RXUBR) when there is no buffer.
 *
 * And it checks the driver (gm_check): every RX descriptor the device
 * holds names a pool buffer tagged PKT_RXRING at the offset that lands
 * the Ethernet header at CFG_PKT_LINK_OFF, no buffer twice; every TX
 * descriptor it holds lies inside a pool buffer tagged PKT_TXRING; the
 * wrap bits sit on the last descriptors; and every pool buffer is free,
 * on a ring, or held by the test. A DMA access outside a pool buffer or
 * a ring is an error too.
 */
#ifndef TEST_GEM_MODEL_H
#define TEST_GEM_MODEL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "drivers/config.h"
#include "net/pkt.h"

#define GM_BASE 0x10090000u
#define GM_MGMT 0x100a0000u
#define GM_IRQ 53
#define GM_QMAX 512     /* frames the back end holds while the device cannot receive */
#define GM_SENT 256     /* frames the device sent, the last ones kept */
#define GM_FRAME 1536

/* Register offsets and bits, from QEMU's cadence_gem.c and Linux's macb.h
 * (written out here, not taken from the driver: the model checks it). */
enum {
	R_NWCTRL = 0x000, R_NWCFG = 0x004, R_NWSR = 0x008, R_DMACFG = 0x010, R_TXSTATUS = 0x014,
	R_RXQBASE = 0x018, R_TXQBASE = 0x01c, R_RXSTATUS = 0x020, R_ISR = 0x024, R_IER = 0x028,
	R_IDR = 0x02c, R_IMR = 0x030, R_PHYMNTNC = 0x034, R_HASHB = 0x080, R_HASHT = 0x084,
	R_SA1B = 0x088, R_SA1T = 0x08c, R_MODID = 0x0fc, R_DCFG1 = 0x280, R_DCFG6 = 0x294,
	R_TBQPH = 0x4c8, R_RBQPH = 0x4d4, R_END = 0x800,
};
#define C_RE (1u << 2)
#define C_TE (1u << 3)
#define C_MPE (1u << 4)
#define C_TSTART (1u << 9)
#define F_SPD (1u << 0)
#define F_FD (1u << 1)
#define F_CAF (1u << 4)
#define F_NBC (1u << 5)
#define F_MHEN (1u << 6)
#define F_GBE (1u << 10)
#define F_RBOF(v) ((v) >> 14 & 3)
#define F_FCS_STRIP (1u << 17)
#define F_RXCOEN (1u << 24)
#define D_TXCOEN (1u << 11)
#define D_RXBS(v) ((v) >> 16 & 0xff)
#define D_ADDR64 (1u << 30)
#define I_RCOMP (1u << 1)
#define I_RXUBR (1u << 2)
#define I_TXUBR (1u << 3)
#define I_TUND (1u << 4)
#define I_TXERR (1u << 6)
#define I_TCOMP (1u << 7)
#define I_ROVR (1u << 10)
#define I_HRESP (1u << 11)
#define W0_USED 1u
#define W0_WRAP 2u
#define RX_SOF (1u << 14)
#define RX_EOF (1u << 15)
#define TX_LAST (1u << 15)
#define TX_WRAP (1u << 30)
#define TX_USED (1u << 31)

struct gm {
	uint32_t r[R_END / 4];
	uint32_t ro[R_END / 4], w1c[R_END / 4], rtc[R_END / 4];
	uint16_t phy[32];
	int phy_addr;     /* -1: no PHY on the bus */
	int mdio_stuck;   /* NWSR never says idle */
	int hw;           /* 1: a real MAC, no RX stall (see above) */
	int tx_paused;    /* TSTART ignored: the TX ring fills */
	int tx_halted;    /* after a TX error: sends nothing until TE is cleared */
	int rx_halted;    /* after a bus error: receives nothing until RE is cleared */
	uint32_t mgmt;    /* GEMGXL management register */
	unsigned mgmt_writes;
	int sar_active;
	uint32_t rx_desc[4]; /* the cached current RX descriptor (QEMU) */
	uint32_t rx_ptr, tx_ptr;
	uint32_t csum_bits;  /* written into RX word 1 bits 23:22 */
	int override_n;      /* the next frames get this word 1 instead of the true one */
	uint32_t override_w1;
	/* the back end's queue while the device cannot receive */
	uint8_t q[GM_QMAX][GM_FRAME];
	uint16_t qlen[GM_QMAX];
	unsigned qhead, qcount;
	/* what the device sent */
	uint8_t sent[GM_SENT][GM_FRAME];
	uint16_t sent_len[GM_SENT];
	unsigned nsent;
	/* counts */
	unsigned rx_written, rx_dropped, nwctrl_writes, tstarts, reg_writes;
	unsigned errors;
	char err[512];
	/* the bus: bus address = host address - anchor + window */
	uint64_t window;
	uintptr_t anchor;
	uint8_t *heads[CFG_PKT_COUNT]; /* the pool's buffers, for the checks */
	struct pkt *pkts[CFG_PKT_COUNT];
};
static struct gm gm;
static unsigned gm_test_held; /* pool buffers the test holds (for the accounting) */

static void gm_error(const char *fmt, const char *what, unsigned long v)
{
	if (!gm.errors++)
		snprintf(gm.err, sizeof gm.err, fmt, what, v);
}

/* ---- the bus ---- */

uint64_t host_dma_addr(const void *p);
uint64_t host_dma_top(void);
extern unsigned gem_host_batch; /* sent buffers reclaimed at once; 0: every poll */
uint64_t host_dma_addr(const void *p) { return (uintptr_t)p - gm.anchor + gm.window; }
uint64_t host_dma_top(void) { return gm.window + (1u << 28); }

static int gm_in_pool(const uint8_t *h, size_t len, unsigned *idx)
{
	for (unsigned i = 0; i < CFG_PKT_COUNT; i++)
		if (h >= gm.heads[i] && h + len <= gm.heads[i] + CFG_PKT_BUFSZ) {
			if (idx)
				*idx = i;
			return 1;
		}
	return 0;
}

static uint64_t gm_ring_base(int tx)
{
	uint64_t lo = gm.r[(tx ? R_TXQBASE : R_RXQBASE) / 4] & ~3u;
	if (gm.r[R_DMACFG / 4] & D_ADDR64)
		lo |= (uint64_t)gm.r[(tx ? R_TBQPH : R_RBQPH) / 4] << 32;
	return lo;
}

static unsigned gm_words(void) { return gm.r[R_DMACFG / 4] & D_ADDR64 ? 4 : 2; }

/* A descriptor: it must lie in the ring the driver set up. */
static uint32_t *gm_desc(int tx, uint32_t ptr)
{
	uint64_t bus = ptr, base = gm_ring_base(tx);
	if (gm.r[R_DMACFG / 4] & D_ADDR64)
		bus |= base & ~0xffffffffull;
	unsigned size = (tx ? CFG_TXQ_SIZE : CFG_RXQ_SIZE) * gm_words() * 4;
	if (bus < base || bus + gm_words() * 4 > base + size) {
		gm_error("%s descriptor outside its ring (%#lx)", tx ? "TX" : "RX", (unsigned long)bus);
		return NULL;
	}
	return (uint32_t *)(uintptr_t)(bus - gm.window + gm.anchor);
}

/* A buffer the device reads or writes: it must lie in one pool buffer. */
static uint8_t *gm_buf(uint64_t bus, size_t len)
{
	uint8_t *h = (uint8_t *)(uintptr_t)(bus - gm.window + gm.anchor);
	if (!gm_in_pool(h, len, NULL)) {
		gm_error("%s DMA outside the pool at %#lx", "a", (unsigned long)bus);
		return NULL;
	}
	return h;
}

static uint64_t gm_addr(const uint32_t *d, uint32_t lo)
{
	uint64_t a = lo;
	if (gm.r[R_DMACFG / 4] & D_ADDR64)
		a |= (uint64_t)d[2] << 32;
	return a;
}

/* ---- interrupts ---- */

static void gm_isr(uint32_t bits) { gm.r[R_ISR / 4] |= bits & ~gm.r[R_IMR / 4]; }
static int gm_irq(void) { return gm.r[R_ISR / 4] != 0; }

/* ---- RX ---- */

static void gm_fetch_rx(void)
{
	uint32_t *d = gm_desc(0, gm.rx_ptr);
	if (!d)
		return;
	memcpy(gm.rx_desc, d, 4 * gm_words());
	if (gm.rx_desc[0] & W0_USED) {
		gm.r[R_RXSTATUS / 4] |= 1; /* buffer not available */
		gm_isr(I_RXUBR);
	}
}

static int gm_can_receive(void)
{
	if (!(gm.r[R_NWCTRL / 4] & C_RE) || gm.rx_halted)
		return 0;
	if (gm.hw)
		gm_fetch_rx();
	return !(gm.rx_desc[0] & W0_USED);
}

/* QEMU's calc_mac_hash, as it is written there: index bit i from the
 * address bits i, i+6, ..., i+42 (bit k: byte k / 8, bit k % 8). */
static unsigned gm_get_bit(const uint8_t *mac, unsigned bit) { return mac[bit / 8] >> (bit & 7) & 1; }
static unsigned gm_mac_hash(const uint8_t *mac)
{
	unsigned h = 0;
	for (int index_bit = 5, mac_bit = 5; index_bit >= 0; index_bit--, mac_bit--)
		h |= (gm_get_bit(mac, (unsigned)mac_bit) ^ gm_get_bit(mac, (unsigned)mac_bit + 6) ^
		      gm_get_bit(mac, (unsigned)mac_bit + 12) ^ gm_get_bit(mac, (unsigned)mac_bit + 18) ^
		      gm_get_bit(mac, (unsigned)mac_bit + 24) ^ gm_get_bit(mac, (unsigned)mac_bit + 30) ^
		      gm_get_bit(mac, (unsigned)mac_bit + 36) ^ gm_get_bit(mac, (unsigned)mac_bit + 42))
		     << index_bit;
	return h;
}

/* QEMU's gem_mac_address_filter: copy-all, broadcast (unless refused),
 * the multicast hash when NWCFG enables it, then SA1. */
static int gm_for_us(const uint8_t *f)
{
	static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint32_t b = gm.r[R_SA1B / 4], t = gm.r[R_SA1T / 4], cfg = gm.r[R_NWCFG / 4];
	if (cfg & F_CAF)
		return 1;
	if (!memcmp(f, bc, 6))
		return !(cfg & F_NBC);
	if ((f[0] & 1) && (cfg & F_MHEN)) {
		uint64_t buckets = (uint64_t)gm.r[R_HASHT / 4] << 32 | gm.r[R_HASHB / 4];
		if (buckets >> gm_mac_hash(f) & 1)
			return 1;
	}
	uint8_t sa[6] = {(uint8_t)b, (uint8_t)(b >> 8), (uint8_t)(b >> 16), (uint8_t)(b >> 24),
			 (uint8_t)t, (uint8_t)(t >> 8)};
	return gm.sar_active && !memcmp(f, sa, 6);
}

/* Write one frame into the current descriptor's buffer. */
static void gm_write_frame(const uint8_t *f, unsigned len)
{
	uint32_t *d = gm_desc(0, gm.rx_ptr);
	unsigned off = F_RBOF(gm.r[R_NWCFG / 4]), bufsz = D_RXBS(gm.r[R_DMACFG / 4]) * 64;
	if (!d)
		return;
	if (len + off > bufsz)
		gm_error("%s frame of %lu bytes does not fit the RX buffer size", "a", len);
	uint8_t *b = gm_buf(gm_addr(gm.rx_desc, gm.rx_desc[0] & ~3u) + off, len);
	if (b)
		memcpy(b, f, len);
	uint32_t w1 = (len < 60 ? 60 : len) | RX_SOF | RX_EOF | gm.csum_bits << 22 |
		      (f[0] == 0xff ? 1u << 31 : 1u << 27);
	if (gm.override_n) {
		gm.override_n--;
		w1 = gm.override_w1;
	}
	gm.rx_desc[1] = w1;
	gm.rx_desc[0] |= W0_USED;
	memcpy(d, gm.rx_desc, 4 * gm_words()); /* QEMU writes the whole descriptor back */
	gm.rx_ptr = gm.rx_desc[0] & W0_WRAP ? (uint32_t)gm_ring_base(0) : gm.rx_ptr + 4 * gm_words();
	gm.rx_written++;
	gm.r[R_RXSTATUS / 4] |= 2;
	gm_fetch_rx();
	gm_isr(I_RCOMP);
}

/* A frame from the wire: 1 written, 0 held in the back end's queue
 * (QEMU: the device cannot receive now), -1 dropped (not for us, too
 * long, or a real MAC without a buffer). */
static int gm_rx(const uint8_t *f, unsigned len)
{
	if (len < 6 || !gm_for_us(f))
		return -1;
	if (len > 1518) {
		gm_isr(I_TXERR); /* QEMU's way of saying "too long" */
		return -1;
	}
	if (!gm_can_receive()) {
		if (gm.hw || gm.qcount == GM_QMAX) {
			gm.rx_dropped++;
			return -1;
		}
		unsigned i = (gm.qhead + gm.qcount++) % GM_QMAX;
		memcpy(gm.q[i], f, len);
		gm.qlen[i] = (uint16_t)len;
		return 0;
	}
	gm_write_frame(f, len);
	return 1;
}

static void gm_flush(void)
{
	while (gm.qcount && gm_can_receive()) {
		gm_write_frame(gm.q[gm.qhead], gm.qlen[gm.qhead]);
		gm.qhead = (gm.qhead + 1) % GM_QMAX;
		gm.qcount--;
	}
}

/* ---- TX ---- */

static void gm_transmit(void)
{
	static uint8_t pkt[GM_FRAME];
	unsigned total = 0;
	if (!(gm.r[R_NWCTRL / 4] & C_TE) || gm.tx_paused || gm.tx_halted)
		return;
	gm.tstarts++;
	uint32_t first = gm.tx_ptr, ptr = gm.tx_ptr;
	for (unsigned guard = 0; guard < 4096; guard++) {
		uint32_t *d = gm_desc(1, ptr);
		if (!d || (d[1] & TX_USED))
			break;
		unsigned len = d[1] & 0x3fff;
		uint64_t a = gm_addr(d, d[0]);
		if (a == 0 || len == 0)
			break;
		if (len + total > 1518) {
			gm_isr(I_TXERR);
			break;
		}
		const uint8_t *b = gm_buf(a, len);
		if (!b)
			break;
		memcpy(pkt + total, b, len);
		total += len;
		uint32_t next = d[1] & TX_WRAP ? (uint32_t)gm_ring_base(1) : ptr + 4 * gm_words();
		if (d[1] & TX_LAST) {
			uint32_t *d0 = gm_desc(1, first);
			if (d0)
				d0[1] |= TX_USED;
			unsigned k = gm.nsent++ % GM_SENT;
			memcpy(gm.sent[k], pkt, total);
			gm.sent_len[k] = (uint16_t)total;
			total = 0;
			gm.tx_ptr = first = next;
			gm.r[R_TXSTATUS / 4] |= 0x20;
			gm_isr(I_TCOMP);
		}
		ptr = next;
	}
	gm.r[R_TXSTATUS / 4] |= 1;
	gm_isr(I_TXUBR);
}

/* ---- registers ---- */

static uint16_t gm_mdio(uint32_t v)
{
	unsigned addr = v >> 23 & 31, reg = v >> 18 & 31;
	if (gm.phy_addr < 0 || addr != (unsigned)gm.phy_addr)
		return 0xffff;
	if ((v >> 28 & 3) == 1)
		gm.phy[reg] = (uint16_t)v;
	return gm.phy[reg];
}

uint32_t host_mmio_read32(uintptr_t a);
void host_mmio_write32(uintptr_t a, uint32_t v);
uint8_t host_mmio_read8(uintptr_t a);
void host_mmio_write8(uintptr_t a, uint8_t v);
void host_fence(void);

uint32_t host_mmio_read32(uintptr_t a)
{
	if (a == GM_MGMT)
		return gm.mgmt;
	if (a < GM_BASE || a >= GM_BASE + R_END || a & 3) {
		gm_error("%s read at %#lx", "bad register", (unsigned long)a);
		return 0;
	}
	unsigned i = (unsigned)(a - GM_BASE) / 4;
	uint32_t v = gm.r[i];
	if (i == R_NWSR / 4 && gm.mdio_stuck)
		v &= ~4u;
	if (i == R_PHYMNTNC / 4 && (v >> 28 & 3) == 2)
		v = (v & 0xffff0000u) | gm_mdio(v);
	gm.r[i] &= ~gm.rtc[i];
	return v;
}

void host_mmio_write32(uintptr_t a, uint32_t v)
{
	gm.reg_writes++;
	if (a == GM_MGMT) {
		gm.mgmt = v;
		gm.mgmt_writes++;
		return;
	}
	if (a < GM_BASE || a >= GM_BASE + R_END || a & 3) {
		gm_error("%s write at %#lx", "bad register", (unsigned long)a);
		return;
	}
	unsigned i = (unsigned)(a - GM_BASE) / 4;
	uint32_t keep = gm.r[i] & (gm.ro[i] | gm.w1c[i]);
	gm.r[i] = ((v & ~gm.ro[i]) & ~gm.w1c[i]) | keep;
	gm.r[i] &= ~(gm.w1c[i] & v);
	switch (i * 4) {
	case R_NWCTRL:
		gm.nwctrl_writes++;
		if (v & C_RE)
			gm_fetch_rx();
		if (v & C_TSTART)
			gm_transmit();
		if (!(v & C_TE)) {
			gm.tx_ptr = gm.r[R_TXQBASE / 4];
			gm.tx_halted = 0;
		}
		if (!(v & C_RE))
			gm.rx_halted = 0;
		gm.r[i] &= ~C_TSTART;
		if (gm_can_receive())
			gm_flush();
		break;
	case R_RXQBASE: gm.rx_ptr = v & ~3u; break;
	case R_TXQBASE: gm.tx_ptr = v & ~3u; break;
	case R_IER: gm.r[R_IMR / 4] &= ~v; break;
	case R_IDR: gm.r[R_IMR / 4] |= v; break;
	case R_SA1B: gm.sar_active = 0; break;
	case R_SA1T: gm.sar_active = 1; break;
	case R_PHYMNTNC:
		if ((v >> 28 & 3) == 1)
			gm_mdio(v);
		break;
	}
}

uint8_t host_mmio_read8(uintptr_t a) { return (uint8_t)host_mmio_read32(a & ~(uintptr_t)3); }
void host_mmio_write8(uintptr_t a, uint8_t v) { (void)a; (void)v; gm_error("%s %lu", "8-bit write", v); }
void host_fence(void) {}

/* ---- setup and checks ---- */

/* A fresh device as QEMU's sifive_u resets it: MAC in SA1 (not armed),
 * Marvell PHY at 0 with link up at 1000 full. window: the bus address of
 * the test's memory (below or above 4 GiB). */
static void gm_reset(uint64_t window)
{
	memset(&gm, 0, sizeof gm);
	gm.window = window;
	gm.anchor = (uintptr_t)&gm & ~(uintptr_t)0xfff;
	gm.ro[R_NWCTRL / 4] = 0xfff80000u;
	gm.ro[R_NWSR / 4] = gm.ro[R_ISR / 4] = gm.ro[R_IMR / 4] = gm.ro[R_MODID / 4] = ~0u;
	gm.ro[R_DCFG1 / 4] = gm.ro[R_DCFG6 / 4] = ~0u;
	gm.ro[R_DMACFG / 4] = 0x8e00f000u & ~D_ADDR64; /* bit 30 is writable in QEMU's GEM */
	gm.ro[R_TXSTATUS / 4] = 0xfffffe08u;
	gm.ro[R_RXSTATUS / 4] = 0xfffffff0u;
	gm.ro[R_RXQBASE / 4] = gm.ro[R_TXQBASE / 4] = 3;
	gm.rtc[R_ISR / 4] = ~0u;
	gm.w1c[R_TXSTATUS / 4] = 0x1f7;
	gm.w1c[R_RXSTATUS / 4] = 0xf;
	gm.r[R_NWCFG / 4] = 0x00080000u;
	gm.r[R_NWSR / 4] = 6;
	gm.r[R_DMACFG / 4] = 0x00020784u;
	gm.r[R_IMR / 4] = 0x07ffffffu;
	gm.r[R_MODID / 4] = 0x10070109u; /* sifive_u's revision */
	gm.r[R_DCFG1 / 4] = 0x02d00111u;
	gm.r[R_DCFG6 / 4] = 1u << 23;
	gm.r[R_SA1B / 4] = 0x12005452u; /* 52:54:00:12:34:56, as QEMU resets it */
	gm.r[R_SA1T / 4] = 0x5634u;
	static const uint16_t phy[16] = {0x1140, 0x796d, 0x0141, 0x0cc2, 0x01e1, 0xcde1, 0x000f, 0x2001,
					 0x40e6, 0x0300, 0x7c00, 0, 0, 0, 0, 0x3000};
	memcpy(gm.phy, phy, sizeof phy);
	gm.phy_addr = 0;
	gm.rx_desc[0] = W0_USED; /* nothing to receive into before RE */
	/* the pool's buffers: every one, for the checks */
	struct pkt *all[CFG_PKT_COUNT];
	unsigned n = 0;
	while (n < CFG_PKT_COUNT && (all[n] = pkt_alloc(PKT_APP)) != NULL)
		n++;
	for (unsigned i = 0; i < n; i++) {
		gm.heads[all[i]->index] = all[i]->head;
		gm.pkts[all[i]->index] = all[i];
		pkt_free(all[i]);
	}
	gm_test_held = 0;
}

/* An error interrupt, and what it does to the device: a TX error stops
 * the transmitter, a bus error both directions, until the driver
 * disables them; an overrun only loses a frame. */
static void gm_fault(uint32_t bits)
{
	if (bits & (I_TUND | I_TXERR | I_HRESP))
		gm.tx_halted = 1;
	if (bits & I_HRESP)
		gm.rx_halted = 1;
	if (bits & I_ROVR)
		gm.r[R_RXSTATUS / 4] |= 4;
	gm_isr(bits);
}

/* The PHY's link: down, or up at mbps (1000/100/10) full or half, as
 * autonegotiation would have settled it. */
static void gm_link(int up, unsigned mbps, int full)
{
	gm.phy[1] = up ? 0x796d : 0x7949;
	gm.phy[4] = 0x01e1;
	gm.phy[9] = 0x0300;
	gm.phy[5] = mbps == 100 ? (full ? 0x4100 : 0x4080) : mbps == 10 ? (full ? 0x4040 : 0x4020) : 0xcde1;
	gm.phy[10] = mbps == 1000 ? (full ? 0x0800 : 0x0400) : 0;
}

static const struct pkt *gm_pkt_of(const uint8_t *h)
{
	unsigned idx;
	return gm_in_pool(h, 1, &idx) ? gm.pkts[idx] : NULL;
}

/* The invariants, after any step of the driver. rx_posted, tx_inflight:
 * what the driver says it has on its rings. */
static void gm_check(unsigned rx_posted, unsigned tx_inflight)
{
	unsigned held_rx = 0, held_tx = 0, w = gm_words();
	static uint8_t seen[CFG_PKT_COUNT];
	memset(seen, 0, sizeof seen);
	uint32_t *rxr = gm_desc(0, (uint32_t)gm_ring_base(0)), *txr = gm_desc(1, (uint32_t)gm_ring_base(1));
	if (!rxr || !txr)
		return;
	for (unsigned i = 0; i < CFG_RXQ_SIZE; i++) {
		uint32_t *d = rxr + i * w;
		if (!!(d[0] & W0_WRAP) != (i == CFG_RXQ_SIZE - 1))
			gm_error("%s wrap bit wrong at RX descriptor %lu", "", i);
		if (d[0] & W0_USED)
			continue;
		held_rx++;
		uint64_t a = gm_addr(d, d[0] & ~3u);
		uint8_t *h = (uint8_t *)(uintptr_t)(a - gm.window + gm.anchor);
		unsigned idx;
		if (!gm_in_pool(h, 1, &idx) || h != gm.heads[idx] + CFG_PKT_LINK_OFF - F_RBOF(gm.r[R_NWCFG / 4])) {
			gm_error("%s RX descriptor %lu does not hold a pool buffer at the link offset", "", i);
			continue;
		}
		if (seen[idx]++)
			gm_error("%s buffer %lu on the RX ring twice", "", idx);
		if (gm_pkt_of(h)->owner != PKT_RXRING)
			gm_error("%s RX buffer %lu not tagged PKT_RXRING", "", idx);
	}
	for (unsigned i = 0; i < CFG_TXQ_SIZE; i++) {
		uint32_t *d = txr + i * w;
		if (!!(d[1] & TX_WRAP) != (i == CFG_TXQ_SIZE - 1))
			gm_error("%s wrap bit wrong at TX descriptor %lu", "", i);
		if (d[1] & TX_USED)
			continue;
		held_tx++;
		uint8_t *h = (uint8_t *)(uintptr_t)(gm_addr(d, d[0]) - gm.window + gm.anchor);
		unsigned idx, len = d[1] & 0x3fff;
		if (!(d[1] & TX_LAST) || !gm_in_pool(h, len, &idx))
			gm_error("%s TX descriptor %lu: not one frame inside a pool buffer", "", i);
		else if (gm_pkt_of(h)->owner != PKT_TXRING)
			gm_error("%s TX buffer %lu not tagged PKT_TXRING", "", idx);
	}
	if (held_rx > rx_posted)
		gm_error("%s the device holds %lu RX buffers the driver does not count", "", held_rx);
	if (held_tx > tx_inflight)
		gm_error("%s the device holds %lu TX buffers the driver does not count", "", held_tx);
	if (pkt_free_count() + rx_posted + tx_inflight + gm_test_held != CFG_PKT_COUNT)
		gm_error("%s pool buffers lost: %lu unaccounted", "",
			 CFG_PKT_COUNT - pkt_free_count() - rx_posted - tx_inflight - gm_test_held);
}

#endif
