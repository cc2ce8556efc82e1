/*
 * Integer arithmetic and logic: the ALU group (ADD..CMP, TEST), INC/DEC,
 * NOT/NEG, multiply and divide, shifts and rotates, double shifts, bit
 * tests and scans, BCD adjustments and the flag-only instructions.
 * Data movement and the stack are in exec_data.c; both register here.
 *
 * Flags are lazy (flags.c): handlers record (kind, size, operands,
 * result) with cc_set, so the common ALU op costs a few stores. Rotates,
 * bit tests and the rest that define only some flags merge them into the
 * current ones and leave them eager (CC_EAGER).
 *
 * Memory destinations are translated for write before they are read, so
 * a read-modify-write faults before anything changes; LOCK goes through
 * mem_rmw_locked (host atomics on the guest RAM page).
 *
 * The hottest forms in 64-bit code also have handlers with form and size
 * fixed at block-build time (exec_int_specialize): the ALU group below,
 * the rest under "specialised forms". Each records exactly the lazy flags
 * its generic handler records.
 */
#include "accel/tcg/exec_int.h"

/* ---- LOCK -------------------------------------------------------------- */

#define RMW_CAS(T)                                                                        \
	do {                                                                              \
		T *p_ = host, o_ = __atomic_load_n(p_, __ATOMIC_RELAXED), n_;             \
		if (k == ALU_XCHG)                                                        \
			return __atomic_exchange_n(p_, (T)b, __ATOMIC_SEQ_CST);           \
		do                                                                        \
			n_ = (T)alu_calc(k, o_, b, cf);                                   \
		while (!__atomic_compare_exchange_n(p_, &o_, n_, false, __ATOMIC_SEQ_CST, \
						    __ATOMIC_RELAXED));                   \
		return o_;                                                                \
	} while (0)

uint64_t mem_rmw_locked(struct x86_cpu *cpu, uint64_t la, unsigned size, unsigned k, uint64_t b,
			bool cf)
{
	void *host = mmu_host_rmw(cpu, la, size);
	if (host) {
		switch (size) {
		case 1: RMW_CAS(uint8_t);
		case 2: RMW_CAS(uint16_t);
		case 4: RMW_CAS(uint32_t);
		default: RMW_CAS(uint64_t);
		}
	}
	/* MMIO or a split operand: mmu_host_rmw already checked the store. */
	mmu_lock_global();
	uint64_t a = mem_load(cpu, la, size);
	mem_store(cpu, la, size, alu_calc(k, a, b, cf));
	mmu_unlock_global();
	return a;
}

/* ---- ALU group ---------------------------------------------------------- */

static inline bool form_is_g(unsigned f)
{
	return f == X86_O_Gb || f == X86_O_Gv;
}

static inline bool form_is_acc(unsigned f)
{
	return f == X86_O_AL || f == X86_O_rAX;
}

EXEC_INLINE void alu_flags(struct x86_cpu *cpu, unsigned k, unsigned size, uint64_t a, uint64_t b,
			   uint64_t r, bool cf)
{
	switch (k) {
	case ALU_ADD:
		cc_set(cpu, CC_ADD, size, a, b, r);
		break;
	case ALU_ADC:
		cc_set(cpu, CC_ADC, size, a, b, r);
		cpu->cc.carry = cf;
		break;
	case ALU_SUB:
	case ALU_CMP:
		cc_set(cpu, CC_SUB, size, a, b, r);
		break;
	case ALU_SBB:
		cc_set(cpu, CC_SBB, size, a, b, r);
		cpu->cc.carry = cf;
		break;
	default:
		cc_set(cpu, CC_LOGIC, size, a, b, r);
		break;
	}
}

/*
 * Forms: Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,Ib rAX,Iz Eb,Ib Ev,Iz Ev,Ibs (and
 * TEST's). Immediates arrive sign-extended to 64 bits: masking gives the
 * operand-size value.
 */
EXEC_INLINE void alu_op(struct x86_cpu *cpu, const struct x86_insn *i, unsigned k)
{
	const unsigned size = i->opsize, d = i->opnd[0], s = i->opnd[1];
	const uint64_t m = exec_mask(size);
	const bool writes = k != ALU_CMP && k != ALU_TEST;
	bool cf = false;
	uint64_t a, b, r;

	if (form_is_g(s))
		b = reg_read(cpu, i, i->reg, size);
	else if (s == X86_O_Eb || s == X86_O_Ev)
		b = rm_read(cpu, i, size);
	else
		b = i->imm & m;
	if (k == ALU_ADC || k == ALU_SBB)
		cf = cc_carry(cpu);
	if (form_is_g(d) || form_is_acc(d) || !x86_insn_is_mem(i)) {
		unsigned reg = form_is_g(d) ? i->reg : form_is_acc(d) ? R_RAX : i->rm;
		a = reg_read(cpu, i, reg, size);
		r = alu_calc(k, a, b, cf) & m;
		if (writes)
			reg_write(cpu, i, reg, size, r);
	} else if (writes) {
		r = e_rmw(cpu, i, size, k, b, cf, &a);
	} else {
		a = mem_load(cpu, insn_linear(cpu, i, size, MMU_READ), size);
		r = alu_calc(k, a, b, cf) & m;
	}
	alu_flags(cpu, k, size, a, b, r, cf);
}

static void exec_add(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_ADD); }
static void exec_or(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_OR); }
static void exec_adc(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_ADC); }
static void exec_sbb(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_SBB); }
static void exec_and(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_AND); }
static void exec_sub(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_SUB); }
static void exec_xor(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_XOR); }
static void exec_cmp(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_CMP); }
static void exec_test(struct x86_cpu *cpu, const struct x86_insn *i) { alu_op(cpu, i, ALU_TEST); }

/*
 * The ALU group in 64-bit code with kind, form, size and register/memory
 * fixed at block-build time (exec_int_specialize): the generic alu_op
 * spends more on working out its operands than on the operation. Only
 * unlocked 8/32/64-bit forms are covered, byte forms only when no operand
 * is AH..BH (so a byte register is the low byte of its GPR), and 64-bit
 * mode means the segment step is just the FS/GS base and the canonical
 * check. ADC/SBB take the carry from cc_cond_fixed's inline answers.
 */
enum alu_form { AF_EG_REG, AF_EG_MEM, AF_GE_REG, AF_GE_MEM, AF_EI_REG, AF_EI_MEM, AF_AI };

