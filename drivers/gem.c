/*
 * Cadence GEM: the Ethernet MAC of the SiFive FU540 (HiFive Unleashed),
 * the FU740 (Unmatched) and QEMU's sifive_u.
 *
 * Two descriptor rings in the GEM's own format (8-byte descriptors, or 16
 * with 64-bit addressing), each used strictly in order. Every RX
 * descriptor holds one pool buffer, placed so that the MAC's receive
 * offset (NWCFG RBOF) lands the Ethernet header at CFG_PKT_LINK_OFF; a
 * reply goes out from the buffer it came in as one TX descriptor, and
 * when the MAC is done with it the buffer goes straight back to the RX
 * ring. No copies either way.
 *
 * The interrupt handler only reads the interrupt status (which clears
 * it) and records it; the superloop polls through the NIC interface
 * (nic.h). The TX side is started once per poll, not once per frame.
 * The PHY is read over MDIO at probe time and then every
 * CFG_GEM_LINK_MS from a software timer; the MAC's speed and duplex
 * (NWCFG, and the FU540's GEMGXL management register) follow it.
 * Checksums: with RXCOEN the MAC's "UDP checksum good" marks a frame
 * PKT_F_CSUM_OK (QEMU never says it, so there software checks them all);
 * TXCOEN only where CFG_GEM_TX_CSUM asks (the stack computes every sum).
 *
 * The device is not trusted: a descriptor it hands back must describe a
 * whole frame (start and end of frame) of a sane length before the frame
 * is used, and only our own record says which buffer a descriptor holds.
 * The error interrupts restart what they concern: TX underrun, retry
 * limit and AMBA errors the TX ring, a bus error (HRESP) both; all
 * counted in dev_errors, an RX overrun too.
 *
 * Multicast passes the 64-bit hash filter (gem_mcast_filter, which the
 * port calls at start and at every join and leave); without it the MAC
 * takes none but broadcast.
 *
 * QEMU (7.2) looks at an RX descriptor it found owned by software again
 * only when NWCTRL is written with RE set: once the ring ran full
 * (RXUBR) it would never receive again. A transmit writes NWCTRL and
 * hides this, so after an RXUBR the driver rewrites NWCTRL itself as
 * soon as buffers are back on the ring (harmless on real hardware).
 */
#include <stdio.h>
#include <string.h>
#include "net/tune.h"
#include "config.h"
#include "gem.h"
#include "platform.h"
#include "riscv.h"

/* Registers: offsets as in Linux's macb.h and QEMU's cadence_gem.c. */
#define NWCTRL 0x000
#define NWCFG 0x004
#define NWSR 0x008
#define DMACFG 0x010
#define TXSTATUS 0x014
#define RXQBASE 0x018
#define TXQBASE 0x01c
#define RXSTATUS 0x020
#define ISR 0x024 /* cleared by reading */
#define IER 0x028
#define IDR 0x02c
#define PHYMNTNC 0x034
#define HASHB 0x080
#define HASHT 0x084
#define SA1B 0x088
#define SA1T 0x08c /* writing it arms the address filter */
#define MODID 0x0fc
#define DCFG1 0x280
#define DCFG6 0x294
#define TXQBASE_HI 0x4c8 /* upper address bits of both rings (64-bit mode) */
#define RXQBASE_HI 0x4d4
#define REGS_END 0x4d8

#define NWCTRL_RE (1u << 2)
#define NWCTRL_TE (1u << 3)
#define NWCTRL_MPE (1u << 4) /* MDIO enable */
#define NWCTRL_CLRSTAT (1u << 5)
#define NWCTRL_TSTART (1u << 9)

#define NWCFG_SPD (1u << 0) /* 100 Mb/s */
#define NWCFG_FD (1u << 1)
#define NWCFG_MHEN (1u << 6) /* multicast frames through the hash filter */
#define NWCFG_GBE (1u << 10)
#define NWCFG_RBOF(n) ((uint32_t)(n) << 14)
#define NWCFG_FCS_STRIP (1u << 17)
#define NWCFG_MDC_224 (7u << 18) /* MDC = pclk / 224 */
#define NWCFG_DBW(n) ((uint32_t)(n) << 21)
#define NWCFG_RXCOEN (1u << 24)

#define NWSR_MDIO_IDLE (1u << 2)

#define DMACFG_INCR16 16u
#define DMACFG_RXBMS_FULL (3u << 8)
#define DMACFG_TXPBMS (1u << 10)
#define DMACFG_TXCOEN (1u << 11)
#define DMACFG_RXBS(n) ((uint32_t)(n) << 16) /* RX buffer size in 64-byte units */
#define DMACFG_ADDR64 (1u << 30)

#define TXSTATUS_TGO (1u << 3) /* transmitter running */
#define RXSTATUS_OVR (1u << 2)

#define INT_RCOMP (1u << 1)
#define INT_RXUBR (1u << 2) /* the MAC met an RX descriptor it does not own */
#define INT_TUND (1u << 4)
#define INT_RLE (1u << 5)
#define INT_TXERR (1u << 6) /* TX frame corrupted by an AMBA error (QEMU: also an RX frame too long) */
#define INT_TCOMP (1u << 7)
#define INT_ROVR (1u << 10)
#define INT_HRESP (1u << 11) /* bus error on a DMA access */
#define INT_TX_ERRORS (INT_TUND | INT_RLE | INT_TXERR)
#define INT_ERRORS (INT_TX_ERRORS | INT_ROVR | INT_HRESP)
/* TXUBR (bit 3) stays off: the MAC raises it at the end of every burst. */
#define INT_WANTED (INT_RCOMP | INT_RXUBR | INT_ERRORS)

#define MODID_IDNUM(v) ((v) >> 16 & 0xfff) /* 1: the older MACB; 2 and up: a GEM */
#define DCFG1_DBWDEF(v) ((v) >> 25 & 7)    /* data bus: 1 = 32, 2 = 64, 4 = 128 bits */
#define DCFG6_DAW64 (1u << 23)             /* 64-bit DMA addresses */

/* Descriptors */
#define RX_USED (1u << 0) /* word 0: set by the MAC when the buffer is filled */
#define RX_WRAP (1u << 1) /* word 0: last descriptor of the ring */
#define RX_LEN 0x1fffu    /* word 1 */
#define RX_SOF (1u << 14)
#define RX_EOF (1u << 15)
#define RX_CSUM(w) ((w) >> 22 & 3) /* 2: IP and TCP checksums verified, 3: IP and UDP */
#define TX_LAST (1u << 15)         /* word 1 */
#define TX_WRAP (1u << 30)
#define TX_USED (1u << 31) /* set by the MAC when sent; clear hands the frame over */

