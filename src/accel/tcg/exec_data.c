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
 *
 * The hottest forms also have handlers with form and size fixed at
 * block-build time (exec_data_specialize, at the end of the file); each
 * must behave exactly as the generic handler of its operation.
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
/* Byte and word moves, in any mode. */
MOV_VARIANT(exec_mov_eb_gb, 1, X86_O_Eb, X86_O_Gb)
MOV_VARIANT(exec_mov_gb_eb, 1, X86_O_Gb, X86_O_Eb)
MOV_VARIANT(exec_mov_zb_ib, 1, X86_O_Zb, X86_O_Ib)
MOV_VARIANT(exec_mov_eb_ib, 1, X86_O_Eb, X86_O_Ib)
MOV_VARIANT(exec_mov_ev_gv_2, 2, X86_O_Ev, X86_O_Gv)
MOV_VARIANT(exec_mov_gv_ev_2, 2, X86_O_Gv, X86_O_Ev)
MOV_VARIANT(exec_mov_ev_iz_2, 2, X86_O_Ev, X86_O_Iz)

/* The form-fixed MOV for i in any mode, or NULL. */
static exec_fn mov_specialize(const struct x86_insn *i)
{
	unsigned d = i->opnd[0], s = i->opnd[1];
	if (i->opsize == 1) {
		if (d == X86_O_Eb && s == X86_O_Gb)
			return exec_mov_eb_gb;
		if (d == X86_O_Gb && s == X86_O_Eb)
			return exec_mov_gb_eb;
		if (d == X86_O_Zb && s == X86_O_Ib)
			return exec_mov_zb_ib;
		if (d == X86_O_Eb && s == X86_O_Ib)
			return exec_mov_eb_ib;
		return NULL;
	}
	if (i->opsize == 2) {
		if (d == X86_O_Ev && s == X86_O_Gv)
			return exec_mov_ev_gv_2;
		if (d == X86_O_Gv && s == X86_O_Ev)
			return exec_mov_gv_ev_2;
		if (d == X86_O_Ev && s == X86_O_Iz)
			return exec_mov_ev_iz_2;
		return NULL;
	}
	bool q = i->opsize == 8;
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

/*
 * MOVSXD Gv, Ed: without REX.W it is a plain 32- (or 16-) bit move. The
 * source is a doubleword even for a 16-bit destination: the CPU reads
 * (and faults on) all four bytes.
 */
static void exec_movsxd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	reg_write(cpu, i, i->reg, i->opsize, (uint64_t)exec_sext(rm_read(cpu, i, 4), 4));
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

/* ---- specialised forms ------------------------------------------------------ */

/*
 * Handlers for 64-bit code with form and size fixed at block-build time
 * (exec_data_specialize): 64-bit mode needs no segment checks beyond the
 * FS/GS base and canonical addresses, and the stack is always 8 bytes
 * wide with no SS base. Byte forms are taken only when the register is the
 * low byte of its GPR (REX present, or not AH..BH); the rest stay generic.
 * Every one reads (and so faults) before it writes anything.
 */

/* MOV between registers, and MOV with memory or an immediate. */
EXEC_INLINE void mov64_reg(struct x86_cpu *cpu, unsigned dst, unsigned src, unsigned size)
{
	reg_write_sized(cpu, dst, size, cpu->gpr[src]);
}

static void exec_mov_eg_rr_4(struct x86_cpu *cpu, const struct x86_insn *i) { mov64_reg(cpu, i->rm, i->reg, 4); }
static void exec_mov_eg_rr_8(struct x86_cpu *cpu, const struct x86_insn *i) { mov64_reg(cpu, i->rm, i->reg, 8); }
static void exec_mov_ge_rr_4(struct x86_cpu *cpu, const struct x86_insn *i) { mov64_reg(cpu, i->reg, i->rm, 4); }
static void exec_mov_ge_rr_8(struct x86_cpu *cpu, const struct x86_insn *i) { mov64_reg(cpu, i->reg, i->rm, 8); }

EXEC_INLINE void mov64_store(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size, bool imm)
{
	uint64_t v = imm ? i->imm : cpu->gpr[i->reg];
	mem_store(cpu, insn_linear64(cpu, i, size), size, v);
}

EXEC_INLINE void mov64_load(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size)
{
	reg_write_sized(cpu, i->reg, size, mem_load(cpu, insn_linear64(cpu, i, size), size));
}

#define MOV64_MEM_VARIANTS(sz)                                                                    \
	static void exec_mov64_st_##sz(struct x86_cpu *cpu, const struct x86_insn *i) { mov64_store(cpu, i, sz, false); } \
	static void exec_mov64_sti_##sz(struct x86_cpu *cpu, const struct x86_insn *i) { mov64_store(cpu, i, sz, true); } \
	static void exec_mov64_ld_##sz(struct x86_cpu *cpu, const struct x86_insn *i) { mov64_load(cpu, i, sz); }
MOV64_MEM_VARIANTS(1)
MOV64_MEM_VARIANTS(2)
MOV64_MEM_VARIANTS(4)
MOV64_MEM_VARIANTS(8)

static void exec_mov64_ri_4(struct x86_cpu *cpu, const struct x86_insn *i)
{
	cpu->gpr[i->rm] = (uint32_t)i->imm;
}

static void exec_mov64_ri_8(struct x86_cpu *cpu, const struct x86_insn *i)
{
	cpu->gpr[i->rm] = i->imm;
}

static exec_fn mov64_specialize(const struct x86_insn *i)
{
	static const exec_fn st[4] = { exec_mov64_st_1, exec_mov64_st_2, exec_mov64_st_4, exec_mov64_st_8 };
	static const exec_fn sti[4] = { exec_mov64_sti_1, exec_mov64_sti_2, exec_mov64_sti_4,
					exec_mov64_sti_8 };
	static const exec_fn ld[4] = { exec_mov64_ld_1, exec_mov64_ld_2, exec_mov64_ld_4, exec_mov64_ld_8 };
	const unsigned d = i->opnd[0], s = i->opnd[1], size = i->opsize;
	const unsigned sz = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
	const bool q = size == 8, mem = x86_insn_is_mem(i);
	if (mem) {
		bool high = size == 1 && x86_insn_byte_reg_is_high(i, i->reg);
		if ((d == X86_O_Ev || d == X86_O_Eb) && (s == X86_O_Gv || s == X86_O_Gb))
			return high ? NULL : st[sz];
		if ((d == X86_O_Gv || d == X86_O_Gb) && (s == X86_O_Ev || s == X86_O_Eb))
			return high ? NULL : ld[sz];
		if ((d == X86_O_Ev && s == X86_O_Iz) || (d == X86_O_Eb && s == X86_O_Ib))
			return sti[sz];
		return NULL;
	}
	if (size != 4 && size != 8)
		return NULL;
	if (d == X86_O_Ev && s == X86_O_Gv)
		return q ? exec_mov_eg_rr_8 : exec_mov_eg_rr_4;
	if (d == X86_O_Gv && s == X86_O_Ev)
		return q ? exec_mov_ge_rr_8 : exec_mov_ge_rr_4;
	if (d == X86_O_Ev && s == X86_O_Iz)
		return q ? exec_mov64_ri_8 : exec_mov64_ri_4;
	return NULL;
}

/*
 * MOVZX/MOVSX Gv, Eb/Ew and MOVSXD Gv, Ed. A zero-extended byte or word
 * is the same whether the destination is 32 or 64 bits wide.
 */
EXEC_INLINE uint64_t ext_src(struct x86_cpu *cpu, const struct x86_insn *i, unsigned ss, bool mem,
			     bool high)
{
	if (mem)
		return mem_load(cpu, insn_linear64(cpu, i, ss), ss);
	if (high)
		return (cpu->gpr[i->rm - 4] >> 8) & 0xff;
	return cpu->gpr[i->rm] & exec_mask(ss);
}

#define MOVZX_VARIANT(name, ss, mem, high) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { cpu->gpr[i->reg] = ext_src(cpu, i, ss, mem, high); }
MOVZX_VARIANT(exec_movzx_b_reg, 1, false, false)
MOVZX_VARIANT(exec_movzx_b_high, 1, false, true)
MOVZX_VARIANT(exec_movzx_b_mem, 1, true, false)
MOVZX_VARIANT(exec_movzx_w_reg, 2, false, false)
MOVZX_VARIANT(exec_movzx_w_mem, 2, true, false)

EXEC_INLINE void movsx_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned ss,
			     unsigned size, bool mem)
{
	reg_write_sized(cpu, i->reg, size, (uint64_t)exec_sext(ext_src(cpu, i, ss, mem, false), ss));
}

