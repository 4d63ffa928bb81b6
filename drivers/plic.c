/* Platform-level interrupt controller: route device interrupts to this
 * hart's context and dispatch them to the handlers drivers register. */
#include "platform.h"
#include "riscv.h"

#define PLIC_MAX_IRQ 128
#define PRIORITY(irq) (plic + 4 * (irq))
#define ENABLE(ctx) (plic + 0x2000 + 0x80 * (ctx))
#define THRESHOLD(ctx) (plic + 0x200000 + 0x1000 * (ctx))
#define CLAIM(ctx) (plic + 0x200004 + 0x1000 * (ctx))

static uintptr_t plic;
static unsigned ctx;
static volatile uint32_t *claim_reg; /* this hart's claim/complete register */
static struct {
	void (*fn)(void *);
	void *arg;
} handlers[PLIC_MAX_IRQ];

void plic_init(uintptr_t base, unsigned context)
{
	plic = base;
	ctx = context;
	if (!plic)
		return;
	mmio_write32(THRESHOLD(ctx), 0);
	claim_reg = (volatile uint32_t *)CLAIM(ctx);
}

void plic_enable(uint32_t irq, void (*fn)(void *), void *arg)
{
	if (!plic || irq == 0 || irq >= PLIC_MAX_IRQ)
		return;
	handlers[irq].fn = fn;
	handlers[irq].arg = arg;
	mmio_write32(PRIORITY(irq), 1);
	uintptr_t en = ENABLE(ctx) + 4 * (irq / 32);
	mmio_write32(en, mmio_read32(en) | 1u << (irq % 32));
	xcsr_set(CSR_IE, 1ul << IRQ_EXT);
}

void plic_dispatch(void)
{
	volatile uint32_t *c = claim_reg;
	uint32_t irq;
	if (!c)
		return;
	while ((irq = *c) != 0) {
		if (irq < PLIC_MAX_IRQ && handlers[irq].fn)
			handlers[irq].fn(handlers[irq].arg);
		*c = irq;
	}
}
