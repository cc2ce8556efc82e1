/*
 * long64: from crt0's 32-bit protected mode into 64-bit long mode, then
 * checks of 64-bit arithmetic that 32-bit code cannot express, a page
 * fault taken through a 64-bit IDT, and "long64: ok".
 * Failures print "long64: FAIL <n>" and exit with status 3.
 *
 * Paging identity-maps 4 MiB: a 2 MiB page, then a 4 KiB page table for
 * the second 2 MiB with PF_PAGE left out. Tables and IDT are built in
 * 32-bit code, where absolute addresses are easy to write in an ELF32
 * object; 64-bit code uses only RIP-relative or zero-extended addresses.
 */
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR4_PAE (1 << 5)
#define CR0_PG (1 << 31)
#define PTE_P_W 0x3
#define PDE_2M 0x83 /* present, writable, page size */
#define PF_PAGE 0x3ff000
#define PF_ADDR 0x3ff010
#define PF_ERR 0x2 /* not present, write, supervisor */
#define NVEC 32

	.text
	.code32
	.globl kmain
kmain:
	/* Only low halves are written: .bss is zero, so the rest stays 0. */
	movl $pdpt + PTE_P_W, pml4
	movl $pd + PTE_P_W, pdpt
	movl $PDE_2M, pd
	movl $pt + PTE_P_W, pd + 8
	movl $0x200000 + PTE_P_W, %eax
	xorl %ecx, %ecx
1:	movl %eax, pt(,%ecx,8)
	addl $0x1000, %eax
	incl %ecx
	cmpl $512, %ecx
	jne 1b
	movl $0, pt + (PF_PAGE - 0x200000) / 512

	/* 64-bit interrupt gates, selector 0x18; offsets fit in 32 bits. */
	xorl %ecx, %ecx
	movl $exc_other64, %eax
2:	call idt_set
	incl %ecx
	cmpl $NVEC, %ecx
	jne 2b
	movl $14, %ecx
	movl $exc_pf64, %eax
	call idt_set

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $0x18, $long_entry

/* idt_set: gate %ecx -> handler %eax. */
idt_set:
	movl %ecx, %edx
	shll $4, %edx
	movw %ax, idt64(%edx)
	movw $0x18, idt64 + 2(%edx)
	movw $0x8e00, idt64 + 4(%edx) /* present, DPL 0, 64-bit interrupt gate */
	movl %eax, %edi
	shrl $16, %edi
	movw %di, idt64 + 6(%edx)
	ret

	.code64
long_entry:
	movl $stack_top, %esp /* zero-extends: the upper half of %rsp is undefined */
	lidt idt64_desc(%rip)

	/* 1: rotates carry bits across the 32-bit halves. */
	movabsq $0x123456789abcdef0, %rax
	rolq $8, %rax
	movabsq $0x3456789abcdef012, %rbx
	movl $1, %edi
	cmpq %rbx, %rax
	jne fail

	/* 2: a full 64x64 -> 128 multiply. */
	movabsq $0x100000001, %rax
	movq %rax, %rcx
	mulq %rcx /* (2^32 + 1)^2 = 2^64 + 2^33 + 1 */
	movl $2, %edi
	cmpq $1, %rdx
	jne fail
	movabsq $0x200000001, %rbx
	cmpq %rbx, %rax
	jne fail

	/* 3: a 32-bit write zero-extends into the full register. */
	movq $-1, %rdx
	movl $5, %edx
	movl $3, %edi
	cmpq $5, %rdx
	jne fail

	/* 4: RIP-relative addressing agrees with the absolute address. */
	leaq msg_ok(%rip), %rsi
	movl $msg_ok, %ebx /* zero-extends; an ELF32 object has no 32S relocation */
	movl $4, %edi
	cmpq %rbx, %rsi
	jne fail

	/* 5: 64-bit push/pop and a signed 64-bit divide. */
	movabsq $-1000000000000, %rax
	pushq %rax
	popq %rax
	cqto
	movq $1000, %rcx
	idivq %rcx
	movl $5, %edi
	movq $-1000000000, %rbx
	cmpq %rbx, %rax
	jne fail
	testq %rdx, %rdx
	jne fail

	/*
	 * 6: a write to the unmapped page faults; exc_pf64 checks the error
	 * code and CR2 and comes back to pf_done by jumping, not IRETQ,
	 * which paravirtual KVM cannot emulate.
	 */
	movl $6, %edi
	movl $PF_ADDR, %ebx
	movl $1, (%rbx)
	jmp fail /* no fault */
pf_done:
	leaq msg_pf(%rip), %rsi
	call puts64

	leaq msg_ok(%rip), %rsi
	call puts64
	xorl %eax, %eax
	outb %al, $0xf4
	jmp halt

exc_pf64:
	movl $7, %edi
	cmpq $PF_ERR, (%rsp)
	jne fail
	movq %cr2, %rax
	movl $8, %edi
	cmpq $PF_ADDR, %rax
	jne fail
	movl $stack_top, %esp /* drop the exception frame */
	jmp pf_done

exc_other64:
	movl $9, %edi
fail:
	leaq msg_fail(%rip), %rsi
	call puts64
	leal '0'(%rdi), %eax
	call putc64
	movb $'\n', %al
	call putc64
	movb $1, %al
	outb %al, $0xf4
halt:
	cli
	hlt
	jmp halt

/* putc64: %al to COM1, bounded wait for THR empty like lib.c's putc. */
putc64:
	movl %eax, %r8d
	movl $1000, %ecx
	movw $0x3fd, %dx
1:	inb %dx, %al
	testb $0x20, %al
	jnz 2f
	loop 1b
2:	movl %r8d, %eax
	movw $0x3f8, %dx
	outb %al, %dx
	ret

/* puts64: the NUL-terminated string at %rsi. */
puts64:
	lodsb
	testb %al, %al
	jz 1f
	call putc64
	jmp puts64
1:	ret

	.section .rodata
msg_ok:
	.asciz "long64: ok\n"
msg_pf:
	.asciz "long64: #PF err=0x2 cr2=0x3ff010\n"
msg_fail:
	.asciz "long64: FAIL "

	.data
	.balign 8
idt64_desc: /* 64-bit LIDT operand: the base's high half is 0 */
	.word NVEC * 16 - 1
	.long idt64, 0

	.bss
	.balign 4096
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4096
pt:	.space 4096
idt64:	.space NVEC * 16
