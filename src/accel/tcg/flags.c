/*
 * Lazy arithmetic flags. Most instructions that set flags are followed by
 * one that overwrites them, so handlers only record (op, size, operands,
 * result) in cpu->cc and the six arithmetic flags are computed here when
 * something reads them. cpu_cond() answers the common Jcc/SETcc/CMOVcc
 * questions straight from the record for CMP/SUB and logic results.
 */
#include "accel/tcg/cpu.h"

static inline uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static inline uint64_t sign_bit(unsigned size)
{
	return 1ULL << (size * 8 - 1);
}

static inline int64_t sext(uint64_t v, unsigned size)
{
	unsigned sh = 64 - size * 8;
	return (int64_t)(v << sh) >> sh;
}

static inline uint64_t zf_sf_pf(uint64_t res, unsigned size)
{
	uint64_t f = 0;
	res &= size_mask(size);
	if (!res)
		f |= F_ZF;
	if (res & sign_bit(size))
		f |= F_SF;
	if (!__builtin_parityll(res & 0xff))
		f |= F_PF;
	return f;
}

static uint64_t cc_compute(const struct cc_state *cc)
{
	unsigned size = cc->size;
	uint64_t m = size_mask(size), sb = sign_bit(size);
	uint64_t a = cc->src1 & m, b = cc->src2 & m, r = cc->res & m;
	uint64_t f;

	switch (cc->op) {
	case CC_EAGER:
		return cc->flags & F_ARITH;
	case CC_ADD:
	case CC_ADC:
		f = zf_sf_pf(r, size);
		if ((cc->op == CC_ADC && cc->carry) ? r <= a : r < a)
			f |= F_CF;
		if ((a ^ r) & (b ^ r) & sb)
			f |= F_OF;
		if ((a ^ b ^ r) & 0x10)
			f |= F_AF;
		return f;
	case CC_SUB:
	case CC_SBB:
		f = zf_sf_pf(r, size);
		if ((cc->op == CC_SBB && cc->carry) ? a <= b : a < b)
			f |= F_CF;
		if ((a ^ b) & (a ^ r) & sb)
			f |= F_OF;
		if ((a ^ b ^ r) & 0x10)
			f |= F_AF;
		return f;
	case CC_LOGIC:
		return zf_sf_pf(r, size);
	case CC_INC:
		f = zf_sf_pf(r, size) | (cc->flags & F_CF);
		if (r == sb)
			f |= F_OF;
		if ((r & 0xf) == 0)
			f |= F_AF;
		return f;
	case CC_DEC:
		f = zf_sf_pf(r, size) | (cc->flags & F_CF);
		if (r == sb - 1)
			f |= F_OF;
		if ((r & 0xf) == 0xf)
			f |= F_AF;
		return f;
	case CC_SHL: {
		/* src2 is the (masked, non-zero) count; src1 the value shifted. */
		unsigned bits = size * 8, n = (unsigned)cc->src2;
		f = zf_sf_pf(r, size);
		if (n <= bits && ((a >> (bits - n)) & 1))
			f |= F_CF;
		if (((r & sb) != 0) != ((f & F_CF) != 0))
			f |= F_OF;
		return f;
	}
	case CC_SHR: {
		unsigned n = (unsigned)cc->src2;
		f = zf_sf_pf(r, size);
		if (n && n <= 64 && ((a >> (n - 1)) & 1))
			f |= F_CF;
		if (a & sb)
			f |= F_OF;
		return f;
	}
	case CC_SAR: {
		unsigned n = (unsigned)cc->src2;
		f = zf_sf_pf(r, size);
		int64_t sa = sext(a, size);
		if (n && ((n > 63 ? sa >> 63 : sa >> (n - 1)) & 1))
			f |= F_CF;
		return f;
	}
	case CC_MUL:
	case CC_IMUL:
		/* src2 != 0: the high half carried significant bits. */
		f = zf_sf_pf(r, size);
		if (cc->src2)
			f |= F_CF | F_OF;
		return f;
	}
	return 0;
}