/* MDIO frames (clause 22): start 01, read 10 / write 01, turnaround 10. */
#define MDIO_READ 0x60020000u
#define MII_BMCR 0
#define MII_BMSR 1
#define MII_ID1 2
#define MII_ID2 3
#define MII_ADV 4
#define MII_LPA 5
#define MII_CTRL1000 9
#define MII_STAT1000 10
#define BMCR_SPEED100 0x2000
#define BMCR_ANENABLE 0x1000
#define BMCR_FULL 0x0100
#define BMCR_SPEED1000 0x0040
#define BMSR_LINK 0x0004
#define BMSR_ANDONE 0x0020
#define BMSR_ESTATEN 0x0100 /* 1000BASE-T registers present */
#define ADV_1000FULL 0x0200
#define ADV_1000HALF 0x0100
#define LPA_100FULL 0x0100
#define LPA_100HALF 0x0080
#define LPA_10FULL 0x0040
/* Register reads while waiting for the MDIO bus or the transmitter: a
 * device that never finishes must not hang the firmware. */
#define SPINS 100000

#define FRAME_MAX 1514     /* largest frame taken or sent: no FCS, no VLAN tag */
#define MAC_FRAME_MAX 1518 /* largest the MAC writes (jumbo and 1536-byte frames off) */
/* RBOF: the buffer address must be word aligned, the offset makes up the rest. */
#define RX_OFF (CFG_PKT_LINK_OFF % 4)
/* The size the MAC is told covers offset + largest frame (1536 here).
 * The room from the buffer address to the end of the pool buffer may be
 * a few bytes less (1524): the MAC never writes more than the frame. */
#define RXBS ((RX_OFF + MAC_FRAME_MAX + 63) / 64)
_Static_assert(CFG_PKT_LINK_OFF + MAC_FRAME_MAX <= CFG_PKT_BUFSZ,
	       "a received frame must fit its pool buffer");
/* The shortest frame, in whole aligned words (pool buffers are 64-byte
 * aligned and a multiple of 8 long). */
#define PAD_FROM (CFG_PKT_LINK_OFF & ~7)
#define PAD_TO ((CFG_PKT_LINK_OFF + 60 + 7) & ~7)
_Static_assert(CFG_PKT_BUFSZ % 8 == 0, "pool buffers must stay 8-byte aligned");

#ifdef RVNET_HOST_MMIO
/* Host tests: the model's bus sees our memory through a window the test
 * chooses (below or above 4 GiB). */
uint64_t host_dma_addr(const void *p);
uint64_t host_dma_top(void);
#define dma_addr host_dma_addr
#define dma_top host_dma_top
#else
/* No IOMMU: bus addresses are CPU addresses, and everything the MAC
 * touches (rings, pool) is static, below the end of the image. */
extern char __image_end[];
static inline uint64_t dma_addr(const void *p) { return (uintptr_t)p; }
static inline uint64_t dma_top(void) { return (uintptr_t)__image_end; }
#endif

/* One descriptor ring, used strictly in order. Counters are machine
 * words (no 16-bit wrap to redo). */
struct ring {
	volatile uint32_t *desc;
	struct pkt **slot;       /* descriptor -> buffer */
	unsigned long head;      /* oldest descriptor holding one of our buffers */
	unsigned long count;     /* buffers the MAC holds, from head on */
	/* Running, where buffers move by the batch, not per frame: RX,
	 * buffers ever handed to the MAC (rx_fill, tx_reclaim); TX, ever
	 * taken back (tx_reclaim). With count they give the frames that
	 * went by (frames_fold): RX moved - count, TX moved + count. */
	unsigned long moved;
	unsigned long counted;   /* that figure when last folded into stats */
};

/* Room for 16-byte descriptors; 8-byte ones use the first half. */
static uint32_t rx_mem[CFG_RXQ_SIZE * 4] __attribute__((aligned(64))) CFG_NOINIT;
static uint32_t tx_mem[CFG_TXQ_SIZE * 4] __attribute__((aligned(64))) CFG_NOINIT;
static struct pkt *rx_slot[CFG_RXQ_SIZE], *tx_slot[CFG_TXQ_SIZE];
static GP_DATA struct ring rx = {.desc = rx_mem, .slot = rx_slot};
/* Without a device (none probed yet, or a host test's detach) the TX
 * ring reads full: gem_tx's test for room then turns a frame away with
 * no test of dev.base of its own (tx_slow makes it). ring_init empties
 * it. Its slots are empty then: nothing drains it without a device. */
static GP_DATA struct ring tx = {.desc = tx_mem, .slot = tx_slot, .count = CFG_TXQ_SIZE};
/* A ring's size (a power of two) is the configured one, a constant: no
 * load for it or its mask on the per-frame path (an immediate). */
#define ring_size(r) ((r) == &rx ? (unsigned long)CFG_RXQ_SIZE : (unsigned long)CFG_TXQ_SIZE)
#define ring_mask(r) (ring_size(r) - 1)

struct link {
	uint8_t up, full;
	uint16_t mbps;
};

/* The device, as probed. */
static GP_DATA struct {
	uintptr_t base;
	uintptr_t mgmt;     /* GEMGXL management register, 0 if none */
	uint32_t irq;
	uint32_t ctrl;      /* NWCTRL while running */
	uint32_t cfg;       /* NWCFG less speed and duplex */
	unsigned long shift; /* descriptor size: 1 << shift words */
	unsigned long bshift; /* the same in bytes (shift + 2): one shift finds a descriptor */
	int phy;            /* MDIO address, -1: none answered */
	uint32_t phy_id;
	uint8_t tx_pending; /* frames handed over since the last TSTART */
	uint8_t rx_restart; /* RXUBR seen: rewrite NWCTRL once buffers are back */
	uint8_t tcomp_on;   /* TX completion interrupt enabled */
	volatile uint32_t *tx_newest; /* the descriptor last handed over (valid while tx.count) */
	unsigned long rx_low;   /* the flush takes a batch back once fewer RX buffers */
	unsigned long tx_slack; /* are posted, or more TX buffers held (gem_flush) */
} dev;
/* Sent buffers taken back at once, at most (gem_flush); host tests
 * choose, 0 (every pass) unless they ask. */
