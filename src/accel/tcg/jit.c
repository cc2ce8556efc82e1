/*
 * Call-threaded code emission for x86-64 hosts (jit.h).
 *
 * Register use in block code (System V ABI; the handlers are ordinary C):
 *   rbx  struct x86_cpu *     (callee-saved, survives handler calls)
 *   r12  guest rip of the block's first instruction
 *   r13  the block's code-page generation counter (genp)
 *   r14  instructions retired by earlier rounds of a one-block loop
 *   r15  rounds left before the loop returns to cpu_run
 * Frame: five pushes put rsp on a 16-byte boundary for the calls.
 * A handler that faults longjmps to cpu_run past this frame, which needs
 * no unwinding: the callee-saved registers come back from the jmp_buf.
 */
#include "accel/tcg/jit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "accel/tcg/codecache.h"
#include "accel/tcg/cpu.h"
#include "accel/tcg/decode.h"
#include "accel/tcg/exec.h"
#include "accel/tcg/mmu.h"
#include "core/vm.h"
#include "util/log.h"

#define JIT_ARENA_SIZE (256u << 20)

/* Bytes emitted per instruction at most (see emit_insn), plus the frame. */
#define JIT_INSN_MAX 384
#define JIT_FRAME_MAX 512
/* Rounds a one-block loop may run in host code before cpu_run looks. */
#define JIT_LOOP_MAX 4096

size_t jit_block_max_size(void)
{
	return JIT_FRAME_MAX + TB_MAX_INSNS * JIT_INSN_MAX;
}

#if defined(__x86_64__)

static void jit_emit_dispatchers(struct jit_arena *a);

