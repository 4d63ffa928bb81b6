/* What the board offers the app: devices found in the device tree, the
 * interrupt controller, the clock, and a way to stop the machine. */
#ifndef DRIVERS_PLATFORM_H
#define DRIVERS_PLATFORM_H

#include <stdint.h>
#include "fdt.h"

extern struct fdt_info board;
extern unsigned long boot_hartid;

/* uart.c: 16550 */
void uart_init(uintptr_t base);
void uart_putc(char c);
int uart_getc(void);                 /* -1 when nothing is waiting */
void uart_enable_rx_irq(void);

/* plic.c */
void plic_init(uintptr_t base, unsigned long hartid);
void plic_enable(uint32_t irq, void (*fn)(void *arg), void *arg);
void plic_dispatch(void);            /* claim, run, complete until none pending */

/* timer.c: a monotonic clock and software timers */
void timer_init(uintptr_t clint_base, uint32_t timebase_hz);
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
