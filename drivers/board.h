/*
 * The machine we run on, as the device tree describes it: memory, harts,
 * the interrupt controller and this hart's context on it, the timer, the
 * ways to stop the machine, the boot arguments. Filled once by
 * board_init; QEMU virt's layout (memlayout.h) stands in for a blob that
 * cannot be read.
 */
#ifndef DRIVERS_BOARD_H
#define DRIVERS_BOARD_H

#include <stdint.h>
#include "fdt.h"

/* One pin of a sifive,gpio0 controller, as a `gpios` property names it. */
struct gpio_line {
	uintptr_t base;       /* the controller's registers; 0: no such line */
	uint8_t pin;
	uint8_t active_low;   /* GPIO_ACTIVE_LOW in the flags cell */
};

/*
 * What can stop the machine, best first (platform_exit in trap.c tries
 * them in this order): only the first two can hand the host an exit code.
 */
struct board_exit {
	uintptr_t finisher;        /* sifive,test (QEMU virt); 0 if none */
	uint8_t semihosting;       /* boot argument `semihosting`: QEMU's SYS_EXIT */
	uint8_t sbi_srst;          /* S-mode: the SBI has the system reset extension */
	struct gpio_line poweroff; /* gpio-poweroff (HiFive Unmatched: GPIO 2) */
	struct gpio_line restart;  /* gpio-restart (Unleashed, QEMU sifive_u: GPIO 10) */
};

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
	struct board_exit exit;
};

extern struct board board;

/* Read the blob (at most 1 MiB of it) and fill board. 0, or the FDT_E_*
 * error for which the QEMU virt defaults were taken. */
int board_init(unsigned long hartid, const void *dtb);

#if MODE_S
/* SBI (v0.2+ calling convention): extension, function, two arguments. */
struct sbiret {
	long error, value;
};
struct sbiret sbi_call(unsigned long ext, unsigned long fid, unsigned long a0, unsigned long a1);
#define SBI_EXT_BASE 0x10
#define SBI_BASE_PROBE_EXT 3
#define SBI_EXT_SRST 0x53525354 /* "SRST" */
#define SBI_SRST_RESET 0
#define SBI_SRST_SHUTDOWN 0
#define SBI_SRST_COLD_REBOOT 1
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_FAILURE 1
#define SBI_ERR_NOT_SUPPORTED (-2)
#endif

#endif
