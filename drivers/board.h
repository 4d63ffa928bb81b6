/*
 * The machine we run on, as the device tree describes it: memory, harts,
 * the interrupt controller and this hart's context on it, the timer, the
 * exit device, the boot arguments. Filled once by board_init; QEMU virt's
 * layout (memlayout.h) stands in for a blob that cannot be read.
 */
#ifndef DRIVERS_BOARD_H
#define DRIVERS_BOARD_H

#include <stdint.h>
#include "fdt.h"

struct board {
	unsigned long hartid;  /* the hart we run on */
	int fdt_err;           /* 0, or why the blob was not used (FDT_E_*) */
	struct fdt_info fdt;   /* every device node; drivers probe from it */
	uint64_t mem_base, mem_size;
	uint32_t timebase_hz;
	unsigned ncpus;
	uintptr_t plic;        /* riscv,plic0 */
	unsigned plic_ctx;     /* this hart's context in our privilege mode */
	int plic_ctx_guessed;  /* not in interrupts-extended: virt's numbering used */
	uintptr_t clint;       /* riscv,clint0; 0 if none (S-mode needs none) */
	uintptr_t exit;        /* sifive,test finisher; 0 if none */
};

extern struct board board;

/* Read the blob (at most 1 MiB of it) and fill board. 0, or the FDT_E_*
 * error for which the QEMU virt defaults were taken. */
int board_init(unsigned long hartid, const void *dtb);

#endif
