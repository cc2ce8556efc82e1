/*
 * Private helpers of the integer handlers (exec_int.c, exec_data.c,
 * exec_string.c, exec_ctrl.c): the ALU operation kinds that plain and
 * LOCK-prefixed read-modify-writes share, eager-flag helpers, and the
 * E-operand load/store pair that keeps a read-modify-write to one
 * translation. Not part of the interface other handler classes use.
 */
#ifndef KEMU_ACCEL_TCG_EXEC_INT_H
#define KEMU_ACCEL_TCG_EXEC_INT_H

#include "accel/tcg/exec.h"

#define EXEC_INLINE static inline __attribute__((always_inline))

/* What a read-modify-write computes from the old value a and operand b. */
enum alu_kind {
	ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
	ALU_TEST, ALU_NEG, ALU_NOT, ALU_XCHG,
};

/* Full-width result; callers mask to the operand size. With a constant
 * kind (the handlers' case) this folds to one host operation. */
EXEC_INLINE uint64_t alu_calc(unsigned k, uint64_t a, uint64_t b, bool cf)
{
	switch (k) {
	case ALU_ADD: return a + b;
	case ALU_OR: return a | b;
	case ALU_ADC: return a + b + cf;
	case ALU_SBB: return a - b - cf;
	case ALU_AND: case ALU_TEST: return a & b;
	case ALU_SUB: case ALU_CMP: return a - b;
	case ALU_XOR: return a ^ b;
	case ALU_NEG: return 0 - a;
	case ALU_NOT: return ~a;
	default: return b; /* ALU_XCHG */
	}
}

/*
 * LOCK-prefixed read-modify-write of size bytes at linear la: host
 * atomics on RAM, else a plain load and store under mmu_lock_global().
 * Returns the old value; the new one is alu_calc(k, old, b, cf).
 */
uint64_t mem_rmw_locked(struct x86_cpu *cpu, uint64_t la, unsigned size, unsigned k, uint64_t b,
			bool cf);

/* ZF, SF and PF of a result at size. */
EXEC_INLINE uint64_t flags_szp(uint64_t res, unsigned size)
{
	uint64_t f = 0;
	res &= exec_mask(size);
	if (!res)
		f |= F_ZF;
	if (res >> (size * 8 - 1))
		f |= F_SF;
	if (!__builtin_parityll(res & 0xff))
		f |= F_PF;
	return f;
}

/*
 * The six arithmetic flags as they stand (materialises lazy flags). Flags
 * already eager, logic results and ADD/SUB records, the usual state before
 * a rotate or a bit test, are computed inline as flags.c's cc_compute
 * does; flags.c computes the rest.
 */
EXEC_INLINE uint64_t cc_flags(struct x86_cpu *cpu)
{
	const struct cc_state *s = &cpu->cc;
	switch (s->op) {
	case CC_EAGER:
		return s->flags & F_ARITH;
	case CC_LOGIC:
		return flags_szp(s->res, s->size);
	case CC_ADD:
	case CC_SUB: {
		/* Operands at the top of the register, as in cc_cond_fixed. */
		const unsigned sh = 64 - s->size * 8;
		const uint64_t a = s->src1 << sh, b = s->src2 << sh, r = s->res << sh;
		uint64_t f = flags_szp(s->res, s->size) | ((s->src1 ^ s->src2 ^ s->res) & F_AF);
		if (s->op == CC_ADD ? r < a : a < b)
			f |= F_CF;
		if ((int64_t)(s->op == CC_ADD ? (a ^ r) & (b ^ r) : (a ^ b) & (a ^ r)) < 0)
			f |= F_OF;
		return f;
	}
	default:
		return cpu_get_rflags(cpu) & F_ARITH;
	}
}

EXEC_INLINE void cc_set_eager(struct x86_cpu *cpu, uint64_t flags)
{
	cpu->cc.op = CC_EAGER;
	cpu->cc.flags = flags & F_ARITH;
}

/* Condition cc (0-15, as the opcode's low nibble) from materialised flags. */
EXEC_INLINE bool cc_cond_flags(uint64_t f, unsigned cc)
{
	bool v;
	switch (cc >> 1) {
	case 0: v = f & F_OF; break;
	case 1: v = f & F_CF; break;
	case 2: v = f & F_ZF; break;
	case 3: v = f & (F_CF | F_ZF); break;
	case 4: v = f & F_SF; break;
	case 5: v = f & F_PF; break;
	case 6: v = !(f & F_SF) != !(f & F_OF); break;
	default: v = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;
	}
	return (cc & 1) ? !v : v;
}

/*
 * cpu_cond for a condition fixed at build time: eager flags, and the
 * answers that come straight from a SUB/CMP or logic record (the usual
 * producers before a Jcc), inline; so is the carry of ADD/ADC/SBB and
 * INC/DEC (what ADC, SBB and INC/DEC themselves consume); the rest from
 * flags.c. Operands shifted to the top of the register compare like the
 * operand-size values, signed or unsigned, without masking or
 * sign-extending them.
 */
