/*
 * The software CPU's vCPU state and the contracts between its parts.
 *
 *   decode.c      bytes -> struct x86_insn (one decoded instruction)
 *   exec_*.c      one handler per operation id, grouped by class
 *                 (integer, control flow, string, system, x87, SSE)
 *   flags.c       lazy arithmetic flags: materialised only when read
 *   mmu.c         segmentation, 4-level paging, the TLB, guest RAM/MMIO
 *   excp.c        exceptions and interrupts: IDT delivery in every mode
 *   cpu.c         the run loop: fetch, decode, execute, check interrupts
 *   tcg.c         the accel_ops glue (vCPU threads, kick, irq lines)
 *
 * Faults are precise: a handler validates everything that can fault
 * (memory operands are translated, privilege and operands checked) before
 * it changes architectural state, and cpu_raise() longjmps out of the
 * instruction with rip still at its first byte. REP string instructions
 * commit one iteration at a time, which is what the architecture requires.
 *
 * Threading: each vCPU runs on its own host thread. Guest RAM is shared
 * memory; aligned loads and stores up to 8 bytes are single host accesses
 * (atomic, as on x86), LOCK-prefixed read-modify-writes use host atomics,
 * and x86-TSO ordering is inherited from the x86 host we run on.
 */
#ifndef KEMU_ACCEL_TCG_CPU_H
#define KEMU_ACCEL_TCG_CPU_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cpu_state.h"
#include "core/vm.h"

/* Exception vectors. */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
	EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
	EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* Page-fault error code bits. */
#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)

/* RFLAGS bits. */
#define F_CF (1u << 0)
#define F_PF (1u << 2)
#define F_AF (1u << 4)
#define F_ZF (1u << 6)
#define F_SF (1u << 7)
#define F_TF (1u << 8)
#define F_IF (1u << 9)
#define F_DF (1u << 10)
#define F_OF (1u << 11)
#define F_IOPL (3u << 12)
#define F_NT (1u << 14)
#define F_RF (1u << 16)
#define F_VM (1u << 17)
#define F_AC (1u << 18)
#define F_VIF (1u << 19)
#define F_VIP (1u << 20)
#define F_ID (1u << 21)
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = 7 };

/*
 * Lazy flags: arithmetic records its operands and result and the kind of
 * operation; flags are computed from them only when something reads them
 * (Jcc, SETcc, PUSHF, ...). See flags.c.
 */
enum cc_op {
	CC_EAGER, /* flags are in cc.flags already */
	CC_ADD, CC_ADC, CC_SUB, CC_SBB, CC_LOGIC, CC_INC, CC_DEC,
	CC_SHL, CC_SHR, CC_SAR, CC_MUL, CC_IMUL,
};

struct cc_state {
	uint64_t res;    /* result */
	uint64_t src1;   /* first operand (destination before the op) */
	uint64_t src2;   /* second operand; for ADC/SBB the carry-in is in carry */
	uint64_t flags;  /* CC_EAGER: the arithmetic flags; else the old CF for INC/DEC */
	uint8_t op;      /* enum cc_op */
	uint8_t size;    /* operand size in bytes: 1, 2, 4, 8 */
	uint8_t carry;   /* ADC/SBB carry-in */
};

/* One TLB entry: a guest virtual page mapped to host memory. */
struct tlb_entry {
	uint64_t tag_read;   /* page address | valid; ~0 = invalid */
	uint64_t tag_write;
	uint64_t tag_code;
	uintptr_t addend;    /* host = guest virtual + addend (RAM pages only) */
	uint64_t paddr;      /* guest-physical page, for MMIO and invalidation */
};

#define TLB_BITS 12
#define TLB_SIZE (1u << TLB_BITS)

union xmm_reg {
	uint8_t b[16];
	uint16_t w[8];
	uint32_t d[4];
	uint64_t q[2];
	float f[4];
	double dbl[2];
};

struct x87_state {
	long double st[8]; /* the host's 80-bit extended format, physical registers */
	uint16_t fcw, fsw, ftw_abridged; /* ftw: bit i set = physical reg i valid */
	uint8_t top;
	uint16_t fop;
	uint64_t fip, fdp;
};

struct x86_msrs {
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pat, apic_base, misc_enable, tsc_aux;
	int64_t tsc_offset; /* guest TSC = host TSC-derived count + offset */
	/* MTRRs (msr.c): stored and read back, the TLB ignores memory types. */
	uint64_t mtrr_def_type, mtrr_var[16], mtrr_fixed[11];
};

struct x86_cpu {
	/* Hot state first. */
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;      /* non-arithmetic bits; arithmetic ones live in cc */
	struct cc_state cc;
	struct x86_seg seg[6]; /* indexed by enum seg_reg */
	uint8_t cpl;
	uint8_t mode;         /* decode mode: 16, 32 or 64 (from CS and EFER.LMA) */
	uint8_t addr_mask64;  /* 1 in 64-bit mode */

	struct tlb_entry tlb[2][TLB_SIZE]; /* [0] supervisor, [1] user accesses */
	/*
	 * MMU bookkeeping (mmu.c): the linear range [lo, hi] that TLB entries
	 * of large pages (2M/4M/1G, cached as 4K pieces) may cover, so that
	 * INVLPG anywhere inside such a page drops every piece of it.
	 */
	uint64_t tlb_large_lo, tlb_large_hi;
	/*
	 * The entries filled with non-global translations since the last
	 * flush ((privilege << TLB_BITS) | index, repeats allowed), so that a
	 * CR3 write visits those instead of the whole TLB; a full log means
	 * "scan everything".
	 */
	uint16_t tlb_log[2 * TLB_SIZE];
	unsigned tlb_log_n;

	struct x86_seg ldt, tr;
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t dr[8];
	struct x86_msrs msr;

	union xmm_reg xmm[16];
	uint32_t mxcsr;
	struct x87_state fpu;

	/* Interrupt state. */
	bool halted;
	bool intr_shadow;       /* after STI / MOV SS: no interrupt before the next insn */
	int exc_depth;          /* nesting of exception delivery: #DF, triple fault */
	uint8_t exc_class;      /* excp.c: class of the event being delivered */
	bool nmi_blocked;       /* from NMI delivery until the next IRET */
	/* The exception cpu_raise() is throwing, for excp_deliver_pending(). */
	int exc_vector;
	uint32_t exc_error;
	bool exc_has_error;
	bool wait_sipi;         /* an AP after INIT: runs nothing until SIPI */
	atomic_bool kicked;     /* another thread wants this vCPU's attention */

	/* Where cpu_raise() lands: the run loop. */
	jmp_buf exc_jmp;
	uint64_t insn_rip;      /* rip of the instruction being executed */

	/* Decoded-block cache and the VM's code-page state (codecache.h);
	 * without them (unit tests) every instruction is decoded afresh. */
	struct tb_cache *tbc;
	struct code_pages *code_pages;

	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t icount;        /* instructions retired, for statistics */
	uint64_t icount_stop;   /* KEMU_STOP_AFTER: power off once icount passes it */
};

/*
 * Raise an exception: abandons the current instruction (never returns).
 * Implemented in excp.c: records the vector in exc_* and longjmps to
 * exc_jmp, where the run loop restores rip = insn_rip and calls
 * excp_deliver_pending().
 */
_Noreturn void cpu_raise(struct x86_cpu *cpu, int vector, uint32_t error_code);
/* #PF with CR2. */
_Noreturn void cpu_raise_pf(struct x86_cpu *cpu, uint64_t linear, uint32_t error_code);

/* excp.c: delivers the exception recorded by cpu_raise() through the IDT
 * (or IVT), escalating to #DF and to a triple fault (machine reset). */
void excp_deliver_pending(struct x86_cpu *cpu);
/* excp.c: delivers external interrupt vector (INTR acknowledged) or NMI. */
void excp_deliver_interrupt(struct x86_cpu *cpu, int vector);
void excp_deliver_nmi(struct x86_cpu *cpu);
/* excp.c: INIT and SIPI, as the local APIC signals them. */
void cpu_do_init(struct x86_cpu *cpu);
void cpu_do_sipi(struct x86_cpu *cpu, uint8_t vector);

/* cpu.c: runs the vCPU until the VM stops. */
void cpu_run(struct x86_cpu *cpu);
/* cpu.c: executes one instruction (tests and the differential harness). */
void cpu_step(struct x86_cpu *cpu);
/* cpu.c: executes the block at CS:RIP as cpu_run does (host code from the
 * JIT when the block has it), or one uncached instruction; for tests. */
void cpu_exec_block(struct x86_cpu *cpu);

/* Recompute cpl/mode after CS, CR0 or EFER changed. */
void cpu_update_mode(struct x86_cpu *cpu);

/* Full RFLAGS (materialising lazy flags) and writing it back. */
uint64_t cpu_get_rflags(struct x86_cpu *cpu);
void cpu_set_rflags(struct x86_cpu *cpu, uint64_t value, uint64_t writable_mask);
/* Evaluate condition code cc (0-15, as in Jcc's low nibble). */
bool cpu_cond(struct x86_cpu *cpu, unsigned cc);

/* Conversions from/to the accelerator-neutral state (loaders, dumps, tests). */
void cpu_load_state(struct x86_cpu *cpu, const struct x86_cpu_state *s);
void cpu_save_state(struct x86_cpu *cpu, struct x86_cpu_state *s);

#endif