bool jit_arena_init(struct jit_arena *a)
{
	memset(a, 0, sizeof(*a));
	const char *env = getenv("KEMU_JIT");
	if (env && !strcmp(env, "0"))
		return false;
	/* Near kemu's own text if the kernel agrees, so that handler calls
	 * can be 5-byte rel32 calls; anywhere otherwise (then movabs+call). */
	uintptr_t hint = ((uintptr_t)&jit_emit_block & ~(uintptr_t)0xffff) - (512u << 20);
	void *p = mmap((void *)hint, JIT_ARENA_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	a->base = p;
	a->size = JIT_ARENA_SIZE;
	jit_emit_dispatchers(a);
	return true;
}

void jit_arena_destroy(struct jit_arena *a)
{
	if (a->base)
		munmap(a->base, a->size);
	memset(a, 0, sizeof(*a));
}

struct emit {
	uint8_t *p;
};

static void b1(struct emit *e, uint8_t v) { *e->p++ = v; }
static void b4(struct emit *e, uint32_t v) { memcpy(e->p, &v, 4); e->p += 4; }
static void b8(struct emit *e, uint64_t v) { memcpy(e->p, &v, 8); e->p += 8; }

/* lea rax, [r12 + off] */
static void emit_lea_rax_r12(struct emit *e, int32_t off)
{
	b1(e, 0x49); b1(e, 0x8d);
	if (off >= -128 && off < 128) {
		b1(e, 0x44); b1(e, 0x24); b1(e, (uint8_t)off);
	} else {
		b1(e, 0x84); b1(e, 0x24); b4(e, (uint32_t)off);
	}
}

/* mov [rbx + disp32], rax */
static void emit_store_rax(struct emit *e, uint32_t disp)
{
	b1(e, 0x48); b1(e, 0x89); b1(e, 0x83); b4(e, disp);
}

/* call fn: rel32 when in reach, else movabs rax, fn; call rax. */
static void emit_call(struct emit *e, const void *fn)
{
	intptr_t rel = (intptr_t)fn - (intptr_t)(e->p + 5);
	if (rel >= INT32_MIN && rel <= INT32_MAX) {
		b1(e, 0xe8); b4(e, (uint32_t)(int32_t)rel);
	} else {
		b1(e, 0x48); b1(e, 0xb8); b8(e, (uint64_t)(uintptr_t)fn);
		b1(e, 0xff); b1(e, 0xd0);
	}
}

/* jcc rel32 (cc: the low nibble of 0F 8x) to a place patched later */
static uint8_t *emit_jcc_fixup(struct emit *e, uint8_t cc)
{
	b1(e, 0x0f); b1(e, (uint8_t)(0x80 | cc));
	uint8_t *at = e->p;
	b4(e, 0);
	return at;
}

static void patch_rel32(uint8_t *at, const uint8_t *target)
{
	int32_t rel = (int32_t)(target - (at + 4));
	memcpy(at, &rel, 4);
}


/* ---- inline forms ----------------------------------------------------------
 *
 * The commonest register-only instructions are emitted as host code
 * instead of handler calls: 32/64-bit MOV, ADD/SUB/AND/OR/XOR/CMP/TEST
 * between registers or with an immediate, and LEA. They cannot fault,
 * branch or store to guest memory, so they need neither rip updates nor
 * the exit checks; they leave the guest registers and the lazy flags
 * (cc) exactly as the handlers (exec_int.c alu_fixed, exec_data.c) do.
 * Host registers: rax, rcx, rdx are scratch.
 */
enum { H_RAX = 0, H_RCX = 1, H_RDX = 2 };

static uint32_t gpr_disp(unsigned r)
{
	_Static_assert(offsetof(struct x86_cpu, gpr) + 8 * 16 <= 0x80, "gpr[] within disp8 of rbx");
	return (uint32_t)(offsetof(struct x86_cpu, gpr) + 8 * r);
}

/* modrm + displacement for [rbx + disp] with host register hreg */
static void emit_rbx_mem(struct emit *e, unsigned hreg, uint32_t disp)
{
	if (disp < 0x80) {
		b1(e, (uint8_t)(0x40 | hreg << 3 | 3));
		b1(e, (uint8_t)disp);
	} else {
		b1(e, (uint8_t)(0x80 | hreg << 3 | 3));
		b4(e, disp);
	}
}

/* mov hreg, [rbx + disp]: 64 bits, or 32 zero-extended */
static void emit_load(struct emit *e, bool wide, unsigned hreg, uint32_t disp)
{
	if (wide)
		b1(e, 0x48);
	b1(e, 0x8b);
	emit_rbx_mem(e, hreg, disp);
}

/* mov [rbx + disp], hreg (64 bits) */
static void emit_store64(struct emit *e, unsigned hreg, uint32_t disp)
{
	b1(e, 0x48); b1(e, 0x89);
	emit_rbx_mem(e, hreg, disp);
}

/* Operand kinds with their byte forms folded in (opsize gives the size). */
static bool opnd_e(unsigned o) { return o == X86_O_Ev || o == X86_O_Eb; }
static bool opnd_g(unsigned o) { return o == X86_O_Gv || o == X86_O_Gb; }
static bool opnd_acc(unsigned o) { return o == X86_O_rAX || o == X86_O_AL; }
static bool opnd_imm(const struct x86_insn *i, unsigned o)
{
	return o == X86_O_Iz || o == X86_O_Ibs || (o == X86_O_Ib && i->opsize == 1);
}

/* Register r of i at i's size is the low part of gpr[r] (not AH..BH). */
static bool reg_plain(const struct x86_insn *i, unsigned r)
{
	return i->opsize != 1 || !x86_insn_byte_reg_is_high(i, r);
}

/* The operand-size prefix and opcode of an instruction on a host
 * register at size (8: REX.W; 2: 66; 1: the byte opcode, op8). */
static void emit_sized_op(struct emit *e, unsigned size, uint8_t op, uint8_t op8)
{
	if (size == 8)
		b1(e, 0x48);
	else if (size == 2)
		b1(e, 0x66);
	b1(e, size == 1 ? op8 : op);
}

/* movzx/mov hreg, [rbx + disp] at size, zero-extended to 32 or 64 bits */
static void emit_load_sz(struct emit *e, unsigned size, unsigned hreg, uint32_t disp)
{
	if (size >= 4) {
		emit_load(e, size == 8, hreg, disp);
		return;
	}
	b1(e, 0x0f); b1(e, size == 2 ? 0xb7 : 0xb6);
	emit_rbx_mem(e, hreg, disp);
}

/* mov [rbx + disp], hreg at size; a 4-byte store writes all 64 bits (the
 * value is zero-extended, as a 32-bit register write is) */
static void emit_store_sz(struct emit *e, unsigned size, unsigned hreg, uint32_t disp)
{
	if (size >= 4) {
		emit_store64(e, hreg, disp);
		return;
	}
	emit_sized_op(e, size, 0x89, 0x88);
	emit_rbx_mem(e, hreg, disp);
}

/* dst = [base] at size, zero-extended (host registers 0-7, not rsp/rbp) */
static void emit_load_host(struct emit *e, unsigned size, unsigned dst, unsigned base)
{
	if (size == 8)
		b1(e, 0x48);
	if (size >= 4) {
		b1(e, 0x8b);
	} else {
		b1(e, 0x0f); b1(e, size == 2 ? 0xb7 : 0xb6);
	}
	b1(e, (uint8_t)(dst << 3 | base));
}

/* [base] = src at size (host registers 0-7, not rsp/rbp) */
static void emit_store_host(struct emit *e, unsigned size, unsigned src, unsigned base)
{
	emit_sized_op(e, size, 0x89, 0x88);
	b1(e, (uint8_t)(src << 3 | base));
}

/* hreg = v */
static void emit_mov_imm(struct emit *e, unsigned hreg, uint64_t v)
{
	if (v <= 0xffffffffu) {
		b1(e, (uint8_t)(0xb8 + hreg)); b4(e, (uint32_t)v);
	} else if ((int64_t)v == (int32_t)v) {
		b1(e, 0x48); b1(e, 0xc7); b1(e, (uint8_t)(0xc0 + hreg)); b4(e, (uint32_t)v);
	} else {
		b1(e, 0x48); b1(e, (uint8_t)(0xb8 + hreg)); b8(e, v);
	}
}

/* cc.op and cc.size in one 16-bit store */
static void emit_cc_opsize(struct emit *e, unsigned op, unsigned size)
{
	_Static_assert(offsetof(struct cc_state, size) == offsetof(struct cc_state, op) + 1,
		       "cc.op and cc.size adjacent");
	b1(e, 0x66); b1(e, 0xc7);
	emit_rbx_mem(e, 0, (uint32_t)(offsetof(struct x86_cpu, cc) + offsetof(struct cc_state, op)));
	b1(e, (uint8_t)op); b1(e, (uint8_t)size);
}

static uint32_t cc_disp(size_t field)
{
	return (uint32_t)(offsetof(struct x86_cpu, cc) + field);
}

/* The ALU operations emitted inline: the host's "op r/m, reg" opcode. */
struct alu_kind {
	uint8_t opc;
	bool writes, logic;
	unsigned ccop;
};

static bool alu_kind_of(unsigned op, struct alu_kind *k)
{
	*k = (struct alu_kind){ 0, true, true, CC_LOGIC };
	switch (op) {
	case OP_ADD: k->opc = 0x01; k->logic = false; k->ccop = CC_ADD; break;
	case OP_SUB: k->opc = 0x29; k->logic = false; k->ccop = CC_SUB; break;
	case OP_CMP: k->opc = 0x29; k->logic = false; k->ccop = CC_SUB; k->writes = false; break;
	case OP_AND: k->opc = 0x21; break;
	case OP_TEST: k->opc = 0x21; k->writes = false; break;
	case OP_OR: k->opc = 0x09; break;
	case OP_XOR: k->opc = 0x31; break;
	default: return false;
	}
	return true;
}

enum { H_RSI = 6, ALU_TO_HOST = 0x100 };

/* With a (destination) in rax and b in rcx, both zero-extended from size:
 * rdx = a op b at size (so the host's flags are the guest's), the result
 * into gpr[dr], or into [rsi] when dr is ALU_TO_HOST, if the operation
 * writes; then the lazy flags unless dead. */
static void emit_alu_core(struct emit *e, const struct alu_kind *k, unsigned size, unsigned dr,
			  bool flags_dead)
{
	/* mov edx, eax (rdx, rax); op dl/dx/edx/rdx, cl/cx/ecx/rcx */
	if (size == 8)
		b1(e, 0x48);
	b1(e, 0x89); b1(e, 0xc2);
	emit_sized_op(e, size, k->opc, (uint8_t)(k->opc - 1));
	b1(e, 0xca);
	if (k->writes) {
		if (dr == ALU_TO_HOST)
			emit_store_host(e, size, H_RDX, H_RSI);
		else
			emit_store_sz(e, size, H_RDX, gpr_disp(dr));
	}
	if (flags_dead)
		return;
	emit_store64(e, H_RDX, cc_disp(offsetof(struct cc_state, res)));
	if (!k->logic) {
		emit_store64(e, H_RAX, cc_disp(offsetof(struct cc_state, src1)));
		emit_store64(e, H_RCX, cc_disp(offsetof(struct cc_state, src2)));
	}
	emit_cc_opsize(e, k->ccop, size);
}

static uint64_t size_mask(unsigned size)
{
	return size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* For "op E, G" and "op G, E" (register forms): the destination and
 * source register numbers. */
static bool reg_pair(const struct x86_insn *i, unsigned *dr, unsigned *sr)
{
	unsigned d = i->opnd[0], s = i->opnd[1];
	if (opnd_e(d) && opnd_g(s)) {
		*dr = i->rm;
		*sr = i->reg;
	} else if (opnd_g(d) && opnd_e(s)) {
		*dr = i->reg;
		*sr = i->rm;
	} else {
		return false;
	}
	return true;
}

static bool emit_alu_k(struct emit *e, const struct x86_insn *i, const struct alu_kind *kp,
		       bool flags_dead)
{
	const struct alu_kind k = *kp;
	const unsigned size = i->opsize;
	unsigned d = i->opnd[0], s = i->opnd[1], dr, sr;
	if (!reg_pair(i, &dr, &sr)) {
		if (!(opnd_e(d) || opnd_acc(d)) || !opnd_imm(i, s))
			return false;
		dr = opnd_acc(d) ? R_RAX : i->rm;
		if (!reg_plain(i, dr))
			return false;
		emit_load_sz(e, size, H_RAX, gpr_disp(dr));
		emit_mov_imm(e, H_RCX, i->imm & size_mask(size));
		emit_alu_core(e, &k, size, dr, flags_dead);
		return true;
	}
	if (!reg_plain(i, dr) || !reg_plain(i, sr))
		return false;
	emit_load_sz(e, size, H_RAX, gpr_disp(dr));
	emit_load_sz(e, size, H_RCX, gpr_disp(sr));
	emit_alu_core(e, &k, size, dr, flags_dead);
	return true;
}

static bool emit_alu(struct emit *e, const struct x86_insn *i, bool flags_dead)
{
	struct alu_kind k;
	return alu_kind_of(i->op, &k) && emit_alu_k(e, i, &k, flags_dead);
}

/* inc/dec dl/dx/edx/rdx */
static void emit_incdec_edx(struct emit *e, bool dec, unsigned size)
{
	emit_sized_op(e, size, 0xff, 0xfe);
	b1(e, dec ? 0xca : 0xc2);
}

/* The lazy record of INC/DEC (old CF already in cc.flags): result rdx,
 * operand rax, 1. Clobbers rcx. */
static void emit_incdec_record(struct emit *e, bool dec, unsigned size)
{
	emit_store64(e, H_RDX, cc_disp(offsetof(struct cc_state, res)));
	emit_store64(e, H_RAX, cc_disp(offsetof(struct cc_state, src1)));
	emit_mov_imm(e, H_RCX, 1);
	emit_store64(e, H_RCX, cc_disp(offsetof(struct cc_state, src2)));
	emit_cc_opsize(e, dec ? CC_DEC : CC_INC, size);
}

/*
 * Register forms that read the arithmetic flags, emitted when the host's
 * flags are the guest's (right after an inline ALU operation): SETcc and
 * CMOVcc as the host instruction on the same condition; INC/DEC, keeping
 * CF as the host's INC/DEC do (the lazy record takes the old CF); ADC/SBB
 * with the host's CF as the carry-in. All but SETcc/CMOVcc leave the host
 * flags the guest's again, and those two do not change them.
 */
static bool emit_on_host_flags(struct emit *e, const struct x86_insn *i, bool flags_dead)
{
	if (x86_insn_lock(i) || i->mode != X86_MODE_64 || x86_insn_is_mem(i) ||
	    !(i->flags & X86_INSN_MODRM))
		return false;
	const unsigned size = i->opsize;
	const uint8_t cc = (uint8_t)(i->cc & 0xf);
	switch (i->op) {
	case OP_SETCC:
		if (x86_insn_byte_reg_is_high(i, i->rm))
			return false;
		b1(e, 0x0f); b1(e, (uint8_t)(0x90 | cc)); b1(e, 0xc2); /* setcc dl */
		emit_store_sz(e, 1, H_RDX, gpr_disp(i->rm));
		return true;
	case OP_CMOVCC:
		if (size < 2)
			return false;
		emit_load_sz(e, size, H_RDX, gpr_disp(i->reg));
		emit_load_sz(e, size, H_RAX, gpr_disp(i->rm));
		emit_sized_op(e, size, 0x0f, 0x0f);
		b1(e, (uint8_t)(0x40 | cc)); b1(e, 0xd0);          /* cmovcc edx, eax */
		emit_store_sz(e, size, H_RDX, gpr_disp(i->reg));
		return true;
	case OP_INC: case OP_DEC: {
		if (!opnd_e(i->opnd[0]) || !reg_plain(i, i->rm))
			return false;
		const bool dec = i->op == OP_DEC;
		if (!flags_dead) {
			/* cc.flags = the old CF (F_CF is bit 0) */
			b1(e, 0x0f); b1(e, 0x92); b1(e, 0xc1);                 /* setc cl */
			b1(e, 0x0f); b1(e, 0xb6); b1(e, 0xc9);                 /* movzx ecx, cl */
			emit_store64(e, H_RCX, cc_disp(offsetof(struct cc_state, flags)));
		}
		emit_load_sz(e, size, H_RAX, gpr_disp(i->rm));
		if (size == 8)
			b1(e, 0x48);
		b1(e, 0x89); b1(e, 0xc2);                                      /* mov edx, eax */
		emit_incdec_edx(e, dec, size);
		emit_store_sz(e, size, H_RDX, gpr_disp(i->rm));
		if (!flags_dead)
			emit_incdec_record(e, dec, size);
		return true;
	}
	case OP_ADC: case OP_SBB: {
		const bool sbb = i->op == OP_SBB;
		const struct alu_kind k = { sbb ? 0x19 : 0x11, true, false, sbb ? CC_SBB : CC_ADC };
		if (!flags_dead) {
			/* setc byte [rbx + cc.carry]: the carry-in for the lazy flags */
			b1(e, 0x0f); b1(e, 0x92);
			emit_rbx_mem(e, 0, cc_disp(offsetof(struct cc_state, carry)));
		}
		return emit_alu_k(e, i, &k, flags_dead);
	}
	default:
		return false;
	}
}

/*
 * After a handler ran an ALU operation of kind k at size (the slow path of
 * an inline form), the host's flags made the guest's again from the lazy
 * record it left: the same operation on the recorded operands, or a TEST
 * of the recorded result. Clobbers rax, rcx, rdx.
 */
static void emit_flags_from_cc(struct emit *e, const struct alu_kind *k, unsigned size)
{
	if (k->ccop == CC_INC || k->ccop == CC_DEC) {
		/* CF = the recorded old CF, then the same INC/DEC */
		b1(e, 0x0f); b1(e, 0xba);
		emit_rbx_mem(e, 4, cc_disp(offsetof(struct cc_state, flags))); b1(e, 0); /* bt dword [cc.flags], 0 */
		emit_load(e, true, H_RDX, cc_disp(offsetof(struct cc_state, src1)));
		emit_incdec_edx(e, k->ccop == CC_DEC, size);
		return;
	}
	if (k->logic) {
		emit_load(e, true, H_RDX, cc_disp(offsetof(struct cc_state, res)));
		emit_sized_op(e, size, 0x85, 0x84); b1(e, 0xd2); /* test dl/dx/edx/rdx, same */
		return;
	}
	emit_load(e, true, H_RAX, cc_disp(offsetof(struct cc_state, src1)));
	emit_load(e, true, H_RCX, cc_disp(offsetof(struct cc_state, src2)));
	b1(e, 0x48); b1(e, 0x89); b1(e, 0xc2);              /* mov rdx, rax */
	emit_sized_op(e, size, k->opc, (uint8_t)(k->opc - 1));
	b1(e, 0xca);
}

static bool emit_mov(struct emit *e, const struct x86_insn *i)
{
	const unsigned size = i->opsize;
	unsigned d = i->opnd[0], s = i->opnd[1], dr, sr;
	if (!reg_pair(i, &dr, &sr)) {
		if (!((d == X86_O_Zv || d == X86_O_Zb) && (s == X86_O_Iv || s == X86_O_Ib)) &&
		    !(opnd_e(d) && opnd_imm(i, s)))
			return false;
		dr = opnd_e(d) ? i->rm : i->reg;
		if (!reg_plain(i, dr))
			return false;
		emit_mov_imm(e, H_RAX, i->imm & size_mask(size));
		emit_store_sz(e, size, H_RAX, gpr_disp(dr));
		return true;
	}
	if (!reg_plain(i, dr) || !reg_plain(i, sr))
		return false;
	emit_load_sz(e, size, H_RAX, gpr_disp(sr));
	emit_store_sz(e, size, H_RAX, gpr_disp(dr));
	return true;
}

/* rax = the effective address of i's memory operand (64-bit addressing);
 * false, having emitted nothing, when it cannot be done here. */
static bool emit_ea(struct emit *e, const struct x86_insn *i, uint32_t next)
{
	if (x86_insn_riprel(i)) {
		int64_t v = i->disp + (int64_t)next;
		if (v != (int32_t)v)
			return false;
		emit_lea_rax_r12(e, (int32_t)v);
	} else {
		emit_mov_imm(e, H_RAX, (uint64_t)i->disp);
	}
	if (i->base != X86_REG_NONE) {
		/* add rax, [rbx + gpr] */
		b1(e, 0x48); b1(e, 0x03);
		emit_rbx_mem(e, H_RAX, gpr_disp(i->base));
	}
	if (i->index != X86_REG_NONE) {
		emit_load(e, true, H_RCX, gpr_disp(i->index));
		if (i->scale) {
			b1(e, 0x48); b1(e, 0xc1); b1(e, 0xe1); b1(e, i->scale); /* shl rcx, scale */
		}
		b1(e, 0x48); b1(e, 0x01); b1(e, 0xc8); /* add rax, rcx */
	}
	return true;
}

/* rax = the linear address of i's memory operand (64-bit mode: only FS
 * and GS have a base); false, having emitted nothing, as emit_ea. */
static bool emit_linear(struct emit *e, const struct x86_insn *i, uint32_t next)
{
	if (!emit_ea(e, i, next))
		return false;
	if (i->seg == SEG_FS || i->seg == SEG_GS) {
		uint32_t base = (uint32_t)(offsetof(struct x86_cpu, seg) + i->seg * sizeof(struct x86_seg) +
					   offsetof(struct x86_seg, base));
		b1(e, 0x48); b1(e, 0x03); emit_rbx_mem(e, H_RAX, base); /* add rax, [rbx+base] */
	}
	return true;
}

/* LEA: the address arithmetic only (no segment, no access). */
static bool emit_lea(struct emit *e, const struct x86_insn *i, uint32_t next)
{
	if ((i->addrsize != 8 && i->opsize == 8) || i->opsize < 4)
		return false;
	if (!emit_ea(e, i, next))
		return false;
	if (i->opsize == 4) {
		b1(e, 0x89); b1(e, 0xc0); /* mov eax, eax */
	}
	emit_store64(e, H_RAX, gpr_disp(i->reg));
	return true;
}

/*
 * A shift or rotate of a register by a constant: the host instruction on
 * the value (masked count 0 leaves it; a 32-bit form still zero-extends,
 * on the host as in the guest). When the flags are live, SHL/SHR/SAR by a
 * non-zero count also write the lazy record the handler would (result,
 * value, count), and *host_flags says the host's flags are the guest's
 * (count 1 only: for larger counts OF is undefined and may differ);
 * rotates with live flags are left to the handler.
 */
static bool emit_shift(struct emit *e, const struct x86_insn *i, bool flags_dead, bool *host_flags)
{
	uint8_t digit;
	unsigned ccop = 0;
	switch (i->op) {
	case OP_ROL: digit = 0; break;
	case OP_ROR: digit = 1; break;
	case OP_SHL: digit = 4; ccop = CC_SHL; break;
	case OP_SHR: digit = 5; ccop = CC_SHR; break;
	case OP_SAR: digit = 7; ccop = CC_SAR; break;
	default: return false;
	}
	if (i->opnd[0] != X86_O_Ev || (i->opnd[1] != X86_O_Ib && i->opnd[1] != X86_O_I1) ||
	    i->opsize < 4 || (!flags_dead && !ccop))
		return false;
	const bool wide = i->opsize == 8;
	uint8_t count = i->opnd[1] == X86_O_I1 ? 1 : (uint8_t)i->imm;
	const uint8_t n = count & (wide ? 63 : 31);
	const bool record = !flags_dead && n;
	emit_load(e, wide, H_RAX, gpr_disp(i->rm));
	if (record) {
		b1(e, 0x48); b1(e, 0x89); b1(e, 0xc1);            /* mov rcx, rax */
	}
	if (wide)
		b1(e, 0x48);
	b1(e, 0xc1); b1(e, (uint8_t)(0xc0 | digit << 3)); b1(e, count); /* op eax/rax, count */
	emit_store64(e, H_RAX, gpr_disp(i->rm));
	if (record) {
		emit_store64(e, H_RAX, cc_disp(offsetof(struct cc_state, res)));
		emit_store64(e, H_RCX, cc_disp(offsetof(struct cc_state, src1)));
		emit_mov_imm(e, H_RDX, n);
		emit_store64(e, H_RDX, cc_disp(offsetof(struct cc_state, src2)));
		emit_cc_opsize(e, ccop, i->opsize);
		*host_flags = n == 1;
	}
	return true;
}

/*
 * IMUL Gv, Ev and IMUL Gv, Ev, imm between registers at 32/64 bits: the
 * host's IMUL, and the lazy record exec_int.c's imul_fixed writes (the
 * low half, the first factor, the overflow as 0/1). The host's SF/ZF/PF
 * after IMUL are undefined, so its flags are not claimed as the guest's.
 */
static bool emit_imul(struct emit *e, const struct x86_insn *i, bool flags_dead)
{
	if (i->op != OP_IMUL || i->opnd[0] != X86_O_Gv || i->opnd[1] != X86_O_Ev || i->opsize < 4)
		return false;
	const bool imm = i->opnd[2] == X86_O_Iz || i->opnd[2] == X86_O_Ibs;
	if (!imm && i->opnd[2] != X86_O_NONE)
		return false;
	const bool wide = i->opsize == 8;
	if (imm) {
		emit_load(e, wide, H_RAX, gpr_disp(i->rm));
		emit_mov_imm(e, H_RCX, i->imm & size_mask(i->opsize));
	} else {
		emit_load(e, wide, H_RAX, gpr_disp(i->reg));
		emit_load(e, wide, H_RCX, gpr_disp(i->rm));
	}
	if (wide)
		b1(e, 0x48);
	b1(e, 0x89); b1(e, 0xc2);                         /* mov edx, eax */
	if (wide)
		b1(e, 0x48);
	b1(e, 0x0f); b1(e, 0xaf); b1(e, 0xd1);            /* imul edx, ecx */
	emit_store64(e, H_RDX, gpr_disp(i->reg));
	if (flags_dead)
		return true;
	b1(e, 0x0f); b1(e, 0x90); b1(e, 0xc1);            /* seto cl */
	b1(e, 0x0f); b1(e, 0xb6); b1(e, 0xc9);            /* movzx ecx, cl */
	emit_store64(e, H_RDX, cc_disp(offsetof(struct cc_state, res)));
	emit_store64(e, H_RAX, cc_disp(offsetof(struct cc_state, src1)));
	emit_store64(e, H_RCX, cc_disp(offsetof(struct cc_state, src2)));
	emit_cc_opsize(e, CC_IMUL, i->opsize);
	return true;
}

/* MOVZX/MOVSX Gv, Eb/Ew and MOVSXD Gv, Ed between registers (AH..BH
 * sources left to the handler). */
static bool emit_extend_reg(struct emit *e, const struct x86_insn *i)
{
	if ((i->op != OP_MOVZX && i->op != OP_MOVSX && i->op != OP_MOVSXD) || i->opnd[0] != X86_O_Gv ||
	    i->opsize < 2 || (i->op == OP_MOVSXD && i->opsize < 4))
		return false;
	unsigned s = i->opnd[1], from = s == X86_O_Eb ? 1 : s == X86_O_Ew ? 2 : s == X86_O_Ed ? 4 : 0;
	if (!from || (from == 1 && x86_insn_byte_reg_is_high(i, i->rm)))
		return false;
	const bool wide = i->opsize == 8;
	if (i->op == OP_MOVZX) {
		emit_load_sz(e, from, H_RAX, gpr_disp(i->rm));
	} else if (i->op == OP_MOVSX) {
		if (wide)
			b1(e, 0x48);
		b1(e, 0x0f); b1(e, from == 1 ? 0xbe : 0xbf);       /* movsx eax/rax, [rbx+gpr] */
		emit_rbx_mem(e, H_RAX, gpr_disp(i->rm));
	} else if (wide) {
		b1(e, 0x48); b1(e, 0x63);                          /* movsxd rax, [rbx+gpr] */
		emit_rbx_mem(e, H_RAX, gpr_disp(i->rm));
	} else {
		emit_load(e, false, H_RAX, gpr_disp(i->rm));
	}
	emit_store_sz(e, i->opsize, H_RAX, gpr_disp(i->reg));
	return true;
}

/* Emits i inline when it is one of the forms above; false to call its handler.
 * flags_dead: no instruction reads (or can observe, by faulting) the
 * arithmetic flags i leaves before some later one overwrites them all. */
static bool emit_inline(struct emit *e, const struct x86_insn *i, uint32_t next, bool flags_dead,
			bool *host_flags)
{
	*host_flags = false;
	if (x86_insn_lock(i) || i->mode != X86_MODE_64)
		return false;
	if (i->op == OP_LEA)
		return (i->flags & X86_INSN_MODRM) && x86_insn_is_mem(i) && emit_lea(e, i, next);
	if (x86_insn_is_mem(i))
		return false;
	if (i->op == OP_MOV)
		return emit_mov(e, i);
	if (emit_extend_reg(e, i) || emit_shift(e, i, flags_dead, host_flags) ||
	    emit_imul(e, i, flags_dead))
		return true;
	/* emit_alu ends with the host's flags those of the guest operation
	 * (the same operation at the same size; only MOVs follow it). */
	*host_flags = emit_alu(e, i, flags_dead);
	return *host_flags;
}

/* Cannot fault and leaves the arithmetic flags alone (register forms). */
static bool jit_flag_neutral(const struct x86_insn *i)
{
	if (i->op == OP_LEA)
		return true;
	if (x86_insn_is_mem(i))
		return false;
	switch (i->op) {
	case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_MOVSXD: case OP_BSWAP:
	case OP_NOT: case OP_XCHG: case OP_NOP:
		return true;
	default:
		return false;
	}
}

/* Cannot fault and overwrites all six arithmetic flags (register forms). */
static bool jit_flag_killer(const struct x86_insn *i)
{
	if (x86_insn_is_mem(i) || x86_insn_lock(i))
		return false;
	switch (i->op) {
	case OP_ADD: case OP_SUB: case OP_AND: case OP_OR: case OP_XOR: case OP_CMP:
	case OP_TEST:
		return true;
	default:
		return false;
	}
}

/* Are the flags instruction k of b leaves dead (see emit_inline)? Exits
 * and faults between k and the killer would expose them, so only
 * non-faulting, flag-neutral instructions may come between. */
static bool jit_flags_dead(const struct tb *b, unsigned k)
{
	for (unsigned j = k + 1; j < b->ninsn; j++) {
		const struct x86_insn *i = &b->insn[j].insn;
		if (jit_flag_killer(i))
			return true;
		if (!jit_flag_neutral(i))
			return false;
	}
	return false;
}

/* The guest offset (from the block's start) a direct branch goes to, if i is one. */
static bool jit_direct_target(const struct x86_insn *i, uint32_t next, int64_t *target)
{
	switch (i->op) {
	case OP_JCC: case OP_JCXZ: case OP_LOOP: case OP_LOOPE: case OP_LOOPNE:
		break;
	case OP_JMP: case OP_CALL:
		if (i->opnd[0] != X86_O_Jb && i->opnd[0] != X86_O_Jz)
			return false;
		break;
	default:
		return false;
	}
	*target = (int64_t)next + (int64_t)i->imm;
	return true;
}

/* Does i, when its branch is not taken, go on to the next instruction? */
static bool jit_falls_through(const struct x86_insn *i)
{
	return i->op == OP_JCC || i->op == OP_JCXZ || i->op == OP_LOOP || i->op == OP_LOOPE ||
	       i->op == OP_LOOPNE;
}

struct block_emit {
	struct emit e;
	const struct jit_arena *arena;
	const struct tb *b;
	uint32_t page_off;  /* the block start's offset in its guest page */
	uint8_t *top;       /* after the prologue: where rounds and chains enter */
	uint8_t *epilogue;
};

static const uint32_t off_rip = (uint32_t)offsetof(struct x86_cpu, rip);
static const uint32_t off_insn_rip = (uint32_t)offsetof(struct x86_cpu, insn_rip);

/* cmp dword [r13], gen; jne: the fixup taken when the block's code page changed. */
static uint8_t *emit_gen_exit(struct emit *e, uint32_t gen)
{
	b1(e, 0x41); b1(e, 0x81); b1(e, 0x7d); b1(e, 0x00); b4(e, gen);
	return emit_jcc_fixup(e, 0x5);
}

/*
 * After STI or POPF in the middle of a block (cpu.c's tb_ends_block): the
 * returned fixup is taken when an event is posted, so that cpu_run sees
 * an interrupt IF may have just let in, and the STI shadow with it.
 * Otherwise the shadow ends here: its instruction, the next one, runs
 * before any event check.
 */
static uint8_t *emit_if_set_exit(struct emit *e)
{
	const uint32_t off_vcpu = (uint32_t)offsetof(struct x86_cpu, vcpu);
	const uint32_t off_pending = (uint32_t)offsetof(struct vcpu, pending);
	const uint32_t off_shadow = (uint32_t)offsetof(struct x86_cpu, intr_shadow);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x83); b4(e, off_vcpu);     /* mov rax, [rbx+vcpu] */
	b1(e, 0x83); b1(e, 0xb8); b4(e, off_pending); b1(e, 0);     /* cmp dword [rax+pending], 0 */
	uint8_t *exit = emit_jcc_fixup(e, 0x5);
	b1(e, 0xc6); b1(e, 0x83); b4(e, off_shadow); b1(e, 0);      /* mov byte [rbx+intr_shadow], 0 */
	return exit;
}

/* rax unchanged; jumps to the returned fixup unless rax is canonical. */
static uint8_t *emit_noncanonical_exit(struct emit *e)
{
	b1(e, 0x48); b1(e, 0x89); b1(e, 0xc1);             /* mov rcx, rax */
	b1(e, 0x48); b1(e, 0xc1); b1(e, 0xf9); b1(e, 47);  /* sar rcx, 47 */
	b1(e, 0x48); b1(e, 0x83); b1(e, 0xc1); b1(e, 1);   /* add rcx, 1 */
	b1(e, 0x48); b1(e, 0x83); b1(e, 0xf9); b1(e, 1);   /* cmp rcx, 1 */
	return emit_jcc_fixup(e, 0x7);                      /* ja */
}

/*
 * The checks before going on to other guest code without returning to
 * cpu_run: the code page unchanged (a CALL may have pushed onto it), no
 * event posted to this vCPU that it could take now (an interrupt request
 * waits while IF is clear, as cpu_run's cpu_should_check has it), the
 * round budget not spent. Each failing check jumps to a fixup left in
 * out[0..GO_ON_FIXUPS-1].
 */
#define GO_ON_FIXUPS 5

static void emit_go_on_checks(struct block_emit *be, uint8_t *out[GO_ON_FIXUPS])
{
	struct emit *e = &be->e;
	const uint32_t off_vcpu = (uint32_t)offsetof(struct x86_cpu, vcpu);
	const uint32_t off_kicked = (uint32_t)offsetof(struct x86_cpu, kicked);
	const uint32_t off_pending = (uint32_t)offsetof(struct vcpu, pending);
	const uint32_t off_rflags = (uint32_t)offsetof(struct x86_cpu, rflags);
	out[0] = emit_gen_exit(e, be->b->gen);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x83); b4(e, off_vcpu);     /* mov rax, [rbx+vcpu] */
	b1(e, 0x8b); b1(e, 0x80); b4(e, off_pending);               /* mov eax, [rax+pending] */
	b1(e, 0x85); b1(e, 0xc0);                                   /* test eax, eax */
	b1(e, 0x74);                                                /* jz none */
	uint8_t *none = e->p;
	b1(e, 0);
	b1(e, 0x83); b1(e, 0xf8); b1(e, VCPU_PENDING_INTR);         /* cmp eax, INTR */
	out[1] = emit_jcc_fixup(e, 0x5);
	b1(e, 0xf7); b1(e, 0x83); b4(e, off_rflags); b4(e, F_IF);   /* test dword [rbx+rflags], IF */
	out[2] = emit_jcc_fixup(e, 0x5);
	*none = (uint8_t)(e->p - none - 1);
	b1(e, 0x80); b1(e, 0xbb); b4(e, off_kicked); b1(e, 0);      /* cmp byte [rbx+kicked], 0 */
	out[3] = emit_jcc_fixup(e, 0x5);
	b1(e, 0x41); b1(e, 0xff); b1(e, 0xcf);                      /* dec r15d */
	out[4] = emit_jcc_fixup(e, 0x4);                            /* jz */
}

