/* The Cadence GEM driver (drivers/gem.c, built for the host unchanged:
 * RVNET_HOST_MMIO) against a model of QEMU's GEM (gem_model.h): probe on
 * QEMU's own sifive_u tree, both descriptor formats, echo through both
 * rings and their wrap, a full RX ring and QEMU's RX stall with no TX
 * traffic at all, an exhausted pool, bad descriptors, a full TX ring,
 * device errors, the PHY's link and speed, where the MAC address comes
 * from, RX checksum status, and when the driver may sleep. After every
 * step the model checks ring ownership and the pool's accounting. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gem_model.h"
#include "drivers/fdt.h"
#include "drivers/gem.h"
#include "drivers/platform.h"

void gem_host_detach(void);

#define W32 0x80000000ull   /* the bus window: memory below 4 GiB */
#define DESC_LOW (CFG_GEM_DESC64 ? "desc 64-bit" : "desc 32-bit") /* what W32 gets */
#define W64 0x480000000ull  /* above it */
static const uint8_t GMAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* ---- the platform the driver calls ---- */
static void (*isr_fn)(void *);
static void *isr_arg;
static uint32_t isr_irq;
void plic_enable(uint32_t irq, void (*fn)(void *), void *arg)
{
	isr_irq = irq;
	isr_fn = fn;
	isr_arg = arg;
}
void plic_enable_hot(uint32_t irq, void (*fn)(void *), void *arg)
{
	plic_enable(irq, fn, arg);
}
uint32_t timer_ms(void) { return 0; }
static struct swtimer *timer;
void swtimer_start(struct swtimer *t, uint32_t delay, uint32_t period, void (*fn)(void *), void *arg)
{
	*t = (struct swtimer){.due = delay, .period = period, .fn = fn, .arg = arg, .active = 1};
	timer = t;
}
void swtimer_stop(struct swtimer *t)
{
	t->active = 0;
	if (timer == t)
		timer = NULL;
}
static void fire_timer(void)
{
	if (timer && timer->active)
		timer->fn(timer->arg);
}

/* ---- the device tree ---- */
static uint8_t *su, *su_nomac;
static size_t su_len;
static struct fdt_info fi;

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *b = malloc(1 << 16);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

/* ---- one device under test ---- */
static struct nic nic;
static const struct fdt_dev *node;

/* A fresh pool and model; the test may change the model before probe(). */
static void prep(uint64_t window, const uint8_t *blob)
{
	pkt_pool_init();
	gm_reset(window);
	memset(&nic, 0, sizeof nic);
	isr_fn = NULL;
	timer = NULL;
	CHECK_EQ(fdt_parse(blob, su_len, &fi), 0);
	node = fdt_find(&fi, "sifive,fu540-c000-gem", NULL);
	CHECK(node != NULL);
}

static int probe(void) { return gem_probe(&fi, node, &nic); }

static void check(void)
{
	unsigned r, t;
	nic.rings(&r, &t);
	gm_check(r, t);
	if (gm.errors)
		printf("  model: %s\n", gm.err);
	CHECK_EQ(gm.errors, 0);
	gm.errors = 0;
}

static void finish(void)
{
	gem_host_detach();
	CHECK_EQ(gm.errors, 0);
}

static void rings(unsigned *r, unsigned *t) { nic.rings(r, t); }

/* ---- frames: what was injected, what must come out ---- */
#define EXP_MAX 1024
static struct {
	uint8_t f[GM_FRAME];
	uint16_t len;
	uint8_t bad; /* its descriptor is broken: it must not be delivered */
} expq[EXP_MAX];
static unsigned exp_head, exp_n, delivered, wrong;
static uint8_t last_flags;
static struct {
	uint8_t f[GM_FRAME];
	uint16_t len;
} txq[EXP_MAX];
static unsigned tx_head, tx_n, tx_seen, tx_wrong;

static void reset_frames(void)
{
	exp_head = exp_n = delivered = wrong = 0;
	tx_head = tx_n = tx_wrong = 0;
	tx_seen = gm.nsent;
}

