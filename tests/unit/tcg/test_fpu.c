/*
 * The x87 and SSE handlers, run through cpu_step() on a vCPU in 64-bit
 * long mode (identity-mapped page tables in guest RAM).
 *
 * The differential part is the backbone: each case is one instruction
 * text, assembled once for the guest and once into a host function. Both
 * start from the same random FXSAVE image (x87 registers, TOP, tags,
 * FCW precision/rounding, FSW flags, XMM registers, MXCSR rounding and
 * FTZ/DAZ), the same RAX, RFLAGS and 64 bytes of memory at RSI, run the
 * text bracketed by FXRSTOR/FXSAVE, and must end bit-identical: the whole
 * FXSAVE image except FOP/FIP/FDP (addresses differ) and the unused
 * bytes of the register slots, RAX, the arithmetic flags and the memory.
 * Operands over-represent the edges: zeros, infinities, QNaN/SNaN with
 * payloads, denormals, integer-boundary values, empty x87 registers.
 * All exceptions stay masked there (the host must not trap); the unmasked
 * paths (#XM, #MF) and the gates are tested directly.
 */
#include "accel/tcg/fpu.h"
#include "core/mem.h"
#include "core/vm.h"
#include "tcgtest.h"
#include "test.h"

#include <setjmp.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wclobbered"

#define CODE 0x10000ULL
#define STACK_TOP 0x80000ULL
#define DATA 0x200000ULL

static struct vm vm;
static struct x86_cpu *cpu;

#define GUEST_CODE(name, text)                                                          \
	extern const uint8_t name##_start[], name##_end[];                              \
	__asm__(".pushsection .rodata\n" #name "_start:\n" text "\n" #name "_end:\n" \
		".popsection\n")

static uint8_t *gmem(uint64_t gpa)
{
	return guest_ptr(&vm.mem, gpa, 1);
}

static void build_page_tables(void)
{
	uint64_t *pml4 = (uint64_t *)gmem(0x1000), *pdpt = (uint64_t *)gmem(0x2000);
	uint64_t *pd = (uint64_t *)gmem(0x3000);
	memset(pml4, 0, 0x3000);
	pml4[0] = 0x2000 | 7;
	pdpt[0] = 0x3000 | 7;
	for (int k = 0; k < 8; k++)
		pd[k] = ((uint64_t)k << 21) | 0x87; /* 2 MiB pages, P W U PS */
}

static void reset_long64(void)
{
	struct x86_cpu_state s;
	x86_state_long64(&s, 0x1000, 0x500, 0x1f);
	s.gpr[R_RSP] = STACK_TOP;
	s.cr0 |= X86_CR0_NE | X86_CR0_MP;
	s.cr4 |= FPU_CR4_OSFXSR | FPU_CR4_OSXMMEXCPT;
	cpu_load_state(cpu, &s);
	fpu_reset(cpu);
	cpu->exc_vector = -1;
}

/* Runs the code until it falls off its end; returns -1, or the vector raised. */
static int run_code(const uint8_t *start, const uint8_t *end)
{
	return tcgtest_run(cpu, gmem(CODE), CODE, start, end, 100000);
}

#define RUN(name) run_code(name##_start, name##_end)

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	return tcgtest_rnd(&rng_state);
}

/* ---- random operands ------------------------------------------------------------- */

static uint32_t rnd_f32(void)
{
	static const uint32_t edges[] = {
		0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000,
		0x7fc00000, 0xffc00000, 0x7fa00001, 0xff800123, 0x7fc12345, 0x00000001,
		0x807fffff, 0x00800000, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x5f000000,
		0xdf000000, 0x3f000000, 0x3fc00000, 0x40200000, 0x4effffff, 0xcf000001,
	};
	uint64_t r = rnd();
	switch (r & 7) {
	case 0: case 1: return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	case 2: /* small integers and halves: rounding-mode sensitive */
		{
			float f = (float)((int)((r >> 8) & 63) - 32) / 2.0f;
			uint32_t u;
			memcpy(&u, &f, 4);
			return u;
		}
	case 3: return (uint32_t)(r >> 8) & 0x807fffff; /* denormals */
	default: return (uint32_t)(r >> 16);
	}
}

static uint64_t rnd_f64(void)
{
	static const uint64_t edges[] = {
		0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0x7ff0000000000000ULL,
		0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0xfff8000000000000ULL,
		0x7ff4000000000001ULL, 0xfff0000000000abcULL, 0x0000000000000001ULL,
		0x800fffffffffffffULL, 0x0010000000000000ULL, 0x7fefffffffffffffULL,
		0x41e0000000000000ULL, 0xc1e0000000000000ULL, 0x43e0000000000000ULL,
		0xc3e0000000000000ULL, 0x3fe0000000000000ULL, 0x41dfffffffffffffULL,
		0xc1e0000000200000ULL, 0x4330000000000001ULL, 0x3ff8000000000000ULL,
	};
	uint64_t r = rnd();
	switch (r & 7) {
	case 0: case 1: return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	case 2: {
		double f = (double)((int)((r >> 8) & 63) - 32) / 2.0;
		uint64_t u;
		memcpy(&u, &f, 8);
		return u;
	}
	case 3: return rnd() & 0x800fffffffffffffULL;
	default: return rnd();
	}
}

/* 80-bit values: normals, specials, and the unsupported encodings. */
static void rnd_f80(uint8_t out[10])
{
	uint64_t r = rnd(), mant = rnd();
	unsigned exp;
	switch (r & 15) {
	case 0: exp = 0; mant = 0; break;
	case 1: exp = 0x7fff; mant = 1ULL << 63; break;             /* infinity */
	case 2: exp = 0x7fff; mant |= 3ULL << 62; break;            /* QNaN */
	case 3: exp = 0x7fff; mant = (mant & ~(3ULL << 62)) | (1ULL << 63) | 1; break; /* SNaN */
	case 4: exp = 0; mant &= ~(1ULL << 63); break;              /* denormal */
	case 5: exp = 0x3fff + ((r >> 8) & 63); mant &= ~(1ULL << 63); break; /* unnormal */
	case 6: exp = 0x3fff + (unsigned)((r >> 8) & 7); mant = 1ULL << 63; break;
	case 7: exp = 0x3fff + 62 + ((r >> 8) & 3); mant |= 1ULL << 63; break; /* near 2^63 */
	case 8: exp = 0x3ffe + ((r >> 8) & 1); mant |= 1ULL << 63; break;       /* 0.5 .. 2 */
	default: exp = 0x3fff - 40 + (unsigned)((r >> 8) & 127); mant |= 1ULL << 63; break;
	}
	memcpy(out, &mant, 8);
	out[8] = (uint8_t)exp;
	out[9] = (uint8_t)((exp >> 8) | ((r >> 20) & 0x80));
}

enum op_kind { K_PS, K_PD, K_INT, K_X87 };

