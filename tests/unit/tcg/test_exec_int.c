/*
 * The integer, control-flow, string and I/O handlers, run through
 * cpu_step() on a vCPU in 64-bit long mode (identity-mapped page tables in
 * guest RAM), plus a 32-bit protected-mode vCPU for what 64-bit mode
 * lacks (BCD, PUSHA/POPA).
 *
 * Guest code is assembled by the host toolchain (GUEST_CODE), so tests
 * read as assembly. The differential part executes the very same
 * instruction text natively in this process (we run on x86-64) with
 * random operands and random incoming flags, and compares registers and
 * the arithmetic flags the SDM defines. The masks of undefined flags:
 *   logic ops (AND OR XOR TEST): AF
 *   shifts: AF; OF unless the masked count is 1; CF for SHL/SHR when the
 *           count >= operand width; SHLD/SHRD likewise
 *   rotates: OF unless the masked count is 1
 *   MUL/IMUL: SF ZF AF PF
 *   BT*: OF SF AF PF;  BSF/BSR: all but ZF;  TZCNT/LZCNT: OF SF AF PF
 *   DIV/IDIV: all six
 */
#include "accel/tcg/codecache.h"
#include "accel/tcg/exec.h"
#include "core/mem.h"
#include "core/vm.h"
#include "tcgtest.h"
#include "test.h"

#include <cpuid.h>
#include <setjmp.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wclobbered"

#define CODE 0x10000ULL
#define STACK_TOP 0x80000ULL
#define DATA 0x200000ULL
#define PT4K 0x800000ULL         /* 2 MiB mapped with 4K pages */
#define HOLE (PT4K + 0x5000)     /* a not-present page inside it */

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
	uint64_t *pd = (uint64_t *)gmem(0x3000), *pt = (uint64_t *)gmem(0x4000);
	memset(pml4, 0, 0x4000);
	pml4[0] = 0x2000 | 7;
	pdpt[0] = 0x3000 | 7;
	for (int k = 0; k < 8; k++)
		pd[k] = ((uint64_t)k << 21) | 0x87; /* 2 MiB pages, P W U PS */
	pd[4] = 0x4000 | 7;
	for (int k = 0; k < 512; k++)
		pt[k] = (PT4K + ((uint64_t)k << 12)) | 7;
	pt[(HOLE - PT4K) >> 12] = 0;
}

static void reset_long64(void)
{
	struct x86_cpu_state s;
	x86_state_long64(&s, 0x1000, 0x500, 0x1f);
	s.gpr[R_RSP] = STACK_TOP;
	cpu_load_state(cpu, &s);
	cpu->exc_vector = -1;
}

static void reset_flat32(void)
{
	struct x86_cpu_state s;
	x86_state_flat32(&s, 0x500, 0x1f);
	s.gpr[R_RSP] = STACK_TOP;
	cpu_load_state(cpu, &s);
	cpu->exc_vector = -1;
}

/*
 * Block mode runs code as cpu_run does: decoded blocks through
 * cpu_exec_block, with the JIT's host code where it applies (jit.h). The
 * code gets a UD2 after it, so that the last block ends there.
 */
static bool block_mode;
static struct code_pages code_pages;

/* The most instructions one cpu_exec_block call of the last run_blocks
 * retired, and how many calls it made. */
static uint64_t blocks_max_call, blocks_calls;

/* Runs blocks from rip until the UD2 at end: -1 there, else the vector
 * raised (-2: never got there). */
static int run_blocks_at(uint64_t rip, uint64_t end)
{
	cpu->rip = rip;
	cpu->exc_vector = -1;
	blocks_max_call = 0;
	blocks_calls = 0;
	if (setjmp(cpu->exc_jmp)) {
		cpu->rip = cpu->insn_rip;
		if (cpu->exc_vector == EXC_UD && cpu->rip == end)
			return -1;
		return cpu->exc_vector;
	}
	for (int n = 0; n < 1000000; n++) {
		uint64_t before = cpu->icount;
		blocks_calls++;
		cpu_exec_block(cpu);
		if (cpu->icount - before > blocks_max_call)
			blocks_max_call = cpu->icount - before;
	}
	return -2;
}

static int run_blocks(const uint8_t *start, const uint8_t *end)
{
	size_t len = (size_t)(end - start);
	memcpy(gmem(CODE), start, len);
	memcpy(gmem(CODE + len), "\x0f\x0b", 2);
	code_pages_written(&code_pages, gmem(CODE), len + 2);
	return run_blocks_at(CODE, CODE + len);
}

/* Runs the code until it falls off its end (block mode: reaches the UD2
 * after it); returns -1, or the vector raised. */
static int run(const uint8_t *start, const uint8_t *end)
{
	if (block_mode)
		return run_blocks(start, end);
	return tcgtest_run(cpu, gmem(CODE), CODE, start, end, 1000000);
}

#define RUN(name) run(name##_start, name##_end)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	return tcgtest_rnd(&rng_state);
}

/* Operands with the edge cases over-represented. */
static uint64_t rnd_operand(void)
{
	static const uint64_t edges[] = {
		0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, 0x0f, 0x10,
	};
	uint64_t r = rnd();
	switch (r & 7) {
	case 0: return edges[(r >> 8) & 15];
	case 1: return edges[(r >> 8) & 15] + ((r >> 16) & 3) - 1;
	case 2: return (r >> 8) & 0xff;
	default: return rnd();
	}
}

/* ---- differential tests against the host CPU ----------------------------------- */

struct regs4 {
	uint64_t a, b, c, d, f;
};

typedef void (*host_fn)(struct regs4 *r);

/*
 * One instruction text, run natively by a small assembly function (so the
 * text is shared verbatim with the guest copy: no operand escaping) and
 * by the interpreter. The host function loads rAX..rDX and the flags from
 * the struct regs4 at rdi, runs the text and stores them back.
 */
