/*
 * Near control flow and port I/O: Jcc, JMP, CALL, RET, LOOP/LOOPE/LOOPNE,
 * JCXZ, IN and OUT, and the I/O permission check (IOPL, then the TSS I/O
 * bitmap) that INS/OUTS share. The string instructions (exec_string.c)
 * register from here too. Far transfers belong to exec_system.c.
 *
 * Every transfer checks its target (canonical in 64-bit mode, CS limit
 * elsewhere) before anything changes: CALL validates the target, then
 * pushes, then jumps, so a failing push or target leaves no trace.
 */
#include "accel/tcg/exec_int.h"

/* The target of a near transfer, checked (#GP(0)) but not yet taken. */
static inline uint64_t near_target(struct x86_cpu *cpu, uint64_t target, unsigned opsize)
{
	if (cpu->mode == 64) {
		if (!mmu_canonical(target))
			cpu_raise(cpu, EXC_GP, 0);
		return target;
	}
	target &= exec_mask(opsize < 4 ? 2 : 4);
	if (target > cpu->seg[SEG_CS].limit)
		cpu_raise(cpu, EXC_GP, 0);
	return target;
}

static void exec_jcc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (cpu_cond(cpu, i->cc))
		cpu->rip = near_target(cpu, cpu->rip + i->imm, i->opsize);
}

/*
 * Jcc in 64-bit code, one handler per condition (exec_ctrl_specialize):
 * the condition folds into cc_cond_fixed's fast paths, and 64-bit mode
 * needs only the canonical check.
 */
EXEC_INLINE void jcc_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned cc)
{
	if (cc_cond_fixed(cpu, cc)) {
		uint64_t t = cpu->rip + i->imm;
		if (!mmu_canonical(t))
			cpu_raise(cpu, EXC_GP, 0);
		cpu->rip = t;
	}
}

#define JCC_VARIANT(cc) 	static void exec_jcc_##cc(struct x86_cpu *cpu, const struct x86_insn *i) { jcc_fixed(cpu, i, cc); }
JCC_VARIANT(0) JCC_VARIANT(1) JCC_VARIANT(2) JCC_VARIANT(3)
JCC_VARIANT(4) JCC_VARIANT(5) JCC_VARIANT(6) JCC_VARIANT(7)
JCC_VARIANT(8) JCC_VARIANT(9) JCC_VARIANT(10) JCC_VARIANT(11)
JCC_VARIANT(12) JCC_VARIANT(13) JCC_VARIANT(14) JCC_VARIANT(15)

static const exec_fn jcc_variants[16] = {
	exec_jcc_0, exec_jcc_1, exec_jcc_2, exec_jcc_3, exec_jcc_4, exec_jcc_5,
	exec_jcc_6, exec_jcc_7, exec_jcc_8, exec_jcc_9, exec_jcc_10, exec_jcc_11,
	exec_jcc_12, exec_jcc_13, exec_jcc_14, exec_jcc_15,
};

/*
 * CALL, RET and JMP in 64-bit code (operand size 8: the decoder forces
 * it): the target is checked before the stack is touched, RSP changes
 * only once the push or pop succeeded, and the stack needs no segment
 * step beyond the canonical check.
 */
EXEC_INLINE uint64_t target64(struct x86_cpu *cpu, uint64_t t)
{
	if (!mmu_canonical(t))
		cpu_raise(cpu, EXC_GP, 0);
	return t;
}

EXEC_INLINE void call64(struct x86_cpu *cpu, uint64_t t)
{
	uint64_t sp = cpu->gpr[R_RSP] - 8;
	t = target64(cpu, t);
	mmu_st64(cpu, stack_linear64(cpu, sp, 8), cpu->rip);
	cpu->gpr[R_RSP] = sp;
	cpu->rip = t;
}

static void exec_call64_rel(struct x86_cpu *cpu, const struct x86_insn *i)
{
	call64(cpu, cpu->rip + i->imm);
}

