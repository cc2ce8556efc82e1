/*
 * Differential checker: the software CPU against KVM.
 *
 * Every case is one instruction, generated from the decoder's own opcode
 * maps (cases.c) with random prefixes, operands and incoming flags, placed
 * in pages of filler (HLT, which #GPs in ring 3) so that falling through or
 * branching anywhere ends it. The same memory image and register state are run
 *
 *   - on KVM (diff_kvm.c): a VM put directly into long mode, ring 3, in a
 *     64-bit, a 32-bit (compatibility mode) or a 16-bit code segment. On
 *     the PVM hosts kemu is developed on, guest ring 3 runs natively, so
 *     this is the real CPU's answer. Exceptions reach tiny ring-0 stubs
 *     that exit with the vector; the frame gives error code and RIP.
 *   - on the software CPU (diff_tcg.c): cpu_step() until the instruction
 *     is done, with cpu_raise() caught by our own setjmp.
 *
 * and compared: the exception (vector, error code, CR2), RIP, the general
 * registers (low 32 bits outside 64-bit mode, where the upper halves are
 * undefined), RFLAGS (arithmetic flags the SDM leaves undefined masked,
 * see the table below), the whole data area, and XMM/MXCSR for SSE forms.
 *
 * Real mode and virtual-8086 mode are not reachable: the VM runs in long
 * mode, where neither exists. 16-bit code is covered by a 16-bit code
 * segment in compatibility mode (16-bit operand and address sizes, 16-bit
 * stack), which is how protected-mode 16-bit code runs.
 *
 * What PVM changes (probed at start, printed in the summary): only 64-bit
 * ring 3 runs natively; 32- and 16-bit code segments run in KVM's
 * instruction emulator, which is then the reference (its known gaps are
 * listed at kvm_emulator_unreliable()). Natively run code uses the host's
 * GDT and IDT, runs at IOPL 0 and under the host's CR4 (UMIP, OSXSAVE);
 * ring-3 #GP faults pass through KVM's emulator. The forms this makes
 * meaningless are not generated (cases.c says which and why), and KVM
 * #UD where the software CPU runs the instruction or raises another
 * fault is counted as unverifiable rather than as a mismatch.
 *
 * Output: one block per mismatch (bytes, disassembly, mode, inputs, the
 * differing fields, and the command line that repeats it), then a
 * summary. Exit status 1 on any mismatch, 77 (skip) without usable KVM.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accel/tcg/cpu.h"
#include "diff.h"

/* ---- flags the SDM leaves undefined ------------------------------------- */

enum mask_kind {
	MK_ALL,    /* every arithmetic flag is defined (or unaffected) */
	MK_LOGIC, MK_SHIFT, MK_ROT, MK_DSHIFT, MK_MUL, MK_DIV, MK_BT, MK_BSF, MK_CNT,
	MK_AAA, MK_DAA, MK_AAM,
};

/*
 * The masks, with the SDM's wording (Vol. 2, "Flags Affected"). A flag
 * marked undefined is not compared; neither is a destination the SDM
 * calls undefined.
 */
