/* Traps: interrupts go to their dispatchers; any exception is a bug, so
 * report it and stop the machine with a failure code. */
#include <stdio.h>
#include "board.h"
#include "memlayout.h"
#include "platform.h"
#include "riscv.h"

struct trapframe {
	uint64_t ra, t0, t1, t2, a0, a1, a2, a3, a4, a5, a6, a7, t3, t4, t5, t6;
};

void trap_handler(struct trapframe *f);

static const char *const causes[] = {
	"instruction misaligned", "instruction access fault", "illegal instruction",
	"breakpoint", "load misaligned", "load access fault", "store misaligned",
	"store access fault", "ecall from U", "ecall from S", "reserved", "ecall from M",
	"instruction page fault", "load page fault", "reserved", "store page fault",
};

void trap_handler(struct trapframe *f)
{
	unsigned long cause = xcsr_read(CSR_CAUSE);
	if ((long)cause < 0) {
		unsigned long irq = cause & 0xff;
		if (irq == IRQ_EXT)
			plic_dispatch();
		else if (irq == IRQ_TIMER)
			timer_arm(~0ull); /* the superloop re-arms for its next deadline */
		return;
	}
	printf("\n*** TRAP: %s (cause %lu) epc %#lx tval %#lx ra %#lx\n",
	       cause < 16 ? causes[cause] : "unknown", cause, xcsr_read(CSR_EPC),
	       xcsr_read(CSR_TVAL), (unsigned long)f->ra);
	platform_exit(0x100 + (int)cause);
}

/* QEMU's sifive,test finisher where the board has one, else the SBI. */
void platform_exit(int code)
{
	printf(code ? "*** stopping, code %d\n" : "*** poweroff\n", code);
	if (board.exit)
		*(volatile uint32_t *)board.exit = code ? ((uint32_t)code << 16 | TEST_FAIL) : TEST_PASS;
#if MODE_S
	/* No finisher, or it did not stop us: SBI system reset (shutdown). */
	register unsigned long a0 __asm__("a0") = 0;
	register unsigned long a1 __asm__("a1") = code ? 1 : 0;
	register unsigned long a6 __asm__("a6") = 0;
	register unsigned long a7 __asm__("a7") = 0x53525354;
	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
#endif
	for (;;)
		wfi();
}
