/* What the platform drivers offer: the console UART, the interrupt
 * controller, the clock and software timers, and a way to stop the
 * machine. Where each device is comes from board.h. */
#ifndef DRIVERS_PLATFORM_H
#define DRIVERS_PLATFORM_H

#include <stdint.h>
#include "fdt.h"

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
void plic_dispatch(void);            /* claim, run, complete until none pending */

/* timer.c: a monotonic clock and software timers */
void timer_init(uintptr_t clint_base, uint32_t timebase_hz, unsigned long hartid);
uint64_t timer_ticks(void);
uint32_t timer_ms(void);
void timer_arm(uint64_t deadline_ticks); /* next wake-up, (uint64_t)-1 for none */
uint64_t timer_ms_to_ticks(uint32_t ms);
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
