/*
 * Data movement: MOV and its extending forms, LEA, exchanges and
 * compare-exchanges (with their LOCK semantics), CMOVcc/SETcc, the
 * accumulator conversions, BSWAP, XLAT, and the stack: PUSH/POP in every
 * form, PUSHA/POPA, ENTER/LEAVE. Hint instructions (NOP, PAUSE,
 * PREFETCH) live here as no-ops. Registered from exec_int_register.
 *
 * Stack instructions that touch several slots check every slot (read
 * them, or probe the writes) before the first register or memory write,
 * so a #SS/#PF leaves the instruction undone.
 */
#include "accel/tcg/exec_int.h"

/* ---- MOV ----------------------------------------------------------------- */

/* Register number of a register-valued form (G, Z, accumulator, E register). */
static inline unsigned form_reg(const struct x86_insn *i, unsigned f)
{
	switch (f) {
	case X86_O_Gb: case X86_O_Gv: case X86_O_Gw: case X86_O_Gd: case X86_O_Gy:
	case X86_O_Zb: case X86_O_Zv: case X86_O_Zy:
		return i->reg;
	case X86_O_AL: case X86_O_AX: case X86_O_rAX: case X86_O_eAX:
		return R_RAX;
	default:
		return i->rm;
	}
}

static inline bool form_is_imm(unsigned f)
{
	return f == X86_O_Ib || f == X86_O_Ibs || f == X86_O_Iz || f == X86_O_Iv || f == X86_O_Iw;
}

/*
 * Forms: Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,Ob rAX,Ov Ob,AL Ov,rAX Zb,Ib Zv,Iv
 * Eb,Ib Ev,Iz. Memory (E or moffs) is described by the insn's address
 * fields either way, so "is memory" plus "which side" is all it takes.
 */
EXEC_INLINE void mov_form(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size,
			  unsigned d, unsigned s)
{
	bool mem = x86_insn_is_mem(i);
	uint64_t v;
	if (form_is_imm(s))
		v = i->imm;
	else if (mem && (s == X86_O_Eb || s == X86_O_Ev || s == X86_O_Ob || s == X86_O_Ov))
		v = mem_load(cpu, insn_linear(cpu, i, size, MMU_READ), size);
	else
		v = reg_read(cpu, i, form_reg(i, s), size);
	if (mem && (d == X86_O_Eb || d == X86_O_Ev || d == X86_O_Ob || d == X86_O_Ov))
		mem_store(cpu, insn_linear(cpu, i, size, MMU_WRITE), size, v);
	else
		reg_write(cpu, i, form_reg(i, d), size, v);
}

static void exec_mov(struct x86_cpu *cpu, const struct x86_insn *i)
{
	mov_form(cpu, i, i->opsize, i->opnd[0], i->opnd[1]);
}

/*
 * The same with the form and size fixed, so the compiler folds the form
 * dispatch away: MOV is the most frequent instruction by far, and these
 * four forms at 32 and 64 bits are nearly all of it. exec_data_specialize
 * picks one once per decoded instruction.
 */
#define MOV_VARIANT(name, size, d, s) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { mov_form(cpu, i, size, d, s); }
MOV_VARIANT(exec_mov_ev_gv_4, 4, X86_O_Ev, X86_O_Gv)
MOV_VARIANT(exec_mov_ev_gv_8, 8, X86_O_Ev, X86_O_Gv)
MOV_VARIANT(exec_mov_gv_ev_4, 4, X86_O_Gv, X86_O_Ev)
MOV_VARIANT(exec_mov_gv_ev_8, 8, X86_O_Gv, X86_O_Ev)
MOV_VARIANT(exec_mov_zv_iv_4, 4, X86_O_Zv, X86_O_Iv)
MOV_VARIANT(exec_mov_zv_iv_8, 8, X86_O_Zv, X86_O_Iv)
MOV_VARIANT(exec_mov_ev_iz_4, 4, X86_O_Ev, X86_O_Iz)
MOV_VARIANT(exec_mov_ev_iz_8, 8, X86_O_Ev, X86_O_Iz)

