/*
 * SSE/SSE2 (and SSE3) floating point: arithmetic, square roots and
 * reciprocals, compares, COMIS/UCOMIS, and every conversion between
 * single, double and integer formats. Data movement, logic, shuffles and
 * the integer instructions are in exec_sse_int.c (SSSE3/SSE4.1 in
 * exec_sse_ext.c), FXSAVE/LDMXCSR in exec_fxsave.c.
 *
 * Each operation is the host's own instruction, run on the guest's
 * operand values with the guest's MXCSR loaded (exceptions masked) for
 * exactly the span of one asm statement, so rounding control, FTZ/DAZ,
 * NaN propagation and the integer indefinite of out-of-range conversions
 * are the hardware's. The flags the host raised are then folded into the
 * guest MXCSR (fpu.h: sse_fp_flags), which raises #XM (#UD without
 * CR4.OSXMMEXCPT) before the destination is written if any is unmasked.
 * Scalar forms run on whole registers: the host instruction merges the
 * destination's upper lanes exactly as the guest's would.
 */
#include "accel/tcg/fpu.h"

typedef long long sse_v2di __attribute__((vector_size(16)));

struct sse_host {
	sse_v2di d, s;  /* destination (in/out) and source */
	uint64_t g;     /* general-register operand */
	uint32_t mx;    /* guest MXCSR, exceptions masked, flags clear */
	uint32_t hmx;   /* host MXCSR, restored afterwards */
	uint32_t omx;   /* MXCSR after the operation: the flags it raised */
};

#define SSE_HOST(h, insn)                                                                 \
	__asm__ volatile("stmxcsr %[hmx]\n\tldmxcsr %[mx]\n\t" insn "\n\t"                \
			 "stmxcsr %[omx]\n\tldmxcsr %[hmx]"                                \
			 : [d] "+x"((h)->d), [hmx] "=m"((h)->hmx), [omx] "=m"((h)->omx),  \
			   [g] "+r"((h)->g)                                                \
			 : [s] "x"((h)->s), [mx] "m"((h)->mx))

/* The usual two-operand form: op xmm_src, xmm_dst. */
#define SSE_VW(h, mn) SSE_HOST(h, mn " %[s], %[d]")

static void sse_host_init(const struct x86_cpu *cpu, struct sse_host *h)
{
	memset(h, 0, sizeof(*h));
	h->mx = (cpu->mxcsr & ~0x3fu) | 0x1f80u;
}

/* Loads V and W into the host operands (W aligned if 16 bytes of memory). */
static void sse_fetch(struct x86_cpu *cpu, const struct x86_insn *i, struct sse_host *h)
{
	union xmm_reg src;
	sse_load_w(cpu, i, &src, true);
	memcpy(&h->d, cpu->xmm[i->reg].b, 16);
	memcpy(&h->s, src.b, 16);
}

static void sse_writeback(struct x86_cpu *cpu, const struct x86_insn *i, struct sse_host *h)
{
	sse_fp_flags(cpu, h->omx);
	memcpy(cpu->xmm[i->reg].b, &h->d, 16);
}

/* ---- arithmetic and conversions between xmm formats ------------------------- */

