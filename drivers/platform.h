/* What the platform drivers offer: the console UART, the interrupt
 * controller, the clock and software timers, and a way to stop the
 * machine. Where each device is comes from board.h. */
#ifndef DRIVERS_PLATFORM_H
#define DRIVERS_PLATFORM_H

#include <stdint.h>
#include "fdt.h"
#include "riscv.h"

/* uart.c: the console, chosen by /chosen/stdout-path or the first UART a
 * driver in its table knows. 0, or -1 when there is none (output is
 * then dropped). */
int uart_probe(const struct fdt_info *fi);
const char *uart_describe(void);     /* "ns16550a at 0x10000000 irq 10" */
void uart_putc(char c);
int uart_getc(void);                 /* -1 when nothing is waiting */
/* Interrupt on received bytes: fn runs from plic_dispatch. */
void uart_rx_irq(void (*fn)(void *arg), void *arg);

/* plic.c: ctx is this hart's context in our privilege mode */
void plic_init(uintptr_t base, unsigned ctx);
void plic_enable(uint32_t irq, void (*fn)(void *arg), void *arg);
/* The same for the one source that interrupts for every frame (the
 * NIC's): plic_dispatch calls its handler without the table. */
void plic_enable_hot(uint32_t irq, void (*fn)(void *arg), void *arg);

/* Claim, run and complete one pending interrupt. One, not all that are
 * pending: another keeps the external interrupt pending, and the
 * superloop's next pass (or wfi, which then does not sleep) comes back
 * for it; the NIC's is usually the only one. Inline: the superloop runs
 * it with its own registers (net/tune.h). Every entry of the table has a
 * handler (plic_init), so a claim needs no check but its range. */
#define PLIC_MAX_IRQ 128
struct plic_handler {
	void (*fn)(void *arg);
	void *arg;
};
extern struct plic_handler plic_handlers[PLIC_MAX_IRQ];
/* plic_enable_hot's source, gp-relative (irq ~0 until there is one: no
 * claim returns it). */
struct plic_hot {
	uint32_t irq;
	void (*fn)(void *arg);
	void *arg;
};
extern struct plic_hot plic_hot;
extern volatile uint32_t *plic_claim; /* without a PLIC, a word that reads 0 */
/* Any other claim, sign-extended (plic.c): out of line, so that the hot
 * path pays for no extension. */
void plic_dispatch_table(long irq);
/* 0: the claim was the hot source's; 1: it went through the table (any
 * other source, or none), so another handler (the UART's) may have run. */
static inline int plic_dispatch(void)
{
	volatile uint32_t *c = plic_claim;
	long hot = (int32_t)plic_hot.irq; /* both as lw leaves them */
	/* hot loaded before the claim, which the compare then follows at
	 * once: under QEMU's -icount a register access in the middle of a
	 * translated block ends it there, and the rest runs again as a
	 * block of its own (what a TB-level count sees twice) */
	__asm__ volatile("" : "+r"(hot));
	long raw = mmio_read32s((uintptr_t)c);
	if (raw == hot) {
		plic_hot.fn(plic_hot.arg);
		mmio_write32l((uintptr_t)c, (unsigned long)raw);
		return 0;
	}
	plic_dispatch_table(raw);
	return 1;
}

/* timer.c: a monotonic clock and software timers */
void timer_init(uintptr_t clint_base, uint32_t timebase_hz, unsigned long hartid);
uint64_t timer_ticks(void);
uint32_t timer_ms(void);
void timer_arm(uint64_t deadline_ticks); /* next wake-up, (uint64_t)-1 for none */
uint64_t timer_ms_to_ticks(uint32_t ms);
uint64_t timer_us_to_ticks(uint32_t us); /* rounded up: at least one tick for 1 us */
struct swtimer {
	uint32_t due, period;        /* period 0: one-shot */
	void (*fn)(void *arg);
	void *arg;
	uint8_t active;
};
void swtimer_start(struct swtimer *t, uint32_t delay_ms, uint32_t period_ms,
		   void (*fn)(void *), void *arg);
void swtimer_stop(struct swtimer *t);
/* Runs every expired timer; returns the earliest pending due time, or
 * now + 1 day when none is active. */
uint32_t swtimer_run(uint32_t now);

/* trap.c */
__attribute__((noreturn)) void platform_exit(int code); /* 0 = pass */

#endif