static const struct {
	enum mask_kind kind;
	const char *sdm;
} mask_doc[] = {
	{ MK_LOGIC, "AND/OR/XOR/TEST: \"The OF and CF flags are cleared; the SF, ZF, and PF "
		    "flags are set according to the result. The state of the AF flag is "
		    "undefined.\"" },
	{ MK_SHIFT, "SAL/SAR/SHL/SHR: \"The CF flag contains the value of the last bit shifted "
		    "out of the destination operand; it is undefined for SHL and SHR "
		    "instructions where the count is greater than or equal to the size (in "
		    "bits) of the destination operand. The OF flag is affected only for 1-bit "
		    "shifts; otherwise, it is undefined. ... If the count is 0, the flags are "
		    "not affected. For a non-zero count, the AF flag is undefined.\"" },
	{ MK_ROT, "RCL/RCR/ROL/ROR: \"If the masked count is 0, the flags are not affected. If "
		  "the masked count is 1, then the OF flag is affected, otherwise (masked "
		  "count is greater than 1) the OF flag is undefined.\"" },
	{ MK_DSHIFT, "SHLD/SHRD: \"For a 1-bit shift, the OF flag is set if a sign change "
		     "occurred; otherwise, it is cleared. For shifts greater than 1 bit, the OF "
		     "flag is undefined. If a shift occurs, the AF flag is undefined. If the "
		     "count operand is 0, the flags are not affected. If the count is greater "
		     "than the operand size, the flags are undefined.\" (and the result too: "
		     "such counts are not generated)" },
	{ MK_MUL, "MUL/IMUL: \"The SF, ZF, AF, and PF flags are undefined.\"" },
	{ MK_DIV, "DIV/IDIV: \"The CF, OF, SF, ZF, AF, and PF flags are undefined.\"" },
	{ MK_BT, "BT/BTS/BTR/BTC: \"The ZF flag is unaffected. The OF, SF, AF, and PF flags "
		 "are undefined.\"" },
	{ MK_BSF, "BSF/BSR: \"The ZF flag is set to 1 if the source operand is 0; otherwise, "
		  "the ZF flag is cleared. The CF, OF, SF, AF, and PF flags are undefined.\" "
		  "and \"If the content of the source operand is 0, the content of the "
		  "destination operand is undefined.\"" },
	{ MK_CNT, "LZCNT/TZCNT: \"OF, SF, PF and AF flags are undefined.\"" },
	{ MK_AAA, "AAA/AAS: \"The OF, SF, ZF, and PF flags are undefined.\"" },
	{ MK_DAA, "DAA/DAS: \"The OF flag is undefined.\"" },
	{ MK_AAM, "AAM/AAD: \"The OF, AF, and CF flags are undefined.\"" },
};

static enum mask_kind mask_kind_of(unsigned op)
{
	switch (op) {
	case OP_AND: case OP_OR: case OP_XOR: case OP_TEST: return MK_LOGIC;
	case OP_SHL: case OP_SHR: case OP_SAR: return MK_SHIFT;
	case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR: return MK_ROT;
	case OP_SHLD: case OP_SHRD: return MK_DSHIFT;
	case OP_MUL: case OP_IMUL: return MK_MUL;
	case OP_DIV: case OP_IDIV: return MK_DIV;
	case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC: return MK_BT;
	case OP_BSF: case OP_BSR: return MK_BSF;
	case OP_TZCNT: case OP_LZCNT: return MK_CNT;
	case OP_AAA: case OP_AAS: return MK_AAA;
	case OP_DAA: case OP_DAS: return MK_DAA;
	case OP_AAM: case OP_AAD: return MK_AAM;
	default: return MK_ALL;
	}
}

/* The value of the E (ModRM.rm) operand at the start of the case. */
static uint64_t rm_value(const struct diff_case *c, unsigned size)
{
	const struct x86_insn *in = &c->insn;
	if (x86_insn_is_mem(in)) {
		uint64_t ea = (uint64_t)in->disp;
		if (in->base != X86_REG_NONE)
			ea += c->in.gpr[in->base];
		if (in->index != X86_REG_NONE)
			ea += c->in.gpr[in->index] << in->scale;
		if (x86_insn_riprel(in))
			ea += c->addr + in->len;
		ea &= in->addrsize == 8 ? ~0ULL : (1ULL << (in->addrsize * 8)) - 1;
		return case_mem_value(c, ea, size);
	}
	if (size == 1 && x86_insn_byte_reg_is_high(in, in->rm))
		return (c->in.gpr[in->rm - 4] >> 8) & 0xff;
	return c->in.gpr[in->rm] & (size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1);
}

/*
 * Results (not flags) the SDM leaves to the implementation:
 *  - PUSH Sreg with a 32/64-bit operand size: "either a zero-extended value
 *    is pushed on the stack or the segment selector is written on the stack
 *    using a 16-bit move", so the bytes above the selector are not compared;
 *  - MOV r32/r64, Sreg: "the resulting value in the two high-order bytes of
 *    the register is implementation dependent" (zero on P6 and later);
 *  - BSWAP r16: "When the BSWAP instruction references a 16-bit register,
 *    the result is undefined" (the upper half of r32 is still compared).
 */