static unsigned mkframe(uint8_t *f, unsigned seq, unsigned len)
{
	memcpy(f, GMAC, 6);
	f[6] = 0x02;
	f[7] = 0;
	f[8] = (uint8_t)(seq >> 24);
	f[9] = (uint8_t)(seq >> 16);
	f[10] = (uint8_t)(seq >> 8);
	f[11] = (uint8_t)seq;
	f[12] = 0x88;
	f[13] = 0xb5;
	for (unsigned i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
	return len;
}

/* A frame of len bytes from the wire; the model's verdict (1 written, 0
 * queued, -1 dropped), and if it was taken, the frame is expected. */
static int inject_as(unsigned seq, unsigned len, int bad)
{
	uint8_t f[GM_FRAME];
	mkframe(f, seq, len);
	int r = gm_rx(f, len);
	if (r >= 0) {
		unsigned i = (exp_head + exp_n++) % EXP_MAX;
		memcpy(expq[i].f, f, len);
		expq[i].len = (uint16_t)len;
		expq[i].bad = (uint8_t)bad;
	}
	return r;
}

static int inject(unsigned seq, unsigned len) { return inject_as(seq, len, 0); }

/* The delivered frame must be the next expected good one, in place. */
static void take_delivery(struct pkt *p)
{
	while (exp_n && expq[exp_head].bad) {
		exp_head = (exp_head + 1) % EXP_MAX;
		exp_n--;
	}
	last_flags = p->flags;
	delivered++;
	if (!exp_n) {
		wrong++;
		return;
	}
	unsigned len = expq[exp_head].len;
	if (p->data != p->head + CFG_PKT_LINK_OFF || p->owner != PKT_STACK ||
	    p->len != (len < 60 ? 60 : len) || memcmp(p->data, expq[exp_head].f, len))
		wrong++;
	exp_head = (exp_head + 1) % EXP_MAX;
	exp_n--;
}

static void on_drop(struct pkt *p)
{
	take_delivery(p);
	pkt_free(p);
}

static void on_echo(struct pkt *p)
{
	take_delivery(p);
	uint8_t t[6];
	memcpy(t, p->data, 6);
	memcpy(p->data, p->data + 6, 6);
	memcpy(p->data + 6, t, 6);
	unsigned i = (tx_head + tx_n++) % EXP_MAX;
	memcpy(txq[i].f, p->data, p->len);
	txq[i].len = p->len;
	nic.tx(p);
}

static struct pkt *held[CFG_PKT_COUNT];
static unsigned nheld;

static void on_hold(struct pkt *p)
{
	take_delivery(p);
	held[nheld++] = p;
	gm_test_held++;
}

static void release_held(void)
{
	while (nheld) {
		pkt_free(held[--nheld]);
		gm_test_held--;
	}
}

/* Frames the device sent since the last look: the expected replies. */
static void check_sent(void)
{
	for (; tx_seen != gm.nsent; tx_seen++) {
		unsigned k = tx_seen % GM_SENT;
		if (!tx_n || gm.sent_len[k] != txq[tx_head].len ||
		    memcmp(gm.sent[k], txq[tx_head].f, gm.sent_len[k]))
			tx_wrong++;
		if (tx_n) {
			tx_head = (tx_head + 1) % EXP_MAX;
			tx_n--;
		}
	}
}

/* The interrupt, if the line is up (plic_dispatch). */
static void service(void)
{
	if (gm_irq() && isr_fn)
		isr_fn(isr_arg);
}

/* The superloop, until the driver has nothing left to do; checks the
 * invariants after every pass. Frames delivered. */
static unsigned pump(nic_deliver_fn fn)
{
	unsigned total = 0;
	for (int pass = 0; pass < 100000; pass++) {
		service();
		unsigned n = gem_poll(fn, 32);
		total += n;
		check();
		check_sent();
		if (n < 32 && !gem_idle() && !gm_irq())
			break;
	}
	return total;
}

/* rx_frames and tx_frames as a reader sees them (nic.stats_sync) */
static const struct nic_stats *st(void)
{
	nic.stats_sync();
	return nic.stats;
}

/* The application keeps the frame (batch_echo). */
static struct pkt *kept_one;
static void on_keep_one(struct pkt *p)
{
	kept_one = p;
	gm_test_held++;
}

/* ---- the tests ---- */

static void probe_qemu_tree(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	char want[96];
	snprintf(want, sizeof want,
		 "gem at 0x10090000 irq 53, phy 0 id 0x01410cc2 1000 Mb/s full, %s, rx %u tx %u",
		 DESC_LOW, CFG_RXQ_SIZE, CFG_TXQ_SIZE);
	CHECK(!strcmp(nic.info, want));
	if (strcmp(nic.info, want))
		printf("  banner: %s\n", nic.info);
	CHECK(!memcmp(nic.mac, GMAC, 6));
	CHECK_EQ(isr_irq, GM_IRQ);
	CHECK_EQ(nic.link_up, 1);
	CHECK_EQ(nic.speed_mbps, 1000);
	CHECK_EQ(nic.mtu, 1500);
	CHECK_EQ(nic.caps, (CFG_GEM_RX_CSUM ? NIC_CAP_RX_CSUM : 0) | (CFG_GEM_TX_CSUM ? NIC_CAP_TX_CSUM : 0));
	uint32_t cfg = gm.r[R_NWCFG / 4], dma = gm.r[R_DMACFG / 4], imr = gm.r[R_IMR / 4];
	CHECK((cfg & (F_GBE | F_FD | F_SPD)) == (F_GBE | F_FD));
	CHECK_EQ(F_RBOF(cfg), CFG_PKT_LINK_OFF % 4);
	CHECK(cfg & F_FCS_STRIP);
	CHECK_EQ(!!(cfg & F_RXCOEN), CFG_GEM_RX_CSUM);
	CHECK_EQ(D_RXBS(dma) * 64, 1536);
	CHECK_EQ(!!(dma & D_ADDR64), CFG_GEM_DESC64);
	CHECK_EQ(!!(dma & D_TXCOEN), CFG_GEM_TX_CSUM);
	CHECK_EQ(gm.mgmt, 0); /* 1000 Mb/s: GMII's own TX clock */
	CHECK(gm.mgmt_writes >= 1);
	CHECK_EQ(gm.r[R_NWCTRL / 4] & (C_RE | C_TE | C_MPE), C_RE | C_TE | C_MPE);
	CHECK_EQ(imr & (I_RCOMP | I_RXUBR | I_TUND | I_TXERR | I_ROVR | I_HRESP), 0);
	CHECK_EQ(imr & (I_TCOMP | I_TXUBR), I_TCOMP | I_TXUBR);
	CHECK(gm.sar_active);
	CHECK_EQ(gm.r[R_SA1B / 4], 0x12005452u);
	CHECK_EQ(gm.r[R_SA1T / 4], 0x5634u);
	unsigned r, t;
	rings(&r, &t);
	CHECK_EQ(r, CFG_RXQ_SIZE);
	CHECK_EQ(t, 0);
	CHECK(timer != NULL && timer->period == CFG_GEM_LINK_MS);
	check();
	finish();
}

/* Frames of many sizes one at a time, three times round the RX ring and
 * more round the TX ring: each echoed from its own buffer. */
static void echo_through(uint64_t window, const char *fmt)
{
	prep(window, su);
	CHECK_EQ(probe(), 0);
	CHECK(strstr(nic.info, fmt) != NULL);
	reset_frames();
	unsigned n = 3 * CFG_RXQ_SIZE + 5, bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned len = 60 + (i * 37) % 1455;
		CHECK_EQ(inject(i, len), 1);
		bytes += len;
		CHECK_EQ(pump(on_echo), 1);
	}
	CHECK_EQ(delivered, n);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(gm.nsent, n);
	CHECK_EQ(tx_wrong, 0);
	CHECK_EQ(tx_n, 0);
	CHECK_EQ(st()->rx_frames, n);
	CHECK_EQ(st()->rx_bytes, bytes);
	CHECK_EQ(st()->tx_frames, n);
	CHECK_EQ(st()->rx_bad + st()->tx_bad + st()->tx_full + st()->dev_errors, 0);
	/* sent buffers went straight back to the RX ring: beyond the first
	 * fill (and the model's census of the pool), one more buffer at most */
	CHECK(pkt_stats.alloc - CFG_PKT_COUNT - CFG_RXQ_SIZE <= 1);
	finish();
}

