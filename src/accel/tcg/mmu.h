/*
 * The software CPU's memory management: physical access, the page walk,
 * the TLB and the linear-address access API instruction handlers use;
 * segmentation (seg.c) turns segment:offset into a linear address.
 *
 *   handler --seg_linear()--> linear --mmu_ldN/mmu_stN--> TLB hit: host RAM
 *                                         | miss
 *                                         v
 *                              mmu.c slow path: mmu_walk() -> tlb fill
 *                                         |-> RAM: host pointer
 *                                         '-> not RAM: phys_read/phys_write -> vm->mmio
 *
 * Fast path: the TLB is direct-mapped by virtual page number, one array per
 * privilege (cpu->tlb[0] supervisor, [1] user). An entry's tags are
 * "page | TLB_VALID" for RAM pages; the load/store fast path compares the
 * tag with the page of the access's LAST byte, so one compare also sends
 * page-crossing accesses to the slow path (the entry at the first byte's
 * index can never hold the next page). Zero and ~0 are both invalid tags,
 * so a zeroed vCPU is safe. MMIO pages get "page | TLB_MMIO" tags, which
 * never match the fast path but let the slow path skip the walk.
 *
 * The writable tag is set only when the walk allowed the write AND the
 * leaf entry's Dirty bit is already set, so the first store to a clean page
 * re-walks and sets D. Faults are precise: a multi-page access translates
 * every page before it transfers any byte.
 *
 * Large pages (2M/4M/1G) are cached as 4K entries that remember their
 * page size, so INVLPG anywhere in one drops all of its pieces.
 *
 * Physical address width (MAXPHYADDR) is 40 bits: paging-entry bits 51:40
 * (62:40 in PAE mode) are reserved and fault with PF_RSVD. Linear addresses
 * are 48 bits in long mode (no LA57). 1 GiB pages are supported (CPUID
 * may advertise pdpe1gb).
 *
 * What other parts must do for the MMU:
 *  - call mmu_cpu_init() once when the vCPU is created (flushes the TLB);
 *  - MOV CR3: tlb_flush_nonglobal() (tlb_flush() if CR4.PGE is clear, the
 *    helper mmu_cr3_written() picks); MOV CR0/CR4, WRMSR EFER:
 *    mmu_cr_written() with the old values (flushes when PG, WP, PAE, PSE,
 *    PGE, NXE or LMA changed); INVLPG: tlb_flush_page();
 *    VCPU_PENDING_TLB_FLUSH (a remote shootdown): tlb_flush(); and every
 *    vCPU's TLB must be flushed if what is RAM at a guest-physical page
 *    ever changes at run time (entries cache host pointers);
 *  - keep cpu->cpl, cpu->mode (64 = 64-bit code segment in long mode),
 *    cpu->efer.LMA, cpu->cr0.PE and RFLAGS.VM (in cpu->rflags) current:
 *    cpu_update_mode() after CS/CR0/EFER changes. CPL changes need no
 *    flush (the two TLBs are per privilege).
 */
#ifndef KEMU_ACCEL_TCG_MMU_H
#define KEMU_ACCEL_TCG_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "accel/tcg/cpu.h"

#define MMU_PHYS_BITS 40
#define MMU_PHYS_MASK ((1ULL << MMU_PHYS_BITS) - 1)
#define MMU_PAGE_SIZE 4096ULL
#define MMU_PAGE_MASK (~0xfffULL)

#define X86_CR4_PSE (1ULL << 4)

/* Access kinds (also the `access` argument of seg_linear). */
enum mmu_access { MMU_READ = 0, MMU_WRITE = 1, MMU_FETCH = 2 };
/* Or-ed into mmu_walk's access: a debugger's look, sets no Accessed/Dirty bits. */
#define MMU_PEEK 0x10

/* Tag low bits (tags are page-aligned linear addresses). */
#define TLB_VALID 1ULL /* RAM page: the fast path may use addend */
#define TLB_MMIO 2ULL  /* translated, but not RAM: slow path, phys_read/write */
#define TLB_INVALID (~0ULL)
/* Low bits of tlb_entry.paddr: global, and log2 of a large page's size (0 for 4K). */
#define TLBP_GLOBAL 1ULL
#define TLBP_SHIFT(paddr) ((unsigned)((paddr) >> 1) & 63)

#if defined(__GNUC__)
#define mmu_likely(x) __builtin_expect(!!(x), 1)
#else
#define mmu_likely(x) (x)
#endif