exec_fn exec_data_specialize(const struct x86_insn *i)
{
	if (i->op != OP_MOV || (i->opsize != 4 && i->opsize != 8))
		return NULL;
	bool q = i->opsize == 8;
	unsigned d = i->opnd[0], s = i->opnd[1];
	if (d == X86_O_Ev && s == X86_O_Gv)
		return q ? exec_mov_ev_gv_8 : exec_mov_ev_gv_4;
	if (d == X86_O_Gv && s == X86_O_Ev)
		return q ? exec_mov_gv_ev_8 : exec_mov_gv_ev_4;
	if (d == X86_O_Zv && s == X86_O_Iv)
		return q ? exec_mov_zv_iv_8 : exec_mov_zv_iv_4;
	if (d == X86_O_Ev && s == X86_O_Iz)
		return q ? exec_mov_ev_iz_8 : exec_mov_ev_iz_4;
	return NULL;
}

/* MOVNTI My, Gy: the non-temporal hint means nothing here. */
static void exec_movnti(struct x86_cpu *cpu, const struct x86_insn *i)
{
	mem_store(cpu, insn_linear(cpu, i, i->opsize, MMU_WRITE), i->opsize,
		  reg_read(cpu, i, i->reg, i->opsize));
}

/* Source size of MOVZX/MOVSX: the form says Eb or Ew. */
static void exec_movzx(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned ss = i->opnd[1] == X86_O_Eb ? 1 : 2;
	reg_write(cpu, i, i->reg, i->opsize, rm_read(cpu, i, ss));
}

static void exec_movsx(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned ss = i->opnd[1] == X86_O_Eb ? 1 : 2;
	reg_write(cpu, i, i->reg, i->opsize, (uint64_t)exec_sext(rm_read(cpu, i, ss), ss));
}

/* MOVSXD Gv, Ed: without REX.W it is a plain 32- (or 16-) bit move. */
static void exec_movsxd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, ss = size < 4 ? size : 4;
	reg_write(cpu, i, i->reg, size, (uint64_t)exec_sext(rm_read(cpu, i, ss), ss));
}

/* The effective address is already cut to the address size; the write cuts to opsize. */
static void exec_lea(struct x86_cpu *cpu, const struct x86_insn *i)
{
	reg_write(cpu, i, i->reg, i->opsize, insn_ea(cpu, i));
}

/* ---- exchanges -------------------------------------------------------------- */

/* Forms Eb,Gb Ev,Gv Zv,rAX. A memory XCHG is locked whatever the prefixes say. */
static void exec_xchg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	if (i->opnd[0] == X86_O_Zv) {
		uint64_t a = reg_read(cpu, i, i->reg, size), b = reg_read(cpu, i, R_RAX, size);
		reg_write(cpu, i, i->reg, size, b);
		reg_write(cpu, i, R_RAX, size, a);
		return;
	}
	uint64_t g = reg_read(cpu, i, i->reg, size), old;
	if (x86_insn_is_mem(i)) {
		uint64_t la = insn_linear(cpu, i, size, MMU_WRITE);
		old = mem_rmw_locked(cpu, la, size, ALU_XCHG, g, false);
	} else {
		old = reg_read(cpu, i, i->rm, size);
		reg_write(cpu, i, i->rm, size, g);
	}
	reg_write(cpu, i, i->reg, size, old);
}