#ifdef RVNET_HOST_MMIO
unsigned gem_host_batch;
#define BATCH gem_host_batch
#else
#define BATCH CFG_RECLAIM_BATCH
#endif
static struct link link;
static struct swtimer link_timer;
/* Interrupt causes that need handling (errors, RXUBR); a received or sent
 * frame needs none: the rings say so. */
static GP_DATA volatile uint32_t events;
static struct nic *self;         /* what the port sees: link state */
static GP_DATA struct nic_stats stats; /* self->stats points here */
#define INT_HANDLED (INT_RXUBR | INT_ERRORS)

/* nic.stats_sync. rx_frames and tx_frames are not counted per frame:
 * the rings' running figures (struct ring: moved) say how many went by.
 * Folded into stats here, before anyone reads or clears them, and before
 * a drain moves the figures with no frames behind them (rings_stop). */
static void frames_fold(void)
{
	unsigned long r = rx.moved - rx.count, t = tx.moved + tx.count;
	stats.rx_frames += (uint32_t)(r - rx.counted);
	stats.tx_frames += (uint32_t)(t - tx.counted);
	rx.counted = r;
	tx.counted = t;
}

static uint32_t rd(unsigned off) { return mmio_read32(dev.base + off); }
static void wr(unsigned off, uint32_t v) { mmio_write32(dev.base + off, v); }
static inline volatile uint32_t *desc_at(volatile uint32_t *base, unsigned long i, unsigned long bshift)
{
	return (volatile uint32_t *)(void *)((uintptr_t)base + (i << bshift));
}
static volatile uint32_t *desc(const struct ring *r, unsigned long i) { return desc_at(r->desc, i, dev.bshift); }
static unsigned last(const struct ring *r, unsigned long i) { return i == ring_mask(r); }

/* Every descriptor ours (used) and empty, the last one marked. */
static void ring_init(struct ring *r, int is_rx)
{
	for (unsigned i = 0; i < ring_size(r); i++) {
		volatile uint32_t *d = desc(r, i);
		d[0] = is_rx ? RX_USED | (last(r, i) ? RX_WRAP : 0) : 0;
		d[1] = is_rx ? 0 : TX_USED | (last(r, i) ? TX_WRAP : 0);
		if (dev.shift == 2)
			d[2] = d[3] = 0;
	}
	r->head = r->count = 0;
	r->counted = r->moved; /* counted from here (a drain before: rings_stop) */
}

static void set_base(unsigned lo, unsigned hi, const uint32_t *mem)
{
	uint64_t a = dma_addr(mem);
	if (dev.shift == 2)
		wr(hi, (uint32_t)(a >> 32));
	wr(lo, (uint32_t)a);
}

/* The oldest buffer of a ring, taken back from it: head h, count n
 * (read before a fence, which would have them read again). */
static inline struct pkt *take_at(struct ring *r, unsigned long h, unsigned long n)
{
	struct pkt *p = r->slot[h];
	r->slot[h] = NULL;
	r->head = (h + 1) & ring_mask(r);
	r->count = n - 1;
	return p;
}

static inline struct pkt *take(struct ring *r)
{
	return take_at(r, r->head, r->count);
}

static void drain(struct ring *r)
{
	while (r->count)
		pkt_free(take(r));
}

/* Give the MAC a buffer for one received frame.
 *
 * A frame shorter than 60 bytes is reported as 60 long, as a wire pads
 * it; QEMU writes only the bytes it had, so the first 60 are cleared
 * here: the rest then reads as a wire's zero padding, never as whatever
 * the buffer held before (a frame of someone else's). Nine stores. */
static inline void rx_hand(struct pkt *p, volatile uint32_t *d, unsigned long shift, uint32_t wrap)
{
	uint64_t a = dma_addr(p->head + CFG_PKT_LINK_OFF - RX_OFF);
	uint64_t *w = __builtin_assume_aligned(p->head + PAD_FROM, 8);
#pragma GCC unroll 16
	for (unsigned k = 0; k < (PAD_TO - PAD_FROM) / 8; k++)
		w[k] = 0;
	uint32_t *dw = (uint32_t *)(uintptr_t)d; /* plain stores: the fences order them (tune.h) */
	if (shift == 2)
		dw[2] = (uint32_t)(a >> 32);
	fence(); /* padding and upper half before the word that hands it over */
	dw[0] = (uint32_t)a | wrap; /* used bit clear: the MAC's now */
}

static inline void rx_post(struct pkt *p)
{
	unsigned long i = (rx.head + rx.count) & ring_mask(&rx);
	rx.slot[i] = p;
	rx.count++;
	rx.moved++;
	rx_hand(p, desc(&rx, i), dev.shift, last(&rx, i) ? RX_WRAP : 0);
}

static OUT_OF_LINE void rx_fill(void)
{
	while (rx.count < ring_size(&rx)) {
		struct pkt *p = pkt_alloc(PKT_RXRING);
		if (!p) {
			stats.rx_nobuf++; /* retried on the next poll */
			break;
		}
		rx_post(p);
	}
}

/* Start the transmitter on what was handed over. Writing NWCTRL with RE
 * also makes QEMU look at the RX ring again. */
static inline void tx_kick(void)
{
	/* the bookkeeping first (nothing reads it in between), the write
	 * last: under QEMU's -icount a register access in the middle of a
	 * translated block ends it there, and the rest runs again as a
	 * block of its own (what a TB-level count sees twice) */
	uint32_t v = dev.ctrl | NWCTRL_TSTART;
	dev.tx_pending = 0;
	if (dev.rx_restart && rx.count)
		dev.rx_restart = 0;
	stats.notifies++;
	fence(); /* descriptors before the doorbell */
	wr(NWCTRL, v);
}

/* After an RXUBR: tell the MAC the ring has buffers again (QEMU). */
static void rx_kick(void)
{
	dev.rx_restart = 0;
	stats.notifies++;
	fence(); /* the write last, as in tx_kick */
	wr(NWCTRL, dev.ctrl);
}

/* Buffers taken off a ring that go back to the pool, linked through
 * next: freed after the loop, so that the loop itself calls nothing. */
static void drop_list(struct pkt *p)
{
	while (p) {
		struct pkt *next = p->next;
		pkt_free(p);
		p = next;
	}
}

/* Take sent buffers back, a batch at a time (gem_flush). Each goes
 * straight back to the RX ring while that has room (it has: the frames
 * answered left their slots), skipping a trip through the pool; the
 * others (a reassembly slot goes back to its owner) are put on *dead. */
