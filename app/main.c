/*
 * Boot and the superloop. Interrupts stay masked: the loop sleeps in wfi,
 * which wakes on any enabled pending interrupt even so, and then
 * dispatches what is pending. A device that raises its line between the
 * last check and wfi leaves it pending, so wfi returns at once: there is
 * no lost wake-up, and no trap frame to save on the packet path.
 */
#include <stdio.h>
#include "app.h"
#include "config.h"
#include "drivers/board.h"
#include "drivers/config.h"
#include "drivers/nic.h"
#include "drivers/platform.h"
#include "drivers/port.h"
#include "drivers/riscv.h"
#include "drivers/virtio_rng.h"
#include "net/dhcp.h"
#include "net/netif.h"

#define VERSION "0.2"
/* Frames one pass takes: CFG_RX_BUDGET, as far as the port takes at once. */
#define PASS_BUDGET (CFG_RX_BUDGET < CFG_RX_BATCH ? CFG_RX_BUDGET : CFG_RX_BATCH)

GP_DATA struct loop_stats loop_stats;
static struct swtimer tick;

int main(unsigned long hartid, const void *dtb);

static void on_tick(void *arg)
{
	(void)arg;
	port_tick(timer_ms());
}

static void warn_arg(const char *word)
{
	printf("bootargs: ignoring bad value '%s', keeping the default\n", word);
}

static void banner(void)
{
	printf("\nrvnet %s (%s-mode, app %s), hart %lu of %u\n", VERSION, MODE_NAME, app.name,
	       board.hartid, board.ncpus);
	if (board.fdt_err)
		printf("device tree: %s; using QEMU virt defaults\n", fdt_strerror(board.fdt_err));
	printf("memory: %lu MiB at %#lx\n", (unsigned long)(board.mem_size >> 20),
	       (unsigned long)board.mem_base);
	printf("console: %s\n", uart_describe());
	printf("plic %#lx context %u%s, clint %#lx, timebase %u Hz\n", (unsigned long)board.plic,
	       board.plic_ctx, board.plic_ctx_guessed ? " (virt numbering)" : "",
	       (unsigned long)board.clint, board.timebase_hz);
	printf("bootargs: \"%s\"\n", board.fdt.bootargs);
}

static void show_nic(const struct nic *n)
{
	if (!n) {
		printf("nic: none found; running without a network\n");
		return;
	}
	printf("nic: %s, %s, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s\n", n->name, n->info,
	       n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
	       n->link_up ? "up" : "down");
}

/*
 * Entropy for the stack (DHCP's xid and backoff jitter): virtio-rng's
 * bytes when the machine has the device. Always stirred in as well, and
 * all there is without it (weak): the MAC (tells twin boards apart, but
 * is no secret), the device tree (QEMU's holds 32 random bytes in
 * /chosen/rng-seed; a board's is as constant as its firmware), and the
 * cycle counter read at 64 timer edges (the spins to each edge and the
 * cycles vary with clock-domain crossings and, under QEMU, host timing:
 * a few bits each at best).
 */
static void seed_entropy(const struct nic *n)
{
	uint8_t rnd[32];
	size_t got = virtio_rng_read(&board.fdt, rnd, sizeof rnd);
	net_seed(rnd, got);
	if (n)
		net_seed(n->mac, sizeof n->mac);
	net_seed(board.fdt.st, board.fdt.st_len);
	net_seed(board.fdt.str, board.fdt.str_len);
	for (int i = 0; i < 64; i++) {
		uint64_t t0 = timer_ticks();
		uint32_t spins = 0;
		while (timer_ticks() == t0 && ++spins < 100000)
			;
		uint64_t sample = rdcycle() ^ (uint64_t)spins << 40;
		net_seed(&sample, sizeof sample);
	}
	if (got)
		printf("entropy: virtio-rng (%u bytes), mac, device tree, timer jitter\n", (unsigned)got);
	else
		printf("entropy: no virtio-rng; mac, device tree and timer jitter only (weak)\n");
}

/* The stack, with the addresses the boot arguments chose, or none until
 * DHCP has one. */