/* ---- Physical memory ------------------------------------------------- */

/*
 * Guest-physical access of any length: RAM is copied, everything else goes
 * to vm->mmio in naturally aligned pieces of at most 8 bytes. Unclaimed
 * addresses read as all-ones and drop writes. Never touches host memory
 * outside guest RAM.
 */
void phys_read(struct vm *vm, uint64_t pa, void *buf, size_t len);
void phys_write(struct vm *vm, uint64_t pa, const void *buf, size_t len);

/* ---- Page walk --------------------------------------------------------- */

struct mmu_walk {
	uint64_t pa;        /* physical address of the linear address walked */
	uint64_t page_size; /* 4K, 2M, 4M or 1G (the guest's mapping) */
	bool write_ok;      /* a write at this privilege would be allowed */
	bool exec_ok;       /* an instruction fetch would be allowed */
	bool dirty;         /* the leaf entry's D bit is set (now) */
	bool global;        /* G bit with CR4.PGE: survives MOV CR3 */
	uint32_t error;     /* on failure: the #PF error code */
};

/*
 * Translates la for an access (enum mmu_access, optionally | MMU_PEEK) at
 * user or supervisor privilege using the current CR0/CR3/CR4/EFER. On
 * success sets Accessed on every entry used and Dirty on the leaf for
 * writes (atomically, only if the entry did not change meanwhile) and
 * returns true; on failure fills w->error and returns false without
 * touching guest memory. Raises nothing: callers decide.
 *
 * Paging entries outside guest RAM read as all-ones (what an unclaimed
 * bus returns); the walk never dispatches to MMIO devices. In PAE and
 * 4-level modes all-ones has reserved bits set, so such a walk faults
 * with PF_RSVD. PAE PDPTEs are read at walk time, not cached at MOV CR3,
 * and a reserved bit in one is reported as a #PF with PF_RSVD rather than
 * the #GP real hardware raises at MOV CR3.
 */
bool mmu_walk(struct x86_cpu *cpu, uint64_t la, int access, bool user, struct mmu_walk *w);

/* ---- TLB --------------------------------------------------------------- */

void mmu_cpu_init(struct x86_cpu *cpu);
void tlb_flush(struct x86_cpu *cpu);           /* everything, global pages too */
void tlb_flush_nonglobal(struct x86_cpu *cpu); /* MOV CR3 with CR4.PGE */
void tlb_flush_page(struct x86_cpu *cpu, uint64_t la); /* INVLPG, both privileges */
void mmu_cr3_written(struct x86_cpu *cpu);
void mmu_cr_written(struct x86_cpu *cpu, uint64_t old_cr0, uint64_t old_cr4, uint64_t old_efer);

static inline unsigned tlb_index(uint64_t la)
{
	return (unsigned)(la >> 12) & (TLB_SIZE - 1);
}

/* ---- Linear access ------------------------------------------------------- */
/*
 * `user` is the privilege of the access: 1 for CPL 3 accesses, 0 for
 * supervisor ones. The plain forms use cpu->cpl; the _sys forms are
 * implicit supervisor accesses (descriptor tables, TSS, IDT, and stack
 * pushes of event delivery to CPL 0). Every form raises #PF on failure.
 * Linear addresses must already be masked (32 bits outside 64-bit mode);
 * accesses that run past 4 GiB outside 64-bit mode wrap to 0.
 */
/* size is 1, 2, 4 or 8. */
uint64_t mmu_ld_slow(struct x86_cpu *cpu, uint64_t la, unsigned size, unsigned user);
void mmu_st_slow(struct x86_cpu *cpu, uint64_t la, uint64_t val, unsigned size, unsigned user);

static inline unsigned mmu_user(const struct x86_cpu *cpu)
{
	return cpu->cpl == 3;
}

/* The tag an access of `size` bytes at la must find to use the fast path. */
static inline uint64_t tlb_tag_for(uint64_t la, unsigned size)
{
	return ((la + size - 1) & MMU_PAGE_MASK) | TLB_VALID;
}

static inline uint8_t mmu_ld8_as(struct x86_cpu *cpu, uint64_t la, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_read == tlb_tag_for(la, 1)))
		return *(const uint8_t *)(uintptr_t)(la + e->addend);
	return (uint8_t)mmu_ld_slow(cpu, la, 1, user);
}

