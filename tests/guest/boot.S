/* The disk's boot sector (MBR). SeaBIOS loads it at 0x7C00 and jumps to it in
 * 16-bit real mode, with the boot drive's number in DL. It reads the kernel
 * image (the KERNEL_SECTORS sectors after it, see mkimg.py) below 1 MiB with
 * int 13h, enters 32-bit protected mode, copies the image to KERNEL_BASE
 * (1 MiB, where multiboot loads it too, out of real mode's reach) and jumps
 * to its first byte: entry.S's _start. KERNEL_BASE and KERNEL_SECTORS come
 * from meson. */

#define LOAD_SEG 0x1000         /* read buffer 0x10000: free conventional memory */
#define CODE_SEL 0x08
#define DATA_SEL 0x10
#define COM1     0x3F8

	.code16
	.text
	.globl start
start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7C00, %sp            /* the stack grows down from below us */
	ljmp	$0, $1f                 /* some BIOSes enter at 07C0:0000: make CS 0 */
1:	sti

	/* int 13h AH=42h "extended read": LBA addressing, described by the
	 * disk address packet at DS:SI; DL is still the boot drive. */
	mov	$dap, %si
	mov	$0x42, %ah
	int	$0x13
	jc	fail

	/* Open the A20 gate ("fast A20", system control port A, bit 1) so
	 * addresses at 1 MiB and up do not wrap; bit 0 would reset the CPU. */
	in	$0x92, %al
	or	$0x02, %al
	and	$0xFE, %al
	out	%al, $0x92

	cli
	lgdt	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax                /* CR0.PE: protected mode */
	mov	%eax, %cr0
	ljmp	$CODE_SEL, $pm32        /* a far jump loads CS from the GDT */

	.code32
pm32:
	mov	$DATA_SEL, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$(LOAD_SEG << 4), %esi
	mov	$KERNEL_BASE, %edi
	mov	$(KERNEL_SECTORS * 512 / 4), %ecx
	cld
	rep movsl
	xor	%eax, %eax              /* not the multiboot magic: no boot information */
	mov	$KERNEL_BASE, %ecx
	jmp	*%ecx

	.code16
	/* The read failed: say so on COM1 (QEMU's UART needs no set-up to
	 * send) rather than leave a test waiting in silence. */
fail:
	mov	$msg, %si
	mov	$COM1, %dx
2:	lodsb
	test	%al, %al
	jz	3f
	out	%al, %dx
	jmp	2b
3:	cli
	hlt
	jmp	3b

msg:	.asciz	"XVM-GUEST BOOT-FAILED\r\n"

	.align 8
gdt:	.quad	0                       /* the null descriptor */
	.quad	0x00CF9A000000FFFF      /* CODE_SEL: base 0, limit 4 GiB, 32-bit, execute/read */
	.quad	0x00CF92000000FFFF      /* DATA_SEL: base 0, limit 4 GiB, read/write */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	.align 4
dap:	.byte	0x10, 0                 /* packet size, reserved */
	.word	KERNEL_SECTORS          /* sectors to read (at most 127) */
	.word	0, LOAD_SEG             /* buffer, offset:segment */
	.quad	1                       /* first LBA: the sector after this one */

	.org	510
	.word	0xAA55                  /* the BIOS boots only a sector ending so */

	.section .note.GNU-stack, "", @progbits