/* Locked compare-exchange on host memory; false when the operand is not RAM. */
static bool cas_host(void *host, unsigned size, uint64_t *expected, uint64_t desired)
{
	switch (size) {
	case 1: {
		uint8_t e = (uint8_t)*expected;
		bool ok = __atomic_compare_exchange_n((uint8_t *)host, &e, (uint8_t)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	case 2: {
		uint16_t e = (uint16_t)*expected;
		bool ok = __atomic_compare_exchange_n((uint16_t *)host, &e, (uint16_t)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	case 4: {
		uint32_t e = (uint32_t)*expected;
		bool ok = __atomic_compare_exchange_n((uint32_t *)host, &e, (uint32_t)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	default:
		return __atomic_compare_exchange_n((uint64_t *)host, expected, desired, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

/*
 * CMPXCHG Eb,Gb / Ev,Gv. Memory always sees a write cycle (the old value
 * goes back when the compare fails). A register destination is written
 * only on success and the accumulator only on failure, so a 32-bit form
 * zero-extends just the register it writes, as hardware does.
 */
static void exec_cmpxchg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t acc = reg_read(cpu, i, R_RAX, size), src = reg_read(cpu, i, i->reg, size), old;
	bool eq;
	if (!x86_insn_is_mem(i)) {
		old = reg_read(cpu, i, i->rm, size);
		eq = old == acc;
		if (eq)
			reg_write(cpu, i, i->rm, size, src);
	} else {
		uint64_t la = insn_linear(cpu, i, size, MMU_WRITE);
		void *host = x86_insn_lock(i) ? mmu_host_rmw(cpu, la, size) : NULL;
		if (host) {
			old = acc;
			eq = cas_host(host, size, &old, src);
		} else {
			bool lk = x86_insn_lock(i);
			if (lk)
				mmu_lock_global();
			old = mem_load_rmw(cpu, la, size);
			eq = old == acc;
			mem_store(cpu, la, size, eq ? src : old);
			if (lk)
				mmu_unlock_global();
		}
	}
	if (!eq)
		reg_write(cpu, i, R_RAX, size, old);
	cc_set(cpu, CC_SUB, size, acc, old, (acc - old) & exec_mask(size));
}

/* XADD: Gv gets the old destination, the destination the sum. */
static void exec_xadd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t b = reg_read(cpu, i, i->reg, size), a, r;
	if (!x86_insn_is_mem(i)) {
		a = reg_read(cpu, i, i->rm, size);
		r = (a + b) & exec_mask(size);
		reg_write(cpu, i, i->reg, size, a);
		reg_write(cpu, i, i->rm, size, r);
	} else {
		r = e_rmw(cpu, i, size, ALU_ADD, b, false, &a);
		reg_write(cpu, i, i->reg, size, a);
	}
	cc_set(cpu, CC_ADD, size, a, b, r);
}

/*
 * CMPXCHG8B/16B: always done as one atomic access when the operand is
 * RAM (the unlocked form is rare and this is no slower). Only ZF changes.
 */
static void exec_cmpxchg8b(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t la = insn_linear(cpu, i, 8, MMU_WRITE);
	uint64_t expect = (cpu->gpr[R_RDX] << 32) | (uint32_t)cpu->gpr[R_RAX];
	uint64_t desired = (cpu->gpr[R_RCX] << 32) | (uint32_t)cpu->gpr[R_RBX], old = expect;
	void *host = mmu_host_rmw(cpu, la, 8);
	bool eq;
	if (host) {
		eq = cas_host(host, 8, &old, desired);
	} else {
		mmu_lock_global();
		old = mmu_ld64(cpu, la);
		eq = old == expect;
		mmu_st64(cpu, la, eq ? desired : old);
		mmu_unlock_global();
	}
	if (!eq) {
		reg_write_sized(cpu, R_RAX, 4, old);
		reg_write_sized(cpu, R_RDX, 4, old >> 32);
	}
	cc_set_eager(cpu, (cc_flags(cpu) & ~(uint64_t)F_ZF) | (eq ? F_ZF : 0));
}

static void exec_cmpxchg16b(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t la = insn_linear(cpu, i, 16, MMU_WRITE);
	if (la & 15)
		cpu_raise(cpu, EXC_GP, 0);
	uint64_t exp_lo = cpu->gpr[R_RAX], exp_hi = cpu->gpr[R_RDX];
	uint64_t new_lo = cpu->gpr[R_RBX], new_hi = cpu->gpr[R_RCX];
	uint64_t old_lo = exp_lo, old_hi = exp_hi;
	void *host = mmu_host_rmw(cpu, la, 16);
	bool eq;
#if defined(__x86_64__)
	if (host) {
		/* The host instruction itself: no libatomic, no lock. */
		__asm__ volatile("lock cmpxchg16b %[m]"
				 : [m] "+m"(*(unsigned __int128 *)host), "=@ccz"(eq), "+a"(old_lo),
				   "+d"(old_hi)
				 : "b"(new_lo), "c"(new_hi)
				 : "memory");
	} else
#endif
	{
		(void)host;
		mmu_lock_global();
		old_lo = mmu_ld64(cpu, la);
		old_hi = mmu_ld64(cpu, la + 8);
		eq = old_lo == exp_lo && old_hi == exp_hi;
		mmu_st64(cpu, la, eq ? new_lo : old_lo);
		mmu_st64(cpu, la + 8, eq ? new_hi : old_hi);
		mmu_unlock_global();
	}
	if (!eq) {
		cpu->gpr[R_RAX] = old_lo;
		cpu->gpr[R_RDX] = old_hi;
	}
	cc_set_eager(cpu, (cc_flags(cpu) & ~(uint64_t)F_ZF) | (eq ? F_ZF : 0));
}

static void exec_bswap(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t v = cpu->gpr[i->reg];
	/* The decoder sizes BSWAP as 32/64; a 16-bit operand size (66 outside
	 * 16-bit code, none inside it) is undefined by the SDM: CPUs clear the
	 * low word and keep the rest, as does this. */
	bool o16 = !(i->rex & 8) && ((i->mode == X86_MODE_16) != !!(i->prefixes & X86_PFX_OPSZ));
	if (o16) {
		cpu->gpr[i->reg] = v & ~0xffffULL;
		return;
	}
	if (i->opsize == 8)
		cpu->gpr[i->reg] = __builtin_bswap64(v);
	else
		cpu->gpr[i->reg] = __builtin_bswap32((uint32_t)v);
}

/* ---- conversions, conditionals ------------------------------------------------ */

/* CBW/CWDE/CDQE: sign-extend the lower half of the accumulator. */
static void exec_cbw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	reg_write_sized(cpu, R_RAX, size, (uint64_t)exec_sext(cpu->gpr[R_RAX], size / 2));
}

/* CWD/CDQ/CQO: rDX = the accumulator's sign. */
static void exec_cwd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	reg_write_sized(cpu, R_RDX, size, (uint64_t)(exec_sext(cpu->gpr[R_RAX], size) >> 63));
}

/* The source is read (and may fault) whatever the condition; a false
 * condition with a 32-bit operand still zero-extends the destination. */
static void exec_cmovcc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t v = rm_read(cpu, i, size);
	if (cpu_cond(cpu, i->cc))
		reg_write(cpu, i, i->reg, size, v);
	else if (size == 4)
		cpu->gpr[i->reg] = (uint32_t)cpu->gpr[i->reg];
}

static void exec_setcc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	rm_write(cpu, i, 1, cpu_cond(cpu, i->cc));
}

/* XLAT: AL = seg:[rBX + AL], address-size wrapped. */
static void exec_xlat(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t off = (cpu->gpr[R_RBX] + (cpu->gpr[R_RAX] & 0xff)) & exec_mask(i->addrsize);
	reg_write_sized(cpu, R_RAX, 1, seg_load_val(cpu, i->seg, off, 1));
}

static void exec_nop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)cpu;
	(void)i;
}

/* ---- stack ---------------------------------------------------------------- */

static const uint8_t seg_of_form[X86_O_COUNT] = {
	[X86_O_ES] = SEG_ES, [X86_O_CS] = SEG_CS, [X86_O_SS] = SEG_SS,
	[X86_O_DS] = SEG_DS, [X86_O_FS] = SEG_FS, [X86_O_GS] = SEG_GS,
};

static inline bool form_is_sreg(unsigned f)
{
	return f >= X86_O_ES && f <= X86_O_GS;
}

/*
 * Forms: Zv, Ev, Iz, Ibs, and the segment registers. A selector is pushed
 * zero-extended to the operand size (one of the two behaviours the SDM
 * allows). PUSH rSP pushes the value from before the push.
 */
static void exec_push(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, f = i->opnd[0];
	uint64_t v;
	if (f == X86_O_Zv)
		v = cpu->gpr[i->reg];
	else if (f == X86_O_Ev)
		v = rm_read(cpu, i, size);
	else if (form_is_sreg(f))
		v = cpu->seg[seg_of_form[f]].selector;
	else
		v = i->imm;
	stack_push(cpu, size, v & exec_mask(size));
}

/* The effective address with rSP replaced by rsp (POP to memory uses the popped rSP). */
static uint64_t ea_with_rsp(const struct x86_cpu *cpu, const struct x86_insn *i, uint64_t rsp)
{
	uint64_t ea = (uint64_t)i->disp;
	if (i->base != X86_REG_NONE)
		ea += i->base == R_RSP ? rsp : cpu->gpr[i->base];
	if (i->index != X86_REG_NONE)
		ea += cpu->gpr[i->index] << i->scale;
	if (x86_insn_riprel(i))
		ea += cpu->rip;
	return ea & exec_mask(i->addrsize);
}

/* Forms: Zv, Ev, and DS/ES/SS/FS/GS (through seg_load's checks). */
static void exec_pop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, f = i->opnd[0];
	uint64_t v = stack_peek(cpu, size, 0);
	if (f == X86_O_Zv) {
		stack_adjust(cpu, size);
		reg_write(cpu, i, i->reg, size, v); /* after: POP rSP loads the popped value */
	} else if (f == X86_O_Ev) {
		if (x86_insn_is_mem(i)) {
			unsigned ss = stack_size(cpu);
			uint64_t rsp = cpu->gpr[R_RSP];
			uint64_t nsp = (rsp & ~exec_mask(ss)) | ((rsp + size) & exec_mask(ss));
			uint64_t ea = ea_with_rsp(cpu, i, nsp);
			seg_store_val(cpu, i->seg, ea, size, v);
			stack_adjust(cpu, size);
		} else {
			stack_adjust(cpu, size);
			reg_write(cpu, i, i->rm, size, v);
		}
	} else {
		int seg = seg_of_form[f];
		seg_load(cpu, seg, (uint16_t)v);
		stack_adjust(cpu, size);
		if (seg == SEG_SS)
			cpu->intr_shadow = true;
	}
}

