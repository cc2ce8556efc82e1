/*
 * SSE/SSE2 data movement, logic, shuffles and packed-integer arithmetic:
 * everything in the SSE2 baseline that raises no floating-point
 * exception. The lane arithmetic uses the host's SSE2 through
 * <emmintrin.h> (SSE2 is part of x86-64, so the host always has it);
 * moves and shuffles are plain C on union xmm_reg.
 *
 * Alignment: 16-byte memory operands must be aligned (#GP(0)) except for
 * MOVUPS/MOVUPD/MOVDQU/LDDQU; 8- and 4-byte ones never need to be.
 * MMX-register forms of the shared operation ids are #UD (sse_gate).
 */
#include <emmintrin.h>

#include "accel/tcg/fpu.h"

static __m128i xmm_get(const union xmm_reg *r)
{
	return _mm_loadu_si128((const __m128i *)(const void *)r->b);
}

static void xmm_set(union xmm_reg *r, __m128i v)
{
	_mm_storeu_si128((__m128i *)(void *)r->b, v);
}

/* ---- moves ----------------------------------------------------------------- */

static bool sse_unaligned_ok(unsigned op)
{
	return op == OP_MOVUPS || op == OP_MOVUPD || op == OP_MOVDQU || op == OP_LDDQU;
}

/* Full 128-bit moves: MOVAPS/APD/UPS/UPD/DQA/DQU, LDDQU, MOVNT*, MOVNTDQA. */
static void sse_mov128(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	bool align = !sse_unaligned_ok(i->op);
	if (i->opnd[0] == X86_O_V) {
		union xmm_reg v;
		sse_load_w(cpu, i, &v, align);
		cpu->xmm[i->reg] = v;
	} else if (x86_insn_is_mem(i)) {
		/* Non-temporal hints mean nothing here: a plain store is exact. */
		union xmm_reg v = cpu->xmm[i->reg];
		sse_store_m(cpu, i, &v, 16, align);
	} else {
		cpu->xmm[i->rm] = cpu->xmm[i->reg];
	}
}

/*
 * MOVSS/MOVSD: a load from memory zeroes the rest of the register, a
 * register-to-register move replaces only the low element.
 */
static void sse_movs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	unsigned n = i->op == OP_MOVSS ? 4 : 8;
	if (x86_insn_is_mem(i)) {
		if (i->opnd[0] == X86_O_V) {
			union xmm_reg v;
			sse_load_w(cpu, i, &v, false);
			cpu->xmm[i->reg] = v;
		} else {
			union xmm_reg v = cpu->xmm[i->reg];
			sse_store_m(cpu, i, &v, n, false);
		}
		return;
	}
	unsigned dst = i->opnd[0] == X86_O_V ? i->reg : i->rm;
	unsigned src = i->opnd[0] == X86_O_V ? i->rm : i->reg;
	memcpy(cpu->xmm[dst].b, cpu->xmm[src].b, n);
}

/* MOVLPS/LPD/HPS/HPD (memory only), MOVHLPS, MOVLHPS: one 64-bit half. */
static void sse_movhalf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	unsigned half = (i->op == OP_MOVHPS || i->op == OP_MOVHPD || i->op == OP_MOVLHPS);
	if (i->op == OP_MOVHLPS) {
		cpu->xmm[i->reg].q[0] = cpu->xmm[i->rm].q[1];
		return;
	}
	if (i->op == OP_MOVLHPS) {
		cpu->xmm[i->reg].q[1] = cpu->xmm[i->rm].q[0];
		return;
	}
	uint64_t la = insn_linear(cpu, i, 8, i->opnd[0] == X86_O_V ? MMU_READ : MMU_WRITE);
	if (i->opnd[0] == X86_O_V)
		cpu->xmm[i->reg].q[half] = mmu_ld64(cpu, la);
	else
		mmu_st64(cpu, la, cpu->xmm[i->reg].q[half]);
}