/* lea eax, [r14 + n]; jmp epilogue: return n more instructions retired. */
static void emit_return(struct block_emit *be, uint32_t n)
{
	struct emit *e = &be->e;
	b1(e, 0x41); b1(e, 0x8d); b1(e, 0x86); b4(e, n);
	b1(e, 0xe9);
	uint8_t *at = e->p;
	b4(e, 0);
	patch_rel32(at, be->epilogue);
}

/*
 * A chain stub: after `retired` instructions of this block, if rip is
 * the in-page guest address start + target, go on into that block's code
 * through a jump that cpu_exec_block patches once the block exists (until
 * then the jump returns to cpu_run, naming itself in tc->link_slot). Falls
 * through (rax clobbered) when rip is elsewhere or a check fails; in the
 * latter case after retiring nothing more than the caller's path would.
 */
static void emit_chain(struct block_emit *be, int64_t target, uint32_t retired)
{
	struct emit *e = &be->e;
	if (target != (int32_t)target)
		return;
	uint8_t *fail[1 + GO_ON_FIXUPS];
	emit_lea_rax_r12(e, (int32_t)target);
	b1(e, 0x48); b1(e, 0x39); b1(e, 0x83); b4(e, off_rip); /* cmp [rbx+rip], rax */
	fail[0] = emit_jcc_fixup(e, 0x5);
	emit_go_on_checks(be, &fail[1]);
	b1(e, 0x49); b1(e, 0x81); b1(e, 0xc6); b4(e, retired); /* add r14, retired */
	b1(e, 0xe9);                                            /* jmp slot */
	uint8_t *slot = e->p;
	b4(e, 0);
	patch_rel32(slot, e->p);
	/* Not linked yet: tc->link_slot = slot, tc->link_from = b. Nothing but
	 * cpu_events (which drops the link) runs before the next cpu_exec_block,
	 * so rip is still the target when that links it. */
	const uint32_t off_tbc = (uint32_t)offsetof(struct x86_cpu, tbc);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x8b); b4(e, off_tbc); /* mov rcx, [rbx+tbc] */
	b1(e, 0x48); b1(e, 0xb8); b8(e, (uint64_t)(uintptr_t)slot); /* movabs rax, slot */
	b1(e, 0x48); b1(e, 0x89); b1(e, 0x81); b4(e, (uint32_t)offsetof(struct tb_cache, link_slot));
	b1(e, 0x48); b1(e, 0xb8); b8(e, (uint64_t)(uintptr_t)be->b); /* movabs rax, b */
	b1(e, 0x48); b1(e, 0x89); b1(e, 0x81); b4(e, (uint32_t)offsetof(struct tb_cache, link_from));
	emit_return(be, 0);
	for (unsigned j = 0; j < 1 + GO_ON_FIXUPS; j++)
		patch_rel32(fail[j], e->p);
}

