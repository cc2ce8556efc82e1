/*
 * Decoded-block cache with self-modifying-code detection.
 *
 * Decoding costs far more than executing a simple instruction, so each
 * vCPU keeps straight-line blocks of decoded instructions (below), keyed
 * by physical address and decode mode. Guest RAM pages that hold cached
 * code are marked "code"; the MMU never gives a code page a fast-path
 * write entry, so the first store to one reaches tlb_fill, which bumps the
 * page's generation (invalidating every block decoded from it) and unmarks
 * it. Blocks remember the generation they were decoded under; the run
 * loop re-checks it after every instruction, so a store into the running
 * block's page takes effect from the next instruction on.
 *
 * The page state is per VM (struct code_pages, indexed by the page's
 * offset in the guest RAM mapping); the block cache itself is per vCPU.
 * When a page becomes code, the other vCPUs are asked to flush their TLBs
 * so none keeps a writable entry for it. (A store racing with that request
 * may slip through; cross-modifying code needs serialisation on real
 * hardware too.) Anything else that writes guest RAM behind the MMU's back
 * (device DMA) must call code_pages_written().
 *
 * The translator will key its blocks the same way.
 */
#ifndef KEMU_ACCEL_TCG_CODECACHE_H
#define KEMU_ACCEL_TCG_CODECACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel/tcg/decode.h"
#include "accel/tcg/jit.h"
#include "core/mem.h"

struct code_pages {
	_Atomic uint32_t *gen; /* per RAM page: bumped when code on it is overwritten */
	_Atomic uint8_t *code; /* per RAM page: cached instructions may exist */
	size_t npages;
	const uint8_t *base;   /* guest RAM host mapping (vm->mem.base) */
};

int code_pages_init(struct code_pages *cp, const struct guest_mem *m);
void code_pages_destroy(struct code_pages *cp);

static inline size_t code_page_index(const struct code_pages *cp, const void *host)
{
	return (size_t)((const uint8_t *)host - cp->base) >> 12;
}

static inline bool code_page_is_code(const struct code_pages *cp, size_t idx)
{
	return idx < cp->npages && atomic_load_explicit(&cp->code[idx], memory_order_relaxed);
}

/* A store is about to reach page idx: drop the code cached from it. */
static inline void code_page_invalidate(struct code_pages *cp, size_t idx)
{
	atomic_store(&cp->code[idx], 0);
	atomic_fetch_add(&cp->gen[idx], 1);
}

/* For writers outside the MMU (DMA): host range [host, host+len) changed. */
void code_pages_written(struct code_pages *cp, const void *host, size_t len);

/* ---- Per-vCPU block cache ---------------------------------------------- */

/*
 * A block: up to TB_MAX_INSNS decoded instructions that run straight
 * through, all on one guest page, keyed by the physical address of the
 * first byte and the decode mode. The run loop (cpu.c) looks a block up
 * once and then, per instruction, only sets insn_rip/rip and calls the
 * handler resolved at build time. It leaves the block early when a handler
 * moved rip anywhere but the next instruction (taken branch, REP restart)
 * or when the page's generation moved (a store hit code: the next
 * instruction may be stale).
 *
 * Blocks live in a per-vCPU arena, found through a direct-mapped table of
 * pointers. An evicted or stale block stays in the arena (unreachable from
 * the table) until the arena fills; then everything is dropped at once.
 * Each block also remembers the block that ran after it last time, a
 * shortcut past the table that is checked exactly like a table hit (tag
 * and generation), so it is only ever a hint.
 */
#define TB_MAX_INSNS 32
#define TB_HASH_BITS 14
#define TB_HASH_SIZE (1u << TB_HASH_BITS)
#define TB_ARENA_SIZE (128u << 20)

struct x86_cpu;
/* Same type as exec.h's exec_fn, repeated to keep this header low-level. */
typedef void (*tb_exec_fn)(struct x86_cpu *cpu, const struct x86_insn *i);

struct tb_insn {
	tb_exec_fn fn; /* a form-specialised handler (exec_*_specialize), exec_table[insn.op], or the #UD stub */
	struct x86_insn insn;
};

