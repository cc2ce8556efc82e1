/*
 * Far transfers: JMP and CALL to another code segment (Ap and Mp forms),
 * RETF and IRET, in real, virtual-8086, protected and long mode. They are
 * registered by exec_system.c.
 *
 * Every handler reads all it needs from the stack or memory and checks
 * every descriptor before it changes anything: a return that faults on
 * its SS check leaves CS, RIP and RSP as they were.
 *
 * Not supported, raising #GP with a log note: call gates, task gates and
 * TSS selectors as far JMP/CALL targets (task switches), and IRET with NT
 * set outside long mode (a return from a nested task). Linux and the test
 * kernels use none of them.
 */
#include "accel/tcg/system.h"
#include "util/log.h"

/* Flags a return can always write; IF, IOPL and VM depend on privilege. */
#define FLAGS_RET (F_ARITH | F_TF | F_DF | F_NT | F_RF | F_AC | F_ID)

/* The far pointer operand: immediate (Ap) or offset-then-selector in memory (Mp). */
static void far_ptr(struct x86_cpu *cpu, const struct x86_insn *i, uint64_t *off, uint16_t *sel)
{
	unsigned osz = i->opsize;
	if (i->opnd[0] == X86_O_Ap) {
		*off = i->imm & exec_mask(osz);
		*sel = i->imm2;
		return;
	}
	uint64_t la = insn_linear(cpu, i, osz + 2, MMU_READ);
	*off = mem_load(cpu, la, osz);
	uint64_t la2 = la + osz;
	*sel = mmu_ld16(cpu, cpu->mode == 64 ? la2 : (uint32_t)la2);
}

/*
 * Far CALL's two pushes: translate both slots first (precise), then store
 * them and move RSP. The stack belongs to the current CPL.
 */
static void far_push2(struct x86_cpu *cpu, unsigned sz, uint64_t first, uint64_t second)
{
	unsigned ssz = stack_size(cpu);
	uint64_t mask = exec_mask(ssz), sp = cpu->gpr[R_RSP];
	uint64_t la1 = seg_linear(cpu, SEG_SS, (sp - sz) & mask, sz, MMU_WRITE);
	uint64_t la2 = seg_linear(cpu, SEG_SS, (sp - 2 * sz) & mask, sz, MMU_WRITE);
	mmu_probe_write(cpu, la1, sz);
	mmu_probe_write(cpu, la2, sz);
	mem_store(cpu, la1, sz, first);
	mem_store(cpu, la2, sz, second);
	reg_write_sized(cpu, R_RSP, ssz, (sp - 2 * sz) & mask);
}

/* Checks a code-segment target's offset: limit outside 64-bit code, canonical in it. */
static uint64_t far_offset(struct x86_cpu *cpu, uint64_t off, unsigned osz, const uint64_t d[2])
{
	if (sys_long_mode(cpu) && DESC_L(d[0])) {
		if (!mmu_canonical(off))
			cpu_raise(cpu, EXC_GP, 0);
		return off;
	}
	off &= osz == 2 ? 0xffff : 0xffffffff;
	struct x86_seg s;
	seg_from_descriptor(&s, 0, d, false);
	if (off > s.limit)
		cpu_raise(cpu, EXC_GP, 0);
	return off;
}

