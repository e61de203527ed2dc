/* TDX payload entry.  A TD's vCPU starts at the reset vector 0xFFFFFFF0 in
 * 32-bit protected mode, paging off, flat segments (TDX module spec, "TD
 * VCPU initial state"); the VMM's reset page jumps here.  We enable the
 * identity map the VMM loaded (measured) at kPageTableGpa and go to long
 * mode through the VMM's GDT at kGdtGpa (code 0x8, data 0x10). */
	.section .text.entry, "ax"
	.globl _start
	.code32
_start:
	mov	$0x10000, %eax		/* kPageTableGpa: PML4 */
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE, keeping what the module set */
	mov	%eax, %cr4
	mov	$0xc0000080, %ecx	/* IA32_EFER */
	rdmsr
	bt	$8, %eax		/* LME: the module may have set it */
	jc	1f
	or	$0x100, %eax
	wrmsr
1:	lgdt	gdt_pointer
	mov	%cr0, %eax
	or	$0x80000000, %eax	/* PG */
	mov	%eax, %cr0
	ljmp	$0x8, $long_mode

	.code64
long_mode:
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	$0x100000, %rsp		/* kStackTop */
	xor	%ebp, %ebp
	call	guest_main		/* ends with the verdict on kPortVerdict */
2:	hlt
	jmp	2b

	.balign 8
gdt_pointer:
	.word	23			/* kGdtLimit */
	.long	0x1000			/* kGdtGpa */

	.section .note.GNU-stack, "", @progbits
