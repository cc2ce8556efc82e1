/*
 * Application-processor start-up code for the smp kernel. smp.c copies
 * ap_tramp..ap_tramp_end to a page below 1 MiB and sends it as the SIPI
 * vector, so this part runs in real mode at CS = page >> 4, IP = 0, and
 * must only use addresses relative to ap_tramp. It loads crt0's GDT,
 * enters protected mode and far-jumps to ap_pm32, which is ordinary
 * kernel code at its link address.
 */
	.text
	.code16
	.globl ap_tramp, ap_tramp_end
ap_tramp:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl ap_gdt_desc - ap_tramp
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $ap_pm32

	.balign 4
ap_gdt_desc: /* a copy of crt0's descriptor: real mode cannot reach 1 MiB */
	.word 31
	.long gdt
ap_tramp_end:

	.code32
ap_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	/*
	 * Report our local APIC id (+1, so 0 means "nobody yet"). One plain
	 * store: the BSP only polls it, and only one AP is started.
	 */
	movl 0xfee00020, %eax
	shrl $24, %eax
	incl %eax
	movl %eax, ap_flag
1:	cli
	hlt
	jmp 1b

	.data
	.balign 4
	.globl ap_flag
ap_flag:
	.long 0