struct tb {
	uint64_t tag;                 /* tb_tag(): pa | mode | user | valid */
	const _Atomic uint32_t *genp; /* the code page's generation counter */
	struct tb *next;              /* the block that followed last time (a hint) */
	uint32_t gen;                 /* *genp when decoded */
	uint16_t ninsn;
	uint16_t bytes;               /* guest bytes from the first instruction's start */
	uint8_t ended;                /* its last instruction ends blocks (cpu.c) */
	jit_block_fn jit;             /* host code for the block (jit.h), or NULL */
	void *jit_chain;              /* where chained blocks enter that code */
	/* A block of one instruction that crosses into the next page (cpu.c)
	 * also depends on that page: its generation, and which physical page
	 * the next virtual page maps to (checked at every lookup). */
	const _Atomic uint32_t *genp2; /* NULL: the block lies in one page */
	uint32_t gen2;
	uint64_t pa2;
	struct tb_insn insn[];
};

/*
 * The jump cache (jit.h): a direct-mapped table per privilege, by virtual
 * rip, of blocks recently entered, with what makes an entry still good:
 * the code TLB addend the rip translated with and the block's page
 * generation. Cleared with the blocks on a flush.
 */
#define JC_BITS 14
#define JC_SIZE (1u << JC_BITS)

struct jc_entry {
	uint64_t va;                  /* the block's first rip; JC_EMPTY: none */
	void *code;                   /* its jit_chain entry */
	uintptr_t addend;             /* the code TLB's host - va for that page */
	const _Atomic uint32_t *genp; /* the block's genp and gen */
	uint32_t gen, pad;
};

/* Non-canonical, so no rip ever matches it. */
#define JC_EMPTY 0x8000000000000000ULL

static inline unsigned jc_index(uint64_t va)
{
	return (unsigned)(va ^ (va >> JC_BITS)) & (JC_SIZE - 1);
}

struct tb_cache {
	struct tb *hash[TB_HASH_SIZE];
	struct jc_entry jc[2][JC_SIZE]; /* [0] supervisor, [1] user blocks */
	struct tb *last;              /* the block run last, for its next hint */
	uint8_t *arena;
	size_t arena_used;
	struct jit_arena jit;         /* host code of the blocks, reset with them */
	/* The chain jump the last block left through unlinked, and its block
	 * (jit.h): cpu_exec_block links it to the block that runs next. */
	uint8_t *link_slot;
	struct tb *link_from;
	uint64_t built, stale, flushes; /* statistics; stale: rebuilt after a store */
};

struct tb_cache *tb_cache_create(void);
void tb_cache_destroy(struct tb_cache *tc);
/* Drops every block (the arena is full). */
void tb_cache_flush(struct tb_cache *tc);

/* Space for a new block of up to TB_MAX_INSNS, flushing when the arena is full. */
static inline struct tb *tb_alloc(struct tb_cache *tc)
{
	const size_t max = sizeof(struct tb) + TB_MAX_INSNS * sizeof(struct tb_insn);
	if (tc->arena_used + max > TB_ARENA_SIZE ||
	    (tc->jit.base && tc->jit.size - tc->jit.used < jit_block_max_size()))
		tb_cache_flush(tc);
	return (struct tb *)(tc->arena + tc->arena_used);
}

/* The table slot of a tag: page-number bits, folded with mode and CPL. */
static inline unsigned tb_hash_index(uint64_t tag)
{
	return (unsigned)(tag ^ (tag >> TB_HASH_BITS) ^ (tag >> 56)) & (TB_HASH_SIZE - 1);
}

/* Makes b, built in the space tb_alloc() returned, findable. */
static inline void tb_commit(struct tb_cache *tc, struct tb *b)
{
	size_t size = sizeof(struct tb) + b->ninsn * sizeof(struct tb_insn);
	tc->arena_used += (size + 63) & ~(size_t)63; /* keep blocks on cache lines */
	tc->hash[tb_hash_index(b->tag)] = b;
	tc->built++;
}

/* user: the block runs at CPL 3 (the JIT's inline memory accesses use
 * that privilege's TLB, so the same code at CPL 0 and 3 is two blocks). */
static inline uint64_t tb_tag(uint64_t pa, unsigned mode, bool user)
{
	return pa | ((uint64_t)mode << 56) | ((uint64_t)user << 60) | (1ULL << 63);
}

static inline bool tb_tag_user(uint64_t tag)
{
	return (tag >> 60) & 1;
}

static inline struct tb *tb_hash_lookup(const struct tb_cache *tc, uint64_t tag)
{
	return tc->hash[tb_hash_index(tag)];
}

/* A block is usable when it was built for tag and its page is unchanged since. */
static inline bool tb_valid(const struct tb *b, uint64_t tag)
{
	return b && b->tag == tag &&
	       atomic_load_explicit(b->genp, memory_order_acquire) == b->gen &&
	       (!b->genp2 || atomic_load_explicit(b->genp2, memory_order_acquire) == b->gen2);
}

#endif
