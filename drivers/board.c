/* The board from the device tree, or QEMU virt's layout without one. */
#include <string.h>
#include "board.h"
#include "memlayout.h"

#define DTB_LIMIT (1u << 20)

struct board board;

static const char *const plic_compat[] = {"riscv,plic0", "sifive,plic-1.0.0", NULL};
static const char *const clint_compat[] = {"riscv,clint0", "sifive,clint0", NULL};
static const char *const exit_compat[] = {"sifive,test1", "sifive,test0", NULL};

/* The first enabled node compatible with any of the names. */
static const struct fdt_dev *find_any(const char *const *names)
{
	for (; *names; names++) {
		const struct fdt_dev *d = fdt_find(&board.fdt, *names, NULL);
		if (d && d->has_reg)
			return d;
	}
	return NULL;
}

_Static_assert(CFG_FDT_DEVS >= 4 + VIRT_VIRTIO_COUNT, "CFG_FDT_DEVS must hold virt's defaults");

static void add_dev(const char *compat, size_t len, uint64_t base, uint32_t irq)
{
	struct fdt_info *fi = &board.fdt;
	fi->dev[fi->ndev++] = (struct fdt_dev){
		.compat = (const uint8_t *)compat, .compat_len = (uint32_t)len,
		.base = base, .size = 0x1000, .irq = irq, .has_reg = 1,
	};
}

/* What QEMU virt would have described. */
static void virt_defaults(void)
{
	static const char uart[] = "ns16550a", plic[] = "riscv,plic0", clint[] = "riscv,clint0",
			  test[] = "sifive,test1", virtio[] = "virtio,mmio";
	memset(&board.fdt, 0, sizeof board.fdt);
	board.fdt.mem_base = VIRT_RAM_BASE;
	board.fdt.mem_size = VIRT_RAM_SIZE;
	board.fdt.timebase_hz = VIRT_TIMEBASE_HZ;
	board.fdt.ncpus = 1;
	add_dev(uart, sizeof uart, VIRT_UART0, VIRT_UART0_IRQ);
	add_dev(plic, sizeof plic, VIRT_PLIC, 0);
	add_dev(clint, sizeof clint, VIRT_CLINT, 0);
	add_dev(test, sizeof test, VIRT_TEST, 0);
	for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++)
		add_dev(virtio, sizeof virtio, VIRT_VIRTIO0 + VIRT_VIRTIO_STRIDE * i,
			VIRT_VIRTIO_IRQ0 + i);
}

/* The first line of a `gpios` property, if it names a pin of a
 * controller whose registers we know. Cells: the controller's phandle,
 * then its #gpio-cells (pin, flags). */
static struct gpio_line gpio_line(const char *compat)
{
	struct gpio_line l = {0};
	const struct fdt_info *fi = &board.fdt;
	uint32_t len, clen;
	const uint8_t *v = fdt_prop(fi, fdt_find(fi, compat, NULL), "gpios", &len);
	if (!v || len < 8)
		return l;
	uint32_t ph = fdt_be32(v);
	const struct fdt_dev *c = NULL;
	for (unsigned i = 0; i < fi->ndev && !c; i++)
		if (ph && fi->dev[i].phandle == ph)
			c = &fi->dev[i];
	if (!c || c->disabled || !c->has_reg || !fdt_is_compatible(c, "sifive,gpio0"))
		return l;
	const uint8_t *cells = fdt_prop(fi, c, "#gpio-cells", &clen);
	uint32_t ncells = cells && clen == 4 ? fdt_be32(cells) : 2;
	uint32_t pin = fdt_be32(v + 4);
	if (ncells < 1 || len < 4 * (1 + ncells) || pin >= SIFIVE_GPIO_PINS)
		return l;
	l.base = (uintptr_t)c->base;
	l.pin = (uint8_t)pin;
	l.active_low = ncells >= 2 && (fdt_be32(v + 8) & DT_GPIO_ACTIVE_LOW);
	return l;
}

/* A word of the boot arguments, alone (not a prefix of another). */
static int has_bootarg(const char *word)
{
	size_t n = strlen(word);
	for (const char *p = board.fdt.bootargs; (p = strstr(p, word)) != NULL; p += n)
		if ((p == board.fdt.bootargs || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == 0 || p[n] == ' ' || p[n] == '\t'))
			return 1;
	return 0;
}

#if MODE_S
struct sbiret sbi_call(unsigned long ext, unsigned long fid, unsigned long a0, unsigned long a1)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = ext;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){(long)r0, (long)r1};
}
#endif

/* Everything that can stop the machine, found now so that stopping needs
 * neither the tree nor the SBI's answers (a trap may come at any time). */
static void find_exit(void)
{
	struct board_exit *e = &board.exit;
	const struct fdt_dev *d = find_any(exit_compat);
	e->finisher = d ? (uintptr_t)d->base : 0;
	/* Opt-in only: without a semihosting host (QEMU's -semihosting-config,
	 * or a debugger on a board) the call is a breakpoint trap. */
	e->semihosting = (uint8_t)has_bootarg("semihosting");
#if MODE_S
	/* The extension may be there yet unable to shut down (OpenSBI on
	 * sifive_u has only a reboot device); trap.c falls back then. */
	struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXT, SBI_EXT_SRST, 0);
	e->sbi_srst = r.error == 0 && r.value != 0;
#endif
	e->poweroff = gpio_line("gpio-poweroff");
	e->restart = gpio_line("gpio-restart");
}

int board_init(unsigned long hartid, const void *dtb)
{
	board.hartid = hartid;
	board.fdt_err = fdt_parse(dtb, DTB_LIMIT, &board.fdt);
	if (board.fdt_err)
		virt_defaults();
	board.mem_base = board.fdt.mem_base;
	board.mem_size = board.fdt.mem_size;
	board.timebase_hz = board.fdt.timebase_hz;
	board.ncpus = board.fdt.ncpus;
	const struct fdt_dev *d = find_any(plic_compat);
	if (d) {
		board.plic = (uintptr_t)d->base;
		int ctx = fdt_irq_context(&board.fdt, d, (uint32_t)hartid, MODE_S ? IRQ_S_EXT : IRQ_M_EXT);
		board.plic_ctx_guessed = ctx < 0;
		board.plic_ctx = ctx >= 0 ? (unsigned)ctx : VIRT_PLIC_CONTEXT(hartid, MODE_S);
		/* The context indexes the PLIC's registers: it must lie inside
		 * the block the tree gives it, or we leave the PLIC alone. */
		if (d->size && PLIC_CONTEXT_END(board.plic_ctx) > d->size)
			board.plic = 0;
	}
	d = find_any(clint_compat);
	board.clint = d ? (uintptr_t)d->base : 0;
	find_exit();
	return board.fdt_err;
}