static void sse_arith_host(struct sse_host *h, unsigned op)
{
	switch (op) {
	case OP_ADDPS: SSE_VW(h, "addps"); break;
	case OP_ADDPD: SSE_VW(h, "addpd"); break;
	case OP_ADDSS: SSE_VW(h, "addss"); break;
	case OP_ADDSD: SSE_VW(h, "addsd"); break;
	case OP_SUBPS: SSE_VW(h, "subps"); break;
	case OP_SUBPD: SSE_VW(h, "subpd"); break;
	case OP_SUBSS: SSE_VW(h, "subss"); break;
	case OP_SUBSD: SSE_VW(h, "subsd"); break;
	case OP_MULPS: SSE_VW(h, "mulps"); break;
	case OP_MULPD: SSE_VW(h, "mulpd"); break;
	case OP_MULSS: SSE_VW(h, "mulss"); break;
	case OP_MULSD: SSE_VW(h, "mulsd"); break;
	case OP_DIVPS: SSE_VW(h, "divps"); break;
	case OP_DIVPD: SSE_VW(h, "divpd"); break;
	case OP_DIVSS: SSE_VW(h, "divss"); break;
	case OP_DIVSD: SSE_VW(h, "divsd"); break;
	case OP_MINPS: SSE_VW(h, "minps"); break;
	case OP_MINPD: SSE_VW(h, "minpd"); break;
	case OP_MINSS: SSE_VW(h, "minss"); break;
	case OP_MINSD: SSE_VW(h, "minsd"); break;
	case OP_MAXPS: SSE_VW(h, "maxps"); break;
	case OP_MAXPD: SSE_VW(h, "maxpd"); break;
	case OP_MAXSS: SSE_VW(h, "maxss"); break;
	case OP_MAXSD: SSE_VW(h, "maxsd"); break;
	case OP_SQRTPS: SSE_VW(h, "sqrtps"); break;
	case OP_SQRTPD: SSE_VW(h, "sqrtpd"); break;
	case OP_SQRTSS: SSE_VW(h, "sqrtss"); break;
	case OP_SQRTSD: SSE_VW(h, "sqrtsd"); break;
	/* Approximations: the host's tables (Intel and AMD differ, both valid). */
	case OP_RSQRTPS: SSE_VW(h, "rsqrtps"); break;
	case OP_RSQRTSS: SSE_VW(h, "rsqrtss"); break;
	case OP_RCPPS: SSE_VW(h, "rcpps"); break;
	case OP_RCPSS: SSE_VW(h, "rcpss"); break;
	case OP_CVTPS2PD: SSE_VW(h, "cvtps2pd"); break;
	case OP_CVTPD2PS: SSE_VW(h, "cvtpd2ps"); break;
	case OP_CVTSS2SD: SSE_VW(h, "cvtss2sd"); break;
	case OP_CVTSD2SS: SSE_VW(h, "cvtsd2ss"); break;
	case OP_CVTDQ2PS: SSE_VW(h, "cvtdq2ps"); break;
	case OP_CVTPS2DQ: SSE_VW(h, "cvtps2dq"); break;
	case OP_CVTTPS2DQ: SSE_VW(h, "cvttps2dq"); break;
	case OP_CVTDQ2PD: SSE_VW(h, "cvtdq2pd"); break;
	case OP_CVTPD2DQ: SSE_VW(h, "cvtpd2dq"); break;
	case OP_CVTTPD2DQ: SSE_VW(h, "cvttpd2dq"); break;
	/* SSE3 (registered only when the host has SSE3, see below). */
	case OP_HADDPS: SSE_VW(h, "haddps"); break;
	case OP_HADDPD: SSE_VW(h, "haddpd"); break;
	case OP_HSUBPS: SSE_VW(h, "hsubps"); break;
	case OP_HSUBPD: SSE_VW(h, "hsubpd"); break;
	case OP_ADDSUBPS: SSE_VW(h, "addsubps"); break;
	case OP_ADDSUBPD: SSE_VW(h, "addsubpd"); break;
	}
}

static void sse_arith(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	struct sse_host h;
	sse_host_init(cpu, &h);
	sse_fetch(cpu, i, &h);
	sse_arith_host(&h, i->op);
	sse_writeback(cpu, i, &h);
}

/* ---- compares ---------------------------------------------------------------- */