#define MOVSX_VARIANT(name, ss, size, mem) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { movsx_fixed(cpu, i, ss, size, mem); }
MOVSX_VARIANT(exec_movsx_b_reg_4, 1, 4, false)
MOVSX_VARIANT(exec_movsx_b_reg_8, 1, 8, false)
MOVSX_VARIANT(exec_movsx_b_mem_4, 1, 4, true)
MOVSX_VARIANT(exec_movsx_b_mem_8, 1, 8, true)
MOVSX_VARIANT(exec_movsx_w_reg_4, 2, 4, false)
MOVSX_VARIANT(exec_movsx_w_reg_8, 2, 8, false)
MOVSX_VARIANT(exec_movsx_w_mem_4, 2, 4, true)
MOVSX_VARIANT(exec_movsx_w_mem_8, 2, 8, true)
/* MOVSXD at 64 bits sign-extends; at 32 it is a plain 32-bit move. */
MOVSX_VARIANT(exec_movsxd_reg_8, 4, 8, false)
MOVSX_VARIANT(exec_movsxd_mem_8, 4, 8, true)
MOVSX_VARIANT(exec_movsxd_reg_4, 4, 4, false)
MOVSX_VARIANT(exec_movsxd_mem_4, 4, 4, true)

static exec_fn ext_specialize(const struct x86_insn *i)
{
	const bool q = i->opsize == 8, mem = x86_insn_is_mem(i);
	const bool byte = i->opnd[1] == X86_O_Eb;
	if (i->opsize != 4 && i->opsize != 8)
		return NULL;
	if (i->op == OP_MOVSXD)
		return mem ? (q ? exec_movsxd_mem_8 : exec_movsxd_mem_4)
			   : (q ? exec_movsxd_reg_8 : exec_movsxd_reg_4);
	if (i->opnd[1] != X86_O_Eb && i->opnd[1] != X86_O_Ew)
		return NULL;
	bool high = byte && !mem && x86_insn_byte_reg_is_high(i, i->rm);
	if (i->op == OP_MOVZX) {
		if (byte)
			return mem ? exec_movzx_b_mem : high ? exec_movzx_b_high : exec_movzx_b_reg;
		return mem ? exec_movzx_w_mem : exec_movzx_w_reg;
	}
	if (high)
		return NULL;
	if (byte)
		return mem ? (q ? exec_movsx_b_mem_8 : exec_movsx_b_mem_4)
			   : (q ? exec_movsx_b_reg_8 : exec_movsx_b_reg_4);
	return mem ? (q ? exec_movsx_w_mem_8 : exec_movsx_w_mem_4)
		   : (q ? exec_movsx_w_reg_8 : exec_movsx_w_reg_4);
}

