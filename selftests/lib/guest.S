/*
 * Test guest: 32-bit flat protected mode, no paging.  Reads commands from
 * port 0x20 (one IN per word), answers with one OUT; see GuestOp in kvm.h.
 * The bytes between gmt_guest_start and gmt_guest_end are copied into the
 * guest's boot slot and run there; they are data to the host program.
 */
	.section .rodata
	.globl gmt_guest_start, gmt_guest_end
	.code32
gmt_guest_start:
	mov	$0xf000, %esp
next:
	mov	$0x20, %dx
	in	(%dx), %eax
	test	%eax, %eax
	jz	halt
	cmp	$1, %eax
	je	op_write
	cmp	$2, %eax
	je	op_read
	cmp	$3, %eax
	je	op_fill
	cmp	$4, %eax
	je	op_sum
	cmp	$5, %eax
	je	op_touch
	jmp	next
op_write:
	in	(%dx), %eax
	mov	%eax, %edi
	in	(%dx), %eax
	mov	%eax, (%edi)
	out	%eax, (%dx)
	jmp	next
op_read:
	in	(%dx), %eax
	mov	%eax, %edi
	mov	(%edi), %eax
	out	%eax, (%dx)
	jmp	next
op_fill:
	in	(%dx), %eax
	mov	%eax, %esi		/* address */
	in	(%dx), %eax
	mov	%eax, %ebx		/* dwords */
	in	(%dx), %eax
	mov	%eax, %ebp		/* value */
	in	(%dx), %eax
	mov	%eax, %edx		/* passes */
1:	mov	%esi, %edi
	mov	%ebx, %ecx
	mov	%ebp, %eax
	cld
	rep stosl
	dec	%edx
	jnz	1b
	mov	$0x20, %dx
	mov	%ebx, %eax
	out	%eax, (%dx)
	jmp	next
op_sum:
	in	(%dx), %eax
	mov	%eax, %esi
	in	(%dx), %eax
	mov	%eax, %ecx
	xor	%eax, %eax
2:	test	%ecx, %ecx
	jz	3f
	add	(%esi), %eax
	add	$4, %esi
	dec	%ecx
	jmp	2b
3:	out	%eax, (%dx)
	jmp	next
op_touch:
	in	(%dx), %eax
	mov	%eax, %edi		/* address */
	in	(%dx), %eax
	mov	%eax, %ecx		/* pages */
	mov	%eax, %ebx
	in	(%dx), %eax		/* value */
4:	test	%ecx, %ecx
	jz	5f
	mov	%eax, (%edi)
	add	$0x1000, %edi
	dec	%ecx
	jmp	4b
5:	mov	%ebx, %eax
	out	%eax, (%dx)
	jmp	next
halt:
	hlt
	jmp	halt
gmt_guest_end:
	.code64
	.section .note.GNU-stack,"",@progbits
