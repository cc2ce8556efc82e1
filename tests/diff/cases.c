/*
 * Where cases come from. The catalogue is built by asking the decoder
 * itself: every (mode, map, mandatory prefix, opcode, REX.W, ModRM) is
 * decoded once, and each distinct (operation, register-or-memory) result
 * becomes a "form" with the set of ModRM bytes that produce it. Encodings
 * the decoder refuses become #UD forms. A case is then one form with the
 * free bits randomised: optional prefixes, REX, ModRM/SIB, displacement,
 * immediate, registers (edge values over-represented) and incoming flags.
 *
 * Fixups keep every case inside the guest's data area and code filler:
 * base/index registers are solved so that the memory operand lands on a
 * chosen target, stacks and string pointers point into the data area,
 * branch targets land on the filler (never back on the instruction), REP
 * counts are small. Whatever a fixup cannot make safe is rejected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/tcg/cpu.h"
#include "diff.h"

struct form {
	uint8_t mode;  /* 16, 32, 64 */
	uint8_t map;   /* enum x86_map */
	uint8_t pfx;   /* mandatory prefix byte or 0 */
	uint8_t opc;
	uint16_t op;   /* OP_INVALID: encodings the decoder refuses */
	bool mem;      /* memory form */
	bool modrm;
	uint8_t wmode; /* 64-bit mode: 0 REX.W free, 1 W=1 only, 2 W=0 only */
	uint64_t mset[4]; /* ModRM bytes that give this form */
	bool eligible;
};

static struct form *forms;
static int nforms, cap;

/* Ops never compared, with why; kept short so the report can list them. */
struct skip {
	uint16_t op;
	const char *why;
};
static const struct skip skips[] = {
	{ OP_RDTSC, "time stamp: differs by design" },
	{ OP_RDTSCP, "time stamp: differs by design" },
	{ OP_RDPMC, "performance counters" },
	{ OP_RDRAND, "random by design" },
	{ OP_RDSEED, "random by design" },
	{ OP_RDPID, "host processor id" },
	{ OP_CPUID, "the software CPU's model is not the host's (cpuid.c)" },
	{ OP_XGETBV, "PVM runs guest ring 3 under the host's CR4.OSXSAVE/XCR0" },
	{ OP_FXSAVE, "x87/SSE state images not compared" },
	{ OP_FXRSTOR, "x87/SSE state images not compared" },
	{ OP_XSAVE, "XSAVE not in the model" },
	{ OP_XRSTOR, "XSAVE not in the model" },
	{ OP_XSAVEOPT, "XSAVE not in the model" },
	{ OP_LZCNT, "the model lacks LZCNT: F3 0F BD runs as BSR, the host's as LZCNT" },
	{ OP_TZCNT, "the model lacks BMI1: F3 0F BC runs as BSF, the host's as TZCNT" },
};

/*
 * Under PVM, native ring-3 code runs with the host's GDT and IDT: what
 * loads or checks a descriptor would be checked against the host's tables,
 * not ours. These are compared only where KVM emulates the mode.
 */
static bool uses_descriptors(const struct x86_insn *in)
{
	switch (in->op) {
	case OP_IRET: case OP_RETF: case OP_JMPF: case OP_CALLF: case OP_MOV_TO_SEG:
	case OP_LDS: case OP_LES: case OP_LSS: case OP_LFS: case OP_LGS:
	case OP_LAR: case OP_LSL: case OP_VERR: case OP_VERW:
		return true;
	case OP_POP:
		return in->opnd[0] >= X86_O_ES && in->opnd[0] <= X86_O_GS;
	}
	return false;
}

static const char *skip_reason(unsigned op)
{
	for (size_t i = 0; i < sizeof(skips) / sizeof(skips[0]); i++)
		if (skips[i].op == op)
			return skips[i].why;
	return NULL;
}

static bool is_x87(unsigned op)
{
	return op >= OP_FWAIT && op <= OP_FCMOVNU;
}

static bool is_sse(unsigned op)
{
	return (op >= OP_MOVUPS && op < OP_COUNT) || op == OP_LDMXCSR || op == OP_STMXCSR;
}