/* SSE3 MOVSLDUP/MOVSHDUP/MOVDDUP: pure data, no FP exceptions. */
static void sse_movdup(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg s, d;
	sse_load_w(cpu, i, &s, true);
	switch (i->op) {
	case OP_MOVSLDUP:
		d.d[0] = d.d[1] = s.d[0];
		d.d[2] = d.d[3] = s.d[2];
		break;
	case OP_MOVSHDUP:
		d.d[0] = d.d[1] = s.d[1];
		d.d[2] = d.d[3] = s.d[3];
		break;
	default:
		d.q[0] = d.q[1] = s.q[0];
		break;
	}
	cpu->xmm[i->reg] = d;
}

/*
 * MOVD/MOVQ between an XMM register and r/m32 or r/m64 (REX.W, operand
 * size 8): loads zero the rest of the XMM register; stores to a 32-bit
 * GPR zero-extend it like any 32-bit write.
 */
static void sse_movd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	unsigned n = i->opsize == 8 ? 8 : 4;
	if (i->opnd[0] == X86_O_V) {
		uint64_t v = rm_read(cpu, i, n);
		union xmm_reg x = { .q = { v, 0 } };
		cpu->xmm[i->reg] = x;
	} else if (x86_insn_is_mem(i)) {
		mem_store(cpu, insn_linear(cpu, i, n, MMU_WRITE), n, cpu->xmm[i->reg].q[0]);
	} else {
		reg_write_sized(cpu, i->rm, n, cpu->xmm[i->reg].q[0] & exec_mask(n));
	}
}

/* MOVQ xmm, xmm/m64 (F3 0F 7E) and MOVQ xmm/m64, xmm (66 0F D6): zero the top. */
static void sse_movq(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	if (i->opnd[0] == X86_O_V) {
		union xmm_reg v;
		sse_load_w(cpu, i, &v, false);
		v.q[1] = 0;
		cpu->xmm[i->reg] = v;
	} else if (x86_insn_is_mem(i)) {
		mmu_st64(cpu, insn_linear(cpu, i, 8, MMU_WRITE), cpu->xmm[i->reg].q[0]);
	} else {
		union xmm_reg v = { .q = { cpu->xmm[i->reg].q[0], 0 } };
		cpu->xmm[i->rm] = v;
	}
}

/* MOVNTI m32/m64, r: a plain store (registered only if exec_int.c has not). */
static void sse_movnti(struct x86_cpu *cpu, const struct x86_insn *i)
{
	mem_store(cpu, insn_linear(cpu, i, i->opsize, MMU_WRITE), i->opsize,
		  reg_read(cpu, i, i->reg, i->opsize));
}

/* MOVMSKPS/MOVMSKPD/PMOVMSKB: sign bits into a GPR, zero-extended. */
static void sse_movmsk(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	const union xmm_reg *s = &cpu->xmm[i->rm];
	uint32_t m = 0;
	switch (i->op) {
	case OP_MOVMSKPS:
		for (unsigned k = 0; k < 4; k++)
			m |= (s->d[k] >> 31) << k;
		break;
	case OP_MOVMSKPD:
		m = (uint32_t)((s->q[0] >> 63) | (s->q[1] >> 63) << 1);
		break;
	default:
		m = (uint32_t)_mm_movemask_epi8(xmm_get(s));
		break;
	}
	reg_write_sized(cpu, i->reg, 8, m);
}

/*
 * MASKMOVDQU: stores the bytes of xmm(reg) whose mask byte in xmm(rm) has
 * its top bit set, to DS:rDI (segment overridable). Every page the
 * selected bytes touch is checked before the first byte is stored.
 */
static void sse_maskmov(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	unsigned mask = (unsigned)_mm_movemask_epi8(xmm_get(&cpu->xmm[i->rm]));
	if (!mask)
		return;
	unsigned first = (unsigned)__builtin_ctz(mask), last = 31 - (unsigned)__builtin_clz(mask);
	uint64_t off = cpu->gpr[R_RDI] & exec_mask(i->addrsize);
	uint64_t la = seg_linear(cpu, i->seg, off, 16, MMU_WRITE);
	mmu_probe_write(cpu, la + first, last - first + 1);
	for (unsigned k = first; k <= last; k++)
		if (mask & (1u << k))
			mmu_st8(cpu, la + k, cpu->xmm[i->reg].b[k]);
}

/* ---- lane-wise logic and integer arithmetic ----------------------------------- */

