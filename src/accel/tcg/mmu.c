/*
 * The software MMU: guest-physical access, the x86 page walk in every
 * paging mode, the per-vCPU TLB and the slow paths behind mmu.h's inline
 * fast paths. Segmentation is in seg.c.
 *
 * Data flow: an access that misses the TLB (or crosses a page, or hits an
 * MMIO page) comes to mmu_ld_slow/mmu_st_slow/mmu_read_as/... Those first
 * translate every page the access touches (mmu_xlate: TLB, else
 * tlb_fill -> mmu_walk, raising #PF), and only then move bytes: host RAM by
 * memcpy, anything else through phys_read/phys_write to vm->mmio. Faults
 * are therefore precise across page boundaries.
 *
 * Guest page tables are shared with other vCPUs, so entries are read with
 * atomic loads and Accessed/Dirty bits are set with compare-and-swap
 * against the value the walk used: if another vCPU changed the entry in
 * the meantime (for example Linux clearing it), the walk starts again
 * rather than setting bits in an entry it did not check.
 */
#include "accel/tcg/mmu.h"
#include "accel/tcg/codecache.h"

#include <pthread.h>
#include <string.h>

#include "core/bus.h"
#include "core/mem.h"

/* Paging-entry bits. */
#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_PS 0x80ULL
#define PTE_G 0x100ULL
#define PTE_NX (1ULL << 63)

/* Physical-address field of an entry pointing to a 4K table or page. */
#define PTE_ADDR (MMU_PHYS_MASK & MMU_PAGE_MASK)
/* Above MAXPHYADDR: bits 51:40 in 4-level entries (62:52 are ignored). */
#define RSVD_LONG (((1ULL << 52) - 1) & ~MMU_PHYS_MASK)
/* PAE entries reserve everything from 62 down to MAXPHYADDR. */
#define RSVD_PAE (((1ULL << 63) - 1) & ~MMU_PHYS_MASK)
/* PAE PDPTEs: bits 63:40, 8:5 and 2:1 (no R/W, U/S, A, PS, XD there). */
#define RSVD_PAE_PDPTE (~MMU_PHYS_MASK | 0x1e6ULL)
/* Address bits of a large-page entry that must be zero: 29:13 (1G), 20:13 (2M). */
#define RSVD_1G 0x3fffe000ULL
#define RSVD_2M 0x1fe000ULL
/* 32-bit paging 4M page: bit 21 (bits 20:13 carry PA bits 39:32). */
#define RSVD_4M (1ULL << 21)

/* ---- Physical memory ------------------------------------------------- */

/* The largest naturally aligned piece of at most 8 bytes starting at pa. */
static unsigned mmio_piece(uint64_t pa, size_t len)
{
	unsigned n = 8;
	while (n > len || (pa & (n - 1)))
		n >>= 1;
	return n;
}

static void mmio_read(struct vm *vm, uint64_t pa, uint8_t *out, size_t len)
{
	while (len) {
		unsigned n = mmio_piece(pa, len);
		/* bus_read leaves the buffer alone when nothing claims a byte. */
		memset(out, 0xff, n);
		bus_read(&vm->mmio, pa, out, n);
		pa += n;
		out += n;
		len -= n;
	}
}

static void mmio_write(struct vm *vm, uint64_t pa, const uint8_t *in, size_t len)
{
	while (len) {
		unsigned n = mmio_piece(pa, len);
		bus_write(&vm->mmio, pa, in, n);
		pa += n;
		in += n;
		len -= n;
	}
}

/*
 * RAM regions start and end on page boundaries, so a piece that does not
 * cross a page is either wholly RAM or wholly not.
 */
void phys_read(struct vm *vm, uint64_t pa, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		size_t n = (size_t)(MMU_PAGE_SIZE - (pa & 0xfff));
		if (n > len)
			n = len;
		const void *h = guest_ptr(&vm->mem, pa, n);
		if (h)
			memcpy(out, h, n);
		else
			mmio_read(vm, pa, out, n);
		pa += n;
		out += n;
		len -= n;
	}
}