static inline uint16_t mmu_ld16_as(struct x86_cpu *cpu, uint64_t la, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_read == tlb_tag_for(la, 2))) {
		uint16_t v;
		memcpy(&v, (const void *)(uintptr_t)(la + e->addend), 2);
		return v;
	}
	return (uint16_t)mmu_ld_slow(cpu, la, 2, user);
}

static inline uint32_t mmu_ld32_as(struct x86_cpu *cpu, uint64_t la, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_read == tlb_tag_for(la, 4))) {
		uint32_t v;
		memcpy(&v, (const void *)(uintptr_t)(la + e->addend), 4);
		return v;
	}
	return (uint32_t)mmu_ld_slow(cpu, la, 4, user);
}

static inline uint64_t mmu_ld64_as(struct x86_cpu *cpu, uint64_t la, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_read == tlb_tag_for(la, 8))) {
		uint64_t v;
		memcpy(&v, (const void *)(uintptr_t)(la + e->addend), 8);
		return v;
	}
	return mmu_ld_slow(cpu, la, 8, user);
}

static inline void mmu_st8_as(struct x86_cpu *cpu, uint64_t la, uint8_t v, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_write == tlb_tag_for(la, 1)))
		*(uint8_t *)(uintptr_t)(la + e->addend) = v;
	else
		mmu_st_slow(cpu, la, v, 1, user);
}

static inline void mmu_st16_as(struct x86_cpu *cpu, uint64_t la, uint16_t v, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_write == tlb_tag_for(la, 2)))
		memcpy((void *)(uintptr_t)(la + e->addend), &v, 2);
	else
		mmu_st_slow(cpu, la, v, 2, user);
}

static inline void mmu_st32_as(struct x86_cpu *cpu, uint64_t la, uint32_t v, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_write == tlb_tag_for(la, 4)))
		memcpy((void *)(uintptr_t)(la + e->addend), &v, 4);
	else
		mmu_st_slow(cpu, la, v, 4, user);
}

static inline void mmu_st64_as(struct x86_cpu *cpu, uint64_t la, uint64_t v, unsigned user)
{
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	if (mmu_likely(e->tag_write == tlb_tag_for(la, 8)))
		memcpy((void *)(uintptr_t)(la + e->addend), &v, 8);
	else
		mmu_st_slow(cpu, la, v, 8, user);
}

/* Privilege from CPL. */
static inline uint8_t mmu_ld8(struct x86_cpu *cpu, uint64_t la) { return mmu_ld8_as(cpu, la, mmu_user(cpu)); }
static inline uint16_t mmu_ld16(struct x86_cpu *cpu, uint64_t la) { return mmu_ld16_as(cpu, la, mmu_user(cpu)); }
static inline uint32_t mmu_ld32(struct x86_cpu *cpu, uint64_t la) { return mmu_ld32_as(cpu, la, mmu_user(cpu)); }
static inline uint64_t mmu_ld64(struct x86_cpu *cpu, uint64_t la) { return mmu_ld64_as(cpu, la, mmu_user(cpu)); }
static inline void mmu_st8(struct x86_cpu *cpu, uint64_t la, uint8_t v) { mmu_st8_as(cpu, la, v, mmu_user(cpu)); }
static inline void mmu_st16(struct x86_cpu *cpu, uint64_t la, uint16_t v) { mmu_st16_as(cpu, la, v, mmu_user(cpu)); }
static inline void mmu_st32(struct x86_cpu *cpu, uint64_t la, uint32_t v) { mmu_st32_as(cpu, la, v, mmu_user(cpu)); }
static inline void mmu_st64(struct x86_cpu *cpu, uint64_t la, uint64_t v) { mmu_st64_as(cpu, la, v, mmu_user(cpu)); }

/* Implicit supervisor accesses. */
static inline uint8_t mmu_ld8_sys(struct x86_cpu *cpu, uint64_t la) { return mmu_ld8_as(cpu, la, 0); }
static inline uint16_t mmu_ld16_sys(struct x86_cpu *cpu, uint64_t la) { return mmu_ld16_as(cpu, la, 0); }
static inline uint32_t mmu_ld32_sys(struct x86_cpu *cpu, uint64_t la) { return mmu_ld32_as(cpu, la, 0); }
static inline uint64_t mmu_ld64_sys(struct x86_cpu *cpu, uint64_t la) { return mmu_ld64_as(cpu, la, 0); }
static inline void mmu_st8_sys(struct x86_cpu *cpu, uint64_t la, uint8_t v) { mmu_st8_as(cpu, la, v, 0); }
static inline void mmu_st16_sys(struct x86_cpu *cpu, uint64_t la, uint16_t v) { mmu_st16_as(cpu, la, v, 0); }
static inline void mmu_st32_sys(struct x86_cpu *cpu, uint64_t la, uint32_t v) { mmu_st32_as(cpu, la, v, 0); }
static inline void mmu_st64_sys(struct x86_cpu *cpu, uint64_t la, uint64_t v) { mmu_st64_as(cpu, la, v, 0); }

