/*
 * What every instruction handler needs: the dispatch table type, register
 * and operand access honouring x86's size rules, effective addresses and
 * the stack. Handlers run with cpu->rip already pointing at the next
 * instruction (cpu->insn_rip holds the current one), and must validate
 * everything that can fault before they change architectural state (see
 * cpu.h on precise faults).
 *
 * Handlers are grouped by class, each file registering its own rows:
 *   exec_int.c     integer arithmetic, logic, shifts, bit ops, moves, stack
 *   exec_ctrl.c    near branches, calls, loops, string ops, I/O
 *   exec_system.c  far transfers, interrupts, system registers, MSRs, CPUID
 *   exec_x87.c     x87 floating point
 *   exec_sse.c     SSE/SSE2 (+SSSE3/SSE4.1 subset), FXSAVE/FXRSTOR, fences
 */
#ifndef KEMU_ACCEL_TCG_EXEC_H
#define KEMU_ACCEL_TCG_EXEC_H

#include "accel/tcg/cpu.h"
#include "accel/tcg/decode.h"
#include "accel/tcg/mmu.h"

/*
 * Optional instruction sets whose encodings change meaning when absent;
 * they must agree with the CPUID model (cpuid.c).
 */
#define EXEC_MODEL_BMI1 0  /* TZCNT (else BSF) */
#define EXEC_MODEL_LZCNT 0 /* LZCNT (else BSR) */

typedef void (*exec_fn)(struct x86_cpu *cpu, const struct x86_insn *i);

/* Indexed by enum x86_op; rows left NULL raise #UD. */
extern exec_fn exec_table[OP_COUNT];

void exec_table_init(void);
/* A handler specialised for the instruction's form (exec_data.c), or NULL
 * for exec_table's: the run loop asks once per decoded instruction. */
exec_fn exec_data_specialize(const struct x86_insn *i);
/* The same for the ALU group (exec_int.c) and near branches (exec_ctrl.c). */
exec_fn exec_int_specialize(const struct x86_insn *i);
exec_fn exec_ctrl_specialize(const struct x86_insn *i);
void exec_int_register(exec_fn *t);
void exec_ctrl_register(exec_fn *t);
void exec_system_register(exec_fn *t);
void exec_x87_register(exec_fn *t);
void exec_sse_register(exec_fn *t);

/* ---- sizes ---------------------------------------------------------- */

static inline uint64_t exec_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static inline int64_t exec_sext(uint64_t v, unsigned size)
{
	unsigned sh = 64 - size * 8;
	return (int64_t)(v << sh) >> sh;
}

/* ---- general registers ------------------------------------------------ */

/* Reads register r at size; byte registers 4-7 are AH..BH without REX. */
static inline uint64_t reg_read(const struct x86_cpu *cpu, const struct x86_insn *i, unsigned r,
				unsigned size)
{
	if (size == 1 && x86_insn_byte_reg_is_high(i, r))
		return (cpu->gpr[r - 4] >> 8) & 0xff;
	return cpu->gpr[r] & exec_mask(size);
}

