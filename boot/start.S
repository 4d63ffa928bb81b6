/*
 * The image begins with the 64-byte RISC-V Linux Image header (Linux
 * Documentation/riscv/boot-image-header.rst), so that U-Boot's booti
 * takes the S-mode image as it is, from the ELF's own bytes. Its first
 * word jumps over the header: loaders that start at the first byte
 * (QEMU -bios none, OpenSBI, booti) all arrive at entry.
 */
#define IMAGE_VERSION (0 << 16 | 2) /* header version 0.2 */
#define IMAGE_FLAGS 0               /* bit 0 clear: little endian */

	.section .text.entry, "ax"
	.globl _start
_start:
	.option push
	.option norvc			/* code0 is one 4-byte word */
	j	entry
	.option pop
	.word	0			/* code1 */
	.dword	__image_text_offset	/* booti copies us to RAM start + this (linker.ld) */
	.dword	__image_size		/* all we use: bss, noinit and stack included */
	.dword	IMAGE_FLAGS
	.word	IMAGE_VERSION
	.word	0			/* res1 */
	.dword	0			/* res2 */
	.ascii	"RISCV\0\0\0"		/* magic, deprecated since 0.2, still written */
	.ascii	"RSC\x05"		/* magic2, what booti checks */
	.word	0			/* res3: no PE/COFF header */

/*
 * Entry. M-mode (-bios none): every hart starts here; hart 0 runs, the
 * others park. S-mode (OpenSBI, or U-Boot's booti): only the boot hart
 * arrives, with a0 = hart id, a1 = device tree, in both modes.
 */
entry:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
#if !MODE_S
	csrr	t0, mhartid
	bnez	t0, park
	csrw	mie, zero
	csrci	mstatus, 8
#else
	csrw	sie, zero
	csrci	sstatus, 2
#endif
	la	sp, __stack_top
	la	tp, __tls_base
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	la	t0, trap_entry
#if MODE_S
	csrw	stvec, t0
#else
	csrw	mtvec, t0
#endif
	call	main		/* main(hartid, dtb) does not return */
	li	a0, 1
	call	platform_exit
park:	wfi
	j	park

/*
 * Trap entry: save the caller-saved registers (the C handler saves the
 * rest) and call trap_handler(frame). Traps are exceptions, or interrupts
 * when someone enables them: the superloop itself sleeps with interrupts
 * masked and dispatches pending ones without taking a trap.
 */
	.align 4
	.globl trap_entry
trap_entry:
	addi	sp, sp, -144
	sd	ra, 0(sp)
	sd	t0, 8(sp)
	sd	t1, 16(sp)
	sd	t2, 24(sp)
	sd	a0, 32(sp)
	sd	a1, 40(sp)
	sd	a2, 48(sp)
	sd	a3, 56(sp)
	sd	a4, 64(sp)
	sd	a5, 72(sp)
	sd	a6, 80(sp)
	sd	a7, 88(sp)
	sd	t3, 96(sp)
	sd	t4, 104(sp)
	sd	t5, 112(sp)
	sd	t6, 120(sp)
	mv	a0, sp
	call	trap_handler
	ld	ra, 0(sp)
	ld	t0, 8(sp)
	ld	t1, 16(sp)
	ld	t2, 24(sp)
	ld	a0, 32(sp)
	ld	a1, 40(sp)
	ld	a2, 48(sp)
	ld	a3, 56(sp)
	ld	a4, 64(sp)
	ld	a5, 72(sp)
	ld	a6, 80(sp)
	ld	a7, 88(sp)
	ld	t3, 96(sp)
	ld	t4, 104(sp)
	ld	t5, 112(sp)
	ld	t6, 120(sp)
	addi	sp, sp, 144
#if MODE_S
	sret
#else
	mret
#endif