static void echo_32bit(void) { echo_through(W32, DESC_LOW); }

static void echo_64bit(void)
{
	echo_through(W64, "desc 64-bit");
	prep(W64, su);
	CHECK_EQ(probe(), 0);
	CHECK(gm.r[R_DMACFG / 4] & D_ADDR64);
	CHECK_EQ(gm.r[R_RBQPH / 4], W64 >> 32);
	CHECK_EQ(gm.r[R_TBQPH / 4], W64 >> 32);
	finish();
}

static void desc64_needs_the_capability(void)
{
	prep(W64, su);
	gm.r[R_DCFG6 / 4] = 0;
	CHECK_EQ(probe(), -1);
	CHECK_EQ(gm.r[R_NWCTRL / 4] & (C_RE | C_TE), 0);
	/* below 4 GiB it does not matter */
	prep(W32, su);
	gm.r[R_DCFG6 / 4] = 0;
	CHECK_EQ(probe(), CFG_GEM_DESC64 ? -1 : 0);
	finish();
}

/* A burst: many frames waiting at once, echoed in order, 32 a pass. */
static void echo_burst(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	unsigned n = CFG_RXQ_SIZE < 100 ? CFG_RXQ_SIZE : 100;
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(inject(i, 60 + i * 13), 1);
	CHECK_EQ(pump(on_echo), n);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(gm.nsent, n);
	CHECK_EQ(tx_wrong, 0);
	finish();
}

/* The RX ring runs full with no TX traffic to hide QEMU's stall: the
 * frames behind it wait in the back end until the driver, told by RXUBR,
 * rewrites NWCTRL once it has given buffers back. */
static void ring_full_stall(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	unsigned n = CFG_RXQ_SIZE + 40, written = 0, queued = 0;
	for (unsigned i = 0; i < n; i++) {
		int r = inject(i, 100 + i);
		written += r == 1;
		queued += r == 0;
	}
	CHECK_EQ(written, CFG_RXQ_SIZE);
	CHECK_EQ(queued, 40);
	CHECK(gm.r[R_ISR / 4] & I_RXUBR);
	unsigned tstarts = gm.tstarts, writes = gm.nwctrl_writes;
	/* Polled without the interrupt: the ring is emptied and refilled, but
	 * the device is not told, and QEMU's device stays stalled. */
	for (int k = 0; k < 8; k++)
		gem_poll(on_drop, 32);
	check();
	CHECK_EQ(delivered, CFG_RXQ_SIZE);
	CHECK_EQ(gm.qcount, 40);
	CHECK_EQ(gm.nwctrl_writes, writes);
	/* The interrupt says RXUBR: the next poll restarts reception. */
	pump(on_drop);
	CHECK_EQ(delivered, n);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(gm.qcount, 0);
	CHECK(gm.nwctrl_writes > writes);
	CHECK_EQ(gm.tstarts, tstarts); /* no transmit helped */
	CHECK(st()->rx_nobuf >= 1);
	/* and it keeps receiving */
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(inject(n + i, 64), 1);
	pump(on_drop);
	CHECK_EQ(delivered, n + 10);
	CHECK_EQ(gm.tstarts, tstarts);
	unsigned r, t;
	rings(&r, &t);
	CHECK_EQ(r, CFG_RXQ_SIZE);
	finish();
}

/* The same on a MAC without the stall: frames with no buffer are lost
 * (counted), and reception goes on once the ring is refilled. */
static void ring_full_hw(void)
{
	prep(W32, su);
	gm.hw = 1;
	CHECK_EQ(probe(), 0);
	reset_frames();
	unsigned written = 0;
	for (unsigned i = 0; i < CFG_RXQ_SIZE + 40; i++)
		written += inject(i, 100) == 1;
	CHECK_EQ(written, CFG_RXQ_SIZE);
	CHECK_EQ(gm.rx_dropped, 40);
	pump(on_drop);
	CHECK_EQ(delivered, CFG_RXQ_SIZE);
	CHECK(st()->rx_nobuf >= 1);
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(inject(1000 + i, 64), 1);
	pump(on_drop);
	CHECK_EQ(delivered, CFG_RXQ_SIZE + 10);
	CHECK_EQ(wrong, 0);
	finish();
}

/* The pool runs dry (the application holds every buffer): the ring
 * drains to nothing, the device stalls; when buffers come back the ring
 * refills and reception restarts, still without any TX. */