#define DIFF(name, text)                                                  \
	GUEST_CODE(g_##name, text);                                       \
	void h_##name(struct regs4 *r);                                   \
	__asm__(".pushsection .text\n.globl h_" #name "\n"                \
		".type h_" #name ", @function\nh_" #name ":\n"             \
		"push %rbx\n mov 0(%rdi), %rax\n mov 8(%rdi), %rbx\n"     \
		"mov 16(%rdi), %rcx\n mov 24(%rdi), %rdx\n pushq 32(%rdi)\n" \
		"popfq\n" text "\n pushfq\n popq 32(%rdi)\n"               \
		"mov %rax, 0(%rdi)\n mov %rbx, 8(%rdi)\n mov %rcx, 16(%rdi)\n" \
		"mov %rdx, 24(%rdi)\n pop %rbx\n ret\n.popsection\n")

enum mask_kind { M_ALL, M_LOGIC, M_SHIFT, M_ROT, M_MUL, M_BT, M_BSF, M_CNT, M_DSHIFT, M_DIV };

struct diff_case {
	const char *name;
	host_fn host;
	const uint8_t *start, *end;
	enum mask_kind mask;
	unsigned size; /* operand width in bytes (count masking) */
	bool shift_left_right; /* SHL/SHR: CF undefined for count >= width */
};

/* The flags the SDM defines for this case and these inputs. */
static uint64_t defined_flags(const struct diff_case *c, const struct regs4 *in)
{
	unsigned bits = c->size * 8, cnt = (unsigned)in->c & (c->size == 8 ? 63 : 31);
	uint64_t m = F_ARITH;
	switch (c->mask) {
	case M_ALL: break;
	case M_LOGIC: m &= ~(uint64_t)F_AF; break;
	case M_SHIFT:
	case M_DSHIFT:
		m &= ~(uint64_t)F_AF;
		if (cnt != 1)
			m &= ~(uint64_t)F_OF;
		if ((c->shift_left_right || c->mask == M_DSHIFT) && cnt >= bits)
			m &= ~(uint64_t)F_CF;
		break;
	case M_ROT:
		if (cnt != 1)
			m &= ~(uint64_t)F_OF;
		break;
	case M_MUL: m &= ~(uint64_t)(F_SF | F_ZF | F_AF | F_PF); break;
	case M_BT: m &= ~(uint64_t)(F_OF | F_SF | F_AF | F_PF); break;
	case M_BSF: m = F_ZF; break;
	case M_CNT: m &= ~(uint64_t)(F_OF | F_SF | F_AF | F_PF); break;
	case M_DIV: m = 0; break;
	}
	return m;
}

DIFF(add8, "add %bl, %al");
DIFF(add16, "add %bx, %ax");
DIFF(add32, "add %ebx, %eax");
DIFF(add64, "add %rbx, %rax");
DIFF(adc8, "adc %bl, %al");
DIFF(adc16, "adc %bx, %ax");
DIFF(adc32, "adc %ebx, %eax");
DIFF(adc64, "adc %rbx, %rax");
DIFF(sub8, "sub %bl, %al");
DIFF(sub16, "sub %bx, %ax");
DIFF(sub32, "sub %ebx, %eax");
DIFF(sub64, "sub %rbx, %rax");
DIFF(sbb8, "sbb %bl, %al");
DIFF(sbb16, "sbb %bx, %ax");
DIFF(sbb32, "sbb %ebx, %eax");
DIFF(sbb64, "sbb %rbx, %rax");
DIFF(cmp8, "cmp %bl, %al");
DIFF(cmp64, "cmp %rbx, %rax");
DIFF(addi8, "add $0x81, %al");
DIFF(subi64, "sub $-3, %rax");
DIFF(and32, "and %ebx, %eax");
DIFF(or16, "or %bx, %ax");
DIFF(xor64, "xor %rbx, %rax");
DIFF(test8, "test %bl, %al");
DIFF(inc8, "inc %al");
DIFF(inc64, "inc %rax");
DIFF(dec16, "dec %ax");
DIFF(dec32, "dec %eax");
DIFF(neg8, "neg %al");
DIFF(neg32, "neg %eax");
DIFF(neg64, "neg %rax");
DIFF(not16, "not %ax");
DIFF(shl8, "shl %cl, %al");
DIFF(shl16, "shl %cl, %ax");
DIFF(shl32, "shl %cl, %eax");
DIFF(shl64, "shl %cl, %rax");
DIFF(shr8, "shr %cl, %al");
DIFF(shr32, "shr %cl, %eax");
DIFF(shr64, "shr %cl, %rax");
DIFF(sar8, "sar %cl, %al");
DIFF(sar16, "sar %cl, %ax");
DIFF(sar64, "sar %cl, %rax");
DIFF(shl1_32, "shl $1, %eax");
DIFF(rol8, "rol %cl, %al");
DIFF(rol16, "rol %cl, %ax");
DIFF(rol32, "rol %cl, %eax");
DIFF(rol64, "rol %cl, %rax");
DIFF(ror8, "ror %cl, %al");
DIFF(ror64, "ror %cl, %rax");
DIFF(rcl8, "rcl %cl, %al");
DIFF(rcl16, "rcl %cl, %ax");
DIFF(rcl32, "rcl %cl, %eax");
DIFF(rcl64, "rcl %cl, %rax");
DIFF(rcr8, "rcr %cl, %al");
DIFF(rcr16, "rcr %cl, %ax");
DIFF(rcr32, "rcr %cl, %eax");
DIFF(rcr64, "rcr %cl, %rax");
DIFF(shld32, "shld %cl, %ebx, %eax");
DIFF(shld64, "shld %cl, %rbx, %rax");
DIFF(shrd32, "shrd %cl, %ebx, %eax");
DIFF(shrd64, "shrd %cl, %rbx, %rax");
DIFF(shld16, "shld %cl, %bx, %ax");
DIFF(shrd16, "shrd %cl, %bx, %ax");
DIFF(mul8, "mul %bl");
DIFF(mul16, "mul %bx");
DIFF(mul32, "mul %ebx");
DIFF(mul64, "mul %rbx");
DIFF(imul1_8, "imul %bl");
DIFF(imul1_64, "imul %rbx");
DIFF(imul2_16, "imul %bx, %ax");
DIFF(imul2_32, "imul %ebx, %eax");
DIFF(imul2_64, "imul %rbx, %rax");
DIFF(imul3_32, "imul $-7, %ebx, %eax");
DIFF(imul3_64, "imul $0x12345, %rbx, %rax");
DIFF(bt32, "bt %ebx, %eax");
DIFF(bts64, "bts %rbx, %rax");
DIFF(btr16, "btr %bx, %ax");
DIFF(btc32, "btc %ebx, %eax");
DIFF(bsf32, "bsf %ebx, %eax");
DIFF(bsr64, "bsr %rbx, %rax");
DIFF(bsf16, "bsf %bx, %ax");
DIFF(popcnt64, "popcnt %rbx, %rax");
DIFF(popcnt16, "popcnt %bx, %ax");
DIFF(cmpxchg8, "cmpxchg %bl, %cl");
DIFF(cmpxchg32, "cmpxchg %ebx, %ecx");
DIFF(cmpxchg64, "cmpxchg %rbx, %rcx");
DIFF(xadd32, "xadd %ebx, %ecx");
DIFF(xadd8, "xadd %bl, %cl");
DIFF(cbw, "cbw");
DIFF(cwde, "cwde");
DIFF(cdqe, "cdqe");
DIFF(cwd, "cwd");
DIFF(cdq, "cdq");
DIFF(cqo, "cqo");
DIFF(lahf, "lahf");
DIFF(sahf, "sahf");
DIFF(cmc, "cmc");
DIFF(bswap32, "bswap %eax");
DIFF(bswap64, "bswap %rbx");
DIFF(movsx, "movsbq %bl, %rax; movswl %cx, %edx");
DIFF(movzx, "movzbl %bh, %eax; movzwq %cx, %rdx");
DIFF(cmov32f, "cmovz %ebx, %eax; cmovnz %ebx, %ecx");
DIFF(cmp_set, "cmp %rbx, %rax; setb %al; setbe %ah; setl %cl; setle %ch; setz %dl; sets %dh; seto %bl; setp %bh");
DIFF(sub_set8, "sub %bl, %al; setg %cl; setge %ch; seta %dl; setae %dh");
DIFF(inc_set, "inc %ax; setz %cl; seto %ch; setc %dl; setp %dh");
DIFF(adc_chain, "add %rbx, %rax; adc %rcx, %rdx; sbb %rax, %rcx");
DIFF(test_jcc, "test %eax, %ebx; cmovs %rcx, %rdx; cmovle %rbx, %rax");
DIFF(shl_cmov, "shl %cl, %rax; cmovb %rbx, %rdx; cmovs %rcx, %rbx");
/*
 * Sequences whose flag readers (SETcc, CMOVcc, ADC/SBB, INC/DEC, rotates)
 * meet each lazy record kind the specialised handlers answer inline
 * (exec_int.h cc_cond_fixed, cc_flags): ADD/ADC/SBB/INC/DEC carries,
 * logic and eager flags, shifts and IMUL through flags.c. Only flags the
 * SDM defines at each point are captured.
 */
DIFF(add_flags, "add %rbx, %rax; setb %cl; seto %ch; setbe %dl; setl %dh; adc %rax, %rbx");
DIFF(adc_chain2, "add %ebx, %eax; adc %ecx, %edx; adc %eax, %ebx; setb %cl; setae %ch; sbb %edx, %ecx");
DIFF(sbb_chain, "sub %rbx, %rax; sbb %rcx, %rdx; sbb %rax, %rbx; cmovb %rax, %rcx; cmovae %rbx, %rdx; sbb %eax, %eax");
DIFF(incdec_cf, "inc %rax; adc %rbx, %rcx; dec %edx; setc %bl; inc %ecx; sbb %eax, %edx");
DIFF(rot_logic, "xor %eax, %ebx; ror $7, %eax; setz %cl; setb %ch; rol $3, %rbx; sets %dl; setb %dh; add %rcx, %rdx");
DIFF(rot_add, "add %rbx, %rax; ror $5, %ecx; setp %bl; setb %bh; rol $1, %edx; seto %bl; setz %al; add %rbx, %rcx");
DIFF(shift_imm, "shl $3, %rax; setb %cl; shr $1, %ebx; seto %ch; setb %dl; sar $0, %edx; sets %dh; shr $33, %rcx; setnz %bl; sar $1, %eax; setb %bh; add %rdx, %rax");
DIFF(imul_flags, "imul %rbx, %rax; setb %cl; seto %ch; imul $-3, %edx, %ebx; setb %dl; imul $0x1234567, %rcx, %rdx; seto %dh; add %rax, %rbx");
DIFF(byte_alu, "cmp %bl, %al; setae %cl; sbb %dl, %dl; test $0x80, %bl; sete %dh; and $0x7f, %al; or %al, %bl; adc %bl, %cl; cmp $5, %cl; setg %ah; add %ah, %bl; xor $0x5a, %al; sub %cl, %bl");
DIFF(neg_not, "neg %rax; setb %cl; not %ebx; neg %edx; sbb %ecx, %ecx; setl %ch; not %rdx; dec %rax; inc %edx");
DIFF(ext_moves, "movzbl %bl, %eax; movzbl %bh, %ecx; movsbq %dl, %rdx; movsbl %bh, %edx; movslq %ecx, %rbx; .byte 0x63, 0xd8; movswl %ax, %eax; movzwq %bx, %rcx; movswq %cx, %rdx");
DIFF(lea_forms, "lea 8(%rax,%rbx,4), %ecx; lea -1(%rbx), %rdx; lea 0x10(,%rax,8), %rbx; lea (%rcx,%rdx), %eax");
DIFF(xchg_regs, "xchg %eax, %ebx; xchg %rcx, %rdx; xchg %ebx, %ecx; xchg %rax, %rdx");
DIFF(cmov_cc, "cmp %ebx, %eax; cmovg %ecx, %edx; cmovbe %rcx, %rbx; cmova %eax, %ecx; cmovo %edx, %eax; cmovp %ebx, %edx; cmovnl %rax, %rcx");
DIFF(eager_cond, "rol $1, %rax; setb %cl; seto %ch; sete %dl; cmovs %rbx, %rdx; cmovle %rax, %rbx; setp %dh; cmovnbe %rcx, %rax; adc $7, %rcx");
DIFF(stack_ops, "push %rax; push $-5; push $0x12345678; pop %rcx; pop %rdx; pop %rbx; push %rbx; pop %rax");
DIFF(mov_forms, "mov %eax, %ebx; mov %rcx, %rdx; mov $-2, %ecx; movb $0x81, %al; mov %bl, %ah; mov %dh, %cl; movw $0x1234, %dx; movq $-7, %rbx");
DIFF(sub_rot, "sub %rbx, %rax; rol $1, %ecx");
DIFF(add_rot, "add %ebx, %eax; ror $1, %rcx");
DIFF(add_rot8, "add %bx, %ax; ror $1, %dl");
/* Shifts and rotates whose flags are overwritten before anything reads
 * them (the JIT drops their flag work in block mode). */
DIFF(dead_flags, "ror $7, %eax; mov %eax, %ebx; xor %ebx, %ecx; rol $3, %rcx; lea 1(%rcx), %rcx;"
		 " add %rbx, %rcx; shr $2, %edx; sub %ecx, %edx; sar $1, %rcx; and %rcx, %rax;"
		 " shl $0, %edx; or %edx, %eax; rol $1, %eax; cmp %eax, %ebx");
/* Jcc right after ALU operations, every condition, both ways (the JIT
 * takes the not-taken side from the host's flags in block mode). */
DIFF(alu_jcc1, "cmp %rbx, %rax; jb 1f; inc %ecx; 1: sub %ecx, %edx; jle 2f; add $3, %rdx; 2:"
	       " test %eax, %ebx; js 3f; xor $5, %ebx; 3: add %rax, %rcx; jo 4f; not %rdx; 4:"
	       " cmp %ecx, %edx; jg 5f; dec %rax; 5: and %ebx, %eax; jp 6f; neg %rcx; 6:"
	       " cmp %edx, %eax; jae 7f; inc %rbx; 7: sub %rbx, %rcx; jnz 8f; inc %rdx; 8: nop");
DIFF(alu_jcc2, "cmp %rbx, %rax; ja 1f; inc %ecx; 1: sub %ecx, %edx; jbe 2f; add $3, %rdx; 2:"
	       " test %eax, %ebx; jns 3f; xor $5, %ebx; 3: add %rax, %rcx; jno 4f; not %rdx; 4:"
	       " cmp %ecx, %edx; jl 5f; dec %rax; 5: or %ebx, %eax; jnp 6f; neg %rcx; 6:"
	       " cmp $7, %eax; jge 7f; inc %rbx; 7: xor %rbx, %rcx; jz 8f; inc %rdx; 8:"
	       " add $-1, %edx; jc 9f; inc %rax; 9: nop");
/* ALU operations reading memory (the JIT's inline TLB path in block mode). */
DIFF(alu_mem, "push %rbx; add (%rsp), %rax; setc %dl; sub 4(%rsp), %ecx; seto %dh; cmp (%rsp), %rcx;"
	      " setb %bl; test %edx, (%rsp); sete %bh; cmpl $5, 4(%rsp); setl %cl; and (%rsp), %edx;"
	      " or (%rsp), %rax; xor 2(%rsp), %ecx; cmpq $-3, (%rsp); pop %rbx; jle 1f; inc %rax; 1: nop");
DIFF(lzcnt32, "lzcnt %ebx, %eax");
DIFF(tzcnt64, "tzcnt %rbx, %rax");
DIFF(div64, "div %rbx");
DIFF(idiv32, "idiv %ebx");
DIFF(div8, "div %bl");
DIFF(idiv16, "idiv %bx");

#define C(n, m, sz) { #n, h_##n, g_##n##_start, g_##n##_end, m, sz, false }
#define CSH(n, sz) { #n, h_##n, g_##n##_start, g_##n##_end, M_SHIFT, sz, true }

static const struct diff_case diff_cases[] = {
	C(add8, M_ALL, 1), C(add16, M_ALL, 2), C(add32, M_ALL, 4), C(add64, M_ALL, 8),
	C(adc8, M_ALL, 1), C(adc16, M_ALL, 2), C(adc32, M_ALL, 4), C(adc64, M_ALL, 8),
	C(sub8, M_ALL, 1), C(sub16, M_ALL, 2), C(sub32, M_ALL, 4), C(sub64, M_ALL, 8),
	C(sbb8, M_ALL, 1), C(sbb16, M_ALL, 2), C(sbb32, M_ALL, 4), C(sbb64, M_ALL, 8),
	C(cmp8, M_ALL, 1), C(cmp64, M_ALL, 8), C(addi8, M_ALL, 1), C(subi64, M_ALL, 8),
	C(and32, M_LOGIC, 4), C(or16, M_LOGIC, 2), C(xor64, M_LOGIC, 8), C(test8, M_LOGIC, 1),
	C(inc8, M_ALL, 1), C(inc64, M_ALL, 8), C(dec16, M_ALL, 2), C(dec32, M_ALL, 4),
	C(neg8, M_ALL, 1), C(neg32, M_ALL, 4), C(neg64, M_ALL, 8), C(not16, M_ALL, 2),
	CSH(shl8, 1), CSH(shl16, 2), CSH(shl32, 4), CSH(shl64, 8),
	CSH(shr8, 1), CSH(shr32, 4), CSH(shr64, 8),
	C(sar8, M_SHIFT, 1), C(sar16, M_SHIFT, 2), C(sar64, M_SHIFT, 8),
	{ "shl1_32", h_shl1_32, g_shl1_32_start, g_shl1_32_end, M_LOGIC, 4, false },
	C(rol8, M_ROT, 1), C(rol16, M_ROT, 2), C(rol32, M_ROT, 4), C(rol64, M_ROT, 8),
	C(ror8, M_ROT, 1), C(ror64, M_ROT, 8),
	C(rcl8, M_ROT, 1), C(rcl16, M_ROT, 2), C(rcl32, M_ROT, 4), C(rcl64, M_ROT, 8),
	C(rcr8, M_ROT, 1), C(rcr16, M_ROT, 2), C(rcr32, M_ROT, 4), C(rcr64, M_ROT, 8),
	C(shld32, M_DSHIFT, 4), C(shld64, M_DSHIFT, 8), C(shrd32, M_DSHIFT, 4),
	C(shrd64, M_DSHIFT, 8), C(shld16, M_DSHIFT, 2), C(shrd16, M_DSHIFT, 2),
	C(mul8, M_MUL, 1), C(mul16, M_MUL, 2), C(mul32, M_MUL, 4), C(mul64, M_MUL, 8),
	C(imul1_8, M_MUL, 1), C(imul1_64, M_MUL, 8), C(imul2_16, M_MUL, 2),
	C(imul2_32, M_MUL, 4), C(imul2_64, M_MUL, 8), C(imul3_32, M_MUL, 4),
	C(imul3_64, M_MUL, 8),
	C(bt32, M_BT, 4), C(bts64, M_BT, 8), C(btr16, M_BT, 2), C(btc32, M_BT, 4),
	C(bsf32, M_BSF, 4), C(bsr64, M_BSF, 8), C(bsf16, M_BSF, 2),
	C(popcnt64, M_ALL, 8), C(popcnt16, M_ALL, 2),
	C(cmpxchg8, M_ALL, 1), C(cmpxchg32, M_ALL, 4), C(cmpxchg64, M_ALL, 8),
	C(xadd32, M_ALL, 4), C(xadd8, M_ALL, 1),
	C(cbw, M_ALL, 2), C(cwde, M_ALL, 4), C(cdqe, M_ALL, 8), C(cwd, M_ALL, 2),
	C(cdq, M_ALL, 4), C(cqo, M_ALL, 8), C(lahf, M_ALL, 1), C(sahf, M_ALL, 1),
	C(cmc, M_ALL, 1), C(bswap32, M_ALL, 4), C(bswap64, M_ALL, 8),
	C(movsx, M_ALL, 8), C(movzx, M_ALL, 8), C(cmov32f, M_ALL, 4), C(cmp_set, M_ALL, 8),
	C(sub_set8, M_ALL, 1), C(inc_set, M_ALL, 2), C(adc_chain, M_ALL, 8),
	C(test_jcc, M_LOGIC, 4), C(shl_cmov, M_SHIFT, 8),
	C(add_flags, M_ALL, 8), C(adc_chain2, M_ALL, 4), C(sbb_chain, M_ALL, 4),
	C(incdec_cf, M_ALL, 4), C(rot_logic, M_ALL, 8), C(rot_add, M_ALL, 8),
	C(shift_imm, M_ALL, 8), C(imul_flags, M_ALL, 8), C(byte_alu, M_ALL, 1),
	C(neg_not, M_ALL, 4), C(ext_moves, M_ALL, 8), C(lea_forms, M_ALL, 8),
	C(xchg_regs, M_ALL, 8), C(cmov_cc, M_ALL, 8), C(eager_cond, M_ALL, 8),
	C(stack_ops, M_ALL, 8), C(mov_forms, M_ALL, 8), C(sub_rot, M_ALL, 8),
	C(add_rot, M_ALL, 4), C(add_rot8, M_ALL, 2), C(dead_flags, M_ALL, 8),
	C(alu_jcc1, M_ALL, 8), C(alu_jcc2, M_ALL, 8), C(alu_mem, M_ALL, 8),
};

/* Cases that need a host feature or operands that cannot fault natively. */
static const struct diff_case cnt_cases[] = {
	C(lzcnt32, M_CNT, 4), C(tzcnt64, M_CNT, 8),
};

static const struct diff_case div_cases[] = {
	C(div64, M_DIV, 8), C(idiv32, M_DIV, 4), C(div8, M_DIV, 1), C(idiv16, M_DIV, 2),
};

static int diff_one(const struct diff_case *c, struct regs4 in)
{
	struct regs4 h = in;
	c->host(&h);
	reset_long64();
	cpu->gpr[R_RAX] = in.a;
	cpu->gpr[R_RBX] = in.b;
	cpu->gpr[R_RCX] = in.c;
	cpu->gpr[R_RDX] = in.d;
	cpu_set_rflags(cpu, in.f, F_ARITH);
	int v = run(c->start, c->end);
	uint64_t fm = defined_flags(c, &in), gf = cpu_get_rflags(cpu);
	bool bad = v != -1 || cpu->gpr[R_RAX] != h.a || cpu->gpr[R_RBX] != h.b ||
		   cpu->gpr[R_RCX] != h.c || cpu->gpr[R_RDX] != h.d || ((gf ^ h.f) & fm);
	if (bad) {
		fprintf(stderr,
			"%s: in a=%#" PRIx64 " b=%#" PRIx64 " c=%#" PRIx64 " d=%#" PRIx64
			" f=%#" PRIx64 "\n  host a=%#" PRIx64 " b=%#" PRIx64 " c=%#" PRIx64
			" d=%#" PRIx64 " f=%#" PRIx64 "\n  kemu a=%#" PRIx64 " b=%#" PRIx64
			" c=%#" PRIx64 " d=%#" PRIx64 " f=%#" PRIx64 " (mask %#" PRIx64
			", exc %d)\n",
			c->name, in.a, in.b, in.c, in.d, in.f, h.a, h.b, h.c, h.d, h.f,
			cpu->gpr[R_RAX], cpu->gpr[R_RBX], cpu->gpr[R_RCX], cpu->gpr[R_RDX], gf,
			fm, v);
	}
	return bad;
}

static struct regs4 rnd_regs(void)
{
	struct regs4 r = { rnd_operand(), rnd_operand(), rnd_operand(), rnd_operand(), 0 };
	r.f = (rnd() & F_ARITH) | 0x202;
	/* Counts in CL: mostly small, sometimes large or zero. */
	if (rnd() & 1)
		r.c = (r.c & ~0xffULL) | (rnd() % 70);
	return r;
}

static void test_differential(void)
{
	const int per_case = 3000;
	for (size_t k = 0; k < sizeof(diff_cases) / sizeof(diff_cases[0]); k++) {
		int fails = 0;
		for (int n = 0; n < per_case && fails < 3; n++)
			fails += diff_one(&diff_cases[k], rnd_regs());
		CHECK(fails == 0);
	}
	unsigned a, b, c, d;
	/* Only when the CPU model offers them (exec_int.c); else they are BSF/BSR. */
	bool lzcnt = EXEC_MODEL_LZCNT && __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 5));
	bool bmi1 = EXEC_MODEL_BMI1 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 3));
	for (int n = 0; n < per_case; n++) {
		if (lzcnt)
			CHECK(!diff_one(&cnt_cases[0], rnd_regs()));
		if (bmi1)
			CHECK(!diff_one(&cnt_cases[1], rnd_regs()));
	}
	/* Division: operands chosen so the host does not fault (#DE is tested below). */
	for (size_t k = 0; k < 4; k++) {
		const struct diff_case *dc = &div_cases[k];
		int fails = 0;
		for (int n = 0; n < per_case && fails < 3; n++) {
			struct regs4 r = rnd_regs();
			unsigned sz = dc->size, bits = sz * 8;
			uint64_t m = exec_mask(sz);
			bool sgn = dc == &div_cases[1] || dc == &div_cases[3];
			if ((r.b & m) == 0)
				r.b |= 1;
			if (sz == 1) {
				/* AX / BL: keep AH below the divisor's magnitude. */
				r.a = (r.a & ~0xff00ULL) | ((((r.a >> 8) & 0xff) % ((r.b & 0xff) >> 1 | 1)) << 8);
				if (sgn)
					r.a &= ~0xc000ULL;
			} else {
				uint64_t div = r.b & m;
				if (sgn) {
					/* Sign-extend rAX into rDX: the quotient always fits unless MIN/-1. */
					int64_t sa = exec_sext(r.a, sz);
					r.d = (r.d & ~m) | ((uint64_t)(sa >> 63) & m);
					if ((r.a & m) == (1ULL << (bits - 1)) && exec_sext(div, sz) == -1)
						r.b += 2;
				} else {
					uint64_t hi = r.d & m;
					r.d = (r.d & ~m) | (hi % div);
				}
			}
			fails += diff_one(dc, r);
		}
		CHECK(fails == 0);
	}
}

