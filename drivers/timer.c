/*
 * The clock and software timers. M-mode reads and programs the CLINT
 * directly; S-mode reads the time CSR and asks the SBI for a timer.
 */
#include "config.h"
#include "memlayout.h"
#include "platform.h"
#include "riscv.h"

#define SBI_EXT_TIME 0x54494D45 /* "TIME": set_timer is its function 0 */

static uintptr_t clint, mtimecmp;
static uint64_t ticks_per_ms = VIRT_TIMEBASE_HZ / 1000;
static uint64_t armed = ~0ull;
static struct swtimer *timers[CFG_SWTIMERS];

/* M-mode needs the CLINT; a tree without one gets virt's, named. */
void timer_init(uintptr_t clint_base, uint32_t timebase_hz, unsigned long hartid)
{
	clint = clint_base ? clint_base : VIRT_CLINT;
	mtimecmp = clint + CLINT_MTIMECMP(hartid);
	if (timebase_hz >= 1000)
		ticks_per_ms = timebase_hz / 1000;
	armed = 0;
	timer_arm(~0ull);
	xcsr_set(CSR_IE, 1ul << IRQ_TIMER);
}

uint64_t timer_ticks(void)
{
#if MODE_S
	uint64_t t;
	__asm__ volatile(ZICSR("rdtime %0") : "=r"(t));
	return t;
#else
	return *(volatile uint64_t *)(clint + CLINT_MTIME);
#endif
}

uint32_t timer_ms(void)
{
	return (uint32_t)(timer_ticks() / ticks_per_ms);
}

uint64_t timer_ms_to_ticks(uint32_t ms)
{
	return ms * ticks_per_ms;
}

uint64_t timer_us_to_ticks(uint32_t us)
{
	return ((uint64_t)us * ticks_per_ms + 999) / 1000;
}

/* Reprogramming costs an SBI call in S-mode, so only on change. */
void timer_arm(uint64_t deadline)
{
	if (deadline == armed)
		return;
	armed = deadline;
#if MODE_S
	register unsigned long a0 __asm__("a0") = deadline;
	register unsigned long a6 __asm__("a6") = 0;
	register unsigned long a7 __asm__("a7") = SBI_EXT_TIME;
	__asm__ volatile("ecall" : "+r"(a0) : "r"(a6), "r"(a7) : "a1", "memory");
#else
	*(volatile uint64_t *)mtimecmp = deadline;
#endif
}

void swtimer_start(struct swtimer *t, uint32_t delay_ms, uint32_t period_ms,
		   void (*fn)(void *), void *arg)
{
	t->due = timer_ms() + delay_ms;
	t->period = period_ms;
	t->fn = fn;
	t->arg = arg;
	t->active = 1;
	for (int i = 0; i < CFG_SWTIMERS; i++)
		if (timers[i] == t)
			return;
	for (int i = 0; i < CFG_SWTIMERS; i++)
		if (!timers[i]) {
			timers[i] = t;
			return;
		}
	t->active = 0; /* table full: a configuration error, caught at boot */
}

void swtimer_stop(struct swtimer *t)
{
	t->active = 0;
}

uint32_t swtimer_run(uint32_t now)
{
	uint32_t next = now + 86400000u;
	for (int i = 0; i < CFG_SWTIMERS; i++) {
		struct swtimer *t = timers[i];
		if (!t || !t->active)
			continue;
		if ((int32_t)(now - t->due) >= 0) {
			if (t->period)
				t->due = now + t->period;
			else
				t->active = 0;
			t->fn(t->arg);
		}
		if (t->active && (int32_t)(t->due - next) < 0)
			next = t->due;
	}
	return next;
}
