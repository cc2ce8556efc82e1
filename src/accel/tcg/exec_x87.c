/*
 * x87 floating point: loads and stores, arithmetic, compares, the
 * transcendental instructions and register-stack manipulation. Control
 * and state instructions (FLDCW, FNSTENV, FNSAVE, ...) are in
 * exec_x87_ctl.c; FXSAVE/FXRSTOR in exec_fxsave.c.
 *
 * Every computation runs on the host's own x87 (see fpu.h): the operands
 * go into host registers through memory, the guest's FCW (precision and
 * rounding control, exceptions masked) is loaded around the instruction,
 * and the host's status word gives the exception flags and condition
 * codes. Memory operands use the host instruction's memory form (FADD
 * m32, FIST m16, ...) so conversions, NaN selection and flags are those
 * of the real instruction.
 *
 * What is kept and what is simplified:
 *  - stack overflow/underflow set IE, SF and C1 as the SDM says; with IE
 *    masked the result is the QNaN indefinite;
 *  - an unmasked exception leaves ES/B set, and the next waiting x87
 *    instruction raises #MF when CR0.NE=1 (CR0.NE=0's FERR#/IRQ13 path is
 *    not modelled: the exception then stays pending silently);
 *  - with unmasked IE, DE or ZE (and OE/UE for memory destinations) the
 *    destination and the stack stay unchanged, as on hardware; unmasked
 *    OE/UE on register destinations store the masked result rather than
 *    the exponent-biased one;
 *  - FIP/FOP/FDP are recorded for every non-control instruction, at its
 *    start (an instruction that then takes a #PF records them again when
 *    it is restarted); FCS and FDS are not kept (stored as 0, as CPUs
 *    with CPUID.7.EBX[13] do);
 *  - condition codes the SDM calls undefined keep what the host leaves
 *    (usually their old value), checked against the host in test_fpu.c.
 */
#include "accel/tcg/fpu.h"

/* Operands and results of one host x87 sequence (all through memory). */
struct x87_host {
	long double a, b;   /* inputs: ST(0) (or the destination), the source */
	long double r, r2;  /* outputs: final ST(0), and ST(1) for two results */
	uint64_t mi, mo;    /* memory operand image in, memory result out */
	uint16_t cw;        /* guest FCW with every exception masked */
	uint16_t sw;        /* host FSW right after the operation */
	uint16_t hcw;       /* host FCW, restored afterwards */
};

/*
 * Runs `op` with the guest's control word, captures the status word, then
 * runs `store` (which moves results out and must leave the host stack as
 * it found it; fstp to memory or ST(0) never raises, but may change C1,
 * which is why the status word is taken in between).
 */
#define X87_HOST(h, ...) X87_HOST3(h, __VA_ARGS__)
#define X87_HOST3(h, op, store)                                                          \
	__asm__ volatile("fnstcw %[hcw]\n\t"                                               \
			 "fnclex\n\t"                                                      \
			 "fldcw %[cw]\n\t" op "\n\t"                                       \
			 "fnstsw %[sw]\n\t" store "\n\t"                                   \
			 "fnclex\n\t"                                                      \
			 "fldcw %[hcw]"                                                    \
			 : [hcw] "=m"((h)->hcw), [sw] "=m"((h)->sw), [r] "=m"((h)->r),    \
			   [r2] "=m"((h)->r2), [mo] "=m"((h)->mo)                          \
			 : [cw] "m"((h)->cw), [a] "m"((h)->a), [b] "m"((h)->b),            \
			   [mi] "m"((h)->mi)                                               \
			 : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)",     \
			   "st(7)")

/* Binary operation on ST(0)=a and ST(1)=b, the result left in r. */
#define X87_REG2(insn) "fldt %[b]\n\tfldt %[a]\n\t" insn, "fstpt %[r]\n\tfstp %%st(0)"
/* a op memory operand. */
#define X87_MEM(insn) "fldt %[a]\n\t" insn " %[mi]", "fstpt %[r]"
/* Unary operation on a. */
#define X87_UN(insn) "fldt %[a]\n\t" insn, "fstpt %[r]"

static void x87_host_init(const struct x86_cpu *cpu, struct x87_host *h)
{
	memset(h, 0, sizeof(*h));
	h->cw = (uint16_t)((cpu->fpu.fcw & 0x0f00) | 0x007f);
}

/* ---- register stack ------------------------------------------------------- */

static long double x87_get(const struct x86_cpu *cpu, unsigned sti)
{
	return cpu->fpu.st[x87_phys(cpu, sti)];
}

static void x87_put(struct x86_cpu *cpu, unsigned sti, long double v)
{
	unsigned r = x87_phys(cpu, sti);
	cpu->fpu.st[r] = v;
	cpu->fpu.ftw_abridged |= (uint16_t)(1u << r);
}

