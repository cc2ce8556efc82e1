/*
 * exit0: the guest's first instructions write 0 to isa-debug-exit, so the
 * VMM exits with status 1 as soon as the guest runs. Benchmarks use it to
 * time VMM start-up to the first guest instruction. No crt0: nothing may
 * run before the write (%al holds 0x02 from the multiboot magic, hence the
 * xor: two instructions, one exit).
 */
#define MB_MAGIC 0x1badb002

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, 0, -MB_MAGIC

	.text
	.code32
	.globl _start
_start:
	xorl %eax, %eax
	outb %al, $0xf4
1:	cli
	hlt
	jmp 1b