/* ---- blocks and the JIT ------------------------------------------------------------ */

/* A one-block loop (the JIT goes round it in host code), inline forms
 * feeding called ones, and a store into the running block's own code. */
GUEST_CODE(t_blk_loop, "mov $1000, %ecx; xor %eax, %eax; 1: add %rcx, %rax; lea 1(%rbx), %rbx;"
		       " dec %ecx; jnz 1b; lea 3(%rax,%rax,2), %edx; sub $7, %rdx; setg %bl");
GUEST_CODE(t_blk_smc, "mov $1, %eax; movb $0x40, 1f+2(%rip); 1: add $1, %eax; mov %eax, %ecx");
GUEST_CODE(t_blk_fault, "mov $5, %eax; mov %rax, %rcx; add $1, %ecx; mov (%rdx), %ebx; mov $9, %eax");

/* Memory MOVs: TLB hits inline, a page-crossing pair through the handler, a fault. */
GUEST_CODE(t_blk_mem, "mov %rax, (%rdx); mov 8(%rdx), %ecx; movl $-1, 12(%rdx);"
		      " mov 8(%rdx), %rbx; movq $-2, 0xffc(%rdx); mov 0xffc(%rdx), %rsi;"
		      " mov %fs:(%rdx), %edi; mov (%r8), %eax; mov $1, %eax");

/* CALL rel32: the pushed return address and the target, inline and through
 * the handler (a slot straddling pages), and a push into a hole (#PF). */
GUEST_CODE(t_blk_call, "call 1f; 1: pop %rax; call 2f; 2: pop %rcx; mov %rsp, %rdx");
/* RET: to a pushed address; then to a non-canonical one (#GP, nothing changed). */
GUEST_CODE(t_blk_ret, "lea 1f(%rip), %rax; push %rax; ret; 1: mov %rsp, %rdx; push %rbx; ret");

/* Extending loads: inline hits, a page-crossing word, a fault. */
GUEST_CODE(t_blk_ext, "movzbl 3(%rdx), %eax; movsbq 3(%rdx), %rbx; movswl 0xfff(%rdx), %ecx;"
		      " movslq 4(%rdx), %rsi; movzwq 6(%rdx), %rdi; movsbl (%r8), %eax");

/* 64-bit PUSH/POP: inline slots, PUSH RSP's old value, POP RSP through the handler. */
GUEST_CODE(t_blk_stack, "push %rax; push %rsp; pop %rcx; pop %rdx; push %rbx; pop %rsp; push %rdx");

/* Chains: blocks linked into each other (a JMP, a taken JNZ, a fall
 * through), then a store into the first one's code once the links exist. */
GUEST_CODE(t_blk_chain_smc, "mov $100, %ecx; xor %eax, %eax; jmp 1f; 1: add $1, %eax; jmp 2f;"
			    " 2: cmp $50, %ecx; jne 3f; movb $0x10, 1b+2(%rip); 3: dec %ecx; jnz 1b");

/* The round budget: a cycle of three chained blocks, the first one a full
 * block (TB_MAX_INSNS) ending in a Jcc to where it falls through (its two
 * exits, taken and not, go to the same place). HLT ends the last call
 * without a fault, so that its count is seen. */
GUEST_CODE(t_blk_budget, "mov $20000, %ecx; 1: .fill 31, 1, 0x90; jnz 2f; 2: nop; jmp 3f;"
			 " 3: dec %ecx; jnz 1b; hlt");

/* CPL 3 blocks use the user TLB: a supervisor page faults even after a
 * CPL 0 run of the same code filled the supervisor TLB. */
GUEST_CODE(t_blk_user, "mov (%rdx), %eax; mov %ecx, 4(%rdx); push %rax; pop %rbx");

/* Runs code as run_blocks does; returns the most instructions one
 * cpu_exec_block call retired, or 0 when it did not end at its UD2. */
static uint64_t run_blocks_max_call(const uint8_t *start, const uint8_t *end)
{
	return run_blocks(start, end) == -1 ? blocks_max_call : 0;
}

/* Maps virtual page PT4K + vpage * 4K to a copy of code at PT4K + 0x3000
 * (written as DMA would) and flushes the TLB, as a CR3 write would. */
static void remap_code_page(unsigned vpage, const void *code, size_t len)
{
	uint64_t *pt = (uint64_t *)gmem(0x4000);
	memcpy(gmem(PT4K + 0x3000), code, len);
	code_pages_written(&code_pages, gmem(PT4K + 0x3000), len);
	pt[vpage] = (PT4K + 0x3000) | 7;
	tlb_flush(cpu);
}

/*
 * Blocks on two pages chained both ways (a JMP to the next page, a taken
 * JNZ back), then the second page's code rewritten, then that virtual page
 * remapped to other code: each run must execute what is mapped now.
 */
static int run_xpage(uint64_t ecx)
{
	cpu->gpr[R_RCX] = ecx;
	cpu->gpr[R_RAX] = 0;
	return run_blocks_at(PT4K + 0x1000, PT4K + 0x2000 + 11);
}

