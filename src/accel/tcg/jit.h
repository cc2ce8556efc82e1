/*
 * Call-threaded host code for decoded blocks: the first stage of the
 * binary translator.
 *
 * An interpreter spends much of its time in its own dispatch: one
 * indirect call site calls every handler, so the host's branch predictor
 * sees a single jump with hundreds of targets, and the loop around it
 * reloads and re-checks state per instruction. jit_emit_block() turns a
 * decoded block (codecache.h) into straight-line x86-64 host code that
 * does exactly what the run loop (cpu.c) would do for it, with each
 * handler called from its own call site:
 *
 *     per instruction k:   cpu->insn_rip = start + off_k
 *                          cpu->rip      = start + off_k + len_k
 *                          handler_k(cpu, &insn_k)
 *     unless k is last:    if (cpu->rip != start + off_k + len_k)  exit (k + 1)
 *                          if (*genp != gen)                       exit (k + 1)
 *
 * except that the commonest forms are emitted inline: register-only ones
 * (no call, no rip update: they cannot fault, branch or store), and memory,
 * stack, CALL and RET forms whose TLB hit path is inline and whose every
 * other case calls the handler as above. A block that is a loop goes
 * round in host code, and exits to constant addresses chain into the next
 * block's code (below).
 *
 * so the semantics (handlers, precise faults through cpu_raise's longjmp,
 * leaving the block on a taken branch or a store into its page) are the
 * interpreter's; only the dispatch changes. Block code returns how many
 * instructions it retired. Code is emitted for 64-bit blocks only (no
 * 32-bit rip wrap, no CS limit), and only on an x86-64 host; everything
 * else runs through the interpreter loop.
 *
 * The translator proper (later) will replace handler calls with inline
 * host code for the common forms, keeping this frame.
 */
#ifndef KEMU_ACCEL_TCG_JIT_H
#define KEMU_ACCEL_TCG_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tb;
struct x86_cpu;

/* Host code for one block: runs it from guest rip, returns insns retired. */
typedef unsigned (*jit_block_fn)(struct x86_cpu *cpu, uint64_t rip);

/* Executable memory for a vCPU's blocks, reset with its block cache. */
struct jit_arena {
	uint8_t *base;
	size_t size, used;
	size_t fixed;        /* bytes at base that a reset keeps (the dispatchers) */
	uint8_t *dispatch[2]; /* jit_dispatch code: [0] supervisor, [1] user blocks */
};

/* Maps the arena; false (and no JIT: the interpreter runs everything)
 * when the host is not x86-64, KEMU_JIT=0 is set, or executable memory is
 * refused (W^X policies). */
bool jit_arena_init(struct jit_arena *a);
void jit_arena_destroy(struct jit_arena *a);
static inline void jit_arena_reset(struct jit_arena *a)
{
	a->used = a->fixed;
}

/* Upper bound of the code one block takes (TB_MAX_INSNS instructions). */
size_t jit_block_max_size(void);

/* Emits code for b, a committed 64-bit block, and sets b->jit_chain; NULL
 * without an arena or room. */
jit_block_fn jit_emit_block(struct jit_arena *a, struct tb *b);

/*
 * Chaining: a block's code may go on directly into the code of the block
 * at a constant guest address (a direct branch's target, or where it falls
 * through), after checking that its page is unchanged and no event is
 * posted; on another page, through a trampoline that also checks the
 * mapping and that page (jit_emit_trampoline). The jump starts out returning to cpu_run, which
 * finds the next block and then points the jump at it (jit_link) when
 * both blocks share page, mode and page generation. A flush of the cache
 * discards the links with the code.
 */
void jit_link(uint8_t *slot, const void *target);

/*
 * A link from slot (in block from) to a block on another page: code that
 * checks that the target's CS:RIP still maps to the host page it maps to
 * now (addend, the code TLB's) and that the target's page is unchanged,
 * then enters it; NULL when the arena has no room. Link the slot to what
 * it returns. When the mapping or the code has changed, the trampoline
 * returns naming the slot again (tc->link_slot), so that it is relinked
 * to the block there now.
 */
void *jit_emit_trampoline(struct jit_arena *a, const struct tb *to, uintptr_t addend, uint8_t *slot,
			  const struct tb *from);

/*
 * Indirect branches (RET, JMP/CALL through a register or memory) have no
 * constant target to chain to. Their blocks end in a dispatcher, shared
 * by all blocks of one privilege, that looks the new rip up in the block
 * cache's jump cache (codecache.h: struct jc_entry, filled by cpu.c with
 * each block it enters) and goes on into that block's code when the entry
 * is for this rip, the code TLB still maps rip to the same host page and
 * the block's page is unchanged; otherwise it returns to cpu_run. Near
 * RET/JMP/CALL cannot change the privilege or the mode, so the target
 * block has the caller's.
 */
#endif