static __m128i sse_int_op(unsigned op, __m128i a, __m128i b)
{
	switch (op) {
	case OP_ANDPS: case OP_ANDPD: case OP_PAND: return _mm_and_si128(a, b);
	case OP_ANDNPS: case OP_ANDNPD: case OP_PANDN: return _mm_andnot_si128(a, b);
	case OP_ORPS: case OP_ORPD: case OP_POR: return _mm_or_si128(a, b);
	case OP_XORPS: case OP_XORPD: case OP_PXOR: return _mm_xor_si128(a, b);
	case OP_PADDB: return _mm_add_epi8(a, b);
	case OP_PADDW: return _mm_add_epi16(a, b);
	case OP_PADDD: return _mm_add_epi32(a, b);
	case OP_PADDQ: return _mm_add_epi64(a, b);
	case OP_PADDSB: return _mm_adds_epi8(a, b);
	case OP_PADDSW: return _mm_adds_epi16(a, b);
	case OP_PADDUSB: return _mm_adds_epu8(a, b);
	case OP_PADDUSW: return _mm_adds_epu16(a, b);
	case OP_PSUBB: return _mm_sub_epi8(a, b);
	case OP_PSUBW: return _mm_sub_epi16(a, b);
	case OP_PSUBD: return _mm_sub_epi32(a, b);
	case OP_PSUBQ: return _mm_sub_epi64(a, b);
	case OP_PSUBSB: return _mm_subs_epi8(a, b);
	case OP_PSUBSW: return _mm_subs_epi16(a, b);
	case OP_PSUBUSB: return _mm_subs_epu8(a, b);
	case OP_PSUBUSW: return _mm_subs_epu16(a, b);
	case OP_PMULLW: return _mm_mullo_epi16(a, b);
	case OP_PMULHW: return _mm_mulhi_epi16(a, b);
	case OP_PMULHUW: return _mm_mulhi_epu16(a, b);
	case OP_PMULUDQ: return _mm_mul_epu32(a, b);
	case OP_PMADDWD: return _mm_madd_epi16(a, b);
	case OP_PSADBW: return _mm_sad_epu8(a, b);
	case OP_PAVGB: return _mm_avg_epu8(a, b);
	case OP_PAVGW: return _mm_avg_epu16(a, b);
	case OP_PMINUB: return _mm_min_epu8(a, b);
	case OP_PMAXUB: return _mm_max_epu8(a, b);
	case OP_PMINSW: return _mm_min_epi16(a, b);
	case OP_PMAXSW: return _mm_max_epi16(a, b);
	case OP_PCMPEQB: return _mm_cmpeq_epi8(a, b);
	case OP_PCMPEQW: return _mm_cmpeq_epi16(a, b);
	case OP_PCMPEQD: return _mm_cmpeq_epi32(a, b);
	case OP_PCMPGTB: return _mm_cmpgt_epi8(a, b);
	case OP_PCMPGTW: return _mm_cmpgt_epi16(a, b);
	case OP_PCMPGTD: return _mm_cmpgt_epi32(a, b);
	case OP_PACKSSWB: return _mm_packs_epi16(a, b);
	case OP_PACKSSDW: return _mm_packs_epi32(a, b);
	case OP_PACKUSWB: return _mm_packus_epi16(a, b);
	case OP_PUNPCKLBW: return _mm_unpacklo_epi8(a, b);
	case OP_PUNPCKLWD: return _mm_unpacklo_epi16(a, b);
	case OP_PUNPCKLDQ: case OP_UNPCKLPS: return _mm_unpacklo_epi32(a, b);
	case OP_PUNPCKLQDQ: case OP_UNPCKLPD: return _mm_unpacklo_epi64(a, b);
	case OP_PUNPCKHBW: return _mm_unpackhi_epi8(a, b);
	case OP_PUNPCKHWD: return _mm_unpackhi_epi16(a, b);
	case OP_PUNPCKHDQ: case OP_UNPCKHPS: return _mm_unpackhi_epi32(a, b);
	case OP_PUNPCKHQDQ: case OP_UNPCKHPD: return _mm_unpackhi_epi64(a, b);
	/* Shifts take their count from the low 64 bits of b; >= width clears. */
	case OP_PSLLW: return _mm_sll_epi16(a, b);
	case OP_PSLLD: return _mm_sll_epi32(a, b);
	case OP_PSLLQ: return _mm_sll_epi64(a, b);
	case OP_PSRLW: return _mm_srl_epi16(a, b);
	case OP_PSRLD: return _mm_srl_epi32(a, b);
	case OP_PSRLQ: return _mm_srl_epi64(a, b);
	case OP_PSRAW: return _mm_sra_epi16(a, b);
	default: return _mm_sra_epi32(a, b); /* OP_PSRAD */
	}
}