/* Why a decoded form is not generated, or NULL. */
static const char *form_excluded(const struct form *f, const struct x86_insn *in)
{
	if (f->op == OP_INVALID)
		return NULL;
	const char *why = skip_reason(f->op);
	if (why)
		return why;
	if (in->flags & X86_INSN_MMX)
		return "MMX registers not compared (MMX is not in the model)";
	if (is_x87(f->op))
		return "x87 state not compared";
	if (!kvm_diff_host_has(x86_insn_isa(in)))
		return "the host CPU lacks the extension";
	if (!tcg_diff_has_handler(f->op))
		return "no handler";
	if (!kvm_diff_native(f->mode) && is_sse(f->op))
		return "SSE in a mode KVM emulates: its emulator has (almost) no SSE";
	if (kvm_diff_native(f->mode) && uses_descriptors(in))
		return "natively run, so checked against the host's GDT (PVM)";
	return NULL;
}

/* Exclusion reasons, counted per form for the report. */
#define MAX_REASONS 32
static const char *reasons[MAX_REASONS];
static int reason_forms[MAX_REASONS];
static int nreasons;

static void reason_count(const char *why)
{
	for (int i = 0; i < nreasons; i++)
		if (reasons[i] == why || !strcmp(reasons[i], why)) {
			reason_forms[i]++;
			return;
		}
	if (nreasons < MAX_REASONS) {
		reasons[nreasons] = why;
		reason_forms[nreasons++] = 1;
	}
}

static bool is_prefix(uint8_t b, int mode)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3: case 0x0f:
		return true;
	}
	return mode == 64 && b >= 0x40 && b <= 0x4f;
}

static enum x86_mode xmode(int mode)
{
	return mode == 64 ? X86_MODE_64 : mode == 32 ? X86_MODE_32 : X86_MODE_16;
}

/* Builds the template bytes of (map, pfx, opc) with REX.W and a ModRM. */
static unsigned templ(uint8_t *b, int map, uint8_t pfx, bool w, uint8_t opc, uint8_t modrm)
{
	unsigned n = 0;
	memset(b, 0, 16);
	if (pfx)
		b[n++] = pfx;
	if (w)
		b[n++] = 0x48;
	if (map != X86_MAP_1BYTE)
		b[n++] = 0x0f;
	if (map == X86_MAP_0F38)
		b[n++] = 0x38;
	if (map == X86_MAP_0F3A)
		b[n++] = 0x3a;
	b[n++] = opc;
	b[n] = modrm;
	return n;
}

struct group {
	uint16_t op;
	bool mem, modrm;
	uint64_t mset[2][4]; /* by REX.W */
};

static int group_find(struct group *g, int *ng, uint16_t op, bool mem, bool modrm)
{
	for (int i = 0; i < *ng; i++)
		if (g[i].op == op && g[i].mem == mem)
			return i;
	memset(&g[*ng], 0, sizeof(g[0]));
	g[*ng].op = op;
	g[*ng].mem = mem;
	g[*ng].modrm = modrm;
	return (*ng)++;
}

/* Decodes every ModRM of one opcode row into groups. */
static int row_groups(int mode, int map, uint8_t pfx, uint8_t opc, struct group *g)
{
	int ng = 0;
	for (int w = 0; w < (mode == 64 ? 2 : 1); w++) {
		for (int m = 0; m < 256; m++) {
			uint8_t b[16];
			struct x86_insn in;
			templ(b, map, pfx, w, opc, (uint8_t)m);
			int r = x86_decode(&in, b, 15, xmode(mode));
			bool modrm = r == X86_DECODE_OK ? (in.flags & X86_INSN_MODRM) != 0 : true;
			uint16_t op = r == X86_DECODE_OK ? in.op : OP_INVALID;
			bool mem = r == X86_DECODE_OK ? x86_insn_is_mem(&in) : m < 0xc0;
			int k = group_find(g, &ng, op, mem, modrm);
			g[k].mset[w][m >> 6] |= 1ULL << (m & 63);
			if (r == X86_DECODE_OK && !modrm)
				break;
		}
	}
	return ng;
}

static void form_add(const struct form *f)
{
	if (nforms == cap) {
		cap = cap ? cap * 2 : 1024;
		forms = realloc(forms, (size_t)cap * sizeof(*forms));
		if (!forms)
			abort();
	}
	forms[nforms++] = *f;
}

static bool mset_empty(const uint64_t *s)
{
	return !(s[0] | s[1] | s[2] | s[3]);
}