static void stack_start(const struct bootcfg *cfg)
{
	netif.ip = cfg->dhcp ? 0 : cfg->ip;
	netif.mask = cfg->dhcp ? 0 : cfg->mask;
	netif.gw = cfg->dhcp ? 0 : cfg->gw;
	net_tick(timer_ms());
	net_init();
	if (cfg->dhcp) {
		dhcp_set_hostname(cfg->hostname);
		int err = dhcp_start();
		printf("config: ip dhcp%s%s port %u\n", cfg->hostname[0] ? " hostname " : "",
		       cfg->hostname, cfg->port);
		if (err)
			printf("dhcp: cannot bind UDP port 68 (error %d)\n", err);
		return;
	}
	print_ip("config: ip ", cfg->ip);
	printf("/%d", __builtin_popcount(cfg->mask));
	if (cfg->gw)
		print_ip(" gw ", cfg->gw);
	else
		printf(" gw none (only on-link peers)");
	printf(" port %u\n", cfg->port);
}

/* Out of line: make bench's boot profile ends where it is called.
 * Under QEMU's -icount, minstret counts instructions (one a nanosecond
 * at shift=0); otherwise QEMU returns the host's cycle counter, which
 * says nothing about the guest, so it is only shown when it can be one. */
static __attribute__((noinline)) void boot_done(void)
{
	uint64_t ns = timer_ticks() * 1000000000ull / (board.timebase_hz ? board.timebase_hz : 1);
	loop_stats.boot_ms = timer_ms();
	loop_stats.boot_instret = rdinstret();
	if (loop_stats.boot_instret <= 2 * ns + 100000)
		printf("ready in %u ms (%lu instructions)\n", loop_stats.boot_ms,
		       (unsigned long)loop_stats.boot_instret);
	else
		printf("ready in %u ms\n", loop_stats.boot_ms);
	app.ready();
}

/* The timer interrupt is pending: the software timers due run, and the
 * timer is armed for the next one. The loop looks at the clock only then. */
/* Out of line: inlined, its registers were taken from the ones that hold
 * the loop's state across passes. */
static __attribute__((noinline)) void run_timers(void)
{
	uint64_t tpm = timer_ms_to_ticks(1), t = timer_ticks();
	uint32_t now = (uint32_t)(t / tpm);
	uint32_t next = swtimer_run(now);
	port_link(); /* a driver may watch its link from a timer (the GEM) */
	timer_arm(t + (uint64_t)(next - now) * tpm);
	xcsr_set(CSR_IE, 1ul << IRQ_TIMER); /* a trap may have turned it off (trap.c) */
}

/* Adaptive polling (NAPI's busy-poll): after a pass that took frames the
 * rings are polled on, with no interrupt armed and no sleep, until the
 * window passes with none; then the loop sleeps as ever. Every polling
 * pass is busy time, so it is off by default (CFG_BUSY_POLL_US, poll=).
 * The window is kept on the cycle counter, a CSR: in M-mode the clock is
 * an MMIO read, which QEMU serves under the global lock its I/O thread
 * needs to deliver the very frame we wait for (reading it even every
 * 64th pass cost a fifth of the echo rate). Nonzero: poll again. */
struct poll_window {
	uint64_t cycles; /* the window (0: no polling) */
	uint64_t until;
	int open;        /* polling; the window has not run out */
};

static int busy_poll(unsigned long n, struct poll_window *w)
{
	uint64_t c = rdcycle();
	if (n) {
		w->until = c + w->cycles;
		w->open = 1;
		return 1;
	}
	if (w->open)
		w->open = c < w->until;
	return w->open;
}

static uint64_t poll_cycles; /* the busy-poll window (0: none) */
/* In memory, not in the loop's registers: only a polling pass uses it,
 * and the registers go to the loop's counts (struct loop_counts). */
static GP_DATA struct poll_window pw;

/* Cycles per millisecond, measured against the clock from one tick edge
 * over a millisecond (bounded spins: 0 if the clock or the counter does
 * not move). Only with a busy-poll window: it costs the boot 1 ms. */
static uint64_t cycles_per_ms(void)
{
	uint64_t tpm = timer_ms_to_ticks(1), t0 = timer_ticks(), t;
	unsigned long spins = 0;
	while ((t = timer_ticks()) == t0)
		if (++spins > 10000000)
			return 0;
	uint64_t c0 = rdcycle();
	while (timer_ticks() - t < tpm)
		if (++spins > 100000000)
			return 0;
	return rdcycle() - c0;
}

/* The loop's counts of every wake-up, kept in registers (a load and a
 * store each less per wake-up) and published to loop_stats before
 * anything that may read or reset them runs, loaded again after. Only
 * the console reads or resets them (`stats`, `reset`); the timers'
 * callbacks get them published too, so that any of them may. */