static void exec_call64_reg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	call64(cpu, cpu->gpr[i->rm]);
}

static void exec_call64_mem(struct x86_cpu *cpu, const struct x86_insn *i)
{
	call64(cpu, mmu_ld64(cpu, insn_linear64(cpu, i, 8)));
}

EXEC_INLINE void ret64(struct x86_cpu *cpu, uint64_t release)
{
	uint64_t sp = cpu->gpr[R_RSP];
	uint64_t t = target64(cpu, mmu_ld64(cpu, stack_linear64(cpu, sp, 8)));
	cpu->gpr[R_RSP] = sp + 8 + release;
	cpu->rip = t;
}

static void exec_ret64(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	ret64(cpu, 0);
}

static void exec_ret64_iw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	ret64(cpu, i->imm & 0xffff);
}

static void exec_jmp64_rel(struct x86_cpu *cpu, const struct x86_insn *i)
{
	cpu->rip = target64(cpu, cpu->rip + i->imm);
}

static void exec_jmp64_reg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	cpu->rip = target64(cpu, cpu->gpr[i->rm]);
}

exec_fn exec_ctrl_specialize(const struct x86_insn *i)
{
	if (i->mode != X86_MODE_64)
		return NULL;
	const unsigned f = i->opnd[0];
	const bool mem = x86_insn_is_mem(i);
	switch (i->op) {
	case OP_JCC:
		return jcc_variants[i->cc & 15];
	case OP_CALL:
		if (i->opsize != 8)
			return NULL;
		if (f == X86_O_Jz)
			return exec_call64_rel;
		return f == X86_O_Ev ? (mem ? exec_call64_mem : exec_call64_reg) : NULL;
	case OP_RET:
		if (i->opsize != 8)
			return NULL;
		return f == X86_O_Iw ? exec_ret64_iw : f == X86_O_NONE ? exec_ret64 : NULL;
	case OP_JMP:
		if (i->opsize != 8)
			return NULL;
		if (f == X86_O_Jb || f == X86_O_Jz)
			return exec_jmp64_rel;
		return f == X86_O_Ev && !mem ? exec_jmp64_reg : NULL;
	default:
		return NULL;
	}
}

/* Forms Jb/Jz (relative) and Ev (absolute, from a register or memory). */
static inline uint64_t branch_dest(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (i->opnd[0] == X86_O_Ev)
		return rm_read(cpu, i, i->opsize);
	return cpu->rip + i->imm;
}

static void exec_jmp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	cpu->rip = near_target(cpu, branch_dest(cpu, i), i->opsize);
}

static void exec_call(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t t = near_target(cpu, branch_dest(cpu, i), i->opsize);
	stack_push(cpu, i->opsize, cpu->rip & exec_mask(i->opsize));
	cpu->rip = t;
}

/* RET and RET Iw: the Iw bytes are released after the return address. */
static void exec_ret(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t t = near_target(cpu, stack_peek(cpu, size, 0), size);
	stack_adjust(cpu, size + (i->opnd[0] == X86_O_Iw ? (i->imm & 0xffff) : 0));
	cpu->rip = t;
}

/*
 * LOOP/LOOPE/LOOPNE decrement the count register at the address size;
 * the target is checked before the decrement is committed.
 */
EXEC_INLINE void loop_op(struct x86_cpu *cpu, const struct x86_insn *i, int zf_want)
{
	unsigned asz = i->addrsize;
	uint64_t cnt = (cpu->gpr[R_RCX] - 1) & exec_mask(asz);
	bool take = cnt != 0;
	if (take && zf_want >= 0)
		take = cpu_cond(cpu, 4) == (zf_want != 0);
	uint64_t t = take ? near_target(cpu, cpu->rip + i->imm, i->opsize) : cpu->rip;
	reg_write_sized(cpu, R_RCX, asz, cnt);
	cpu->rip = t;
}