void cases_init(void)
{
	static const uint8_t pfxs[4] = { 0, 0x66, 0xf3, 0xf2 };
	static struct group g[64], g0[64];
	for (int mode = 16; mode <= 64; mode *= 2) {
		if (mode == 48)
			continue;
		for (int map = 0; map < 4; map++)
			for (int opc = 0; opc < 256; opc++) {
				if (map == X86_MAP_1BYTE && is_prefix((uint8_t)opc, mode))
					continue;
				int n0 = row_groups(mode, map, 0, (uint8_t)opc, g0);
				for (int p = 0; p < 4; p++) {
					int ng = p ? row_groups(mode, map, pfxs[p], (uint8_t)opc, g) : n0;
					struct group *gg = p ? g : g0;
					for (int k = 0; k < ng; k++) {
						struct group *x = &gg[k];
						/* A prefix that changes nothing is left to the
						 * random prefixes of the pfx-less form. */
						bool dup = false;
						for (int j = 0; p && j < n0; j++)
							if (g0[j].op == x->op && g0[j].mem == x->mem)
								dup = true;
						if (dup)
							continue;
						/* Undefined rows: only the pfx-less one of the
						 * one-byte map, all columns of the 0F maps. */
						if (x->op == OP_INVALID && p && map == X86_MAP_1BYTE)
							continue;
						struct form f = { .mode = (uint8_t)mode, .map = (uint8_t)map,
								  .pfx = pfxs[p], .opc = (uint8_t)opc,
								  .op = x->op, .mem = x->mem,
								  .modrm = x->modrm };
						bool e0 = mset_empty(x->mset[0]), e1 = mset_empty(x->mset[1]);
						if (mode == 64 && !e0 && !e1 &&
						    !memcmp(x->mset[0], x->mset[1], sizeof(x->mset[0]))) {
							f.wmode = 0;
						} else if (mode == 64 && !e1) {
							/* W=1 forms, and W=0 ones separately below */
							f.wmode = 1;
							memcpy(f.mset, x->mset[1], sizeof(f.mset));
							form_add(&f);
							if (e0)
								continue;
							f.wmode = 2;
						} else if (mode == 64) {
							f.wmode = 2;
						}
						memcpy(f.mset, x->mset[0], sizeof(f.mset));
						form_add(&f);
					}
				}
			}
	}
	/* Which forms are generated. */
	for (int i = 0; i < nforms; i++) {
		struct form *f = &forms[i];
		uint8_t b[16];
		struct x86_insn in;
		int m = 0;
		while (f->modrm && !(f->mset[m >> 6] & (1ULL << (m & 63))))
			m++;
		templ(b, f->map, f->pfx, f->wmode == 1, f->opc, (uint8_t)m);
		x86_decode(&in, b, 15, xmode(f->mode));
		const char *why = form_excluded(f, &in);
		f->eligible = !why;
		if (why)
			reason_count(why);
	}
}

int cases_count(void)
{
	return nforms;
}

unsigned cases_form_op(int form)
{
	return forms[form].op;
}

int cases_form_mode(int form)
{
	return forms[form].mode;
}

const char *cases_form_name(int form, char *buf, size_t n)
{
	const struct form *f = &forms[form];
	static const char *const maps[] = { "", "0f ", "0f38 ", "0f3a " };
	snprintf(buf, n, "%s%s %s%s%02x%s%s", x86_op_name(f->op), f->mem ? " mem" : "",
		 f->pfx ? (f->pfx == 0x66 ? "66 " : f->pfx == 0xf3 ? "f3 " : "f2 ") : "",
		 maps[f->map], f->opc, f->wmode == 1 ? " W1" : "",
		 f->mode == 64 ? " (64)" : f->mode == 32 ? " (32)" : " (16)");
	return buf;
}

int cases_no_handler(void)
{
	for (int i = 0; i < nreasons; i++)
		if (!strcmp(reasons[i], "no handler"))
			return reason_forms[i];
	return 0;
}

void cases_report(void)
{
	int elig = 0;
	for (int i = 0; i < nforms; i++)
		elig += forms[i].eligible;
	printf("forms: %d decoded, %d generated\n", nforms, elig);
	for (int i = 0; i < nreasons; i++)
		printf("  not generated: %4d forms: %s\n", reason_forms[i], reasons[i]);
}

/* ---- randomness ----------------------------------------------------------- */