static void pool_exhausted(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	nheld = 0;
	unsigned n = CFG_PKT_COUNT + 20, tstarts = gm.tstarts;
	for (unsigned i = 0; i < n; i++) {
		inject(i, 80);
		if (i % 16 == 15)
			pump(on_hold);
	}
	pump(on_hold);
	CHECK_EQ(nheld, CFG_PKT_COUNT);
	CHECK_EQ(pkt_free_count(), 0);
	unsigned r, t;
	rings(&r, &t);
	CHECK_EQ(r, 0);
	CHECK_EQ(gm.qcount, 20);
	CHECK(st()->rx_nobuf > 0);
	release_held();
	pump(on_drop);
	CHECK_EQ(delivered, n);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(gm.qcount, 0);
	CHECK_EQ(gm.tstarts, tstarts);
	rings(&r, &t);
	CHECK_EQ(r, CFG_RXQ_SIZE);
	finish();
}

/* Descriptors the device hands back broken: no start or end of frame,
 * lengths no frame has. Each is dropped (rx_bad), its buffer reused, and
 * the next good frame is delivered. */
static void bad_descriptors(void)
{
	static const uint32_t bad[] = {
		0,                          /* nothing set */
		RX_SOF | RX_EOF | 0,        /* length 0 */
		RX_SOF | RX_EOF | 13,       /* shorter than an Ethernet header */
		RX_SOF | RX_EOF | 1515,     /* longer than a frame */
		RX_SOF | RX_EOF | 0x1fff,   /* the largest the field holds */
		RX_SOF | 100,               /* the first part of a frame */
		RX_EOF | 100,               /* the last part */
		0xffffffffu & ~0xe000u,     /* every other bit */
	};
	unsigned nb = sizeof bad / sizeof bad[0];
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	for (unsigned i = 0; i < nb; i++) {
		gm.override_n = 1;
		gm.override_w1 = bad[i];
		CHECK_EQ(inject_as(2 * i, 200, 1), 1);
		CHECK_EQ(inject(2 * i + 1, 200), 1);
		pump(on_echo);
	}
	/* a run of them, round the ring */
	gm.override_n = CFG_RXQ_SIZE + 3;
	gm.override_w1 = RX_SOF | RX_EOF | 4000;
	for (unsigned i = 0; i < CFG_RXQ_SIZE + 3; i++) {
		inject_as(100 + i, 90, 1);
		pump(on_echo);
	}
	CHECK_EQ(inject(999, 300), 1);
	pump(on_echo);
	CHECK_EQ(st()->rx_bad, nb + CFG_RXQ_SIZE + 3);
	CHECK_EQ(delivered, nb + 1);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(tx_wrong, 0);
	unsigned r, t;
	rings(&r, &t);
	CHECK_EQ(r, CFG_RXQ_SIZE);
	finish();
}

/* The TX ring fills (the MAC does not send): the frame that does not fit
 * is dropped and counted, frames the MAC cannot carry are refused, and
 * once it sends again every buffer comes back. */
static void tx_ring_full(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	gm.tx_paused = 1;
	for (unsigned i = 0; i < CFG_TXQ_SIZE + 3; i++) {
		struct pkt *p = pkt_alloc(PKT_STACK);
		CHECK(p != NULL);
		p->len = (uint16_t)mkframe(p->data, i, 64 + i);
		if (i < CFG_TXQ_SIZE) {
			unsigned k = (tx_head + tx_n++) % EXP_MAX;
			memcpy(txq[k].f, p->data, p->len);
			txq[k].len = p->len;
		}
		CHECK_EQ(nic.tx(p), i < CFG_TXQ_SIZE ? 0 : -1);
	}
	CHECK_EQ(st()->tx_full, 3);
	struct pkt *p = pkt_alloc(PKT_STACK);
	p->len = 0;
	CHECK_EQ(nic.tx(p), -1);
	p = pkt_alloc(PKT_STACK);
	p->len = 1515;
	CHECK_EQ(nic.tx(p), -1);
	CHECK_EQ(st()->tx_bad, 2);
	unsigned r, t;
	rings(&r, &t);
	CHECK_EQ(t, CFG_TXQ_SIZE);
	check();
	gem_poll(on_drop, 32);
	CHECK_EQ(gm.nsent, 0);
	gm.tx_paused = 0;
	pump(on_drop);
	pump(on_drop);
	CHECK_EQ(gm.nsent, CFG_TXQ_SIZE);
	CHECK_EQ(tx_wrong, 0);
	rings(&r, &t);
	CHECK_EQ(t, 0);
	CHECK_EQ(r, CFG_RXQ_SIZE);
	CHECK_EQ(pkt_free_count(), CFG_PKT_COUNT - CFG_RXQ_SIZE);
	finish();
}

/* Bus error, TX underrun, AMBA error, RX overrun, each with frames on
 * both rings: counted, the rings restarted as needed, nothing lost from
 * the pool, and echo works again at once. */