void phys_write(struct vm *vm, uint64_t pa, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	while (len) {
		size_t n = (size_t)(MMU_PAGE_SIZE - (pa & 0xfff));
		if (n > len)
			n = len;
		void *h = guest_ptr(&vm->mem, pa, n);
		if (h)
			memcpy(h, in, n);
		else
			mmio_write(vm, pa, in, n);
		pa += n;
		in += n;
		len -= n;
	}
}

/* ---- Page walk --------------------------------------------------------- */

/* One paging-structure entry the walk used, for the Accessed/Dirty update. */
struct walk_entry {
	void *host;   /* NULL: not in RAM (read as all-ones, nothing to update) */
	uint64_t val; /* as read */
	uint8_t size; /* 4 or 8 */
	bool set_a;   /* PAE PDPTEs have no Accessed bit */
};

struct walk_state {
	struct walk_entry e[4];
	int n;
	/* Accumulated over the levels. */
	bool w, u, nx;
	/* The leaf. */
	uint64_t leaf, pa, size;
};

static uint64_t pte_load(struct vm *vm, uint64_t pa, unsigned size, void **host)
{
	void *h = guest_ptr(&vm->mem, pa, size);
	*host = h;
	if (!h)
		return size == 8 ? ~0ULL : 0xffffffffULL;
	if (size == 8)
		return __atomic_load_n((uint64_t *)h, __ATOMIC_ACQUIRE);
	return __atomic_load_n((uint32_t *)h, __ATOMIC_ACQUIRE);
}

static void walk_record(struct walk_state *ws, void *host, uint64_t val, unsigned size, bool set_a)
{
	ws->e[ws->n++] = (struct walk_entry){ host, val, (uint8_t)size, set_a };
}

/* A level's permission bits narrow the access (all levels must allow). */
static void walk_perm(struct walk_state *ws, uint64_t e)
{
	ws->w &= (e & PTE_W) != 0;
	ws->u &= (e & PTE_U) != 0;
	ws->nx |= (e & PTE_NX) != 0;
}

/* Return 0, or the error bits PF_RSVD (present entry) / 0 (not present) | 1u<<31. */
#define WALK_NOT_PRESENT (1u << 31)
#define WALK_RSVD ((1u << 31) | PF_P | PF_RSVD)

/* A 64-bit-format leaf (4-level or PAE) mapping 1 << shift bytes. */
static uint32_t walk_leaf64(struct walk_state *ws, uint64_t e, unsigned shift, uint64_t la)
{
	ws->size = 1ULL << shift;
	ws->leaf = e;
	ws->pa = (e & PTE_ADDR & ~(ws->size - 1)) | (la & (ws->size - 1));
	return 0;
}

static uint32_t walk_long(struct x86_cpu *cpu, uint64_t la, struct walk_state *ws)
{
	uint64_t rsvd_all = RSVD_LONG | ((cpu->efer & X86_EFER_NXE) ? 0 : PTE_NX);
	uint64_t table = cpu->cr3 & PTE_ADDR;
	for (unsigned shift = 39;; shift -= 9) {
		void *h;
		uint64_t e = pte_load(cpu->vm, table + ((la >> shift) & 511) * 8, 8, &h);
		if (!(e & PTE_P))
			return WALK_NOT_PRESENT;
		uint64_t rsvd = rsvd_all;
		bool leaf = shift == 12;
		if (shift == 39)
			rsvd |= PTE_PS;
		else if (shift == 30 && (e & PTE_PS))
			rsvd |= RSVD_1G, leaf = true;
		else if (shift == 21 && (e & PTE_PS))
			rsvd |= RSVD_2M, leaf = true;
		if (e & rsvd)
			return WALK_RSVD;
		walk_record(ws, h, e, 8, true);
		walk_perm(ws, e);
		if (leaf)
			return walk_leaf64(ws, e, shift, la);
		table = e & PTE_ADDR;
	}
}

