/* NS16550A console, polled output, interrupt-signalled input. */
#include <stdio.h>
#include "platform.h"
#include "riscv.h"

#define RBR 0 /* receive buffer */
#define THR 0 /* transmit holding */
#define IER 1
#define FCR 2
#define LCR 3
#define LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

static uintptr_t uart;

void uart_init(uintptr_t base)
{
	uart = base;
	mmio_write8(uart + IER, 0);
	mmio_write8(uart + FCR, 0x07); /* FIFOs on and cleared */
	mmio_write8(uart + LCR, 0x03); /* 8N1; QEMU ignores the divisor */
}

void uart_putc(char c)
{
	if (!uart)
		return;
	if (c == '\n')
		uart_putc('\r');
	while (!(mmio_read8(uart + LSR) & LSR_THRE))
		;
	mmio_write8(uart + THR, (uint8_t)c);
}

int uart_getc(void)
{
	if (!uart || !(mmio_read8(uart + LSR) & LSR_DR))
		return -1;
	return mmio_read8(uart + RBR);
}

void uart_enable_rx_irq(void)
{
	mmio_write8(uart + IER, 0x01);
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