EXEC_INLINE void alu_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned k,
			   unsigned size, unsigned form)
{
	const uint64_t m = exec_mask(size);
	const bool writes = k != ALU_CMP && k != ALU_TEST;
	const bool cf = (k == ALU_ADC || k == ALU_SBB) ? cc_cond_fixed(cpu, 2) : false;
	uint64_t a, b, r;
	unsigned dr;
	switch (form) {
	case AF_EG_REG: case AF_GE_REG: case AF_EI_REG: case AF_AI:
		dr = form == AF_EG_REG || form == AF_EI_REG ? i->rm : form == AF_GE_REG ? i->reg : R_RAX;
		a = cpu->gpr[dr] & m;
		b = form == AF_EG_REG ? cpu->gpr[i->reg] : form == AF_GE_REG ? cpu->gpr[i->rm] : i->imm;
		b &= m;
		r = alu_calc(k, a, b, cf) & m;
		if (writes)
			reg_write_sized(cpu, dr, size, r);
		break;
	case AF_GE_MEM:
		a = cpu->gpr[i->reg] & m;
		b = mem_load(cpu, insn_linear64(cpu, i, size), size);
		r = alu_calc(k, a, b, cf) & m;
		if (writes)
			reg_write_sized(cpu, i->reg, size, r);
		break;
	default: { /* AF_EG_MEM, AF_EI_MEM */
		uint64_t la = insn_linear64(cpu, i, size);
		b = (form == AF_EG_MEM ? cpu->gpr[i->reg] : i->imm) & m;
		if (!writes) {
			a = mem_load(cpu, la, size);
			r = alu_calc(k, a, b, cf) & m;
			break;
		}
		void *host = mem_host_rw(cpu, la, size);
		if (mmu_likely(host != NULL)) {
			a = host_load(host, size);
			r = alu_calc(k, a, b, cf) & m;
			host_store(host, size, r);
		} else {
			a = mem_load_rmw(cpu, la, size);
			r = alu_calc(k, a, b, cf) & m;
			mem_store(cpu, la, size, r);
		}
		break;
	}
	}
	if (k == ALU_ADD) {
		cc_set(cpu, CC_ADD, size, a, b, r);
	} else if (k == ALU_SUB || k == ALU_CMP) {
		cc_set(cpu, CC_SUB, size, a, b, r);
	} else if (k == ALU_ADC || k == ALU_SBB) {
		cc_set(cpu, k == ALU_ADC ? CC_ADC : CC_SBB, size, a, b, r);
		cpu->cc.carry = cf;
	} else {
		cc_set_logic(cpu, size, r);
	}
}