struct fstate {
	uint8_t fx[512];
	uint64_t rax, rflags;
	uint8_t mem[64];
} __attribute__((aligned(16)));

static void fill_xmm(uint8_t *x, enum op_kind k)
{
	for (unsigned j = 0; j < 16; j += 8) {
		uint64_t v;
		if (k == K_PS)
			v = rnd_f32() | (uint64_t)rnd_f32() << 32;
		else if (k == K_PD)
			v = rnd_f64();
		else
			v = (rnd() & 3) ? rnd() : (rnd() & 1 ? 0 : ~0ULL);
		memcpy(x + j, &v, 8);
	}
}

static void random_state(struct fstate *s, enum op_kind k)
{
	memset(s, 0, sizeof(*s));
	uint64_t r = rnd();
	static const uint16_t pc[] = { 0x000, 0x200, 0x300, 0x300 };
	uint16_t fcw = (uint16_t)(0x007f | pc[r & 3] | (((r >> 2) & 3) << 10));
	/* x87 operations mostly find a full-enough stack; some find holes. */
	uint8_t ftw = (k == K_X87 && (r & 0x30) == 0) ? (uint8_t)rnd() : 0xff;
	uint16_t fsw = (uint16_t)((((r >> 6) & 7) << 11) | ((r >> 9) & 0x4700 & ~0x4000u) |
				  ((r >> 24) & 0x3f));
	uint32_t mxcsr = 0x1f80 | (uint32_t)(((r >> 32) & 3) << 13) |
			 ((r >> 34) & 1 ? 0x8000 : 0) | ((r >> 35) & 1 ? 0x40 : 0) |
			 (uint32_t)((r >> 40) & 0x3f);
	memcpy(s->fx, &fcw, 2);
	memcpy(s->fx + 2, &fsw, 2);
	s->fx[4] = ftw;
	memcpy(s->fx + 24, &mxcsr, 4);
	uint32_t mask = 0xffff;
	memcpy(s->fx + 28, &mask, 4);
	for (unsigned j = 0; j < 8; j++)
		rnd_f80(s->fx + 32 + 16 * j);
	for (unsigned j = 0; j < 16; j++)
		fill_xmm(s->fx + 160 + 16 * j, k);
	s->rax = (rnd() & 1) ? rnd() : (uint64_t)(int64_t)(int32_t)rnd_f32();
	s->rflags = 0x202 | (rnd() & F_ARITH);
	for (unsigned j = 0; j < 64; j += 16) {
		if (k == K_X87) {
			uint64_t v = (rnd() & 1) ? rnd_f32() : rnd_f64();
			memcpy(s->mem + j, &v, 8);
			rnd_f80(s->mem + j + 6);
		} else {
			fill_xmm(s->mem + j, k);
		}
	}
	if (k == K_X87 && (rnd() & 3) == 0) {
		uint64_t v = rnd();
		memcpy(s->mem, &v, 8); /* integers for FILD/FIADD */
	}
}

/* ---- the differential harness -------------------------------------------------- */

typedef void (*host_fn)(struct fstate *s);

/*
 * The host copy of a case: FXRSTOR the image at rdi, load RAX and RFLAGS,
 * point rsi at the memory operand, run the text, save everything back.
 * The guest copy runs the same text between FXRSTOR and FXSAVE with the
 * registers set from C.
 */
#define FDIFF(name, text)                                                                \
	GUEST_CODE(g_##name, "fxrstor (%rdi)\n" text "\nfxsave (%rdi)");                 \
	void h_##name(struct fstate *s);                                                 \
	__asm__(".pushsection .text\n.globl h_" #name "\n"                               \
		".type h_" #name ", @function\nh_" #name ":\n"                            \
		"fxrstor (%rdi)\n mov 512(%rdi), %rax\n pushq 520(%rdi)\n popfq\n"         \
		"lea 528(%rdi), %rsi\n" text "\n pushfq\n popq 520(%rdi)\n"                \
		"mov %rax, 512(%rdi)\n fxsave (%rdi)\n ret\n.popsection\n")

struct fcase {
	const char *name;
	host_fn host;
	const uint8_t *start, *end;
	enum op_kind kind;
};

/* Runs the host copy with the host's own FPU state saved around it. */
static void run_host(host_fn fn, struct fstate *s)
{
	uint32_t mx;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mx), "=m"(cw));
	fn(s);
	__asm__ volatile("fninit\n\tldmxcsr %0\n\tfldcw %1" ::"m"(mx), "m"(cw));
}

static void run_guest(const struct fcase *c, struct fstate *s, int *vector)
{
	memcpy(gmem(DATA), s, sizeof(*s));
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RSI] = DATA + 528;
	cpu->gpr[R_RAX] = s->rax;
	cpu_set_rflags(cpu, s->rflags, ~0ULL);
	*vector = run_code(c->start, c->end);
	memcpy(s, gmem(DATA), sizeof(*s));
	s->rax = cpu->gpr[R_RAX];
	s->rflags = cpu_get_rflags(cpu);
}

static void dump_diff(const char *what, const uint8_t *a, const uint8_t *b, size_t n)
{
	fprintf(stderr, "  %s host:  ", what);
	for (size_t k = 0; k < n; k++)
		fprintf(stderr, "%02x", a[n - 1 - k]);
	fprintf(stderr, "\n  %s guest: ", what);
	for (size_t k = 0; k < n; k++)
		fprintf(stderr, "%02x", b[n - 1 - k]);
	fprintf(stderr, "\n");
}