static OUT_OF_LINE void tx_reclaim(struct pkt **dead)
{
	/* take() and rx_post(), in registers; both rings walked with
	 * pointers that wrap at their ends, not an index masked and scaled
	 * per buffer */
	unsigned long shift = dev.shift, bshift = dev.bshift, stride = 1ul << bshift;
	unsigned long tn = tx.count, rn = rx.count, rsize = ring_size(&rx);
	struct pkt **tslot = tx.slot, **ts = &tslot[tx.head], **tsend = &tslot[ring_size(&tx)];
	struct pkt **rslot = rx.slot, **rs = &rslot[(rx.head + rn) & ring_mask(&rx)], **rslast = &rslot[ring_mask(&rx)];
	volatile uint32_t *td = desc_at(tx.desc, tx.head, bshift);
	volatile uint32_t *rd = desc_at(rx.desc, (rx.head + rn) & ring_mask(&rx), bshift);
	struct pkt *list = *dead;
	while (tn && (td[1] & TX_USED)) {
		struct pkt *p = *ts;
		*ts = NULL;
		tn--;
		td = (volatile uint32_t *)(void *)((uintptr_t)td + stride);
		if (++ts == tsend) {
			ts = tslot;
			td = tx.desc;
		}
		if (rn < rsize && !p->frag_next && pkt_own(p, PKT_RXRING) == 0) {
			*rs = p;
			rn++;
			/* one test for the last descriptor's wrap bit and the
			 * pointers' wrap (rx_hand twice, inline: the common
			 * case writes no wrap bit at all) */
			if (rs != rslast) {
				rx_hand(p, rd, shift, 0);
				rd = (volatile uint32_t *)(void *)((uintptr_t)rd + stride);
				rs++;
			} else {
				rx_hand(p, rd, shift, RX_WRAP);
				rs = rslot;
				rd = rx.desc;
			}
		} else {
			p->next = list;
			list = p;
		}
	}
	tx.head = (unsigned long)(ts - tslot);
	tx.moved += tx.count - tn;
	rx.moved += rn - rx.count;
	tx.count = tn;
	rx.count = rn;
	*dead = list;
}

static OUT_OF_LINE int tx_drop(struct pkt *p, uint32_t *counter)
{
	(*counter)++;
	pkt_free(p);
	return -1;
}

/* Hand a frame to the MAC (the ring has room). */
static inline int tx_post(struct pkt *p, unsigned long len)
{
	unsigned long i = (tx.head + tx.count) & ring_mask(&tx);
	volatile uint32_t *d = desc(&tx, i);
	uint64_t a = dma_addr(p->data);
	/* the word that hands it over, made before the fence (which would
	 * have the ring's mask read again) */
	unsigned long w1 = len | TX_LAST | (last(&tx, i) ? TX_WRAP : 0);
	uint32_t *dw = (uint32_t *)(uintptr_t)d; /* plain stores: the fences order them (tune.h) */
	tx.slot[i] = p;
	tx.count++;
	dw[0] = (uint32_t)a;
	if (dev.shift == 2)
		dw[2] = (uint32_t)(a >> 32);
	stats.tx_bytes += (uint32_t)len;
	fence(); /* the address before the word that hands it over */
	dw[1] = (uint32_t)w1;
	dev.tx_newest = d;
	dev.tx_pending = 1;
	return 0;
}

/* What gem_tx leaves aside: no device, a frame that cannot be sent, a
 * full ring (sent buffers taken back first), a partial checksum. */
static OUT_OF_LINE int tx_slow(struct pkt *p)
{
	if (!dev.base || p->len == 0 || p->len > FRAME_MAX)
		return tx_drop(p, &stats.tx_bad);
	if (tx.count == ring_size(&tx)) {
		struct pkt *dead = NULL;
		tx_reclaim(&dead);
		drop_list(dead);
		if (tx.count == ring_size(&tx))
			return tx_drop(p, &stats.tx_full);
	}
	/* The MAC never hands us a partial checksum, but the stack may still
	 * send one (a reflected frame): it leaves finished. */
	if ((p->flags & PKT_F_CSUM_PART) && nic_csum_finish(p, &stats))
		return tx_drop(p, &stats.tx_bad);
	return tx_post(p, p->len);
}

/* netif.output: a leaf; every rare case goes to tx_slow. */
static int gem_tx(struct pkt *p)
{
	if (pkt_own(p, PKT_TXRING)) {
		stats.tx_bad++; /* a freed buffer: never put it on the ring */
		return -1;
	}
	/* len read once, for the test and the descriptor (read twice, GCC
	 * sign-extends one of them); no device: no room either (the ring's
	 * initialiser) */
	unsigned long len = p->len;
	if (len - 1 >= FRAME_MAX || tx.count == ring_size(&tx) || (p->flags & PKT_F_CSUM_PART))
		return tx_slow(p);
	return tx_post(p, len);
}

/* Stop what 'off' names (TE, RE) and take every buffer back. Clearing TE
 * also sends the MAC back to the start of the TX ring. */
static void rings_stop(uint32_t off)
{
	frames_fold(); /* the drains below move the figures with no frames */
	wr(NWCTRL, dev.ctrl & ~off);
	for (unsigned i = 0; i < SPINS && (rd(TXSTATUS) & TXSTATUS_TGO); i++)
		;
	drain(&tx);
	wr(TXSTATUS, ~0u);
	if (off & NWCTRL_RE) {
		drain(&rx);
		wr(RXSTATUS, ~0u);
	}
	dev.tx_pending = 0;
	/* counted from here: the buffers drained were no frames */
	rx.counted = rx.moved - rx.count;
	tx.counted = tx.moved + tx.count;
}

/* Both rings from the top, RX filled, interrupts on, MAC running. */
static void rings_start(void)
{
	ring_init(&rx, 1);
	ring_init(&tx, 0);
	set_base(RXQBASE, RXQBASE_HI, rx_mem);
	set_base(TXQBASE, TXQBASE_HI, tx_mem);
	/* A batch (gem_flush) is a quarter of a ring at most, so that a
	 * burst still finds most of the RX ring posted. */
	dev.rx_low = ring_size(&rx) - (ring_size(&rx) / 4 < BATCH ? ring_size(&rx) / 4 : BATCH);
	dev.tx_slack = ring_size(&tx) / 4 < BATCH ? ring_size(&tx) / 4 : BATCH;
	rx_fill();
	dev.rx_restart = 0;
	dev.tcomp_on = 0;
	wr(IDR, INT_TCOMP);
	wr(IER, INT_WANTED);
	fence();
	wr(NWCTRL, dev.ctrl);
}

