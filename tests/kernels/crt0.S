/*
 * Multiboot v1 entry shared by the test kernels: checks nothing, builds
 * nothing beyond what C needs. The loader leaves GDTR undefined, so we
 * load our own flat GDT before any segment register or interrupt gate
 * depends on it; the 64-bit code selector is there for long64.
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0 /* ELF image: the loader takes addresses from the program headers */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	movl $stack_top, %esp
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movw $0x10, %cx /* %eax and %ebx still hold the multiboot magic and info */
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	pushl %ebx
	pushl %eax
	call kmain
	pushl $0
	call test_exit

	.data
	.balign 8
	.globl gdt
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff /* 0x10: data, flat */
	.quad 0x00af9a000000ffff /* 0x18: 64-bit code */
gdt_end:
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.balign 16
	.space 8192
	.globl stack_top
stack_top:
