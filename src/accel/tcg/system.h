/*
 * Private to the software CPU's system side: what excp.c (event delivery),
 * exec_system.c and exec_far.c (system instructions and far transfers),
 * cpuid.c (the CPU model) and msr.c (model-specific registers) share.
 *
 * Descriptor helpers here work on the raw 8-byte (or 16-byte, long-mode
 * system) descriptors that seg_read_descriptor() returns.
 */
#ifndef KEMU_ACCEL_TCG_SYSTEM_H
#define KEMU_ACCEL_TCG_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/tcg/exec.h"

/* ---- descriptors -------------------------------------------------------- */

#define DESC_TYPE(d) ((unsigned)((d) >> 40) & 0xf)
#define DESC_S(d) ((unsigned)((d) >> 44) & 1)
#define DESC_DPL(d) ((unsigned)((d) >> 45) & 3)
#define DESC_P(d) ((unsigned)((d) >> 47) & 1)
#define DESC_L(d) ((unsigned)((d) >> 53) & 1)
#define DESC_DB(d) ((unsigned)((d) >> 54) & 1)

/* Type nibble of code/data descriptors (S = 1). */
#define TYPE_CODE 0x8
#define TYPE_CONFORMING 0x4 /* code */
#define TYPE_EXPAND_DOWN 0x4 /* data */
#define TYPE_READABLE 0x2 /* code */
#define TYPE_WRITABLE 0x2 /* data */

/* System descriptor types (S = 0); in long mode 0x9/0xB/0xC/0xE/0xF are the 64-bit forms. */
enum {
	SYS_TSS16_AVAIL = 0x1, SYS_LDT = 0x2, SYS_TSS16_BUSY = 0x3, SYS_CALL16 = 0x4,
	SYS_TASK_GATE = 0x5, SYS_INT16 = 0x6, SYS_TRAP16 = 0x7, SYS_TSS_AVAIL = 0x9,
	SYS_TSS_BUSY = 0xB, SYS_CALL = 0xC, SYS_INT = 0xE, SYS_TRAP = 0xF,
};

static inline bool desc_is_code(uint64_t d)
{
	return DESC_S(d) && (DESC_TYPE(d) & TYPE_CODE);
}

/* Protected mode proper: CR0.PE and not virtual-8086. */
static inline bool sys_protected(const struct x86_cpu *cpu)
{
	return (cpu->cr0 & X86_CR0_PE) && !(cpu->rflags & F_VM);
}

static inline bool sys_long_mode(const struct x86_cpu *cpu)
{
	return cpu->efer & X86_EFER_LMA;
}

/* Linear addresses of system structures wrap at 4 GiB outside IA-32e mode. */
static inline uint64_t sys_lin(const struct x86_cpu *cpu, uint64_t la)
{
	return sys_long_mode(cpu) ? la : (uint32_t)la;
}

/*
 * Loads CS from a code descriptor that passed its checks, with RPL = cpl
 * (the new CPL), and recomputes cpu->cpl/mode.
 */
void sys_load_cs(struct x86_cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl);
/* Loads SS from a checked descriptor, or a null SS (d = NULL) with RPL = sel's. */
void sys_load_ss(struct x86_cpu *cpu, uint16_t sel, const uint64_t *d);
/* A real-mode or virtual-8086 segment: base = sel << 4. */
void sys_load_real_seg(struct x86_cpu *cpu, int seg, uint16_t sel, bool v86);
/*
 * After a return to an outer privilege level: data segment registers
 * whose DPL is below the new CPL (and are not conforming code) are nulled,
 * so the outer ring cannot keep using inner-ring segments.
 */
void sys_null_inner_segs(struct x86_cpu *cpu);
/*
 * Checks SS for a transfer to privilege level cpl (#TS or, with
 * vector_np, #SS when not present) and reads its descriptor into d.
 * Returns false for a null selector (allowed only where the caller says).
 */
bool sys_check_ss(struct x86_cpu *cpu, uint16_t sel, unsigned cpl, uint64_t d[2], int vector,
		  uint32_t ext);

/* exec_far.c: far JMP/CALL, RETF, IRET rows (exec_system_register calls it). */
void exec_far_register(exec_fn *t);

/* ---- event delivery (excp.c) ---------------------------------------------- */

/* Where an event comes from: decides DPL checks, EXT bits and the pushed rip. */
enum excp_src {
	EXCP_SRC_HW,    /* an exception the CPU detected */
	EXCP_SRC_EXT,   /* an external interrupt or NMI */
	EXCP_SRC_SOFT,  /* INT n, INT3, INTO: gate DPL is checked */
	EXCP_SRC_ICEBP, /* INT1: like a hardware #DB, but after the insn */
};

/*
 * Delivers vector through the IDT (IVT in real mode). The frame holds
 * cpu->rip as the return address: callers set it (faults: the faulting
 * instruction; traps and software interrupts: the next one). May raise
 * (longjmp) if delivery itself faults; commits nothing in that case.
 */
void excp_deliver(struct x86_cpu *cpu, int vector, enum excp_src src, bool has_err, uint32_t err);

/* ---- CPU model and MSRs (cpuid.c, msr.c) ----------------------------------- */

/* CPUID leaf/subleaf into r[0..3] = EAX, EBX, ECX, EDX. */
void cpuid_query(const struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t r[4]);
/* The family/model/stepping signature (CPUID.1:EAX, also EDX after INIT). */
uint32_t cpuid_signature(void);

/* Power-on MSR values. */
void msr_reset(struct x86_cpu *cpu);
/* false: the MSR does not exist or the value is invalid (caller raises #GP). */
bool msr_read(struct x86_cpu *cpu, uint32_t index, uint64_t *value);
bool msr_write(struct x86_cpu *cpu, uint32_t index, uint64_t value);
/* The guest's time-stamp counter. */
uint64_t tsc_read(const struct x86_cpu *cpu);

#define MSR_TSC 0x10
#define MSR_EFER 0xc0000080

#endif