/* TX underrun, retry limit, AMBA error: the transmitter stopped inside
 * its ring. Start it again from the top; the frames on it are lost. */
static void tx_restart(void)
{
	rings_stop(NWCTRL_TE);
	ring_init(&tx, 0);
	set_base(TXQBASE, TXQBASE_HI, tx_mem);
	fence();
	wr(NWCTRL, dev.ctrl);
}

static void handle_events(void)
{
	uint32_t ev = __atomic_exchange_n(&events, 0, __ATOMIC_RELAXED);
	if (ev & INT_ERRORS)
		stats.dev_errors++;
	if (ev & INT_HRESP) {
		/* a DMA access failed: neither ring's state can be trusted */
		rings_stop(NWCTRL_TE | NWCTRL_RE);
		rings_start();
		return;
	}
	if (ev & INT_TX_ERRORS)
		tx_restart();
	if (ev & INT_ROVR)
		wr(RXSTATUS, RXSTATUS_OVR); /* the frame is lost; reception goes on */
	if (ev & INT_RXUBR)
		stats.rx_nobuf++; /* the MAC found the ring empty and drops until refilled */
	if (ev & (INT_RXUBR | INT_ROVR))
		dev.rx_restart = 1;
}

unsigned long gem_rx(struct pkt **v, unsigned long max);
static OUT_OF_LINE unsigned long rx_take(struct pkt **v, struct pkt **vp, struct pkt **vend);

/* An error or RXUBR interrupt: handled before the ring is read (a bus
 * error makes it garbage), then the ring is read. */
static OUT_OF_LINE unsigned long rx_events(struct pkt **v, unsigned long max)
{
	handle_events();
	return gem_rx(v, max);
}

/* A part of a frame, or a length no frame has: counted, back to the pool,
 * and the ring read on (a tail call: the stack does not grow). */
static OUT_OF_LINE unsigned long rx_drop(struct pkt **v, struct pkt **vp, struct pkt **vend,
				    struct pkt *p)
{
	stats.rx_bad++;
	rx.counted++; /* taken, but no frame (frames_fold) */
	pkt_free(p);
	return rx_take(v, vp, vend);
}

/* The loop of gem_rx and rx_take: frames into vp.. until vend; how many
 * are in v then. A leaf: the rare cases are tail calls. */
static inline __attribute__((always_inline)) unsigned long rx_loop(struct pkt **v, struct pkt **vp,
							       struct pkt **vend, int first)
{
	/* max >= 1 (nic.h): only a call after a drop can find v full */
	if (!first && vp == vend)
		return (unsigned long)(vp - v);
	/* the count, the head and the descriptor size read once, kept in
	 * registers across the fence, which would have them read again (the
	 * ring's base is loaded again: one register more and GCC saves one
	 * on the stack); the first look before the loop's constants are
	 * made, the look that ends it (the next descriptor, not yet
	 * written) at its bottom */
	unsigned long n = rx.count, h = rx.head, bshift = dev.bshift;
	if (!n)
		return (unsigned long)(vp - v);
	volatile uint32_t *d = desc_at(rx.desc, h, bshift);
	while (d[0] & RX_USED) {
		fence(); /* the status word after the bit that says it is written */
		/* the word as lw leaves it, sign-extended: every field tested
		 * lies below bit 31, and GCC extends a uint32_t again (tune.h:
		 * lw as is) */
		unsigned long st = (unsigned long)(long)(int32_t)d[1];
		struct pkt *p = take_at(&rx, h, n);
		h = (h + 1) & ring_mask(&rx);
		/* Start and end of frame, and a length of 14 to FRAME_MAX, in
		 * one unsigned compare: the low 16 bits are SOF | EOF | len for
		 * a whole frame; without either flag they lie below the bound
		 * and wrap, and so does a short length. Bit 13 (above RX_LEN:
		 * a jumbo length's top bit, or a bad FCS where the MAC keeps
		 * such frames; neither mode is on) makes it too long. */
		unsigned long lo = st << 48;
		__asm__("" : "+r"(lo)); /* two shifts: GCC would mask with a constant */
		unsigned long sl = (lo >> 48) - (RX_SOF | RX_EOF | 14);
		__asm__("" : "+r"(sl)); /* len from it, not again from the word */
		if (sl > FRAME_MAX - 14)
			return rx_drop(v, vp, vend, p); /* dropped ones do not count against max */
		unsigned long len = sl + 14;
		p->data = p->head + CFG_PKT_LINK_OFF;
		p->len = (uint16_t)len;
		p->flags = CFG_GEM_RX_CSUM && RX_CSUM(st) >= 2 ? PKT_F_CSUM_OK : 0;
		pkt_own(p, PKT_STACK);
		stats.rx_bytes += len;
		*vp++ = p;
		if (vp == vend || !--n)
			break;
		d = desc_at(rx.desc, h, bshift);
	}
	return (unsigned long)(vp - v);
}

/* Take up to max (>= 1) received frames off the RX ring into v; the
 * caller owns them. The ring's descriptors stay empty until gem_flush.
 * Without a device nothing was ever posted: rx.count is 0. */
OUT_OF_LINE unsigned long gem_rx(struct pkt **v, unsigned long max)
{
	if (events)
		return rx_events(v, max);
	return rx_loop(v, v, v + max, 1);
}

static OUT_OF_LINE unsigned long rx_take(struct pkt **v, struct pkt **vp, struct pkt **vend)
{
	return rx_loop(v, vp, vend, 0);
}

/* What gem_flush leaves aside: the batch (sent buffers back, onto the RX
 * ring or to the pool), a ring to refill. */
static OUT_OF_LINE void flush_slow(void)
{
	struct pkt *dead = NULL;
	tx_reclaim(&dead);
	drop_list(dead);
	if (rx.count < ring_size(&rx))
		rx_fill();
	if (dev.tx_pending)
		tx_kick();
	else if (dev.rx_restart && rx.count)
		rx_kick();
}

/* Is the RX ring short of more buffers than a batch lets it be? Then
 * the flush takes sent buffers back and refills it. */
static inline int rx_short(void)
{
	return rx.count < dev.rx_low;
}

/* After the frames taken were handled: the MAC told. Sent buffers are
 * taken back (onto the RX ring) in batches, once the RX ring holds fewer
 * than dev.rx_low buffers or the TX ring more than dev.tx_slack: one
 * pass in that many pays for reading the TX ring and refilling, not
 * every pass. A leaf but for flush_slow. Without a device nothing was
 * ever posted or handed over, and nothing is done. */