static void undefined_results(struct diff_case *c)
{
	const struct x86_insn *in = &c->insn;
	switch (in->op) {
	case OP_PUSH:
		if (in->opnd[0] >= X86_O_ES && in->opnd[0] <= X86_O_GS && in->opsize > 2) {
			uint64_t ss = c->mode == 64 ? ~0ULL : c->mode == 32 ? 0xffffffffULL : 0xffff;
			uint64_t sp = (c->in.gpr[R_RSP] - in->opsize) & ss;
			c->mem_undef_lo = sp + 2;
			c->mem_undef_hi = sp + in->opsize;
		}
		break;
	case OP_MOV_FROM_SEG:
		if (!x86_insn_is_mem(in) && in->opsize > 2)
			c->gpr_cmp[in->rm] = 0xffff;
		break;
	case OP_BSWAP: {
		/* The operand size the SDM means, whatever the decoder says: 16 bits
		 * by default in 16-bit code, with 66 elsewhere, unless REX.W. */
		bool o16 = !(in->rex & 8) &&
			   ((c->mode == 16) != ((in->prefixes & X86_PFX_OPSZ) != 0));
		if (o16)
			c->gpr_cmp[in->reg] = ~0xffffULL;
		break;
	}
	}
}

void masks_apply(struct diff_case *c)
{
	const struct x86_insn *in = &c->insn;
	uint64_t undef = 0;
	unsigned bits = in->opsize * 8;
	unsigned cnt = 0;
	if (in->opnd[1] == X86_O_CL || in->opnd[2] == X86_O_CL)
		cnt = (unsigned)c->in.gpr[R_RCX] & 0xff;
	else if (in->opnd[1] == X86_O_I1)
		cnt = 1;
	else
		cnt = (unsigned)in->imm & 0xff;
	cnt &= in->opsize == 8 ? 63 : 31;
	c->flags_defined = F_ARITH;
	for (int i = 0; i < 16; i++)
		c->gpr_cmp[i] = ~0ULL;
	c->mem_undef_lo = c->mem_undef_hi = 0;
	undefined_results(c);
	switch (mask_kind_of(in->op)) {
	case MK_ALL:
		break;
	case MK_LOGIC:
		undef = F_AF;
		break;
	case MK_SHIFT:
		if (!cnt)
			break;
		undef = F_AF;
		if (cnt != 1)
			undef |= F_OF;
		if (in->op != OP_SAR && cnt >= bits)
			undef |= F_CF;
		break;
	case MK_ROT:
		if (cnt && cnt != 1)
			undef = F_OF;
		break;
	case MK_DSHIFT:
		if (!cnt)
			break;
		undef = F_AF;
		if (cnt != 1)
			undef |= F_OF;
		if (cnt > bits) {
			undef = F_ARITH;
			if (!x86_insn_is_mem(in))
				c->gpr_cmp[in->rm] = 0;
		}
		break;
	case MK_MUL:
		undef = F_SF | F_ZF | F_AF | F_PF;
		break;
	case MK_DIV:
		undef = F_ARITH;
		break;
	case MK_BT:
		undef = F_OF | F_SF | F_AF | F_PF;
		break;
	case MK_BSF:
		undef = F_CF | F_OF | F_SF | F_AF | F_PF;
		if (rm_value(c, in->opsize) == 0)
			c->gpr_cmp[in->reg] = 0;
		break;
	case MK_CNT:
		undef = F_OF | F_SF | F_AF | F_PF;
		break;
	case MK_AAA:
		undef = F_OF | F_SF | F_ZF | F_PF;
		break;
	case MK_DAA:
		undef = F_OF;
		break;
	case MK_AAM:
		undef = F_OF | F_AF | F_CF;
		break;
	}
	c->flags_defined = F_ARITH & ~undef;
}

/*
 * Where KVM's instruction emulator is the reference (the modes PVM does
 * not run natively), what it is known to get wrong or not to implement;
 * such cases count as unverifiable, not as mismatches:
 *  - IRET and INT n: implemented for real mode only (#GP(0) elsewhere);
 *  - AAM/AAD: SF/ZF/PF computed from the whole register, not AL;
 *  - the hint NOPs 0F 18-1F with 16-bit addressing: decoded with 32-bit
 *    ModRM rules (the instruction length comes out wrong);
 *  - ENTER: no check that the final stack pointer is writable (the real
 *    CPU, seen natively in 64-bit mode, faults there);
 *  - a write through a CS override to a page that is not writable: #PF
 *    from the page walk, where the CPU's segment check (code segments are
 *    never writable) raises #GP(0) first;
 * and in every mode:
 *  - INT n through a DPL 0 gate from ring 3: PVM delivers it instead of
 *    raising #GP(vector * 8 + 2);
 * and, since the host's CR4.UMIP makes them fault natively and PVM then
 * emulates them:
 *  - SLDT/STR/SMSW to memory with REX.W: 8 bytes stored instead of 2;
 *  - SGDT/SIDT/SLDT/STR/SMSW across into a faulting page: the first page
 *    is written before the fault.
 */