/* A near RET, or a near JMP/CALL through a register or memory (64-bit). */
static bool jit_near_indirect(const struct x86_insn *i)
{
	if (i->mode != X86_MODE_64)
		return false;
	if (i->op == OP_RET)
		return true;
	return (i->op == OP_JMP || i->op == OP_CALL) && i->opnd[0] == X86_O_Ev;
}

/* After the checks of a chain, `retired` more instructions counted: into
 * the dispatcher of the block's privilege (jit.h); falls through when a
 * check fails. */
static void emit_dispatch_jump(struct block_emit *be, uint32_t retired)
{
	struct emit *e = &be->e;
	const struct jit_arena *a = be->arena; /* has dispatchers: it has code */
	uint8_t *fail[GO_ON_FIXUPS];
	emit_go_on_checks(be, fail);
	b1(e, 0x49); b1(e, 0x81); b1(e, 0xc6); b4(e, retired); /* add r14, retired */
	b1(e, 0xe9);                                            /* jmp dispatch */
	uint8_t *at = e->p;
	b4(e, 0);
	patch_rel32(at, a->dispatch[tb_tag_user(be->b->tag)]);
	for (unsigned j = 0; j < GO_ON_FIXUPS; j++)
		patch_rel32(fail[j], e->p);
}

/*
 * What a called handler may do, for the checks after it. Only common
 * instructions are classified; anything else gets both checks. Faults
 * need no check (they longjmp out).
 */
static bool jit_plain_op(unsigned op)
{
	switch (op) {
	case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB:
	case OP_XOR: case OP_CMP: case OP_TEST: case OP_INC: case OP_DEC: case OP_NOT:
	case OP_NEG: case OP_MUL: case OP_IMUL: case OP_DIV: case OP_IDIV: case OP_ROL:
	case OP_ROR: case OP_RCL: case OP_RCR: case OP_SHL: case OP_SHR: case OP_SAR:
	case OP_SHLD: case OP_SHRD: case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC:
	case OP_BSF: case OP_BSR: case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_MOVSXD:
	case OP_LEA: case OP_XCHG: case OP_CMPXCHG: case OP_XADD: case OP_BSWAP:
	case OP_CMOVCC: case OP_SETCC: case OP_CBW: case OP_CWD: case OP_PUSH: case OP_POP:
	case OP_NOP:
		return true;
	default:
		return false;
	}
}

static bool jit_reg_form(unsigned f)
{
	switch (f) {
	case X86_O_Gb: case X86_O_Gv: case X86_O_Gw: case X86_O_Gd: case X86_O_Gy:
	case X86_O_Zb: case X86_O_Zv: case X86_O_Zy:
	case X86_O_AL: case X86_O_AX: case X86_O_rAX: case X86_O_eAX:
		return true;
	default:
		return false;
	}
}

