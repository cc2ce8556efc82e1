/*
 * Shared by the floating-point handlers (exec_x87*.c, exec_sse*.c,
 * exec_fxsave.c): the CR0/CR4 gates every x87 and SSE instruction passes
 * first, the x87 register stack (TOP, tags, status word) and the MXCSR
 * exception check.
 *
 * Arithmetic is not emulated in software: the host is x86-64, so each
 * guest operation runs as the same host instruction with the guest's
 * control word (FCW or MXCSR, with every exception masked so the host
 * never traps) loaded for the duration, and the exception flags the host
 * raised are folded into the guest's sticky flags afterwards. Results,
 * NaN payloads, denormals, rounding and precision control therefore match
 * hardware bit for bit.
 *
 * State representation: cpu->fpu.st[] are the eight PHYSICAL registers
 * (ST(i) is st[(top + i) & 7]); cpu->fpu.fsw holds the status word with
 * the TOP field (bits 13:11) always zero, TOP lives in cpu->fpu.top;
 * ftw_abridged has bit i set when physical register i is not empty.
 */
#ifndef KEMU_ACCEL_TCG_FPU_H
#define KEMU_ACCEL_TCG_FPU_H

#include <string.h>

#include "accel/tcg/exec.h"

#define FPU_CR0_EM (1ULL << 2)
#define FPU_CR0_TS (1ULL << 3)
#define FPU_CR4_OSFXSR (1ULL << 9)
#define FPU_CR4_OSXMMEXCPT (1ULL << 10)

/* x87 status word. */
#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_TOP 0x3800
#define FSW_C3 0x4000
#define FSW_B 0x8000
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_EXC 0x003f

#define FCW_DEFAULT 0x037f
#define MXCSR_DEFAULT 0x1f80
/*
 * MXCSR bits software may set: all 16 low bits, DAZ included. The host
 * executes the arithmetic, and every x86-64 host that runs kemu supports
 * DAZ, so the guest gets the MXCSR_MASK modern hardware reports (0xFFFF).
 */
#define MXCSR_MASK 0x0000ffffu

/* ---- gates -------------------------------------------------------------- */

/* x87 instructions: EM (no FPU, emulate) or TS (lazy state switch) -> #NM. */
static inline void x87_gate(struct x86_cpu *cpu)
{
	if (cpu->cr0 & (FPU_CR0_EM | FPU_CR0_TS))
		cpu_raise(cpu, EXC_NM, 0);
}

/*
 * SSE instructions: #UD without OSFXSR or with EM, #NM with TS. MMX
 * register forms are #UD: the CPU model offers no MMX.
 */
static inline void sse_gate(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if ((i->flags & X86_INSN_MMX) || (cpu->cr0 & FPU_CR0_EM) || !(cpu->cr4 & FPU_CR4_OSFXSR))
		cpu_raise(cpu, EXC_UD, 0);
	if (cpu->cr0 & FPU_CR0_TS)
		cpu_raise(cpu, EXC_NM, 0);
}

/*
 * Folds the exception flags a host SSE operation raised into MXCSR. An
 * unmasked one means the destination must stay as it was: #XM, or #UD
 * when the OS has not said it handles #XM (CR4.OSXMMEXCPT).
 */
