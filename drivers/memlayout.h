/*
 * QEMU virt's layout (hw/riscv/virt.c), used only when the device tree
 * cannot be read: every address the firmware uses comes from the DTB
 * otherwise. xv6's memlayout.h idea: the numbers live here, with names.
 */
#ifndef DRIVERS_MEMLAYOUT_H
#define DRIVERS_MEMLAYOUT_H

#define VIRT_RAM_BASE 0x80000000ul
#define VIRT_RAM_SIZE (128ul << 20)   /* QEMU's default -m */
#define VIRT_TEST 0x100000ul           /* sifive,test1 finisher */
#define VIRT_CLINT 0x2000000ul
#define VIRT_PLIC 0xc000000ul
#define VIRT_PLIC_NDEV 96
#define VIRT_UART0 0x10000000ul        /* ns16550a */
#define VIRT_UART0_IRQ 10
#define VIRT_VIRTIO0 0x10001000ul      /* eight virtio-mmio slots */
#define VIRT_VIRTIO_STRIDE 0x1000ul
#define VIRT_VIRTIO_IRQ0 1
#define VIRT_VIRTIO_COUNT 8
#define VIRT_TIMEBASE_HZ 10000000u
/* Interrupt causes a PLIC context is wired to (interrupts-extended). */
#define IRQ_M_EXT 11
#define IRQ_S_EXT 9
/* The end of a context's threshold/claim page in a PLIC's register block. */
#define PLIC_CONTEXT_END(ctx) (0x200000ul + 0x1000ul * ((ctx) + 1))
/* virt gives every hart an M context, then an S context. */
#define VIRT_PLIC_CONTEXT(hart, smode) (2 * (hart) + ((smode) ? 1 : 0))

/* CLINT registers (SiFive layout, on every board we know). */
#define CLINT_MTIMECMP(hart) (0x4000ul + 8ul * (hart))
#define CLINT_MTIME 0xbff8ul

/* The sifive,test finisher's commands. */
#define TEST_PASS 0x5555u
#define TEST_FAIL 0x3333u /* | code << 16 */

/* sifive,gpio0 registers (FU540/FU740 manuals; Linux gpio-sifive uses
 * the same two for output): one bit per pin. */
#define SIFIVE_GPIO_OUTPUT_EN 0x08u
#define SIFIVE_GPIO_OUTPUT_VAL 0x0cu
#define SIFIVE_GPIO_PINS 32u
/* The flags cell of a `gpios` property (dt-bindings/gpio/gpio.h). */
#define DT_GPIO_ACTIVE_LOW 1u

#endif