static const char *kvm_emulator_unreliable(const struct diff_case *c, int kvm_vector,
					   int tcg_vector)
{
	const struct x86_insn *in = &c->insn;
	if (c->ud)
		return NULL;
	/* The host's CR4.UMIP makes these fault natively, and PVM emulates them. */
	if ((in->op == OP_SLDT || in->op == OP_STR || in->op == OP_SMSW) &&
	    x86_insn_is_mem(in) && (in->rex & 8))
		return "KVM's emulator: SLDT/STR/SMSW m16 with REX.W store 8 bytes";
	if ((in->op == OP_SLDT || in->op == OP_STR || in->op == OP_SMSW || in->op == OP_SGDT ||
	     in->op == OP_SIDT) && kvm_vector == EXC_PF)
		return "KVM's emulator: a split store that faults writes its first page";
	if (in->op == OP_INT && kvm_vector < 0)
		return "PVM: INT n ignores the gate's DPL";
	if (kvm_diff_native(c->mode))
		return NULL;
	switch (in->op) {
	case OP_IRET: case OP_INT:
		return "KVM's emulator: IRET/INT n for real mode only";
	case OP_AAM: case OP_AAD:
		return "KVM's emulator: AAM/AAD flags from the whole register";
	case OP_ENTER:
		if (kvm_vector < 0)
			return "KVM's emulator: ENTER does not check the final stack pointer";
		break;
	case OP_NOP: case OP_PREFETCH: case OP_PREFETCHW:
		if (in->map == X86_MAP_0F && in->addrsize == 2)
			return "KVM's emulator: hint NOP with 16-bit addressing";
		break;
	}
	if (in->seg == SEG_CS && x86_insn_is_mem(in) && kvm_vector == EXC_PF && tcg_vector == EXC_GP)
		return "KVM's emulator: page walk before the code-segment write check";
	return NULL;
}

/* ---- comparing and reporting -------------------------------------------- */

/*
 * Memory no case may change, outside the data area that is rebuilt and
 * compared per case: descriptor tables and TSS, the exception stubs, the
 * code filler (each case's bytes are removed again), and the pages past
 * the data area (not present, read-only, zeros). A difference there
 * between the two sides would otherwise surface as bogus mismatches in
 * later cases that read it, so it is reported with the case that caused
 * it (the first differing address in *where), and both images are
 * rebuilt. The page tables (A/D bits) and the ring-0 stack page (exception
 * frames) are left out.
 */
static bool fixed_memory_same(const uint8_t *kram, const uint8_t *tram, uint64_t *where)
{
	static const uint64_t ranges[][2] = {
		{ GDT_BASE, PML4_BASE }, { STUB_BASE, STUB_BASE + 0x1000 },
		{ CODE_LO, CODE_HI }, { NP_PAGE, ZERO_PAGE + 0x1000 },
	};
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		uint64_t lo = ranges[r][0], hi = ranges[r][1];
		if (!memcmp(kram + lo, tram + lo, hi - lo))
			continue;
		for (uint64_t a = lo; a < hi; a++) {
			if (kram[a] != tram[a]) {
				*where = a;
				return false;
			}
		}
	}
	return true;
}

static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

struct opstat {
	long cases, mismatches, faults, ext, unverified;
};
static struct opstat opstats[OP_COUNT];

struct report {
	char text[4096];
	size_t n;
};

static void rp(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rp(struct report *r, const char *fmt, ...)
{
	va_list ap;
	if (r->n >= sizeof(r->text))
		return;
	va_start(ap, fmt);
	int k = vsnprintf(r->text + r->n, sizeof(r->text) - r->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		r->n += (size_t)k;
}

static const char *vec_name(int v)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "9", "#TS",
		"#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM",
	};
	static char buf[16];
	if (v < 0)
		return "none";
	if (v < 32 && names[v])
		return names[v];
	snprintf(buf, sizeof(buf), "%d", v);
	return buf;
}