EXEC_INLINE bool cc_cond_fixed(struct x86_cpu *cpu, unsigned cc)
{
	const struct cc_state *s = &cpu->cc;
	const unsigned op = s->op, sh = 64 - s->size * 8;
	const uint64_t r = s->res << sh;
	bool v;
	if (op == CC_EAGER)
		return cc_cond_flags(s->flags, cc);
	if ((cc >> 1) == 5)
		return cpu_cond(cpu, cc);
	switch (cc >> 1) {
	case 2: /* E: every lazy record derives ZF from its result */
		v = r == 0;
		break;
	case 4: /* S: and SF */
		v = (int64_t)r < 0;
		break;
	default:
		if (op == CC_SUB) {
			uint64_t a = s->src1 << sh, b = s->src2 << sh;
			switch (cc >> 1) {
			case 0: v = (int64_t)((a ^ b) & (a ^ r)) < 0; break;
			case 1: v = a < b; break;
			case 3: v = a <= b; break;
			case 6: v = (int64_t)a < (int64_t)b; break;
			default: v = (int64_t)a <= (int64_t)b; break;
			}
		} else if (op == CC_LOGIC) {
			switch (cc >> 1) {
			case 0: case 1: v = false; break;
			case 3: v = r == 0; break;
			case 6: v = (int64_t)r < 0; break;
			default: v = r == 0 || (int64_t)r < 0; break;
			}
		} else if ((cc >> 1) == 1) {
			/* CF, as flags.c's cc_compute derives it. */
			uint64_t a = s->src1 << sh, b = s->src2 << sh;
			switch (op) {
			case CC_ADD: v = r < a; break;
			case CC_ADC: v = s->carry ? r <= a : r < a; break;
			case CC_SBB: v = s->carry ? a <= b : a < b; break;
			case CC_INC: case CC_DEC: v = s->flags & F_CF; break;
			default: return cpu_cond(cpu, cc);
			}
		} else {
			return cpu_cond(cpu, cc);
		}
	}
	return (cc & 1) ? !v : v;
}

/*
 * The linear address of a stack access of size bytes at sp in 64-bit mode
 * (what seg_linear does for SS there): SS has no base, and an address
 * that is not canonical is #SS(0).
 */
EXEC_INLINE uint64_t stack_linear64(struct x86_cpu *cpu, uint64_t sp, unsigned size)
{
	const uint64_t half = 1ULL << 47;
	if (mmu_likely((((sp + half) | (sp + size - 1 + half)) >> 48) == 0))
		return sp;
	seg_raise_noncanonical(cpu, SEG_SS);
}

/* An E operand being read-modified-written: a register or a linear address. */
struct eloc {
	uint64_t la;
	bool mem;
};

/* Loads the E operand for a later e_store (memory: translated for write). */
EXEC_INLINE uint64_t e_load(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size,
			    struct eloc *l)
{
	l->mem = x86_insn_is_mem(i);
	if (!l->mem)
		return reg_read(cpu, i, i->rm, size);
	l->la = insn_linear(cpu, i, size, MMU_WRITE);
	return mem_load_rmw(cpu, l->la, size);
}

EXEC_INLINE void e_store(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size,
			 const struct eloc *l, uint64_t v)
{
	if (!l->mem)
		reg_write(cpu, i, i->rm, size, v);
	else
		mem_store(cpu, l->la, size, v);
}

/*
 * Read-modify-write of the E operand with kind k, honouring LOCK. Returns
 * the new value (masked) and the old one in *old.
 */
EXEC_INLINE uint64_t e_rmw(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size, unsigned k,
			   uint64_t b, bool cf, uint64_t *old)
{
	uint64_t m = exec_mask(size), a, r;
	if (x86_insn_lock(i)) {
		uint64_t la = insn_linear(cpu, i, size, MMU_WRITE);
		a = mem_rmw_locked(cpu, la, size, k, b, cf);
		r = alu_calc(k, a, b, cf) & m;
	} else {
		struct eloc l;
		a = e_load(cpu, i, size, &l);
		r = alu_calc(k, a, b, cf) & m;
		e_store(cpu, i, size, &l, r);
	}
	*old = a;
	return r;
}

/*
 * Port I/O (exec_ctrl.c): io_check raises #GP(0) unless the current
 * privilege (IOPL, or the TSS I/O bitmap) allows size bytes at port;
 * io_in/io_out go to vm->pio, unclaimed reads giving all-ones.
 */
void io_check(struct x86_cpu *cpu, unsigned port, unsigned size);
uint64_t io_in(struct x86_cpu *cpu, unsigned port, unsigned size);
void io_out(struct x86_cpu *cpu, unsigned port, unsigned size, uint64_t v);

/* Registration of the files exec_int_register/exec_ctrl_register pull in. */
void exec_data_register(exec_fn *t);
void exec_string_register(exec_fn *t);

#endif