/*
 * Blocks of any length (16-byte SSE operands, FXSAVE/XSAVE areas). Every
 * page is checked before any byte moves, for up to MMU_BLOCK_PRECISE
 * bytes; longer blocks are done in chunks of that size, each precise.
 */
#define MMU_BLOCK_PRECISE (32 * 1024)
void mmu_read_as(struct x86_cpu *cpu, uint64_t la, void *buf, size_t len, unsigned user);
void mmu_write_as(struct x86_cpu *cpu, uint64_t la, const void *buf, size_t len, unsigned user);
static inline void mmu_read(struct x86_cpu *cpu, uint64_t la, void *buf, size_t len) { mmu_read_as(cpu, la, buf, len, mmu_user(cpu)); }
static inline void mmu_write(struct x86_cpu *cpu, uint64_t la, const void *buf, size_t len) { mmu_write_as(cpu, la, buf, len, mmu_user(cpu)); }
static inline void mmu_read_sys(struct x86_cpu *cpu, uint64_t la, void *buf, size_t len) { mmu_read_as(cpu, la, buf, len, 0); }
static inline void mmu_write_sys(struct x86_cpu *cpu, uint64_t la, const void *buf, size_t len) { mmu_write_as(cpu, la, buf, len, 0); }

/*
 * Faults now if a later write of len bytes at la would fault (and sets the
 * Dirty bits that write would set), so multi-step pushes (far CALL,
 * interrupt frames) commit nothing before they know they can finish.
 */
void mmu_probe_write_as(struct x86_cpu *cpu, uint64_t la, size_t len, unsigned user);
static inline void mmu_probe_write(struct x86_cpu *cpu, uint64_t la, size_t len) { mmu_probe_write_as(cpu, la, len, mmu_user(cpu)); }
static inline void mmu_probe_write_sys(struct x86_cpu *cpu, uint64_t la, size_t len) { mmu_probe_write_as(cpu, la, len, 0); }

/*
 * LOCK-prefixed read-modify-write: a host pointer to len bytes at la in
 * RAM, already checked writable (Dirty set), for host atomics. NULL when
 * the operand is not RAM, crosses a page, or crosses a 64-byte line (host
 * split locks are slow and may be fatal under split-lock detection); the
 * caller then does a plain load and store while holding mmu_lock_global().
 * Raises #PF (as a write) like the store would.
 */
void *mmu_host_rmw_as(struct x86_cpu *cpu, uint64_t la, unsigned len, unsigned user);
static inline void *mmu_host_rmw(struct x86_cpu *cpu, uint64_t la, unsigned len) { return mmu_host_rmw_as(cpu, la, len, mmu_user(cpu)); }
void mmu_lock_global(void);
void mmu_unlock_global(void);

/*
 * Host pointer to the RAM byte at la for an access of that kind, valid to
 * the end of its page (filling the TLB and raising #PF like the access
 * would); NULL when the page is not RAM. Block operations (REP MOVS/STOS)
 * use it; going through the TLB fill keeps code-page invalidation intact.
 */
uint8_t *mmu_host_ptr(struct x86_cpu *cpu, uint64_t la, int access, unsigned user);

/* ---- Instruction fetch ----------------------------------------------------- */

uint64_t mmu_translate_code_slow(struct x86_cpu *cpu, uint64_t la, uint8_t **host, size_t *avail);

/*
 * Translates la for execution at the current CPL (#PF on failure). Returns
 * the physical address (the translator's key for code pages) and sets
 * *host to the bytes at la and *avail to how many are contiguous to the end
 * of the page. *host is NULL when the page is not RAM: use mmu_fetch().
 * The CS limit check is the caller's (seg_linear with MMU_FETCH).
 */