#define ALU_VARIANT(name, k, size, form) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { alu_fixed(cpu, i, k, size, form); }
#define ALU_VARIANTS_SIZE(kname, k, sz)                                     \
	ALU_VARIANT(exec_##kname##_eg_reg_##sz, k, sz, AF_EG_REG)           \
	ALU_VARIANT(exec_##kname##_eg_mem_##sz, k, sz, AF_EG_MEM)           \
	ALU_VARIANT(exec_##kname##_ge_reg_##sz, k, sz, AF_GE_REG)           \
	ALU_VARIANT(exec_##kname##_ge_mem_##sz, k, sz, AF_GE_MEM)           \
	ALU_VARIANT(exec_##kname##_ei_reg_##sz, k, sz, AF_EI_REG)           \
	ALU_VARIANT(exec_##kname##_ei_mem_##sz, k, sz, AF_EI_MEM)           \
	ALU_VARIANT(exec_##kname##_ai_##sz, k, sz, AF_AI)
#define ALU_ROW(kname, f) \
	{ exec_##kname##_##f##_1, exec_##kname##_##f##_4, exec_##kname##_##f##_8 }
/* Indexed by form, then by size: 1, 4, 8. */
#define ALU_VARIANTS(kname, k)                                              \
	ALU_VARIANTS_SIZE(kname, k, 1)                                      \
	ALU_VARIANTS_SIZE(kname, k, 4)                                      \
	ALU_VARIANTS_SIZE(kname, k, 8)                                      \
	static const exec_fn alu_variants_##kname[7][3] = {                 \
		[AF_EG_REG] = ALU_ROW(kname, eg_reg),                       \
		[AF_EG_MEM] = ALU_ROW(kname, eg_mem),                       \
		[AF_GE_REG] = ALU_ROW(kname, ge_reg),                       \
		[AF_GE_MEM] = ALU_ROW(kname, ge_mem),                       \
		[AF_EI_REG] = ALU_ROW(kname, ei_reg),                       \
		[AF_EI_MEM] = ALU_ROW(kname, ei_mem),                       \
		[AF_AI] = ALU_ROW(kname, ai),                               \
	};
ALU_VARIANTS(add, ALU_ADD)
ALU_VARIANTS(or, ALU_OR)
ALU_VARIANTS(adc, ALU_ADC)
ALU_VARIANTS(sbb, ALU_SBB)
ALU_VARIANTS(and, ALU_AND)
ALU_VARIANTS(sub, ALU_SUB)
ALU_VARIANTS(xor, ALU_XOR)
ALU_VARIANTS(cmp, ALU_CMP)
ALU_VARIANTS(test, ALU_TEST)

/* The specialised ALU handler for i (64-bit mode, unlocked), or NULL. */
static exec_fn alu_specialize(const struct x86_insn *i)
{
	const exec_fn(*v)[3];
	switch (i->op) {
	case OP_ADD: v = alu_variants_add; break;
	case OP_OR: v = alu_variants_or; break;
	case OP_ADC: v = alu_variants_adc; break;
	case OP_SBB: v = alu_variants_sbb; break;
	case OP_AND: v = alu_variants_and; break;
	case OP_SUB: v = alu_variants_sub; break;
	case OP_XOR: v = alu_variants_xor; break;
	case OP_CMP: v = alu_variants_cmp; break;
	case OP_TEST: v = alu_variants_test; break;
	default: return NULL;
	}
	unsigned d = i->opnd[0], s = i->opnd[1], form, sz;
	bool mem = x86_insn_is_mem(i);
	if (i->opsize == 1) {
		sz = 0;
		if (d == X86_O_Eb && s == X86_O_Gb)
			form = mem ? AF_EG_MEM : AF_EG_REG;
		else if (d == X86_O_Gb && s == X86_O_Eb)
			form = mem ? AF_GE_MEM : AF_GE_REG;
		else if (d == X86_O_Eb && s == X86_O_Ib)
			form = mem ? AF_EI_MEM : AF_EI_REG;
		else if (d == X86_O_AL && s == X86_O_Ib)
			form = AF_AI;
		else
			return NULL;
		/* Every register the form names must be a low byte. */
		bool uses_reg = form == AF_EG_REG || form == AF_EG_MEM || form == AF_GE_REG ||
				form == AF_GE_MEM;
		bool uses_rm = form == AF_EG_REG || form == AF_GE_REG || form == AF_EI_REG;
		if ((uses_reg && x86_insn_byte_reg_is_high(i, i->reg)) ||
		    (uses_rm && x86_insn_byte_reg_is_high(i, i->rm)))
			return NULL;
	} else if (i->opsize == 4 || i->opsize == 8) {
		sz = i->opsize == 4 ? 1 : 2;
		if (d == X86_O_Ev && s == X86_O_Gv)
			form = mem ? AF_EG_MEM : AF_EG_REG;
		else if (d == X86_O_Gv && s == X86_O_Ev)
			form = mem ? AF_GE_MEM : AF_GE_REG;
		else if (d == X86_O_Ev && (s == X86_O_Iz || s == X86_O_Ibs))
			form = mem ? AF_EI_MEM : AF_EI_REG;
		else if (d == X86_O_rAX && s == X86_O_Iz)
			form = AF_AI;
		else
			return NULL;
	} else {
		return NULL;
	}
	return v[form][sz];
}

/* ---- INC DEC NOT NEG -------------------------------------------------------- */

/* INC/DEC keep CF: the lazy record carries the old one in cc.flags. */
EXEC_INLINE void incdec(struct x86_cpu *cpu, const struct x86_insn *i, bool dec)
{
	unsigned size = i->opsize;
	bool cf = cc_carry(cpu);
	uint64_t a, r;
	if (i->opnd[0] == X86_O_Zv) {
		a = reg_read(cpu, i, i->reg, size);
		r = alu_calc(dec ? ALU_SUB : ALU_ADD, a, 1, false) & exec_mask(size);
		reg_write(cpu, i, i->reg, size, r);
	} else {
		r = e_rmw(cpu, i, size, dec ? ALU_SUB : ALU_ADD, 1, false, &a);
	}
	cc_set(cpu, dec ? CC_DEC : CC_INC, size, a, 1, r);
	cpu->cc.flags = cf ? F_CF : 0;
}

static void exec_inc(struct x86_cpu *cpu, const struct x86_insn *i) { incdec(cpu, i, false); }
static void exec_dec(struct x86_cpu *cpu, const struct x86_insn *i) { incdec(cpu, i, true); }

static void exec_not(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t a;
	e_rmw(cpu, i, i->opsize, ALU_NOT, 0, false, &a);
}

static void exec_neg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t a, r = e_rmw(cpu, i, i->opsize, ALU_NEG, 0, false, &a);
	cc_set(cpu, CC_SUB, i->opsize, 0, a, r);
}

/* ---- multiply and divide ------------------------------------------------------ */

/* The one-operand forms write rDX:rAX (AX for bytes). */
static void mul_store_wide(struct x86_cpu *cpu, unsigned size, uint64_t lo, uint64_t hi)
{
	if (size == 1) {
		reg_write_sized(cpu, R_RAX, 2, (lo & 0xff) | (hi & 0xff) << 8);
		return;
	}
	reg_write_sized(cpu, R_RAX, size, lo);
	reg_write_sized(cpu, R_RDX, size, hi);
}

static void exec_mul(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, bits = size * 8;
	uint64_t b = rm_read(cpu, i, size), a = cpu->gpr[R_RAX] & exec_mask(size), lo, hi;
	if (size == 8) {
		unsigned __int128 p = (unsigned __int128)a * b;
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = a * b;
		lo = p & exec_mask(size);
		hi = p >> bits;
	}
	mul_store_wide(cpu, size, lo, hi);
	cc_set(cpu, CC_MUL, size, a, hi != 0, lo);
}

/* Signed product of a and b at size: low half, high half, overflow. */
static uint64_t imul_core(unsigned size, uint64_t a, uint64_t b, uint64_t *hi, bool *of)
{
	if (size == 8) {
		__int128 p = (__int128)(int64_t)a * (int64_t)b;
		*hi = (uint64_t)((unsigned __int128)p >> 64);
		*of = p != (__int128)(int64_t)p;
		return (uint64_t)p;
	}
	int64_t p = exec_sext(a, size) * exec_sext(b, size);
	*hi = (uint64_t)p >> (size * 8);
	*of = p != exec_sext((uint64_t)p, size);
	return (uint64_t)p & exec_mask(size);
}

/* Forms: Ev (rDX:rAX = rAX * Ev), Gv,Ev (Gv *= Ev), Gv,Ev,Iz/Ibs. */
static void exec_imul(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t a, b, lo, hi;
	bool of;
	if (i->opnd[1] == X86_O_NONE) {
		b = rm_read(cpu, i, size);
		a = cpu->gpr[R_RAX] & exec_mask(size);
		lo = imul_core(size, a, b, &hi, &of);
		mul_store_wide(cpu, size, lo, hi);
	} else {
		if (i->opnd[2] != X86_O_NONE) {
			a = rm_read(cpu, i, size);
			b = i->imm & exec_mask(size);
		} else {
			b = rm_read(cpu, i, size);
			a = reg_read(cpu, i, i->reg, size);
		}
		lo = imul_core(size, a, b, &hi, &of);
		reg_write(cpu, i, i->reg, size, lo);
	}
	cc_set(cpu, CC_IMUL, size, a, of, lo);
}

/* The dividend rDX:rAX (AX for bytes) as 128 bits. */
static unsigned __int128 div_dividend(struct x86_cpu *cpu, unsigned size)
{
	if (size == 1)
		return cpu->gpr[R_RAX] & 0xffff;
	uint64_t m = exec_mask(size);
	if (size == 8)
		return (unsigned __int128)cpu->gpr[R_RDX] << 64 | cpu->gpr[R_RAX];
	return (cpu->gpr[R_RDX] & m) << (size * 8) | (cpu->gpr[R_RAX] & m);
}

static void div_store(struct x86_cpu *cpu, unsigned size, uint64_t q, uint64_t r)
{
	if (size == 1) {
		reg_write_sized(cpu, R_RAX, 2, (q & 0xff) | (r & 0xff) << 8);
		return;
	}
	reg_write_sized(cpu, R_RAX, size, q);
	reg_write_sized(cpu, R_RDX, size, r);
}

/* Flags after DIV/IDIV are undefined; they are left as they were. */
static void exec_div(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t d = rm_read(cpu, i, size), q, r;
	if (!d)
		cpu_raise(cpu, EXC_DE, 0);
	unsigned __int128 n = div_dividend(cpu, size);
	if (!(n >> 64)) {
		uint64_t n64 = (uint64_t)n;
		q = n64 / d;
		r = n64 % d;
		if (size < 8 && (q >> (size * 8)))
			cpu_raise(cpu, EXC_DE, 0);
	} else {
		/* Only 64-bit operands get here: overflow unless rDX < divisor. */
		if ((uint64_t)(n >> 64) >= d)
			cpu_raise(cpu, EXC_DE, 0);
		q = (uint64_t)(n / d);
		r = (uint64_t)(n % d);
	}
	div_store(cpu, size, q, r);
}

/* Sign and magnitude, so that no host division can overflow or trap. */
static void exec_idiv(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, bits = size * 8;
	int64_t d = exec_sext(rm_read(cpu, i, size), size);
	if (!d)
		cpu_raise(cpu, EXC_DE, 0);
	unsigned __int128 un = div_dividend(cpu, size);
	bool nneg;
	if (size == 8) {
		nneg = (int64_t)cpu->gpr[R_RDX] < 0;
	} else {
		nneg = (un >> (2 * bits - 1)) & 1;
		if (nneg)
			un |= ~(unsigned __int128)0 << (2 * bits);
	}
	if (nneg)
		un = -un;
	uint64_t ud = d < 0 ? -(uint64_t)d : (uint64_t)d;
	unsigned __int128 uq, ur;
	if (!(un >> 64)) {
		uq = (uint64_t)un / ud;
		ur = (uint64_t)un % ud;
	} else {
		uq = un / ud;
		ur = un % ud;
	}
	bool qneg = nneg != (d < 0);
	unsigned __int128 lim = (unsigned __int128)1 << (bits - 1);
	if (uq > lim - !qneg)
		cpu_raise(cpu, EXC_DE, 0);
	uint64_t q = qneg ? -(uint64_t)uq : (uint64_t)uq;
	uint64_t r = nneg ? -(uint64_t)ur : (uint64_t)ur;
	div_store(cpu, size, q, r);
}

/* ---- shifts and rotates ------------------------------------------------------- */

/* Forms Eb/Ev with I1, CL or Ib; the count is masked to 5 bits (6 for 64-bit). */
static inline unsigned shift_count(const struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned f = i->opnd[i->opnd[2] != X86_O_NONE ? 2 : 1];
	unsigned c = f == X86_O_I1 ? 1 : f == X86_O_CL ? (unsigned)cpu->gpr[R_RCX] : (unsigned)i->imm;
	return c & (i->opsize == 8 ? 63 : 31);
}

/*
 * A zero count changes no flags, but the destination is still written:
 * hardware zero-extends a 32-bit register even then.
 */
EXEC_INLINE void shift_op(struct x86_cpu *cpu, const struct x86_insn *i, enum cc_op kind)
{
	unsigned size = i->opsize, n = shift_count(cpu, i);
	uint64_t m = exec_mask(size), r;
	struct eloc l;
	uint64_t a = e_load(cpu, i, size, &l);
	if (kind == CC_SHL)
		r = (a << n) & m;
	else if (kind == CC_SHR)
		r = a >> n;
	else
		r = (uint64_t)(exec_sext(a, size) >> n) & m;
	e_store(cpu, i, size, &l, r);
	if (n)
		cc_set(cpu, kind, size, a, n, r);
}

static void exec_shl(struct x86_cpu *cpu, const struct x86_insn *i) { shift_op(cpu, i, CC_SHL); }
static void exec_shr(struct x86_cpu *cpu, const struct x86_insn *i) { shift_op(cpu, i, CC_SHR); }
static void exec_sar(struct x86_cpu *cpu, const struct x86_insn *i) { shift_op(cpu, i, CC_SAR); }

/* Rotates define only CF and OF (OF only for count 1, computed always). */
static void rotate_flags(struct x86_cpu *cpu, bool cf, bool of)
{
	uint64_t f = cc_flags(cpu) & ~(uint64_t)(F_CF | F_OF);
	cc_set_eager(cpu, f | (cf ? F_CF : 0) | (of ? F_OF : 0));
}

static void exec_rol(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, bits = size * 8, n = shift_count(cpu, i), t = n & (bits - 1);
	uint64_t m = exec_mask(size);
	struct eloc l;
	uint64_t a = e_load(cpu, i, size, &l);
	uint64_t r = t ? ((a << t) | (a >> (bits - t))) & m : a;
	e_store(cpu, i, size, &l, r);
	if (n) {
		bool cf = r & 1;
		rotate_flags(cpu, cf, ((r >> (bits - 1)) & 1) ^ cf);
	}
}

static void exec_ror(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, bits = size * 8, n = shift_count(cpu, i), t = n & (bits - 1);
	uint64_t m = exec_mask(size);
	struct eloc l;
	uint64_t a = e_load(cpu, i, size, &l);
	uint64_t r = t ? ((a >> t) | (a << (bits - t))) & m : a;
	e_store(cpu, i, size, &l, r);
	if (n) {
		bool msb = (r >> (bits - 1)) & 1;
		rotate_flags(cpu, msb, msb ^ ((r >> (bits - 2)) & 1));
	}
}

/* RCL/RCR rotate bits+1 bits (CF included): counts are taken mod 9 and 17 for bytes and words. */
EXEC_INLINE void rotate_carry(struct x86_cpu *cpu, const struct x86_insn *i, bool left)
{
	unsigned size = i->opsize, bits = size * 8, n = shift_count(cpu, i);
	unsigned t = size == 1 ? n % 9 : size == 2 ? n % 17 : n;
	struct eloc l;
	uint64_t a = e_load(cpu, i, size, &l);
	if (!t) {
		e_store(cpu, i, size, &l, a);
		return;
	}
	unsigned w = bits + 1;
	unsigned __int128 wm = ((unsigned __int128)1 << w) - 1;
	unsigned __int128 v = (unsigned __int128)cc_carry(cpu) << bits | a;
	v = left ? (v << t | v >> (w - t)) & wm : (v >> t | v << (w - t)) & wm;
	uint64_t r = (uint64_t)v & exec_mask(size);
	bool cf = (v >> bits) & 1, msb = (r >> (bits - 1)) & 1;
	e_store(cpu, i, size, &l, r);
	rotate_flags(cpu, cf, left ? msb ^ cf : msb ^ ((r >> (bits - 2)) & 1));
}

static void exec_rcl(struct x86_cpu *cpu, const struct x86_insn *i) { rotate_carry(cpu, i, true); }
static void exec_rcr(struct x86_cpu *cpu, const struct x86_insn *i) { rotate_carry(cpu, i, false); }

/*
 * SHLD/SHRD Ev, Gv, Ib/CL. 16-bit operands with counts 17-31 have
 * undefined results; they are computed as Intel hardware does, shifting
 * the 48-bit Ev:Gv:Gv (SHLD) or Gv:Gv:Ev (SHRD).
 */
EXEC_INLINE void double_shift(struct x86_cpu *cpu, const struct x86_insn *i, bool left)
{
	unsigned size = i->opsize, bits = size * 8, n = shift_count(cpu, i);
	uint64_t m = exec_mask(size), b = reg_read(cpu, i, i->reg, size), r;
	bool cf;
	struct eloc l;
	uint64_t a = e_load(cpu, i, size, &l);
	if (!n) {
		e_store(cpu, i, size, &l, a);
		return;
	}
	if (size == 2) {
		uint64_t v = left ? a << 32 | b << 16 | b : b << 32 | b << 16 | a;
		r = (left ? v << n >> 32 : v >> n) & m;
		cf = left ? (v >> (48 - n)) & 1 : (v >> (n - 1)) & 1;
	} else if (left) {
		r = ((a << n) | (b >> (bits - n))) & m;
		cf = (a >> (bits - n)) & 1;
	} else {
		r = ((a >> n) | (b << (bits - n))) & m;
		cf = (a >> (n - 1)) & 1;
	}
	e_store(cpu, i, size, &l, r);
	uint64_t f = flags_szp(r, size) | (cf ? F_CF : 0);
	if (((r ^ a) >> (bits - 1)) & 1)
		f |= F_OF;
	cc_set_eager(cpu, f);
}

static void exec_shld(struct x86_cpu *cpu, const struct x86_insn *i) { double_shift(cpu, i, true); }
static void exec_shrd(struct x86_cpu *cpu, const struct x86_insn *i) { double_shift(cpu, i, false); }

/* ---- bit test and scan --------------------------------------------------------- */

/*
 * BT/BTS/BTR/BTC: Ev,Ib takes the bit number mod the operand width; Ev,Gv
 * with a register operand likewise; Ev,Gv with memory treats Gv as a
 * signed bit offset from the operand's address, so the access may land
 * anywhere in the segment (operand-size aligned units, as hardware).
 */
EXEC_INLINE void bit_op(struct x86_cpu *cpu, const struct x86_insn *i, unsigned k)
{
	unsigned size = i->opsize, bits = size * 8;
	uint64_t off, a, mask;
	bool mem = x86_insn_is_mem(i);
	uint64_t ea = 0;
	if (i->opnd[1] == X86_O_Ib) {
		off = i->imm & (bits - 1);
		if (mem)
			ea = insn_ea(cpu, i);
	} else {
		uint64_t src = reg_read(cpu, i, i->reg, size);
		off = src & (bits - 1);
		if (mem) {
			int64_t soff = exec_sext(src, size);
			int64_t unit = soff >> __builtin_ctz(bits);
			ea = (insn_ea(cpu, i) + (uint64_t)unit * size) & exec_mask(i->addrsize);
		}
	}
	mask = 1ULL << off;
	if (!mem) {
		a = reg_read(cpu, i, i->rm, size);
		if (k != ALU_TEST)
			reg_write(cpu, i, i->rm, size, alu_calc(k, a, k == ALU_AND ? ~mask : mask, false));
	} else if (k == ALU_TEST) {
		a = seg_load_val(cpu, i->seg, ea, size);
	} else {
		uint64_t la = seg_linear(cpu, i->seg, ea, size, MMU_WRITE);
		uint64_t b = k == ALU_AND ? ~mask : mask;
		if (x86_insn_lock(i)) {
			a = mem_rmw_locked(cpu, la, size, k, b, false);
		} else {
			a = mem_load_rmw(cpu, la, size);
			mem_store(cpu, la, size, alu_calc(k, a, b, false));
		}
	}
	uint64_t f = cc_flags(cpu) & ~(uint64_t)F_CF;
	cc_set_eager(cpu, f | ((a >> off) & 1));
}

static void exec_bt(struct x86_cpu *cpu, const struct x86_insn *i) { bit_op(cpu, i, ALU_TEST); }
static void exec_bts(struct x86_cpu *cpu, const struct x86_insn *i) { bit_op(cpu, i, ALU_OR); }
static void exec_btr(struct x86_cpu *cpu, const struct x86_insn *i) { bit_op(cpu, i, ALU_AND); }
static void exec_btc(struct x86_cpu *cpu, const struct x86_insn *i) { bit_op(cpu, i, ALU_XOR); }

/*
 * BSF/BSR: ZF says the source was zero, and then the destination keeps
 * its whole old value (what Intel and AMD hardware do). The other flags
 * are undefined; recording a logic result of "source non-zero" yields
 * ZF and clears the rest at no cost.
 */
static void exec_bsf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t src = rm_read(cpu, i, size);
	if (src)
		reg_write(cpu, i, i->reg, size, (uint64_t)__builtin_ctzll(src));
	cc_set(cpu, CC_LOGIC, size, 0, 0, src != 0);
}

static void exec_bsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t src = rm_read(cpu, i, size);
	if (src)
		reg_write(cpu, i, i->reg, size, 63 - (uint64_t)__builtin_clzll(src));
	cc_set(cpu, CC_LOGIC, size, 0, 0, src != 0);
}

/* TZCNT/LZCNT: CF = source zero, ZF = result zero; others undefined (cleared). */
static void exec_tzcnt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t src = rm_read(cpu, i, size);
	uint64_t r = src ? (uint64_t)__builtin_ctzll(src) : size * 8;
	reg_write(cpu, i, i->reg, size, r);
	cc_set_eager(cpu, (src ? 0 : F_CF) | (r ? 0 : F_ZF));
}

static void exec_lzcnt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t src = rm_read(cpu, i, size);
	uint64_t r = src ? (uint64_t)__builtin_clzll(src) - (64 - size * 8) : size * 8;
	reg_write(cpu, i, i->reg, size, r);
	cc_set_eager(cpu, (src ? 0 : F_CF) | (r ? 0 : F_ZF));
}

/* POPCNT clears every arithmetic flag but ZF (source zero). */
static void exec_popcnt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t src = rm_read(cpu, i, size);
	reg_write(cpu, i, i->reg, size, (uint64_t)__builtin_popcountll(src));
	cc_set_eager(cpu, src ? 0 : F_ZF);
}

/* ---- BCD (not in 64-bit mode: the decoder raises #UD there) ------------------- */

static inline unsigned get_al(const struct x86_cpu *cpu)
{
	return cpu->gpr[R_RAX] & 0xff;
}

static inline void set_al(struct x86_cpu *cpu, unsigned v)
{
	reg_write_sized(cpu, R_RAX, 1, v);
}

static void exec_daa(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	uint64_t f = cc_flags(cpu);
	unsigned al = get_al(cpu), old_al = al;
	bool old_cf = f & F_CF, cf = false, af = false;
	if ((al & 0xf) > 9 || (f & F_AF)) {
		cf = old_cf || al > 0xf9;
		al = (al + 6) & 0xff;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		al = (al + 0x60) & 0xff;
		cf = true;
	} else {
		cf = false;
	}
	set_al(cpu, al);
	cc_set_eager(cpu, flags_szp(al, 1) | (cf ? F_CF : 0) | (af ? F_AF : 0));
}

static void exec_das(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	uint64_t f = cc_flags(cpu);
	unsigned al = get_al(cpu), old_al = al;
	bool old_cf = f & F_CF, cf = false, af = false;
	if ((al & 0xf) > 9 || (f & F_AF)) {
		cf = old_cf || al < 6;
		al = (al - 6) & 0xff;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		al = (al - 0x60) & 0xff;
		cf = true;
	}
	set_al(cpu, al);
	cc_set_eager(cpu, flags_szp(al, 1) | (cf ? F_CF : 0) | (af ? F_AF : 0));
}

EXEC_INLINE void ascii_adjust(struct x86_cpu *cpu, bool sub)
{
	uint64_t f = cc_flags(cpu);
	unsigned ax = cpu->gpr[R_RAX] & 0xffff;
	bool adj = (ax & 0xf) > 9 || (f & F_AF);
	if (adj) {
		if (sub) {
			unsigned al = (ax - 6) & 0xff, ah = ((ax >> 8) - 1) & 0xff;
			ax = ah << 8 | al;
		} else {
			ax = (ax + 0x106) & 0xffff;
		}
	}
	ax &= 0xff0f;
	reg_write_sized(cpu, R_RAX, 2, ax);
	cc_set_eager(cpu, flags_szp(ax & 0xff, 1) | (adj ? F_AF | F_CF : 0));
}

static void exec_aaa(struct x86_cpu *cpu, const struct x86_insn *i) { (void)i; ascii_adjust(cpu, false); }
static void exec_aas(struct x86_cpu *cpu, const struct x86_insn *i) { (void)i; ascii_adjust(cpu, true); }

static void exec_aam(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned base = i->imm & 0xff, al = get_al(cpu);
	if (!base)
		cpu_raise(cpu, EXC_DE, 0);
	reg_write_sized(cpu, R_RAX, 2, (al / base) << 8 | (al % base));
	cc_set(cpu, CC_LOGIC, 1, 0, 0, al % base);
}

static void exec_aad(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned base = i->imm & 0xff, ax = cpu->gpr[R_RAX] & 0xffff;
	unsigned al = ((ax & 0xff) + (ax >> 8) * base) & 0xff;
	reg_write_sized(cpu, R_RAX, 2, al);
	cc_set(cpu, CC_LOGIC, 1, 0, 0, al);
}

static void exec_salc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	set_al(cpu, cc_carry(cpu) ? 0xff : 0);
}