OUT_OF_LINE void gem_flush(void)
{
	if (rx_short() || tx.count > dev.tx_slack) {
		if (dev.base)
			flush_slow();
		return;
	}
	if (dev.tx_pending)
		tx_kick();
	else if (dev.rx_restart)
		rx_kick();
}

/* The whole poll in one call, for the unit tests: take up to budget
 * frames, hand each to deliver, flush. */
unsigned gem_poll(nic_deliver_fn deliver, unsigned budget)
{
	struct pkt *v[32];
	unsigned n = 0, k;
	while (n < budget && (k = (unsigned)gem_rx(v, budget - n < 32 ? budget - n : 32)) != 0) {
		for (unsigned i = 0; i < k; i++)
			deliver(v[i]);
		n += k;
	}
	gem_flush();
	return n;
}

/* Before the superloop sleeps, the MAC told of what it got: the
 * interrupts armed and a last look at the TX ring.
 *
 * No look at the RX ring, nor at events: the receive interrupt (RCOMP)
 * is never masked, and the status read that clears it (isr) comes before
 * the pass's gem_rx looked at the ring. A frame written after that look
 * has set RCOMP again: the line is up, and wfi does not sleep (the next
 * pass takes the frame). An error or RXUBR likewise; and events is set
 * only by isr, which runs at the top of a pass, before gem_rx handles
 * what it recorded (rx_events): here it is always clear. */
/* shorted: rx_short(), and tn: tx.count, as the caller found them
 * (read before tx_kick's fence, which would have them read again; a
 * kick moves neither). gem_flush_idle's fast path found the RX ring not
 * short: what depends on that folds away there. */
static inline __attribute__((always_inline)) int idle_look(int shorted, unsigned long tn)
{
	/* Sent buffers come back without an interrupt; wait for one only when
	 * the RX ring is short (the flush's batch) of buffers that those
	 * would refill. */
	int starved = tn && shorted;
	if (starved != dev.tcomp_on) {
		wr(starved ? IER : IDR, INT_TCOMP);
		dev.tcomp_on = (uint8_t)starved;
		fence(); /* a frame sent before the enable raised nothing: look again */
	}
	if (tn) {
		/* The MAC can stop on a descriptor filled just after it looked,
		 * and ignore the TSTART that came while it was still going:
		 * the newest not sent and the MAC stopped, start it again. */
		if (!(dev.tx_newest[1] & TX_USED) && !(rd(TXSTATUS) & TXSTATUS_TGO))
			tx_kick();
		if (starved && (desc(&tx, tx.head)[1] & TX_USED))
			return 1; /* sent buffers to take back */
	}
	if (starved)
		return 0;
	return shorted && pkt_free_count() > 0; /* a refill can make progress */
}

/* The unit tests' idle check, after their poll's flush. A leaf. */
OUT_OF_LINE int gem_idle(void)
{
	if (!dev.base)
		return 0;
	if (dev.tx_pending)
		tx_kick();
	return idle_look(rx_short(), tx.count);
}

static OUT_OF_LINE int flush_slow_idle(void)
{
	if (!dev.base)
		return 0;
	flush_slow();
	return idle_look(rx_short(), tx.count);
}

/* nic_ops.idle: gem_flush and the idle check in one leaf (the batch
 * tail-called). */
OUT_OF_LINE int gem_flush_idle(void)
{
	unsigned long tn = tx.count;
	if (rx_short() || tn > dev.tx_slack)
		return flush_slow_idle();
	/* no test of dev.base: without a device every ring and flag is
	 * empty, and nothing below touches a register */
	if (dev.tx_pending)
		tx_kick();
	else if (dev.rx_restart)
		rx_kick();
	return idle_look(0, tn); /* not short: tested above */
}

static void gem_rings(unsigned *rx_posted, unsigned *tx_inflight)
{
	*rx_posted = (unsigned)rx.count;
	*tx_inflight = (unsigned)tx.count;
}

/* Read the status (which clears it) and record what needs handling.
 * arg: the status register, which plic_dispatch loads for the call
 * anyway: one load less here. */
static void isr(void *arg)
{
	stats.irqs++; /* first: the read then ends the block (tx_kick) */
	/* as lw leaves it (tune.h: lw as is), tested shifted: INT_HANDLED
	 * >> 2 fits an immediate, INT_HANDLED takes two instructions */
	unsigned long s = (unsigned long)mmio_read32s((uintptr_t)arg);
	if ((s >> 2) & (INT_HANDLED >> 2))
		events |= (uint32_t)s & INT_HANDLED;
}

/* ---- PHY ---- */

static int mdio_idle(void)
{
	for (unsigned i = 0; i < SPINS; i++)
		if (rd(NWSR) & NWSR_MDIO_IDLE)
			return 1;
	return 0;
}

/* A PHY register, or -1 when the MDIO bus does not answer. */
static int mdio_read(unsigned phy, unsigned reg)
{
	if (!mdio_idle())
		return -1;
	wr(PHYMNTNC, MDIO_READ | phy << 23 | reg << 18);
	if (!mdio_idle())
		return -1;
	return (int)(rd(PHYMNTNC) & 0xffff);
}

/* The first address with a PHY behind it (an empty one reads all ones). */
static void phy_find(void)
{
	dev.phy = -1;
	for (unsigned a = 0; a < 32; a++) {
		int id1 = mdio_read(a, MII_ID1), id2 = mdio_read(a, MII_ID2);
		if (id1 < 0 || id2 < 0)
			return; /* no MDIO bus */
		if ((id1 == 0xffff && id2 == 0xffff) || (id1 == 0 && id2 == 0))
			continue;
		dev.phy = (int)a;
		dev.phy_id = (uint32_t)id1 << 16 | (uint32_t)id2;
		return;
	}
}

/* Speed and duplex autonegotiation settled on: the best mode both ends
 * advertise. 0, or -1 when the bus failed. */