uint64_t cpu_get_rflags(struct x86_cpu *cpu)
{
	return (cpu->rflags & ~(uint64_t)F_ARITH) | cc_compute(&cpu->cc) | X86_RFLAGS_RESERVED1;
}

void cpu_set_rflags(struct x86_cpu *cpu, uint64_t value, uint64_t writable_mask)
{
	uint64_t old = cpu_get_rflags(cpu);
	uint64_t v = (old & ~writable_mask) | (value & writable_mask);
	cpu->cc.op = CC_EAGER;
	cpu->cc.flags = v & F_ARITH;
	cpu->rflags = (v & ~(uint64_t)F_ARITH) | X86_RFLAGS_RESERVED1;
}

bool cpu_cond(struct x86_cpu *cpu, unsigned cc)
{
	const struct cc_state *s = &cpu->cc;
	unsigned op = s->op;
	bool r;
	uint64_t f;
	if (op == CC_EAGER) {
		f = s->flags;
		goto from_flags;
	}
	/*
	 * Fast answers straight from the record. Every lazy record derives ZF
	 * and SF from its result (cc_compute), so E and S never need the full
	 * computation; CF is cheap for the common kinds, which also makes
	 * INC/DEC's carry preservation (cc_carry) cheap in DEC/JNZ loops.
	 */
	uint64_t m = size_mask(s->size);
	uint64_t res = s->res & m;
	switch (cc >> 1) {
	case 1: /* B/C */
		if (op == CC_SUB)
			r = (s->src1 & m) < (s->src2 & m);
		else if (op == CC_ADD)
			r = res < (s->src1 & m);
		else if (op == CC_ADC)
			r = s->carry ? res <= (s->src1 & m) : res < (s->src1 & m);
		else if (op == CC_SBB)
			r = s->carry ? (s->src1 & m) <= (s->src2 & m) : (s->src1 & m) < (s->src2 & m);
		else if (op == CC_LOGIC)
			r = false;
		else if (op == CC_INC || op == CC_DEC)
			r = s->flags & F_CF;
		else
			break;
		return (cc & 1) ? !r : r;
	case 2: /* E/Z */
		r = res == 0;
		return (cc & 1) ? !r : r;
	case 4: /* S */
		r = (res & sign_bit(s->size)) != 0;
		return (cc & 1) ? !r : r;
	}
	if (op == CC_SUB) {
		uint64_t a = s->src1 & m, b = s->src2 & m;
		int64_t sa = sext(a, s->size), sb = sext(b, s->size);
		switch (cc >> 1) {
		case 3: /* BE */
			r = a <= b;
			return (cc & 1) ? !r : r;
		case 6: /* L */
			r = sa < sb;
			return (cc & 1) ? !r : r;
		case 7: /* LE */
			r = sa <= sb;
			return (cc & 1) ? !r : r;
		}
	} else if (op == CC_LOGIC) {
		/* CF = OF = 0. */
		bool sf = (res & sign_bit(s->size)) != 0;
		switch (cc >> 1) {
		case 0: /* O */
			r = false;
			return (cc & 1) ? !r : r;
		case 3: /* BE */
			r = res == 0;
			return (cc & 1) ? !r : r;
		case 6: /* L */
			r = sf;
			return (cc & 1) ? !r : r;
		case 7: /* LE */
			r = res == 0 || sf;
			return (cc & 1) ? !r : r;
		}
	}
	f = cc_compute(s);
from_flags:
	switch (cc >> 1) {
	case 0: r = f & F_OF; break;
	case 1: r = f & F_CF; break;
	case 2: r = f & F_ZF; break;
	case 3: r = f & (F_CF | F_ZF); break;
	case 4: r = f & F_SF; break;
	case 5: r = f & F_PF; break;
	case 6: r = !(f & F_SF) != !(f & F_OF); break;
	default: r = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;
	}
	return (cc & 1) ? !r : r;
}