struct loop_counts {
	uint64_t busy;    /* loop_stats.busy_instret */
	uint32_t wakeups; /* loop_stats.wakeups */
};

static inline void counts_publish(const struct loop_counts *c)
{
	loop_stats.busy_instret = c->busy;
	loop_stats.wakeups = c->wakeups;
}

static inline void counts_load(struct loop_counts *c)
{
	c->busy = loop_stats.busy_instret;
	c->wakeups = loop_stats.wakeups;
}

/*
 * One pass: the pending interrupts (mip, one CSR read: the NIC's and the
 * console's through the PLIC, the clock's for the software timers), the
 * console, up to PASS_BUDGET frames, the NIC's flush. A full budget
 * means more frames are likely waiting; otherwise the idle check (the
 * flush with it, one call) arms the NIC's interrupt and looks for late
 * arrivals itself, so there is no second pass just to find nothing (the
 * GEM's leaves them to its receive interrupt, which is never masked: a
 * late frame holds the line up, and the pass it wakes finds it). wfi
 * returns at once when an interrupt is pending (masked or not), so
 * nothing is lost between the checks and the sleep. The
 * console is looked at once: only the UART's handler (run by
 * plic_dispatch, above) says it has bytes, and console_poll reads all
 * the UART holds; a byte that comes later keeps the UART's interrupt
 * pending, and wfi does not sleep. Only a pass whose claim went through
 * plic_dispatch's table (not the NIC's, the hot source) can find the
 * flag set, so only such a pass reads it.
 * Counted per pass only what must be: passes are the wake-ups and the
 * passes that went on without sleeping (`repeats`, the rare case).
 */
static void loop(const struct bootcfg *cfg)
{
	const uint64_t poll = pw.cycles = cfg->poll_us ? poll_cycles : 0;
	const struct port_pass pp = port_pass(); /* in registers, not loaded each pass */
	struct loop_counts lc;
	counts_load(&lc);
	uint64_t woke = rdinstret();
	timer_arm(0); /* the first pass runs the timers and arms the clock */
	for (;;) {
		unsigned long ip = xcsr_read(CSR_IP);
		if (ip & (1ul << IRQ_EXT)) {
			if (plic_dispatch() && console_pending()) {
				counts_publish(&lc);
				console_poll();
				counts_load(&lc); /* `reset` zeroes them */
			}
		}
		if (ip & (1ul << IRQ_TIMER)) {
			counts_publish(&lc);
			run_timers();
			counts_load(&lc);
		}
		unsigned long n = port_poll_by(&pp, PASS_BUDGET);
		if (n == PASS_BUDGET || (poll && busy_poll(n, &pw)) ? (port_flush(), 1)
									  : port_idle_by(&pp)) {
			loop_stats.repeats++;
			continue;
		}
		lc.busy += rdinstret() - woke;
		wfi();
		woke = rdinstret();
		lc.wakeups++;
	}
}

int main(unsigned long hartid, const void *dtb)
{
	board_init(hartid, dtb);
	uart_probe(&board.fdt);
	struct bootcfg cfg;
	bootcfg_defaults(&cfg);
	printf("\n");
	bootargs_parse(board.fdt.bootargs, &cfg, warn_arg);
	banner();
	plic_init(board.plic, board.plic_ctx);
	timer_init(board.clint, board.timebase_hz, hartid);
#ifdef FAULT_TEST
	printf("FAULT_TEST: executing an illegal instruction\n");
	__asm__ volatile(".word 0");
#endif
	pkt_pool_init();
	struct nic *nic = nic_probe(&board.fdt);
	show_nic(nic);
	port_attach(nic);
	seed_entropy(nic);
	if (app.stack)
		stack_start(&cfg);
	app.start(&cfg);
	console_start();
	swtimer_start(&tick, CFG_TICK_MS, CFG_TICK_MS, on_tick, NULL);
	if (cfg.poll_us) {
		uint64_t cpm = cycles_per_ms();
		poll_cycles = cpm * cfg.poll_us / 1000;
		if (poll_cycles)
			printf("loop: polling the NIC %lu us after its last frame before sleeping "
			       "(%lu cycles)\n", (unsigned long)cfg.poll_us, (unsigned long)poll_cycles);
		else
			printf("loop: no cycle counter to time the busy-poll window: not polling\n");
	}
	boot_done();
	loop(&cfg);
	return 0;
}