/* ---- flag instructions ------------------------------------------------------------ */

static void exec_clc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	cc_set_eager(cpu, cc_flags(cpu) & ~(uint64_t)F_CF);
}

static void exec_stc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	cc_set_eager(cpu, cc_flags(cpu) | F_CF);
}

static void exec_cmc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	cc_set_eager(cpu, cc_flags(cpu) ^ F_CF);
}

static void exec_cld(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	cpu->rflags &= ~(uint64_t)F_DF;
}

static void exec_std(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	cpu->rflags |= F_DF;
}

/* AH = SF:ZF:0:AF:0:PF:1:CF. 64-bit mode allows both (CPUID LAHF_LM). */
static void exec_lahf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	uint64_t f = (cc_flags(cpu) & 0xd5) | 0x02;
	cpu->gpr[R_RAX] = (cpu->gpr[R_RAX] & ~0xff00ULL) | f << 8;
}

static void exec_sahf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	uint64_t ah = (cpu->gpr[R_RAX] >> 8) & 0xd5;
	cc_set_eager(cpu, (cc_flags(cpu) & F_OF) | ah);
}

/* ---- specialised forms -------------------------------------------------------------- */

/*
 * INC/DEC, NEG/NOT, IMUL and the shifts and rotates with form and size
 * fixed at block-build time (exec_int_specialize), in 64-bit code, at 32
 * and 64 bits. Each records exactly what its generic handler records, so
 * later flag readers cannot tell them apart. Register forms only unless
 * the memory form is hot (INC/DEC, IMUL).
 */

