/*
 * Whole-state and control instructions of the FPU/SSE unit: FXSAVE and
 * FXRSTOR, LDMXCSR/STMXCSR, the fences, CLFLUSH(OPT)/CLWB, and the
 * power-on state (fpu_reset).
 *
 * FXSAVE area (SDM Vol. 1 Table 10-2), 16-byte aligned (#GP(0) if not):
 *     0 FCW   2 FSW   4 abridged FTW   6 FOP
 *     8 FIP: 64 bits with REX.W (FXSAVE64), else FIP[31:0] + FCS
 *    16 FDP: likewise, FDP[31:0] + FDS
 *    24 MXCSR   28 MXCSR_MASK (0000FFFFh, see fpu.h)
 *    32 ST(0)..ST(7), 16 bytes each (10 used), in stack order
 *   160 XMM0..XMM15 (XMM0..7 outside 64-bit mode)
 *   416..511 left untouched: reserved, and 464..511 belong to software
 *            (Linux keeps its XSAVE magic there).
 * Linux saves and restores this on every context switch when XSAVE is
 * not offered, so the round trip is exact: the 10-byte register images
 * are copied as they are (pseudo-denormals, unnormals, NaN payloads).
 */
#include "accel/tcg/fpu.h"

#define FXSAVE_SIZE 512

static void fxsave_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static uint64_t fxsave_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned k = 0; k < n; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

static unsigned fxsave_xmm_count(const struct x86_cpu *cpu)
{
	return cpu->mode == 64 ? 16 : 8;
}

/* FXSAVE/FXRSTOR: #NM with EM or TS, then a 16-byte aligned linear address. */
static uint64_t fxsave_linear(struct x86_cpu *cpu, const struct x86_insn *i, int access)
{
	if (cpu->cr0 & (FPU_CR0_EM | FPU_CR0_TS))
		cpu_raise(cpu, EXC_NM, 0);
	uint64_t la = insn_linear(cpu, i, FXSAVE_SIZE, access);
	if (la & 15)
		cpu_raise(cpu, EXC_GP, 0);
	return la;
}

static void exec_fxsave(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t la = fxsave_linear(cpu, i, MMU_WRITE);
	uint8_t img[416];
	unsigned len = 160 + 16 * fxsave_xmm_count(cpu);
	memset(img, 0, sizeof(img));
	fxsave_put(img + 0, cpu->fpu.fcw, 2);
	fxsave_put(img + 2, x87_fsw(cpu), 2);
	img[4] = (uint8_t)cpu->fpu.ftw_abridged;
	fxsave_put(img + 6, cpu->fpu.fop & 0x7ff, 2);
	if (i->opsize == 8) {
		fxsave_put(img + 8, cpu->fpu.fip, 8);
		fxsave_put(img + 16, cpu->fpu.fdp, 8);
	} else {
		/* FCS/FDS (offsets 12 and 20) are not tracked: stored as 0. */
		fxsave_put(img + 8, cpu->fpu.fip, 4);
		fxsave_put(img + 16, cpu->fpu.fdp, 4);
	}
	fxsave_put(img + 24, cpu->mxcsr, 4);
	fxsave_put(img + 28, MXCSR_MASK, 4);
	for (unsigned s = 0; s < 8; s++)
		x87_to_bytes(cpu->fpu.st[x87_phys(cpu, s)], img + 32 + 16 * s);
	for (unsigned r = 0; r < fxsave_xmm_count(cpu); r++)
		memcpy(img + 160 + 16 * r, cpu->xmm[r].b, 16);
	/* The whole area must be writable even though the tail is not written. */
	mmu_probe_write(cpu, la, FXSAVE_SIZE);
	mmu_write(cpu, la, img, len);
}

static void exec_fxrstor(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t la = fxsave_linear(cpu, i, MMU_READ);
	uint8_t img[FXSAVE_SIZE];
	mmu_read(cpu, la, img, sizeof(img));
	uint32_t mxcsr = (uint32_t)fxsave_get(img + 24, 4);
	if (mxcsr & ~MXCSR_MASK)
		cpu_raise(cpu, EXC_GP, 0);
	cpu->fpu.fcw = (uint16_t)((fxsave_get(img, 2) & 0x1f3f) | 0x0040);
	cpu->fpu.ftw_abridged = img[4];
	x87_set_fsw(cpu, (uint16_t)fxsave_get(img + 2, 2));
	cpu->fpu.fop = (uint16_t)(fxsave_get(img + 6, 2) & 0x7ff);
	unsigned w = i->opsize == 8 ? 8 : 4;
	cpu->fpu.fip = fxsave_get(img + 8, w);
	cpu->fpu.fdp = fxsave_get(img + 16, w);
	cpu->mxcsr = mxcsr;
	for (unsigned s = 0; s < 8; s++)
		cpu->fpu.st[x87_phys(cpu, s)] = x87_from_bytes(img + 32 + 16 * s);
	for (unsigned r = 0; r < fxsave_xmm_count(cpu); r++)
		memcpy(cpu->xmm[r].b, img + 160 + 16 * r, 16);
}

/* LDMXCSR/STMXCSR are SSE instructions: #UD without OSFXSR, #NM with TS. */
static void exec_ldmxcsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	uint32_t v = (uint32_t)mem_load(cpu, insn_linear(cpu, i, 4, MMU_READ), 4);
	if (v & ~MXCSR_MASK)
		cpu_raise(cpu, EXC_GP, 0);
	cpu->mxcsr = v;
}

static void exec_stmxcsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	mem_store(cpu, insn_linear(cpu, i, 4, MMU_WRITE), 4, cpu->mxcsr);
}

/*
 * Fences: guest memory is host memory, so the host's fences order the
 * guest's accesses the same way (and order them against MMIO emulation).
 */
static void exec_lfence(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)cpu;
	(void)i;
	__asm__ volatile("lfence" ::: "memory");
}

static void exec_mfence(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)cpu;
	(void)i;
	__asm__ volatile("mfence" ::: "memory");
}

static void exec_sfence(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)cpu;
	(void)i;
	__asm__ volatile("sfence" ::: "memory");
}

/*
 * CLFLUSH, CLFLUSHOPT, CLWB: there is no cache to write back (guest RAM
 * is coherent host memory), but the access is checked like a byte read:
 * segment limits and a page walk, without touching the byte, so flushing
 * an MMIO line has no device side effect.
 */
static void exec_clflush(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t la = insn_linear(cpu, i, 1, MMU_READ);
	struct mmu_walk w;
	if (!mmu_walk(cpu, la, MMU_READ, mmu_user(cpu), &w))
		cpu_raise_pf(cpu, la, w.error);
	__asm__ volatile("" ::: "memory");
}

void fpu_reset(struct x86_cpu *cpu)
{
	x87_init(cpu);
	memset(cpu->fpu.st, 0, sizeof(cpu->fpu.st));
	memset(cpu->xmm, 0, sizeof(cpu->xmm));
	cpu->mxcsr = MXCSR_DEFAULT;
}

void fxsave_register(exec_fn *t)
{
	t[OP_FXSAVE] = exec_fxsave;
	t[OP_FXRSTOR] = exec_fxrstor;
	t[OP_LDMXCSR] = exec_ldmxcsr;
	t[OP_STMXCSR] = exec_stmxcsr;
	t[OP_LFENCE] = exec_lfence;
	t[OP_MFENCE] = exec_mfence;
	t[OP_SFENCE] = exec_sfence;
	t[OP_CLFLUSH] = exec_clflush;
	t[OP_CLFLUSHOPT] = exec_clflush;
	t[OP_CLWB] = exec_clflush;
}