/* Compares what the architecture defines; reports the first difference. */
static bool same_state(const struct fcase *c, const struct fstate *in, const struct fstate *h,
		       const struct fstate *g)
{
	static const struct { const char *name; unsigned off, len; } fields[] = {
		{ "fcw", 0, 2 }, { "fsw", 2, 2 }, { "ftw", 4, 1 }, { "mxcsr", 24, 4 },
	};
	for (unsigned k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		if (memcmp(h->fx + fields[k].off, g->fx + fields[k].off, fields[k].len)) {
			fprintf(stderr, "%s: %s differs\n", c->name, fields[k].name);
			dump_diff(fields[k].name, h->fx + fields[k].off, g->fx + fields[k].off,
				  fields[k].len);
			goto fail;
		}
	}
	for (unsigned r = 0; r < 8; r++) {
		if (memcmp(h->fx + 32 + 16 * r, g->fx + 32 + 16 * r, 10)) {
			fprintf(stderr, "%s: st(%u) differs\n", c->name, r);
			dump_diff("st", h->fx + 32 + 16 * r, g->fx + 32 + 16 * r, 10);
			goto fail;
		}
	}
	for (unsigned r = 0; r < 16; r++) {
		if (memcmp(h->fx + 160 + 16 * r, g->fx + 160 + 16 * r, 16)) {
			fprintf(stderr, "%s: xmm%u differs\n", c->name, r);
			dump_diff("xmm", h->fx + 160 + 16 * r, g->fx + 160 + 16 * r, 16);
			goto fail;
		}
	}
	if (h->rax != g->rax) {
		fprintf(stderr, "%s: rax %#llx != %#llx\n", c->name, (unsigned long long)h->rax,
			(unsigned long long)g->rax);
		goto fail;
	}
	if ((h->rflags ^ g->rflags) & F_ARITH) {
		fprintf(stderr, "%s: flags %#llx != %#llx\n", c->name,
			(unsigned long long)(h->rflags & F_ARITH),
			(unsigned long long)(g->rflags & F_ARITH));
		goto fail;
	}
	if (memcmp(h->mem, g->mem, sizeof(h->mem))) {
		fprintf(stderr, "%s: memory differs\n", c->name);
		dump_diff("mem", h->mem, g->mem, 32);
		goto fail;
	}
	return true;
fail:
	dump_diff("in fcw/fsw/ftw", in->fx, in->fx, 5);
	dump_diff("in mxcsr", in->fx + 24, in->fx + 24, 4);
	for (unsigned r = 0; r < 8 && c->kind == K_X87; r++) {
		fprintf(stderr, "  st(%u) in/host/guest: ", r);
		for (const struct fstate *p = in;; p = p == in ? h : g) {
			for (int k = 9; k >= 0; k--)
				fprintf(stderr, "%02x", p->fx[32 + 16 * r + k]);
			fprintf(stderr, " ");
			if (p == g)
				break;
		}
		fprintf(stderr, "\n");
	}
	dump_diff("in xmm0", in->fx + 160, in->fx + 160, 16);
	dump_diff("in xmm1", in->fx + 176, in->fx + 176, 16);
	dump_diff("in mem", in->mem, in->mem, 16);
	return false;
}

/* ---- SSE cases ----------------------------------------------------------------- */

FDIFF(addps, "addps %xmm1, %xmm0");
FDIFF(addpd, "addpd %xmm1, %xmm0");
FDIFF(addss, "addss %xmm1, %xmm0");
FDIFF(addsd, "addsd %xmm1, %xmm0");
FDIFF(subps, "subps %xmm1, %xmm0");
FDIFF(subsd, "subsd %xmm1, %xmm0");
FDIFF(mulps, "mulps %xmm1, %xmm0");
FDIFF(mulsd, "mulsd %xmm1, %xmm0");
FDIFF(divps, "divps %xmm1, %xmm0");
FDIFF(divpd, "divpd %xmm1, %xmm0");
FDIFF(divss, "divss %xmm1, %xmm0");
FDIFF(minps, "minps %xmm1, %xmm0");
FDIFF(maxpd, "maxpd %xmm1, %xmm0");
FDIFF(minsd, "minsd %xmm1, %xmm0");
FDIFF(maxss, "maxss %xmm1, %xmm0");
FDIFF(sqrtps, "sqrtps %xmm1, %xmm0");
FDIFF(sqrtsd, "sqrtsd %xmm1, %xmm0");
FDIFF(sqrtss_m, "sqrtss (%rsi), %xmm0");
FDIFF(rcpps, "rcpps %xmm1, %xmm0; rsqrtss %xmm2, %xmm3");
FDIFF(addps_m, "addps (%rsi), %xmm0");
FDIFF(mulsd_m, "mulsd 8(%rsi), %xmm0");
FDIFF(addss_m, "addss 4(%rsi), %xmm0");
FDIFF(cmpps, "cmpeqps %xmm1, %xmm0; cmpltps %xmm3, %xmm2; cmpleps %xmm5, %xmm4; "
	     "cmpunordps %xmm7, %xmm6");
FDIFF(cmpps2, "cmpneqps %xmm1, %xmm0; cmpnltps %xmm3, %xmm2; cmpnleps %xmm5, %xmm4; "
	      "cmpordps %xmm7, %xmm6");
FDIFF(cmppd, "cmpeqpd %xmm1, %xmm0; cmpltpd %xmm3, %xmm2; cmplepd %xmm5, %xmm4; "
	     "cmpunordpd %xmm7, %xmm6; cmpneqpd %xmm9, %xmm8; cmpnltpd %xmm11, %xmm10");
FDIFF(cmpss, "cmpltss %xmm1, %xmm0; cmpnless %xmm3, %xmm2; cmpps $0xfb, %xmm5, %xmm4");
FDIFF(cmpsd, "cmplesd %xmm1, %xmm0; cmpordsd %xmm3, %xmm2; cmpneqsd 8(%rsi), %xmm4");
FDIFF(comiss, "comiss %xmm1, %xmm0");
FDIFF(ucomiss, "ucomiss %xmm1, %xmm0");
FDIFF(comisd, "comisd %xmm1, %xmm0");
FDIFF(ucomisd_m, "ucomisd (%rsi), %xmm0");
FDIFF(cvtsi2ss, "cvtsi2ss %eax, %xmm0; cvtsi2ss %rax, %xmm1");
FDIFF(cvtsi2sd, "cvtsi2sd %eax, %xmm0; cvtsi2sdq %rax, %xmm1; cvtsi2sdl (%rsi), %xmm2");
FDIFF(cvtss2si, "cvtss2si %xmm0, %eax; cvtss2si %xmm1, %rcx; add %rcx, %rax");
FDIFF(cvttss2si, "cvttss2si %xmm0, %rax; cvttss2si %xmm1, %ecx; xor %rcx, %rax");
FDIFF(cvtsd2si, "cvtsd2si %xmm0, %rax; cvtsd2si %xmm1, %ecx; sub %rcx, %rax");
FDIFF(cvttsd2si, "cvttsd2si %xmm0, %eax; cvttsd2si %xmm1, %rcx; xor %rcx, %rax");
FDIFF(cvtps2pd, "cvtps2pd %xmm1, %xmm0; cvtss2sd %xmm3, %xmm2; cvtdq2ps %xmm5, %xmm4");
FDIFF(cvtpd2ps, "cvtpd2ps %xmm1, %xmm0; cvtsd2ss %xmm3, %xmm2; cvtpd2dq %xmm5, %xmm4; "
		"cvttpd2dq %xmm7, %xmm6");
FDIFF(cvtps2dq, "cvtps2dq %xmm1, %xmm0; cvttps2dq %xmm3, %xmm2; cvtdq2pd %xmm5, %xmm4");
FDIFF(haddps, "haddps %xmm1, %xmm0; hsubpd %xmm3, %xmm2; addsubps %xmm5, %xmm4");
FDIFF(logic, "andps %xmm1, %xmm0; andnpd %xmm3, %xmm2; orps %xmm5, %xmm4; xorpd %xmm7, %xmm6");
FDIFF(shufps, "shufps $0x1b, %xmm1, %xmm0; shufpd $2, %xmm3, %xmm2; unpcklps %xmm5, %xmm4; "
	      "unpckhpd %xmm7, %xmm6; unpckhps %xmm9, %xmm8; unpcklpd %xmm11, %xmm10");