static void far_transfer(struct x86_cpu *cpu, const struct x86_insn *i, bool call)
{
	uint64_t off;
	uint16_t sel;
	unsigned osz = i->opsize;
	far_ptr(cpu, i, &off, &sel);

	if (!sys_protected(cpu)) {
		bool v86 = cpu->rflags & F_VM;
		off &= exec_mask(osz);
		if (off > 0xffff && v86)
			cpu_raise(cpu, EXC_GP, 0);
		if (off > cpu->seg[SEG_CS].limit)
			cpu_raise(cpu, EXC_GP, 0);
		if (call)
			far_push2(cpu, osz, cpu->seg[SEG_CS].selector, cpu->rip);
		sys_load_real_seg(cpu, SEG_CS, sel, v86);
		cpu->rip = off;
		return;
	}

	if (!(sel & 0xfffc))
		cpu_raise(cpu, EXC_GP, 0);
	uint64_t d[2];
	seg_load_descriptor(cpu, sel, d, false, EXC_GP);
	uint32_t err = sel & 0xfffcu;
	if (!DESC_S(d[0])) {
		log_debug("cpu: far %s through system descriptor type %#x (selector %#x): "
			  "call gates and task switches are not supported",
			  call ? "call" : "jmp", DESC_TYPE(d[0]), sel);
		cpu_raise(cpu, EXC_GP, err);
	}
	unsigned type = DESC_TYPE(d[0]), dpl = DESC_DPL(d[0]), cpl = cpu->cpl;
	if (!(type & TYPE_CODE))
		cpu_raise(cpu, EXC_GP, err);
	if (type & TYPE_CONFORMING) {
		if (dpl > cpl)
			cpu_raise(cpu, EXC_GP, err);
	} else if ((sel & 3u) > cpl || dpl != cpl) {
		cpu_raise(cpu, EXC_GP, err);
	}
	if (!DESC_P(d[0]))
		cpu_raise(cpu, EXC_NP, err);
	if (sys_long_mode(cpu) && DESC_L(d[0]) && DESC_DB(d[0]))
		cpu_raise(cpu, EXC_GP, err);
	off = far_offset(cpu, off, osz, d);
	seg_set_accessed(cpu, sel, d);
	if (call)
		far_push2(cpu, osz, cpu->seg[SEG_CS].selector, cpu->rip);
	sys_load_cs(cpu, sel, d, cpl);
	cpu->rip = off;
}

static void exec_jmpf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	far_transfer(cpu, i, false);
}

static void exec_callf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	far_transfer(cpu, i, true);
}

/* The new RSP after popping `bytes` from the current stack (sized by the current mode). */
static uint64_t rsp_after_pop(struct x86_cpu *cpu, uint64_t bytes)
{
	unsigned ssz = stack_size(cpu);
	uint64_t mask = exec_mask(ssz);
	uint64_t sp = (cpu->gpr[R_RSP] + bytes) & mask;
	return ssz == 2 ? (cpu->gpr[R_RSP] & ~0xffffULL) | sp : sp;
}

/* RSP after a return to an outer level: sized by the new stack. */
static uint64_t rsp_outer(struct x86_cpu *cpu, uint64_t sp, bool to64, const struct x86_seg *ss)
{
	if (to64)
		return sp;
	if (ss->db)
		return (uint32_t)sp;
	return (cpu->gpr[R_RSP] & ~0xffffULL) | (sp & 0xffff);
}

/*
 * The protected-mode checks on a return's CS (RETF and IRET alike);
 * returns the descriptor in d.
 */
static void ret_check_cs(struct x86_cpu *cpu, uint16_t sel, uint64_t d[2])
{
	uint32_t err = sel & 0xfffcu;
	unsigned rpl = sel & 3u;
	if (!err)
		cpu_raise(cpu, EXC_GP, 0);
	if (rpl < cpu->cpl)
		cpu_raise(cpu, EXC_GP, err);
	seg_load_descriptor(cpu, sel, d, false, EXC_GP);
	if (!desc_is_code(d[0]))
		cpu_raise(cpu, EXC_GP, err);
	unsigned dpl = DESC_DPL(d[0]);
	if ((DESC_TYPE(d[0]) & TYPE_CONFORMING) ? dpl > rpl : dpl != rpl)
		cpu_raise(cpu, EXC_GP, err);
	if (!DESC_P(d[0]))
		cpu_raise(cpu, EXC_NP, err);
	if (sys_long_mode(cpu) && DESC_L(d[0]) && DESC_DB(d[0]))
		cpu_raise(cpu, EXC_GP, err);
}

/*
 * The SS a return to an outer level (or IRET in 64-bit mode) loads. A
 * null selector is allowed only returning to 64-bit code below CPL 3.
 * Returns false for null.
 */
static bool ret_check_ss(struct x86_cpu *cpu, uint16_t ss_sel, unsigned rpl, bool to64, uint64_t sd[2])
{
	if (!(ss_sel & 0xfffc)) {
		if (!to64 || rpl == 3)
			cpu_raise(cpu, EXC_GP, 0);
		return false;
	}
	return sys_check_ss(cpu, ss_sel, rpl, sd, EXC_GP, 0);
}