/* Can i's handler move rip anywhere but the next instruction? */
static bool jit_may_branch(const struct x86_insn *i)
{
	return !jit_plain_op(i->op);
}

/* Can i's handler store to guest memory (and so into this block's page)? */
static bool jit_may_store(const struct x86_insn *i)
{
	if (!jit_plain_op(i->op))
		return true;
	if (i->op == OP_PUSH)
		return true;
	if (!x86_insn_is_mem(i))
		return false;
	switch (i->op) {
	case OP_CMP: case OP_TEST: case OP_BT: case OP_BSF: case OP_BSR: case OP_LEA:
		return false;
	case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_MOVSXD: case OP_ADD: case OP_OR:
	case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB: case OP_XOR: case OP_CMOVCC:
	case OP_SETCC: case OP_POP:
		return !jit_reg_form(i->opnd[0]);
	default:
		return true;
	}
}

/* Calls ti's handler the way the run loop does: insn_rip, rip, fn(cpu, insn). */
static void emit_call_handler(struct emit *e, const struct tb_insn *ti, uint32_t off, uint32_t next)
{
	emit_lea_rax_r12(e, off);
	emit_store_rax(e, off_insn_rip);
	emit_lea_rax_r12(e, next);
	emit_store_rax(e, off_rip);
	/* mov rdi, rbx; movabs rsi, &insn; call fn */
	b1(e, 0x48); b1(e, 0x89); b1(e, 0xdf);
	b1(e, 0x48); b1(e, 0xbe); b8(e, (uint64_t)(uintptr_t)&ti->insn);
	emit_call(e, (const void *)ti->fn);
}

/*
 * Ends an inline fast path: jumps over the slow path that follows, where
 * the nslow fixups of the fast path's misses land and ti's handler is
 * called. After a handler that may store, *gen_exit is the exit taken when
 * it hit this block's code page.
 */
static void emit_slow_path(struct block_emit *be, const struct tb_insn *ti, uint32_t off,
			   uint32_t next, uint8_t *const *slow, unsigned nslow, uint8_t **gen_exit,
			   const struct alu_kind *reflag)
{
	struct emit *e = &be->e;
	b1(e, 0xe9); /* jmp done */
	uint8_t *done = e->p;
	b4(e, 0);
	for (unsigned j = 0; j < nslow; j++)
		patch_rel32(slow[j], e->p);
	emit_call_handler(e, ti, off, next);
	if (gen_exit)
		*gen_exit = emit_gen_exit(e, be->b->gen);
	/* The fast path left the host's flags the guest's: so must this. */
	if (reflag)
		emit_flags_from_cc(e, reflag, ti->insn.opsize);
	patch_rel32(done, e->p);
}

/* The offset from rbx of the TLB of one privilege (user: CPL 3). */
static uint32_t tlb_disp(bool user)
{
	return (uint32_t)(offsetof(struct x86_cpu, tlb) + (user ? TLB_SIZE * sizeof(struct tlb_entry) : 0));
}

/*
 * The TLB fast path for an access of size bytes at the linear address in
 * rax, as mmu.h's loads and stores do it (the entry at the first byte's
 * index must carry the last byte's page, so page-crossing accesses miss;
 * code pages never get write entries, so a fast store cannot hit cached
 * code; non-canonical addresses never match), with the block's privilege
 * (tb_tag_user). On a hit rax is the host address; a miss jumps to the
 * returned fixup. Clobbers rcx, rdx.
 */
static uint8_t *emit_tlb(struct block_emit *be, unsigned size, bool write)
{
	struct emit *e = &be->e;
	/* rcx = ((la + size - 1) & ~0xfff) | TLB_VALID */
	b1(e, 0x48); b1(e, 0x8d); b1(e, 0x48); b1(e, (uint8_t)(size - 1));
	b1(e, 0x48); b1(e, 0x81); b1(e, 0xe1); b4(e, 0xfffff000u);
	b1(e, 0x48); b1(e, 0x83); b1(e, 0xc9); b1(e, (uint8_t)TLB_VALID);
	/* rdx = tlb_index(la) * 5 (entries are 40 bytes: rdx * 8 below) */
	_Static_assert(sizeof(struct tlb_entry) == 40, "TLB entry size");
	b1(e, 0x89); b1(e, 0xc2);
	b1(e, 0xc1); b1(e, 0xea); b1(e, 12);
	b1(e, 0x81); b1(e, 0xe2); b4(e, TLB_SIZE - 1);
	b1(e, 0x48); b1(e, 0x8d); b1(e, 0x14); b1(e, 0x92);
	const uint32_t tlb = tlb_disp(tb_tag_user(be->b->tag));
	uint32_t tag = tlb + (uint32_t)(write ? offsetof(struct tlb_entry, tag_write)
					      : offsetof(struct tlb_entry, tag_read));
	b1(e, 0x48); b1(e, 0x3b); b1(e, 0x8c); b1(e, 0xd3); b4(e, tag); /* cmp rcx, [rbx+rdx*8+tag] */
	uint8_t *slow = emit_jcc_fixup(e, 0x5);
	b1(e, 0x48); b1(e, 0x03); b1(e, 0x84); b1(e, 0xd3); /* add rax, [rbx+rdx*8+addend] */
	b4(e, tlb + (uint32_t)offsetof(struct tlb_entry, addend));
	return slow;
}

/*
 * PUSH and POP of a 64-bit register: the stack slot through the TLB fast
 * path (SS has base 0 in 64-bit mode), RSP adjusted after the access, as
 * the handler orders it; a miss calls the handler. POP RSP is left to it.
 */
static bool emit_push_pop(struct block_emit *be, const struct tb_insn *ti, uint32_t off,
			  uint32_t next, uint8_t **gen_exit)
{
	const struct x86_insn *i = &ti->insn;
	bool push = i->op == OP_PUSH;
	if ((i->op != OP_PUSH && i->op != OP_POP) || i->opnd[0] != X86_O_Zv || i->opsize != 8 ||
	    i->mode != X86_MODE_64 || (!push && i->reg == R_RSP))
		return false;
	struct emit *e = &be->e;
	emit_load(e, true, H_RAX, gpr_disp(R_RSP));
	if (push) {
		b1(e, 0x48); b1(e, 0x83); b1(e, 0xe8); b1(e, 8); /* sub rax, 8 */
	}
	uint8_t *slow = emit_tlb(be, 8, push);
	if (push) {
		emit_load(e, true, H_RCX, gpr_disp(i->reg)); /* PUSH RSP pushes the old value */
		b1(e, 0x48); b1(e, 0x89); b1(e, 0x08);       /* mov [rax], rcx */
		b1(e, 0x48); b1(e, 0x83); b1(e, 0x6b); b1(e, (uint8_t)gpr_disp(R_RSP)); b1(e, 8); /* sub qword [rbx+rsp], 8 */
	} else {
		b1(e, 0x48); b1(e, 0x8b); b1(e, 0x00);       /* mov rax, [rax] */
		b1(e, 0x48); b1(e, 0x83); b1(e, 0x43); b1(e, (uint8_t)gpr_disp(R_RSP)); b1(e, 8); /* add qword [rbx+rsp], 8 */
		emit_store64(e, H_RAX, gpr_disp(i->reg));
	}
	emit_slow_path(be, ti, off, next, &slow, 1, push ? gen_exit : NULL, NULL);
	return true;
}

/*
 * MOV between a register (or an immediate) and memory, at any size, and
 * the extending loads MOVZX/MOVSX (into a 16/32/64-bit register) and
 * MOVSXD (32/64): the TLB fast path inline, as mmu.h's loads and stores do
 * it (the entry at the first byte's index must carry the last byte's page,
 * so page-crossing accesses miss; code pages never get write entries, so a
 * fast store cannot hit cached code; non-canonical addresses never match),
 * with the block's privilege (tb_tag_user); anything else calls the
 * handler, which takes the slow path with its faults. After a store
 * through the handler, *gen_exit is the exit taken when it hit this page's
 * code.
 */
static bool emit_mem_mov(struct block_emit *be, const struct tb_insn *ti, uint32_t off,
			 uint32_t next, uint8_t **gen_exit)
{
	const struct x86_insn *i = &ti->insn;
	if ((i->op != OP_MOV && i->op != OP_MOVZX && i->op != OP_MOVSX && i->op != OP_MOVSXD) ||
	    !x86_insn_is_mem(i) || !(i->flags & X86_INSN_MODRM) || i->addrsize != 8 ||
	    i->mode != X86_MODE_64)
		return false;
	unsigned d = i->opnd[0], s = i->opnd[1];
	enum { LOAD, STORE_REG, STORE_IMM } kind;
	unsigned size = i->opsize; /* bytes accessed */
	if (i->op != OP_MOV) {
		/* MOVZX/MOVSX Gv, Eb/Ew and MOVSXD Gv, Ed: extending loads */
		if (d != X86_O_Gv || (s != X86_O_Eb && s != X86_O_Ew && s != X86_O_Ed) ||
		    (i->op == OP_MOVSXD && i->opsize < 4) || i->opsize < 2)
			return false;
		kind = LOAD;
		size = s == X86_O_Eb ? 1 : s == X86_O_Ew ? 2 : 4;
	} else if (opnd_g(d) && opnd_e(s)) {
		kind = LOAD;
	} else if (opnd_e(d) && opnd_g(s)) {
		kind = STORE_REG;
	} else if (opnd_e(d) && opnd_imm(i, s)) {
		kind = STORE_IMM;
	} else {
		return false;
	}
	if (kind != STORE_IMM && !reg_plain(i, i->reg))
		return false;
	struct emit *e = &be->e;
	if (!emit_linear(e, i, next))
		return false;
	const bool wide = i->opsize == 8;
	uint8_t *slow = emit_tlb(be, size, kind != LOAD);
	if (kind == LOAD) {
		/* The same load on the host into eax/rax: movzx/movsx/movsxd,
		 * or mov (zero-extending below 32 bits); then the register
		 * write at the operand size. */
		if (i->op == OP_MOV) {
			emit_load_host(e, size, H_RAX, H_RAX);
		} else {
			if (wide && i->op != OP_MOVZX)
				b1(e, 0x48);
			if (i->op == OP_MOVZX || i->op == OP_MOVSX) {
				b1(e, 0x0f);
				b1(e, (uint8_t)((i->op == OP_MOVZX ? 0xb6 : 0xbe) | (size == 2)));
			} else {
				b1(e, wide ? 0x63 : 0x8b);
			}
			b1(e, 0x00); /* [rax] */
		}
		emit_store_sz(e, i->opsize, H_RAX, gpr_disp(i->reg));
	} else {
		if (kind == STORE_REG)
			emit_load_sz(e, size, H_RCX, gpr_disp(i->reg));
		else
			emit_mov_imm(e, H_RCX, i->imm & size_mask(size));
		emit_store_host(e, size, H_RCX, H_RAX);
	}
	emit_slow_path(be, ti, off, next, &slow, 1, kind != LOAD ? gen_exit : NULL, NULL);
	return true;
}