static void device_errors(void)
{
	static const uint32_t errs[] = {I_HRESP, I_TUND, I_TXERR, I_ROVR, I_HRESP | I_ROVR};
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	unsigned seq = 0;
	for (unsigned e = 0; e < sizeof errs / sizeof errs[0]; e++) {
		reset_frames();
		gm.tx_paused = 1; /* five replies waiting on the TX ring */
		for (unsigned i = 0; i < 5; i++) {
			CHECK_EQ(inject(seq++, 100), 1);
			pump(on_echo);
		}
		for (unsigned i = 0; i < 3; i++) /* and three frames on the RX ring */
			CHECK_EQ(inject(seq++, 100), 1);
		gm.tx_paused = 0;
		gm_fault(errs[e]);
		reset_frames();
		unsigned before = st()->dev_errors;
		if (errs[e] & I_HRESP) { /* the frames on the RX ring are lost too */
			service();
			gem_poll(on_drop, 32);
			check();
			CHECK_EQ(delivered, 0);
		}
		pump(on_drop);
		CHECK_EQ(st()->dev_errors, before + 1);
		if (errs[e] & I_ROVR)
			CHECK_EQ(gm.r[R_RXSTATUS / 4] & 4, 0);
		reset_frames();
		for (unsigned i = 0; i < CFG_RXQ_SIZE + 10; i++) {
			CHECK_EQ(inject(seq++, 60 + i), 1);
			pump(on_echo);
		}
		CHECK_EQ(delivered, CFG_RXQ_SIZE + 10);
		CHECK_EQ(wrong, 0);
		CHECK_EQ(tx_wrong, 0);
		CHECK_EQ(tx_n, 0);
	}
	unsigned r, t;
	rings(&r, &t);
	CHECK_EQ(r, CFG_RXQ_SIZE);
	finish();
}

/* The PHY's link followed by the timer: down and up, each speed and
 * duplex into NWCFG and the GEMGXL clock; a bus that hangs changes
 * nothing. */
static void link_follows_phy(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	CHECK(timer != NULL);
	gm_link(0, 0, 0);
	fire_timer();
	CHECK_EQ(nic.link_up, 0);
	CHECK_EQ(st()->link_changes, 1);
	gm_link(1, 100, 1);
	fire_timer();
	CHECK_EQ(nic.link_up, 1);
	CHECK_EQ(nic.speed_mbps, 100);
	CHECK_EQ(gm.r[R_NWCFG / 4] & (F_SPD | F_FD | F_GBE), F_SPD | F_FD);
	CHECK_EQ(gm.mgmt, 1);
	gm_link(1, 10, 0);
	fire_timer();
	CHECK_EQ(nic.speed_mbps, 10);
	CHECK_EQ(gm.r[R_NWCFG / 4] & (F_SPD | F_FD | F_GBE), 0);
	CHECK_EQ(gm.mgmt, 1);
	gm_link(1, 1000, 1);
	fire_timer();
	CHECK_EQ(nic.speed_mbps, 1000);
	CHECK_EQ(gm.r[R_NWCFG / 4] & (F_SPD | F_FD | F_GBE), F_GBE | F_FD);
	CHECK_EQ(gm.mgmt, 0);
	CHECK_EQ(st()->link_changes, 4);
	fire_timer();
	CHECK_EQ(st()->link_changes, 4); /* nothing changed */
	/* autonegotiation off: the forced mode */
	gm.phy[0] = 0x2100; /* 100 Mb/s full */
	fire_timer();
	CHECK_EQ(nic.speed_mbps, 100);
	CHECK_EQ(gm.r[R_NWCFG / 4] & (F_SPD | F_FD | F_GBE), F_SPD | F_FD);
	/* link, but autonegotiation not done: not up yet */
	gm.phy[0] = 0x1140;
	gm.phy[1] = 0x7949 | 4;
	fire_timer();
	CHECK_EQ(nic.link_up, 0);
	/* the MDIO bus hangs: bounded, nothing changes */
	gm_link(1, 1000, 1);
	gm.mdio_stuck = 1;
	fire_timer();
	CHECK_EQ(nic.link_up, 0);
	gm.mdio_stuck = 0;
	fire_timer();
	CHECK_EQ(nic.link_up, 1);
	/* frames still flow after all that */
	reset_frames();
	CHECK_EQ(inject(1, 100), 1);
	pump(on_echo);
	CHECK_EQ(gm.nsent, 1);
	finish();
	/* down at probe time */
	prep(W32, su);
	gm_link(0, 0, 0);
	CHECK_EQ(probe(), 0);
	CHECK_EQ(nic.link_up, 0);
	CHECK(strstr(nic.info, "phy 0 id 0x01410cc2 link down") != NULL);
	gm_link(1, 100, 0);
	fire_timer();
	CHECK_EQ(nic.link_up, 1);
	CHECK_EQ(gm.r[R_NWCFG / 4] & (F_SPD | F_FD | F_GBE), F_SPD);
	finish();
}

/* The MAC address: the tree's, else SA1 as U-Boot left it, else the
 * locally administered fallback; then SA1 is armed with it. */