/* Compares; returns true when equal, filling r with the differences. */
static bool compare(const struct diff_case *c, const struct diff_state *k,
		    const struct diff_state *t, const uint8_t *kram, const uint8_t *tram,
		    struct report *r)
{
	bool same = true;
	if (k->vector != t->vector) {
		rp(r, "  exception: kvm %s", vec_name(k->vector));
		if (k->vector >= 0 && k->has_error)
			rp(r, "(%#x)", k->error);
		rp(r, " tcg %s", vec_name(t->vector));
		if (t->vector >= 0 && t->has_error)
			rp(r, "(%#x)", t->error);
		rp(r, "\n");
		return false; /* the rest follows from it */
	}
	if (k->vector >= 0 && k->has_error && k->error != t->error) {
		rp(r, "  error code: kvm %#x tcg %#x\n", k->error, t->error);
		same = false;
	}
	if (k->vector == EXC_PF && k->cr2 != t->cr2) {
		rp(r, "  cr2: kvm %#" PRIx64 " tcg %#" PRIx64 "\n", k->cr2, t->cr2);
		same = false;
	}
	uint64_t ipmask = c->mode == 64 ? ~0ULL : 0xffffffffULL;
	if ((k->rip & ipmask) != (t->rip & ipmask)) {
		rp(r, "  rip: kvm %#" PRIx64 " tcg %#" PRIx64 "\n", k->rip, t->rip);
		same = false;
	}
	uint64_t gmask = c->mode == 64 ? ~0ULL : 0xffffffffULL;
	for (int i = 0; i < 16; i++) {
		/* the masks describe results; an exception leaves registers alone */
		uint64_t m = gmask & (k->vector >= 0 ? ~0ULL : c->gpr_cmp[i]);
		if ((k->gpr[i] & m) != (t->gpr[i] & m)) {
			rp(r, "  %s: kvm %#" PRIx64 " tcg %#" PRIx64 "\n", gpr_names[i],
			   k->gpr[i] & gmask, t->gpr[i] & gmask);
			same = false;
		}
	}
	/* RF is what event delivery saves, not part of the result. */
	uint64_t fmask = 0x3fffffULL & ~(uint64_t)F_RF & ~(uint64_t)F_ARITH;
	fmask |= k->vector >= 0 ? F_ARITH : c->flags_defined;
	if ((k->rflags & fmask) != (t->rflags & fmask)) {
		rp(r, "  rflags: kvm %#" PRIx64 " tcg %#" PRIx64 " (compared bits %#" PRIx64 ")\n",
		   k->rflags, t->rflags, fmask);
		same = false;
	}
	for (uint64_t a = DATA_LO; a < DATA_HI; a++) {
		if (kram[a] == tram[a] || (a >= c->mem_undef_lo && a < c->mem_undef_hi))
			continue;
		uint64_t e = a;
		int n = 0;
		while (e < DATA_HI && n < 16) {
			if (kram[e] != tram[e])
				n++;
			e++;
		}
		rp(r, "  memory at %#" PRIx64 ":", a);
		rp(r, " kvm");
		for (uint64_t b = a; b < a + 16 && b < DATA_HI; b++)
			rp(r, " %02x", kram[b]);
		rp(r, " tcg");
		for (uint64_t b = a; b < a + 16 && b < DATA_HI; b++)
			rp(r, " %02x", tram[b]);
		rp(r, "\n");
		same = false;
		break;
	}
	if (c->sse) {
		for (int i = 0; i < (c->mode == 64 ? 16 : 8); i++)
			if (memcmp(&k->xmm[i], &t->xmm[i], 16)) {
				rp(r, "  xmm%d: kvm %016" PRIx64 "%016" PRIx64 " tcg %016" PRIx64
				   "%016" PRIx64 "\n", i, k->xmm[i].q[1], k->xmm[i].q[0],
				   t->xmm[i].q[1], t->xmm[i].q[0]);
				same = false;
			}
		if (k->mxcsr != t->mxcsr) {
			rp(r, "  mxcsr: kvm %#x tcg %#x\n", k->mxcsr, t->mxcsr);
			same = false;
		}
	}
	return same;
}