/* rax = r12 + target; jumps to the returned fixup unless rax is canonical. */
static uint8_t *emit_canonical_target(struct emit *e, int32_t target)
{
	emit_lea_rax_r12(e, target);
	return emit_noncanonical_exit(e);
}

/*
 * CALL rel32 in 64-bit mode (always a block's last instruction): target
 * checked canonical, the return address pushed through the TLB fast
 * path, RSP and rip updated, as call64() in exec_ctrl.c orders them; a
 * non-canonical target or a TLB miss calls the handler. rip is set on
 * both paths, so the block's end chains to the target as after a handler.
 */
static bool emit_call_near(struct block_emit *be, const struct tb_insn *ti, uint32_t off,
			   uint32_t next)
{
	const struct x86_insn *i = &ti->insn;
	int64_t target = (int64_t)next + (int64_t)i->imm;
	const bool reg = i->opnd[0] == X86_O_Ev && !x86_insn_is_mem(i);
	if (i->op != OP_CALL || (i->opnd[0] != X86_O_Jz && !reg) || i->opsize != 8 ||
	    i->mode != X86_MODE_64 || (!reg && target != (int32_t)target))
		return false;
	struct emit *e = &be->e;
	uint8_t *slow[2];
	if (reg) {
		/* The target, read before the push (CALL *%rsp calls the old
		 * RSP), kept in rsi, which the TLB path leaves alone. */
		emit_load(e, true, H_RSI, gpr_disp(i->rm));
		b1(e, 0x48); b1(e, 0x89); b1(e, 0xf0);   /* mov rax, rsi */
		slow[0] = emit_noncanonical_exit(e);
	} else {
		slow[0] = emit_canonical_target(e, (int32_t)target);
	}
	emit_load(e, true, H_RAX, gpr_disp(R_RSP));
	b1(e, 0x48); b1(e, 0x83); b1(e, 0xe8); b1(e, 8); /* sub rax, 8 */
	slow[1] = emit_tlb(be, 8, true);
	/* lea rcx, [r12 + next]; mov [rax], rcx */
	b1(e, 0x49); b1(e, 0x8d); b1(e, 0x8c); b1(e, 0x24); b4(e, next);
	b1(e, 0x48); b1(e, 0x89); b1(e, 0x08);
	b1(e, 0x48); b1(e, 0x83); b1(e, 0x6b); b1(e, (uint8_t)gpr_disp(R_RSP)); b1(e, 8); /* sub qword [rbx+rsp], 8 */
	if (reg)
		emit_store64(e, H_RSI, off_rip);
	else
		emit_lea_rax_r12(e, (int32_t)target);
	if (!reg)
		emit_store_rax(e, off_rip);
	emit_slow_path(be, ti, off, next, slow, 2, NULL, NULL);
	return true;
}

/* JMP rel8/rel32 in 64-bit mode (a block's last instruction): rip = the
 * target if canonical, else the handler raises the #GP. */
static bool emit_jmp_rel(struct block_emit *be, const struct tb_insn *ti, uint32_t off,
			 uint32_t next)
{
	const struct x86_insn *i = &ti->insn;
	int64_t target = (int64_t)next + (int64_t)i->imm;
	if (i->op != OP_JMP || (i->opnd[0] != X86_O_Jz && i->opnd[0] != X86_O_Jb) ||
	    i->opsize != 8 || i->mode != X86_MODE_64 || target != (int32_t)target)
		return false;
	struct emit *e = &be->e;
	uint8_t *slow = emit_canonical_target(e, (int32_t)target);
	emit_store_rax(e, off_rip);
	emit_slow_path(be, ti, off, next, &slow, 1, NULL, NULL);
	return true;
}

/*
 * RET (C3) in 64-bit mode: the return address through the TLB fast path,
 * checked canonical, then RSP and rip, as ret64() in exec_ctrl.c; a miss
 * or a non-canonical address calls the handler (which faults). The block
 * ends here and returns to cpu_run (the target is not constant).
 */
static bool emit_ret(struct block_emit *be, const struct tb_insn *ti, uint32_t off, uint32_t next)
{
	const struct x86_insn *i = &ti->insn;
	if (i->op != OP_RET || i->opnd[0] != X86_O_NONE || i->opsize != 8 || i->mode != X86_MODE_64)
		return false;
	struct emit *e = &be->e;
	uint8_t *slow[2];
	emit_load(e, true, H_RAX, gpr_disp(R_RSP));
	slow[0] = emit_tlb(be, 8, false);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x00);             /* mov rax, [rax] */
	slow[1] = emit_noncanonical_exit(e);
	b1(e, 0x48); b1(e, 0x83); b1(e, 0x43); b1(e, (uint8_t)gpr_disp(R_RSP)); b1(e, 8); /* add qword [rbx+rsp], 8 */
	emit_store_rax(e, off_rip);
	emit_slow_path(be, ti, off, next, slow, 2, NULL, NULL);
	return true;
}

/* The guest's CF from the lazy record, for code that needs it as a value. */
static uint64_t jit_carry(struct x86_cpu *cpu)
{
	return cc_carry(cpu);
}

/*
 * INC/DEC of memory, at any size: the old CF first (from the host's flags
 * when they are the guest's, else from the lazy record through jit_carry)
 * into the record, then a read-modify-write through a write TLB entry
 * with the host's INC/DEC run on that CF, so the host's flags end up the
 * guest's. A miss calls the handler (then the flags are rebuilt from its
 * record); with dead flags only the memory is updated.
 */
static bool emit_incdec_mem(struct block_emit *be, const struct tb_insn *ti, uint32_t off,
			    uint32_t next, bool flags_dead, bool prev_host_flags, uint8_t **gen_exit,
			    bool *host_flags)
{
	const struct x86_insn *i = &ti->insn;
	if ((i->op != OP_INC && i->op != OP_DEC) || !x86_insn_is_mem(i) || !opnd_e(i->opnd[0]) ||
	    !(i->flags & X86_INSN_MODRM) || i->addrsize != 8 || i->mode != X86_MODE_64 ||
	    x86_insn_lock(i))
		return false;
	struct emit *e = &be->e;
	const unsigned size = i->opsize;
	const bool dec = i->op == OP_DEC;
	const uint32_t cc_flags_disp = cc_disp(offsetof(struct cc_state, flags));
	uint8_t *const start = e->p; /* emit_linear may refuse after the CF code */
	/* The old CF waits in edi: the record changes only once the access
	 * has succeeded (a fault must leave the flags as they were). */
	if (!flags_dead) {
		if (prev_host_flags) {
			b1(e, 0x40); b1(e, 0x0f); b1(e, 0x92); b1(e, 0xc7); /* setc dil */
			b1(e, 0x40); b1(e, 0x0f); b1(e, 0xb6); b1(e, 0xff); /* movzx edi, dil */
		} else {
			b1(e, 0x48); b1(e, 0x89); b1(e, 0xdf);         /* mov rdi, rbx */
			emit_call(e, (const void *)jit_carry);
			b1(e, 0x89); b1(e, 0xc7);                      /* mov edi, eax */
		}
	}
	if (!emit_linear(e, i, next)) {
		e->p = start;
		return false;
	}
	uint8_t *slow = emit_tlb(be, size, true);
	b1(e, 0x48); b1(e, 0x89); b1(e, 0xc6);                 /* mov rsi, rax */
	emit_load_host(e, size, H_RAX, H_RSI);
	if (size == 8)
		b1(e, 0x48);
	b1(e, 0x89); b1(e, 0xc2);                              /* mov edx, eax */
	if (!flags_dead) {
		b1(e, 0x0f); b1(e, 0xba); b1(e, 0xe7); b1(e, 0); /* bt edi, 0 */
	}
	emit_incdec_edx(e, dec, size);
	emit_store_host(e, size, H_RDX, H_RSI);
	const struct alu_kind k = { 0, true, false, dec ? CC_DEC : CC_INC };
	if (!flags_dead) {
		emit_store64(e, 7, cc_flags_disp);             /* cc.flags = rdi */
		emit_incdec_record(e, dec, size);
	}
	emit_slow_path(be, ti, off, next, &slow, 1, gen_exit, flags_dead ? NULL : &k);
	*host_flags = !flags_dead;
	return true;
}

/*
 * ALU operations on memory, at any size: "op reg, [mem]" (ADD/SUB/AND/OR/
 * XOR/CMP/TEST into a register), and "op [mem], reg/imm", which writes
 * memory for all but CMP/TEST. The operand comes through the TLB fast path
 * (a write entry for a read-modify-write, so the host address is one the
 * store may use); a miss calls the handler. Either way the host's flags
 * end up the guest's (*host_flags), unless they are dead. After a write
 * through the handler, *gen_exit is the exit taken when it hit this page's
 * code. LOCKed forms are left to the handler (host atomics).
 */
static bool emit_alu_mem(struct block_emit *be, const struct tb_insn *ti, uint32_t off,
			 uint32_t next, bool flags_dead, uint8_t **gen_exit, bool *host_flags)
{
	const struct x86_insn *i = &ti->insn;
	struct alu_kind k;
	if (!alu_kind_of(i->op, &k) || !x86_insn_is_mem(i) || !(i->flags & X86_INSN_MODRM) ||
	    i->addrsize != 8 || i->mode != X86_MODE_64 || x86_insn_lock(i))
		return false;
	const unsigned size = i->opsize;
	unsigned d = i->opnd[0], s = i->opnd[1];
	enum { REG_MEM, MEM_REG, MEM_IMM } form;
	if (opnd_g(d) && opnd_e(s))
		form = REG_MEM;
	else if (opnd_e(d) && opnd_g(s))
		form = MEM_REG;
	else if (opnd_e(d) && opnd_imm(i, s))
		form = MEM_IMM;
	else
		return false;
	if (form != MEM_IMM && !reg_plain(i, i->reg))
		return false;
	const bool rmw = form != REG_MEM && k.writes;
	struct emit *e = &be->e;
	if (!emit_linear(e, i, next))
		return false;
	uint8_t *slow = emit_tlb(be, size, rmw);
	if (form == REG_MEM) {
		emit_load_host(e, size, H_RCX, H_RAX);          /* rcx = [rax] */
		emit_load_sz(e, size, H_RAX, gpr_disp(i->reg));
	} else {
		if (rmw) {
			b1(e, 0x48); b1(e, 0x89); b1(e, 0xc6);  /* mov rsi, rax */
		}
		emit_load_host(e, size, H_RAX, H_RAX);          /* rax = [rax] */
		if (form == MEM_REG)
			emit_load_sz(e, size, H_RCX, gpr_disp(i->reg));
		else
			emit_mov_imm(e, H_RCX, i->imm & size_mask(size));
	}
	emit_alu_core(e, &k, size, rmw ? ALU_TO_HOST : i->reg, flags_dead);
	emit_slow_path(be, ti, off, next, &slow, 1, rmw ? gen_exit : NULL, flags_dead ? NULL : &k);
	*host_flags = !flags_dead;
	return true;
}

static void emit_return_r14(struct emit *e);