FDIFF(movs, "movss %xmm1, %xmm0; movsd %xmm3, %xmm2; movss (%rsi), %xmm4; "
	    "movsd 8(%rsi), %xmm5; movss %xmm6, 20(%rsi); movsd %xmm7, 24(%rsi)");
FDIFF(movhl, "movlps (%rsi), %xmm0; movhps 8(%rsi), %xmm1; movlpd %xmm2, 16(%rsi); "
	     "movhpd %xmm3, 24(%rsi); movhlps %xmm5, %xmm4; movlhps %xmm7, %xmm6");
FDIFF(movdup, "movsldup %xmm1, %xmm0; movshdup (%rsi), %xmm2; movddup 8(%rsi), %xmm3");
FDIFF(mov128, "movaps %xmm1, %xmm0; movapd (%rsi), %xmm2; movups 3(%rsi), %xmm3; "
	      "movdqu %xmm4, 17(%rsi); movdqa %xmm5, 32(%rsi); movntdq %xmm6, 48(%rsi); "
	      "lddqu 1(%rsi), %xmm7; movntps %xmm8, 16(%rsi); movupd %xmm9, %xmm10");
FDIFF(movd, "movd %eax, %xmm0; movd %xmm1, %ecx; movq %rax, %xmm2; movq %xmm3, %rdx; "
	    "add %rcx, %rax; add %rdx, %rax; movd (%rsi), %xmm4; movd %xmm5, 8(%rsi)");
FDIFF(movq, "movq %xmm1, %xmm0; movq (%rsi), %xmm2; movq %xmm3, 8(%rsi); "
	    ".byte 0x66, 0x0f, 0xd6, 0xe5"); /* movq xmm4, xmm5 via 66 0F D6 */
FDIFF(movmsk, "pmovmskb %xmm0, %eax; movmskps %xmm1, %ecx; shl $16, %rcx; or %rcx, %rax; "
	      "movmskpd %xmm2, %ecx; shl $20, %rcx; or %rcx, %rax");
FDIFF(pinsrw, "pinsrw $3, %eax, %xmm0; pinsrw $12, (%rsi), %xmm1; pextrw $5, %xmm2, %eax");
FDIFF(pshufd, "pshufd $0x1b, %xmm1, %xmm0; pshufhw $0x8d, %xmm3, %xmm2; "
	      "pshuflw $0x72, (%rsi), %xmm4");
FDIFF(padd, "paddb %xmm1, %xmm0; paddw %xmm3, %xmm2; paddd %xmm5, %xmm4; paddq %xmm7, %xmm6; "
	    "paddsb %xmm9, %xmm8; paddsw %xmm11, %xmm10; paddusb %xmm13, %xmm12; "
	    "paddusw %xmm15, %xmm14");
FDIFF(psub, "psubb %xmm1, %xmm0; psubw %xmm3, %xmm2; psubd %xmm5, %xmm4; psubq %xmm7, %xmm6; "
	    "psubsb %xmm9, %xmm8; psubsw %xmm11, %xmm10; psubusb %xmm13, %xmm12; "
	    "psubusw (%rsi), %xmm14");
FDIFF(pmul, "pmullw %xmm1, %xmm0; pmulhw %xmm3, %xmm2; pmulhuw %xmm5, %xmm4; "
	    "pmuludq %xmm7, %xmm6; pmaddwd %xmm9, %xmm8; psadbw %xmm11, %xmm10");
FDIFF(pcmp, "pcmpeqb %xmm1, %xmm0; pcmpeqw %xmm3, %xmm2; pcmpeqd %xmm5, %xmm4; "
	    "pcmpgtb %xmm7, %xmm6; pcmpgtw %xmm9, %xmm8; pcmpgtd %xmm11, %xmm10; "
	    "pcmpeqb %xmm12, %xmm12");
FDIFF(pminmax, "pminub %xmm1, %xmm0; pmaxub %xmm3, %xmm2; pminsw %xmm5, %xmm4; "
	       "pmaxsw %xmm7, %xmm6; pavgb %xmm9, %xmm8; pavgw %xmm11, %xmm10");
FDIFF(plogic, "pand %xmm1, %xmm0; pandn %xmm3, %xmm2; por %xmm5, %xmm4; pxor %xmm7, %xmm6; "
	      "pxor %xmm8, %xmm8");
FDIFF(pack, "packsswb %xmm1, %xmm0; packssdw %xmm3, %xmm2; packuswb %xmm5, %xmm4");
FDIFF(punpck, "punpcklbw %xmm1, %xmm0; punpcklwd %xmm3, %xmm2; punpckldq %xmm5, %xmm4; "
	      "punpcklqdq %xmm7, %xmm6; punpckhbw %xmm9, %xmm8; punpckhwd %xmm11, %xmm10; "
	      "punpckhdq %xmm13, %xmm12; punpckhqdq %xmm15, %xmm14");
FDIFF(pshift_i, "psllw $3, %xmm0; pslld $31, %xmm1; psllq $33, %xmm2; psrlw $15, %xmm3; "
		"psrld $7, %xmm4; psrlq $64, %xmm5; psraw $4, %xmm6; psrad $40, %xmm7; "
		"pslldq $3, %xmm8; psrldq $13, %xmm9; psrldq $16, %xmm10; psllw $16, %xmm11");
FDIFF(pshift_x, "psllw %xmm1, %xmm0; pslld %xmm3, %xmm2; psllq %xmm5, %xmm4; "
		"psrlw %xmm7, %xmm6; psrld %xmm9, %xmm8; psrlq %xmm11, %xmm10; "
		"psraw %xmm13, %xmm12; psrad %xmm15, %xmm14");
FDIFF(pshift_small, "movd %eax, %xmm1; psrlq $60, %xmm1; psllw %xmm1, %xmm0; "
		    "psrad %xmm1, %xmm2; psrlq %xmm1, %xmm3");

/* SSSE3 and SSE4.1 (the host has them: x86-64-v2 and later). */
FDIFF(ssse3_a, "pshufb %xmm1, %xmm0; phaddw %xmm3, %xmm2; phaddd %xmm5, %xmm4; "
	       "phaddsw %xmm7, %xmm6; pmaddubsw %xmm9, %xmm8; phsubw %xmm11, %xmm10; "
	       "phsubd %xmm13, %xmm12; phsubsw (%rsi), %xmm14");
FDIFF(ssse3_b, "psignb %xmm1, %xmm0; psignw %xmm3, %xmm2; psignd %xmm5, %xmm4; "
	       "pmulhrsw %xmm7, %xmm6; pabsb %xmm9, %xmm8; pabsw %xmm11, %xmm10; "
	       "pabsd %xmm13, %xmm12; palignr $5, %xmm15, %xmm14; palignr $19, %xmm1, %xmm2; "
	       "palignr $32, %xmm3, %xmm4");