static void describe(const struct diff_case *c, struct report *r)
{
	char text[128] = "(#UD encoding)";
	if (!c->ud)
		x86_insn_format(&c->insn, text, sizeof(text));
	rp(r, "  %d-bit at %#" PRIx64 ":", c->mode, c->addr);
	for (unsigned i = 0; i < c->len; i++)
		rp(r, " %02x", c->bytes[i]);
	rp(r, "  %s\n  in:", text);
	int n = c->mode == 64 ? 16 : 8;
	for (int i = 0; i < n; i++)
		rp(r, "%s %s=%#" PRIx64, i && !(i % 4) ? "\n     " : "", gpr_names[i], c->in.gpr[i]);
	rp(r, "\n     rflags=%#" PRIx64, c->in.rflags);
	for (int i = 0; i < c->npatch; i++)
		rp(r, " [%#" PRIx64 "]=%#" PRIx64 "/%u", c->patch[i].addr, c->patch[i].val,
		   c->patch[i].size);
	rp(r, "\n");
}

/* ---- the run ------------------------------------------------------------- */

static uint64_t case_seed(uint64_t seed, long index)
{
	uint64_t z = seed + (uint64_t)index * 0x9e3779b97f4a7c15ULL + 1;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z ? z : 1;
}

static int op_by_name(const char *name)
{
	for (unsigned op = 1; op < OP_COUNT; op++)
		if (!strcmp(x86_op_name(op), name))
			return (int)op;
	if (!strcmp(name, "ud"))
		return OP_INVALID;
	return -2;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: diff [--seed N] [--cases N] [--op NAME|ud] [--only INDEX] [--max-report N]\n"
		"            [--stats] [--forms] [--masks] [--verbose]\n");
}

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	long ncases = 30000, only = -1, max_report = 50;
	int op_filter = -1; /* every form; else an op, OP_INVALID for #UD forms */
	bool stats = false, show_forms = false, verbose = false;
	const char *op_name = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--seed") && v) {
			seed = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--cases") && v) {
			ncases = strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--only") && v) {
			only = strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--max-report") && v) {
			max_report = strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--op") && v) {
			op_name = v;
			op_filter = op_by_name(v);
			if (op_filter == -2) {
				fprintf(stderr, "diff: --op %s: no such operation\n", v);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--stats")) {
			stats = true;
		} else if (!strcmp(a, "--forms")) {
			show_forms = true;
		} else if (!strcmp(a, "--verbose")) {
			verbose = true;
		} else if (!strcmp(a, "--masks")) {
			for (size_t k = 0; k < sizeof(mask_doc) / sizeof(mask_doc[0]); k++)
				printf("%s\n\n", mask_doc[k].sdm);
			return 0;
		} else {
			usage();
			return 2;
		}
	}

	char why[256];
	if (kvm_diff_init(why, sizeof(why)) < 0) {
		printf("SKIP: KVM unusable: %s\n", why);
		return 77;
	}
	if (tcg_diff_init()) {
		fprintf(stderr, "diff: cannot create the software CPU\n");
		return 1;
	}
	cases_init();
	if (show_forms) {
		char buf[96];
		for (int f = 0; f < cases_count(); f++)
			printf("%s\n", cases_form_name(f, buf, sizeof(buf)));
	}
	printf("diff: seed %#" PRIx64 ", %ld cases%s%s\n", seed, ncases, op_name ? ", op " : "",
	       op_name ? op_name : "");
	fflush(stdout);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long done = 0, mismatches = 0, rejected = 0, kvm_errors = 0, ext = 0, faults = 0;
	long unverified = 0;
	long reported = 0;
	uint8_t *kram = kvm_diff_ram(), *tram = tcg_diff_ram();
	for (long idx = only >= 0 ? only : 0; idx < (only >= 0 ? only + 1 : ncases); idx++) {
		struct diff_rng rng = { case_seed(seed, idx) };
		int form = cases_pick(&rng, op_filter);
		if (form < 0) {
			fprintf(stderr, "diff: nothing to generate for --op %s\n", op_name);
			return 2;
		}
		struct diff_case c;
		if (!cases_make(form, &rng, &c)) {
			rejected++;
			continue;
		}
		if (!c.ud)
			masks_apply(&c);
		struct diff_state ks, ts;
		if (!kvm_diff_run(&c, &ks, why, sizeof(why))) {
			kvm_errors++;
			if (kvm_errors <= 10) {
				struct report r = { .n = 0 };
				describe(&c, &r);
				printf("KVM ERROR case %ld: %s\n%s", idx, why, r.text);
			}
			continue;
		}
		tcg_diff_run(&c, &ts);
		done++;
		/* Checked for every case, verifiable or not, so that no later
		 * case reads what this one left behind. */
		uint64_t where = 0;
		uint8_t kbyte = 0, tbyte = 0;
		bool fixed_same = fixed_memory_same(kram, tram, &where);
		if (!fixed_same) {
			kbyte = kram[where];
			tbyte = tram[where];
			image_build(kram);
			image_build(tram);
		}
		unsigned op = c.ud ? 0 : c.insn.op;
		opstats[op].cases++;
		if (ks.vector >= 0)
			faults++, opstats[op].faults++;
		if (c.ud && ks.vector != EXC_UD) {
			/* An encoding the model lacks that this CPU knows (VEX, BMI...). */
			ext++;
			opstats[op].ext++;
			if (verbose) {
				struct report r = { .n = 0 };
				describe(&c, &r);
				printf("EXT case %ld: kvm %s\n%s", idx, vec_name(ks.vector), r.text);
			}
			continue;
		}
		/*
		 * What KVM cannot tell us. In modes KVM emulates (PVM: 16- and 32-bit
		 * code), #UD for an instruction the software CPU runs is a gap in
		 * KVM's emulator. In native 64-bit mode, PVM hands ring-3 #GP faults
		 * to that emulator, which turns the faults of instructions it does
		 * not know into #UD: the fault itself is confirmed, its kind is not.
		 */
		if ((ks.vector == EXC_UD && ts.vector != EXC_UD &&
		     (!kvm_diff_native(c.mode) || ts.vector >= 0)) || kvm_emulator_unreliable(&c, ks.vector, ts.vector)) {
			unverified++;
			opstats[op].unverified++;
			if (verbose) {
				struct report r = { .n = 0 };
				describe(&c, &r);
				printf("UNVERIFIED case %ld: kvm #UD, tcg %s\n%s", idx,
				       vec_name(ts.vector), r.text);
			}
			continue;
		}
		struct report diffs = { .n = 0 };
		if (!fixed_same)
			rp(&diffs, "  memory outside the data area differs from %#" PRIx64
			   " (kvm %#x tcg %#x); images rebuilt\n", where, kbyte, tbyte);
		else if (compare(&c, &ks, &ts, kram, tram, &diffs))
			continue;
		mismatches++;
		opstats[op].mismatches++;
		if (reported++ < max_report) {
			struct report r = { .n = 0 };
			char fname[96];
			describe(&c, &r);
			printf("MISMATCH case %ld (%s): repeat with --seed %#" PRIx64 " --only %ld%s%s\n%s%s",
			       idx, cases_form_name(form, fname, sizeof(fname)), seed, idx,
			       op_name ? " --op " : "", op_name ? op_name : "", r.text, diffs.text);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	if (stats) {
		printf("%-12s %8s %8s %8s %8s %8s\n", "op", "cases", "faults", "mismatch", "ext",
		       "unverif");
		for (unsigned op = 0; op < OP_COUNT; op++)
			if (opstats[op].cases)
				printf("%-12s %8ld %8ld %8ld %8ld %8ld\n", op ? x86_op_name(op) : "(#UD)",
				       opstats[op].cases, opstats[op].faults, opstats[op].mismatches,
				       opstats[op].ext, opstats[op].unverified);
		cases_report();
	}
	long ops = 0;
	for (unsigned op = 1; op < OP_COUNT; op++)
		ops += opstats[op].cases > 0;
	printf("%ld cases, %ld mismatches, %d skipped (no handler)\n", done, mismatches,
	       cases_no_handler());
	printf("  %ld operations, %ld cases faulted, %ld #UD encodings the host CPU runs, "
	       "%ld unverifiable (KVM #UD, see diff.c), %ld KVM errors, %ld generator rejects\n",
	       ops, faults, ext, unverified, kvm_errors, rejected);
	printf("  KVM runs ring 3 of 64-bit code %s, 32-bit %s, 16-bit %s\n",
	       kvm_diff_native(64) ? "natively" : "in its emulator",
	       kvm_diff_native(32) ? "natively" : "in its emulator",
	       kvm_diff_native(16) ? "natively" : "in its emulator");
	printf("  %.1f s (%.0f cases/s), seed %#" PRIx64 "\n", secs, done / (secs > 0 ? secs : 1),
	       seed);
	return mismatches || kvm_errors ? 1 : 0;
}