/*
 * With a linear address in rax: idx (rdx or rsi) = its TLB index * 5 (the
 * entry at [rbx + idx*8 + tlb]), rcx = its page | TLB_VALID, and the
 * returned fixup taken unless the entry's code tag is that. rax is kept.
 */
static uint8_t *emit_code_tlb_probe(struct emit *e, unsigned idx, uint32_t tlb)
{
	b1(e, 0x48); b1(e, 0x89); b1(e, 0xc1);                          /* mov rcx, rax */
	b1(e, 0x48); b1(e, 0x81); b1(e, 0xe1); b4(e, 0xfffff000u);      /* and rcx, ~0xfff */
	b1(e, 0x48); b1(e, 0x83); b1(e, 0xc9); b1(e, (uint8_t)TLB_VALID); /* or rcx, VALID */
	b1(e, 0x89); b1(e, (uint8_t)(0xc0 | idx));                     /* mov idx32, eax */
	b1(e, 0xc1); b1(e, (uint8_t)(0xe8 | idx)); b1(e, 12);           /* shr idx32, 12 */
	b1(e, 0x81); b1(e, (uint8_t)(0xe0 | idx)); b4(e, TLB_SIZE - 1); /* and idx32, mask */
	b1(e, 0x48); b1(e, 0x8d); b1(e, (uint8_t)(idx << 3 | 4));
	b1(e, (uint8_t)(0x80 | idx << 3 | idx));                        /* lea idx, [idx+idx*4] */
	b1(e, 0x48); b1(e, 0x3b); b1(e, 0x8c); b1(e, (uint8_t)(0xc0 | idx << 3 | 3));
	b4(e, tlb + (uint32_t)offsetof(struct tlb_entry, tag_code));    /* cmp rcx, [rbx+idx*8+tag_code] */
	return emit_jcc_fixup(e, 0x5);
}

/*
 * The chain entry of a block crossing into the next page (cpu.c) checks
 * what links, trampolines and the dispatcher check only for the first
 * page: that the code TLB maps the next page to the physical page the
 * tail came from, and that page's generation; else back to cpu_run.
 */
static void emit_cross_entry_checks(struct block_emit *be)
{
	struct emit *e = &be->e;
	const struct tb *b = be->b;
	uint8_t *fail[3];
	const uint32_t tlb = tlb_disp(tb_tag_user(b->tag));
	b1(e, 0x49); b1(e, 0x8d); b1(e, 0x84); b1(e, 0x24); b4(e, MMU_PAGE_SIZE); /* lea rax, [r12+4096] */
	fail[0] = emit_code_tlb_probe(e, H_RDX, tlb);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x8c); b1(e, 0xd3);             /* mov rcx, [rbx+rdx*8+paddr] */
	b4(e, tlb + (uint32_t)offsetof(struct tlb_entry, paddr));
	b1(e, 0x48); b1(e, 0x81); b1(e, 0xe1); b4(e, 0xfffff000u);      /* and rcx, ~0xfff */
	b1(e, 0x48); b1(e, 0xb8); b8(e, b->pa2);                        /* movabs rax, pa2 */
	b1(e, 0x48); b1(e, 0x39); b1(e, 0xc1);                          /* cmp rcx, rax */
	fail[1] = emit_jcc_fixup(e, 0x5);
	b1(e, 0x48); b1(e, 0xb9); b8(e, (uint64_t)(uintptr_t)b->genp2); /* movabs rcx, genp2 */
	b1(e, 0x81); b1(e, 0x39); b4(e, b->gen2);                       /* cmp dword [rcx], gen2 */
	fail[2] = emit_jcc_fixup(e, 0x5);
	b1(e, 0xe9);                                                    /* jmp over the exit */
	uint8_t *ok = e->p;
	b4(e, 0);
	for (unsigned j = 0; j < 3; j++)
		patch_rel32(fail[j], e->p);
	emit_return_r14(e);
	patch_rel32(ok, e->p);
}

/* mov eax, r14d; pop r15 .. rbx; ret: the frame's epilogue (every
 * block's is the same), returning what r14 counted. */
static void emit_return_r14(struct emit *e)
{
	b1(e, 0x44); b1(e, 0x89); b1(e, 0xf0);
	b1(e, 0x41); b1(e, 0x5f);
	b1(e, 0x41); b1(e, 0x5e);
	b1(e, 0x41); b1(e, 0x5d);
	b1(e, 0x41); b1(e, 0x5c);
	b1(e, 0x5b);
	b1(e, 0xc3);
}

/*
 * The dispatcher for blocks of one privilege (jit.h), entered by a jump
 * from block code with rip set, the chain checks passed and r14 counting
 * what has retired: the jump cache entry of rip, checked as a trampoline
 * checks its target (the code TLB of that privilege maps rip's page to
 * the same host page, the block's page generation is unchanged), then
 * that block's chain entry with r13 its genp; else back to cpu_run.
 */
static uint8_t *emit_dispatcher(struct emit *e, unsigned user)
{
	uint8_t *start = e->p, *fail[4];
	const uint32_t off_tbc = (uint32_t)offsetof(struct x86_cpu, tbc);
	const uint32_t jc = (uint32_t)(offsetof(struct tb_cache, jc) + user * JC_SIZE * sizeof(struct jc_entry));
	const uint32_t tlb = tlb_disp(user);
	_Static_assert(sizeof(struct jc_entry) == 40, "jump cache entry size");
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x83); b4(e, off_rip);          /* mov rax, [rbx+rip] */
	b1(e, 0x89); b1(e, 0xc2);                                       /* mov edx, eax */
	b1(e, 0xc1); b1(e, 0xea); b1(e, JC_BITS);                       /* shr edx, JC_BITS */
	b1(e, 0x31); b1(e, 0xc2);                                       /* xor edx, eax */
	b1(e, 0x81); b1(e, 0xe2); b4(e, JC_SIZE - 1);                   /* and edx, JC_SIZE - 1 */
	b1(e, 0x48); b1(e, 0x8d); b1(e, 0x14); b1(e, 0x92);             /* lea rdx, [rdx+rdx*4] */
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x8b); b4(e, off_tbc);          /* mov rcx, [rbx+tbc] */
	b1(e, 0x48); b1(e, 0x8d); b1(e, 0x94); b1(e, 0xd1); b4(e, jc);  /* lea rdx, [rcx+rdx*8+jc] */
	b1(e, 0x48); b1(e, 0x3b); b1(e, 0x42); b1(e, (uint8_t)offsetof(struct jc_entry, va)); /* cmp rax, [rdx+va] */
	fail[0] = emit_jcc_fixup(e, 0x5);
	fail[1] = emit_code_tlb_probe(e, H_RSI, tlb);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x8c); b1(e, 0xf3);             /* mov rcx, [rbx+rsi*8+addend] */
	b4(e, tlb + (uint32_t)offsetof(struct tlb_entry, addend));
	b1(e, 0x48); b1(e, 0x3b); b1(e, 0x4a); b1(e, (uint8_t)offsetof(struct jc_entry, addend)); /* cmp rcx, [rdx+addend] */
	fail[2] = emit_jcc_fixup(e, 0x5);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x4a); b1(e, (uint8_t)offsetof(struct jc_entry, genp)); /* mov rcx, [rdx+genp] */
	b1(e, 0x8b); b1(e, 0x31);                                       /* mov esi, [rcx] */
	b1(e, 0x3b); b1(e, 0x72); b1(e, (uint8_t)offsetof(struct jc_entry, gen)); /* cmp esi, [rdx+gen] */
	fail[3] = emit_jcc_fixup(e, 0x5);
	b1(e, 0x49); b1(e, 0x89); b1(e, 0xcd);                          /* mov r13, rcx */
	b1(e, 0xff); b1(e, 0x62); b1(e, (uint8_t)offsetof(struct jc_entry, code)); /* jmp [rdx+code] */
	for (unsigned j = 0; j < 4; j++)
		patch_rel32(fail[j], e->p);
	emit_return_r14(e);
	return start;
}

static void jit_emit_dispatchers(struct jit_arena *a)
{
	struct emit e = { a->base };
	for (unsigned u = 0; u < 2; u++)
		a->dispatch[u] = emit_dispatcher(&e, u);
	a->fixed = a->used = (size_t)(e.p - a->base + 15) & ~(size_t)15;
}