/*
 * LEA with a 64-bit address size, by addressing form: base+disp,
 * base+index*scale+disp, index*scale+disp, RIP+disp.
 */
enum lea_form { LEA_B, LEA_BI, LEA_I, LEA_RIP };

EXEC_INLINE void lea_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned form,
			   unsigned size)
{
	uint64_t ea = (uint64_t)i->disp;
	if (form == LEA_B || form == LEA_BI)
		ea += cpu->gpr[i->base];
	if (form == LEA_BI || form == LEA_I)
		ea += cpu->gpr[i->index] << i->scale;
	if (form == LEA_RIP)
		ea += cpu->rip;
	reg_write_sized(cpu, i->reg, size, ea);
}

#define LEA_VARIANT(name, form, size) \
	static void name(struct x86_cpu *cpu, const struct x86_insn *i) { lea_fixed(cpu, i, form, size); }
LEA_VARIANT(exec_lea_b_4, LEA_B, 4)
LEA_VARIANT(exec_lea_b_8, LEA_B, 8)
LEA_VARIANT(exec_lea_bi_4, LEA_BI, 4)
LEA_VARIANT(exec_lea_bi_8, LEA_BI, 8)
LEA_VARIANT(exec_lea_i_4, LEA_I, 4)
LEA_VARIANT(exec_lea_i_8, LEA_I, 8)
LEA_VARIANT(exec_lea_rip_4, LEA_RIP, 4)
LEA_VARIANT(exec_lea_rip_8, LEA_RIP, 8)