/* Linear address of n bytes just below the stack pointer, checked for writing. */
static void stack_probe_push(struct x86_cpu *cpu, unsigned n)
{
	unsigned ss = stack_size(cpu);
	uint64_t sp = (cpu->gpr[R_RSP] - n) & exec_mask(ss);
	mmu_probe_write(cpu, seg_linear(cpu, SEG_SS, sp, n, MMU_WRITE), n);
}

static void exec_pusha(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t regs[8];
	memcpy(regs, cpu->gpr, sizeof(regs));
	stack_probe_push(cpu, 8 * size);
	for (int r = 0; r < 8; r++)
		stack_push(cpu, size, regs[r] & exec_mask(size));
}

static void exec_popa(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize;
	uint64_t v[8];
	for (int r = 0; r < 8; r++)
		v[7 - r] = stack_peek(cpu, size, r * size);
	for (int r = 0; r < 8; r++)
		if (r != R_RSP)
			reg_write_sized(cpu, r, size, v[r]);
	stack_adjust(cpu, 8 * size);
}

/*
 * ENTER Iw, Ib: push rBP, copy level-1 frame pointers from the old frame,
 * push the new frame pointer, then allocate. Every read and the whole
 * push area are checked before the first store.
 */
static void exec_enter(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, level = i->imm2 & 31, ss = stack_size(cpu);
	uint64_t sm = exec_mask(ss), alloc = i->imm & 0xffff;
	uint64_t copies[32];
	unsigned npush = 1 + (level ? level : 0);
	uint64_t rbp = cpu->gpr[R_RBP], sp = cpu->gpr[R_RSP] & sm;
	for (unsigned k = 1; k < level; k++)
		copies[k] = seg_load_val(cpu, SEG_SS, (rbp - k * size) & sm, size);
	stack_probe_push(cpu, npush * size);
	/*
	 * The frame is written first and the registers only once the final
	 * stack pointer is known to be writable, as the CPU does: a fault on
	 * that last check leaves the pushed words in memory but RSP and RBP
	 * unchanged.
	 */
	sp = (sp - size) & sm;
	seg_store_val(cpu, SEG_SS, sp, size, rbp & exec_mask(size));
	uint64_t frame = sp;
	if (level) {
		for (unsigned k = 1; k < level; k++) {
			sp = (sp - size) & sm;
			seg_store_val(cpu, SEG_SS, sp, size, copies[k]);
		}
		sp = (sp - size) & sm;
		seg_store_val(cpu, SEG_SS, sp, size, frame);
	}
	uint64_t final_sp = (sp - alloc) & sm;
	mmu_probe_write(cpu, seg_linear(cpu, SEG_SS, final_sp, size, MMU_WRITE), size);
	reg_write_sized(cpu, R_RBP, size, frame);
	reg_write_sized(cpu, R_RSP, ss, final_sp);
}