jit_block_fn jit_emit_block(struct jit_arena *a, struct tb *b)
{
	if (!a->base || a->size - a->used < jit_block_max_size())
		return NULL;
	uint8_t *start = a->base + a->used;
	struct block_emit be = { .e = { start }, .arena = a, .b = b, .page_off = (uint32_t)(b->tag & 0xfff) };
	struct emit *e = &be.e;
	struct { uint8_t *taken, *taken_inline, *gen, *event; int64_t target; bool direct; } exits[TB_MAX_INSNS];

	/* push rbx, r12, r13, r14, r15; mov rbx, rdi; mov r12, rsi;
	 * movabs r13, genp; xor r14d, r14d; mov r15d, JIT_LOOP_MAX */
	b1(e, 0x53);
	b1(e, 0x41); b1(e, 0x54);
	b1(e, 0x41); b1(e, 0x55);
	b1(e, 0x41); b1(e, 0x56);
	b1(e, 0x41); b1(e, 0x57);
	b1(e, 0x48); b1(e, 0x89); b1(e, 0xfb);
	b1(e, 0x49); b1(e, 0x89); b1(e, 0xf4);
	b1(e, 0x49); b1(e, 0xbd); b8(e, (uint64_t)(uintptr_t)b->genp);
	b1(e, 0x45); b1(e, 0x31); b1(e, 0xf6);
	b1(e, 0x41); b1(e, 0xbf); b4(e, JIT_LOOP_MAX);
	be.top = e->p;

	uint32_t off = 0;
	bool last_inline = false, host_flags = false;
	for (unsigned k = 0; k < b->ninsn; k++) {
		const struct tb_insn *ti = &b->insn[k];
		uint32_t next = off + ti->insn.len;
		exits[k].taken = exits[k].taken_inline = exits[k].gen = exits[k].event = NULL;
		bool prev_host_flags = host_flags;
		last_inline = emit_inline(e, &ti->insn, next, jit_flags_dead(b, k), &host_flags);
		if (!last_inline && prev_host_flags &&
		    emit_on_host_flags(e, &ti->insn, jit_flags_dead(b, k))) {
			last_inline = host_flags = true;
		}
		if (last_inline) {
			off = next;
			continue;
		}
		if (emit_mem_mov(&be, ti, off, next, &exits[k].gen) ||
		    emit_push_pop(&be, ti, off, next, &exits[k].gen) ||
		    emit_alu_mem(&be, ti, off, next, jit_flags_dead(b, k), &exits[k].gen, &host_flags) ||
		    emit_incdec_mem(&be, ti, off, next, jit_flags_dead(b, k), prev_host_flags,
				    &exits[k].gen, &host_flags)) {
			last_inline = true;
			off = next;
			continue;
		}
		if (k + 1 == b->ninsn &&
		    (emit_call_near(&be, ti, off, next) || emit_ret(&be, ti, off, next) ||
		     emit_jmp_rel(&be, ti, off, next))) {
			off = next; /* rip is set: the end chains like after a handler */
			continue;
		}
		/* A Jcc right after an inline ALU operation: the host's flags are
		 * the guest's, so the not-taken case goes on inline; only a taken
		 * branch calls the handler (which evaluates the same condition). */
		uint8_t *not_taken = NULL;
		exits[k].taken_inline = NULL;
		if (prev_host_flags && ti->insn.op == OP_JCC && k + 1 < b->ninsn) {
			not_taken = emit_jcc_fixup(e, (uint8_t)((ti->insn.cc & 0xf) ^ 1));
			int64_t target = (int64_t)next + (int64_t)ti->insn.imm;
			if (ti->insn.opsize == 8 && target == (int32_t)target) {
				/* Taken: rip = the target if canonical (else the
				 * handler raises the #GP), then the taken exit. */
				uint8_t *noncanon = emit_canonical_target(e, (int32_t)target);
				emit_store_rax(e, off_rip);
				b1(e, 0xe9);                                        /* jmp taken exit */
				exits[k].taken_inline = e->p;
				b4(e, 0);
				patch_rel32(noncanon, e->p);
			}
		}
		emit_call_handler(e, ti, off, next);
		if (k + 1 < b->ninsn) {
			/* rip moved elsewhere (taken branch, REP restart, INT n), or
			 * a store hit this page: leave the block. */
			if (jit_may_branch(&ti->insn)) {
				emit_lea_rax_r12(e, next);
				b1(e, 0x48); b1(e, 0x39); b1(e, 0x83); b4(e, off_rip); /* cmp [rbx+rip], rax */
				exits[k].taken = emit_jcc_fixup(e, 0x5);
				exits[k].direct = jit_direct_target(&ti->insn, next, &exits[k].target);
			}
			if (jit_may_store(&ti->insn)) {
				exits[k].gen = emit_gen_exit(e, b->gen);
			}
			if (ti->insn.op == OP_STI || ti->insn.op == OP_POPF)
				exits[k].event = emit_if_set_exit(e);
		}
		if (not_taken)
			patch_rel32(not_taken, e->p);
		off = next;
	}
	/* A store through the last instruction's handler that hit this page
	 * needs no exit of its own: the block ends here anyway. */
	if (exits[b->ninsn - 1].gen)
		patch_rel32(exits[b->ninsn - 1].gen, e->p);
	/* The epilogue comes first in the exit code so stubs can jump back to it. */
	uint8_t *skip = NULL;
	b1(e, 0xe9); skip = e->p; b4(e, 0); /* jmp over the epilogue */
	be.epilogue = e->p;
	b1(e, 0x41); b1(e, 0x5f); /* pop r15 */
	b1(e, 0x41); b1(e, 0x5e); /* pop r14 */
	b1(e, 0x41); b1(e, 0x5d); /* pop r13 */
	b1(e, 0x41); b1(e, 0x5c); /* pop r12 */
	b1(e, 0x5b);               /* pop rbx */
	b1(e, 0xc3);               /* ret */
	patch_rel32(skip, e->p);

	/* Fell off the end: every instruction ran. After an inline last
	 * instruction rip is the block's end (inline instructions do not
	 * update it as they go); a called one has set it (a branch's target). */
	const struct x86_insn *last = &b->insn[b->ninsn - 1].insn;
	if (last_inline) {
		emit_lea_rax_r12(e, off);
		emit_store_rax(e, off_rip);
	}
	int64_t target;
	bool direct = !last_inline && jit_direct_target(last, off, &target);
	if (direct && target == 0 && !b->genp2) {
		/* A loop that is one block: go round again in host code (not a
		 * block crossing into the next page: it goes round through its
		 * chain entry, which checks that page). */
		uint8_t *no[1 + GO_ON_FIXUPS];
		b1(e, 0x4c); b1(e, 0x39); b1(e, 0xa3); b4(e, off_rip); /* cmp [rbx+rip], r12 */
		no[0] = emit_jcc_fixup(e, 0x5);
		emit_go_on_checks(&be, &no[1]);
		b1(e, 0x49); b1(e, 0x81); b1(e, 0xc6); b4(e, b->ninsn); /* add r14, n */
		b1(e, 0xe9);
		uint8_t *at = e->p;
		b4(e, 0);
		patch_rel32(at, be.top);
		for (unsigned j = 0; j < 1 + GO_ON_FIXUPS; j++)
			patch_rel32(no[j], e->p);
	} else if (direct) {
		emit_chain(&be, target, b->ninsn);
	} else if (jit_near_indirect(last)) {
		emit_dispatch_jump(&be, b->ninsn);
	}
	/* Where the block goes on at its end: after a conditional branch not
	 * taken, or a block cut short (TB_MAX_INSNS, the next instruction
	 * undecodable) rather than ended by its last instruction. Not when
	 * the branch goes there anyway (Jcc +0): the stub above covers it,
	 * and checking twice would spend the round budget past zero. */
	if (last_inline || (direct && jit_falls_through(last) && target != (int64_t)off) ||
	    (!direct && !b->ended))
		emit_chain(&be, off, b->ninsn);
	emit_return(&be, b->ninsn);

	/* Early exits after instruction k: k + 1 retired. */
	for (unsigned k = 0; k + 1 < b->ninsn; k++) {
		if (exits[k].taken) {
			patch_rel32(exits[k].taken, e->p);
			if (exits[k].taken_inline)
				patch_rel32(exits[k].taken_inline, e->p);
			if (exits[k].direct)
				emit_chain(&be, exits[k].target, k + 1);
		}
		if (exits[k].gen)
			patch_rel32(exits[k].gen, e->p);
		if (exits[k].event)
			patch_rel32(exits[k].event, e->p);
		if (exits[k].taken || exits[k].gen || exits[k].event)
			emit_return(&be, k + 1); /* inline: no exit after it */
	}

	/* Entry for chained jumps from other blocks: rip is this block's start. */
	b->jit_chain = e->p;
	b1(e, 0x4c); b1(e, 0x8b); b1(e, 0xa3); b4(e, off_rip); /* mov r12, [rbx+rip] */
	if (b->genp2)
		emit_cross_entry_checks(&be);
	b1(e, 0xe9);
	uint8_t *at = e->p;
	b4(e, 0);
	patch_rel32(at, be.top);

	if ((size_t)(e->p - start) > jit_block_max_size()) {
		/* JIT_INSN_MAX/JIT_FRAME_MAX undercount what this emits. */
		log_error("jit: block code of %zu bytes exceeds the %zu-byte bound",
			  (size_t)(e->p - start), jit_block_max_size());
		abort();
	}
	a->used = (size_t)(e->p - a->base + 15) & ~(size_t)15;
	return (jit_block_fn)(void *)start;
}

void jit_link(uint8_t *slot, const void *target)
{
	patch_rel32(slot, target);
}

/*
 * A link into a block on another page goes through a trampoline that
 * checks what the same-page case gets for free: that CS:RIP still maps to
 * the same host page (the code TLB entry for it, at the privilege of the
 * blocks, has the tag and addend it had when linked) and that the target
 * page's code is unchanged (its generation); then it makes that page's
 * generation counter the running one (r13) and enters the block. If a
 * check fails it returns to cpu_run, which finds the block the slow way.
 */
void *jit_emit_trampoline(struct jit_arena *a, const struct tb *to, uintptr_t addend, uint8_t *slot,
			  const struct tb *from)
{
	if (!a->base || !to->jit_chain || a->size - a->used < 192)
		return NULL;
	uint8_t *start = a->base + a->used;
	struct emit em = { start }, *e = &em;
	uint8_t *fail[3];
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x83); b4(e, off_rip);          /* mov rax, [rbx+rip] */
	const uint32_t tlb = tlb_disp(tb_tag_user(to->tag));
	fail[0] = emit_code_tlb_probe(e, H_RDX, tlb);
	b1(e, 0x48); b1(e, 0xb9); b8(e, (uint64_t)addend);             /* movabs rcx, addend */
	b1(e, 0x48); b1(e, 0x3b); b1(e, 0x8c); b1(e, 0xd3);             /* cmp rcx, [rbx+rdx*8+addend] */
	b4(e, tlb + (uint32_t)offsetof(struct tlb_entry, addend));
	fail[1] = emit_jcc_fixup(e, 0x5);
	b1(e, 0x48); b1(e, 0xb9); b8(e, (uint64_t)(uintptr_t)to->genp); /* movabs rcx, genp */
	b1(e, 0x81); b1(e, 0x39); b4(e, to->gen);                       /* cmp dword [rcx], gen */
	fail[2] = emit_jcc_fixup(e, 0x5);
	b1(e, 0x49); b1(e, 0x89); b1(e, 0xcd);                          /* mov r13, rcx */
	b1(e, 0xe9);                                                    /* jmp to's chain entry */
	uint8_t *at = e->p;
	b4(e, 0);
	patch_rel32(at, to->jit_chain);
	/* The code TLB lacks the page: cpu_run refills it, and this check
	 * passes again. */
	patch_rel32(fail[0], e->p);
	emit_return_r14(e);
	/* The page maps elsewhere now or its code changed: name the slot,
	 * as an unlinked chain does, so cpu_exec_block links it anew. */
	patch_rel32(fail[1], e->p);
	patch_rel32(fail[2], e->p);
	const uint32_t off_tbc = (uint32_t)offsetof(struct x86_cpu, tbc);
	b1(e, 0x48); b1(e, 0x8b); b1(e, 0x8b); b4(e, off_tbc);        /* mov rcx, [rbx+tbc] */
	b1(e, 0x48); b1(e, 0xb8); b8(e, (uint64_t)(uintptr_t)slot);    /* movabs rax, slot */
	b1(e, 0x48); b1(e, 0x89); b1(e, 0x81); b4(e, (uint32_t)offsetof(struct tb_cache, link_slot));
	b1(e, 0x48); b1(e, 0xb8); b8(e, (uint64_t)(uintptr_t)from);    /* movabs rax, from */
	b1(e, 0x48); b1(e, 0x89); b1(e, 0x81); b4(e, (uint32_t)offsetof(struct tb_cache, link_from));
	emit_return_r14(e);
	a->used = (size_t)(e->p - a->base + 15) & ~(size_t)15;
	return start;
}

#else /* not an x86-64 host: the interpreter runs everything */

bool jit_arena_init(struct jit_arena *a)
{
	memset(a, 0, sizeof(*a));
	return false;
}

void jit_arena_destroy(struct jit_arena *a)
{
	(void)a;
}

jit_block_fn jit_emit_block(struct jit_arena *a, struct tb *b)
{
	(void)a;
	(void)b;
	return NULL;
}

void jit_link(uint8_t *slot, const void *target)
{
	(void)slot;
	(void)target;
}

void *jit_emit_trampoline(struct jit_arena *a, const struct tb *to, uintptr_t addend, uint8_t *slot,
			  const struct tb *from)
{
	(void)a;
	(void)to;
	(void)addend;
	(void)slot;
	(void)from;
	return NULL;
}

#endif