EXEC_INLINE void incdec_fixed(struct x86_cpu *cpu, const struct x86_insn *i, bool dec,
			      unsigned size, bool mem)
{
	const uint64_t m = exec_mask(size);
	const bool cf = cc_cond_fixed(cpu, 2);
	uint64_t a, r;
	if (!mem) {
		a = cpu->gpr[i->rm] & m;
		r = (dec ? a - 1 : a + 1) & m;
		reg_write_sized(cpu, i->rm, size, r);
	} else {
		uint64_t la = insn_linear64(cpu, i, size);
		void *host = mem_host_rw(cpu, la, size);
		if (mmu_likely(host != NULL)) {
			a = host_load(host, size);
			r = (dec ? a - 1 : a + 1) & m;
			host_store(host, size, r);
		} else {
			a = mem_load_rmw(cpu, la, size);
			r = (dec ? a - 1 : a + 1) & m;
			mem_store(cpu, la, size, r);
		}
	}
	cc_set(cpu, dec ? CC_DEC : CC_INC, size, a, 1, r);
	cpu->cc.flags = cf ? F_CF : 0;
}

#define INCDEC_VARIANT(name, dec, size, mem) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { incdec_fixed(cpu, i, dec, size, mem); }
INCDEC_VARIANT(exec_inc_reg_4, false, 4, false)
INCDEC_VARIANT(exec_inc_reg_8, false, 8, false)
INCDEC_VARIANT(exec_inc_mem_4, false, 4, true)
INCDEC_VARIANT(exec_inc_mem_8, false, 8, true)
INCDEC_VARIANT(exec_dec_reg_4, true, 4, false)
INCDEC_VARIANT(exec_dec_reg_8, true, 8, false)
INCDEC_VARIANT(exec_dec_mem_4, true, 4, true)
INCDEC_VARIANT(exec_dec_mem_8, true, 8, true)