/* LEAVE: rSP = rBP (stack size), then POP rBP. */
static void exec_leave(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, ss = stack_size(cpu);
	uint64_t sm = exec_mask(ss), sp = cpu->gpr[R_RBP] & sm;
	uint64_t v = seg_load_val(cpu, SEG_SS, sp, size);
	reg_write_sized(cpu, R_RSP, ss, (sp + size) & sm);
	reg_write_sized(cpu, R_RBP, size, v);
}

void exec_data_register(exec_fn *t)
{
	t[OP_MOV] = exec_mov;
	t[OP_MOVNTI] = exec_movnti;
	t[OP_MOVZX] = exec_movzx;
	t[OP_MOVSX] = exec_movsx;
	t[OP_MOVSXD] = exec_movsxd;
	t[OP_LEA] = exec_lea;
	t[OP_XCHG] = exec_xchg;
	t[OP_CMPXCHG] = exec_cmpxchg;
	t[OP_XADD] = exec_xadd;
	t[OP_CMPXCHG8B] = exec_cmpxchg8b;
	t[OP_CMPXCHG16B] = exec_cmpxchg16b;
	t[OP_BSWAP] = exec_bswap;
	t[OP_CBW] = exec_cbw;
	t[OP_CWD] = exec_cwd;
	t[OP_CMOVCC] = exec_cmovcc;
	t[OP_SETCC] = exec_setcc;
	t[OP_XLAT] = exec_xlat;
	t[OP_NOP] = exec_nop;
	t[OP_PAUSE] = exec_nop;
	t[OP_PREFETCH] = exec_nop;
	t[OP_PREFETCHW] = exec_nop;
	t[OP_PUSH] = exec_push;
	t[OP_POP] = exec_pop;
	t[OP_PUSHA] = exec_pusha;
	t[OP_POPA] = exec_popa;
	t[OP_ENTER] = exec_enter;
	t[OP_LEAVE] = exec_leave;
}