/* CMPccPS/PD/SS/SD: predicates 0-7 (legacy SSE ignores imm bits 7:3). */
static void sse_cmp_host(struct sse_host *h, unsigned op, unsigned pred)
{
	switch (op * 8 + pred) {
	case OP_CMPPS * 8 + 0: SSE_VW(h, "cmpeqps"); break;
	case OP_CMPPS * 8 + 1: SSE_VW(h, "cmpltps"); break;
	case OP_CMPPS * 8 + 2: SSE_VW(h, "cmpleps"); break;
	case OP_CMPPS * 8 + 3: SSE_VW(h, "cmpunordps"); break;
	case OP_CMPPS * 8 + 4: SSE_VW(h, "cmpneqps"); break;
	case OP_CMPPS * 8 + 5: SSE_VW(h, "cmpnltps"); break;
	case OP_CMPPS * 8 + 6: SSE_VW(h, "cmpnleps"); break;
	case OP_CMPPS * 8 + 7: SSE_VW(h, "cmpordps"); break;
	case OP_CMPPD * 8 + 0: SSE_VW(h, "cmpeqpd"); break;
	case OP_CMPPD * 8 + 1: SSE_VW(h, "cmpltpd"); break;
	case OP_CMPPD * 8 + 2: SSE_VW(h, "cmplepd"); break;
	case OP_CMPPD * 8 + 3: SSE_VW(h, "cmpunordpd"); break;
	case OP_CMPPD * 8 + 4: SSE_VW(h, "cmpneqpd"); break;
	case OP_CMPPD * 8 + 5: SSE_VW(h, "cmpnltpd"); break;
	case OP_CMPPD * 8 + 6: SSE_VW(h, "cmpnlepd"); break;
	case OP_CMPPD * 8 + 7: SSE_VW(h, "cmpordpd"); break;
	case OP_CMPSS * 8 + 0: SSE_VW(h, "cmpeqss"); break;
	case OP_CMPSS * 8 + 1: SSE_VW(h, "cmpltss"); break;
	case OP_CMPSS * 8 + 2: SSE_VW(h, "cmpless"); break;
	case OP_CMPSS * 8 + 3: SSE_VW(h, "cmpunordss"); break;
	case OP_CMPSS * 8 + 4: SSE_VW(h, "cmpneqss"); break;
	case OP_CMPSS * 8 + 5: SSE_VW(h, "cmpnltss"); break;
	case OP_CMPSS * 8 + 6: SSE_VW(h, "cmpnless"); break;
	case OP_CMPSS * 8 + 7: SSE_VW(h, "cmpordss"); break;
	case OP_CMPSD * 8 + 0: SSE_VW(h, "cmpeqsd"); break;
	case OP_CMPSD * 8 + 1: SSE_VW(h, "cmpltsd"); break;
	case OP_CMPSD * 8 + 2: SSE_VW(h, "cmplesd"); break;
	case OP_CMPSD * 8 + 3: SSE_VW(h, "cmpunordsd"); break;
	case OP_CMPSD * 8 + 4: SSE_VW(h, "cmpneqsd"); break;
	case OP_CMPSD * 8 + 5: SSE_VW(h, "cmpnltsd"); break;
	case OP_CMPSD * 8 + 6: SSE_VW(h, "cmpnlesd"); break;
	case OP_CMPSD * 8 + 7: SSE_VW(h, "cmpordsd"); break;
	}
}

static void sse_cmp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	struct sse_host h;
	sse_host_init(cpu, &h);
	sse_fetch(cpu, i, &h);
	sse_cmp_host(&h, i->op, (unsigned)i->imm & 7);
	sse_writeback(cpu, i, &h);
}

/* COMISS/UCOMISS/COMISD/UCOMISD: ZF/PF/CF, OF/SF/AF cleared. */
static void sse_comis(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	struct sse_host h;
	sse_host_init(cpu, &h);
	sse_fetch(cpu, i, &h);
	bool zf, pf, cf;
#define SSE_COMIS(mn)                                                                     \
	__asm__ volatile("stmxcsr %[hmx]\n\tldmxcsr %[mx]\n\t" mn " %[s], %[d]\n\t"        \
			 "stmxcsr %[omx]\n\tldmxcsr %[hmx]"                                \
			 : "=@ccz"(zf), "=@ccp"(pf), "=@ccc"(cf), [hmx] "=m"(h.hmx),      \
			   [omx] "=m"(h.omx)                                               \
			 : [d] "x"(h.d), [s] "x"(h.s), [mx] "m"(h.mx))
	switch (i->op) {
	case OP_COMISS: SSE_COMIS("comiss"); break;
	case OP_UCOMISS: SSE_COMIS("ucomiss"); break;
	case OP_COMISD: SSE_COMIS("comisd"); break;
	default: SSE_COMIS("ucomisd"); break;
	}
#undef SSE_COMIS
	sse_fp_flags(cpu, h.omx);
	cpu->cc.op = CC_EAGER;
	cpu->cc.flags = (zf ? F_ZF : 0) | (pf ? F_PF : 0) | (cf ? F_CF : 0);
}

/* ---- conversions with general registers -------------------------------------- */

/* CVTSI2SS/SD xmm, r/m32 or r/m64 (REX.W). */
static void sse_cvtsi2f(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	struct sse_host h;
	sse_host_init(cpu, &h);
	h.g = rm_read(cpu, i, i->opsize);
	memcpy(&h.d, cpu->xmm[i->reg].b, 16);
	bool q = i->opsize == 8;
	if (i->op == OP_CVTSI2SS) {
		if (q)
			SSE_HOST(&h, "cvtsi2ssq %q[g], %[d]");
		else
			SSE_HOST(&h, "cvtsi2ssl %k[g], %[d]");
	} else {
		if (q)
			SSE_HOST(&h, "cvtsi2sdq %q[g], %[d]");
		else
			SSE_HOST(&h, "cvtsi2sdl %k[g], %[d]");
	}
	sse_writeback(cpu, i, &h);
}