static void test_blocks_xpage(void)
{
	static const uint8_t p1_code[] = { 0x83, 0xc0, 0x01, 0xe9, 0xf8, 0x0f, 0x00, 0x00 };
	/* add $imm8, %eax; dec %ecx; jnz p1; ud2 */
	uint8_t p2_code[] = { 0x83, 0xc0, 0x10, 0xff, 0xc9, 0x0f, 0x85, 0xf5, 0xef, 0xff, 0xff,
			      0x0f, 0x0b };
	uint64_t *pt = (uint64_t *)gmem(0x4000);
	reset_long64();
	memcpy(gmem(PT4K + 0x1000), p1_code, sizeof(p1_code));
	memcpy(gmem(PT4K + 0x2000), p2_code, sizeof(p2_code));
	code_pages_written(&code_pages, gmem(PT4K + 0x1000), 0x2000);
	CHECK_EQ(run_xpage(100), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 100 * 0x11);
	/* Rewritten behind the MMU, as DMA would. */
	gmem(PT4K + 0x2000)[2] = 0x20;
	code_pages_written(&code_pages, gmem(PT4K + 0x2002), 1);
	CHECK_EQ(run_xpage(10), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 10 * 0x21);
	/* The link into the rewritten page was made anew: in host code again. */
	CHECK_EQ(run_xpage(100), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 100 * 0x21);
	if (cpu->tbc->jit.base)
		CHECK(blocks_calls < 20);
	/* The virtual page now maps other code (and the TLB is flushed, as
	 * a CR3 write or INVLPG would). */
	p2_code[2] = 0x40;
	remap_code_page(2, p2_code, sizeof(p2_code));
	CHECK_EQ(run_xpage(10), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 10 * 0x41);
	pt[2] = (PT4K + 0x2000) | 7;
	tlb_flush(cpu);
}

/*
 * The JIT against the interpreter: the same code on the same registers,
 * flags and memory, run by the interpreter (block_mode off) and through
 * blocks and the JIT, must leave the same registers, arithmetic flags and
 * memory. rdi points just below a page end by a varying amount, so the
 * memory operands (at small offsets from it) sometimes cross into the next
 * page: the inline TLB fast path misses there and the handler runs, whose
 * results (and the host flags rebuilt after it for a following Jcc/SETcc)
 * must be the same. Each run starts with an empty TLB (cpu_load_state),
 * so the first access of each page takes the slow path as well.
 */
GUEST_CODE(j_mem_alu, "addb %cl, (%rdi); setc %al; jz 1f; subw %bx, 1(%rdi); 1: seto %ah;"
		      "xorl %ecx, 2(%rdi); js 2f; orq %rdx, 3(%rdi); 2: andb $0x5a, 5(%rdi);"
		      "setp %bl; cmpw $0x1234, 6(%rdi); jl 3f; addl $-7, 7(%rdi); 3:"
		      "testb $0x80, 9(%rdi); setnz %bh; subq $99, 9(%rdi); setb %dl;"
		      "cmpb %cl, 10(%rdi); seta %dh; adcw 11(%rdi), %si; sbbb %dh, 12(%rdi);"
		      "addq 4(%rdi), %rcx; jno 4f; xor %rax, %rax; 4: cmpl (%rdi), %edx; cmovl %ecx, %esi");
GUEST_CODE(j_mem_mov, "movb %cl, (%rdi); movw %dx, 1(%rdi); movb $0x99, 3(%rdi);"
		      "movw $0x4321, 4(%rdi); movzbl 2(%rdi), %eax; movsbw 5(%rdi), %bx;"
		      "movswq 3(%rdi), %rcx; mov 1(%rdi), %dl; mov 4(%rdi), %dh; movw 6(%rdi), %si;"
		      "movslq 2(%rdi), %rdx; movl %eax, 8(%rdi); movq %rbx, 9(%rdi); movzwl 9(%rdi), %ebx");
GUEST_CODE(j_reg_small, "add %cl, %bl; adc %ah, %dl; sub %si, %dx; jb 1f; xor %al, %cl; 1:"
			"and $0x3c, %ch; or %bx, %ax; cmp %dl, %al; setbe %sil; test %cx, %dx;"
			"jnz 2f; inc %edx; 2: mov %bl, %ah; mov %cx, %si; movb $0x80, %dl; movw $-2, %bx;"
			"xor %sil, %dil; add $0x7f, %al; jo 3f; sub %ax, %di; 3: cmp $-1, %bx; setg %cl");

GUEST_CODE(j_flag_readers, "add %ecx, %ebx; setc %al; cmovo %edx, %esi; inc %ecx; setz %ah; dec %dl;"
			   "adc %bl, %cl; sbb %rdx, %rsi; cmovb %rsi, %rax; sub $1, %di; sbb %ax, %bx;"
			   "inc %si; cmovnz %dx, %cx; xor %eax, %eax; adc $0, %edx; setbe %bh;"
			   "cmp %ecx, %edx; sbb %ecx, %ecx; inc %rdi; jz 1f; dec %bl; seto %sil; 1:"
			   "and $3, %esi; adc %esi, %eax; setnp %dl; cmovs %rax, %rbx; or %ecx, %edx;"
			   "inc %edx; setc %bh; dec %ecx; sbb %ah, %al; cmp %ebx, %edx; dec %rsi; rcl $1, %rdi");

GUEST_CODE(j_shift_ext, "shl $3, %eax; setc %bl; jz 1f; shr $1, %rcx; 1: jc 2f; sar $5, %edx; 2:"
			"seto %bh; shl $1, %esi; jo 3f; movzbl %cl, %edi; 3: movsbq %dl, %rax;"
			"movzwl %si, %ecx; movswq %ax, %rdx; movslq %ecx, %rsi; movzbl %ah, %ebx;"
			"movsbw %bl, %cx; sar $0, %eax; shr $33, %rdi; setz %dl; sbb %ecx, %eax;"
			"sar $1, %rbx; jo 4f; rol $3, %ecx; 4: ror $1, %rdx; adc %rdx, %rsi; shl $1, %dil;"
			"movsxd %esi, %esi; movzwq %cx, %rcx; imul %ebx, %ecx; seto %dl; imul %rsi, %rax;"
			"setc %dh; imul $-3, %edi, %ebx; jo 5f; imul $0x12345, %rcx, %rsi; 5: adc %rax, %rbx;"
			"imul %ax, %bx; imul %rdx, %rdx; setno %al");

GUEST_CODE(j_incdec_mem, "incb (%rdi); setc %al; decw 1(%rdi); jz 1f; incl 2(%rdi); 1: adc %eax, %ebx;"
			 "decq 4(%rdi); setc %ah; sbb %ecx, %ecx; cmp %edx, %esi; incl 8(%rdi); jnc 2f;"
			 "decb 9(%rdi); 2: setbe %dl; add %eax, %eax; decl 3(%rdi); sbb %esi, %esi;"
			 "incq 5(%rdi); jo 3f; decw 10(%rdi); 3: rcl $1, %rdx; incb 11(%rdi); incl 12(%rdi)");
/* A fault in INC of memory leaves the flags as they were (eager ones
 * after a rotate here, held in the record's flags field). */
GUEST_CODE(j_incdec_fault, "add %ebx, %ecx; rol $1, %eax; mov $0x805000, %ecx; incl (%rcx)");

static void jit_vs_interp(const char *name, const uint8_t *start, const uint8_t *end, int rounds)
{
	const uint64_t page_end = DATA + 0x1000;
	int bad = 0;
	for (int n = 0; n < rounds && bad < 3; n++) {
		uint64_t in[6], fl = rnd() & F_ARITH, res[2][8];
		uint8_t mem0[64], mem[2][64];
		for (int j = 0; j < 6; j++)
			in[j] = rnd_operand();
		in[5] = page_end - 16 + (uint64_t)(n % 17); /* rdi */
		for (size_t j = 0; j < sizeof(mem0); j++)
			mem0[j] = (uint8_t)rnd();
		for (int pass = 0; pass < 2; pass++) {
			/* The interpreter pass without the block cache: it would
			 * not see the code copied over the last pass's. */
			static struct tb_cache *tbc;
			if (pass == 0) {
				tbc = cpu->tbc;
				cpu->tbc = NULL;
				cpu->code_pages = NULL;
			} else {
				cpu->tbc = tbc;
				cpu->code_pages = &code_pages;
			}
			block_mode = pass == 1;
			reset_long64();
			memcpy(gmem(page_end - 32), mem0, sizeof(mem0));
			cpu->gpr[R_RAX] = in[0];
			cpu->gpr[R_RBX] = in[1];
			cpu->gpr[R_RCX] = in[2];
			cpu->gpr[R_RDX] = in[3];
			cpu->gpr[R_RSI] = in[4];
			cpu->gpr[R_RDI] = in[5];
			cpu_set_rflags(cpu, fl, F_ARITH);
			res[pass][0] = (uint64_t)run(start, end);
			static const unsigned regs[6] = { R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI };
			for (int j = 0; j < 6; j++)
				res[pass][1 + j] = cpu->gpr[regs[j]];
			res[pass][7] = cpu_get_rflags(cpu) & F_ARITH;
			memcpy(mem[pass], gmem(page_end - 32), sizeof(mem0));
		}
		if (memcmp(res[0], res[1], sizeof(res[0])) || memcmp(mem[0], mem[1], sizeof(mem0))) {
			fprintf(stderr, "%s: round %d (rdi = page end - %d) differs:\n", name, n,
				(int)(page_end - in[5]));
			for (int j = 0; j < 8; j++)
				fprintf(stderr, "  [%d] interp %#" PRIx64 " jit %#" PRIx64 "\n", j, res[0][j],
					res[1][j]);
			bad++;
		}
	}
	block_mode = true;
	CHECK_EQ(bad, 0);
}

#define JIT_VS_INTERP(name, rounds) jit_vs_interp(#name, name##_start, name##_end, rounds)

/* A read-modify-write into the block's own code page goes through the
 * handler (no write TLB entry for code), and the next instruction sees
 * the new bytes: the immediate of the MOV after it. */
/* CALL through a register: the return address pushed, then the target;
 * a non-canonical target faults with nothing pushed. */
GUEST_CODE(t_blk_call_reg, "push %rax; pop %rax; lea 1f(%rip), %rdx; call *%rdx; 1: pop %rcx;"
			   "sub %rdx, %rcx");
GUEST_CODE(t_blk_call_bad, "mov $0x800000000000, %rdx; call *%rdx");

GUEST_CODE(t_blk_rmw_smc, "addb $1, 1f+1(%rip); 1: mov $5, %eax; subw $0x0101, 2f+1(%rip);"
			  "2: mov $0x0303, %ebx");

static void test_jit_forms(void)
{
	JIT_VS_INTERP(j_mem_alu, 400);
	JIT_VS_INTERP(j_mem_mov, 400);
	JIT_VS_INTERP(j_reg_small, 400);
	JIT_VS_INTERP(j_flag_readers, 400);
	JIT_VS_INTERP(j_shift_ext, 400);
	JIT_VS_INTERP(j_incdec_mem, 400);
	JIT_VS_INTERP(j_incdec_fault, 50);
	reset_long64();
	uint64_t sp0 = cpu->gpr[R_RSP];
	CHECK_EQ(RUN(t_blk_call_reg), -1);
	CHECK_EQ(cpu->gpr[R_RCX], 0);
	CHECK_EQ(cpu->gpr[R_RSP], sp0);
	reset_long64();
	CHECK_EQ(RUN(t_blk_call_bad), EXC_GP);
	CHECK_EQ(cpu->gpr[R_RSP], sp0);
	CHECK_EQ(cpu->rip, CODE + 10);
	reset_long64();
	CHECK_EQ(RUN(t_blk_rmw_smc), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 6);
	CHECK_EQ(cpu->gpr[R_RBX], 0x0202);
}

/*
 * STI and POPF do not end JIT blocks; the code leaves after them when an
 * event is posted, with the STI shadow still on for cpu_run, and the
 * shadow instruction runs alone before the JIT goes on. Nothing posted:
 * the block runs through, the shadow over.
 */
GUEST_CODE(t_blk_sti, "cli; mov $1, %eax; sti; mov $2, %ebx; add $1, %ecx; pushf; popf; inc %edx");

