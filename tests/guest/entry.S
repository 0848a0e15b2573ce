/* The kernel's entry, the same for both boot forms. Either way the CPU is
 * already in 32-bit protected mode with flat segments, paging and interrupts
 * off, and arrives at _start, the image's first byte:
 *   - QEMU's multiboot loader (-kernel) with EAX = 0x2BADB002, EBX = the
 *     multiboot information (command line);
 *   - the disk's boot sector (boot.S) with EAX = 0: no information.
 * Multiboot leaves the GDT undefined, so we load our own, then zero .bss,
 * set up a stack and call guest_main(magic, info). */

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002
#define MULTIBOOT_HEADER_FLAGS 0        /* nothing asked: the image is an ELF */
#define CODE_SEL 0x08
#define DATA_SEL 0x10

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov	%eax, %edx              /* keep the magic: rep stosb needs EAX */
	lgdt	gdt_desc
	ljmp	$CODE_SEL, $1f
1:	mov	$DATA_SEL, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%ax, %ss
	mov	$__bss_start, %edi      /* the disk boot copies no .bss: zero it */
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	mov	$stack_top, %esp
	push	%ebx
	push	%edx
	call	guest_main
2:	hlt
	jmp	2b

/* Within the image's first 8 KiB, 4-byte aligned, as multiboot requires. */
	.section .multiboot, "a"
	.align 4
	.long	MULTIBOOT_HEADER_MAGIC
	.long	MULTIBOOT_HEADER_FLAGS
	.long	-(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

	.section .rodata
	.align 8
gdt:	.quad	0                       /* the null descriptor */
	.quad	0x00CF9A000000FFFF      /* CODE_SEL: base 0, limit 4 GiB, 32-bit, execute/read */
	.quad	0x00CF92000000FFFF      /* DATA_SEL: base 0, limit 4 GiB, read/write */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	.section .bss
	.align 16
	.skip	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
