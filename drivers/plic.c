/* Platform-level interrupt controller: route device interrupts to this
 * hart's context and dispatch them to the handlers drivers register. */
#include "platform.h"
#include "riscv.h"

#define PRIORITY(irq) (plic + 4 * (irq))
#define ENABLE(ctx) (plic + 0x2000 + 0x80 * (ctx))
#define THRESHOLD(ctx) (plic + 0x200000 + 0x1000 * (ctx))
#define CLAIM(ctx) (plic + 0x200004 + 0x1000 * (ctx))

static uintptr_t plic;
static unsigned ctx;
/* Without a PLIC a claim reads this: 0, nothing pending, nothing to
 * complete; plic_dispatch then needs no test for the PLIC itself. */
static const volatile uint32_t no_claim;
GP_DATA volatile uint32_t *plic_claim = (volatile uint32_t *)&no_claim; /* this hart's
									 claim/complete register */

/* A source nobody registered (a spurious claim) is completed and left. */
static void no_handler(void *arg)
{
	(void)arg;
}

struct plic_handler plic_handlers[PLIC_MAX_IRQ];
GP_DATA struct plic_hot plic_hot = {~0u, no_handler, NULL};

/* The claim plic_dispatch does not handle inline: through the table.
 * Out of line (noinline: LTO would bring it back). */
__attribute__((noinline)) void plic_dispatch_table(long claim)
{
	/* sign-extended: one unsigned compare turns away 0 (nothing
	 * pending) and every source past the table */
	unsigned long irq = (unsigned long)claim;
	if (irq - 1 < PLIC_MAX_IRQ - 1)
		plic_handlers[irq].fn(plic_handlers[irq].arg);
	if (irq)
		*plic_claim = (uint32_t)irq;
}

void plic_init(uintptr_t base, unsigned context)
{
	plic = base;
	ctx = context;
	for (unsigned i = 0; i < PLIC_MAX_IRQ; i++)
		plic_handlers[i] = (struct plic_handler){no_handler, NULL};
	if (!plic)
		return;
	mmio_write32(THRESHOLD(ctx), 0);
	plic_claim = (volatile uint32_t *)CLAIM(ctx);
}

void plic_enable(uint32_t irq, void (*fn)(void *), void *arg)
{
	if (!plic || irq == 0 || irq >= PLIC_MAX_IRQ)
		return;
	plic_handlers[irq].fn = fn;
	plic_handlers[irq].arg = arg;
	mmio_write32(PRIORITY(irq), 1);
	uintptr_t en = ENABLE(ctx) + 4 * (irq / 32);
	mmio_write32(en, mmio_read32(en) | 1u << (irq % 32));
	xcsr_set(CSR_IE, 1ul << IRQ_EXT);
}

void plic_enable_hot(uint32_t irq, void (*fn)(void *), void *arg)
{
	plic_enable(irq, fn, arg);
	if (plic && irq != 0 && irq < PLIC_MAX_IRQ)
		plic_hot = (struct plic_hot){irq, fn, arg};
}