static void test_blocks_sti(void)
{
	if (!cpu->tbc->jit.base) {
		fprintf(stderr, "test_blocks_sti: no JIT here (not x86-64, or KEMU_JIT=0): skipped\n");
		return;
	}
	reset_long64();
	atomic_store(&cpu->vcpu->pending, VCPU_PENDING_INTR);
	CHECK_EQ(RUN(t_blk_sti), -1);
	/* cli..sti | mov (shadow, alone) | add..popf | inc */
	CHECK_EQ(blocks_calls, 4);
	CHECK_EQ(cpu->gpr[R_RBX], 2);
	CHECK(cpu->rflags & F_IF);
	atomic_store(&cpu->vcpu->pending, 0);
	reset_long64();
	cpu->intr_shadow = false;
	CHECK_EQ(RUN(t_blk_sti), -1);
	CHECK_EQ(blocks_calls, 1);
	CHECK(!cpu->intr_shadow);
	CHECK_EQ(cpu->gpr[R_RCX], 1);
}

/*
 * An instruction crossing a page end is a block of its own once the code
 * TLB maps the next page, entered through a link from the block before it
 * (on the first page, which stays unchanged): its tail rewritten, or its
 * second page mapped to other bytes, it must run as the memory now says.
 */
static int run_cross(uint64_t ecx)
{
	cpu->gpr[R_RCX] = ecx;
	cpu->gpr[R_RBX] = 0;
	cpu->gpr[R_RDX] = 0;
	return run_blocks_at(PT4K + 0x1ff5, PT4K + 0x2007);
}

static void test_blocks_cross(void)
{
	/* 1ff5: add $1, %ebx; nop x4; 1ffc: mov $0x44332211, %eax;
	 * 2001: add %eax, %edx; dec %ecx; jnz 1ff5; ud2 */
	static const uint8_t code[] = { 0x83, 0xc3, 0x01, 0x90, 0x90, 0x90, 0x90, 0xb8, 0x11,
					0x22, 0x33, 0x44, 0x01, 0xc2, 0xff, 0xc9, 0x75, 0xee,
					0x0f, 0x0b };
	uint64_t *pt = (uint64_t *)gmem(0x4000);
	reset_long64();
	memcpy(gmem(PT4K + 0x1ff5), code, sizeof(code));
	code_pages_written(&code_pages, gmem(PT4K + 0x1ff5), sizeof(code));
	CHECK_EQ(run_cross(10), -1);
	CHECK_EQ(cpu->gpr[R_RDX], (uint32_t)(10 * 0x44332211u));
	CHECK_EQ(cpu->gpr[R_RBX], 10);
	const struct tb *b = tb_hash_lookup(cpu->tbc, tb_tag(PT4K + 0x1ffc, X86_MODE_64, false));
	CHECK(b && b->genp2 && b->ninsn == 1);
	/* Linked into: the loop stays in host code. */
	CHECK_EQ(run_cross(100), -1);
	CHECK_EQ(cpu->gpr[R_RDX], (uint32_t)(100 * 0x44332211u));
	if (cpu->tbc->jit.base)
		CHECK(blocks_calls < 20);
	/* The tail byte (on the second page) rewritten behind the MMU. */
	gmem(PT4K + 0x2000)[0] = 0x55;
	code_pages_written(&code_pages, gmem(PT4K + 0x2000), 1);
	CHECK_EQ(run_cross(10), -1);
	CHECK_EQ(cpu->gpr[R_RDX], (uint32_t)(10 * 0x55332211u));
	/* The second virtual page mapped to other bytes (TLB flushed). */
	uint8_t tail[16];
	memcpy(tail, gmem(PT4K + 0x2000), sizeof(tail));
	tail[0] = 0x66;
	remap_code_page(2, tail, sizeof(tail));
	CHECK_EQ(run_cross(10), -1);
	CHECK_EQ(cpu->gpr[R_RDX], (uint32_t)(10 * 0x66332211u));
	/* Back, flushing only the second page's entry. */
	pt[2] = (PT4K + 0x2000) | 7;
	tlb_flush_page(cpu, PT4K + 0x2000);
	CHECK_EQ(run_cross(10), -1);
	CHECK_EQ(cpu->gpr[R_RDX], (uint32_t)(10 * 0x55332211u));
	tlb_flush(cpu);
}

/*
 * Indirect branches through the jump cache (jit.h's dispatcher): a loop on
 * one page calls through a register into a function on another, whose RET
 * comes back; then the caller's page is rewritten, then its virtual page
 * remapped to other code. Each run must execute what is mapped now, and
 * with the JIT the whole loop stays in host code (one cpu_exec_block
 * call runs many rounds).
 */
static int run_dispatch(uint64_t ecx)
{
	cpu->gpr[R_RCX] = ecx;
	cpu->gpr[R_RAX] = 0;
	cpu->gpr[R_RBX] = 0;
	cpu->gpr[R_RDX] = PT4K + 0x2000;
	return run_blocks_at(PT4K + 0x1000, PT4K + 0x1000 + 13);
}

static void test_blocks_dispatch(void)
{
	/* call *%rdx; add $1, %ebx; dec %ecx; jnz 0b; ud2 */
	uint8_t p1_code[] = { 0xff, 0xd2, 0x83, 0xc3, 0x01, 0xff, 0xc9, 0x0f, 0x85, 0xf3, 0xff, 0xff,
			      0xff, 0x0f, 0x0b };
	/* add $0x10, %eax; ret */
	static const uint8_t p2_code[] = { 0x83, 0xc0, 0x10, 0xc3 };
	uint64_t *pt = (uint64_t *)gmem(0x4000);
	reset_long64();
	uint64_t sp0 = cpu->gpr[R_RSP];
	memcpy(gmem(PT4K + 0x1000), p1_code, sizeof(p1_code));
	memcpy(gmem(PT4K + 0x2000), p2_code, sizeof(p2_code));
	code_pages_written(&code_pages, gmem(PT4K + 0x1000), 0x2000);
	CHECK_EQ(run_dispatch(100), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 100 * 0x10);
	CHECK_EQ(cpu->gpr[R_RBX], 100);
	CHECK_EQ(cpu->gpr[R_RSP], sp0);
	if (cpu->tbc->jit.base)
		CHECK(blocks_calls < 20); /* not one or more per round */
	/* The block the RET returns to, rewritten behind the MMU. */
	gmem(PT4K + 0x1000)[4] = 2;
	code_pages_written(&code_pages, gmem(PT4K + 0x1004), 1);
	CHECK_EQ(run_dispatch(10), -1);
	CHECK_EQ(cpu->gpr[R_RBX], 10 * 2);
	/* Its virtual page now maps other code (the TLB flushed). */
	p1_code[4] = 4;
	remap_code_page(1, p1_code, sizeof(p1_code));
	CHECK_EQ(run_dispatch(10), -1);
	CHECK_EQ(cpu->gpr[R_RBX], 10 * 4);
	CHECK_EQ(cpu->gpr[R_RAX], 10 * 0x10);
	pt[1] = (PT4K + 0x1000) | 7;
	tlb_flush(cpu);
	if (!cpu->tbc->jit.base)
		return;
	/* An interrupt request waits while IF is clear: the loop stays in
	 * host code; with IF set it leaves at the first chain. */
	atomic_store(&cpu->vcpu->pending, VCPU_PENDING_INTR);
	cpu->rflags &= ~(uint64_t)F_IF;
	CHECK_EQ(run_dispatch(100), -1);
	CHECK(blocks_calls < 20);
	cpu->rflags |= F_IF;
	CHECK_EQ(run_dispatch(100), -1);
	CHECK(blocks_calls > 100);
	atomic_store(&cpu->vcpu->pending, 0);
	cpu->rflags &= ~(uint64_t)F_IF;
}

static void test_blocks_chain(void)
{
	reset_long64();
	CHECK_EQ(RUN(t_blk_chain_smc), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 51 + 49 * 0x10);
	CHECK_EQ(cpu->gpr[R_RCX], 0);

	/* One call goes on through at most the budget's rounds of at most
	 * TB_MAX_INSNS each (plus the first block). */
	reset_long64();
	uint64_t max = run_blocks_max_call(t_blk_budget_start, t_blk_budget_end);
	CHECK(max > 0);
	CHECK(max <= 4097 * TB_MAX_INSNS);
	CHECK_EQ(cpu->gpr[R_RCX], 0);
	cpu->halted = false;

	uint64_t *pt = (uint64_t *)gmem(0x4000);
	const uint64_t sup = PT4K + 0x6000;
	pt[(sup - PT4K) >> 12] = sup | 3; /* present, writable, supervisor only */
	reset_long64();
	cpu->gpr[R_RDX] = sup;
	cpu->gpr[R_RCX] = 0x5a5a;
	memcpy(gmem(sup), "\x11\x22\x33\x44", 4);
	CHECK_EQ(RUN(t_blk_user), -1);
	CHECK_EQ(cpu->gpr[R_RBX], 0x44332211);
	/* CPL 3 now, the supervisor TLB still holding the page. */
	cpu->seg[SEG_CS].dpl = 3;
	cpu->seg[SEG_SS].dpl = 3;
	cpu_update_mode(cpu);
	CHECK_EQ(cpu->cpl, 3);
	cpu->gpr[R_RAX] = 0;
	CHECK_EQ(RUN(t_blk_user), EXC_PF);
	CHECK_EQ(cpu->exc_error & (PF_U | PF_W), PF_U);
	CHECK_EQ(cpu->rip, CODE);
	CHECK_EQ(cpu->gpr[R_RAX], 0);
	/* The stack is a user page: the inline PUSH and POP through the user TLB. */
	cpu->gpr[R_RDX] = DATA;
	CHECK_EQ(RUN(t_blk_user), -1);
	pt[(sup - PT4K) >> 12] = sup | 7;
	reset_long64();
}

static void test_blocks(void)
{
	reset_long64();
	uint64_t sp0 = cpu->gpr[R_RSP];
	CHECK_EQ(RUN(t_blk_call), -1);
	CHECK_EQ(cpu->gpr[R_RAX], CODE + 5);
	CHECK_EQ(cpu->gpr[R_RCX], CODE + 11);
	CHECK_EQ(cpu->gpr[R_RDX], sp0);
	reset_long64();
	cpu->gpr[R_RSP] = DATA + 0x1004; /* the slot is DATA+0xffc..0x1003 */
	CHECK_EQ(RUN(t_blk_call), -1);
	CHECK_EQ(cpu->gpr[R_RAX], CODE + 5);
	CHECK_EQ(cpu->gpr[R_RSP], DATA + 0x1004);
	reset_long64();
	cpu->gpr[R_RBX] = 0x0000800000000000ULL;
	CHECK_EQ(RUN(t_blk_ret), EXC_GP);
	CHECK_EQ(cpu->gpr[R_RDX], sp0);
	CHECK_EQ(cpu->gpr[R_RSP], sp0 - 8);
	CHECK_EQ(cpu->rip, CODE + 13);
	reset_long64();
	cpu->gpr[R_RSP] = HOLE + 8;
	CHECK_EQ(RUN(t_blk_call), EXC_PF);
	CHECK_EQ(cpu->rip, CODE);
	CHECK_EQ(cpu->gpr[R_RSP], HOLE + 8);
	CHECK_EQ(cpu->cr2, HOLE);

	reset_long64();
	memset(gmem(DATA), 0, 0x1010);
	memcpy(gmem(DATA), "\0\0\0\x85\x01\0\0\x80", 8);
	gmem(DATA + 0xfff)[0] = 0x34;
	gmem(DATA + 0x1000)[0] = 0x92;
	cpu->gpr[R_RDX] = DATA;
	cpu->gpr[R_R8] = HOLE;
	CHECK_EQ(RUN(t_blk_ext), EXC_PF);
	CHECK_EQ(cpu->gpr[R_RAX], 0x85);
	CHECK_EQ(cpu->gpr[R_RBX], 0xffffffffffffff85ULL);
	CHECK_EQ(cpu->gpr[R_RCX], 0xffff9234ULL);
	CHECK_EQ(cpu->gpr[R_RSI], 0xffffffff80000001ULL);
	CHECK_EQ(cpu->gpr[R_RDI], 0x8000);
	CHECK_EQ(cpu->cr2, HOLE);

	reset_long64();
	uint64_t sp = cpu->gpr[R_RSP];
	cpu->gpr[R_RAX] = 0x1122334455667788ULL;
	cpu->gpr[R_RBX] = sp - 0x100;
	CHECK_EQ(RUN(t_blk_stack), -1);
	CHECK_EQ(cpu->gpr[R_RCX], sp - 8);
	CHECK_EQ(cpu->gpr[R_RDX], 0x1122334455667788ULL);
	CHECK_EQ(cpu->gpr[R_RSP], sp - 0x108);
	uint64_t q;
	memcpy(&q, gmem(sp - 0x108), 8);
	CHECK_EQ(q, 0x1122334455667788ULL);

	reset_long64();
	memset(gmem(DATA), 0, 0x1010);
	memcpy(gmem(DATA + 8), "\x44\x33\x22\x11", 4);
	cpu->gpr[R_RAX] = 0x0123456789abcdefULL;
	cpu->gpr[R_RDX] = DATA;
	cpu->gpr[R_R8] = HOLE;
	cpu->seg[SEG_FS].base = 0x1000;
	CHECK_EQ(RUN(t_blk_mem), EXC_PF);
	cpu->seg[SEG_FS].base = 0;
	memcpy(&q, gmem(DATA), 8);
	CHECK_EQ(q, 0x0123456789abcdefULL);
	CHECK_EQ(cpu->gpr[R_RCX], 0x11223344);
	CHECK_EQ(cpu->gpr[R_RBX], 0xffffffff11223344ULL);
	CHECK_EQ(cpu->gpr[R_RSI], (uint64_t)-2);
	CHECK_EQ(cpu->gpr[R_RDI], 0xffffffff); /* DATA+0x1000: the upper half of the -2 */
	CHECK_EQ(cpu->gpr[R_RAX], 0x0123456789abcdefULL); /* the faulting load wrote nothing */
	CHECK_EQ(cpu->cr2, HOLE);

	reset_long64();
	cpu->gpr[R_RBX] = 0x100;
	CHECK_EQ(RUN(t_blk_loop), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 500500);
	CHECK_EQ(cpu->gpr[R_RDX], (3 * 500500 + 3) - 7);
	CHECK_EQ(cpu->gpr[R_RBX], 0x401); /* 0x100 + 1000, then setg */
	CHECK_EQ(cpu->gpr[R_RCX], 0);
	reset_long64();
	CHECK_EQ(RUN(t_blk_smc), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 0x41);
	CHECK_EQ(cpu->gpr[R_RCX], 0x41);
	/* A fault mid-block: the instructions before it retired, rip names it. */
	reset_long64();
	cpu->gpr[R_RDX] = HOLE;
	CHECK_EQ(RUN(t_blk_fault), EXC_PF);
	CHECK_EQ(cpu->gpr[R_RAX], 5);
	CHECK_EQ(cpu->gpr[R_RCX], 6);
	CHECK_EQ(cpu->rip, CODE + 11);
	CHECK_EQ(cpu->cr2, HOLE);
	test_blocks_chain();
	test_blocks_xpage();
	test_blocks_dispatch();
	test_blocks_cross();
	test_blocks_sti();
	test_jit_forms();
}