static uint32_t walk_pae(struct x86_cpu *cpu, uint64_t la, struct walk_state *ws)
{
	void *h;
	uint64_t e = pte_load(cpu->vm, (cpu->cr3 & 0xffffffe0ULL) + ((la >> 30) & 3) * 8, 8, &h);
	if (!(e & PTE_P))
		return WALK_NOT_PRESENT;
	if (e & RSVD_PAE_PDPTE)
		return WALK_RSVD;
	walk_record(ws, h, e, 8, false);
	uint64_t rsvd_all = RSVD_PAE | ((cpu->efer & X86_EFER_NXE) ? 0 : PTE_NX);
	uint64_t table = e & PTE_ADDR;
	for (unsigned shift = 21;; shift -= 9) {
		e = pte_load(cpu->vm, table + ((la >> shift) & 511) * 8, 8, &h);
		if (!(e & PTE_P))
			return WALK_NOT_PRESENT;
		bool leaf = shift == 12 || (e & PTE_PS);
		if (e & (rsvd_all | (shift == 21 && leaf ? RSVD_2M : 0)))
			return WALK_RSVD;
		walk_record(ws, h, e, 8, true);
		walk_perm(ws, e);
		if (leaf)
			return walk_leaf64(ws, e, shift, la);
		table = e & PTE_ADDR;
	}
}

static uint32_t walk_32(struct x86_cpu *cpu, uint64_t la, struct walk_state *ws)
{
	void *h;
	uint64_t e = pte_load(cpu->vm, (cpu->cr3 & 0xfffff000ULL) + ((la >> 22) & 1023) * 4, 4, &h);
	if (!(e & PTE_P))
		return WALK_NOT_PRESENT;
	/* Without CR4.PSE the PS bit is ignored: the entry points to a table. */
	if ((e & PTE_PS) && (cpu->cr4 & X86_CR4_PSE)) {
		if (e & RSVD_4M)
			return WALK_RSVD;
		walk_record(ws, h, e, 4, true);
		walk_perm(ws, e);
		ws->size = 4ULL << 20;
		ws->leaf = e;
		ws->pa = (e & 0xffc00000ULL) | (((e >> 13) & 0xff) << 32) | (la & 0x3fffff);
		return 0;
	}
	walk_record(ws, h, e, 4, true);
	walk_perm(ws, e);
	e = pte_load(cpu->vm, (e & 0xfffff000ULL) + ((la >> 12) & 1023) * 4, 4, &h);
	if (!(e & PTE_P))
		return WALK_NOT_PRESENT;
	walk_record(ws, h, e, 4, true);
	walk_perm(ws, e);
	ws->size = MMU_PAGE_SIZE;
	ws->leaf = e;
	ws->pa = (e & 0xfffff000ULL) | (la & 0xfff);
	return 0;
}

/*
 * Sets Accessed on every entry used and Dirty on the leaf for writes.
 * False if an entry changed since the walk read it: walk again.
 */