EXEC_INLINE void negnot_fixed(struct x86_cpu *cpu, const struct x86_insn *i, bool neg,
			      unsigned size)
{
	const uint64_t m = exec_mask(size), a = cpu->gpr[i->rm] & m;
	const uint64_t r = (neg ? 0 - a : ~a) & m;
	reg_write_sized(cpu, i->rm, size, r);
	if (neg)
		cc_set(cpu, CC_SUB, size, 0, a, r);
}

static void exec_neg_reg_4(struct x86_cpu *cpu, const struct x86_insn *i) { negnot_fixed(cpu, i, true, 4); }
static void exec_neg_reg_8(struct x86_cpu *cpu, const struct x86_insn *i) { negnot_fixed(cpu, i, true, 8); }
static void exec_not_reg_4(struct x86_cpu *cpu, const struct x86_insn *i) { negnot_fixed(cpu, i, false, 4); }
static void exec_not_reg_8(struct x86_cpu *cpu, const struct x86_insn *i) { negnot_fixed(cpu, i, false, 8); }

/*
 * IMUL Gv,Ev (a = Gv, b = Ev) and Gv,Ev,imm (a = Ev, b = imm): only the
 * low half and the overflow matter. The record is exec_imul's.
 */
EXEC_INLINE void imul_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size,
			    bool mem, bool imm)
{
	const uint64_t m = exec_mask(size);
	uint64_t src = mem ? mem_load(cpu, insn_linear64(cpu, i, size), size) : cpu->gpr[i->rm] & m;
	uint64_t a = imm ? src : cpu->gpr[i->reg] & m, b = imm ? i->imm & m : src, lo;
	bool of;
	if (size == 8) {
		int64_t p;
		of = __builtin_mul_overflow((int64_t)a, (int64_t)b, &p);
		lo = (uint64_t)p;
	} else {
		int64_t p = (int64_t)(int32_t)a * (int32_t)b;
		of = p != (int32_t)p;
		lo = (uint32_t)p;
	}
	reg_write_sized(cpu, i->reg, size, lo);
	cc_set(cpu, CC_IMUL, size, a, of, lo);
}