/*
 * dst = dst op src. The shift-by-immediate forms (groups 12-14) name
 * their register in ModRM.rm and carry the count as Ib.
 */
static void sse_int2(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	if (i->opnd[1] == X86_O_Ib) {
		__m128i cnt = _mm_cvtsi32_si128((int)(i->imm & 0xff));
		xmm_set(&cpu->xmm[i->rm], sse_int_op(i->op, xmm_get(&cpu->xmm[i->rm]), cnt));
		return;
	}
	union xmm_reg s;
	sse_load_w(cpu, i, &s, true);
	xmm_set(&cpu->xmm[i->reg], sse_int_op(i->op, xmm_get(&cpu->xmm[i->reg]), xmm_get(&s)));
}

/* PSLLDQ/PSRLDQ: whole-register byte shifts; counts above 15 clear it. */
static void sse_byteshift(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	unsigned n = (unsigned)(i->imm & 0xff);
	union xmm_reg s = cpu->xmm[i->rm], d;
	memset(&d, 0, sizeof(d));
	for (unsigned k = 0; k < 16; k++) {
		if (i->op == OP_PSLLDQ) {
			if (k >= n)
				d.b[k] = s.b[k - n];
		} else if (k + n < 16) {
			d.b[k] = s.b[k + n];
		}
	}
	cpu->xmm[i->rm] = d;
}

/* ---- shuffles, inserts and extracts -------------------------------------------- */

static void sse_shuffle(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	union xmm_reg s, d = cpu->xmm[i->reg], r;
	sse_load_w(cpu, i, &s, true);
	unsigned imm = (unsigned)(i->imm & 0xff);
	switch (i->op) {
	case OP_PSHUFD:
		for (unsigned k = 0; k < 4; k++)
			r.d[k] = s.d[(imm >> (2 * k)) & 3];
		break;
	case OP_PSHUFLW:
		r = s;
		for (unsigned k = 0; k < 4; k++)
			r.w[k] = s.w[(imm >> (2 * k)) & 3];
		break;
	case OP_PSHUFHW:
		r = s;
		for (unsigned k = 0; k < 4; k++)
			r.w[4 + k] = s.w[4 + ((imm >> (2 * k)) & 3)];
		break;
	case OP_SHUFPS:
		r.d[0] = d.d[imm & 3];
		r.d[1] = d.d[(imm >> 2) & 3];
		r.d[2] = s.d[(imm >> 4) & 3];
		r.d[3] = s.d[(imm >> 6) & 3];
		break;
	default: /* OP_SHUFPD */
		r.q[0] = d.q[imm & 1];
		r.q[1] = s.q[(imm >> 1) & 1];
		break;
	}
	cpu->xmm[i->reg] = r;
}

/* PINSRW xmm, r32/m16, imm8: the word lane is imm & 7. */
static void sse_pinsrw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	uint16_t v = (uint16_t)rm_read(cpu, i, 2);
	cpu->xmm[i->reg].w[i->imm & 7] = v;
}

/*
 * PEXTRW r32, xmm, imm8 (0F C5, zero-extends into the GPR) and SSE4.1's
 * PEXTRW r32/m16, xmm, imm8 (0F 3A 15, which can store to memory).
 */
static void sse_pextrw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	sse_gate(cpu, i);
	if (i->opnd[0] == X86_O_Gd) {
		reg_write_sized(cpu, i->reg, 8, cpu->xmm[i->rm].w[i->imm & 7]);
		return;
	}
	uint16_t v = cpu->xmm[i->reg].w[i->imm & 7];
	if (x86_insn_is_mem(i))
		mem_store(cpu, insn_linear(cpu, i, 2, MMU_WRITE), 2, v);
	else
		reg_write_sized(cpu, i->rm, 8, v);
}

