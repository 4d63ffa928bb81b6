/*
 * Entry of the polling reflector (a measuring tool for make bench, see
 * reflect.c). QEMU virt -bios none starts every hart at 0x80000000 in
 * M-mode; hart 0 clears .bss and runs main, the others park. Interrupts
 * stay off: mie is cleared and nothing ever sets it.
 */
	.section .text.entry, "ax"
	.globl _start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	csrw	mie, zero
	csrci	mstatus, 8
	csrr	t0, mhartid
	bnez	t0, park
	la	sp, __stack_top
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	main
park:	wfi
	j	park