static void exec_loop(struct x86_cpu *cpu, const struct x86_insn *i) { loop_op(cpu, i, -1); }
static void exec_loope(struct x86_cpu *cpu, const struct x86_insn *i) { loop_op(cpu, i, 1); }
static void exec_loopne(struct x86_cpu *cpu, const struct x86_insn *i) { loop_op(cpu, i, 0); }

/* JCXZ/JECXZ/JRCXZ by address size. */
static void exec_jcxz(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!(cpu->gpr[R_RCX] & exec_mask(i->addrsize)))
		cpu->rip = near_target(cpu, cpu->rip + i->imm, i->opsize);
}

/* ---- port I/O ------------------------------------------------------------- */

/*
 * Protected mode with CPL > IOPL, and virtual-8086 mode, consult the I/O
 * bitmap of a 32/64-bit TSS: the 16-bit bitmap offset at TSS+0x66, one
 * bit per port byte, two bitmap bytes read (so the last byte of a
 * bitmap must lie inside the TSS limit too). Anything else is #GP(0).
 */
void io_check(struct x86_cpu *cpu, unsigned port, unsigned size)
{
	if (!(cpu->cr0 & X86_CR0_PE))
		return;
	unsigned iopl = (cpu->rflags & F_IOPL) >> 12;
	if (!(cpu->rflags & F_VM) && cpu->cpl <= iopl)
		return;
	const struct x86_seg *tr = &cpu->tr;
	if (tr->unusable || (tr->type != 9 && tr->type != 11) || tr->limit < 0x67)
		cpu_raise(cpu, EXC_GP, 0);
	uint64_t lm = cpu->mode == 64 ? ~0ULL : 0xffffffffULL;
	uint64_t off = mmu_ld16_sys(cpu, (tr->base + 0x66) & lm) + (port >> 3);
	if (off + 1 > tr->limit)
		cpu_raise(cpu, EXC_GP, 0);
	unsigned bits = mmu_ld16_sys(cpu, (tr->base + off) & lm);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		cpu_raise(cpu, EXC_GP, 0);
}

uint64_t io_in(struct x86_cpu *cpu, unsigned port, unsigned size)
{
	uint64_t v = ~0ULL; /* unclaimed ports read as all-ones */
	bus_read(&cpu->vm->pio, port, &v, size);
	return v & exec_mask(size);
}

void io_out(struct x86_cpu *cpu, unsigned port, unsigned size, uint64_t v)
{
	bus_write(&cpu->vm->pio, port, &v, size);
}

/* IN AL/eAX, Ib|DX and OUT Ib|DX, AL/eAX (sizes 1, 2, 4). */
static void exec_in(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	unsigned port = i->opnd[1] == X86_O_Ib ? (unsigned)(i->imm & 0xff)
					       : (unsigned)(cpu->gpr[R_RDX] & 0xffff);
	io_check(cpu, port, size);
	reg_write_sized(cpu, R_RAX, size, io_in(cpu, port, size));
}

static void exec_out(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	unsigned port = i->opnd[0] == X86_O_Ib ? (unsigned)(i->imm & 0xff)
					       : (unsigned)(cpu->gpr[R_RDX] & 0xffff);
	io_check(cpu, port, size);
	io_out(cpu, port, size, cpu->gpr[R_RAX] & exec_mask(size));
}

void exec_ctrl_register(exec_fn *t)
{
	t[OP_JCC] = exec_jcc;
	t[OP_JMP] = exec_jmp;
	t[OP_CALL] = exec_call;
	t[OP_RET] = exec_ret;
	t[OP_LOOP] = exec_loop;
	t[OP_LOOPE] = exec_loope;
	t[OP_LOOPNE] = exec_loopne;
	t[OP_JCXZ] = exec_jcxz;
	t[OP_IN] = exec_in;
	t[OP_OUT] = exec_out;
	exec_string_register(t);
}