FDIFF(sse41_a, "pblendvb %xmm0, %xmm2, %xmm1; blendvps %xmm0, %xmm4, %xmm3; "
	       "blendvpd %xmm0, %xmm6, %xmm5; blendps $5, %xmm8, %xmm7; blendpd $2, %xmm10, %xmm9; "
	       "pblendw $0x9a, %xmm12, %xmm11; ptest %xmm13, %xmm14");
FDIFF(sse41_b, "pmovsxbw %xmm1, %xmm0; pmovsxbd (%rsi), %xmm2; pmovsxbq %xmm3, %xmm4; "
	       "pmovsxwd %xmm5, %xmm6; pmovsxwq 2(%rsi), %xmm7; pmovsxdq %xmm8, %xmm9; "
	       "pmovzxbw 1(%rsi), %xmm10; pmovzxbd %xmm11, %xmm12; pmovzxbq %xmm13, %xmm14; "
	       "pmovzxwd %xmm15, %xmm1; pmovzxwq %xmm2, %xmm3; pmovzxdq %xmm4, %xmm5");
FDIFF(sse41_c, "pmuldq %xmm1, %xmm0; pmulld %xmm3, %xmm2; pcmpeqq %xmm5, %xmm4; "
	       "packusdw %xmm7, %xmm6; pminsb %xmm9, %xmm8; pmaxsb %xmm11, %xmm10; "
	       "pminuw %xmm13, %xmm12; pmaxuw %xmm15, %xmm14; pminsd %xmm1, %xmm2; "
	       "pmaxsd %xmm3, %xmm4; pminud %xmm5, %xmm6; pmaxud %xmm7, %xmm8; "
	       "phminposuw %xmm9, %xmm10; mpsadbw $5, %xmm11, %xmm12; movntdqa (%rsi), %xmm13");
FDIFF(sse41_d, "pextrb $9, %xmm0, %eax; pextrd $2, %xmm1, %ecx; add %rcx, %rax; "
	       "pextrq $1, %xmm2, %rcx; xor %rcx, %rax; extractps $3, %xmm3, (%rsi); "
	       "pextrw $6, %xmm4, 6(%rsi); pinsrb $7, %eax, %xmm5; pinsrd $1, 8(%rsi), %xmm6; "
	       "pinsrq $1, %rax, %xmm7; insertps $0x9c, %xmm9, %xmm8; insertps $0xe5, (%rsi), %xmm10; "
	       "pextrb $1, %xmm11, 12(%rsi)");
FDIFF(sse41_e, "push %rbp; mov %eax, %ebp; pinsrb $3, %ebp, %xmm0; pop %rbp");
FDIFF(round, "roundps $0, %xmm1, %xmm0; roundpd $1, %xmm3, %xmm2; roundss $10, %xmm5, %xmm4; "
	     "roundsd $4, %xmm7, %xmm6; roundps $15, (%rsi), %xmm8; roundsd $11, 8(%rsi), %xmm9");
FDIFF(dpps, "dpps $0xff, %xmm1, %xmm0; dpps $0x35, %xmm3, %xmm2; dpps $0xc2, %xmm5, %xmm4");
FDIFF(dppd, "dppd $0x31, %xmm1, %xmm0; dppd $0x12, %xmm3, %xmm2; dppd $0x23, %xmm5, %xmm4");

/* ---- x87 cases ----------------------------------------------------------------- */

FDIFF(fadd, "fadd %st(1), %st; fmul %st(2), %st");
FDIFF(fsub, "fsub %st(1), %st; fsubr %st(2), %st");
FDIFF(fdiv, "fdiv %st(1), %st; fdivr %st(3), %st");
FDIFF(fadd_to, "fadd %st, %st(2); fmul %st, %st(3)");
FDIFF(fsub_to, ".byte 0xdc, 0xe9; .byte 0xdc, 0xe2; .byte 0xdc, 0xf3; .byte 0xdc, 0xfc");
FDIFF(farithp, "faddp %st, %st(2); fmulp %st, %st(1); .byte 0xde, 0xe9; .byte 0xde, 0xe1");
FDIFF(fdivp, ".byte 0xde, 0xf9; .byte 0xde, 0xf1; fsubrp %st, %st(1)");
FDIFF(fadd_m, "fadds (%rsi); fmull 8(%rsi)");
FDIFF(fsub_m, "fsubs (%rsi); fsubrl 16(%rsi); fdivs 4(%rsi); fdivrl (%rsi)");
FDIFF(fiadd_m, "fiadds (%rsi); fimull 4(%rsi); fisubs 2(%rsi); fisubrl (%rsi); "
	       "fidivs 6(%rsi); fidivrl 16(%rsi)");
FDIFF(fsqrt, "fsqrt; fxch %st(2); frndint");
FDIFF(fscale, "fscale");
FDIFF(fprem, "fprem; fnstsw %ax; fprem1");
FDIFF(fxtract, "fxtract");
FDIFF(f2xm1, "f2xm1; fxch %st(1); fchs; fxch %st(2); fabs");
FDIFF(fyl2x, "fyl2x; fyl2xp1");
FDIFF(fpatan, "fpatan");
FDIFF(fptan, "fptan");
FDIFF(fsin, "fsin; fxch %st(1); fcos");
FDIFF(fsincos, "fsincos");
FDIFF(ftst, "ftst; fnstsw %ax; fxam; bswap %eax; fnstsw %ax");
FDIFF(fxam_e, "ffree %st(0); fxam; fnstsw %ax");
FDIFF(fld, "fld %st(3); flds (%rsi); fldl 8(%rsi)");
FDIFF(fld_t, "fldt 22(%rsi)");
FDIFF(fild, "filds (%rsi); fildl 4(%rsi); fildll 8(%rsi)");
FDIFF(fconst, "fld1; fldl2t; fldl2e; fldpi; fldlg2; fldln2; fldz");
FDIFF(fst, "fst %st(2); fstp %st(4); fsts (%rsi); fstpl 8(%rsi); fstpt 16(%rsi)");
FDIFF(fist, "fists (%rsi); fistpl 4(%rsi); fistpll 8(%rsi); fistl 16(%rsi)");
FDIFF(fisttp, "fisttps (%rsi); fisttpl 4(%rsi); fisttpll 8(%rsi)");
FDIFF(fbcd, "fbstp (%rsi); fbld (%rsi)");
FDIFF(fcom, "fcom %st(1); fnstsw %ax; fcomp %st(2); bswap %eax; fnstsw %ax; fcompp");
FDIFF(fucom, "fucom %st(1); fnstsw %ax; fucomp %st(2); bswap %eax; fnstsw %ax; fucompp");
FDIFF(fcom_m, "fcoms (%rsi); fnstsw %ax; fcompl 8(%rsi); bswap %eax; fnstsw %ax; "
	      "ficoms (%rsi); ficompl 4(%rsi)");