/* Writes with x86's rules: 32-bit writes zero-extend, 8/16-bit merge. */
static inline void reg_write(struct x86_cpu *cpu, const struct x86_insn *i, unsigned r,
			     unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		if (x86_insn_byte_reg_is_high(i, r))
			cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			cpu->gpr[r] = (cpu->gpr[r] & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		cpu->gpr[r] = (cpu->gpr[r] & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		cpu->gpr[r] = (uint32_t)v;
		break;
	default:
		cpu->gpr[r] = v;
		break;
	}
}

/* Full-width register access by number (no byte-register aliasing). */
static inline void reg_write_sized(struct x86_cpu *cpu, unsigned r, unsigned size, uint64_t v)
{
	if (size == 4)
		cpu->gpr[r] = (uint32_t)v;
	else if (size == 8)
		cpu->gpr[r] = v;
	else
		cpu->gpr[r] = (cpu->gpr[r] & ~exec_mask(size)) | (v & exec_mask(size));
}

/* ---- memory operands -------------------------------------------------- */

/* The effective address (offset within the segment), masked to addrsize. */
static inline uint64_t insn_ea(const struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t ea = (uint64_t)i->disp;
	if (i->base != X86_REG_NONE)
		ea += cpu->gpr[i->base];
	if (i->index != X86_REG_NONE)
		ea += cpu->gpr[i->index] << i->scale;
	if (x86_insn_riprel(i))
		ea += cpu->rip; /* rip already points past the instruction */
	return ea & exec_mask(i->addrsize);
}

/* Linear address of the memory operand for an access of size bytes. */
static inline uint64_t insn_linear(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size,
				   int access)
{
	return seg_linear(cpu, i->seg, insn_ea(cpu, i), size, access);
}

/*
 * insn_linear for an instruction decoded in 64-bit mode. Blocks are keyed
 * by decode mode and every mode change ends a block, so such an
 * instruction only ever runs with cpu->mode == 64: the specialised
 * handlers use this and skip the mode test.
 */
static inline uint64_t insn_linear64(struct x86_cpu *cpu, const struct x86_insn *i,
				     unsigned size)
{
	uint64_t la = insn_ea(cpu, i);
	if (i->seg >= SEG_FS)
		la += cpu->seg[i->seg].base;
	const uint64_t half = 1ULL << 47;
	if (mmu_likely((((la + half) | (la + size - 1 + half)) >> 48) == 0))
		return la;
	seg_raise_noncanonical(cpu, i->seg);
}

/*
 * Host pointer for a read-modify-write of size bytes at la when the TLB
 * has a writable entry (which implies readable, and never exists for a
 * code page), else NULL: one lookup instead of a probe, a load and a store.
 */
static inline void *mem_host_rw(struct x86_cpu *cpu, uint64_t la, unsigned size)
{
	const struct tlb_entry *e = &cpu->tlb[mmu_user(cpu)][tlb_index(la)];
	if (mmu_likely(e->tag_write == tlb_tag_for(la, size)))
		return (void *)(uintptr_t)(la + e->addend);
	return NULL;
}

static inline uint64_t host_load(const void *p, unsigned size)
{
	switch (size) {
	case 1: return *(const uint8_t *)p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static inline void host_store(void *p, unsigned size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)p = (uint8_t)v; break;
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

static inline uint64_t mem_load(struct x86_cpu *cpu, uint64_t la, unsigned size)
{
	switch (size) {
	case 1: return mmu_ld8(cpu, la);
	case 2: return mmu_ld16(cpu, la);
	case 4: return mmu_ld32(cpu, la);
	default: return mmu_ld64(cpu, la);
	}
}

static inline void mem_store(struct x86_cpu *cpu, uint64_t la, unsigned size, uint64_t v)
{
	switch (size) {
	case 1: mmu_st8(cpu, la, (uint8_t)v); break;
	case 2: mmu_st16(cpu, la, (uint16_t)v); break;
	case 4: mmu_st32(cpu, la, (uint32_t)v); break;
	default: mmu_st64(cpu, la, v); break;
	}
}

/*
 * The load of a read-modify-write: a page that is absent or read-only must
 * fault as the write it is (error code W=1), before anything is read.
 */
static inline uint64_t mem_load_rmw(struct x86_cpu *cpu, uint64_t la, unsigned size)
{
	const struct tlb_entry *e = &cpu->tlb[mmu_user(cpu)][tlb_index(la)];
	if (!mmu_likely(e->tag_write == tlb_tag_for(la, size)))
		mmu_probe_write(cpu, la, size);
	return mem_load(cpu, la, size);
}

/* seg:off access, off masked by the caller to the address size. */
static inline uint64_t seg_load_val(struct x86_cpu *cpu, int seg, uint64_t off, unsigned size)
{
	return mem_load(cpu, seg_linear(cpu, seg, off, size, MMU_READ), size);
}

static inline void seg_store_val(struct x86_cpu *cpu, int seg, uint64_t off, unsigned size,
				 uint64_t v)
{
	mem_store(cpu, seg_linear(cpu, seg, off, size, MMU_WRITE), size, v);
}

/* The E operand (ModRM.rm): a register or memory. */
static inline uint64_t rm_read(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size)
{
	if (!x86_insn_is_mem(i))
		return reg_read(cpu, i, i->rm, size);
	return mem_load(cpu, insn_linear(cpu, i, size, MMU_READ), size);
}

static inline void rm_write(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size,
			    uint64_t v)
{
	if (!x86_insn_is_mem(i))
		reg_write(cpu, i, i->rm, size, v);
	else
		mem_store(cpu, insn_linear(cpu, i, size, MMU_WRITE), size, v);
}

/* ---- stack ------------------------------------------------------------ */

/* Stack pointer width: 8 in 64-bit mode, else SS.B selects 4 or 2. */
static inline unsigned stack_size(const struct x86_cpu *cpu)
{
	if (cpu->mode == 64)
		return 8;
	return cpu->seg[SEG_SS].db ? 4 : 2;
}

/* Pushes size bytes; RSP changes only once the store succeeded. */
static inline void stack_push(struct x86_cpu *cpu, unsigned size, uint64_t v)
{
	unsigned ss = stack_size(cpu);
	uint64_t sp = (cpu->gpr[R_RSP] - size) & exec_mask(ss);
	seg_store_val(cpu, SEG_SS, sp, size, v);
	reg_write_sized(cpu, R_RSP, ss, sp);
}

/* Reads the top of the stack without popping (for precise multi-pops). */
static inline uint64_t stack_peek(struct x86_cpu *cpu, unsigned size, unsigned offset)
{
	unsigned ss = stack_size(cpu);
	uint64_t sp = (cpu->gpr[R_RSP] + offset) & exec_mask(ss);
	return seg_load_val(cpu, SEG_SS, sp, size);
}

static inline void stack_adjust(struct x86_cpu *cpu, int64_t delta)
{
	unsigned ss = stack_size(cpu);
	reg_write_sized(cpu, R_RSP, ss, (cpu->gpr[R_RSP] + (uint64_t)delta) & exec_mask(ss));
}

static inline uint64_t stack_pop(struct x86_cpu *cpu, unsigned size)
{
	uint64_t v = stack_peek(cpu, size, 0);
	stack_adjust(cpu, size);
	return v;
}

/* ---- control flow ----------------------------------------------------- */

/* Sets RIP for a near transfer to target at operand size opsize. */
static inline void exec_jump(struct x86_cpu *cpu, uint64_t target, unsigned opsize)
{
	if (cpu->mode == 64) {
		if (!mmu_canonical(target))
			cpu_raise(cpu, EXC_GP, 0);
		cpu->rip = target;
		return;
	}
	target &= exec_mask(opsize < 4 ? 2 : 4);
	if (target > cpu->seg[SEG_CS].limit)
		cpu_raise(cpu, EXC_GP, 0);
	cpu->rip = target;
}

/* ---- lazy flags --------------------------------------------------------- */

static inline void cc_set(struct x86_cpu *cpu, enum cc_op op, unsigned size, uint64_t src1,
			  uint64_t src2, uint64_t res)
{
	cpu->cc.op = (uint8_t)op;
	cpu->cc.size = (uint8_t)size;
	cpu->cc.src1 = src1;
	cpu->cc.src2 = src2;
	cpu->cc.res = res;
}

/* A logic result: its flags depend on the result alone (flags.c), so the
 * operands are not recorded. */
static inline void cc_set_logic(struct x86_cpu *cpu, unsigned size, uint64_t res)
{
	cpu->cc.op = CC_LOGIC;
	cpu->cc.size = (uint8_t)size;
	cpu->cc.res = res;
}

/* Current CF, without materialising the other flags when avoidable. */
static inline bool cc_carry(struct x86_cpu *cpu)
{
	return cpu_cond(cpu, 2); /* condition B = CF */
}

/* Privilege checks shared by many handlers. */
static inline void exec_require_cpl0(struct x86_cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_raise(cpu, EXC_GP, 0);
}

#endif