static bool walk_set_ad(struct walk_state *ws, bool write)
{
	for (int i = 0; i < ws->n; i++) {
		struct walk_entry *we = &ws->e[i];
		uint64_t need = (we->set_a ? PTE_A : 0) | (write && i == ws->n - 1 ? PTE_D : 0);
		if (!we->host || (we->val & need) == need)
			continue;
		bool ok;
		if (we->size == 8) {
			uint64_t old = we->val;
			ok = __atomic_compare_exchange_n((uint64_t *)we->host, &old, old | need, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		} else {
			uint32_t old = (uint32_t)we->val;
			ok = __atomic_compare_exchange_n((uint32_t *)we->host, &old, old | (uint32_t)need,
							 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		}
		if (!ok)
			return false;
		we->val |= need;
	}
	return true;
}

static uint32_t pf_error(const struct x86_cpu *cpu, int access, bool user, uint32_t bits)
{
	uint32_t e = bits;
	if (access == MMU_WRITE)
		e |= PF_W;
	if (user)
		e |= PF_U;
	/* I/D is defined only where execute-disable exists (PAE/4-level with NXE). */
	if (access == MMU_FETCH && (cpu->cr4 & X86_CR4_PAE) && (cpu->efer & X86_EFER_NXE))
		e |= PF_I;
	return e;
}

bool mmu_walk(struct x86_cpu *cpu, uint64_t la, int access, bool user, struct mmu_walk *w)
{
	bool peek = access & MMU_PEEK;
	access &= 3;
	if (!(cpu->cr0 & X86_CR0_PG)) {
		*w = (struct mmu_walk){ .pa = la, .page_size = MMU_PAGE_SIZE, .write_ok = true,
					.exec_ok = true, .dirty = true };
		return true;
	}
	/* A guest racing our A/D updates could keep us here: give up setting
	 * them after a while (the TLB then just leaves the page unwritable). */
	for (int tries = 0;; tries++) {
		struct walk_state ws = { .w = true, .u = true };
		uint32_t r;
		if (cpu->efer & X86_EFER_LMA)
			r = walk_long(cpu, la, &ws);
		else if (cpu->cr4 & X86_CR4_PAE)
			r = walk_pae(cpu, la, &ws);
		else
			r = walk_32(cpu, la, &ws);
		if (r) {
			w->error = pf_error(cpu, access, user, r & ~WALK_NOT_PRESENT);
			return false;
		}
		bool nx = ws.nx && (cpu->efer & X86_EFER_NXE);
		bool read_ok = !user || ws.u;
		/* Supervisor writes ignore R/W unless CR0.WP (no SMAP: U pages are fine). */
		bool write_ok = read_ok && (ws.w || (!user && !(cpu->cr0 & X86_CR0_WP)));
		bool exec_ok = read_ok && !nx;
		if (!read_ok || (access == MMU_WRITE && !write_ok) || (access == MMU_FETCH && !exec_ok)) {
			w->error = pf_error(cpu, access, user, PF_P);
			return false;
		}
		if (!peek && !walk_set_ad(&ws, access == MMU_WRITE) && tries < 64)
			continue;
		w->pa = ws.pa;
		w->page_size = ws.size;
		w->write_ok = write_ok;
		w->exec_ok = exec_ok;
		w->dirty = (ws.e[ws.n - 1].val & PTE_D) != 0;
		w->global = (ws.leaf & PTE_G) && (cpu->cr4 & X86_CR4_PGE);
		w->error = 0;
		return true;
	}
}

/* ---- TLB --------------------------------------------------------------- */

void tlb_flush(struct x86_cpu *cpu)
{
	/* ~0 in every field: invalid tags (and an addend nobody uses). */
	memset(cpu->tlb, 0xff, sizeof(cpu->tlb));
	cpu->tlb_large_lo = ~0ULL;
	cpu->tlb_large_hi = 0;
	cpu->tlb_log_n = 0;
}

void mmu_cpu_init(struct x86_cpu *cpu)
{
	tlb_flush(cpu);
}

static void tlb_drop_nonglobal(struct tlb_entry *e)
{
	if (!(e->paddr & TLBP_GLOBAL))
		e->tag_read = e->tag_write = e->tag_code = TLB_INVALID;
}

void tlb_flush_nonglobal(struct x86_cpu *cpu)
{
	_Static_assert(2 * TLB_SIZE <= 65536, "tlb_log entries fit 16 bits");
	if (cpu->tlb_log_n < 2 * TLB_SIZE) {
		for (unsigned k = 0; k < cpu->tlb_log_n; k++) {
			unsigned v = cpu->tlb_log[k];
			tlb_drop_nonglobal(&cpu->tlb[v >> TLB_BITS][v & (TLB_SIZE - 1)]);
		}
	} else {
		for (unsigned p = 0; p < 2; p++)
			for (unsigned i = 0; i < TLB_SIZE; i++)
				tlb_drop_nonglobal(&cpu->tlb[p][i]);
	}
	cpu->tlb_log_n = 0;
	/* The large-page range stays: global large pages may remain. */
}

void tlb_flush_page(struct x86_cpu *cpu, uint64_t la)
{
	for (unsigned p = 0; p < 2; p++) {
		struct tlb_entry *e = &cpu->tlb[p][tlb_index(la)];
		e->tag_read = e->tag_write = e->tag_code = TLB_INVALID;
	}
	if (la < cpu->tlb_large_lo || la > cpu->tlb_large_hi)
		return;
	/*
	 * la may lie in a large page cached as many 4K entries: drop every
	 * entry that came from a large page containing la. Cheaper than a
	 * full flush, which would make every INVLPG near transparent huge
	 * pages empty the TLB.
	 */
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			struct tlb_entry *e = &cpu->tlb[p][i];
			unsigned shift = TLBP_SHIFT(e->paddr);
			if (e->tag_read != TLB_INVALID && shift && !((e->tag_read ^ la) >> shift))
				e->tag_read = e->tag_write = e->tag_code = TLB_INVALID;
		}
	}
}