static exec_fn lea_specialize(const struct x86_insn *i)
{
	static const exec_fn v[4][2] = {
		[LEA_B] = { exec_lea_b_4, exec_lea_b_8 },
		[LEA_BI] = { exec_lea_bi_4, exec_lea_bi_8 },
		[LEA_I] = { exec_lea_i_4, exec_lea_i_8 },
		[LEA_RIP] = { exec_lea_rip_4, exec_lea_rip_8 },
	};
	if ((i->opsize != 4 && i->opsize != 8) || i->addrsize != 8 || !x86_insn_is_mem(i))
		return NULL;
	bool b = i->base != X86_REG_NONE, x = i->index != X86_REG_NONE;
	unsigned form;
	if (x86_insn_riprel(i))
		form = LEA_RIP;
	else if (b)
		form = x ? LEA_BI : LEA_B;
	else if (x)
		form = LEA_I;
	else
		return NULL;
	if (form == LEA_RIP && (b || x))
		return NULL;
	return v[form][i->opsize == 8];
}

/*
 * CMOVcc and SETcc with the condition fixed, so it folds into
 * cc_cond_fixed's inline answers. As exec_cmovcc: the source is read (and
 * may fault) whatever the condition, and a false condition still
 * zero-extends a 32-bit destination.
 */
EXEC_INLINE void cmov_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned cc,
			    unsigned size, bool mem)
{
	uint64_t v = mem ? mem_load(cpu, insn_linear64(cpu, i, size), size) : cpu->gpr[i->rm];
	if (!cc_cond_fixed(cpu, cc))
		v = cpu->gpr[i->reg];
	reg_write_sized(cpu, i->reg, size, v);
}

EXEC_INLINE void setcc_fixed(struct x86_cpu *cpu, const struct x86_insn *i, unsigned cc, bool mem)
{
	if (mem) {
		uint64_t la = insn_linear64(cpu, i, 1);
		mmu_st8(cpu, la, cc_cond_fixed(cpu, cc));
	} else {
		reg_write_sized(cpu, i->rm, 1, cc_cond_fixed(cpu, cc));
	}
}

#define CC_VARIANTS(cc)                                                                            \
	static void exec_cmov_##cc##_r4(struct x86_cpu *cpu, const struct x86_insn *i) { cmov_fixed(cpu, i, cc, 4, false); } \
	static void exec_cmov_##cc##_r8(struct x86_cpu *cpu, const struct x86_insn *i) { cmov_fixed(cpu, i, cc, 8, false); } \
	static void exec_cmov_##cc##_m4(struct x86_cpu *cpu, const struct x86_insn *i) { cmov_fixed(cpu, i, cc, 4, true); } \
	static void exec_cmov_##cc##_m8(struct x86_cpu *cpu, const struct x86_insn *i) { cmov_fixed(cpu, i, cc, 8, true); } \
	static void exec_setcc_##cc##_r(struct x86_cpu *cpu, const struct x86_insn *i) { setcc_fixed(cpu, i, cc, false); } \
	static void exec_setcc_##cc##_m(struct x86_cpu *cpu, const struct x86_insn *i) { setcc_fixed(cpu, i, cc, true); }
CC_VARIANTS(0) CC_VARIANTS(1) CC_VARIANTS(2) CC_VARIANTS(3)
CC_VARIANTS(4) CC_VARIANTS(5) CC_VARIANTS(6) CC_VARIANTS(7)
CC_VARIANTS(8) CC_VARIANTS(9) CC_VARIANTS(10) CC_VARIANTS(11)
CC_VARIANTS(12) CC_VARIANTS(13) CC_VARIANTS(14) CC_VARIANTS(15)

#define CMOV_ROW(cc) { exec_cmov_##cc##_r4, exec_cmov_##cc##_r8, exec_cmov_##cc##_m4, exec_cmov_##cc##_m8 }
static const exec_fn cmov_variants[16][4] = {
	CMOV_ROW(0), CMOV_ROW(1), CMOV_ROW(2), CMOV_ROW(3), CMOV_ROW(4), CMOV_ROW(5),
	CMOV_ROW(6), CMOV_ROW(7), CMOV_ROW(8), CMOV_ROW(9), CMOV_ROW(10), CMOV_ROW(11),
	CMOV_ROW(12), CMOV_ROW(13), CMOV_ROW(14), CMOV_ROW(15),
};

