/*
 * The console UART: NS16550A (QEMU virt) or SiFive UART (FU540/FU740),
 * picked from the device tree. Polled output, interrupt-signalled input.
 */
#include <stdio.h>
#include <string.h>
#include "platform.h"
#include "riscv.h"

/* 16550 registers (byte-wide, stride 1 on QEMU virt) */
#define NS_RBR 0
#define NS_THR 0
#define NS_IER 1
#define NS_FCR 2
#define NS_LCR 3
#define NS_LSR 5
#define NS_LSR_DR 0x01
#define NS_LSR_THRE 0x20

/* SiFive UART registers (32-bit) */
#define SF_TXDATA 0x00 /* bit 31: FIFO full */
#define SF_RXDATA 0x04 /* bit 31: FIFO empty */
#define SF_TXCTRL 0x08 /* bit 0: enable */
#define SF_RXCTRL 0x0c /* bit 0: enable; rxcnt 18:16 = 0: interrupt on any byte */
#define SF_IE 0x10
#define SF_IE_RXWM 2   /* interrupt while the receive FIFO holds more than rxcnt */
#define SF_EMPTY (1u << 31) /* in RXDATA */
#define SF_FULL (1u << 31)  /* in TXDATA */

struct uart_ops {
	const char *compat;
	void (*init)(void);
	void (*put)(char c);
	int (*get)(void);
	void (*rx_irq_on)(void);
};

static uintptr_t base;
static uint32_t irq;
static const struct uart_ops *ops;
static char desc[64];

static void ns_init(void)
{
	mmio_write8(base + NS_IER, 0);
	mmio_write8(base + NS_FCR, 0x07); /* FIFOs on and cleared */
	mmio_write8(base + NS_LCR, 0x03); /* 8N1; the boot loader's divisor is kept */
}
static void ns_put(char c)
{
	while (!(mmio_read8(base + NS_LSR) & NS_LSR_THRE))
		;
	mmio_write8(base + NS_THR, (uint8_t)c);
}
static int ns_get(void)
{
	return mmio_read8(base + NS_LSR) & NS_LSR_DR ? mmio_read8(base + NS_RBR) : -1;
}
static void ns_rx_irq_on(void) { mmio_write8(base + NS_IER, 0x01); }

/* The divisor is left as U-Boot set it: on a board only it knows the clock. */
static void sf_init(void)
{
	mmio_write32(base + SF_IE, 0);
	mmio_write32(base + SF_TXCTRL, mmio_read32(base + SF_TXCTRL) | 1);
	mmio_write32(base + SF_RXCTRL, (mmio_read32(base + SF_RXCTRL) & ~(7u << 16)) | 1);
}
static void sf_put(char c)
{
	while (mmio_read32(base + SF_TXDATA) & SF_FULL)
		;
	mmio_write32(base + SF_TXDATA, (uint8_t)c);
}
static int sf_get(void)
{
	uint32_t v = mmio_read32(base + SF_RXDATA);
	return v & SF_EMPTY ? -1 : (int)(v & 0xff);
}
static void sf_rx_irq_on(void) { mmio_write32(base + SF_IE, SF_IE_RXWM); }

static const struct uart_ops uarts[] = {
	{"ns16550a", ns_init, ns_put, ns_get, ns_rx_irq_on},
	{"sifive,uart0", sf_init, sf_put, sf_get, sf_rx_irq_on},
};

static const struct uart_ops *driver_for(const struct fdt_dev *d)
{
	for (size_t i = 0; d && d->has_reg && i < sizeof uarts / sizeof uarts[0]; i++)
		if (fdt_is_compatible(d, uarts[i].compat))
			return &uarts[i];
	return NULL;
}

int uart_probe(const struct fdt_info *fi)
{
	const struct fdt_dev *d = fdt_by_path(fi, fi->stdout_path);
	for (unsigned i = 0; !driver_for(d) && i < fi->ndev; i++)
		d = fi->dev[i].disabled ? NULL : &fi->dev[i];
	if (!(ops = driver_for(d)))
		return -1;
	base = (uintptr_t)d->base;
	irq = d->irq;
	ops->init();
	snprintf(desc, sizeof desc, "%s at %#lx irq %u", ops->compat, (unsigned long)base,
		 (unsigned)irq);
	return 0;
}

const char *uart_describe(void) { return ops ? desc : "none"; }

void uart_putc(char c)
{
	if (!ops)
		return;
	if (c == '\n')
		ops->put('\r');
	ops->put(c);
}

int uart_getc(void) { return ops ? ops->get() : -1; }

void uart_rx_irq(void (*fn)(void *arg), void *arg)
{
	if (!ops)
		return;
	plic_enable(irq, fn, arg);
	ops->rx_irq_on();
}

/* picolibc's tiny stdio: stdout/stderr go to the UART. */
static int stdio_put(char c, FILE *f)
{
	(void)f;
	uart_putc(c);
	return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(stdio_put, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;