FDIFF(fcomi, "fcomi %st(1), %st; setb %al; setz %ah; fucomip %st(2), %st");
FDIFF(fcomi2, "fucomi %st(3), %st; setp %al; fcomip %st(1), %st");
FDIFF(fxch, "fxch %st(3); fxch %st(1)");
FDIFF(ffree, "ffree %st(2); fincstp; ffreep %st(0); fdecstp; fdecstp");
FDIFF(fcmov, "fcmovb %st(1), %st; fcmove %st(2), %st; fcmovbe %st(3), %st; fcmovu %st(4), %st; "
	     "fcmovnb %st(5), %st; fcmovne %st(6), %st; fcmovnbe %st(7), %st; fcmovnu %st(1), %st");
FDIFF(fctl, "fnstcw (%rsi); fnstsw 2(%rsi); fnclex; fldcw 4(%rsi); fnstsw %ax");
FDIFF(finit, "fninit; fld1; fwait");

#define SC(n) { #n, h_##n, g_##n##_start, g_##n##_end, K_PS }
#define DC(n) { #n, h_##n, g_##n##_start, g_##n##_end, K_PD }
#define IC(n) { #n, h_##n, g_##n##_start, g_##n##_end, K_INT }
#define XC(n) { #n, h_##n, g_##n##_start, g_##n##_end, K_X87 }

static const struct fcase fcases[] = {
	SC(addps), DC(addpd), SC(addss), DC(addsd), SC(subps), DC(subsd), SC(mulps),
	DC(mulsd), SC(divps), DC(divpd), SC(divss), SC(minps), DC(maxpd), DC(minsd),
	SC(maxss), SC(sqrtps), DC(sqrtsd), SC(sqrtss_m), SC(rcpps), SC(addps_m), DC(mulsd_m),
	SC(addss_m), SC(cmpps), SC(cmpps2), DC(cmppd), SC(cmpss), DC(cmpsd), SC(comiss),
	SC(ucomiss), DC(comisd), DC(ucomisd_m), SC(cvtsi2ss), DC(cvtsi2sd), SC(cvtss2si),
	SC(cvttss2si), DC(cvtsd2si), DC(cvttsd2si), SC(cvtps2pd), DC(cvtpd2ps), SC(cvtps2dq),
	IC(cvtps2dq), SC(haddps), DC(haddps), IC(logic), IC(shufps), SC(movs), IC(movhl),
	IC(movdup), IC(mov128), IC(movd), IC(movq), IC(movmsk), SC(movmsk), IC(pinsrw),
	IC(pshufd), IC(padd), IC(psub), IC(pmul), IC(pcmp), IC(pminmax), IC(plogic),
	IC(pack), IC(punpck), IC(pshift_i), IC(pshift_x), IC(pshift_small),
	IC(ssse3_a), IC(ssse3_b), IC(sse41_a), IC(sse41_b), IC(sse41_c), IC(sse41_d),
	IC(sse41_e), SC(round), DC(round), SC(dpps), DC(dppd),
	XC(fadd), XC(fsub), XC(fdiv), XC(fadd_to), XC(fsub_to), XC(farithp), XC(fdivp),
	XC(fadd_m), XC(fsub_m), XC(fiadd_m), XC(fsqrt), XC(fscale), XC(fprem), XC(fxtract),
	XC(f2xm1), XC(fyl2x), XC(fpatan), XC(fptan), XC(fsin), XC(fsincos), XC(ftst),
	XC(fxam_e), XC(fld), XC(fld_t), XC(fild), XC(fconst), XC(fst), XC(fist), XC(fisttp),
	XC(fbcd), XC(fcom), XC(fucom), XC(fcom_m), XC(fcomi), XC(fcomi2), XC(fxch), XC(ffree),
	XC(fcmov), XC(fctl), XC(finit),
};

static void test_differential(void)
{
	for (size_t c = 0; c < sizeof(fcases) / sizeof(fcases[0]); c++) {
		const struct fcase *fc = &fcases[c];
		int bad = 0;
		for (int iter = 0; iter < 3000 && bad < 1; iter++) {
			struct fstate in, h, g;
			random_state(&in, fc->kind);
			h = in;
			g = in;
			run_host(fc->host, &h);
			int vector;
			run_guest(fc, &g, &vector);
			test_checks++;
			if (vector != -1) {
				fprintf(stderr, "%s: guest raised vector %d\n", fc->name, vector);
				bad++;
			} else if (!same_state(fc, &in, &h, &g)) {
				bad++;
			}
		}
		test_failures += bad;
	}
}

/* ---- gates, faults and state ------------------------------------------------- */

GUEST_CODE(t_addps, "addps %xmm1, %xmm0");
GUEST_CODE(g_fadd1, "fadd %st(1), %st");
GUEST_CODE(g_fxsave, "fxsave (%rdi)");
GUEST_CODE(g_fxrstor, "fxrstor (%rdi)");
GUEST_CODE(g_fxsave64, "fxsave64 (%rdi)");
GUEST_CODE(g_fxrstor64, "fxrstor64 (%rdi)");
GUEST_CODE(g_movaps_m, "movaps (%rdi), %xmm0");
GUEST_CODE(g_movups_m, "movups (%rdi), %xmm0");
GUEST_CODE(g_paddb_m, "paddb (%rdi), %xmm0");
GUEST_CODE(g_movdqa_st, "movdqa %xmm0, (%rdi)");
GUEST_CODE(g_ldmxcsr, "ldmxcsr (%rdi)");
GUEST_CODE(g_stmxcsr, "stmxcsr (%rdi)");
GUEST_CODE(g_fwait, "fwait");
GUEST_CODE(g_fnstsw, "fnstsw %ax");
GUEST_CODE(g_fld1, "fld1");
GUEST_CODE(g_fldz_div, "fldz; fld1; fdivp; fld1");
GUEST_CODE(g_fnstenv, "fnstenv (%rdi)");
GUEST_CODE(g_fnsave_frstor, "fnsave (%rdi); fld1; frstor (%rdi)");
GUEST_CODE(g_fldenv, "fldenv (%rdi)");
GUEST_CODE(g_fxsave_frag, "fxsave 1(%rdi)");
GUEST_CODE(t_divss, "divss %xmm1, %xmm0");
GUEST_CODE(g_maskmov, "maskmovdqu %xmm1, %xmm0");
GUEST_CODE(g_movd_in, "movd %eax, %xmm0; movq %rcx, %xmm1; movq (%rdi), %xmm2");
GUEST_CODE(g_movd_out, "movd %xmm0, %eax; movq %xmm1, %rcx");
GUEST_CODE(g_movq_rr, "movq %xmm1, %xmm0");
GUEST_CODE(g_clflush, "clflush (%rdi); mfence; lfence; sfence");
GUEST_CODE(g_fpush9, "fld1; fld1; fld1; fld1; fld1; fld1; fld1; fld1; fld1");