#define IMUL_VARIANT(name, size, mem, imm) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { imul_fixed(cpu, i, size, mem, imm); }
IMUL_VARIANT(exec_imul_ge_reg_4, 4, false, false)
IMUL_VARIANT(exec_imul_ge_reg_8, 8, false, false)
IMUL_VARIANT(exec_imul_ge_mem_4, 4, true, false)
IMUL_VARIANT(exec_imul_ge_mem_8, 8, true, false)
IMUL_VARIANT(exec_imul_gei_reg_4, 4, false, true)
IMUL_VARIANT(exec_imul_gei_reg_8, 8, false, true)
IMUL_VARIANT(exec_imul_gei_mem_4, 4, true, true)
IMUL_VARIANT(exec_imul_gei_mem_8, 8, true, true)

/*
 * Shifts and rotates of a register by Ib, 1 or CL. As in shift_op and
 * exec_rol/exec_ror: the count is masked to 5 (6) bits, a zero count
 * changes no flags but still writes (zero-extends) the register, and a
 * rotate merges CF and OF into the flags as they stand.
 */
enum shift_count_form { SC_IMM, SC_ONE, SC_CL };

EXEC_INLINE void shift_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned op,
			     unsigned size, unsigned cf_form)
{
	const unsigned bits = size * 8;
	const uint64_t m = exec_mask(size);
	unsigned n = cf_form == SC_ONE ? 1 : cf_form == SC_CL ? (unsigned)cpu->gpr[R_RCX]
							       : (unsigned)i->imm;
	n &= bits - 1;
	const uint64_t a = cpu->gpr[i->rm] & m;
	uint64_t r;
	switch (op) {
	case OP_SHL: r = (a << n) & m; break;
	case OP_SHR: r = a >> n; break;
	case OP_SAR: r = (uint64_t)(exec_sext(a, size) >> n) & m; break;
	case OP_ROL: r = n ? ((a << n) | (a >> (bits - n))) & m : a; break;
	default: r = n ? ((a >> n) | (a << (bits - n))) & m : a; break; /* OP_ROR */
	}
	reg_write_sized(cpu, i->rm, size, r);
	if (!n)
		return;
	if (op == OP_ROL || op == OP_ROR) {
		const bool msb = (r >> (bits - 1)) & 1;
		const bool cf = op == OP_ROL ? r & 1 : msb;
		const bool of = op == OP_ROL ? msb ^ cf : msb ^ ((r >> (bits - 2)) & 1);
		uint64_t f = cc_flags(cpu) & ~(uint64_t)(F_CF | F_OF);
		cc_set_eager(cpu, f | (cf ? F_CF : 0) | (of ? F_OF : 0));
	} else {
		cc_set(cpu, op == OP_SHL ? CC_SHL : op == OP_SHR ? CC_SHR : CC_SAR, size, a, n, r);
	}
}