/* ---- targeted tests -------------------------------------------------------------- */

GUEST_CODE(t_div0, "xor %ebx, %ebx; mov $5, %eax; div %ebx");
GUEST_CODE(t_divovf, "mov $2, %edx; mov $0, %eax; mov $2, %ecx; div %ecx");
GUEST_CODE(t_idivovf, "mov $0x80, %ax; mov $0xff, %bl; idiv %bl");
GUEST_CODE(t_idivmin, "mov $0xff80, %ax; mov $0xff, %bl; idiv %bl");

static void test_divide_errors(void)
{
	reset_long64();
	cpu->gpr[R_RDX] = 0x1234;
	CHECK_EQ(RUN(t_div0), EXC_DE);
	CHECK_EQ(cpu->rip, CODE + 7);        /* at the DIV, not past it */
	CHECK_EQ(cpu->gpr[R_RAX], 5);        /* nothing written */
	CHECK_EQ(cpu->gpr[R_RDX], 0x1234);
	reset_long64();
	CHECK_EQ(RUN(t_divovf), EXC_DE);
	CHECK_EQ(cpu->gpr[R_RDX], 2);
	reset_long64();
	CHECK_EQ(RUN(t_idivovf), -1);        /* 128 / -1 = -128 fits */
	CHECK_EQ(cpu->gpr[R_RAX] & 0xffff, 0x0080);
	reset_long64();
	CHECK_EQ(RUN(t_idivmin), EXC_DE);    /* -128 / -1 = 128 does not */
}

/* Memory forms, LOCK, and the atomic exchanges. */
GUEST_CODE(t_mem, "movq $0x10, (%rdi)\n"
		  "lock addq $5, (%rdi)\n"           /* 0x15 */
		  "lock incl 8(%rdi)\n"
		  "lock decw 12(%rdi)\n"
		  "lock xaddq %rbx, (%rdi)\n"        /* rbx = 0x15, [rdi] = 0x15 + 7 */
		  "xchg %rcx, 16(%rdi)\n"
		  "lock btsl $3, 24(%rdi)\n"
		  "lock btrq %rdx, 24(%rdi)\n"       /* rdx = -1: bit 63 of the qword before */
		  "lock notb 32(%rdi)\n"
		  "lock negl 36(%rdi)\n"
		  "lock orw $0x8001, 40(%rdi)\n"
		  "lock sbbb $1, 42(%rdi)\n");

static void test_memory_forms(void)
{
	reset_long64();
	uint8_t *m = gmem(DATA);
	memset(m - 8, 0, 64);
	memcpy(m + 8, &(uint32_t){ 0xffffffff }, 4);
	memcpy(m + 12, &(uint16_t){ 0 }, 2);
	memcpy(m + 16, &(uint64_t){ 0x1122334455667788ULL }, 8);
	memcpy(m + 24, &(uint64_t){ 0x8000000000000000ULL }, 8);
	memcpy(m + 16, &(uint64_t){ 0x1122334455667788ULL }, 8);
	m[32] = 0x0f;
	memcpy(m + 36, &(uint32_t){ 1 }, 4);
	m[42] = 0;
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RBX] = 7;
	cpu->gpr[R_RCX] = 0xabcdef;
	cpu->gpr[R_RDX] = ~0ULL;
	CHECK_EQ(RUN(t_mem), -1);
	uint64_t q;
	memcpy(&q, m, 8);
	CHECK_EQ(q, 0x15 + 7);
	CHECK_EQ(cpu->gpr[R_RBX], 0x15);
	uint32_t d;
	memcpy(&d, m + 8, 4);
	CHECK_EQ(d, 0);
	uint16_t w;
	memcpy(&w, m + 12, 2);
	CHECK_EQ(w, 0xffff);
	CHECK_EQ(cpu->gpr[R_RCX], 0x1122334455667788ULL);
	memcpy(&q, m + 16, 8);
	/* BTR rdx=-1 on [rdi+24] clears bit 63 of [rdi+16], which holds rcx now. */
	CHECK_EQ(q, 0xabcdef);
	memcpy(&q, m + 24, 8);
	CHECK_EQ(q, 0x8000000000000008ULL);
	CHECK_EQ(m[32], 0xf0);
	memcpy(&d, m + 36, 4);
	CHECK_EQ(d, 0xffffffff);
	CHECK_EQ(m[41], 0x80);
	CHECK_EQ(m[42], 0xff);               /* 0 - 1 - CF(0, after OR) */
}

GUEST_CODE(t_btmem, "bts %rax, (%rdi)\n" "btl $33, 4(%rdi)\n" "setc %cl\n"
		    "mov $-9, %rdx\n" "bt %rdx, 16(%rdi)\n" "setc %ch\n");

static void test_bt_memory(void)
{
	reset_long64();
	uint8_t *m = gmem(DATA);
	memset(m, 0, 32);
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RAX] = 70; /* bit 6 of the qword at +8 */
	CHECK_EQ(RUN(t_btmem), -1);
	CHECK_EQ(m[8], 0x40);
	CHECK_EQ(cpu->gpr[R_RCX] & 0xff, 0); /* bit 1 of [rdi+4] (imm mod 32) */
	CHECK_EQ((cpu->gpr[R_RCX] >> 8) & 0xff, 0);
	/* offset -9 from rdi+16: the qword at rdi+8, bit 55 */
	m[14] = 0x80;
	reset_long64();
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RAX] = 70;
	CHECK_EQ(RUN(t_btmem), -1);
	CHECK_EQ((cpu->gpr[R_RCX] >> 8) & 0xff, 1);
}

GUEST_CODE(t_cmpxchg_mem, "lock cmpxchgq %rbx, (%rdi)\n" "setz %cl\n"
			  "lock cmpxchgl %ebx, 8(%rdi)\n" "setz %ch\n");
GUEST_CODE(t_cx8, "lock cmpxchg8b (%rdi)\n" "setz %sil\n");
GUEST_CODE(t_cx16, "lock cmpxchg16b (%rdi)\n" "setz %sil\n");

static void test_cmpxchg(void)
{
	reset_long64();
	uint8_t *m = gmem(DATA);
	memcpy(m, &(uint64_t){ 42 }, 8);
	memcpy(m + 8, &(uint32_t){ 9 }, 4);
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RAX] = 42;
	cpu->gpr[R_RBX] = 0xdeadbeefcafeULL;
	CHECK_EQ(RUN(t_cmpxchg_mem), -1);
	uint64_t q;
	memcpy(&q, m, 8);
	CHECK_EQ(q, 0xdeadbeefcafeULL);
	CHECK_EQ(cpu->gpr[R_RCX] & 0xffff, 0x0001); /* second compare failed */
	CHECK_EQ(cpu->gpr[R_RAX], 9);                /* EAX loaded, upper zeroed */

	reset_long64();
	memcpy(m, &(uint64_t){ 0x1111111122222222ULL }, 8);
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RAX] = 0x22222222;
	cpu->gpr[R_RDX] = 0x11111111;
	cpu->gpr[R_RBX] = 0x33333333;
	cpu->gpr[R_RCX] = 0x44444444;
	CHECK_EQ(RUN(t_cx8), -1);
	memcpy(&q, m, 8);
	CHECK_EQ(q, 0x4444444433333333ULL);
	CHECK_EQ(cpu->gpr[R_RSI] & 0xff, 1);
	CHECK_EQ(RUN(t_cx8), -1);            /* now fails: EDX:EAX <- memory */
	CHECK_EQ(cpu->gpr[R_RSI] & 0xff, 0);
	CHECK_EQ(cpu->gpr[R_RAX], 0x33333333);
	CHECK_EQ(cpu->gpr[R_RDX], 0x44444444);

	reset_long64();
	memcpy(m, &(uint64_t){ 1 }, 8);
	memcpy(m + 8, &(uint64_t){ 2 }, 8);
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RAX] = 1;
	cpu->gpr[R_RDX] = 2;
	cpu->gpr[R_RBX] = 3;
	cpu->gpr[R_RCX] = 4;
	CHECK_EQ(RUN(t_cx16), -1);
	memcpy(&q, m + 8, 8);
	CHECK_EQ(q, 4);
	CHECK_EQ(cpu->gpr[R_RSI] & 0xff, 1);
	cpu->gpr[R_RDI] = DATA + 8;
	CHECK_EQ(RUN(t_cx16), EXC_GP);       /* misaligned */
}

/* CMOV with a false condition still zero-extends a 32-bit destination. */
GUEST_CODE(t_cmov, "cmp %eax, %eax\n" "cmovne %ebx, %ecx\n" "cmovne (%rdi), %rdx\n");

static void test_cmov(void)
{
	reset_long64();
	cpu->gpr[R_RCX] = 0xffffffff00000005ULL;
	cpu->gpr[R_RDX] = 0xffffffff00000005ULL;
	cpu->gpr[R_RDI] = HOLE; /* the source is read even if unused: #PF */
	CHECK_EQ(RUN(t_cmov), EXC_PF);
	CHECK_EQ(cpu->gpr[R_RCX], 5);
	CHECK_EQ(cpu->gpr[R_RDX], 0xffffffff00000005ULL);
	CHECK_EQ(cpu->cr2, HOLE);
}

/* Stack: PUSH/POP forms, CALL/RET, ENTER/LEAVE. */
GUEST_CODE(t_stack, "push $-2\n"            /* 8 bytes */
		    "pushw $0x1234\n"       /* 2 bytes */
		    "popw %ax\n"
		    "pop %rbx\n"
		    "push %rsp\n"
		    "pop %rcx\n"            /* rcx = rsp before the push */
		    "push %rdi\n"
		    "popq 8(%rsp)\n"        /* address uses the popped rsp */
		    "call 1f\n"
		    "jmp 2f\n"
		    "1: mov $7, %edx\n"
		    "ret $0\n"
		    "2: enter $16, $0\n"
		    "mov %rbp, %r8\n"
		    "leave\n"
		    "enter $8, $3\n"
		    "mov %rsp, %r9\n"
		    "mov %rbp, %r10\n"
		    "leave\n");

