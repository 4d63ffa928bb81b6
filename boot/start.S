/*
 * Entry. M-mode (-bios none): every hart starts here; hart 0 runs, the
 * others park. S-mode (OpenSBI): only the boot hart arrives, with a0 =
 * hart id, a1 = device tree, in both modes.
 */
	.section .text.entry, "ax"
	.globl _start
_start:
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
