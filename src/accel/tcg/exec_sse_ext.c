/*
 * SSSE3 and SSE4.1, XMM forms. The integer and data-movement instructions
 * are plain C over union xmm_reg (the host build targets baseline x86-64,
 * so these cannot assume the host has them). The SSE4.1 floating-point
 * ones follow exec_sse.c's rule of running the host's own instruction:
 * ROUNDxx runs as "round by MXCSR.RC" with the requested rounding mode
 * placed in the MXCSR the host sees; DPPS/DPPD are built from host
 * MULPS/ADDSS steps in the order the SDM's pseudo-code gives, so results
 * and flags match. Both need SSE4.1 on the host and are registered only
 * when it has it (fpu_host_sse41()).
 *
 * The MMX-register forms of SSSE3 (no 66 prefix) are #UD like all MMX.
 */
#include "accel/tcg/fpu.h"

static int16_t sat16(int v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static uint16_t satu16(int64_t v)
{
	return (uint16_t)(v > 65535 ? 65535 : v < 0 ? 0 : v);
}

/* ---- SSSE3 --------------------------------------------------------------------- */

static void ssse3_op(unsigned op, unsigned imm, union xmm_reg *d, const union xmm_reg *s)
{
	union xmm_reg a = *d, r;
	memset(&r, 0, sizeof(r));
	switch (op) {
	case OP_PSHUFB:
		for (unsigned k = 0; k < 16; k++)
			r.b[k] = (s->b[k] & 0x80) ? 0 : a.b[s->b[k] & 15];
		break;
	case OP_PHADDW: case OP_PHSUBW: case OP_PHADDSW: case OP_PHSUBSW:
		for (unsigned k = 0; k < 8; k++) {
			const union xmm_reg *src = k < 4 ? &a : s;
			int x = (int16_t)src->w[2 * (k & 3)], y = (int16_t)src->w[2 * (k & 3) + 1];
			int v = (op == OP_PHADDW || op == OP_PHADDSW) ? x + y : x - y;
			r.w[k] = (op == OP_PHADDSW || op == OP_PHSUBSW) ? (uint16_t)sat16(v) : (uint16_t)v;
		}
		break;
	case OP_PHADDD: case OP_PHSUBD:
		for (unsigned k = 0; k < 4; k++) {
			const union xmm_reg *src = k < 2 ? &a : s;
			uint32_t x = src->d[2 * (k & 1)], y = src->d[2 * (k & 1) + 1];
			r.d[k] = op == OP_PHADDD ? x + y : x - y;
		}
		break;
	case OP_PMADDUBSW:
		for (unsigned k = 0; k < 8; k++)
			r.w[k] = (uint16_t)sat16(a.b[2 * k] * (int8_t)s->b[2 * k] +
						 a.b[2 * k + 1] * (int8_t)s->b[2 * k + 1]);
		break;
	case OP_PSIGNB:
		for (unsigned k = 0; k < 16; k++)
			r.b[k] = (int8_t)s->b[k] < 0 ? (uint8_t)-a.b[k] : s->b[k] ? a.b[k] : 0;
		break;
	case OP_PSIGNW:
		for (unsigned k = 0; k < 8; k++)
			r.w[k] = (int16_t)s->w[k] < 0 ? (uint16_t)-a.w[k] : s->w[k] ? a.w[k] : 0;
		break;
	case OP_PSIGND:
		for (unsigned k = 0; k < 4; k++)
			r.d[k] = (int32_t)s->d[k] < 0 ? -a.d[k] : s->d[k] ? a.d[k] : 0;
		break;
	case OP_PMULHRSW:
		for (unsigned k = 0; k < 8; k++) {
			int32_t p = (int16_t)a.w[k] * (int16_t)s->w[k];
			r.w[k] = (uint16_t)(((p >> 14) + 1) >> 1);
		}
		break;
	case OP_PABSB:
		for (unsigned k = 0; k < 16; k++)
			r.b[k] = (int8_t)s->b[k] < 0 ? (uint8_t)-s->b[k] : s->b[k];
		break;
	case OP_PABSW:
		for (unsigned k = 0; k < 8; k++)
			r.w[k] = (int16_t)s->w[k] < 0 ? (uint16_t)-s->w[k] : s->w[k];
		break;
	case OP_PABSD:
		for (unsigned k = 0; k < 4; k++)
			r.d[k] = (int32_t)s->d[k] < 0 ? -s->d[k] : s->d[k];
		break;
	default: { /* OP_PALIGNR: (dest:src) >> imm bytes, 32 bytes wide */
		uint8_t cat[32];
		memcpy(cat, s->b, 16);
		memcpy(cat + 16, a.b, 16);
		for (unsigned k = 0; k < 16; k++)
			r.b[k] = k + imm < 32 ? cat[k + imm] : 0;
		break;
	}
	}
	*d = r;
}

/* ---- SSE4.1 integer and data movement -------------------------------------------- */

static void sse41_op(unsigned op, unsigned imm, union xmm_reg *d, const union xmm_reg *s,
		     const union xmm_reg *x0)
{
	union xmm_reg a = *d, r = a;
	switch (op) {
	case OP_PBLENDVB:
		for (unsigned k = 0; k < 16; k++)
			r.b[k] = (x0->b[k] & 0x80) ? s->b[k] : a.b[k];
		break;
	case OP_BLENDVPS:
		for (unsigned k = 0; k < 4; k++)
			r.d[k] = (x0->d[k] >> 31) ? s->d[k] : a.d[k];
		break;
	case OP_BLENDVPD:
		for (unsigned k = 0; k < 2; k++)
			r.q[k] = (x0->q[k] >> 63) ? s->q[k] : a.q[k];
		break;
	case OP_BLENDPS:
		for (unsigned k = 0; k < 4; k++)
			r.d[k] = (imm >> k) & 1 ? s->d[k] : a.d[k];
		break;
	case OP_BLENDPD:
		for (unsigned k = 0; k < 2; k++)
			r.q[k] = (imm >> k) & 1 ? s->q[k] : a.q[k];
		break;
	case OP_PBLENDW:
		for (unsigned k = 0; k < 8; k++)
			r.w[k] = (imm >> k) & 1 ? s->w[k] : a.w[k];
		break;
	case OP_PMOVSXBW: for (unsigned k = 0; k < 8; k++) r.w[k] = (uint16_t)(int8_t)s->b[k]; break;
	case OP_PMOVSXBD: for (unsigned k = 0; k < 4; k++) r.d[k] = (uint32_t)(int8_t)s->b[k]; break;
	case OP_PMOVSXBQ: for (unsigned k = 0; k < 2; k++) r.q[k] = (uint64_t)(int8_t)s->b[k]; break;
	case OP_PMOVSXWD: for (unsigned k = 0; k < 4; k++) r.d[k] = (uint32_t)(int16_t)s->w[k]; break;
	case OP_PMOVSXWQ: for (unsigned k = 0; k < 2; k++) r.q[k] = (uint64_t)(int16_t)s->w[k]; break;
	case OP_PMOVSXDQ: for (unsigned k = 0; k < 2; k++) r.q[k] = (uint64_t)(int32_t)s->d[k]; break;
	case OP_PMOVZXBW: for (unsigned k = 0; k < 8; k++) r.w[k] = s->b[k]; break;
	case OP_PMOVZXBD: for (unsigned k = 0; k < 4; k++) r.d[k] = s->b[k]; break;
	case OP_PMOVZXBQ: for (unsigned k = 0; k < 2; k++) r.q[k] = s->b[k]; break;
	case OP_PMOVZXWD: for (unsigned k = 0; k < 4; k++) r.d[k] = s->w[k]; break;
	case OP_PMOVZXWQ: for (unsigned k = 0; k < 2; k++) r.q[k] = s->w[k]; break;
	case OP_PMOVZXDQ: for (unsigned k = 0; k < 2; k++) r.q[k] = s->d[k]; break;
	case OP_PMULDQ:
		for (unsigned k = 0; k < 2; k++)
			r.q[k] = (uint64_t)((int64_t)(int32_t)a.d[2 * k] * (int32_t)s->d[2 * k]);
		break;
	case OP_PMULLD:
		for (unsigned k = 0; k < 4; k++)
			r.d[k] = a.d[k] * s->d[k];
		break;
	case OP_PCMPEQQ:
		for (unsigned k = 0; k < 2; k++)
			r.q[k] = a.q[k] == s->q[k] ? ~0ULL : 0;
		break;
	case OP_PACKUSDW:
		for (unsigned k = 0; k < 4; k++) {
			r.w[k] = satu16((int32_t)a.d[k]);
			r.w[4 + k] = satu16((int32_t)s->d[k]);
		}
		break;
	case OP_PMINSB: case OP_PMAXSB:
		for (unsigned k = 0; k < 16; k++) {
			bool lt = (int8_t)s->b[k] < (int8_t)a.b[k];
			r.b[k] = (lt == (op == OP_PMINSB)) ? s->b[k] : a.b[k];
		}
		break;
	case OP_PMINUW: case OP_PMAXUW:
		for (unsigned k = 0; k < 8; k++) {
			bool lt = s->w[k] < a.w[k];
			r.w[k] = (lt == (op == OP_PMINUW)) ? s->w[k] : a.w[k];
		}
		break;
	case OP_PMINSD: case OP_PMAXSD:
		for (unsigned k = 0; k < 4; k++) {
			bool lt = (int32_t)s->d[k] < (int32_t)a.d[k];
			r.d[k] = (lt == (op == OP_PMINSD)) ? s->d[k] : a.d[k];
		}
		break;
	case OP_PMINUD: case OP_PMAXUD:
		for (unsigned k = 0; k < 4; k++) {
			bool lt = s->d[k] < a.d[k];
			r.d[k] = (lt == (op == OP_PMINUD)) ? s->d[k] : a.d[k];
		}
		break;
	case OP_PHMINPOSUW: {
		unsigned best = 0;
		for (unsigned k = 1; k < 8; k++)
			if (s->w[k] < s->w[best])
				best = k;
		memset(&r, 0, sizeof(r));
		r.w[0] = s->w[best];
		r.w[1] = (uint16_t)best;
		break;
	}
	case OP_MPSADBW: {
		unsigned ao = ((imm >> 2) & 1) * 4, bo = (imm & 3) * 4;
		for (unsigned k = 0; k < 8; k++) {
			unsigned sum = 0;
			for (unsigned j = 0; j < 4; j++) {
				int x = a.b[ao + k + j] - s->b[bo + j];
				sum += (unsigned)(x < 0 ? -x : x);
			}
			r.w[k] = (uint16_t)sum;
		}
		break;
	}
	default: /* OP_INSERTPS: s holds the source element's register or m32 */
	{
		uint32_t v = s->d[(imm >> 6) & 3];
		r.d[(imm >> 4) & 3] = v;
		for (unsigned k = 0; k < 4; k++)
			if ((imm >> k) & 1)
				r.d[k] = 0;
		break;
	}
	}
	*d = r;
}

/* dst = f(dst, src[, imm, xmm0]) for every SSSE3 and SSE4.1 V,W form. */
static void sse_ext2(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg s;
	sse_load_w(cpu, i, &s, true);
	/* INSERTPS from memory takes the m32 as element 0 whatever imm[7:6]. */
	unsigned imm = (unsigned)(i->imm & 0xff);
	if (i->op == OP_INSERTPS && x86_insn_is_mem(i))
		imm &= 0x3f;
	if (i->op >= OP_PSHUFB && i->op <= OP_PALIGNR)
		ssse3_op(i->op, imm, &cpu->xmm[i->reg], &s);
	else
		sse41_op(i->op, imm, &cpu->xmm[i->reg], &s, &cpu->xmm[0]);
}

/* PTEST: ZF = (dst & src) == 0, CF = (~dst & src) == 0; others cleared. */
static void sse_ptest(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg s;
	sse_load_w(cpu, i, &s, true);
	const union xmm_reg *d = &cpu->xmm[i->reg];
	uint64_t and_ = (d->q[0] & s.q[0]) | (d->q[1] & s.q[1]);
	uint64_t andn = (~d->q[0] & s.q[0]) | (~d->q[1] & s.q[1]);
	cpu->cc.op = CC_EAGER;
	cpu->cc.flags = (and_ ? 0 : F_ZF) | (andn ? 0 : F_CF);
}

/* MOVNTDQA: an aligned 16-byte load (the streaming hint means nothing here). */
static void sse_movntdqa(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg s;
	sse_load_w(cpu, i, &s, true);
	cpu->xmm[i->reg] = s;
}

/* PEXTRB/PEXTRD/PEXTRQ/EXTRACTPS: to a GPR (zero-extended) or memory. */
static void sse_extract(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	const union xmm_reg *x = &cpu->xmm[i->reg];
	unsigned n;
	uint64_t v;
	switch (i->op) {
	case OP_PEXTRB: n = 1; v = x->b[i->imm & 15]; break;
	case OP_EXTRACTPS: n = 4; v = x->d[i->imm & 3]; break;
	default:
		n = i->opsize == 8 ? 8 : 4;
		v = n == 8 ? x->q[i->imm & 1] : x->d[i->imm & 3];
		break;
	}
	if (x86_insn_is_mem(i))
		mem_store(cpu, insn_linear(cpu, i, n, MMU_WRITE), n, v);
	else
		reg_write_sized(cpu, i->rm, n == 8 ? 8 : 4, v);
}

/* PINSRB/PINSRD/PINSRQ from a GPR or memory. */
static void sse_insert(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg *x = &cpu->xmm[i->reg];
	if (i->op == OP_PINSRB) {
		/* A register source is the low byte of r32: never AH..BH. */
		uint8_t v = x86_insn_is_mem(i) ? (uint8_t)rm_read(cpu, i, 1) : (uint8_t)cpu->gpr[i->rm];
		x->b[i->imm & 15] = v;
	} else if (i->opsize == 8) {
		x->q[i->imm & 1] = rm_read(cpu, i, 8);
	} else {
		x->d[i->imm & 3] = (uint32_t)rm_read(cpu, i, 4);
	}
}

/* ---- SSE4.1 floating point (host SSE4.1) ------------------------------------------ */

typedef long long sse_v2di __attribute__((vector_size(16)));

struct sse41_host {
	sse_v2di d, s;
	uint32_t mx, hmx, omx;
};

#define SSE41_HOST(h, insn)                                                               \
	__asm__ volatile("stmxcsr %[hmx]\n\tldmxcsr %[mx]\n\t" insn "\n\t"                \
			 "stmxcsr %[omx]\n\tldmxcsr %[hmx]"                                \
			 : [d] "+x"((h)->d), [hmx] "=m"((h)->hmx), [omx] "=m"((h)->omx)   \
			 : [s] "x"((h)->s), [mx] "m"((h)->mx))

/*
 * ROUNDPS/PD/SS/SD: imm[2] picks MXCSR.RC, else imm[1:0] is the mode;
 * imm[3] suppresses the precision exception. The host always runs the
 * "MXCSR.RC" form with the mode to use written into its MXCSR.
 */
static void sse_round(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg s;
	sse_load_w(cpu, i, &s, true);
	unsigned imm = (unsigned)i->imm;
	struct sse41_host h;
	memset(&h, 0, sizeof(h));
	h.mx = (cpu->mxcsr & ~0x3fu) | 0x1f80u;
	if (!(imm & 4))
		h.mx = (h.mx & ~0x6000u) | ((imm & 3) << 13);
	memcpy(&h.d, cpu->xmm[i->reg].b, 16);
	memcpy(&h.s, s.b, 16);
	switch (i->op) {
	case OP_ROUNDPS: SSE41_HOST(&h, "roundps $4, %[s], %[d]"); break;
	case OP_ROUNDPD: SSE41_HOST(&h, "roundpd $4, %[s], %[d]"); break;
	case OP_ROUNDSS: SSE41_HOST(&h, "roundss $4, %[s], %[d]"); break;
	default: SSE41_HOST(&h, "roundsd $4, %[s], %[d]"); break;
	}
	if (imm & 8)
		h.omx &= ~0x20u;
	sse_fp_flags(cpu, h.omx);
	memcpy(cpu->xmm[i->reg].b, &h.d, 16);
}

/*
 * DPPS/DPPD: products of the lanes imm[7:4] selects (the others are +0.0,
 * never computed), summed pairwise as the SDM's pseudo-code does, then
 * written to the lanes imm[3:0] selects. Each step is one host
 * instruction on the guest's MXCSR, so rounding and flags accumulate
 * exactly as in the single instruction.
 */
static void sse_dp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg s, a = cpu->xmm[i->reg], p, r;
	sse_load_w(cpu, i, &s, true);
	unsigned imm = (unsigned)i->imm;
	bool ps = i->op == OP_DPPS;
	unsigned lanes = ps ? 4 : 2;
	struct sse41_host h;
	memset(&h, 0, sizeof(h));
	h.mx = (cpu->mxcsr & ~0x3fu) | 0x1f80u;
	uint32_t flags = 0;
	union xmm_reg ma, mb;
	memset(&ma, 0, sizeof(ma));
	memset(&mb, 0, sizeof(mb));
	for (unsigned k = 0; k < lanes; k++) {
		if (!((imm >> (4 + k)) & 1))
			continue;
		if (ps) {
			ma.d[k] = a.d[k];
			mb.d[k] = s.d[k];
		} else {
			ma.q[k] = a.q[k];
			mb.q[k] = s.q[k];
		}
	}
	memcpy(&h.d, ma.b, 16);
	memcpy(&h.s, mb.b, 16);
	if (ps)
		SSE41_HOST(&h, "mulps %[s], %[d]");
	else
		SSE41_HOST(&h, "mulpd %[s], %[d]");
	flags |= h.omx;
	memcpy(p.b, &h.d, 16);
	/* Unselected products are +0.0 exactly (0 * 0 never sets a flag, but a
	 * -0.0 operand pair would give +0.0 anyway). */
	for (unsigned k = 0; k < lanes; k++)
		if (!((imm >> (4 + k)) & 1)) {
			if (ps)
				p.d[k] = 0;
			else
				p.q[k] = 0;
		}
	uint64_t sum;
	union xmm_reg x, y;
	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	if (ps) {
		uint32_t t[2];
		for (unsigned k = 0; k < 2; k++) {
			x.d[0] = p.d[2 * k];
			y.d[0] = p.d[2 * k + 1];
			memcpy(&h.d, x.b, 16);
			memcpy(&h.s, y.b, 16);
			SSE41_HOST(&h, "addss %[s], %[d]");
			flags |= h.omx;
			memcpy(x.b, &h.d, 16);
			t[k] = x.d[0];
		}
		x.d[0] = t[0];
		y.d[0] = t[1];
		memcpy(&h.d, x.b, 16);
		memcpy(&h.s, y.b, 16);
		SSE41_HOST(&h, "addss %[s], %[d]");
	} else {
		x.q[0] = p.q[0];
		y.q[0] = p.q[1];
		memcpy(&h.d, x.b, 16);
		memcpy(&h.s, y.b, 16);
		SSE41_HOST(&h, "addsd %[s], %[d]");
	}
	flags |= h.omx;
	memcpy(x.b, &h.d, 16);
	sum = ps ? x.d[0] : x.q[0];
	memset(&r, 0, sizeof(r));
	for (unsigned k = 0; k < lanes; k++)
		if ((imm >> k) & 1) {
			if (ps)
				r.d[k] = (uint32_t)sum;
			else
				r.q[k] = sum;
		}
	sse_fp_flags(cpu, flags);
	cpu->xmm[i->reg] = r;
}