static void test_gates(void)
{
	reset_long64();
	cpu->cr0 |= FPU_CR0_TS;
	CHECK_EQ(RUN(t_addps), EXC_NM);
	CHECK_EQ(RUN(g_fadd1), EXC_NM);
	cpu->gpr[R_RDI] = DATA;
	CHECK_EQ(RUN(g_fxsave), EXC_NM);
	CHECK_EQ(RUN(g_fnstsw), EXC_NM);
	/* FWAIT faults on TS only together with MP. */
	CHECK_EQ(RUN(g_fwait), EXC_NM);
	cpu->cr0 &= ~X86_CR0_MP;
	CHECK_EQ(RUN(g_fwait), -1);
	cpu->cr0 = (cpu->cr0 & ~FPU_CR0_TS) | FPU_CR0_EM;
	CHECK_EQ(RUN(t_addps), EXC_UD);
	CHECK_EQ(RUN(g_fadd1), EXC_NM);
	CHECK_EQ(RUN(g_fxsave), EXC_NM);
	cpu->cr0 &= ~FPU_CR0_EM;
	cpu->cr4 &= ~FPU_CR4_OSFXSR;
	CHECK_EQ(RUN(t_addps), EXC_UD);
	CHECK_EQ(RUN(g_ldmxcsr), EXC_UD);
	CHECK_EQ(RUN(g_fld1), -1);
	cpu->cr4 |= FPU_CR4_OSFXSR;
	CHECK_EQ(RUN(t_addps), -1);
}

static void test_alignment(void)
{
	reset_long64();
	cpu->gpr[R_RDI] = DATA + 8;
	CHECK_EQ(RUN(g_movaps_m), EXC_GP);
	CHECK_EQ(RUN(g_paddb_m), EXC_GP);
	CHECK_EQ(RUN(g_movdqa_st), EXC_GP);
	CHECK_EQ(RUN(g_fxsave), EXC_GP);
	CHECK_EQ(RUN(g_fxrstor), EXC_GP);
	CHECK_EQ(RUN(g_movups_m), -1);
	cpu->gpr[R_RDI] = DATA;
	CHECK_EQ(RUN(g_fxsave_frag), EXC_GP);
	CHECK_EQ(RUN(g_movaps_m), -1);
	/* Unmapped (beyond the 16 MiB identity map): #PF, and nothing changed. */
	cpu->gpr[R_RDI] = 0x4000000;
	cpu->xmm[0].q[0] = 0x1234;
	CHECK_EQ(RUN(g_movaps_m), EXC_PF);
	CHECK_EQ(cpu->xmm[0].q[0], 0x1234);
	CHECK_EQ(cpu->rip, CODE);
}

static void test_fxsave_roundtrip(void)
{
	reset_long64();
	for (int iter = 0; iter < 50; iter++) {
		struct fstate s;
		random_state(&s, K_X87);
		bool wide = iter & 1;
		/* FXRSTOR of a random image, FXSAVE, compare with what went in. */
		memcpy(gmem(DATA), s.fx, 512);
		memset(gmem(DATA + 512), 0xa5, 512);
		cpu->gpr[R_RDI] = DATA;
		CHECK_EQ(wide ? RUN(g_fxrstor64) : RUN(g_fxrstor), -1);
		cpu->gpr[R_RDI] = DATA + 512;
		CHECK_EQ(wide ? RUN(g_fxsave64) : RUN(g_fxsave), -1);
		const uint8_t *o = gmem(DATA + 512);
		CHECK(!memcmp(o, s.fx, 6));
		CHECK(!memcmp(o + 24, s.fx + 24, 8));
		for (unsigned r = 0; r < 8; r++)
			CHECK(!memcmp(o + 32 + 16 * r, s.fx + 32 + 16 * r, 10));
		CHECK(!memcmp(o + 160, s.fx + 160, 256));
		CHECK_EQ(o[500], 0xa5); /* the software-available area is left alone */
		/* And the state it restored is the one the handlers use. */
		CHECK_EQ(cpu->fpu.top, (s.fx[3] >> 3) & 7);
		CHECK_EQ(cpu->xmm[15].q[1], ((uint64_t *)(s.fx + 400))[1]);
	}
	/* FXSAVE64 keeps the whole FIP; the 32-bit form keeps its low half. */
	cpu->fpu.fip = 0x123456789abcULL;
	cpu->gpr[R_RDI] = DATA;
	RUN(g_fxsave64);
	uint64_t fip;
	memcpy(&fip, gmem(DATA + 8), 8);
	CHECK_EQ(fip, 0x123456789abcULL);
	/* Reserved MXCSR bits in the image: #GP, state untouched. */
	uint32_t bad = 0x10000 | 0x1f80;
	memcpy(gmem(DATA + 24), &bad, 4);
	cpu->mxcsr = 0x1f80;
	CHECK_EQ(RUN(g_fxrstor), EXC_GP);
	CHECK_EQ(cpu->mxcsr, 0x1f80);
	memcpy(gmem(DATA), &bad, 4);
	CHECK_EQ(RUN(g_ldmxcsr), EXC_GP);
	uint32_t ok = 0xffff;
	memcpy(gmem(DATA), &ok, 4);
	CHECK_EQ(RUN(g_ldmxcsr), -1);
	CHECK_EQ(cpu->mxcsr, 0xffff);
	CHECK_EQ(RUN(g_stmxcsr), -1);
	CHECK_EQ(*(uint32_t *)gmem(DATA), 0xffff);
}

static void test_sse_exceptions(void)
{
	reset_long64();
	float one = 1.0f, zero = 0.0f;
	memcpy(&cpu->xmm[0].d[0], &one, 4);
	memcpy(&cpu->xmm[1].d[0], &zero, 4);
	/* Masked: infinity and ZE set. */
	CHECK_EQ(RUN(t_divss), -1);
	CHECK_EQ(cpu->xmm[0].d[0], 0x7f800000);
	CHECK_EQ(cpu->mxcsr & 0x3f, 0x04);
	/* ZE unmasked: #XM, destination untouched, the flag recorded. */
	memcpy(&cpu->xmm[0].d[0], &one, 4);
	cpu->mxcsr = 0x1f80 & ~0x200;
	CHECK_EQ(RUN(t_divss), EXC_XM);
	CHECK_EQ(cpu->xmm[0].d[0], 0x3f800000);
	CHECK_EQ(cpu->mxcsr & 0x3f, 0x04);
	cpu->cr4 &= ~FPU_CR4_OSXMMEXCPT;
	CHECK_EQ(RUN(t_divss), EXC_UD);
}

