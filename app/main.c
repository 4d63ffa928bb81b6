/*
 * Boot and the superloop. Interrupts stay masked: the loop sleeps in wfi,
 * which wakes on any enabled pending interrupt even so, and then
 * dispatches what is pending. A device that raises its line between the
 * last check and wfi leaves it pending, so wfi returns at once: there is
 * no lost wake-up, and no trap frame to save on the packet path.
 */
#include <stdio.h>
#include "app.h"
#include "drivers/platform.h"
#include "drivers/riscv.h"
#include "drivers/virtio_net.h"
#include "net/config.h"

#define VERSION "0.1"
#define DTB_LIMIT (1u << 20)

struct fdt_info board;
unsigned long boot_hartid;
struct loop_stats loop_stats;
static struct swtimer tick;

int main(unsigned long hartid, const void *dtb);

static void on_tick(void *arg)
{
	(void)arg;
	app_tick(timer_ms());
}

static void warn_arg(const char *word)
{
	printf("bootargs: ignoring bad value '%s', keeping the default\n", word);
}

static void banner(int fdt_err, const struct bootcfg *cfg)
{
	printf("\nrvnet %s (%s-mode, app %s), hart %lu of %u\n", VERSION, MODE_NAME, app_name,
	       boot_hartid, board.ncpus);
	if (fdt_err)
		printf("device tree: %s; using QEMU virt defaults\n", fdt_strerror(fdt_err));
	printf("memory: %lu MiB at %#lx\n", (unsigned long)(board.mem_size >> 20),
	       (unsigned long)board.mem_base);
	printf("uart %#lx irq %u, plic %#lx, clint %#lx, timebase %u Hz\n",
	       (unsigned long)board.uart_base, board.uart_irq, (unsigned long)board.plic_base,
	       (unsigned long)board.clint_base, board.timebase_hz);
	for (unsigned i = 0; i < board.nvirtio; i++) {
		uintptr_t b = (uintptr_t)board.virtio[i].base;
		uint32_t id = *(volatile uint32_t *)(b + 8);
		if (id)
			printf("virtio-mmio %#lx irq %u: device %u\n", (unsigned long)b,
			       board.virtio[i].irq, id);
	}
	printf("bootargs: \"%s\"\n", board.bootargs);
	printf("config: ip %u.%u.%u.%u/%u gw %u.%u.%u.%u port %u\n", cfg->ip >> 24,
	       cfg->ip >> 16 & 255, cfg->ip >> 8 & 255, cfg->ip & 255,
	       (unsigned)__builtin_popcount(cfg->mask), cfg->gw >> 24, cfg->gw >> 16 & 255,
	       cfg->gw >> 8 & 255, cfg->gw & 255, cfg->port);
}

/* QEMU virt's layout, for a blob we could not read. */
static void board_defaults(void)
{
	board.mem_base = 0x80000000;
	board.mem_size = 128u << 20;
	board.uart_base = 0x10000000;
	board.uart_irq = 10;
	board.plic_base = 0xc000000;
	board.clint_base = 0x2000000;
	board.test_base = 0x100000;
	board.timebase_hz = 10000000;
	board.ncpus = 1;
	board.nvirtio = 8;
	for (unsigned i = 0; i < 8; i++)
		board.virtio[i] = (struct fdt_virtio){0x10001000 + 0x1000 * i, 1 + i};
}

static void loop(void)
{
	uint64_t tpm = timer_ms_to_ticks(1);
	uint64_t due = 0;
	uint64_t woke = rdinstret();
	for (;;) {
		loop_stats.passes++;
		if (xcsr_read(CSR_IP) & (1ul << IRQ_EXT))
			plic_dispatch();
		uint64_t t = timer_ticks();
		if (t >= due) {
			uint32_t now = (uint32_t)(t / tpm);
			uint32_t next = swtimer_run(now);
			due = t + (uint64_t)(next - now) * tpm;
		}
		unsigned n = virtio_net_poll(app_input, CFG_RX_BUDGET);
		if (console_pending())
			console_poll();
		/* A full budget means more frames are likely waiting; otherwise
		 * the idle check itself looks for late arrivals, so there is no
		 * need for another pass just to find nothing. */
		if (n == CFG_RX_BUDGET || virtio_net_idle_check() || console_pending() ||
		    (xcsr_read(CSR_IP) & (1ul << IRQ_EXT)))
			continue;
		timer_arm(due);
		loop_stats.busy_instret += rdinstret() - woke;
		wfi();
		woke = rdinstret();
		loop_stats.wakeups++;
	}
}

int main(unsigned long hartid, const void *dtb)
{
	boot_hartid = hartid;
	int err = fdt_parse(dtb, DTB_LIMIT, &board);
	if (err)
		board_defaults();
	uart_init((uintptr_t)board.uart_base);
	struct bootcfg cfg;
	bootcfg_defaults(&cfg);
	printf("\n");
	bootargs_parse(board.bootargs, &cfg, warn_arg);
	banner(err, &cfg);
	plic_init((uintptr_t)board.plic_base, hartid);
	timer_init((uintptr_t)board.clint_base, board.timebase_hz);
#ifdef FAULT_TEST
	printf("FAULT_TEST: executing an illegal instruction\n");
	__asm__ volatile(".word 0");
#endif
	pkt_pool_init();
	if (virtio_net_init(&board) == 0)
		printf("virtio-net: %s transport at %#lx irq %u, mac %02x:%02x:%02x:%02x:%02x:%02x, "
		       "link %s, rx %u tx %u, features %#llx\n",
		       nic.version == 1 ? "legacy" : "modern", (unsigned long)nic.base, nic.irq,
		       nic.mac[0], nic.mac[1], nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5],
		       nic.link_up ? "up" : "down", nic.rxq, nic.txq,
		       (unsigned long long)nic.features);
	app_init(&cfg);
	console_init();
	uart_enable_rx_irq();
	swtimer_start(&tick, CFG_TICK_MS, CFG_TICK_MS, on_tick, NULL);
	loop_stats.boot_ms = timer_ms();
	loop_stats.boot_instret = rdinstret();
	printf("ready in %u ms (%lu instructions)\n", loop_stats.boot_ms,
	       (unsigned long)loop_stats.boot_instret);
	app_ready();
	loop();
	return 0;
}
