/* Payload entry: the VMM starts us in 64-bit mode at the image base with
 * paging on.  Announce the first instruction, set a stack, run the check. */
	.section .text.entry, "ax"
	.globl _start
	.code64
_start:
	mov	$0x510, %dx		/* kPortEvent */
	mov	$1, %eax		/* kEvHello */
	out	%eax, %dx
	mov	$0x100000, %rsp		/* kStackTop */
	xor	%ebp, %ebp
	call	guest_main
1:	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