#define SETCC_ROW(cc) { exec_setcc_##cc##_r, exec_setcc_##cc##_m }
static const exec_fn setcc_variants[16][2] = {
	SETCC_ROW(0), SETCC_ROW(1), SETCC_ROW(2), SETCC_ROW(3), SETCC_ROW(4), SETCC_ROW(5),
	SETCC_ROW(6), SETCC_ROW(7), SETCC_ROW(8), SETCC_ROW(9), SETCC_ROW(10), SETCC_ROW(11),
	SETCC_ROW(12), SETCC_ROW(13), SETCC_ROW(14), SETCC_ROW(15),
};

/* PUSH r64 / imm and POP r64: RSP changes only once the access succeeded. */
static void exec_push64_reg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t v = cpu->gpr[i->reg], sp = cpu->gpr[R_RSP] - 8;
	mmu_st64(cpu, stack_linear64(cpu, sp, 8), v);
	cpu->gpr[R_RSP] = sp;
}

static void exec_push64_imm(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t sp = cpu->gpr[R_RSP] - 8;
	mmu_st64(cpu, stack_linear64(cpu, sp, 8), i->imm);
	cpu->gpr[R_RSP] = sp;
}

static void exec_pop64_reg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t sp = cpu->gpr[R_RSP];
	uint64_t v = mmu_ld64(cpu, stack_linear64(cpu, sp, 8));
	cpu->gpr[R_RSP] = sp + 8;
	cpu->gpr[i->reg] = v; /* after: POP RSP loads the popped value */
}

/* XCHG between registers (Ev,Gv register form, and Zv,rAX). */
EXEC_INLINE void xchg_fixed(struct x86_cpu *cpu, unsigned r1, unsigned r2, unsigned size)
{
	uint64_t a = cpu->gpr[r1], b = cpu->gpr[r2];
	reg_write_sized(cpu, r1, size, b);
	reg_write_sized(cpu, r2, size, a);
}

static void exec_xchg_eg_4(struct x86_cpu *cpu, const struct x86_insn *i) { xchg_fixed(cpu, i->rm, i->reg, 4); }
static void exec_xchg_eg_8(struct x86_cpu *cpu, const struct x86_insn *i) { xchg_fixed(cpu, i->rm, i->reg, 8); }
static void exec_xchg_za_4(struct x86_cpu *cpu, const struct x86_insn *i) { xchg_fixed(cpu, i->reg, R_RAX, 4); }
static void exec_xchg_za_8(struct x86_cpu *cpu, const struct x86_insn *i) { xchg_fixed(cpu, i->reg, R_RAX, 8); }

static exec_fn data64_specialize(const struct x86_insn *i)
{
	const bool mem = x86_insn_is_mem(i), q = i->opsize == 8;
	const unsigned d = i->opnd[0];
	switch (i->op) {
	case OP_MOV:
		return mov64_specialize(i);
	case OP_MOVZX: case OP_MOVSX: case OP_MOVSXD:
		return ext_specialize(i);
	case OP_LEA:
		return lea_specialize(i);
	case OP_CMOVCC:
		if (i->opsize != 4 && i->opsize != 8)
			return NULL;
		return cmov_variants[i->cc & 15][(mem ? 2 : 0) + q];
	case OP_SETCC:
		if (!mem && x86_insn_byte_reg_is_high(i, i->rm))
			return NULL;
		return setcc_variants[i->cc & 15][mem];
	case OP_PUSH:
		if (i->opsize != 8)
			return NULL;
		if (d == X86_O_Zv)
			return exec_push64_reg;
		if (d == X86_O_Iz || d == X86_O_Ibs)
			return exec_push64_imm;
		return NULL;
	case OP_POP:
		return i->opsize == 8 && d == X86_O_Zv ? exec_pop64_reg : NULL;
	case OP_XCHG:
		if ((i->opsize != 4 && i->opsize != 8) || mem)
			return NULL;
		if (d == X86_O_Ev)
			return q ? exec_xchg_eg_8 : exec_xchg_eg_4;
		if (d == X86_O_Zv)
			return q ? exec_xchg_za_8 : exec_xchg_za_4;
		return NULL;
	default:
		return NULL;
	}
}

exec_fn exec_data_specialize(const struct x86_insn *i)
{
	if (i->mode == X86_MODE_64 && !x86_insn_lock(i)) {
		exec_fn f = data64_specialize(i);
		if (f)
			return f;
	}
	return i->op == OP_MOV ? mov_specialize(i) : NULL;
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
