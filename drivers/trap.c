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
			/* no longer taken as a trap, still pending: the superloop
			 * sees it, runs the timers and enables it again */
			xcsr_clear(CSR_IE, 1ul << IRQ_TIMER);
		return;
	}
	printf("\n*** TRAP: %s (cause %lu) epc %#lx tval %#lx ra %#lx\n",
	       cause < 16 ? causes[cause] : "unknown", cause, xcsr_read(CSR_EPC),
	       xcsr_read(CSR_TVAL), (unsigned long)f->ra);
	platform_exit(0x100 + (int)cause);
}

/* The host sees the low 8 bits of an exit status: a failure code whose
 * low byte is 0 (a trap with cause 0) would read as success there. */
static uint32_t host_status(int code)
{
	return !code || (code & 0xff) ? (uint32_t)code : 1u;
}

/* RISC-V semihosting (the Arm semihosting calls, entered by a marked
 * ebreak): SYS_EXIT with the 64-bit parameter block {reason, code}. */
#define SEMIHOST_SYS_EXIT 0x18
#define SEMIHOST_APP_EXIT 0x20026 /* ADP_Stopped_ApplicationExit: code is the status */

static void semihost_exit(uint32_t status)
{
	uint64_t block[2] = {SEMIHOST_APP_EXIT, status};
	register unsigned long a0 __asm__("a0") = SEMIHOST_SYS_EXIT;
	register unsigned long a1 __asm__("a1") = (unsigned long)block;
	/* The host recognises the call only by these three uncompressed
	 * instructions, all in one page: 16-byte alignment keeps them so. */
	__asm__ volatile(".balign 16\n"
			 ".option push\n.option norvc\n"
			 "slli zero, zero, 0x1f\n"
			 "ebreak\n"
			 "srai zero, zero, 0x7\n"
			 ".option pop"
			 : "+r"(a0)
			 : "r"(a1)
			 : "memory");
}

/* Ticks of the machine timer without timer.c, which a trap may precede:
 * the CLINT in M-mode, the time CSR in S-mode; 0 if there is no clock. */
static uint64_t ticks(void)
{
#if MODE_S
	uint64_t t;
	__asm__ volatile(ZICSR("rdtime %0") : "=r"(t));
	return t;
#else
	return board.clint ? *(volatile uint64_t *)(board.clint + CLINT_MTIME) : 0;
#endif
}

/* Only for a tree without a timer: a guess, long enough on any core. */
#define SPINS_PER_MS 200000u

static void delay_ms(uint32_t ms)
{
	uint64_t t0 = ticks(), n = (uint64_t)board.timebase_hz / 1000 * ms;
	if (!board.timebase_hz || (!t0 && !ticks())) {
		for (volatile uint32_t i = 0; i < ms * SPINS_PER_MS; i++)
			;
		return;
	}
	while (ticks() - t0 < n)
		;
}

/* Linux's gpio-poweroff / gpio-restart timing (their defaults for
 * active-delay, inactive-delay and the wait for the circuit to act). */
#define GPIO_ACTIVE_MS 100u
#define GPIO_INACTIVE_MS 100u
#define GPIO_WAIT_MS 3000u

static void gpio_set(const struct gpio_line *l, int active)
{
	uintptr_t reg = l->base + SIFIVE_GPIO_OUTPUT_VAL;
	uint32_t bit = 1u << l->pin, v = mmio_read32(reg);
	mmio_write32(reg, active != l->active_low ? v | bit : v & ~bit);
}

/* As Linux drives these lines: an inactive output first (its probe), then
 * active, inactive, active, so that a circuit watching either edge or
 * the level acts; then time for it to. */
static void gpio_pulse(const char *what, const struct gpio_line *l)
{
	if (!l->base)
		return;
	printf("*** exit: %s (gpio %u of %#lx, active %s)\n", what, l->pin,
	       (unsigned long)l->base, l->active_low ? "low" : "high");
	gpio_set(l, 0);
	uintptr_t en = l->base + SIFIVE_GPIO_OUTPUT_EN;
	mmio_write32(en, mmio_read32(en) | 1u << l->pin);
	gpio_set(l, 1);
	delay_ms(GPIO_ACTIVE_MS);
	gpio_set(l, 0);
	delay_ms(GPIO_INACTIVE_MS);
	gpio_set(l, 1);
	delay_ms(GPIO_WAIT_MS);
	printf("*** exit: %s did not stop the machine\n", what);
}

/* The ways to stop, best first: those that carry the code to the host,
 * then the SBI's shutdown, then the board's power-off and reset lines. */
enum { WAY_FINISHER, WAY_SEMIHOSTING, WAY_SBI, WAY_GPIO_POWEROFF, WAY_GPIO_RESTART, WAY_HALT };

/* A trap inside one way (the breakpoint of a semihosting call with no
 * host, a fault on a device) comes back here through trap_handler: go on
 * with the next way, still for the first reason we were called. */
static volatile int next_way, entered, first_code;

void platform_exit(int code)
{
	intr_off();
	if (!entered) {
		entered = 1;
		first_code = code;
		printf(code ? "*** stopping, code %d\n" : "*** poweroff\n", code);
	} else {
		printf("*** exit: that way trapped; trying the next\n");
		code = first_code;
	}
	uint32_t status = host_status(code);
	for (;;) {
		switch (next_way++) {
		case WAY_FINISHER:
			if (board.exit.finisher) {
				printf("*** exit: sifive,test finisher at %#lx\n",
				       (unsigned long)board.exit.finisher);
				*(volatile uint32_t *)board.exit.finisher =
					code ? status << 16 | TEST_FAIL : TEST_PASS;
			}
			break;
		case WAY_SEMIHOSTING:
			if (board.exit.semihosting) {
				printf("*** exit: semihosting SYS_EXIT %u\n", (unsigned)status);
				semihost_exit(status);
			}
			break;
		case WAY_SBI:
#if MODE_S
			if (board.exit.sbi_srst) {
				printf("*** exit: SBI system reset (shutdown)\n");
				struct sbiret r = sbi_call(SBI_EXT_SRST, SBI_SRST_RESET, SBI_SRST_SHUTDOWN,
							   code ? SBI_SRST_REASON_FAILURE
								: SBI_SRST_REASON_NONE);
				printf("*** exit: SBI shutdown refused (error %ld%s)\n", r.error,
				       r.error == SBI_ERR_NOT_SUPPORTED ? ": not supported" : "");
			}
#endif
			break;
		case WAY_GPIO_POWEROFF:
			gpio_pulse("gpio-poweroff", &board.exit.poweroff);
			break;
		case WAY_GPIO_RESTART:
			gpio_pulse("gpio-restart", &board.exit.restart);
			break;
		default:
			next_way = WAY_HALT;
			printf("*** halted: nothing here stops the machine; power it off by hand\n");
			for (;;)
				wfi();
		}
	}
}