void mmu_cr3_written(struct x86_cpu *cpu)
{
	if (cpu->cr4 & X86_CR4_PGE)
		tlb_flush_nonglobal(cpu);
	else
		tlb_flush(cpu);
}

void mmu_cr_written(struct x86_cpu *cpu, uint64_t old_cr0, uint64_t old_cr4, uint64_t old_efer)
{
	if (((old_cr0 ^ cpu->cr0) & (X86_CR0_PG | X86_CR0_WP)) ||
	    ((old_cr4 ^ cpu->cr4) & (X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PGE)) ||
	    ((old_efer ^ cpu->efer) & (X86_EFER_NXE | X86_EFER_LMA)))
		tlb_flush(cpu);
}

/* One translated page: host pointer at la (NULL when not RAM) and physical address. */
struct xlat {
	uint8_t *host;
	uint64_t pa;
};

/* Walks (raising #PF), caches the page and returns the translation of la. */
static struct xlat tlb_fill(struct x86_cpu *cpu, uint64_t la, int access, unsigned user)
{
	struct mmu_walk w;
	if (!mmu_walk(cpu, la, access, user, &w))
		cpu_raise_pf(cpu, la, w.error);
	uint64_t page = la & MMU_PAGE_MASK, pa_page = w.pa & MMU_PAGE_MASK;
	uint8_t *host = guest_ptr(&cpu->vm->mem, pa_page, MMU_PAGE_SIZE);
	uint64_t tag = page | (host ? TLB_VALID : TLB_MMIO);
	struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	e->tag_read = tag;
	/*
	 * Writable only once D is set, so the first store re-walks and sets it.
	 * Self-modifying code hook: when the translator caches code from
	 * pa_page it must keep tag_write invalid here, so stores reach
	 * mmu_st_slow, where the page's translations get invalidated.
	 */
	e->tag_write = (w.write_ok && w.dirty) ? tag : TLB_INVALID;
	/* Code pages (codecache.h) never get a fast-path write entry; the
	 * first store to one invalidates the instructions cached from it. */
	struct code_pages *cp = cpu->code_pages;
	if (host && cp) {
		size_t idx = code_page_index(cp, host);
		if (code_page_is_code(cp, idx)) {
			if (access == MMU_WRITE)
				code_page_invalidate(cp, idx);
			else
				e->tag_write = TLB_INVALID;
		}
	}
	e->tag_code = w.exec_ok ? tag : TLB_INVALID;
	e->addend = host ? (uintptr_t)host - (uintptr_t)page : 0;
	e->paddr = pa_page | (w.global ? TLBP_GLOBAL : 0);
	if (!w.global && cpu->tlb_log_n < 2 * TLB_SIZE)
		cpu->tlb_log[cpu->tlb_log_n++] = (uint16_t)(user << TLB_BITS | tlb_index(la));
	if (w.page_size > MMU_PAGE_SIZE) {
		e->paddr |= (uint64_t)__builtin_ctzll(w.page_size) << 1;
		uint64_t lo = la & ~(w.page_size - 1), hi = lo + (w.page_size - 1);
		if (lo < cpu->tlb_large_lo)
			cpu->tlb_large_lo = lo;
		if (hi > cpu->tlb_large_hi)
			cpu->tlb_large_hi = hi;
	}
	return (struct xlat){ host ? host + (la & 0xfff) : NULL, w.pa };
}