static void exec_retf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned osz = i->opsize;
	uint64_t imm = i->opnd[0] == X86_O_Iw ? (i->imm & 0xffff) : 0;
	uint64_t off = stack_peek(cpu, osz, 0);
	uint16_t sel = (uint16_t)stack_peek(cpu, osz, osz);

	if (!sys_protected(cpu)) {
		bool v86 = cpu->rflags & F_VM;
		if (off > cpu->seg[SEG_CS].limit)
			cpu_raise(cpu, EXC_GP, 0);
		uint64_t rsp = rsp_after_pop(cpu, 2 * osz + imm);
		sys_load_real_seg(cpu, SEG_CS, sel, v86);
		cpu->rip = off;
		cpu->gpr[R_RSP] = rsp;
		return;
	}

	uint64_t d[2], sd[2];
	ret_check_cs(cpu, sel, d);
	unsigned rpl = sel & 3u;
	bool to64 = sys_long_mode(cpu) && DESC_L(d[0]);
	bool outer = rpl > cpu->cpl;
	uint64_t new_sp = 0;
	uint16_t ss_sel = 0;
	bool ss_valid = false;
	if (outer) {
		new_sp = stack_peek(cpu, osz, 2 * osz + (unsigned)imm);
		ss_sel = (uint16_t)stack_peek(cpu, osz, 3 * osz + (unsigned)imm);
		ss_valid = ret_check_ss(cpu, ss_sel, rpl, to64, sd);
	}
	off = far_offset(cpu, off, osz, d);
	seg_set_accessed(cpu, sel, d);
	if (ss_valid)
		seg_set_accessed(cpu, ss_sel, sd);

	/* Nothing below faults. */
	uint64_t rsp = rsp_after_pop(cpu, 2 * osz + imm);
	sys_load_cs(cpu, sel, d, rpl);
	cpu->rip = off;
	if (outer) {
		sys_load_ss(cpu, ss_sel, ss_valid ? sd : NULL);
		cpu->gpr[R_RSP] = rsp_outer(cpu, new_sp + imm, to64, &cpu->seg[SEG_SS]);
		sys_null_inner_segs(cpu);
	} else {
		cpu->gpr[R_RSP] = rsp;
	}
}

/* Writes popped flags through mask; VM never changes here. */
static void iret_set_flags(struct x86_cpu *cpu, uint64_t fl, uint64_t mask)
{
	cpu_set_rflags(cpu, fl, mask & ~(uint64_t)F_VM);
}

static void iret_real(struct x86_cpu *cpu, unsigned osz, bool v86)
{
	uint64_t off = stack_peek(cpu, osz, 0);
	uint16_t sel = (uint16_t)stack_peek(cpu, osz, osz);
	uint64_t fl = stack_peek(cpu, osz, 2 * osz);
	if (off > cpu->seg[SEG_CS].limit)
		cpu_raise(cpu, EXC_GP, 0);
	/* Real mode may change IOPL; virtual-8086 mode (IOPL 3 here) may not. */
	uint64_t mask = FLAGS_RET | F_IF | (v86 ? 0 : F_IOPL);
	if (osz == 2)
		mask &= 0xffff;
	cpu->gpr[R_RSP] = rsp_after_pop(cpu, 3 * osz);
	sys_load_real_seg(cpu, SEG_CS, sel, v86);
	cpu->rip = off;
	iret_set_flags(cpu, fl, mask);
}