#define SHIFT_VARIANT(name, op, size, cf_form) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { shift_fixed(cpu, i, op, size, cf_form); }
#define SHIFT_VARIANTS(sname, op)                                           \
	SHIFT_VARIANT(exec_##sname##_imm_4, op, 4, SC_IMM)                  \
	SHIFT_VARIANT(exec_##sname##_imm_8, op, 8, SC_IMM)                  \
	SHIFT_VARIANT(exec_##sname##_one_4, op, 4, SC_ONE)                  \
	SHIFT_VARIANT(exec_##sname##_one_8, op, 8, SC_ONE)                  \
	SHIFT_VARIANT(exec_##sname##_cl_4, op, 4, SC_CL)                    \
	SHIFT_VARIANT(exec_##sname##_cl_8, op, 8, SC_CL)                    \
	static const exec_fn shift_variants_##sname[3][2] = {               \
		[SC_IMM] = { exec_##sname##_imm_4, exec_##sname##_imm_8 },  \
		[SC_ONE] = { exec_##sname##_one_4, exec_##sname##_one_8 },  \
		[SC_CL] = { exec_##sname##_cl_4, exec_##sname##_cl_8 },     \
	};
SHIFT_VARIANTS(shl, OP_SHL)
SHIFT_VARIANTS(shr, OP_SHR)
SHIFT_VARIANTS(sar, OP_SAR)
SHIFT_VARIANTS(rol, OP_ROL)
SHIFT_VARIANTS(ror, OP_ROR)

exec_fn exec_int_specialize(const struct x86_insn *i)
{
	if (i->mode != X86_MODE_64 || x86_insn_lock(i))
		return NULL;
	switch (i->op) {
	case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB:
	case OP_XOR: case OP_CMP: case OP_TEST:
		return alu_specialize(i);
	}
	if (i->opsize != 4 && i->opsize != 8)
		return NULL;
	const bool q = i->opsize == 8, mem = x86_insn_is_mem(i);
	const unsigned d = i->opnd[0], s = i->opnd[1];
	switch (i->op) {
	case OP_INC:
	case OP_DEC: {
		if (d != X86_O_Ev)
			return NULL;
		static const exec_fn v[2][2][2] = {
			{ { exec_inc_reg_4, exec_inc_reg_8 }, { exec_inc_mem_4, exec_inc_mem_8 } },
			{ { exec_dec_reg_4, exec_dec_reg_8 }, { exec_dec_mem_4, exec_dec_mem_8 } },
		};
		return v[i->op == OP_DEC][mem][q];
	}
	case OP_NEG:
		return d == X86_O_Ev && !mem ? (q ? exec_neg_reg_8 : exec_neg_reg_4) : NULL;
	case OP_NOT:
		return d == X86_O_Ev && !mem ? (q ? exec_not_reg_8 : exec_not_reg_4) : NULL;
	case OP_IMUL: {
		if (d != X86_O_Gv || s != X86_O_Ev)
			return NULL;
		static const exec_fn v[2][2][2] = {
			{ { exec_imul_ge_reg_4, exec_imul_ge_reg_8 },
			  { exec_imul_ge_mem_4, exec_imul_ge_mem_8 } },
			{ { exec_imul_gei_reg_4, exec_imul_gei_reg_8 },
			  { exec_imul_gei_mem_4, exec_imul_gei_mem_8 } },
		};
		unsigned f = i->opnd[2];
		if (f != X86_O_NONE && f != X86_O_Iz && f != X86_O_Ibs)
			return NULL;
		return v[f != X86_O_NONE][mem][q];
	}
	case OP_SHL: case OP_SHR: case OP_SAR: case OP_ROL: case OP_ROR: {
		if (d != X86_O_Ev || mem)
			return NULL;
		unsigned cf = s == X86_O_Ib ? SC_IMM : s == X86_O_I1 ? SC_ONE : SC_CL;
		if (s != X86_O_Ib && s != X86_O_I1 && s != X86_O_CL)
			return NULL;
		const exec_fn(*v)[2] = i->op == OP_SHL ? shift_variants_shl
				       : i->op == OP_SHR ? shift_variants_shr
				       : i->op == OP_SAR ? shift_variants_sar
				       : i->op == OP_ROL ? shift_variants_rol
							 : shift_variants_ror;
		return v[cf][q];
	}
	default:
		return NULL;
	}
}

void exec_int_register(exec_fn *t)
{
	t[OP_ADD] = exec_add;
	t[OP_OR] = exec_or;
	t[OP_ADC] = exec_adc;
	t[OP_SBB] = exec_sbb;
	t[OP_AND] = exec_and;
	t[OP_SUB] = exec_sub;
	t[OP_XOR] = exec_xor;
	t[OP_CMP] = exec_cmp;
	t[OP_TEST] = exec_test;
	t[OP_INC] = exec_inc;
	t[OP_DEC] = exec_dec;
	t[OP_NOT] = exec_not;
	t[OP_NEG] = exec_neg;
	t[OP_MUL] = exec_mul;
	t[OP_IMUL] = exec_imul;
	t[OP_DIV] = exec_div;
	t[OP_IDIV] = exec_idiv;
	t[OP_ROL] = exec_rol;
	t[OP_ROR] = exec_ror;
	t[OP_RCL] = exec_rcl;
	t[OP_RCR] = exec_rcr;
	t[OP_SHL] = exec_shl;
	t[OP_SHR] = exec_shr;
	t[OP_SAR] = exec_sar;
	t[OP_SHLD] = exec_shld;
	t[OP_SHRD] = exec_shrd;
	t[OP_BT] = exec_bt;
	t[OP_BTS] = exec_bts;
	t[OP_BTR] = exec_btr;
	t[OP_BTC] = exec_btc;
	t[OP_BSF] = exec_bsf;
	t[OP_BSR] = exec_bsr;
	/*
	 * On a CPU without BMI1/LZCNT the F3 prefix is ignored and these
	 * encodings execute as BSF/BSR (Linux's __ffs relies on "rep bsf"
	 * doing exactly that); what runs follows the CPU model.
	 */
	t[OP_TZCNT] = EXEC_MODEL_BMI1 ? exec_tzcnt : exec_bsf;
	t[OP_LZCNT] = EXEC_MODEL_LZCNT ? exec_lzcnt : exec_bsr;
	t[OP_POPCNT] = exec_popcnt;
	t[OP_DAA] = exec_daa;
	t[OP_DAS] = exec_das;
	t[OP_AAA] = exec_aaa;
	t[OP_AAS] = exec_aas;
	t[OP_AAM] = exec_aam;
	t[OP_AAD] = exec_aad;
	t[OP_SALC] = exec_salc;
	t[OP_CLC] = exec_clc;
	t[OP_STC] = exec_stc;
	t[OP_CMC] = exec_cmc;
	t[OP_CLD] = exec_cld;
	t[OP_STD] = exec_std;
	t[OP_LAHF] = exec_lahf;
	t[OP_SAHF] = exec_sahf;
	exec_data_register(t);
}