static void test_stack(void)
{
	reset_long64();
	cpu->gpr[R_RDI] = 0x5566;
	cpu->gpr[R_RBP] = STACK_TOP - 0x100; /* a frame with known contents for ENTER level 3 */
	memcpy(gmem(STACK_TOP - 0x108), &(uint64_t){ 0xaaaa }, 8);
	memcpy(gmem(STACK_TOP - 0x110), &(uint64_t){ 0xbbbb }, 8);
	CHECK_EQ(RUN(t_stack), -1);
	CHECK_EQ(cpu->gpr[R_RAX] & 0xffff, 0x1234);
	CHECK_EQ(cpu->gpr[R_RBX], (uint64_t)-2);
	CHECK_EQ(cpu->gpr[R_RCX], STACK_TOP);
	uint64_t q;
	memcpy(&q, gmem(STACK_TOP + 8), 8);
	CHECK_EQ(q, 0x5566);
	CHECK_EQ(cpu->gpr[R_RDX], 7);
	CHECK_EQ(cpu->gpr[R_R8], STACK_TOP - 8);
	CHECK_EQ(cpu->gpr[R_RSP], STACK_TOP);
	CHECK_EQ(cpu->gpr[R_RBP], STACK_TOP - 0x100);
	/* enter $8,$3: push rbp; copy [rbp-8], [rbp-16]; push frame; sub 8 */
	CHECK_EQ(cpu->gpr[R_R10], STACK_TOP - 8);
	CHECK_EQ(cpu->gpr[R_R9], STACK_TOP - 8 - 24 - 8);
	memcpy(&q, gmem(STACK_TOP - 16), 8);
	CHECK_EQ(q, 0xaaaa);
	memcpy(&q, gmem(STACK_TOP - 24), 8);
	CHECK_EQ(q, 0xbbbb);
	memcpy(&q, gmem(STACK_TOP - 32), 8);
	CHECK_EQ(q, STACK_TOP - 8);
}

/* A CALL whose push faults changes nothing; a non-canonical target #GPs before the push. */
GUEST_CODE(t_call_fault, "call *%rax\n");

static void test_call_faults(void)
{
	reset_long64();
	cpu->gpr[R_RSP] = HOLE + 8;
	cpu->gpr[R_RAX] = CODE;
	CHECK_EQ(RUN(t_call_fault), EXC_PF);
	CHECK_EQ(cpu->gpr[R_RSP], HOLE + 8);
	CHECK_EQ(cpu->rip, CODE);
	reset_long64();
	cpu->gpr[R_RAX] = 0x0000800000000000ULL;
	CHECK_EQ(RUN(t_call_fault), EXC_GP);
	CHECK_EQ(cpu->gpr[R_RSP], STACK_TOP);
}

/* Jcc: each condition taken/not taken after CMP, compared with the host
 * (LEA sets the result bits: it leaves the flags alone). */
GUEST_CODE(t_jcc_all,
	   "xor %ecx, %ecx\n"
	   "cmp %rbx, %rax\n"
	   "jo 1f\n lea 1(%rcx), %rcx\n 1:\n" "jno 1f\n lea 2(%rcx), %rcx\n 1:\n"
	   "jb 1f\n lea 4(%rcx), %rcx\n 1:\n" "jae 1f\n lea 8(%rcx), %rcx\n 1:\n"
	   "je 1f\n lea 16(%rcx), %rcx\n 1:\n" "jne 1f\n lea 32(%rcx), %rcx\n 1:\n"
	   "jbe 1f\n lea 64(%rcx), %rcx\n 1:\n" "ja 1f\n lea 128(%rcx), %rcx\n 1:\n"
	   "js 1f\n lea 256(%rcx), %rcx\n 1:\n" "jns 1f\n lea 512(%rcx), %rcx\n 1:\n"
	   "jp 1f\n lea 1024(%rcx), %rcx\n 1:\n" "jnp 1f\n lea 2048(%rcx), %rcx\n 1:\n"
	   "jl 1f\n lea 4096(%rcx), %rcx\n 1:\n" "jge 1f\n lea 8192(%rcx), %rcx\n 1:\n"
	   "jle 1f\n lea 16384(%rcx), %rcx\n 1:\n" "jg 1f\n lea 32768(%rcx), %rcx\n 1:\n");

static void test_jcc(void)
{
	for (int n = 0; n < 2000; n++) {
		uint64_t a = rnd_operand(), b = n & 1 ? a : rnd_operand();
		uint64_t want = 0;
		/* Compute the host's answer with SETcc-equivalent via flags. */
		uint64_t f;
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\tcmp %2, %1\n\tpushfq\n\tpop %0\n\t"
				 "lea 128(%%rsp), %%rsp"
				 : "=r"(f) : "r"(a), "r"(b) : "cc");
		bool of = f & F_OF, cf = f & F_CF, zf = f & F_ZF, sf = f & F_SF, pf = f & F_PF;
		bool cond[16] = { of, !of, cf, !cf, zf, !zf, cf || zf, !(cf || zf), sf, !sf,
				  pf, !pf, sf != of, sf == of, zf || sf != of, !(zf || sf != of) };
		for (int k = 0; k < 16; k++)
			if (!cond[k])
				want |= 1ULL << k;
		reset_long64();
		cpu->gpr[R_RAX] = a;
		cpu->gpr[R_RBX] = b;
		CHECK_EQ(RUN(t_jcc_all), -1);
		CHECK_EQ(cpu->gpr[R_RCX], want);
		if (cpu->gpr[R_RCX] != want)
			break;
	}
}

GUEST_CODE(t_loop, "mov $5, %ecx\n xor %eax, %eax\n 1: inc %eax\n loop 1b\n"
		   "mov $3, %ecx\n 2: dec %ecx\n cmp $0, %ecx\n loopne 2b\n" /* exits on ZF */
		   "mov $0x100000000, %rcx\n 3: inc %edx\n addr32 loop 3b\n" /* ECX=0: ECX-1 wraps */
		   );
GUEST_CODE(t_jrcxz, "xor %ecx, %ecx\n jrcxz 1f\n mov $1, %eax\n 1: mov $0x100000000, %rcx\n"
		    "jecxz 2f\n mov $2, %ebx\n 2:\n");

static void test_loops(void)
{
	reset_long64();
	cpu->gpr[R_RDX] = 0;
	/* the addr32 loop would run 2^32 times: stop the test before it */
	memcpy(gmem(CODE), t_loop_start, (size_t)(t_loop_end - t_loop_start));
	cpu->rip = CODE;
	if (!setjmp(cpu->exc_jmp)) {
		for (int n = 0; n < 12 + 7 + 1 + 10; n++)
			cpu_step(cpu);
	}
	CHECK_EQ(cpu->gpr[R_RAX], 5);
	CHECK_EQ(cpu->gpr[R_RDX], 5);
	CHECK_EQ(cpu->gpr[R_RCX], 0xffffffffULL - 4); /* upper half dropped, 32-bit count */
	reset_long64();
	CHECK_EQ(RUN(t_jrcxz), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 0);
	CHECK_EQ(cpu->gpr[R_RBX], 0);
}

/* Strings. */
GUEST_CODE(t_rep_movsb, "rep movsb\n");
GUEST_CODE(t_rep_stosq, "rep stosq\n");
GUEST_CODE(t_std_movsd, "std\n rep movsl\n cld\n");
GUEST_CODE(t_repe_cmpsb, "repe cmpsb\n");
GUEST_CODE(t_repne_scasb, "repne scasb\n");
GUEST_CODE(t_lods, "lodsw\n lodsl\n");
GUEST_CODE(t_a32_movs, "addr32 rep movsb\n");
GUEST_CODE(t_overlap, "rep movsb\n");

static void test_strings(void)
{
	uint8_t *src = gmem(DATA), *dst = gmem(DATA + 0x10000);
	for (int k = 0; k < 0x3000; k++)
		src[k] = (uint8_t)(k * 7 + 3);
	/* forward copy across pages, odd offsets */
	reset_long64();
	memset(dst, 0, 0x3000);
	cpu->gpr[R_RSI] = DATA + 5;
	cpu->gpr[R_RDI] = DATA + 0x10000 + 0xffd;
	cpu->gpr[R_RCX] = 0x2345;
	CHECK_EQ(RUN(t_rep_movsb), -1);
	CHECK(!memcmp(dst + 0xffd, src + 5, 0x2345));
	CHECK_EQ(dst[0xffc], 0);
	CHECK_EQ(dst[0xffd + 0x2345], 0);
	CHECK_EQ(cpu->gpr[R_RCX], 0);
	CHECK_EQ(cpu->gpr[R_RSI], DATA + 5 + 0x2345);
	CHECK_EQ(cpu->gpr[R_RDI], DATA + 0x10000 + 0xffd + 0x2345);

	/* large count: the budget makes the instruction restart, still correct */
	reset_long64();
	cpu->gpr[R_RSI] = DATA;
	cpu->gpr[R_RDI] = DATA + 0x100000;
	cpu->gpr[R_RCX] = 0x80000;
	memset(gmem(DATA + 0x100000), 0, 0x80000);
	CHECK_EQ(RUN(t_rep_movsb), -1);
	CHECK(!memcmp(gmem(DATA + 0x100000), src, 0x80000));

	/* stosq across a page */
	reset_long64();
	cpu->gpr[R_RAX] = 0x0102030405060708ULL;
	cpu->gpr[R_RDI] = DATA + 0x10000 + 0xff8;
	cpu->gpr[R_RCX] = 600;
	CHECK_EQ(RUN(t_rep_stosq), -1);
	uint64_t q;
	memcpy(&q, dst + 0xff8 + 599 * 8, 8);
	CHECK_EQ(q, 0x0102030405060708ULL);
	memcpy(&q, dst + 0x1000, 8);
	CHECK_EQ(q, 0x0102030405060708ULL);
	CHECK_EQ(cpu->gpr[R_RDI], DATA + 0x10000 + 0xff8 + 600 * 8);

	/* DF=1 movsl */
	reset_long64();
	memset(dst, 0, 0x100);
	cpu->gpr[R_RSI] = DATA + 0x40;
	cpu->gpr[R_RDI] = DATA + 0x10000 + 0x80;
	cpu->gpr[R_RCX] = 4;
	CHECK_EQ(RUN(t_std_movsd), -1);
	CHECK(!memcmp(dst + 0x80 - 12, src + 0x40 - 12, 16));
	CHECK_EQ(dst[0x84], 0);
	CHECK_EQ(cpu->gpr[R_RSI], DATA + 0x40 - 16);
	CHECK_EQ(cpu->gpr[R_RDI], DATA + 0x10000 + 0x80 - 16);

	/* repe cmpsb stops after the first difference */
	reset_long64();
	memcpy(dst, src, 100);
	dst[37] ^= 1;
	cpu->gpr[R_RSI] = DATA;
	cpu->gpr[R_RDI] = DATA + 0x10000;
	cpu->gpr[R_RCX] = 100;
	CHECK_EQ(RUN(t_repe_cmpsb), -1);
	CHECK_EQ(cpu->gpr[R_RCX], 100 - 38);
	CHECK_EQ(cpu->gpr[R_RSI], DATA + 38);
	CHECK(!(cpu_get_rflags(cpu) & F_ZF));

	/* repne scasb finds a byte */
	reset_long64();
	cpu->gpr[R_RAX] = src[50];
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RCX] = 1000;
	CHECK_EQ(RUN(t_repne_scasb), -1);
	CHECK_EQ(cpu->gpr[R_RDI], DATA + 51); /* k*7+3 is a bijection mod 256 */
	CHECK(cpu_get_rflags(cpu) & F_ZF);

	/* lods */
	reset_long64();
	cpu->gpr[R_RSI] = DATA;
	cpu->gpr[R_RAX] = 0xffffffffffffffffULL;
	CHECK_EQ(RUN(t_lods), -1);
	uint32_t d;
	memcpy(&d, src + 2, 4);
	CHECK_EQ(cpu->gpr[R_RAX], d);
	CHECK_EQ(cpu->gpr[R_RSI], DATA + 6);

	/* 32-bit address size: ESI/EDI/ECX, wrapping at 4 GiB, upper halves dropped */
	reset_long64();
	memset(dst, 0, 16);
	cpu->gpr[R_RSI] = 0xffffffff00000000ULL | DATA;
	cpu->gpr[R_RDI] = 0x1234567800000000ULL | (DATA + 0x10000);
	cpu->gpr[R_RCX] = 0x5500000000000008ULL;
	CHECK_EQ(RUN(t_a32_movs), -1);
	CHECK(!memcmp(dst, src, 8));
	CHECK_EQ(cpu->gpr[R_RSI], DATA + 8);
	CHECK_EQ(cpu->gpr[R_RDI], DATA + 0x10000 + 8);
	CHECK_EQ(cpu->gpr[R_RCX], 0);

	/* overlapping forward copy replicates, like the element loop */
	reset_long64();
	memcpy(dst, "abc", 3);
	cpu->gpr[R_RSI] = DATA + 0x10000;
	cpu->gpr[R_RDI] = DATA + 0x10003;
	cpu->gpr[R_RCX] = 9;
	CHECK_EQ(RUN(t_overlap), -1);
	CHECK(!memcmp(dst, "abcabcabcabc", 12));

	/* a fault part-way leaves rCX/rSI/rDI at the faulting element, rip at the insn */
	reset_long64();
	cpu->gpr[R_RSI] = DATA;
	cpu->gpr[R_RDI] = HOLE - 0x10;
	cpu->gpr[R_RCX] = 0x40;
	CHECK_EQ(RUN(t_rep_movsb), EXC_PF);
	CHECK_EQ(cpu->gpr[R_RCX], 0x30);
	CHECK_EQ(cpu->gpr[R_RSI], DATA + 0x10);
	CHECK_EQ(cpu->gpr[R_RDI], HOLE);
	CHECK_EQ(cpu->rip, CODE);
	CHECK(!memcmp(gmem(HOLE - 0x10), src, 0x10));
	CHECK_EQ(cpu->cr2, HOLE);
}