static int phy_resolve(unsigned a, int bmsr, struct link *l)
{
	if (bmsr & BMSR_ESTATEN) {
		int c = mdio_read(a, MII_CTRL1000), s = mdio_read(a, MII_STAT1000);
		if (c < 0 || s < 0)
			return -1;
		unsigned both = (unsigned)c & (unsigned)s >> 2; /* partner bits sit 2 higher */
		if (both & (ADV_1000FULL | ADV_1000HALF)) {
			l->mbps = 1000;
			l->full = !!(both & ADV_1000FULL);
			return 0;
		}
	}
	int adv = mdio_read(a, MII_ADV), lpa = mdio_read(a, MII_LPA);
	if (adv < 0 || lpa < 0)
		return -1;
	unsigned both = (unsigned)(adv & lpa);
	if (both & (LPA_100FULL | LPA_100HALF)) {
		l->mbps = 100;
		l->full = !!(both & LPA_100FULL);
	} else {
		l->mbps = 10;
		l->full = !!(both & LPA_10FULL);
	}
	return 0;
}

/* The PHY's link state now. 0, or -1 when the bus failed. */
static int phy_link(struct link *l)
{
	unsigned a = (unsigned)dev.phy;
	*l = (struct link){0};
	mdio_read(a, MII_BMSR); /* the link bit latches low: the second read is now */
	int bmsr = mdio_read(a, MII_BMSR), bmcr = mdio_read(a, MII_BMCR);
	if (bmsr < 0 || bmcr < 0)
		return -1;
	if (!(bmsr & BMSR_LINK))
		return 0;
	if (!(bmcr & BMCR_ANENABLE)) {
		l->mbps = bmcr & BMCR_SPEED1000 ? 1000 : bmcr & BMCR_SPEED100 ? 100 : 10;
		l->full = !!(bmcr & BMCR_FULL);
	} else if (!(bmsr & BMSR_ANDONE)) {
		return 0; /* still negotiating: not up yet */
	} else if (phy_resolve(a, bmsr, l)) {
		return -1;
	}
	l->up = 1;
	return 0;
}

/* The MAC's speed and duplex, and the GEMGXL clock (0: GMII's own 125 MHz
 * at 1000 Mb/s, 1: the PHY's TX clock at 10/100), as the PHY says. */
static void mac_speed(const struct link *l)
{
	uint32_t v = dev.cfg;
	if (l->mbps == 1000)
		v |= NWCFG_GBE;
	else if (l->mbps == 100)
		v |= NWCFG_SPD;
	if (l->full)
		v |= NWCFG_FD;
	wr(NWCFG, v);
	if (dev.mgmt)
		mmio_write32(dev.mgmt, l->mbps == 1000 ? 0 : 1);
}

/* The software timer: follow the PHY. */
static void link_poll(void *arg)
{
	struct link l;
	(void)arg;
	if (phy_link(&l))
		return; /* the bus did not answer: keep what we know */
	if (l.up == link.up && l.mbps == link.mbps && l.full == link.full)
		return;
	if (l.up)
		mac_speed(&l);
	link = l;
	self->link_up = l.up;
	self->speed_mbps = l.mbps;
	stats.link_changes++;
}

/* ---- probe ---- */

static int fail(const char *why)
{
	printf("gem: %s; device %#lx left alone\n", why, (unsigned long)dev.base);
	dev.base = 0;
	return -1;
}

static uint64_t be_cells(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 32 | fdt_be32(p + 4 * i);
	return v;
}

/* The GEMGXL management register: the node's second reg entry. fdt_dev
 * keeps only the first, so the parent's cell sizes are found by decoding
 * that one each way it could be laid out. */
static uintptr_t second_reg(const struct fdt_info *fi, const struct fdt_dev *d)
{
	static const uint8_t cells[][2] = {{2, 2}, {1, 1}, {2, 1}, {1, 2}};
	uint32_t len;
	const uint8_t *v = fdt_prop(fi, d, "reg", &len);
	for (unsigned k = 0; v && k < sizeof cells / sizeof cells[0]; k++) {
		unsigned ac = cells[k][0], sc = cells[k][1], ent = 4 * (ac + sc);
		if (len >= 2 * ent && len % ent == 0 && be_cells(v, ac) == d->base &&
		    be_cells(v + 4 * ac, sc) == d->size)
			return (uintptr_t)be_cells(v + ent, ac);
	}
	return 0;
}

