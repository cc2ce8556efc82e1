/*
 * Exception entry stubs and a tiny setjmp/longjmp for the exceptions
 * kernel. Handlers never return with IRET (paravirtual KVM cannot emulate
 * it outside real mode): exc_common hands the frame to C, which reports it
 * and resumes at the context saved by exc_try(), discarding the frame.
 * Ring 0 to ring 0 delivery switches neither stack nor CS, so throwing the
 * frame away leaves the CPU in the state the test started in (IF stays 0,
 * as it already was).
 */
	.text
	.code32

	/* Vectors without an error code push a zero so the frame is uniform. */
	.globl exc_de, exc_ud, exc_gp, exc_pf, exc_other
exc_de:	pushl $0
	pushl $0
	jmp exc_common
exc_ud:	pushl $0
	pushl $6
	jmp exc_common
exc_gp:	pushl $13 /* the CPU pushed the error code */
	jmp exc_common
exc_pf:	pushl $14
	jmp exc_common
exc_other:
	pushl $0
	pushl $0xff /* any vector the test did not plan for */
	jmp exc_common

exc_common:
	/* Stack: vector, error code, eip, cs, eflags: exc_handler's arguments. */
	call exc_handler
1:	cli
	hlt
	jmp 1b

	/*
	 * int exc_try(struct exc_ctx *c): returns 0, and 1 again when
	 * exc_resume(c) is called. Saves the callee-saved registers, the
	 * caller's stack pointer and the return address.
	 */
	.globl exc_try
exc_try:
	movl 4(%esp), %eax
	movl %ebx, 0(%eax)
	movl %esi, 4(%eax)
	movl %edi, 8(%eax)
	movl %ebp, 12(%eax)
	leal 4(%esp), %ecx
	movl %ecx, 16(%eax)
	movl (%esp), %ecx
	movl %ecx, 20(%eax)
	xorl %eax, %eax
	ret

	.globl exc_resume
exc_resume:
	movl 4(%esp), %eax
	movl 0(%eax), %ebx
	movl 4(%eax), %esi
	movl 8(%eax), %edi
	movl 12(%eax), %ebp
	movl 16(%eax), %esp
	movl 20(%eax), %ecx
	movl $1, %eax
	jmp *%ecx