static inline uint64_t mmu_translate_code(struct x86_cpu *cpu, uint64_t la, uint8_t **host, size_t *avail)
{
	const struct tlb_entry *e = &cpu->tlb[mmu_user(cpu)][tlb_index(la)];
	if (mmu_likely(e->tag_code == ((la & MMU_PAGE_MASK) | TLB_VALID))) {
		*host = (uint8_t *)(uintptr_t)(la + e->addend);
		*avail = (size_t)(MMU_PAGE_SIZE - (la & 0xfff));
		return (e->paddr & MMU_PAGE_MASK) | (la & 0xfff);
	}
	return mmu_translate_code_slow(cpu, la, host, avail);
}

/*
 * Fetches len instruction bytes at la, across pages and from MMIO. Faults
 * if any of them is not executable, so pass only the bytes the decoder
 * actually needs from the second page.
 */
void mmu_fetch(struct x86_cpu *cpu, uint64_t la, void *buf, size_t len);

/* ---- Segmentation (seg.c) ------------------------------------------------ */

uint64_t seg_linear_slow(struct x86_cpu *cpu, int seg, uint64_t off, unsigned size, int access);
_Noreturn void seg_raise_noncanonical(struct x86_cpu *cpu, int seg);

static inline bool mmu_canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/*
 * segment:offset -> linear for an access of size bytes (size >= 1) of kind
 * access (MMU_READ/WRITE/FETCH). off must already be masked to the address
 * size. 64-bit mode: only FS/GS bases apply, the first and last byte must
 * be canonical (#GP(0), #SS(0) for SS). Other modes: null-segment, type
 * and limit checks (expand-down too; #GP(0), #SS(0) for SS), result
 * wrapped to 32 bits. Real and virtual-8086 modes check only limits.
 */
static inline uint64_t seg_linear(struct x86_cpu *cpu, int seg, uint64_t off, unsigned size, int access)
{
	const struct x86_seg *s = &cpu->seg[seg];
	if (cpu->mode == 64) {
		uint64_t la = off + (seg >= SEG_FS ? s->base : 0);
		/* First and last byte canonical: both +2^47 fit in 48 bits. */
		const uint64_t half = 1ULL << 47;
		if (mmu_likely((((la + half) | (la + size - 1 + half)) >> 48) == 0))
			return la;
		seg_raise_noncanonical(cpu, seg);
	}
	/* Common case inline: usable, expand-up writable data, inside the limit. */
	if (mmu_likely((s->type & 0xe) == 0x2 && !s->unusable && off + size - 1 <= s->limit))
		return (uint32_t)(s->base + off);
	return seg_linear_slow(cpu, seg, off, size, access);
}

/*
 * Descriptor tables. seg_read_descriptor reads the 8-byte descriptor (16
 * bytes with wide: long-mode system descriptors) for selector from the
 * GDT or LDT; false when it lies outside the table's limit (or TI=1 with
 * no usable LDT). Page faults are raised. It does not fault otherwise, for
 * LAR/LSL/VERR/VERW; seg_load_descriptor raises vector(sel & 0xfffc)
 * instead of returning false (EXC_GP for loads, EXC_TS in task switches).
 */
bool seg_read_descriptor(struct x86_cpu *cpu, uint16_t sel, uint64_t desc[2], bool wide);
void seg_load_descriptor(struct x86_cpu *cpu, uint16_t sel, uint64_t desc[2], bool wide, int vector);
/* Linear address of selector's descriptor (no checks). */
uint64_t seg_descriptor_addr(struct x86_cpu *cpu, uint16_t sel);
/* Fills a segment cache from a descriptor; wide: 64-bit system descriptor base. */
void seg_from_descriptor(struct x86_seg *s, uint16_t sel, const uint64_t desc[2], bool wide);
/* Sets the descriptor's Accessed bit in memory (locked, only if clear). */
void seg_set_accessed(struct x86_cpu *cpu, uint16_t sel, uint64_t *desc);

/*
 * MOV/POP to DS, ES, FS, GS or SS, with all of protected mode's checks
 * (null selectors, type, RPL/DPL/CPL, present: #GP/#SS/#NP(sel)); in real
 * and virtual-8086 mode base = sel << 4. SS loads also inhibit interrupts
 * for one instruction: the caller sets intr_shadow. CS is accepted only in
 * real and virtual-8086 mode (far transfers elsewhere have their own rules).
 */
void seg_load(struct x86_cpu *cpu, int seg, uint16_t sel);

#endif
