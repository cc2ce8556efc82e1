#include "accel/tcg/codecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int code_pages_init(struct code_pages *cp, const struct guest_mem *m)
{
	cp->npages = (size_t)(m->ram_size >> 12);
	cp->base = m->base;
	cp->gen = calloc(cp->npages, sizeof(*cp->gen));
	cp->code = calloc(cp->npages, sizeof(*cp->code));
	if (!cp->gen || !cp->code) {
		code_pages_destroy(cp);
		return -ENOMEM;
	}
	return 0;
}

void code_pages_destroy(struct code_pages *cp)
{
	free((void *)cp->gen);
	free((void *)cp->code);
	cp->gen = NULL;
	cp->code = NULL;
	cp->npages = 0;
}

void code_pages_written(struct code_pages *cp, const void *host, size_t len)
{
	if (!len || !cp->npages)
		return;
	size_t first = code_page_index(cp, host);
	size_t last = code_page_index(cp, (const uint8_t *)host + len - 1);
	for (size_t i = first; i <= last && i < cp->npages; i++)
		if (atomic_load_explicit(&cp->code[i], memory_order_relaxed))
			code_page_invalidate(cp, i);
}

static void jc_clear(struct tb_cache *tc)
{
	for (unsigned u = 0; u < 2; u++)
		for (unsigned i = 0; i < JC_SIZE; i++)
			tc->jc[u][i] = (struct jc_entry){ .va = JC_EMPTY };
}

struct tb_cache *tb_cache_create(void)
{
	struct tb_cache *tc = calloc(1, sizeof(*tc));
	if (!tc)
		return NULL;
	/* Untouched arena pages cost nothing until blocks are built there. */
	tc->arena = aligned_alloc(64, TB_ARENA_SIZE);
	if (!tc->arena) {
		free(tc);
		return NULL;
	}
	jc_clear(tc);
	jit_arena_init(&tc->jit); /* without it, the interpreter loop runs every block */
	return tc;
}

void tb_cache_destroy(struct tb_cache *tc)
{
	if (!tc)
		return;
	jit_arena_destroy(&tc->jit);
	free(tc->arena);
	free(tc);
}

void tb_cache_flush(struct tb_cache *tc)
{
	/* Every pointer into the arena lives in hash, jc, last or the blocks
	 * themselves, so clearing the first three makes all of them unreachable. */
	memset(tc->hash, 0, sizeof(tc->hash));
	jc_clear(tc);
	tc->last = NULL;
	tc->arena_used = 0;
	jit_arena_reset(&tc->jit);
	tc->link_slot = NULL;
	tc->link_from = NULL;
	tc->flushes++;
}