/* Translation of la for access from the TLB, else by a walk. */
static struct xlat mmu_xlate(struct x86_cpu *cpu, uint64_t la, int access, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	uint64_t page = la & MMU_PAGE_MASK;
	uint64_t tag = access == MMU_WRITE ? e->tag_write : access == MMU_FETCH ? e->tag_code : e->tag_read;
	uint64_t pa = (e->paddr & MMU_PAGE_MASK) | (la & 0xfff);
	if (tag == (page | TLB_VALID))
		return (struct xlat){ (uint8_t *)(uintptr_t)(la + e->addend), pa };
	if (tag == (page | TLB_MMIO))
		return (struct xlat){ NULL, pa };
	return tlb_fill(cpu, la, access, user);
}

uint8_t *mmu_host_ptr(struct x86_cpu *cpu, uint64_t la, int access, unsigned user)
{
	return mmu_xlate(cpu, la, access, user).host;
}

/* ---- Slow paths ---------------------------------------------------------- */

/* Linear addresses wrap at 4 GiB outside 64-bit mode. */
static uint64_t lin_mask(const struct x86_cpu *cpu)
{
	return cpu->mode == 64 ? ~0ULL : 0xffffffffULL;
}

#define SPAN_MAX (MMU_BLOCK_PRECISE / MMU_PAGE_SIZE + 1)

struct span {
	struct xlat x;
	size_t n;
};

/* Translates every page of [la, la+len) (len <= MMU_BLOCK_PRECISE) before anything moves. */
static int span_translate(struct x86_cpu *cpu, uint64_t la, size_t len, int access, unsigned user,
			  struct span *sp)
{
	uint64_t mask = lin_mask(cpu);
	int k = 0;
	la &= mask; /* callers may pass la + n past 4 GiB */
	while (len) {
		size_t n = (size_t)(MMU_PAGE_SIZE - (la & 0xfff));
		if (n > len)
			n = len;
		sp[k].x = mmu_xlate(cpu, la, access, user);
		sp[k].n = n;
		k++;
		la = (la + n) & mask;
		len -= n;
	}
	return k;
}

/* Sizes 2, 4 and 8 as one host access (atomic when aligned, as on x86). */
static void host_copy(void *dst, const void *src, size_t n)
{
	switch (n) {
	case 2: memcpy(dst, src, 2); break;
	case 4: memcpy(dst, src, 4); break;
	case 8: memcpy(dst, src, 8); break;
	default: memcpy(dst, src, n); break;
	}
}

static void span_read(struct x86_cpu *cpu, const struct span *sp, int k, uint8_t *buf)
{
	for (int i = 0; i < k; i++) {
		if (sp[i].x.host)
			host_copy(buf, sp[i].x.host, sp[i].n);
		else
			phys_read(cpu->vm, sp[i].x.pa, buf, sp[i].n);
		buf += sp[i].n;
	}
}

static void span_write(struct x86_cpu *cpu, const struct span *sp, int k, const uint8_t *buf)
{
	for (int i = 0; i < k; i++) {
		if (sp[i].x.host)
			host_copy(sp[i].x.host, buf, sp[i].n);
		else
			phys_write(cpu->vm, sp[i].x.pa, buf, sp[i].n);
		buf += sp[i].n;
	}
}

uint64_t mmu_ld_slow(struct x86_cpu *cpu, uint64_t la, unsigned size, unsigned user)
{
	struct span sp[2];
	uint64_t v = 0; /* little-endian host: the low bytes */
	if (size > 8)
		size = 8;
	int k = span_translate(cpu, la, size, MMU_READ, user, sp);
	span_read(cpu, sp, k, (uint8_t *)&v);
	return v;
}

