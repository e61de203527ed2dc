/* SEV-SNP payload entry: the VMM's LAUNCH_FINISH made the VMSA from the
 * 64-bit state it set (identity map with the C-bit, flat GDT), so we start
 * in long mode at the image base.  No port I/O: it would raise #VC. */
	.section .text.entry, "ax"
	.globl _start
	.code64
_start:
	mov	$0x100000, %rsp		/* kStackTop */
	xor	%ebp, %ebp
	call	guest_main		/* ends with a GHCB termination request */
1:	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
