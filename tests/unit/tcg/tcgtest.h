/*
 * Shared by the interpreter's unit tests: running a piece of guest code to
 * its end with cpu_step(), and a small deterministic PRNG for operands.
 */
#ifndef KEMU_TESTS_TCGTEST_H
#define KEMU_TESTS_TCGTEST_H

#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "accel/tcg/cpu.h"

/*
 * Copies [start, end) to code (guest address gpa, host pointer code) and
 * steps until RIP falls off its end, at most max_steps instructions.
 * Returns -1, or the vector of the exception raised (RIP left at the
 * faulting instruction, nothing delivered).
 */
static inline int tcgtest_run(struct x86_cpu *cpu, uint8_t *code, uint64_t gpa,
			      const uint8_t *start, const uint8_t *end, int max_steps)
{
	size_t len = (size_t)(end - start);
	memcpy(code, start, len);
	cpu->rip = gpa;
	cpu->exc_vector = -1;
	if (setjmp(cpu->exc_jmp)) {
		cpu->rip = cpu->insn_rip;
		return cpu->exc_vector;
	}
	for (int n = 0; cpu->rip != gpa + len && n < max_steps; n++)
		cpu_step(cpu);
	return -1;
}

/* xorshift64: reproducible random operands. */
static inline uint64_t tcgtest_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