static void mac_sources(void)
{
	prep(W32, su);
	gm.r[R_SA1B / 4] = 0x33221102u; /* 02:11:22:33:44:55 from U-Boot */
	gm.r[R_SA1T / 4] = 0x5544u;
	CHECK_EQ(probe(), 0);
	CHECK(!memcmp(nic.mac, GMAC, 6)); /* the tree wins */
	finish();
	prep(W32, su_nomac);
	gm.r[R_SA1B / 4] = 0x33221102u;
	gm.r[R_SA1T / 4] = 0x5544u;
	CHECK_EQ(probe(), 0);
	static const uint8_t uboot[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	CHECK(!memcmp(nic.mac, uboot, 6));
	CHECK(gm.sar_active);
	reset_frames();
	uint8_t f[64];
	mkframe(f, 1, 64);
	memcpy(f, uboot, 6);
	CHECK_EQ(gm_rx(f, 64), 1); /* the filter takes its own address */
	mkframe(f, 1, 64);
	CHECK_EQ(gm_rx(f, 64), -1); /* and no other */
	pump(on_drop);
	finish();
	static const uint32_t sa1[][2] = {{0, 0}, {0x33221101u, 0x5544u}, {~0u, 0xffffu}};
	for (unsigned k = 0; k < 3; k++) {
		prep(W32, su_nomac);
		gm.r[R_SA1B / 4] = sa1[k][0];
		gm.r[R_SA1T / 4] = sa1[k][1];
		CHECK_EQ(probe(), 0);
		static const uint8_t fb[6] = CFG_DEFAULT_MAC;
		CHECK(!memcmp(nic.mac + 1, fb + 1, 5));
		CHECK_EQ(nic.mac[0] & 3, 2); /* unicast, locally administered */
		finish();
	}
}

/* RX checksum status: PKT_F_CSUM_OK only where the MAC says it verified
 * the TCP or UDP checksum. */
static void rx_csum_status(void)
{
	static const struct {
		uint32_t bits;
		uint8_t flag;
	} cases[] = {{0, 0}, {1, 0}, {2, PKT_F_CSUM_OK}, {3, PKT_F_CSUM_OK}};
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	for (unsigned i = 0; i < 4; i++) {
		gm.csum_bits = cases[i].bits;
		CHECK_EQ(inject(i, 100), 1);
		pump(on_drop);
		CHECK_EQ(last_flags, CFG_GEM_RX_CSUM ? cases[i].flag : 0);
	}
	finish();
}

/* Frames shorter than 60 bytes come out 60 long with zero padding, not
 * with what the buffer held before. */
/* The MAC never hands up a partial checksum, but a frame with one
 * (PKT_F_CSUM_PART: a reflected virtio-style frame) must not leave so:
 * the driver finishes it in software (the sum from csum_start, folded,
 * inverted, 0 sent as 0xffff) and counts it; offsets outside the frame
 * drop it (tx_bad). */
static void tx_partial_checksum(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	static const uint16_t cases[][3] = {{100, 34, 6}, {100, 98, 0}, {64, 60, 2}};
	for (unsigned c = 0; c < 3; c++) {
		unsigned len = cases[c][0], start = cases[c][1], off = cases[c][2];
		struct pkt *p = pkt_alloc(PKT_APP);
		p->data = p->head + CFG_PKT_LINK_OFF;
		p->len = (uint16_t)mkframe(p->data, 900 + c, len);
		if (c == 2) /* ff ff and a zero field: the sum comes to 0, sent as 0xffff */
			p->data[60] = p->data[61] = 0xff, p->data[62] = p->data[63] = 0;
		p->flags = PKT_F_CSUM_PART;
		p->csum_start = (uint16_t)start;
		p->csum_off = (uint16_t)off;
		/* what must leave: the sum by hand, byte by byte */
		unsigned i = (tx_head + tx_n++) % EXP_MAX;
		memcpy(txq[i].f, p->data, len);
		txq[i].len = (uint16_t)len;
		uint32_t sum = 0;
		for (unsigned k = start; k < len; k++)
			sum += (k - start) & 1 ? txq[i].f[k] : (uint32_t)txq[i].f[k] << 8;
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		uint16_t v = (uint16_t)~sum;
		v = v ? v : 0xffff;
		txq[i].f[start + off] = (uint8_t)(v >> 8);
		txq[i].f[start + off + 1] = (uint8_t)v;
		CHECK_EQ(nic.tx(p), 0);
	}
	CHECK_EQ(txq[2].f[62], 0xff);
	CHECK_EQ(txq[2].f[63], 0xff);
	static const uint16_t bad[][3] = {{100, 99, 0}, {100, 101, 0}, {100, 0, 65535}};
	for (unsigned c = 0; c < 3; c++) {
		struct pkt *p = pkt_alloc(PKT_APP);
		p->data = p->head + CFG_PKT_LINK_OFF;
		p->len = (uint16_t)mkframe(p->data, 950 + c, bad[c][0]);
		p->flags = PKT_F_CSUM_PART;
		p->csum_start = bad[c][1];
		p->csum_off = bad[c][2];
		CHECK_EQ(nic.tx(p), -1);
	}
	pump(on_drop);
	check_sent();
	CHECK_EQ(tx_n, 0);
	CHECK_EQ(tx_wrong, 0);
	CHECK_EQ(st()->csum_fixed, 3);
	CHECK_EQ(st()->tx_bad, 3);
	CHECK_EQ(st()->tx_frames, 3);
	finish();
}

static void short_frames_padded(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	for (unsigned round = 0; round < 2 * CFG_RXQ_SIZE; round++) {
		CHECK_EQ(inject(round, 1500), 1); /* dirty every buffer */
		pump(on_drop);
	}
	static struct pkt *got;
	got = NULL;
	for (unsigned len = 14; len < 60; len += 5) {
		CHECK_EQ(inject(len, len), 1);
		pump(on_hold);
		CHECK_EQ(nheld, 1);
		if (nheld) {
			got = held[0];
			CHECK_EQ(got->len, 60);
			for (unsigned i = len; i < 60; i++)
				CHECK_EQ(got->data[i], 0);
		}
		release_held();
	}
	CHECK_EQ(wrong, 0);
	finish();
}

/* Not a GEM (the older MACB), or no PHY, or an MDIO bus that never
 * answers: refused, or running with the link assumed up. */
static void odd_devices(void)
{
	prep(W32, su);
	gm.r[R_MODID / 4] = 0x00010000u;
	CHECK_EQ(probe(), -1);
	CHECK_EQ(gm.nwctrl_writes, 0);
	prep(W32, su);
	gm.phy_addr = -1;
	CHECK_EQ(probe(), 0);
	CHECK(strstr(nic.info, ", no phy,") != NULL);
	CHECK_EQ(nic.link_up, 1);
	CHECK(timer == NULL);
	finish();
	prep(W32, su);
	gm.phy_addr = 7; /* found where it is */
	CHECK_EQ(probe(), 0);
	CHECK(strstr(nic.info, "phy 7 id 0x01410cc2") != NULL);
	finish();
	prep(W32, su);
	gm.mdio_stuck = 1;
	CHECK_EQ(probe(), 0);
	CHECK(strstr(nic.info, ", no phy,") != NULL);
	finish();
	/* a second GEM is left alone: one device is driven */
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	struct nic other;
	memset(&other, 0, sizeof other);
	CHECK_EQ(gem_probe(&fi, node, &other), -1);
	finish();
}

/* When the driver may let the superloop sleep: not with a frame waiting
 * (the receive interrupt then holds the line up);
 * with the RX ring starved and a frame on the TX ring, only after asking
 * for the TX completion interrupt, and it asks for it no longer after. */
static void idle_and_tcomp(void)
{
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	CHECK_EQ(gem_idle(), 0);
	CHECK(!gm_irq());
	/* a frame waiting: the idle check does not look at the RX ring, the
	 * receive interrupt (never masked) keeps the superloop from sleeping */
	CHECK_EQ(inject(1, 100), 1);
	CHECK(gm_irq());
	CHECK_EQ(gem_idle(), 0);
	CHECK(gm_irq());
	pump(on_drop);
	CHECK_EQ(gem_idle(), 0);
	/* starve the ring: the application holds nearly every buffer */
	nheld = 0;
	unsigned want = CFG_PKT_COUNT - CFG_RXQ_SIZE / 2 + 4;
	for (unsigned i = 0; nheld < want && i < 2 * CFG_PKT_COUNT; i++) {
		CHECK_EQ(inject(100 + i, 80), 1);
		pump(on_hold);
	}
	unsigned r, t;
	rings(&r, &t);
	CHECK(r < CFG_RXQ_SIZE / 2);
	gm.tx_paused = 1;
	struct pkt *p = held[--nheld];
	gm_test_held--;
	CHECK_EQ(nic.tx(p), 0);
	CHECK_EQ(gem_idle(), 0);                         /* kicked; nothing to do yet */
	CHECK_EQ(gm.r[R_IMR / 4] & I_TCOMP, 0);          /* but it will be woken */
	gm.tx_paused = 0;
	host_mmio_write32(GM_BASE + R_NWCTRL, gm.r[R_NWCTRL / 4] | C_TSTART); /* the MAC sends */
	CHECK(gm_irq());
	CHECK_EQ(gem_idle(), 1);
	pump(on_hold);
	rings(&r, &t);
	CHECK_EQ(t, 0);
	CHECK_EQ(gm.r[R_IMR / 4] & I_TCOMP, I_TCOMP);    /* not starved: off again */
	release_held();
	pump(on_drop);
	finish();
}

/* The hash bucket of a MAC, computed another way than the driver's and
 * QEMU's bit loops: the address as a 48-bit little-endian number (bit 0:
 * the first byte's lowest), folded six bits at a time with XOR. */
static unsigned fold_hash(const uint8_t m[6])
{
	uint64_t v = 0;
	unsigned h = 0;
	for (unsigned i = 0; i < 6; i++)
		v |= (uint64_t)m[i] << (8 * i);
	for (; v; v >>= 6)
		h ^= (unsigned)(v & 63);
	return h;
}

static int frame_to(const uint8_t dst[6])
{
	uint8_t f[100];
	mkframe(f, 1, sizeof f);
	memcpy(f, dst, 6);
	int r = gm_rx(f, sizeof f);
	if (r >= 0) {
		unsigned i = (exp_head + exp_n++) % EXP_MAX;
		memcpy(expq[i].f, f, sizeof f);
		expq[i].len = sizeof f;
		expq[i].bad = 0;
	}
	pump(on_drop);
	return r == 1;
}

/* The multicast hash: one bucket per group (all-hosts 01:00:5e:00:00:01
 * is bucket 38, worked out by hand: HASHT bit 6), MHEN on with the rest
 * of NWCFG as it was, and through QEMU's filter: the groups joined,
 * broadcast and our MAC pass, another group and another unicast do not;
 * an empty list leaves broadcast. A link change keeps MHEN. */
static void multicast_hash(void)
{
	static const uint8_t all_hosts[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t uni_other[6] = {0x52, 0x54, 0x00, 0x99, 0x88, 0x77};
	static const uint8_t groups[2][6] = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
					     {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}};
	CHECK_EQ(fold_hash(all_hosts), 38);
	CHECK_EQ(fold_hash(all_hosts), gm_mac_hash(all_hosts)); /* the model is QEMU's */
	CHECK_EQ(fold_hash(groups[1]), gm_mac_hash(groups[1]));
	uint8_t other[6] = {0x01, 0x00, 0x5e, 0x7f, 0x00, 0x00};
	while (fold_hash(other) == 38 || fold_hash(other) == fold_hash(groups[1]))
		other[5]++;
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	CHECK(nic.mcast_filter != NULL);
	uint32_t cfg = gm.r[R_NWCFG / 4];
	CHECK_EQ(cfg & (F_MHEN | F_CAF), 0);
	CHECK(!frame_to(groups[1])); /* no filter yet: none but broadcast */
	CHECK(frame_to(bcast));
	CHECK_EQ(nic.mcast_filter(&nic, groups, 2), 0);
	uint64_t want = 1ull << 38 | 1ull << fold_hash(groups[1]);
	CHECK_EQ(gm.r[R_HASHB / 4], (uint32_t)want);
	CHECK_EQ(gm.r[R_HASHT / 4], (uint32_t)(want >> 32));
	CHECK(gm.r[R_HASHT / 4] & 0x40);
	CHECK_EQ(gm.r[R_NWCFG / 4], cfg | F_MHEN);
	CHECK(frame_to(groups[1]));
	CHECK(frame_to(all_hosts));
	CHECK(frame_to(bcast));
	CHECK(frame_to(GMAC));
	CHECK(!frame_to(other));
	CHECK(!frame_to(uni_other));
	CHECK_EQ(nic.mcast_filter(&nic, groups, 0), 0);
	CHECK_EQ(gm.r[R_HASHB / 4] | gm.r[R_HASHT / 4], 0);
	CHECK(gm.r[R_NWCFG / 4] & F_MHEN);
	CHECK(!frame_to(all_hosts));
	CHECK(frame_to(bcast));
	CHECK(frame_to(GMAC));
	CHECK_EQ(nic.mcast_filter(&nic, groups + 1, 1), 0);
	gm_link(1, 100, 1);
	fire_timer();
	CHECK_EQ(gm.r[R_NWCFG / 4] & (F_SPD | F_FD | F_GBE | F_MHEN), F_SPD | F_FD | F_MHEN);
	CHECK(frame_to(groups[1]));
	CHECK_EQ(delivered, 8);
	CHECK_EQ(wrong, 0);
	check();
	finish();
}

/* ---- sent buffers taken back in batches (CFG_RECLAIM_BATCH) ---- */

#define SLACK 32 /* the driver's for rings of 128: a quarter, at most the batch */

/* One frame a pass, echoed: the RX ring is never short of more than the
 * slack nor the TX ring holding more, the loop sleeps between frames
 * (pump stops only when gem_idle says so), the RX ring does run down to
 * the slack (batches, not every pass), and every buffer is accounted
 * for; then frames the application keeps: the RX ring is refilled from
 * the pool once it is short of more than the slack. */
static void batch_echo(void)
{
	gem_host_batch = CFG_RECLAIM_BATCH;
	prep(W32, su);
	CHECK_EQ(probe(), 0);
	reset_frames();
	unsigned n = 3 * CFG_RXQ_SIZE + 5, lowest = CFG_RXQ_SIZE, r, t;
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(inject(i, 60 + i % 64), 1);
		CHECK_EQ(pump(on_echo), 1);
		rings(&r, &t);
		CHECK(r + SLACK >= CFG_RXQ_SIZE);
		CHECK(t <= SLACK);
		CHECK_EQ(pkt_free_count() + r + t, CFG_PKT_COUNT);
		if (r < lowest)
			lowest = r;
	}
	CHECK_EQ(lowest, CFG_RXQ_SIZE - SLACK);
	CHECK_EQ(delivered, n);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(gm.nsent, n);
	CHECK_EQ(tx_wrong, 0);
	CHECK_EQ(st()->rx_frames, n);
	CHECK_EQ(st()->tx_frames, n);
	CHECK_EQ(st()->rx_bad + st()->tx_bad + st()->tx_full + st()->dev_errors + st()->rx_nobuf, 0);
	/* sent buffers went straight back to the RX ring: beyond the first
	 * fill (and the model's census of the pool), one more buffer at most */
	CHECK(pkt_stats.alloc - CFG_PKT_COUNT - CFG_RXQ_SIZE <= 1);
	struct pkt *kept[100];
	for (unsigned i = 0; i < 100; i++) {
		CHECK_EQ(inject(n + i, 60), 1);
		CHECK_EQ(pump(on_keep_one), 1);
		kept[i] = kept_one;
		rings(&r, &t);
		CHECK(r + SLACK >= CFG_RXQ_SIZE);
	}
	for (unsigned i = 0; i < 100; i++) {
		pkt_free(kept[i]);
		gm_test_held--;
	}
	finish();
	gem_host_batch = 0;
}