/* IRET from CPL 0 to virtual-8086 mode: pops ESP, SS, ES, DS, FS, GS too. */
static void iret_to_v86(struct x86_cpu *cpu, uint64_t off, uint16_t sel, uint64_t fl)
{
	uint64_t v[6];
	for (unsigned k = 0; k < 6; k++)
		v[k] = stack_peek(cpu, 4, 12 + 4 * k);
	cpu_set_rflags(cpu, fl, ~0ULL);
	cpu->rflags |= F_VM;
	sys_load_real_seg(cpu, SEG_CS, sel, true);
	sys_load_real_seg(cpu, SEG_SS, (uint16_t)v[1], true);
	sys_load_real_seg(cpu, SEG_ES, (uint16_t)v[2], true);
	sys_load_real_seg(cpu, SEG_DS, (uint16_t)v[3], true);
	sys_load_real_seg(cpu, SEG_FS, (uint16_t)v[4], true);
	sys_load_real_seg(cpu, SEG_GS, (uint16_t)v[5], true);
	cpu->gpr[R_RSP] = (uint32_t)v[0];
	cpu->rip = off & 0xffff;
	cpu_update_mode(cpu);
}

static void exec_iret(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned osz = i->opsize;
	if (!(cpu->cr0 & X86_CR0_PE)) {
		iret_real(cpu, osz, false);
		cpu->nmi_blocked = false;
		return;
	}
	if (cpu->rflags & F_VM) {
		/* No VME: IRET in virtual-8086 mode needs IOPL 3. */
		if ((cpu->rflags & F_IOPL) != F_IOPL)
			cpu_raise(cpu, EXC_GP, 0);
		iret_real(cpu, osz, true);
		cpu->nmi_blocked = false;
		return;
	}
	if (cpu->rflags & F_NT) {
		if (!sys_long_mode(cpu))
			log_debug("cpu: IRET with NT set: task returns are not supported");
		cpu_raise(cpu, EXC_GP, 0);
	}

	uint64_t off = stack_peek(cpu, osz, 0);
	uint16_t sel = (uint16_t)stack_peek(cpu, osz, osz);
	uint64_t fl = stack_peek(cpu, osz, 2 * osz);
	unsigned cpl = cpu->cpl;

	if ((fl & F_VM) && cpl == 0 && osz == 4 && !sys_long_mode(cpu)) {
		iret_to_v86(cpu, off, sel, fl);
		cpu->nmi_blocked = false;
		return;
	}

	uint64_t d[2], sd[2];
	ret_check_cs(cpu, sel, d);
	unsigned rpl = sel & 3u;
	bool to64 = sys_long_mode(cpu) && DESC_L(d[0]);
	/* 64-bit mode always pops SS:RSP; elsewhere only a return to an outer level does. */
	bool pop_ss = rpl > cpl || cpu->mode == 64;
	uint64_t new_sp = 0;
	uint16_t ss_sel = 0;
	bool ss_valid = false;
	if (pop_ss) {
		new_sp = stack_peek(cpu, osz, 3 * osz);
		ss_sel = (uint16_t)stack_peek(cpu, osz, 4 * osz);
		ss_valid = ret_check_ss(cpu, ss_sel, rpl, to64, sd);
	}
	off = far_offset(cpu, off, osz, d);
	seg_set_accessed(cpu, sel, d);
	if (ss_valid)
		seg_set_accessed(cpu, ss_sel, sd);

	/* Nothing below faults. Flags as the old CPL and IOPL allow. */
	uint64_t mask = FLAGS_RET;
	unsigned iopl = (unsigned)(cpu->rflags & F_IOPL) >> 12;
	if (cpl <= iopl)
		mask |= F_IF;
	if (cpl == 0)
		mask |= F_IOPL;
	if (osz == 2)
		mask &= 0xffff;
	uint64_t rsp = rsp_after_pop(cpu, 3 * osz);
	iret_set_flags(cpu, fl, mask);
	sys_load_cs(cpu, sel, d, rpl);
	cpu->rip = off;
	if (pop_ss) {
		sys_load_ss(cpu, ss_sel, ss_valid ? sd : NULL);
		cpu->gpr[R_RSP] = rsp_outer(cpu, new_sp, to64, &cpu->seg[SEG_SS]);
		if (rpl > cpl)
			sys_null_inner_segs(cpu);
	} else {
		cpu->gpr[R_RSP] = rsp;
	}
	cpu->nmi_blocked = false;
}

void exec_far_register(exec_fn *t)
{
	t[OP_JMPF] = exec_jmpf;
	t[OP_CALLF] = exec_callf;
	t[OP_RETF] = exec_retf;
	t[OP_IRET] = exec_iret;
}