bool fpu_host_sse41(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.1");
}

void sse_ext_register(exec_fn *t)
{
	for (unsigned op = OP_PSHUFB; op <= OP_PALIGNR; op++)
		t[op] = sse_ext2;
	static const uint16_t sse41[] = {
		OP_PBLENDVB, OP_BLENDVPS, OP_BLENDVPD, OP_BLENDPS, OP_BLENDPD, OP_PBLENDW,
		OP_PMOVSXBW, OP_PMOVSXBD, OP_PMOVSXBQ, OP_PMOVSXWD, OP_PMOVSXWQ, OP_PMOVSXDQ,
		OP_PMOVZXBW, OP_PMOVZXBD, OP_PMOVZXBQ, OP_PMOVZXWD, OP_PMOVZXWQ, OP_PMOVZXDQ,
		OP_PMULDQ, OP_PMULLD, OP_PCMPEQQ, OP_PACKUSDW, OP_PMINSB, OP_PMAXSB, OP_PMINUW,
		OP_PMAXUW, OP_PMINSD, OP_PMAXSD, OP_PMINUD, OP_PMAXUD, OP_PHMINPOSUW,
		OP_MPSADBW, OP_INSERTPS,
	};
	for (size_t k = 0; k < sizeof(sse41) / sizeof(sse41[0]); k++)
		t[sse41[k]] = sse_ext2;
	t[OP_PTEST] = sse_ptest;
	t[OP_MOVNTDQA] = sse_movntdqa;
	t[OP_PEXTRB] = sse_extract;
	t[OP_PEXTRD] = sse_extract;
	t[OP_EXTRACTPS] = sse_extract;
	t[OP_PINSRB] = sse_insert;
	t[OP_PINSRD] = sse_insert;
	if (fpu_host_sse41()) {
		t[OP_ROUNDPS] = sse_round;
		t[OP_ROUNDPD] = sse_round;
		t[OP_ROUNDSS] = sse_round;
		t[OP_ROUNDSD] = sse_round;
		t[OP_DPPS] = sse_dp;
		t[OP_DPPD] = sse_dp;
	}
}