/* The tests whose every check holds whatever the batch, again with one. */
#define TEST_BATCHED(fn) TEST_WITH(gem_host_batch, CFG_RECLAIM_BATCH, fn)

int main(void)
{
	su = load("test/fixtures/sifive_u.dtb", &su_len);
	if (!su) {
		printf("gem: cannot read test/fixtures/sifive_u.dtb (run from the repo root)\n");
		return 1;
	}
	/* the same tree without local-mac-address: its name renamed */
	su_nomac = malloc(su_len);
	memcpy(su_nomac, su, su_len);
	uint8_t *s = NULL;
	for (size_t i = 0; !s && i + 18 <= su_len; i++)
		if (!memcmp(su_nomac + i, "local-mac-address", 18))
			s = su_nomac + i;
	if (s)
		s[0] = 'x';
	CHECK(s != NULL);
	TEST(probe_qemu_tree);
	TEST(echo_32bit);
	TEST(echo_64bit);
	TEST(desc64_needs_the_capability);
	TEST(echo_burst);
	TEST(ring_full_stall);
	TEST(ring_full_hw);
	TEST(pool_exhausted);
	TEST(bad_descriptors);
	TEST(tx_ring_full);
	TEST(device_errors);
	TEST(link_follows_phy);
	TEST(mac_sources);
	TEST(rx_csum_status);
	TEST(tx_partial_checksum);
	TEST(short_frames_padded);
	TEST(odd_devices);
	TEST(idle_and_tcomp);
	TEST(multicast_hash);
	TEST(batch_echo);
	TEST_BATCHED(echo_32bit);
	TEST_BATCHED(echo_64bit);
	TEST_BATCHED(echo_burst);
	TEST_BATCHED(ring_full_hw);
	TEST_BATCHED(tx_ring_full);
	TEST_BATCHED(link_follows_phy);
	TEST_BATCHED(rx_csum_status);
	TEST_BATCHED(tx_partial_checksum);
	TEST_BATCHED(short_frames_padded);
	TEST_BATCHED(odd_devices);
	TEST_BATCHED(idle_and_tcomp);
	DONE("gem");
}