void mmu_st_slow(struct x86_cpu *cpu, uint64_t la, uint64_t val, unsigned size, unsigned user)
{
	struct span sp[2];
	if (size > 8)
		size = 8;
	int k = span_translate(cpu, la, size, MMU_WRITE, user, sp);
	span_write(cpu, sp, k, (const uint8_t *)&val);
}

void mmu_read_as(struct x86_cpu *cpu, uint64_t la, void *buf, size_t len, unsigned user)
{
	/* Within one page the TLB already maps for reading (SSE and x87
	 * operands, descriptors): one copy. */
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (len && len <= MMU_PAGE_SIZE && e->tag_read == tlb_tag_for(la, (unsigned)len)) {
		host_copy(buf, (const void *)(uintptr_t)(la + e->addend), len);
		return;
	}
	struct span sp[SPAN_MAX];
	uint8_t *out = buf;
	while (len) {
		size_t n = len < MMU_BLOCK_PRECISE ? len : MMU_BLOCK_PRECISE;
		int k = span_translate(cpu, la, n, MMU_READ, user, sp);
		span_read(cpu, sp, k, out);
		la = (la + n) & lin_mask(cpu);
		out += n;
		len -= n;
	}
}

void mmu_write_as(struct x86_cpu *cpu, uint64_t la, const void *buf, size_t len, unsigned user)
{
	/* As mmu_read_as; write entries never map code pages (codecache.h). */
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (len && len <= MMU_PAGE_SIZE && e->tag_write == tlb_tag_for(la, (unsigned)len)) {
		host_copy((void *)(uintptr_t)(la + e->addend), buf, len);
		return;
	}
	struct span sp[SPAN_MAX];
	const uint8_t *in = buf;
	while (len) {
		size_t n = len < MMU_BLOCK_PRECISE ? len : MMU_BLOCK_PRECISE;
		int k = span_translate(cpu, la, n, MMU_WRITE, user, sp);
		span_write(cpu, sp, k, in);
		la = (la + n) & lin_mask(cpu);
		in += n;
		len -= n;
	}
}

void mmu_probe_write_as(struct x86_cpu *cpu, uint64_t la, size_t len, unsigned user)
{
	uint64_t mask = lin_mask(cpu);
	la &= mask;
	while (len) {
		size_t n = (size_t)(MMU_PAGE_SIZE - (la & 0xfff));
		if (n > len)
			n = len;
		mmu_xlate(cpu, la, MMU_WRITE, user);
		la = (la + n) & mask;
		len -= n;
	}
}

void *mmu_host_rmw_as(struct x86_cpu *cpu, uint64_t la, unsigned len, unsigned user)
{
	if ((la & 63) + len > 64) {
		/* The fallback's load and store then cannot fault half-way. */
		mmu_probe_write_as(cpu, la, len, user);
		return NULL;
	}
	return mmu_xlate(cpu, la, MMU_WRITE, user).host;
}

static pthread_mutex_t mmu_global_lock = PTHREAD_MUTEX_INITIALIZER;

void mmu_lock_global(void)
{
	pthread_mutex_lock(&mmu_global_lock);
}

void mmu_unlock_global(void)
{
	pthread_mutex_unlock(&mmu_global_lock);
}

uint64_t mmu_translate_code_slow(struct x86_cpu *cpu, uint64_t la, uint8_t **host, size_t *avail)
{
	struct xlat x = mmu_xlate(cpu, la, MMU_FETCH, mmu_user(cpu));
	*host = x.host;
	*avail = (size_t)(MMU_PAGE_SIZE - (la & 0xfff));
	return x.pa;
}

void mmu_fetch(struct x86_cpu *cpu, uint64_t la, void *buf, size_t len)
{
	struct span sp[SPAN_MAX];
	uint8_t *out = buf;
	while (len) {
		size_t n = len < MMU_BLOCK_PRECISE ? len : MMU_BLOCK_PRECISE;
		int k = span_translate(cpu, la, n, MMU_FETCH, mmu_user(cpu), sp);
		span_read(cpu, sp, k, out);
		la = (la + n) & lin_mask(cpu);
		out += n;
		len -= n;
	}
}
