/*
 * Decoded-instruction cache with self-modifying-code detection.
 *
 * Decoding costs far more than executing a simple instruction, so each
 * vCPU keeps decoded instructions in a direct-mapped cache keyed by
 * physical address and decode mode. Guest RAM pages that hold cached code
 * are marked "code"; the MMU never gives a code page a fast-path write
 * entry, so the first store to one reaches tlb_fill, which bumps the
 * page's generation (invalidating every cached instruction on it) and
 * unmarks it. Entries remember the generation they were decoded under.
 *
 * The page state is per VM (struct code_pages, indexed by the page's
 * offset in the guest RAM mapping); the cache itself is per vCPU. When a
 * page becomes code, the other vCPUs are asked to flush their TLBs so none
 * keeps a writable entry for it. (A store racing with that request may
 * slip through; cross-modifying code needs serialisation on real hardware
 * too.) Anything else that writes guest RAM behind the MMU's back (device
 * DMA) must call code_pages_written().
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

#define DCACHE_BITS 13
#define DCACHE_SIZE (1u << DCACHE_BITS)

struct dcache_entry {
	uint64_t tag; /* physical address | mode << 56 | 1 << 63; 0 = empty */
	uint32_t gen;
	struct x86_insn insn;
};

static inline uint64_t dcache_tag(uint64_t pa, unsigned mode)
{
	return pa | ((uint64_t)mode << 56) | (1ULL << 63);
}

static inline unsigned dcache_index(uint64_t pa)
{
	return (unsigned)(pa ^ (pa >> DCACHE_BITS)) & (DCACHE_SIZE - 1);
}

#endif