static void x87_pop(struct x86_cpu *cpu)
{
	cpu->fpu.ftw_abridged &= (uint16_t)~(1u << cpu->fpu.top);
	cpu->fpu.top = (cpu->fpu.top + 1) & 7;
}

static long double x87_indefinite(void)
{
	static const uint8_t b[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
	return x87_from_bytes(b);
}

static void x87_set_c(struct x86_cpu *cpu, uint16_t mask, uint16_t bits)
{
	cpu->fpu.fsw = (uint16_t)((cpu->fpu.fsw & ~mask) | (bits & mask));
}

/*
 * Records exception flags; returns the ones that are unmasked (the caller
 * decides what an unmasked one suppresses).
 */
static uint16_t x87_raise(struct x86_cpu *cpu, uint16_t exc)
{
	exc &= FSW_EXC | FSW_SF;
	cpu->fpu.fsw |= exc;
	uint16_t unmasked = exc & ~cpu->fpu.fcw & FSW_EXC;
	if (unmasked)
		cpu->fpu.fsw |= FSW_ES | FSW_B;
	return unmasked;
}

/* Stack underflow (an empty register read): true if masked. */
static bool x87_underflow(struct x86_cpu *cpu)
{
	x87_set_c(cpu, FSW_C1, 0);
	return !x87_raise(cpu, FSW_IE | FSW_SF);
}

static bool x87_overflow(struct x86_cpu *cpu)
{
	x87_set_c(cpu, FSW_C1, FSW_C1);
	return !x87_raise(cpu, FSW_IE | FSW_SF);
}

/* Pushes v; on overflow the masked response pushes the indefinite. */
static void x87_push(struct x86_cpu *cpu, long double v)
{
	unsigned r = (cpu->fpu.top - 1) & 7;
	if (cpu->fpu.ftw_abridged & (1u << r)) {
		if (!x87_overflow(cpu))
			return;
		v = x87_indefinite();
	}
	cpu->fpu.top = (uint8_t)r;
	x87_put(cpu, 0, v);
}

/* Folds a host status word's flags; true if the result may be written. */
static bool x87_commit(struct x86_cpu *cpu, uint16_t sw, uint16_t suppress)
{
	return !(x87_raise(cpu, sw & FSW_EXC) & suppress);
}

#define X87_SUPPRESS_REG (FSW_IE | FSW_DE | FSW_ZE)
#define X87_SUPPRESS_MEM (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE)

/* Every instruction but the control ones: gate, pending #MF, FIP/FOP/FDP. */
static void x87_begin(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_gate(cpu);
	if ((cpu->fpu.fsw & FSW_ES) && (cpu->cr0 & X86_CR0_NE))
		cpu_raise(cpu, EXC_MF, 0);
	cpu->fpu.fop = (uint16_t)(((i->opcode & 7) << 8) | i->modrm);
	cpu->fpu.fip = cpu->insn_rip;
	if (x86_insn_is_mem(i))
		cpu->fpu.fdp = insn_ea(cpu, i);
}

/* The ST(i) named by a register form's ModRM.rm. */
static unsigned x87_sti(const struct x86_insn *i)
{
	return i->rm & 7;
}

static uint64_t x87_ld(struct x86_cpu *cpu, const struct x86_insn *i)
{
	return mem_load(cpu, insn_linear(cpu, i, i->memsize, MMU_READ), i->memsize);
}

/* ---- loads ---------------------------------------------------------------- */

static void x87_fld(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	struct x87_host h;
	x87_host_init(cpu, &h);
	bool full = cpu->fpu.ftw_abridged & (1u << ((cpu->fpu.top - 1) & 7));
	long double v;
	if (!x86_insn_is_mem(i)) {
		unsigned s = x87_sti(i);
		if (x87_empty(cpu, s)) {
			if (!x87_underflow(cpu))
				return;
			v = x87_indefinite();
		} else {
			v = x87_get(cpu, s);
		}
	} else if (i->memsize == 10) {
		uint8_t b[10];
		mmu_read(cpu, insn_linear(cpu, i, 10, MMU_READ), b, 10);
		v = x87_from_bytes(b);
	} else {
		/* m32/m64: the conversion can raise IE (SNaN) and DE. */
		h.mi = x87_ld(cpu, i);
		if (i->memsize == 4)
			X87_HOST(&h, "flds %[mi]", "fstpt %[r]");
		else
			X87_HOST(&h, "fldl %[mi]", "fstpt %[r]");
		/* A stack overflow outranks the conversion's exceptions. */
		if (!full && !x87_commit(cpu, h.sw, X87_SUPPRESS_REG))
			return;
		v = h.r;
	}
	x87_set_c(cpu, FSW_C1, 0);
	x87_push(cpu, v);
}

static void x87_fild(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	uint64_t m = x87_ld(cpu, i);
	/* Every 16/32/64-bit integer is exact in the 64-bit significand. */
	long double v = (long double)exec_sext(m, i->memsize);
	x87_set_c(cpu, FSW_C1, 0);
	x87_push(cpu, v);
}

static void x87_fbld(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	struct x87_host h;
	x87_host_init(cpu, &h);
	uint8_t b[10];
	mmu_read(cpu, insn_linear(cpu, i, 10, MMU_READ), b, 10);
	memcpy(&h.b, b, 10);
	X87_HOST(&h, "fbld %[b]", "fstpt %[r]");
	x87_set_c(cpu, FSW_C1, 0);
	x87_push(cpu, h.r);
}

/* FLD1, FLDPI, ...: the host rounds the constants by the guest's RC. */
static void x87_fldconst(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	struct x87_host h;
	x87_host_init(cpu, &h);
	switch (i->op) {
	case OP_FLD1: X87_HOST(&h, "fld1", "fstpt %[r]"); break;
	case OP_FLDL2T: X87_HOST(&h, "fldl2t", "fstpt %[r]"); break;
	case OP_FLDL2E: X87_HOST(&h, "fldl2e", "fstpt %[r]"); break;
	case OP_FLDPI: X87_HOST(&h, "fldpi", "fstpt %[r]"); break;
	case OP_FLDLG2: X87_HOST(&h, "fldlg2", "fstpt %[r]"); break;
	case OP_FLDLN2: X87_HOST(&h, "fldln2", "fstpt %[r]"); break;
	default: X87_HOST(&h, "fldz", "fstpt %[r]"); break;
	}
	x87_set_c(cpu, FSW_C1, 0);
	x87_push(cpu, h.r);
}

/* ---- stores --------------------------------------------------------------- */

/*
 * FST/FSTP to a register, m32, m64 or m80. Memory is written before any
 * flag or the stack changes, so a #PF leaves the FPU as it was.
 */
static void x87_fst(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	bool empty = x87_empty(cpu, 0);
	if (empty && !(cpu->fpu.fcw & FSW_IE)) {
		x87_underflow(cpu); /* unmasked: nothing is stored or popped */
		return;
	}
	long double v = empty ? x87_indefinite() : x87_get(cpu, 0);
	uint16_t exc = empty ? FSW_IE | FSW_SF : 0, c1 = 0;
	if (!x86_insn_is_mem(i)) {
		x87_put(cpu, x87_sti(i), v);
	} else if (i->memsize == 10) {
		uint8_t b[10];
		x87_to_bytes(v, b);
		mmu_write(cpu, insn_linear(cpu, i, 10, MMU_WRITE), b, 10);
	} else {
		struct x87_host h;
		x87_host_init(cpu, &h);
		h.a = v;
		if (i->memsize == 4)
			X87_HOST(&h, "fldt %[a]\n\tfstps %[mo]", "");
		else
			X87_HOST(&h, "fldt %[a]\n\tfstpl %[mo]", "");
		exc |= h.sw & FSW_EXC;
		if (exc & ~cpu->fpu.fcw & X87_SUPPRESS_MEM) {
			x87_raise(cpu, exc);
			return;
		}
		mem_store(cpu, insn_linear(cpu, i, i->memsize, MMU_WRITE), i->memsize, h.mo);
		c1 = empty ? 0 : h.sw;
	}
	x87_set_c(cpu, FSW_C1, c1);
	x87_raise(cpu, exc);
	if (i->op == OP_FSTP)
		x87_pop(cpu);
}

/* FIST, FISTP, FISTTP: out-of-range and NaN store the integer indefinite. */
static void x87_fist(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	bool empty = x87_empty(cpu, 0);
	if (empty && !(cpu->fpu.fcw & FSW_IE)) {
		x87_underflow(cpu);
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = empty ? x87_indefinite() : x87_get(cpu, 0);
	if (i->op == OP_FISTTP)
		h.cw |= 0x0c00; /* FISTTP is FISTP with round-toward-zero */
	switch (i->memsize) {
	case 2: X87_HOST(&h, "fldt %[a]\n\tfistps %[mo]", ""); break;
	case 4: X87_HOST(&h, "fldt %[a]\n\tfistpl %[mo]", ""); break;
	default: X87_HOST(&h, "fldt %[a]\n\tfistpll %[mo]", ""); break;
	}
	uint16_t exc = (uint16_t)((h.sw & FSW_EXC) | (empty ? FSW_IE | FSW_SF : 0));
	if (exc & ~cpu->fpu.fcw & X87_SUPPRESS_MEM) {
		x87_raise(cpu, exc);
		return;
	}
	mem_store(cpu, insn_linear(cpu, i, i->memsize, MMU_WRITE), i->memsize, h.mo);
	x87_set_c(cpu, FSW_C1, empty ? 0 : h.sw);
	x87_raise(cpu, exc);
	if (i->op != OP_FIST)
		x87_pop(cpu);
}

static void x87_fbstp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	bool empty = x87_empty(cpu, 0);
	if (empty && !(cpu->fpu.fcw & FSW_IE)) {
		x87_underflow(cpu);
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = empty ? x87_indefinite() : x87_get(cpu, 0);
	X87_HOST(&h, "fldt %[a]\n\tfbstp %[r]", "");
	uint16_t exc = (uint16_t)((h.sw & FSW_EXC) | (empty ? FSW_IE | FSW_SF : 0));
	if (exc & ~cpu->fpu.fcw & X87_SUPPRESS_MEM) {
		x87_raise(cpu, exc);
		return;
	}
	uint8_t b[10];
	memcpy(b, &h.r, 10);
	mmu_write(cpu, insn_linear(cpu, i, 10, MMU_WRITE), b, 10);
	x87_set_c(cpu, FSW_C1, empty ? 0 : h.sw);
	x87_raise(cpu, exc);
	x87_pop(cpu);
}

/* ---- arithmetic ----------------------------------------------------------- */

enum x87_kind { XK_ADD, XK_MUL, XK_SUB, XK_SUBR, XK_DIV, XK_DIVR };
enum x87_form { XF_REG, XF_M32, XF_M64, XF_I16, XF_I32 };

/* r = a op b (XF_REG) or r = a op mi (memory forms). */
static void x87_arith_host(struct x87_host *h, enum x87_kind k, enum x87_form f)
{
	switch (k * 8 + f) {
	case XK_ADD * 8 + XF_REG: X87_HOST(h, X87_REG2("fadd %%st(1), %%st")); break;
	case XK_MUL * 8 + XF_REG: X87_HOST(h, X87_REG2("fmul %%st(1), %%st")); break;
	case XK_SUB * 8 + XF_REG: X87_HOST(h, X87_REG2("fsub %%st(1), %%st")); break;
	case XK_SUBR * 8 + XF_REG: X87_HOST(h, X87_REG2("fsubr %%st(1), %%st")); break;
	case XK_DIV * 8 + XF_REG: X87_HOST(h, X87_REG2("fdiv %%st(1), %%st")); break;
	case XK_DIVR * 8 + XF_REG: X87_HOST(h, X87_REG2("fdivr %%st(1), %%st")); break;
	case XK_ADD * 8 + XF_M32: X87_HOST(h, X87_MEM("fadds")); break;
	case XK_MUL * 8 + XF_M32: X87_HOST(h, X87_MEM("fmuls")); break;
	case XK_SUB * 8 + XF_M32: X87_HOST(h, X87_MEM("fsubs")); break;
	case XK_SUBR * 8 + XF_M32: X87_HOST(h, X87_MEM("fsubrs")); break;
	case XK_DIV * 8 + XF_M32: X87_HOST(h, X87_MEM("fdivs")); break;
	case XK_DIVR * 8 + XF_M32: X87_HOST(h, X87_MEM("fdivrs")); break;
	case XK_ADD * 8 + XF_M64: X87_HOST(h, X87_MEM("faddl")); break;
	case XK_MUL * 8 + XF_M64: X87_HOST(h, X87_MEM("fmull")); break;
	case XK_SUB * 8 + XF_M64: X87_HOST(h, X87_MEM("fsubl")); break;
	case XK_SUBR * 8 + XF_M64: X87_HOST(h, X87_MEM("fsubrl")); break;
	case XK_DIV * 8 + XF_M64: X87_HOST(h, X87_MEM("fdivl")); break;
	case XK_DIVR * 8 + XF_M64: X87_HOST(h, X87_MEM("fdivrl")); break;
	case XK_ADD * 8 + XF_I16: X87_HOST(h, X87_MEM("fiadds")); break;
	case XK_MUL * 8 + XF_I16: X87_HOST(h, X87_MEM("fimuls")); break;
	case XK_SUB * 8 + XF_I16: X87_HOST(h, X87_MEM("fisubs")); break;
	case XK_SUBR * 8 + XF_I16: X87_HOST(h, X87_MEM("fisubrs")); break;
	case XK_DIV * 8 + XF_I16: X87_HOST(h, X87_MEM("fidivs")); break;
	case XK_DIVR * 8 + XF_I16: X87_HOST(h, X87_MEM("fidivrs")); break;
	case XK_ADD * 8 + XF_I32: X87_HOST(h, X87_MEM("fiaddl")); break;
	case XK_MUL * 8 + XF_I32: X87_HOST(h, X87_MEM("fimull")); break;
	case XK_SUB * 8 + XF_I32: X87_HOST(h, X87_MEM("fisubl")); break;
	case XK_SUBR * 8 + XF_I32: X87_HOST(h, X87_MEM("fisubrl")); break;
	case XK_DIV * 8 + XF_I32: X87_HOST(h, X87_MEM("fidivl")); break;
	case XK_DIVR * 8 + XF_I32: X87_HOST(h, X87_MEM("fidivrl")); break;
	}
}

static enum x87_kind x87_kind_of(unsigned op)
{
	switch (op) {
	case OP_FADD: case OP_FADDP: case OP_FIADD: return XK_ADD;
	case OP_FMUL: case OP_FMULP: case OP_FIMUL: return XK_MUL;
	case OP_FSUB: case OP_FSUBP: case OP_FISUB: return XK_SUB;
	case OP_FSUBR: case OP_FSUBRP: case OP_FISUBR: return XK_SUBR;
	case OP_FDIV: case OP_FDIVP: case OP_FIDIV: return XK_DIV;
	default: return XK_DIVR;
	}
}

static bool x87_is_int_op(unsigned op)
{
	return op >= OP_FIADD && op <= OP_FIDIVR;
}

/*
 * FADD..FDIVR in all their forms: "dest op= src" where the register
 * forms name dest and src as opnd[0] and opnd[1], the memory forms
 * operate on ST(0), and the P forms pop afterwards.
 */
static void x87_arith(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	struct x87_host h;
	x87_host_init(cpu, &h);
	enum x87_kind k = x87_kind_of(i->op);
	bool pop = i->op >= OP_FADDP && i->op <= OP_FDIVRP;
	unsigned dst = 0, src = 0;
	enum x87_form f = XF_REG;
	if (x86_insn_is_mem(i)) {
		h.mi = x87_ld(cpu, i);
		if (x87_is_int_op(i->op))
			f = i->memsize == 2 ? XF_I16 : XF_I32;
		else
			f = i->memsize == 4 ? XF_M32 : XF_M64;
	} else if (i->opnd[0] == X86_O_ST0) {
		src = x87_sti(i);
	} else {
		dst = x87_sti(i);
	}
	if (x87_empty(cpu, dst) || (f == XF_REG && x87_empty(cpu, src))) {
		if (!x87_underflow(cpu))
			return;
		x87_put(cpu, dst, x87_indefinite());
	} else {
		h.a = x87_get(cpu, dst);
		h.b = x87_get(cpu, src);
		x87_arith_host(&h, k, f);
		if (!x87_commit(cpu, h.sw, X87_SUPPRESS_REG))
			return;
		x87_set_c(cpu, FSW_C1, h.sw);
		x87_put(cpu, dst, h.r);
	}
	if (pop)
		x87_pop(cpu);
}

/* ---- compares --------------------------------------------------------------- */

/*
 * Compares ST(0) with the operand the instruction names; returns the host
 * status word (C0/C2/C3 meaningful) or, on underflow, an unordered result.
 * *ok is false when an unmasked exception suppresses the result.
 */
static uint16_t x87_compare(struct x86_cpu *cpu, const struct x86_insn *i, bool quiet,
			    unsigned sti, bool *ok)
{
	struct x87_host h;
	x87_host_init(cpu, &h);
	*ok = true;
	bool mem = x86_insn_is_mem(i);
	if (mem)
		h.mi = x87_ld(cpu, i);
	if (x87_empty(cpu, 0) || (!mem && x87_empty(cpu, sti))) {
		*ok = x87_underflow(cpu);
		return FSW_C0 | FSW_C2 | FSW_C3;
	}
	h.a = x87_get(cpu, 0);
	h.b = x87_get(cpu, sti);
	if (!mem) {
		if (quiet)
			X87_HOST(&h, "fldt %[b]\n\tfldt %[a]\n\tfucompp", "");
		else
			X87_HOST(&h, "fldt %[b]\n\tfldt %[a]\n\tfcompp", "");
	} else if (i->op == OP_FICOM || i->op == OP_FICOMP) {
		if (i->memsize == 2)
			X87_HOST(&h, "fldt %[a]\n\tficomps %[mi]", "");
		else
			X87_HOST(&h, "fldt %[a]\n\tficompl %[mi]", "");
	} else if (i->memsize == 4) {
		X87_HOST(&h, "fldt %[a]\n\tfcomps %[mi]", "");
	} else {
		X87_HOST(&h, "fldt %[a]\n\tfcompl %[mi]", "");
	}
	*ok = x87_commit(cpu, h.sw, X87_SUPPRESS_REG);
	return h.sw;
}

/* FCOM, FCOMP, FCOMPP, FUCOM*, FICOM*: C3/C2/C0, C1 cleared. */
static void x87_fcom(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	unsigned op = i->op;
	bool quiet = op == OP_FUCOM || op == OP_FUCOMP || op == OP_FUCOMPP;
	unsigned sti = (op == OP_FCOMPP || op == OP_FUCOMPP) ? 1 : x87_sti(i);
	bool ok;
	uint16_t sw = x87_compare(cpu, i, quiet, sti, &ok);
	if (!ok)
		return;
	x87_set_c(cpu, FSW_CC, sw & (FSW_C0 | FSW_C2 | FSW_C3));
	if (op == OP_FCOMP || op == OP_FUCOMP || op == OP_FICOMP || op == OP_FCOMPP ||
	    op == OP_FUCOMPP)
		x87_pop(cpu);
	if (op == OP_FCOMPP || op == OP_FUCOMPP)
		x87_pop(cpu);
}

/* FCOMI, FUCOMI(P): ZF/PF/CF from C3/C2/C0; OF, SF, AF cleared. */
static void x87_fcomi(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	bool quiet = i->op == OP_FUCOMI || i->op == OP_FUCOMIP;
	bool ok;
	uint16_t sw = x87_compare(cpu, i, quiet, x87_sti(i), &ok);
	if (!ok)
		return;
	/* C1 is left alone (the SDM says cleared; hardware keeps it). */
	cpu->cc.op = CC_EAGER;
	cpu->cc.flags = ((sw & FSW_C3) ? F_ZF : 0) | ((sw & FSW_C2) ? F_PF : 0) |
			((sw & FSW_C0) ? F_CF : 0);
	if (i->op == OP_FCOMIP || i->op == OP_FUCOMIP)
		x87_pop(cpu);
}

static void x87_ftst(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	if (x87_empty(cpu, 0)) {
		if (x87_underflow(cpu))
			x87_set_c(cpu, FSW_C0 | FSW_C2 | FSW_C3, FSW_C0 | FSW_C2 | FSW_C3);
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = x87_get(cpu, 0);
	X87_HOST(&h, "fldt %[a]\n\tftst", "fstp %%st(0)");
	if (x87_commit(cpu, h.sw, X87_SUPPRESS_REG))
		x87_set_c(cpu, FSW_CC, h.sw & (FSW_C0 | FSW_C2 | FSW_C3));
}

/* FXAM classifies ST(0); an empty register is C3=C0=1 (the host cannot say). */
static void x87_fxam(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	uint8_t b[10];
	x87_to_bytes(x87_get(cpu, 0), b);
	uint16_t sign = (b[9] & 0x80) ? FSW_C1 : 0;
	if (x87_empty(cpu, 0)) {
		x87_set_c(cpu, FSW_CC, FSW_C3 | FSW_C0 | sign);
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = x87_get(cpu, 0);
	X87_HOST(&h, "fldt %[a]\n\tfxam", "fstp %%st(0)");
	x87_set_c(cpu, FSW_CC, h.sw);
}

/* ---- one-operand and two-operand functions --------------------------------- */

/*
 * |x| >= 2^63 (finite, normal): FSIN/FCOS/FPTAN/FSINCOS leave it alone
 * and set C2. Unnormals are invalid operands instead: the host decides.
 */
static bool x87_trig_out_of_range(long double v)
{
	uint8_t b[10];
	x87_to_bytes(v, b);
	unsigned exp = (b[8] | (unsigned)b[9] << 8) & 0x7fff;
	return exp != 0x7fff && exp >= 0x3fff + 63 && (b[7] & 0x80);
}

static bool x87_is_nan(long double v)
{
	uint8_t b[10];
	x87_to_bytes(v, b);
	uint64_t mant;
	memcpy(&mant, b, 8);
	return ((b[8] | (unsigned)b[9] << 8) & 0x7fff) == 0x7fff && (mant << 1);
}

/* FSQRT, FRNDINT, F2XM1, FSIN, FCOS, FCHS, FABS: ST(0) = f(ST(0)). */
static void x87_unary(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	if (x87_empty(cpu, 0)) {
		if (x87_underflow(cpu))
			x87_put(cpu, 0, x87_indefinite());
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = x87_get(cpu, 0);
	if ((i->op == OP_FSIN || i->op == OP_FCOS) && x87_trig_out_of_range(h.a)) {
		x87_set_c(cpu, FSW_C1 | FSW_C2, FSW_C2);
		return;
	}
	switch (i->op) {
	case OP_FSQRT: X87_HOST(&h, X87_UN("fsqrt")); break;
	case OP_FRNDINT: X87_HOST(&h, X87_UN("frndint")); break;
	case OP_F2XM1: X87_HOST(&h, X87_UN("f2xm1")); break;
	case OP_FSIN: X87_HOST(&h, X87_UN("fsin")); break;
	case OP_FCOS: X87_HOST(&h, X87_UN("fcos")); break;
	case OP_FCHS: X87_HOST(&h, X87_UN("fchs")); break;
	default: X87_HOST(&h, X87_UN("fabs")); break;
	}
	if (!x87_commit(cpu, h.sw, X87_SUPPRESS_REG))
		return;
	/* C2 says "out of range" for FSIN/FCOS only; elsewhere it is kept. */
	bool trig = i->op == OP_FSIN || i->op == OP_FCOS;
	x87_set_c(cpu, trig ? FSW_C1 | FSW_C2 : FSW_C1, h.sw & FSW_C1);
	x87_put(cpu, 0, h.r);
}

/* FSCALE, FPREM, FPREM1: ST(0) = f(ST(0), ST(1)), no pop. */
static void x87_binary_st0(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	if (x87_empty(cpu, 0) || x87_empty(cpu, 1)) {
		if (!x87_underflow(cpu))
			return;
		if (i->op != OP_FSCALE)
			x87_set_c(cpu, FSW_C2, 0); /* "complete", as hardware reports */
		x87_put(cpu, 0, x87_indefinite());
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = x87_get(cpu, 0);
	h.b = x87_get(cpu, 1);
	uint16_t cc = FSW_C1;
	switch (i->op) {
	case OP_FSCALE:
		X87_HOST(&h, X87_REG2("fscale"));
		break;
	case OP_FPREM:
		X87_HOST(&h, X87_REG2("fprem"));
		cc = FSW_CC; /* quotient bits in C0/C3/C1, C2 = incomplete */
		break;
	default:
		X87_HOST(&h, X87_REG2("fprem1"));
		cc = FSW_CC;
		break;
	}
	/* An invalid or NaN operand gives no quotient: C0/C3 are kept. */
	if (cc == FSW_CC && ((h.sw & FSW_IE) || x87_is_nan(h.r)))
		cc = FSW_C1 | FSW_C2;
	if (!x87_commit(cpu, h.sw, X87_SUPPRESS_REG))
		return;
	x87_set_c(cpu, cc, h.sw);
	x87_put(cpu, 0, h.r);
}

/* FPATAN, FYL2X, FYL2XP1: ST(1) = f(ST(1), ST(0)), then pop. */
static void x87_binary_pop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	if (x87_empty(cpu, 0) || x87_empty(cpu, 1)) {
		if (!x87_underflow(cpu))
			return;
		x87_put(cpu, 1, x87_indefinite());
		x87_pop(cpu);
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = x87_get(cpu, 0);
	h.b = x87_get(cpu, 1);
	switch (i->op) {
	case OP_FPATAN: X87_HOST(&h, "fldt %[b]\n\tfldt %[a]\n\tfpatan", "fstpt %[r]"); break;
	case OP_FYL2X: X87_HOST(&h, "fldt %[b]\n\tfldt %[a]\n\tfyl2x", "fstpt %[r]"); break;
	default: X87_HOST(&h, "fldt %[b]\n\tfldt %[a]\n\tfyl2xp1", "fstpt %[r]"); break;
	}
	if (!x87_commit(cpu, h.sw, X87_SUPPRESS_REG))
		return;
	x87_set_c(cpu, FSW_C1, h.sw);
	x87_put(cpu, 1, h.r);
	x87_pop(cpu);
}

/* FPTAN, FSINCOS, FXTRACT: replace ST(0), then push a second result. */
static void x87_two_results(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	bool empty = x87_empty(cpu, 0);
	if (empty || !x87_empty(cpu, 7)) {
		/*
		 * Stack fault, masked: both results are the indefinite, pushed
		 * without a second overflow check; FPTAN/FSINCOS clear C2.
		 */
		if (!(empty ? x87_underflow(cpu) : x87_overflow(cpu)))
			return;
		if (i->op != OP_FXTRACT)
			x87_set_c(cpu, FSW_C2, 0);
		x87_put(cpu, 0, x87_indefinite());
		cpu->fpu.top = (cpu->fpu.top - 1) & 7;
		x87_put(cpu, 0, x87_indefinite());
		return;
	}
	struct x87_host h;
	x87_host_init(cpu, &h);
	h.a = x87_get(cpu, 0);
	if (i->op != OP_FXTRACT && x87_trig_out_of_range(h.a)) {
		x87_set_c(cpu, FSW_C1 | FSW_C2, FSW_C2);
		return;
	}
	/* r = the new ST(0), r2 = what ST(0) becomes underneath it. */
	switch (i->op) {
	case OP_FPTAN: X87_HOST(&h, "fldt %[a]\n\tfptan", "fstpt %[r]\n\tfstpt %[r2]"); break;
	case OP_FSINCOS: X87_HOST(&h, "fldt %[a]\n\tfsincos", "fstpt %[r]\n\tfstpt %[r2]"); break;
	default: X87_HOST(&h, "fldt %[a]\n\tfxtract", "fstpt %[r]\n\tfstpt %[r2]"); break;
	}
	if (!x87_commit(cpu, h.sw, X87_SUPPRESS_REG))
		return;
	x87_set_c(cpu, i->op == OP_FXTRACT ? FSW_C1 : FSW_C1 | FSW_C2, h.sw & FSW_C1);
	x87_put(cpu, 0, h.r2);
	x87_push(cpu, h.r);
}

/* ---- register manipulation -------------------------------------------------- */

static void x87_fxch(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	unsigned s = x87_sti(i);
	if (x87_empty(cpu, 0) || x87_empty(cpu, s)) {
		if (!x87_underflow(cpu))
			return;
		if (x87_empty(cpu, 0))
			x87_put(cpu, 0, x87_indefinite());
		if (x87_empty(cpu, s))
			x87_put(cpu, s, x87_indefinite());
	}
	long double a = x87_get(cpu, 0);
	x87_put(cpu, 0, x87_get(cpu, s));
	x87_put(cpu, s, a);
	x87_set_c(cpu, FSW_C1, 0);
}

static void x87_ffree(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	cpu->fpu.ftw_abridged &= (uint16_t)~(1u << x87_phys(cpu, x87_sti(i)));
	if (i->op == OP_FFREEP)
		cpu->fpu.top = (cpu->fpu.top + 1) & 7;
}

static void x87_fstp_incdec(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
	cpu->fpu.top = (cpu->fpu.top + (i->op == OP_FINCSTP ? 1 : 7)) & 7;
	x87_set_c(cpu, FSW_C1, 0);
}

/* FCMOVcc: the conditions are those of Jcc B, E, BE, P and their negations. */
static void x87_fcmov(struct x86_cpu *cpu, const struct x86_insn *i)
{
	static const uint8_t cc[] = {
		[OP_FCMOVB - OP_FCMOVB] = 2, [OP_FCMOVE - OP_FCMOVB] = 4,
		[OP_FCMOVBE - OP_FCMOVB] = 6, [OP_FCMOVU - OP_FCMOVB] = 10,
		[OP_FCMOVNB - OP_FCMOVB] = 3, [OP_FCMOVNE - OP_FCMOVB] = 5,
		[OP_FCMOVNBE - OP_FCMOVB] = 7, [OP_FCMOVNU - OP_FCMOVB] = 11,
	};
	x87_begin(cpu, i);
	unsigned s = x87_sti(i);
	if (x87_empty(cpu, 0) || x87_empty(cpu, s)) {
		if (x87_underflow(cpu))
			x87_put(cpu, 0, x87_indefinite());
		return;
	}
	if (cpu_cond(cpu, cc[i->op - OP_FCMOVB]))
		x87_put(cpu, 0, x87_get(cpu, s));
}

static void x87_fnop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_begin(cpu, i);
}

void exec_x87_register(exec_fn *t)
{
	t[OP_FLD] = x87_fld;
	t[OP_FILD] = x87_fild;
	t[OP_FBLD] = x87_fbld;
	t[OP_FLD1] = x87_fldconst;
	t[OP_FLDL2T] = x87_fldconst;
	t[OP_FLDL2E] = x87_fldconst;
	t[OP_FLDPI] = x87_fldconst;
	t[OP_FLDLG2] = x87_fldconst;
	t[OP_FLDLN2] = x87_fldconst;
	t[OP_FLDZ] = x87_fldconst;
	t[OP_FST] = x87_fst;
	t[OP_FSTP] = x87_fst;
	t[OP_FIST] = x87_fist;
	t[OP_FISTP] = x87_fist;
	t[OP_FISTTP] = x87_fist;
	t[OP_FBSTP] = x87_fbstp;
	for (unsigned op = OP_FADD; op <= OP_FIDIVR; op++)
		t[op] = x87_arith;
	t[OP_FCOM] = x87_fcom;
	t[OP_FCOMP] = x87_fcom;
	t[OP_FCOMPP] = x87_fcom;
	t[OP_FUCOM] = x87_fcom;
	t[OP_FUCOMP] = x87_fcom;
	t[OP_FUCOMPP] = x87_fcom;
	t[OP_FICOM] = x87_fcom;
	t[OP_FICOMP] = x87_fcom;
	t[OP_FCOMI] = x87_fcomi;
	t[OP_FCOMIP] = x87_fcomi;
	t[OP_FUCOMI] = x87_fcomi;
	t[OP_FUCOMIP] = x87_fcomi;
	t[OP_FTST] = x87_ftst;
	t[OP_FXAM] = x87_fxam;
	t[OP_FSQRT] = x87_unary;
	t[OP_FRNDINT] = x87_unary;
	t[OP_F2XM1] = x87_unary;
	t[OP_FSIN] = x87_unary;
	t[OP_FCOS] = x87_unary;
	t[OP_FCHS] = x87_unary;
	t[OP_FABS] = x87_unary;
	t[OP_FSCALE] = x87_binary_st0;
	t[OP_FPREM] = x87_binary_st0;
	t[OP_FPREM1] = x87_binary_st0;
	t[OP_FPATAN] = x87_binary_pop;
	t[OP_FYL2X] = x87_binary_pop;
	t[OP_FYL2XP1] = x87_binary_pop;
	t[OP_FPTAN] = x87_two_results;
	t[OP_FSINCOS] = x87_two_results;
	t[OP_FXTRACT] = x87_two_results;
	t[OP_FXCH] = x87_fxch;
	t[OP_FFREE] = x87_ffree;
	t[OP_FFREEP] = x87_ffree;
	t[OP_FINCSTP] = x87_fstp_incdec;
	t[OP_FDECSTP] = x87_fstp_incdec;
	for (unsigned op = OP_FCMOVB; op <= OP_FCMOVNU; op++)
		t[op] = x87_fcmov;
	t[OP_FNOP] = x87_fnop;
	x87_ctl_register(t);
}