static inline void sse_fp_flags(struct x86_cpu *cpu, uint32_t host_mxcsr)
{
	uint32_t flags = host_mxcsr & 0x3f;
	if (!flags)
		return;
	cpu->mxcsr |= flags;
	if (flags & ~(cpu->mxcsr >> 7) & 0x3f)
		cpu_raise(cpu, (cpu->cr4 & FPU_CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, 0);
}

/* ---- SSE operands --------------------------------------------------------- */

/*
 * Reads the W operand (Wx/Wq/Wd/Ww, or U): an XMM register, or memsize
 * bytes of memory zero-extended to 128 bits. 16-byte memory operands of
 * legacy SSE instructions must be 16-byte aligned (#GP(0)) unless the
 * instruction says otherwise (MOVUPS, MOVDQU, LDDQU...): pass align=false.
 */
static inline void sse_load_w(struct x86_cpu *cpu, const struct x86_insn *i, union xmm_reg *out,
			      bool align)
{
	if (!x86_insn_is_mem(i)) {
		*out = cpu->xmm[i->rm];
		return;
	}
	unsigned n = i->memsize;
	uint64_t la = insn_linear(cpu, i, n, MMU_READ);
	memset(out, 0, sizeof(*out));
	switch (n) {
	case 16:
		if (align && (la & 15))
			cpu_raise(cpu, EXC_GP, 0);
		mmu_read(cpu, la, out->b, 16);
		break;
	case 8: out->q[0] = mmu_ld64(cpu, la); break;
	case 4: out->d[0] = mmu_ld32(cpu, la); break;
	case 2: out->w[0] = mmu_ld16(cpu, la); break;
	default: out->b[0] = mmu_ld8(cpu, la); break;
	}
}

/* Stores n (16, 8 or 4) bytes of v to the memory operand. */
static inline void sse_store_m(struct x86_cpu *cpu, const struct x86_insn *i, const union xmm_reg *v,
			       unsigned n, bool align)
{
	uint64_t la = insn_linear(cpu, i, n, MMU_WRITE);
	if (n == 16) {
		if (align && (la & 15))
			cpu_raise(cpu, EXC_GP, 0);
		mmu_write(cpu, la, v->b, 16);
	} else if (n == 8) {
		mmu_st64(cpu, la, v->q[0]);
	} else {
		mmu_st32(cpu, la, v->d[0]);
	}
}

/* ---- the x87 register stack --------------------------------------------- */

static inline unsigned x87_phys(const struct x86_cpu *cpu, unsigned sti)
{
	return (cpu->fpu.top + sti) & 7;
}

static inline bool x87_empty(const struct x86_cpu *cpu, unsigned sti)
{
	return !(cpu->fpu.ftw_abridged & (1u << x87_phys(cpu, sti)));
}

/* The status word as software sees it, TOP included. */
static inline uint16_t x87_fsw(const struct x86_cpu *cpu)
{
	return (uint16_t)((cpu->fpu.fsw & ~FSW_TOP) | ((cpu->fpu.top & 7) << 11));
}

/* Sets the status word (TOP included), deriving ES and B from the masks. */
static inline void x87_set_fsw(struct x86_cpu *cpu, uint16_t fsw)
{
	cpu->fpu.top = (fsw >> 11) & 7;
	fsw &= ~(FSW_TOP | FSW_ES | FSW_B);
	if (fsw & ~cpu->fpu.fcw & FSW_EXC)
		fsw |= FSW_ES | FSW_B;
	cpu->fpu.fsw = fsw;
}

/* ES/B after FCW or the flags changed: pending iff an unmasked flag is set. */
static inline void x87_update_es(struct x86_cpu *cpu)
{
	x87_set_fsw(cpu, x87_fsw(cpu));
}

/* The 80-bit image of a register (the first 10 bytes of a host long double). */
static inline void x87_to_bytes(long double v, uint8_t out[10])
{
	memcpy(out, &v, 10);
}

static inline long double x87_from_bytes(const uint8_t in[10])
{
	long double v = 0;
	memcpy(&v, in, 10);
	return v;
}

/* Full 2-bit tag of physical register r: 0 valid, 1 zero, 2 special, 3 empty. */
static inline unsigned x87_tag_of(const struct x86_cpu *cpu, unsigned r)
{
	if (!(cpu->fpu.ftw_abridged & (1u << r)))
		return 3;
	uint8_t b[10];
	x87_to_bytes(cpu->fpu.st[r], b);
	uint64_t mant;
	memcpy(&mant, b, 8);
	unsigned exp = (b[8] | (unsigned)b[9] << 8) & 0x7fff;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return (mant >> 63) ? 0 : 2; /* integer bit clear: unnormal, unsupported */
}

static inline uint16_t x87_full_tags(const struct x86_cpu *cpu)
{
	uint16_t ftw = 0;
	for (unsigned r = 0; r < 8; r++)
		ftw |= (uint16_t)(x87_tag_of(cpu, r) << (2 * r));
	return ftw;
}

/* Abridged (FXSAVE) tags from full ones: everything but 11 is "in use". */
static inline uint8_t x87_abridge(uint16_t ftw)
{
	uint8_t t = 0;
	for (unsigned r = 0; r < 8; r++)
		if (((ftw >> (2 * r)) & 3) != 3)
			t |= (uint8_t)(1u << r);
	return t;
}

/* FNINIT's state: also the power-on state (with MXCSR) of fpu_reset(). */
static inline void x87_init(struct x86_cpu *cpu)
{
	cpu->fpu.fcw = FCW_DEFAULT;
	cpu->fpu.fsw = 0;
	cpu->fpu.top = 0;
	cpu->fpu.ftw_abridged = 0;
	cpu->fpu.fop = 0;
	cpu->fpu.fip = 0;
	cpu->fpu.fdp = 0;
}

/* Registration of the handler groups that live in their own files. */
void x87_ctl_register(exec_fn *t);
void sse_int_register(exec_fn *t);
void sse_ext_register(exec_fn *t);
void fxsave_register(exec_fn *t);

/*
 * Which optional extensions are complete here, for the CPUID model:
 * SSE3's and SSE4.1's floating-point instructions run on the host's own
 * and are registered only when the host has them; SSSE3 and the rest of
 * SSE4.1 are plain C. (x87, SSE and SSE2 are always complete; MMX is not
 * implemented.)
 */
bool fpu_host_sse3(void);
bool fpu_host_sse41(void);

/*
 * Power-on x87/SSE state (FCW 037F, empty stack, MXCSR 1F80, XMM zero);
 * what the vCPU must start with, since a zeroed vCPU would have every
 * exception unmasked. INIT leaves this state alone (SDM 9.1.1).
 */
void fpu_reset(struct x86_cpu *cpu);

#endif