/* CVT(T)SS2SI/CVT(T)SD2SI r32/r64, xmm/m: out of range is 80..0h (IE). */
static void sse_cvtf2si(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	struct sse_host h;
	sse_host_init(cpu, &h);
	union xmm_reg src;
	sse_load_w(cpu, i, &src, true);
	memcpy(&h.s, src.b, 16);
	bool q = i->opsize == 8;
	switch (i->op) {
	case OP_CVTSS2SI:
		if (q)
			SSE_HOST(&h, "cvtss2si %[s], %q[g]");
		else
			SSE_HOST(&h, "cvtss2si %[s], %k[g]");
		break;
	case OP_CVTTSS2SI:
		if (q)
			SSE_HOST(&h, "cvttss2si %[s], %q[g]");
		else
			SSE_HOST(&h, "cvttss2si %[s], %k[g]");
		break;
	case OP_CVTSD2SI:
		if (q)
			SSE_HOST(&h, "cvtsd2si %[s], %q[g]");
		else
			SSE_HOST(&h, "cvtsd2si %[s], %k[g]");
		break;
	default:
		if (q)
			SSE_HOST(&h, "cvttsd2si %[s], %q[g]");
		else
			SSE_HOST(&h, "cvttsd2si %[s], %k[g]");
		break;
	}
	sse_fp_flags(cpu, h.omx);
	reg_write_sized(cpu, i->reg, q ? 8 : 4, h.g);
}

/* Every x86-64 host since 2005 has SSE3; check anyway, it costs nothing. */
bool fpu_host_sse3(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse3");
}

void exec_sse_register(exec_fn *t)
{
	static const uint16_t arith[] = {
		OP_ADDPS, OP_ADDPD, OP_ADDSS, OP_ADDSD, OP_SUBPS, OP_SUBPD, OP_SUBSS, OP_SUBSD,
		OP_MULPS, OP_MULPD, OP_MULSS, OP_MULSD, OP_DIVPS, OP_DIVPD, OP_DIVSS, OP_DIVSD,
		OP_MINPS, OP_MINPD, OP_MINSS, OP_MINSD, OP_MAXPS, OP_MAXPD, OP_MAXSS, OP_MAXSD,
		OP_SQRTPS, OP_SQRTPD, OP_SQRTSS, OP_SQRTSD, OP_RSQRTPS, OP_RSQRTSS, OP_RCPPS,
		OP_RCPSS, OP_CVTPS2PD, OP_CVTPD2PS, OP_CVTSS2SD, OP_CVTSD2SS, OP_CVTDQ2PS,
		OP_CVTPS2DQ, OP_CVTTPS2DQ, OP_CVTDQ2PD, OP_CVTPD2DQ, OP_CVTTPD2DQ,
	};
	static const uint16_t sse3[] = {
		OP_HADDPS, OP_HADDPD, OP_HSUBPS, OP_HSUBPD, OP_ADDSUBPS, OP_ADDSUBPD,
	};
	for (size_t k = 0; k < sizeof(arith) / sizeof(arith[0]); k++)
		t[arith[k]] = sse_arith;
	if (fpu_host_sse3())
		for (size_t k = 0; k < sizeof(sse3) / sizeof(sse3[0]); k++)
			t[sse3[k]] = sse_arith;
	t[OP_CMPPS] = sse_cmp;
	t[OP_CMPPD] = sse_cmp;
	t[OP_CMPSS] = sse_cmp;
	t[OP_CMPSD] = sse_cmp;
	t[OP_COMISS] = sse_comis;
	t[OP_UCOMISS] = sse_comis;
	t[OP_COMISD] = sse_comis;
	t[OP_UCOMISD] = sse_comis;
	t[OP_CVTSI2SS] = sse_cvtsi2f;
	t[OP_CVTSI2SD] = sse_cvtsi2f;
	t[OP_CVTSS2SI] = sse_cvtf2si;
	t[OP_CVTTSS2SI] = sse_cvtf2si;
	t[OP_CVTSD2SI] = sse_cvtf2si;
	t[OP_CVTTSD2SI] = sse_cvtf2si;
	sse_int_register(t);
	sse_ext_register(t);
	fxsave_register(t);
}
