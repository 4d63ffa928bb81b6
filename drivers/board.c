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
		int ctx = fdt_irq_context(&board.fdt, d, (uint32_t)hartid, MODE_S ? 9 : 11);
		board.plic_ctx_guessed = ctx < 0;
		board.plic_ctx = ctx >= 0 ? (unsigned)ctx : VIRT_PLIC_CONTEXT(hartid, MODE_S);
	}
	d = find_any(clint_compat);
	board.clint = d ? (uintptr_t)d->base : 0;
	d = find_any(exit_compat);
	board.exit = d ? (uintptr_t)d->base : 0;
	return board.fdt_err;
}