uint64_t rng_next(struct diff_rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static bool chance(struct diff_rng *r, unsigned percent)
{
	return rng_below(r, 100) < percent;
}

/* Operand values with the edges over-represented, at every width. */
static uint64_t rnd_operand(struct diff_rng *r)
{
	static const uint64_t edges[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, 0x0f,
		0x10, 0x1f, 0x20, 0x3f, 0x40, 0x100, 0x10000, 0x100000000ULL,
	};
	uint64_t v = rng_next(r);
	switch (v & 7) {
	case 0:
		return edges[(v >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return edges[(v >> 8) % (sizeof(edges) / sizeof(edges[0]))] + ((v >> 16) & 3) - 2;
	case 2:
		return (v >> 8) & 0xff;
	case 3:
		return (uint64_t)-(int64_t)((v >> 8) & 0xff);
	default:
		return rng_next(r);
	}
}

/*
 * Forms are picked uniformly, so every opcode form gets its share whatever
 * its popularity; the #UD forms (thousands of them, one per undefined
 * ModRM group) get 3% of the cases unless asked for with --op ud.
 */
int cases_pick(struct diff_rng *r, int op_filter)
{
	static int *pool, *udpool, npool, nud, pool_filter = -100;
	if (pool_filter != op_filter) {
		free(pool);
		free(udpool);
		pool = malloc((size_t)nforms * sizeof(*pool));
		udpool = malloc((size_t)nforms * sizeof(*udpool));
		npool = nud = 0;
		for (int i = 0; i < nforms; i++) {
			if (!forms[i].eligible)
				continue;
			if (forms[i].op == OP_INVALID) {
				if (op_filter < 0 || op_filter == OP_INVALID)
					udpool[nud++] = i;
			} else if (op_filter < 0 || op_filter == forms[i].op) {
				pool[npool++] = i;
			}
		}
		pool_filter = op_filter;
	}
	if (nud && (!npool || chance(r, 3)))
		return udpool[rng_below(r, (uint64_t)nud)];
	if (!npool)
		return -1;
	return pool[rng_below(r, (uint64_t)npool)];
}

/* ---- building one instruction ------------------------------------------- */

struct builder {
	uint8_t b[32];
	unsigned n;
	int disp_at, disp_len; /* where the displacement sits, -1 if none */
	int moffs_at;
};

static void put(struct builder *bl, uint8_t v)
{
	if (bl->n < sizeof(bl->b))
		bl->b[bl->n++] = v;
}

static void put_le(struct builder *bl, uint64_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		put(bl, (uint8_t)(v >> (8 * i)));
}

static void patch_le(uint8_t *b, uint64_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static bool lockable(unsigned op)
{
	switch (op) {
	case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB:
	case OP_XOR: case OP_INC: case OP_DEC: case OP_NOT: case OP_NEG: case OP_XCHG:
	case OP_XADD: case OP_CMPXCHG: case OP_CMPXCHG8B: case OP_CMPXCHG16B:
	case OP_BTS: case OP_BTR: case OP_BTC:
		return true;
	}
	return false;
}

static bool is_string(unsigned op)
{
	switch (op) {
	case OP_MOVS: case OP_CMPS: case OP_STOS: case OP_LODS: case OP_SCAS:
	case OP_INS: case OP_OUTS:
		return true;
	}
	return false;
}

static bool is_near_branch(unsigned op)
{
	switch (op) {
	case OP_JCC: case OP_JMP: case OP_CALL: case OP_RET: case OP_LOOP: case OP_LOOPE:
	case OP_LOOPNE: case OP_JCXZ:
		return true;
	}
	return false;
}

/* Random instruction bytes for form f (the decoder checks them after). */
static void build(const struct form *f, struct diff_rng *r, struct builder *bl, int try)
{
	memset(bl, 0, sizeof(*bl));
	bl->disp_at = bl->moffs_at = -1;
	int mode = f->mode;
	bool asz = false;
	/*
	 * Optional prefixes. 66 is not put on near branches in 64-bit mode:
	 * Intel ignores it there, AMD (this host) honours it with a 16-bit
	 * RIP and immediate; the software CPU models Intel.
	 */
	bool allow66 = f->map == X86_MAP_1BYTE || f->pfx == 0;
	if (mode == 64 && is_near_branch(f->op))
		allow66 = false;
	if (try < 3 && allow66 && f->pfx != 0x66 && chance(r, 25))
		put(bl, 0x66);
	if (chance(r, 12)) {
		put(bl, 0x67);
		asz = true;
	}
	if (f->mem && chance(r, 8)) {
		static const uint8_t segp[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
		put(bl, segp[rng_below(r, 6)]);
	}
	if (f->mem && lockable(f->op) && chance(r, 30))
		put(bl, 0xf0);
	if (is_string(f->op) && chance(r, 60))
		put(bl, chance(r, 70) ? 0xf3 : 0xf2);
	if (f->pfx)
		put(bl, f->pfx);
	if (mode == 64) {
		uint8_t rex = 0x40 | (uint8_t)rng_below(r, 16);
		if (f->wmode == 1)
			rex |= 8;
		if (f->wmode == 2)
			rex &= ~8;
		if (f->wmode == 1 || chance(r, 60))
			put(bl, rex);
	}
	if (f->map != X86_MAP_1BYTE)
		put(bl, 0x0f);
	if (f->map == X86_MAP_0F38)
		put(bl, 0x38);
	if (f->map == X86_MAP_0F3A)
		put(bl, 0x3a);
	put(bl, f->opc);
	if (f->modrm) {
		uint8_t m;
		do
			m = (uint8_t)rng_next(r);
		while (!(f->mset[m >> 6] & (1ULL << (m & 63))));
		put(bl, m);
		unsigned mod = m >> 6, rm = m & 7;
		unsigned asize = mode == 64 ? (asz ? 4 : 8) : mode == 32 ? (asz ? 2 : 4) : (asz ? 4 : 2);
		if (mod != 3 && f->mem) {
			unsigned dlen = 0;
			if (asize == 2) {
				dlen = mod == 1 ? 1 : mod == 2 ? 2 : rm == 6 ? 2 : 0;
			} else {
				if (rm == 4) {
					uint8_t sib = (uint8_t)rng_next(r);
					put(bl, sib);
					if (mod == 0 && (sib & 7) == 5)
						dlen = 4;
				}
				if (mod == 0 && rm == 5)
					dlen = 4;
				if (mod == 1)
					dlen = 1;
				if (mod == 2)
					dlen = 4;
			}
			bl->disp_at = (int)bl->n;
			bl->disp_len = (int)dlen;
			/* Small displacements mostly, so registers can absorb them. */
			int64_t d = chance(r, 80) ? (int64_t)rng_below(r, 0x200) - 0x100
						  : (int64_t)rng_next(r);
			put_le(bl, (uint64_t)d, dlen);
		}
	}
	/* Immediates: the decoder decides how many of these bytes it takes. */
	uint64_t imm = chance(r, 50) ? rnd_operand(r) : rng_next(r);
	bl->moffs_at = (int)bl->n;
	put_le(bl, imm, 8);
	put_le(bl, rng_next(r), 8);
}

/* ---- making the case safe and interesting ------------------------------- */

static uint64_t amask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* Registers are 32 bits outside 64-bit mode: the upper halves start as 0. */
static void gpr_set(struct diff_case *c, unsigned r, uint64_t v)
{
	c->in.gpr[r] = c->mode == 64 ? v : (uint32_t)v;
}

static void gpr_set_low(struct diff_case *c, unsigned r, uint64_t v, unsigned size)
{
	gpr_set(c, r, (c->in.gpr[r] & ~amask(size)) | (v & amask(size)));
}

/*
 * A target address for a memory operand of `size` bytes: mostly inside
 * the data area, sometimes inside the read-only page, and in natively run
 * modes sometimes across the end of the data area into the not-present
 * page or across the read-only page into a readable one. (KVM's emulator,
 * which runs the other modes on PVM, writes the first page of a split
 * access before it faults on the second, so it cannot judge those.)
 */
static uint64_t pick_target(struct diff_rng *r, unsigned size, int mode)
{
	unsigned sz = size ? size : 1;
	if (kvm_diff_native(mode) && chance(r, 4)) {
		uint64_t edge = chance(r, 50) ? NP_PAGE : ZERO_PAGE;
		return edge - sz + rng_below(r, 2 * sz);
	}
	if (chance(r, 2))
		return RO_PAGE + 0x100 + rng_below(r, 0xe00);
	uint64_t t = TARGET_LO + rng_below(r, TARGET_HI - TARGET_LO - 64);
	if (chance(r, 70))
		t &= ~(uint64_t)((sz >= 8 ? 8 : sz) - 1);
	return t;
}

static void patch_add(struct diff_case *c, uint64_t addr, uint64_t val, unsigned size)
{
	unsigned n = size > 8 ? 8 : size;
	/* addr may be anything an address computation wrapped to: no addr + n. */
	if (c->npatch >= 4 || addr < DATA_LO || addr > DATA_HI - n)
		return;
	c->patch[c->npatch].addr = addr;
	c->patch[c->npatch].val = val;
	c->patch[c->npatch].size = n;
	c->npatch++;
}


/* Solves base/index so that the operand's effective address is target. */
static bool aim(struct diff_case *c, struct diff_rng *r, const struct x86_insn *in,
		uint64_t target)
{
	unsigned as = in->addrsize;
	uint64_t m = amask(as);
	if (x86_insn_riprel(in))
		return false; /* handled by the caller through the displacement */
	uint64_t want = target - (uint64_t)in->disp;
	if (in->base == X86_REG_NONE && in->index == X86_REG_NONE)
		return ((uint64_t)in->disp & m) == target;
	uint64_t hi = c->mode == 64 ? rng_next(r) : (uint32_t)rng_next(r);
	hi &= ~m;
	if (in->base == X86_REG_NONE) {
		/* index only (SIB without base): the scale drops the low bits */
		gpr_set(c, in->index, hi | ((want & m) >> in->scale));
	} else if (in->index != X86_REG_NONE && in->base == in->index) {
		uint64_t k = 1 + (1ULL << in->scale);
		uint64_t v = (want & m) / k;
		gpr_set(c, in->base, hi | v);
	} else {
		uint64_t iv = 0;
		if (in->index != X86_REG_NONE) {
			iv = chance(r, 30) ? 0 : (uint64_t)((int64_t)rng_below(r, 128) - 64);
			gpr_set(c, in->index, (iv & m) | (as < 8 ? hi : 0));
			iv &= m;
		}
		if (in->base != X86_REG_NONE)
			gpr_set(c, in->base, hi | ((want - (iv << in->scale)) & m));
	}
	return true;
}

/* The effective address the case's registers give (segment bases are 0). */
static uint64_t ea_of(const struct diff_case *c, const struct x86_insn *in)
{
	uint64_t ea = (uint64_t)in->disp;
	if (in->base != X86_REG_NONE)
		ea += c->in.gpr[in->base];
	if (in->index != X86_REG_NONE)
		ea += c->in.gpr[in->index] << in->scale;
	if (x86_insn_riprel(in))
		ea += c->addr + in->len;
	return ea & amask(in->addrsize);
}

static bool decode_case(struct diff_case *c)
{
	return x86_decode(&c->insn, c->bytes, 15, xmode(c->mode)) == X86_DECODE_OK;
}

/* A branch target on the filler: near, never inside the instruction. */
static uint64_t branch_target(const struct diff_case *c, struct diff_rng *r, unsigned span)
{
	for (;;) {
		uint64_t t = c->addr + c->len + rng_below(r, 2 * span) - span;
		if ((t < c->addr || t >= c->addr + c->len) && t >= CODE_LO && t < CODE_HI)
			return t;
	}
}

static void fix_branch(struct diff_case *c, struct diff_rng *r)
{
	struct x86_insn *in = &c->insn;
	unsigned stack = c->mode == 64 ? 8 : in->opsize;
	switch (in->op) {
	case OP_JCC: case OP_JMP: case OP_CALL: case OP_LOOP: case OP_LOOPE: case OP_LOOPNE:
	case OP_JCXZ:
		if (in->opnd[0] == X86_O_Jb) {
			uint64_t t = branch_target(c, r, 128);
			patch_le(c->bytes + c->len - 1, t - (c->addr + c->len), 1);
		} else if (in->opnd[0] == X86_O_Jz) {
			unsigned n = in->opsize == 2 ? 2 : 4;
			uint64_t t = branch_target(c, r, 0x1000);
			patch_le(c->bytes + c->len - n, t - (c->addr + c->len), n);
		} else {
			/* indirect: the register or the memory word holds the target */
			uint64_t t = branch_target(c, r, 0x1000);
			if (chance(r, 5))
				t = rng_next(r); /* non-canonical or past the limit: #GP */
			if (x86_insn_is_mem(in))
				patch_add(c, ea_of(c, in), t, stack);
			else
				gpr_set_low(c, in->rm, t, in->opsize);
		}
		break;
	case OP_RET:
		patch_add(c, c->in.gpr[R_RSP] & (c->mode == 16 ? 0xffff : ~0ULL),
			  branch_target(c, r, 0x1000), in->opsize);
		break;
	}
}

bool cases_make(int form, struct diff_rng *r, struct diff_case *c)
{
	const struct form *f = &forms[form];
	struct builder bl;
	memset(c, 0, sizeof(*c));
	c->form = form;
	c->mode = f->mode;
	c->data_seed = (uint32_t)rng_next(r);
	c->in.vector = -1;
	/* Where the instruction sits: anywhere in its page, sometimes across the end. */
	c->addr = INSN_PAGE + (chance(r, 5) ? 0xff1 + rng_below(r, 14) : rng_below(r, 0xfe0));

	int tries = 0;
	for (;; tries++) {
		if (tries > 20)
			return false;
		build(f, r, &bl, tries);
		memcpy(c->bytes, bl.b, 16);
		int st = x86_decode(&c->insn, c->bytes, 15, xmode(c->mode));
		if (f->op == OP_INVALID) {
			if (st != X86_DECODE_UD)
				continue;
			c->ud = true;
			c->len = bl.n < 15 ? bl.n : 15;
			/* Only the bytes up to the opcode and ModRM are meaningful; a
			 * real CPU that knows the encoding may run the rest, so the
			 * filler follows right after them. */
			c->len = (unsigned)(bl.disp_at > 0 ? bl.disp_at : bl.moffs_at);
			break;
		}
		if (st != X86_DECODE_OK || c->insn.op != f->op)
			continue;
		c->len = c->insn.len;
		break;
	}
	struct x86_insn *in = &c->insn;
	c->sse = is_sse(in->op);

	/* Registers and flags. */
	for (int i = 0; i < 16; i++)
		gpr_set(c, (unsigned)i, rnd_operand(r));
	if (c->mode != 64)
		for (int i = 8; i < 16; i++)
			c->in.gpr[i] = 0;
	c->in.rflags = 0x202 | (rng_next(r) & F_ARITH) | (chance(r, 25) ? F_DF : 0);
	c->in.rip = c->addr;
	if (c->sse) {
		for (int i = 0; i < 16; i++) {
			c->in.xmm[i].q[0] = rnd_operand(r);
			c->in.xmm[i].q[1] = rng_next(r);
		}
		c->in.mxcsr = 0x1f80;
	}
	/* The stack is always in the data area. */
	uint64_t sp = TARGET_LO + 0x400 + rng_below(r, TARGET_HI - TARGET_LO - 0x800);
	if (chance(r, 80))
		sp &= ~7ULL;
	gpr_set(c, R_RSP, sp);
	if (c->ud)
		return true;

	/* Implicit memory operands. */
	bool string = is_string(in->op);
	if (string) {
		uint64_t am = amask(in->addrsize);
		gpr_set_low(c, R_RSI, pick_target(r, in->opsize, c->mode), in->addrsize);
		gpr_set_low(c, R_RDI, pick_target(r, in->opsize, c->mode), in->addrsize);
		if (in->prefixes & (X86_PFX_REP | X86_PFX_REPNE))
			gpr_set_low(c, R_RCX, chance(r, 10) ? 0 : rng_below(r, 17), in->addrsize);
		/* A repeated compare stops where the data says; make some equal. */
		if ((in->op == OP_CMPS || in->op == OP_SCAS) && chance(r, 50))
			patch_add(c, c->in.gpr[R_RDI] & am, c->in.gpr[R_RAX], in->opsize);
	}
	switch (in->op) {
	case OP_MASKMOVQ: case OP_MASKMOVDQU:
		gpr_set_low(c, R_RDI, pick_target(r, 16, 16), in->addrsize);
		break;
	case OP_XLAT:
		gpr_set_low(c, R_RBX, pick_target(r, 256, 16) - (c->in.gpr[R_RAX] & 0xff) + 0x80,
			    in->addrsize);
		break;
	case OP_LEAVE:
		gpr_set_low(c, R_RBP, sp + rng_below(r, 64) * 2, 8);
		break;
	case OP_ENTER:
		gpr_set_low(c, R_RBP, sp + 0x100 + rng_below(r, 256), 8);
		break;
	case OP_POPF:
		/* TF would trap on the filler: keep it clear in the popped image. */
		patch_add(c, c->in.gpr[R_RSP] & (c->mode == 16 ? 0xffff : ~0ULL),
			  rng_next(r) & ~(uint64_t)F_TF, in->opsize);
		break;
	case OP_SHLD: case OP_SHRD:
		/* "If the count is greater than the operand size, the result is
		 * undefined": keep the masked count within the operand size. */
		if (in->opsize == 2) {
			unsigned cnt = (unsigned)rng_below(r, 17);
			if (in->opnd[2] == X86_O_CL)
				gpr_set_low(c, R_RCX, cnt | (rng_next(r) & 0xe0), 1);
			else
				c->bytes[c->len - 1] = (uint8_t)(cnt | (rng_next(r) & 0xe0));
		}
		break;
	}
	if (chance(r, 30) && (in->op == OP_SHL || in->op == OP_SHR || in->op == OP_SAR ||
			      in->op == OP_ROL || in->op == OP_ROR || in->op == OP_RCL ||
			      in->op == OP_RCR || in->op == OP_SHLD || in->op == OP_SHRD)) {
		/* Counts around the operand width are where the edges are. */
		unsigned cnt = (unsigned)rng_below(r, in->opsize * 8 + 2);
		if (!(in->op == OP_SHLD || in->op == OP_SHRD) || in->opsize != 2 || cnt <= 16) {
			if (in->opnd[1] == X86_O_CL || in->opnd[2] == X86_O_CL)
				gpr_set_low(c, R_RCX, cnt, 1);
			else if (in->opnd[1] == X86_O_Ib || in->opnd[2] == X86_O_Ib)
				c->bytes[c->len - 1] = (uint8_t)cnt;
		}
	}

	/* The memory operand. */
	if (x86_insn_is_mem(in)) {
		unsigned size = in->memsize ? in->memsize : 1;
		uint64_t t = pick_target(r, size, c->mode);
		if (x86_insn_riprel(in)) {
			patch_le(c->bytes + bl.disp_at, t - (c->addr + c->len), 4);
			if (!decode_case(c))
				return false;
		} else if (in->base == X86_REG_NONE && in->index == X86_REG_NONE) {
			int at = bl.disp_at >= 0 && bl.disp_len ? bl.disp_at : -1;
			unsigned n = at >= 0 ? (unsigned)bl.disp_len : in->addrsize;
			if (at < 0) /* moffs: the address is the immediate, last */
				at = (int)(c->len - n);
			patch_le(c->bytes + at, t, n);
			if (!decode_case(c))
				return false;
		} else {
			aim(c, r, in, t);
		}
		uint64_t ea = ea_of(c, in);
		if (size <= 8 && chance(r, 60))
			patch_add(c, ea, rnd_operand(r), size);
		/* BT with a register offset addresses far beyond the operand. */
		if ((in->op == OP_BT || in->op == OP_BTS || in->op == OP_BTR || in->op == OP_BTC) &&
		    in->opnd[1] != X86_O_Ib)
			gpr_set_low(c, in->reg, rng_below(r, 512) - 256, in->opsize);
		/* The stack pointer may be the base: keep pushes/pops in the data area. */
		if (in->base == R_RSP || in->index == R_RSP) {
			uint64_t s = c->in.gpr[R_RSP] & amask(c->mode == 16 ? 2 : 8);
			if (s < DATA_LO + 0x100 || s > DATA_HI - 0x100)
				return false;
		}
	}
	/* Division: half the cases without overflow. */
	if ((in->op == OP_DIV || in->op == OP_IDIV) && chance(r, 60)) {
		unsigned sz = in->opsize;
		uint64_t dv = x86_insn_is_mem(in) ? case_mem_value(c, ea_of(c, in), sz)
						  : (in->rm < 8 && sz == 1 && !in->rex && in->rm >= 4
							     ? c->in.gpr[in->rm - 4] >> 8
							     : c->in.gpr[in->rm]) & amask(sz);
		uint64_t hi;
		if (in->op == OP_DIV)
			hi = dv ? rng_below(r, dv) : 0;
		else
			hi = (c->in.gpr[R_RAX] >> (sz == 1 ? 7 : sz * 8 - 1)) & 1 ? ~0ULL : 0;
		bool rdx_addr = x86_insn_is_mem(in) && (in->base == R_RDX || in->index == R_RDX);
		bool rax_addr = x86_insn_is_mem(in) && (in->base == R_RAX || in->index == R_RAX);
		if (sz == 1 && !rax_addr)
			gpr_set_low(c, R_RAX, (c->in.gpr[R_RAX] & 0xff) | (hi & 0xff) << 8, 2);
		else if (sz > 1 && !rdx_addr && !(in->rm == R_RDX && !x86_insn_is_mem(in)))
			gpr_set_low(c, R_RDX, hi, sz);
	}
	if (is_near_branch(in->op))
		fix_branch(c, r);
	if (!decode_case(c))
		return false;
	c->len = c->insn.len;
	return true;
}

uint64_t case_mem_value(const struct diff_case *c, uint64_t addr, unsigned size)
{
	static uint8_t img[GUEST_RAM > 0x20000 ? 0x20000 : GUEST_RAM];
	if (addr < DATA_LO || addr + size > DATA_HI)
		return 0;
	image_data(img, c);
	uint64_t v = 0;
	memcpy(&v, img + addr, size > 8 ? 8 : size);
	return v;
}