void sse_int_register(exec_fn *t)
{
	static const uint16_t mov128[] = {
		OP_MOVUPS, OP_MOVUPD, OP_MOVAPS, OP_MOVAPD, OP_MOVDQA, OP_MOVDQU,
		OP_LDDQU, OP_MOVNTPS, OP_MOVNTPD, OP_MOVNTDQ,
	};
	static const uint16_t int2[] = {
		OP_ANDPS, OP_ANDPD, OP_ANDNPS, OP_ANDNPD, OP_ORPS, OP_ORPD, OP_XORPS, OP_XORPD,
		OP_PAND, OP_PANDN, OP_POR, OP_PXOR, OP_PADDB, OP_PADDW, OP_PADDD, OP_PADDQ,
		OP_PADDSB, OP_PADDSW, OP_PADDUSB, OP_PADDUSW, OP_PSUBB, OP_PSUBW, OP_PSUBD,
		OP_PSUBQ, OP_PSUBSB, OP_PSUBSW, OP_PSUBUSB, OP_PSUBUSW, OP_PMULLW, OP_PMULHW,
		OP_PMULHUW, OP_PMULUDQ, OP_PMADDWD, OP_PSADBW, OP_PAVGB, OP_PAVGW, OP_PMINUB,
		OP_PMAXUB, OP_PMINSW, OP_PMAXSW, OP_PCMPEQB, OP_PCMPEQW, OP_PCMPEQD,
		OP_PCMPGTB, OP_PCMPGTW, OP_PCMPGTD, OP_PACKSSWB, OP_PACKSSDW, OP_PACKUSWB,
		OP_PUNPCKLBW, OP_PUNPCKLWD, OP_PUNPCKLDQ, OP_PUNPCKLQDQ, OP_PUNPCKHBW,
		OP_PUNPCKHWD, OP_PUNPCKHDQ, OP_PUNPCKHQDQ, OP_UNPCKLPS, OP_UNPCKLPD,
		OP_UNPCKHPS, OP_UNPCKHPD, OP_PSLLW, OP_PSLLD, OP_PSLLQ, OP_PSRLW, OP_PSRLD,
		OP_PSRLQ, OP_PSRAW, OP_PSRAD,
	};
	for (size_t k = 0; k < sizeof(mov128) / sizeof(mov128[0]); k++)
		t[mov128[k]] = sse_mov128;
	for (size_t k = 0; k < sizeof(int2) / sizeof(int2[0]); k++)
		t[int2[k]] = sse_int2;
	t[OP_MOVSS] = sse_movs;
	t[OP_MOVSD] = sse_movs;
	t[OP_MOVLPS] = sse_movhalf;
	t[OP_MOVLPD] = sse_movhalf;
	t[OP_MOVHPS] = sse_movhalf;
	t[OP_MOVHPD] = sse_movhalf;
	t[OP_MOVHLPS] = sse_movhalf;
	t[OP_MOVLHPS] = sse_movhalf;
	t[OP_MOVSLDUP] = sse_movdup;
	t[OP_MOVSHDUP] = sse_movdup;
	t[OP_MOVDDUP] = sse_movdup;
	t[OP_MOVD] = sse_movd;
	t[OP_MOVQ] = sse_movq;
	if (!t[OP_MOVNTI])
		t[OP_MOVNTI] = sse_movnti;
	t[OP_MOVMSKPS] = sse_movmsk;
	t[OP_MOVMSKPD] = sse_movmsk;
	t[OP_PMOVMSKB] = sse_movmsk;
	t[OP_MASKMOVDQU] = sse_maskmov;
	t[OP_PSLLDQ] = sse_byteshift;
	t[OP_PSRLDQ] = sse_byteshift;
	t[OP_PSHUFD] = sse_shuffle;
	t[OP_PSHUFHW] = sse_shuffle;
	t[OP_PSHUFLW] = sse_shuffle;
	t[OP_SHUFPS] = sse_shuffle;
	t[OP_SHUFPD] = sse_shuffle;
	t[OP_PINSRW] = sse_pinsrw;
	t[OP_PEXTRW] = sse_pextrw;
}