/* I/O to a test device on vm->pio. */
struct iodev {
	uint64_t last_val;
	unsigned last_off, last_size, reads, writes;
};

static uint64_t iodev_read(void *opaque, uint64_t off, unsigned size)
{
	struct iodev *d = opaque;
	d->reads++;
	d->last_off = (unsigned)off;
	d->last_size = size;
	return 0xa0 + off + d->reads;
}

static void iodev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct iodev *d = opaque;
	d->writes++;
	d->last_off = (unsigned)off;
	d->last_val = val;
	d->last_size = size;
}

static const struct bus_ops iodev_ops = { iodev_read, iodev_write };
static struct iodev iodev;

GUEST_CODE(t_io, "mov $0x1234567, %eax\n out %al, $0x70\n mov $0x72, %dx\n out %eax, (%dx)\n"
		 "in $0x71, %al\n mov %eax, %ebx\n in (%dx), %ax\n mov $0x90, %dx\n in (%dx), %eax\n");
GUEST_CODE(t_rep_ins, "rep insw\n");
GUEST_CODE(t_rep_outs, "rep outsb\n");

static void test_io(void)
{
	CHECK_EQ(bus_register(&vm.pio, 0x70, 8, &iodev_ops, &iodev, "test"), 0);
	reset_long64();
	CHECK_EQ(RUN(t_io), -1);
	CHECK_EQ(iodev.writes, 2);
	CHECK_EQ(iodev.last_val, 0x1234567);
	CHECK_EQ(cpu->gpr[R_RBX], 0x1234500 + 0xa0 + 1 + 1);
	CHECK_EQ(cpu->gpr[R_RAX], 0xffffffff); /* unclaimed port */

	reset_long64();
	iodev.reads = 0;
	cpu->gpr[R_RDX] = 0x74;
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RCX] = 3;
	CHECK_EQ(RUN(t_rep_ins), -1);
	uint16_t w[3];
	memcpy(w, gmem(DATA), 6);
	CHECK_EQ(w[0], 0xa0 + 4 + 1);
	CHECK_EQ(w[2], 0xa0 + 4 + 3);
	CHECK_EQ(iodev.last_size, 2);

	reset_long64();
	iodev.writes = 0;
	memcpy(gmem(DATA), "xyz", 3);
	cpu->gpr[R_RDX] = 0x75;
	cpu->gpr[R_RSI] = DATA;
	cpu->gpr[R_RCX] = 3;
	CHECK_EQ(RUN(t_rep_outs), -1);
	CHECK_EQ(iodev.writes, 3);
	CHECK_EQ(iodev.last_val, 'z');

	/* CPL 3 with IOPL 0 and no usable TSS: #GP before the device sees anything */
	reset_long64();
	cpu->cpl = 3;
	cpu->tr.type = 3; /* 16-bit busy TSS */
	iodev.writes = 0;
	CHECK_EQ(RUN(t_io), EXC_GP);
	CHECK_EQ(iodev.writes, 0);
	/* a 64-bit TSS whose bitmap allows 0x70 only */
	reset_long64();
	uint8_t *tss = gmem(0x6000);
	memset(tss, 0, 0x100);
	tss[0x66] = 0x80; /* bitmap at +0x80 */
	memset(tss + 0x80, 0xff, 0x20);
	tss[0x80 + 0x70 / 8] = 0xfe; /* port 0x70 allowed */
	cpu->tr = (struct x86_seg){ .base = 0x6000, .limit = 0x80 + 0x20, .type = 11, .present = 1 };
	cpu->cpl = 3;
	cpu->seg[SEG_CS].dpl = 3;
	CHECK_EQ(RUN(t_io), EXC_GP); /* out %eax to 0x72 refused */
	CHECK_EQ(iodev.writes, 1);
	CHECK_EQ(cpu->rip, CODE + 11);
}

/* 32-bit protected mode: BCD, PUSHA/POPA, AAM #DE. */
GUEST_CODE(t_bcd, ".code32\n"
		  "mov $0x79, %al\n add $0x35, %al\n daa\n mov %al, %bl\n"   /* 79+35 = 114 -> 0x14, CF */
		  "setc %bh\n"
		  "mov $0x14, %al\n sub $0x35, %al\n das\n mov %al, %cl\n"   /* 14-35 = -21 -> 0x79, CF */
		  "setc %ch\n"
		  "mov $0x0009, %ax\n add $0x08, %al\n aaa\n mov %ax, %dx\n" /* 9+8=17 -> AX=0x0107 */
		  "mov $0x4f, %al\n aam\n mov %ax, %si\n"                     /* 79 -> AH=7 AL=9 */
		  "mov $0x0709, %ax\n aad\n mov %ax, %di\n"                   /* -> 79 */
		  ".code64\n");
GUEST_CODE(t_pusha, ".code32\n pusha\n xor %eax, %eax\n xor %ebx, %ebx\n mov $0, %esi\n"
		    " popa\n .code64\n");
GUEST_CODE(t_aam0, ".code32\n aam $0\n .code64\n");

static void test_mode32(void)
{
	reset_flat32();
	CHECK_EQ(RUN(t_bcd), -1);
	CHECK_EQ(cpu->gpr[R_RBX] & 0xffff, 0x0114);
	CHECK_EQ(cpu->gpr[R_RCX] & 0xffff, 0x0179);
	CHECK_EQ(cpu->gpr[R_RDX] & 0xffff, 0x0107);
	CHECK_EQ(cpu->gpr[R_RSI] & 0xffff, 0x0709);
	CHECK_EQ(cpu->gpr[R_RDI] & 0xffff, 79);
	reset_flat32();
	for (int r = 0; r < 8; r++)
		if (r != R_RSP)
			cpu->gpr[r] = 0x1000 + r;
	CHECK_EQ(RUN(t_pusha), -1);
	for (int r = 0; r < 8; r++)
		if (r != R_RSP)
			CHECK_EQ(cpu->gpr[r], 0x1000 + r);
	CHECK_EQ(cpu->gpr[R_RSP], STACK_TOP);
	uint32_t d;
	memcpy(&d, gmem(STACK_TOP - 20), 4);
	CHECK_EQ(d, STACK_TOP); /* the SP slot holds the original ESP */
	reset_flat32();
	CHECK_EQ(RUN(t_aam0), EXC_DE);
}

/* Shifts by zero keep the flags; 32-bit forms still zero-extend. */
GUEST_CODE(t_shift0, "mov $0xffffffffffffffff, %rax\n xor %ecx, %ecx\n stc\n shl %cl, %eax\n"
		     "setc %bl\n rcl %cl, %eax\n");
GUEST_CODE(t_pop_rsp_mem, "push $0x77\n pop (%rsp)\n");

static void test_misc(void)
{
	reset_long64();
	CHECK_EQ(RUN(t_shift0), -1);
	CHECK_EQ(cpu->gpr[R_RAX], 0xffffffff);
	CHECK_EQ(cpu->gpr[R_RBX] & 0xff, 1);
	reset_long64();
	CHECK_EQ(RUN(t_pop_rsp_mem), -1);
	uint64_t q;
	memcpy(&q, gmem(STACK_TOP), 8);
	CHECK_EQ(q, 0x77);
	CHECK_EQ(cpu->gpr[R_RSP], STACK_TOP);
}

/* ALU and move forms with memory operands, moffs, RIP-relative LEA. */
GUEST_CODE(t_forms, "add (%rdi), %eax\n"          /* Gv,Ev */
		    "subw $3, 4(%rdi)\n"          /* Ev,Ibs */
		    "xorb %al, 6(%rdi)\n"         /* Eb,Gb */
		    "movzbl 7(%rdi), %ebx\n"
		    "movswq 4(%rdi), %rcx\n"
		    "movabs %eax, 0x200010\n"     /* Ov,rAX (moffs64) */
		    "movabs 0x200010, %al\n"
		    "lea 0x10(%rip), %rdx\n"
		    "rclb $1, 7(%rdi)\n"
		    "setnz 8(%rdi)\n"
		    "cmpl $5, (%rdi)\n"
		    "setz %sil\n");

static void test_forms(void)
{
	reset_long64();
	uint8_t *m = gmem(DATA);
	memset(m, 0, 32);
	memcpy(m, &(uint32_t){ 5 }, 4);
	memcpy(m + 4, &(uint16_t){ 1 }, 2);
	m[7] = 0x81;
	cpu->gpr[R_RDI] = DATA;
	cpu->gpr[R_RAX] = 0xffffffff00000010ULL;
	CHECK_EQ(RUN(t_forms), -1);
	uint16_t w;
	memcpy(&w, m + 4, 2);
	CHECK_EQ(w, 0xfffe);
	CHECK_EQ(m[6], 0x15);
	CHECK_EQ(cpu->gpr[R_RBX], 0x81);
	CHECK_EQ(cpu->gpr[R_RCX], (uint64_t)-2);
	uint32_t d;
	memcpy(&d, m + 0x10, 4);
	CHECK_EQ(d, 0x15);
	CHECK_EQ(cpu->gpr[R_RAX], 0x15);
	/* rdx = the end of the LEA (48 8D 15 disp32) + 0x10 */
	static const uint8_t lea[] = { 0x48, 0x8d, 0x15, 0x10, 0, 0, 0 };
	size_t off = 0;
	while (memcmp(t_forms_start + off, lea, sizeof(lea)))
		off++;
	CHECK_EQ(cpu->gpr[R_RDX], CODE + off + sizeof(lea) + 0x10);
	CHECK_EQ(m[7], 0x02); /* rcl: CF (0 from the xor) in, bit 7 out */
	CHECK_EQ(m[8], 1);
	CHECK_EQ(cpu->gpr[R_RSI] & 0xff, 1);
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

	test_divide_errors();
	test_memory_forms();
	test_bt_memory();
	test_cmpxchg();
	test_cmov();
	test_stack();
	test_call_faults();
	test_jcc();
	test_loops();
	test_strings();
	test_io();
	test_mode32();
	test_misc();
	test_forms();
	test_differential();

	/* Again through blocks and the JIT. */
	cpu->tbc = tb_cache_create();
	if (code_pages_init(&code_pages, &vm.mem) || !cpu->tbc) {
		fprintf(stderr, "cannot create the block cache\n");
		return 1;
	}
	cpu->code_pages = &code_pages;
	cpu->vcpu = &vm.vcpus[0]; /* block code polls its pending events */
	block_mode = true;
	test_blocks();
	test_differential();
	block_mode = false;
	cpu->code_pages = NULL;
	tb_cache_destroy(cpu->tbc);
	cpu->tbc = NULL;
	code_pages_destroy(&code_pages);
	return test_exit();
}