static int mac_ok(const uint8_t *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* The device tree's address (U-Boot fills it in), else the one U-Boot
 * left in SA1 if it used the network, else a locally administered one. */
static void pick_mac(const struct fdt_info *fi, const struct fdt_dev *d, uint8_t *mac)
{
	static const char *const props[] = {"local-mac-address", "mac-address"};
	static const uint8_t fallback[6] = CFG_DEFAULT_MAC;
	for (unsigned k = 0; k < 2; k++) {
		uint32_t len;
		const uint8_t *v = fdt_prop(fi, d, props[k], &len);
		if (v && len == 6 && mac_ok(v)) {
			memcpy(mac, v, 6);
			return;
		}
	}
	uint32_t b = rd(SA1B), t = rd(SA1T);
	uint8_t sa[6] = {(uint8_t)b, (uint8_t)(b >> 8), (uint8_t)(b >> 16), (uint8_t)(b >> 24),
			 (uint8_t)t, (uint8_t)(t >> 8)};
	if (mac_ok(sa)) {
		memcpy(mac, sa, 6);
		return;
	}
	memcpy(mac, fallback, 6);
	mac[0] = (uint8_t)((mac[0] & ~1u) | 2u); /* unicast, locally administered */
}

/* 8-byte descriptors unless the memory the MAC must reach lies above
 * 4 GiB (or CFG_GEM_DESC64 asks for 16-byte ones). 0, or -1 if the MAC
 * cannot reach it. */
static int pick_format(void)
{
	int need = CFG_GEM_DESC64 || dma_top() > (1ull << 32);
	if (need && !(rd(DCFG6) & DCFG6_DAW64))
		return -1;
	dev.shift = need ? 2 : 1;
	dev.bshift = dev.shift + 2;
	/* one upper-address register per ring: a ring must not cross 4 GiB */
	uint64_t r = dma_addr(rx_mem), t = dma_addr(tx_mem);
	if ((r >> 32) != ((r + sizeof rx_mem - 1) >> 32) || (t >> 32) != ((t + sizeof tx_mem - 1) >> 32))
		return -1;
	return 0;
}

static uint32_t dmacfg(void)
{
	uint32_t v = DMACFG_INCR16 | DMACFG_RXBMS_FULL | DMACFG_TXPBMS | DMACFG_RXBS(RXBS);
	if (CFG_GEM_TX_CSUM)
		v |= DMACFG_TXCOEN;
	if (dev.shift == 2)
		v |= DMACFG_ADDR64;
	return v;
}

/* The hash filter's bucket for a MAC (the GEM's, and QEMU's
 * calc_mac_hash): bit i is the XOR of the address bits i, i+6, ...,
 * i+42, bit 0 being the first byte's lowest (the first on the wire). */
static unsigned mac_hash(const uint8_t m[6])
{
	unsigned h = 0;
	for (unsigned b = 0; b < 48; b++)
		h ^= (unsigned)((m[b >> 3] >> (b & 7)) & 1) << (b % 6);
	return h;
}

/* nic.mcast_filter: a bucket per group; the hash filter then passes the
 * groups that share a bucket with ours too (the stack drops those), and
 * never broadcast's (the MAC takes it before the hash) nor our unicast
 * (SA1). Any list fits. The hash is written before the filter is
 * turned on, so no group's frames are lost in between. */
static int gem_mcast_filter(struct nic *n, const uint8_t (*macs)[6], unsigned count)
{
	(void)n;
	if (!dev.base)
		return -1;
	uint64_t h = 0;
	for (unsigned i = 0; i < count; i++)
		h |= 1ull << mac_hash(macs[i]);
	wr(HASHB, (uint32_t)h);
	wr(HASHT, (uint32_t)(h >> 32));
	dev.cfg |= NWCFG_MHEN; /* kept when the link changes the speed (mac_speed) */
	wr(NWCFG, rd(NWCFG) | NWCFG_MHEN);
	return 0;
}

/* NWCFG's data bus width field from what the design says it has. */
static uint32_t bus_width(void)
{
	unsigned w = DCFG1_DBWDEF(rd(DCFG1));
	return w >= 4 ? 2 : w >= 2 ? 1 : 0;
}

static void describe(struct nic *n)
{
	char phy[48];
	if (dev.phy < 0)
		snprintf(phy, sizeof phy, "no phy");
	else if (!link.up)
		snprintf(phy, sizeof phy, "phy %d id 0x%08lx link down", dev.phy,
			 (unsigned long)dev.phy_id);
	else
		snprintf(phy, sizeof phy, "phy %d id 0x%08lx %u Mb/s %s", dev.phy,
			 (unsigned long)dev.phy_id, link.mbps, link.full ? "full" : "half");
	char all[160]; /* what the arguments could make, cut to what info holds */
	snprintf(all, sizeof all, "gem at %#lx irq %u, %s, desc %s, rx %u tx %u",
		 (unsigned long)dev.base, dev.irq, phy, dev.shift == 2 ? "64-bit" : "32-bit",
		 (unsigned)ring_size(&rx), (unsigned)ring_size(&tx));
	size_t k = 0;
	for (; k + 1 < sizeof n->info && all[k]; k++)
		n->info[k] = all[k];
	n->info[k] = 0;
}

int gem_probe(const struct fdt_info *fi, const struct fdt_dev *d, struct nic *n)
{
	if (dev.base || !d->has_reg || d->size < REGS_END)
		return -1; /* one device is driven */
	dev.base = (uintptr_t)d->base;
	if (MODID_IDNUM(rd(MODID)) < 2)
		return fail("a MACB, not a GEM");
	if (pick_format())
		return fail("memory out of the MAC's DMA reach");
	dev.irq = d->irq;
	dev.mgmt = fdt_is_compatible(d, "sifive,fu540-c000-gem") ? second_reg(fi, d) : 0;
	pick_mac(fi, d, n->mac); /* before the reset: SA1 may hold U-Boot's */
	/* Quiet whatever the boot loader left running. */
	wr(NWCTRL, 0);
	wr(NWCTRL, NWCTRL_CLRSTAT);
	wr(IDR, ~0u);
	(void)rd(ISR);
	wr(TXSTATUS, ~0u);
	wr(RXSTATUS, ~0u);
	/* MDC at most 2.5 MHz whatever pclk is (up to 560 MHz): the link is
	 * polled twice a second, so a slow bus costs nothing. */
	dev.cfg = NWCFG_FCS_STRIP | NWCFG_RBOF(RX_OFF) | NWCFG_MDC_224 | NWCFG_DBW(bus_width()) |
		  (CFG_GEM_RX_CSUM ? NWCFG_RXCOEN : 0);
	link = (struct link){.up = 1, .mbps = 1000, .full = 1}; /* without a PHY: assumed */
	wr(NWCFG, dev.cfg | NWCFG_GBE | NWCFG_FD);
	dev.ctrl = NWCTRL_MPE;
	wr(NWCTRL, dev.ctrl);
	phy_find();
	if (dev.phy >= 0 && phy_link(&link))
		link = (struct link){0};
	if (link.up)
		mac_speed(&link);
	wr(SA1B, (uint32_t)n->mac[0] | (uint32_t)n->mac[1] << 8 | (uint32_t)n->mac[2] << 16 |
			 (uint32_t)n->mac[3] << 24);
	wr(SA1T, (uint32_t)n->mac[4] | (uint32_t)n->mac[5] << 8);
	wr(HASHB, 0);
	wr(HASHT, 0);
	wr(DMACFG, dmacfg());
	self = n;
	n->link_up = link.up;
	n->speed_mbps = link.mbps;
	n->mtu = FRAME_MAX - 14;
	n->caps = (CFG_GEM_RX_CSUM ? NIC_CAP_RX_CSUM : 0) | (CFG_GEM_TX_CSUM ? NIC_CAP_TX_CSUM : 0);
	n->tx = gem_tx;
	n->rings = gem_rings;
	n->stats = &stats;
	n->stats_sync = frames_fold;
	n->mcast_filter = gem_mcast_filter;
	describe(n);
	plic_enable_hot(dev.irq, isr, (void *)(dev.base + ISR));
	dev.ctrl = NWCTRL_MPE | NWCTRL_RE | NWCTRL_TE;
	rings_start();
	if (dev.phy >= 0)
		swtimer_start(&link_timer, CFG_GEM_LINK_MS, CFG_GEM_LINK_MS, link_poll, NULL);
	return 0;
}

#ifdef RVNET_HOST_MMIO
/* Host tests: stop the device, take the ring buffers back and forget it,
 * so that the next test probes a fresh one. */
void gem_host_detach(void);
void gem_host_detach(void)
{
	if (dev.base)
		rings_stop(NWCTRL_TE | NWCTRL_RE);
	memset(&dev, 0, sizeof dev);
	tx.count = ring_size(&tx); /* no device: no room (gem_tx) */
	link = (struct link){0};
	swtimer_stop(&link_timer);
	self = NULL;
	events = 0;
	stats = (struct nic_stats){0};
}
#endif