static void test_x87_exceptions(void)
{
	reset_long64();
	/* Masked: 1/0 = +inf with ZE; the stack holds it. */
	CHECK_EQ(RUN(g_fldz_div), -1);
	CHECK_EQ(cpu->fpu.fsw & FSW_ZE, FSW_ZE);
	CHECK_EQ(cpu->fpu.top, 6);
	/* Unmasked ZE: the divide leaves the stack alone, the next waiting
	 * instruction (FLD1) raises #MF; FNSTSW does not. */
	reset_long64();
	cpu->fpu.fcw = FCW_DEFAULT & ~FSW_ZE;
	CHECK_EQ(RUN(g_fldz_div), EXC_MF);
	CHECK_EQ(cpu->fpu.top, 6); /* fldz, fld1 pushed; fdivp did not pop */
	CHECK_EQ(cpu->fpu.fsw & (FSW_ES | FSW_B | FSW_ZE), FSW_ES | FSW_B | FSW_ZE);
	CHECK_EQ(RUN(g_fnstsw), -1);
	CHECK_EQ(cpu->gpr[R_RAX] & 0xffff, x87_fsw(cpu));
	CHECK_EQ(RUN(g_fwait), EXC_MF);
	/* CR0.NE=0: no #MF (FERR# is not modelled). */
	cpu->cr0 &= ~X86_CR0_NE;
	CHECK_EQ(RUN(g_fwait), -1);
	/* Stack overflow, masked: IE|SF|C1 and the indefinite on top. */
	reset_long64();
	CHECK_EQ(RUN(g_fpush9), -1);
	CHECK_EQ(cpu->fpu.fsw & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF | FSW_C1);
	uint8_t b[10];
	x87_to_bytes(cpu->fpu.st[cpu->fpu.top], b);
	CHECK_EQ(b[9], 0xff);
	CHECK_EQ(b[7], 0xc0);
}

static void test_x87_env(void)
{
	reset_long64();
	cpu->gpr[R_RDI] = DATA;
	CHECK_EQ(RUN(g_fld1), -1);
	cpu->fpu.fcw = 0x0c7a; /* round toward zero, two exceptions unmasked */
	CHECK_EQ(RUN(g_fnstenv), -1);
	const uint8_t *e = gmem(DATA);
	CHECK_EQ(*(uint16_t *)e, 0x0c7a);
	CHECK_EQ(*(uint16_t *)(e + 2), 0xffff);
	CHECK_EQ(*(uint16_t *)(e + 4), 7u << 11);
	CHECK_EQ(*(uint16_t *)(e + 8), 0x3fff); /* ST(0) = physical 7 valid, the rest empty */
	CHECK_EQ(cpu->fpu.fcw, 0x0c7f);          /* FNSTENV masks everything */
	CHECK_EQ(RUN(g_fldenv), -1);
	CHECK_EQ(cpu->fpu.fcw, 0x0c7a);
	CHECK_EQ(cpu->fpu.top, 7);
	CHECK_EQ(cpu->fpu.ftw_abridged, 0x80);
	/* FNSAVE reinitialises; FRSTOR brings everything back. */
	uint8_t before[10];
	x87_to_bytes(cpu->fpu.st[7], before);
	CHECK_EQ(RUN(g_fnsave_frstor), -1);
	CHECK_EQ(cpu->fpu.top, 7);
	CHECK_EQ(cpu->fpu.ftw_abridged, 0x80);
	CHECK_EQ(cpu->fpu.fcw, 0x0c7a);
	uint8_t after[10];
	x87_to_bytes(cpu->fpu.st[7], after);
	CHECK(!memcmp(before, after, 10));
}

static void test_moves(void)
{
	reset_long64();
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RAX] = 0xffffffff80000001ULL;
	cpu->gpr[R_RCX] = 0x1122334455667788ULL;
	memset(cpu->xmm, 0xee, sizeof(cpu->xmm));
	uint64_t m = 0xaabbccddeeff0011ULL;
	memcpy(gmem(DATA), &m, 8);
	CHECK_EQ(RUN(g_movd_in), -1);
	CHECK_EQ(cpu->xmm[0].q[0], 0x80000001);
	CHECK_EQ(cpu->xmm[0].q[1], 0);
	CHECK_EQ(cpu->xmm[1].q[0], 0x1122334455667788ULL);
	CHECK_EQ(cpu->xmm[1].q[1], 0);
	CHECK_EQ(cpu->xmm[2].q[0], m);
	CHECK_EQ(cpu->xmm[2].q[1], 0);
	cpu->xmm[0].q[0] = 0x9999999912345678ULL;
	cpu->xmm[1].q[0] = 0x0102030405060708ULL;
	cpu->gpr[R_RAX] = ~0ULL;
	CHECK_EQ(RUN(g_movd_out), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 0x12345678); /* 32-bit GPR writes zero-extend */
	CHECK_EQ(cpu->gpr[R_RCX], 0x0102030405060708ULL);
	cpu->xmm[0].q[1] = 5;
	CHECK_EQ(RUN(g_movq_rr), -1);
	CHECK_EQ(cpu->xmm[0].q[0], 0x0102030405060708ULL);
	CHECK_EQ(cpu->xmm[0].q[1], 0);
	/* MASKMOVDQU writes only the selected bytes at DS:RDI. */
	memset(gmem(DATA), 0x55, 16);
	for (int k = 0; k < 16; k++) {
		cpu->xmm[0].b[k] = (uint8_t)(0x10 + k);
		cpu->xmm[1].b[k] = (k % 3 == 0) ? 0x80 : 0x7f;
	}
	CHECK_EQ(RUN(g_maskmov), -1);
	for (int k = 0; k < 16; k++)
		CHECK_EQ(gmem(DATA)[k], k % 3 == 0 ? 0x10 + k : 0x55);
	CHECK_EQ(RUN(g_clflush), -1);
	cpu->gpr[R_RDI] = 0x4000000;
	CHECK_EQ(RUN(g_clflush), EXC_PF);
}

int main(void)
{
	if (vm_init(&vm, 1) || guest_mem_init(&vm.mem, 64ULL << 20, 0xc0000000ULL)) {
		fprintf(stderr, "cannot create the test VM\n");
		return 1;
	}
	cpu = aligned_alloc(64, (sizeof(*cpu) + 63) & ~(size_t)63);
	memset(cpu, 0, sizeof(*cpu));
	cpu->vm = &vm;
	mmu_cpu_init(cpu);
	exec_table_init();
	build_page_tables();
	reset_long64();
	/* FPU_SEED=n explores other operands (the default run is reproducible). */
	const char *seed = getenv("FPU_SEED");
	if (seed)
		rng_state ^= strtoull(seed, NULL, 0) * 0x9e3779b97f4a7c15ULL;

	test_gates();
	test_alignment();
	test_fxsave_roundtrip();
	test_sse_exceptions();
	test_x87_exceptions();
	test_x87_env();
	test_moves();
	test_differential();
	return test_exit();
}
