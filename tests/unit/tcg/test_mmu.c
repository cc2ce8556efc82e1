/*
 * The software MMU against hand-built page tables in guest RAM: every
 * paging mode, Accessed/Dirty updates, exact #PF error codes and CR2, TLB
 * caching and invalidation, precise page-crossing faults, MMIO, and
 * segmentation (limits, types, descriptor loads).
 *
 * cpu_raise/cpu_raise_pf are test doubles here: they record the exception
 * and longjmp to cpu->exc_jmp, which FAULTS()/NO_FAULT() set.
 */
#include "accel/tcg/mmu.h"
#include "test.h"

#include <setjmp.h>
#include <stdlib.h>

/*
 * After a longjmp the tests read only globals and guest memory; locals set
 * inside a faulting statement are never used, so GCC's clobber warning
 * (which the CHECK macros trip too) does not apply.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define MIB (1ULL << 20)
#define MMIO_BASE 0xd0000000ULL
#define NO_RAM 0x20000000ULL /* 512 MiB: neither RAM nor a device */

#define P 0x1ULL
#define W 0x2ULL
#define U 0x4ULL
#define A 0x20ULL
#define D 0x40ULL
#define PS 0x80ULL
#define G 0x100ULL
#define NX (1ULL << 63)

static struct vm vm;
static struct x86_cpu *cpu;
static int exc_vector = -1;
static uint32_t exc_error;

_Noreturn void cpu_raise(struct x86_cpu *c, int vector, uint32_t error_code)
{
	exc_vector = vector;
	exc_error = error_code;
	longjmp(c->exc_jmp, 1);
}

_Noreturn void cpu_raise_pf(struct x86_cpu *c, uint64_t linear, uint32_t error_code)
{
	c->cr2 = linear;
	cpu_raise(c, EXC_PF, error_code);
}

/* stmt must raise vector with error code err. */
#define FAULTS(stmt, vector, err)                                                         \
	do {                                                                              \
		exc_vector = -1;                                                          \
		if (setjmp(cpu->exc_jmp) == 0) {                                          \
			stmt;                                                             \
			fprintf(stderr, "%s:%d: no fault from %s\n", __FILE__, __LINE__, #stmt); \
			test_failures++;                                                  \
		} else {                                                                  \
			CHECK_EQ(exc_vector, vector);                                     \
			CHECK_EQ(exc_error, err);                                         \
		}                                                                         \
	} while (0)

#define NO_FAULT(stmt)                                                                    \
	do {                                                                              \
		if (setjmp(cpu->exc_jmp) == 0) {                                          \
			stmt;                                                             \
		} else {                                                                  \
			fprintf(stderr, "%s:%d: %s raised %d (%#x)\n", __FILE__, __LINE__, \
				#stmt, exc_vector, exc_error);                            \
			test_failures++;                                                  \
		}                                                                         \
	} while (0)

/* ---- A test device ---------------------------------------------------- */

static struct tdev {
	int reads, writes;
	uint64_t last_off;
	unsigned last_size;
	uint8_t mem[0x2000];
} dev;

static uint64_t tdev_read(void *opaque, uint64_t off, unsigned size)
{
	struct tdev *d = opaque;
	uint64_t v = 0;
	d->reads++;
	d->last_off = off;
	d->last_size = size;
	memcpy(&v, d->mem + off, size);
	return v;
}

static void tdev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct tdev *d = opaque;
	d->writes++;
	d->last_off = off;
	d->last_size = size;
	memcpy(d->mem + off, &val, size);
}

static const struct bus_ops tdev_ops = { tdev_read, tdev_write };

/* ---- Guest RAM and page tables ----------------------------------------- */

static uint64_t next_table;

static uint8_t *ram(uint64_t pa)
{
	return guest_ptr(&vm.mem, pa, 1);
}

static uint64_t rd64(uint64_t pa)
{
	uint64_t v;
	memcpy(&v, ram(pa), 8);
	return v;
}

static void wr64(uint64_t pa, uint64_t v)
{
	memcpy(ram(pa), &v, 8);
}

static uint32_t rd32(uint64_t pa)
{
	uint32_t v;
	memcpy(&v, ram(pa), 4);
	return v;
}

static void wr32(uint64_t pa, uint32_t v)
{
	memcpy(ram(pa), &v, 4);
}

static uint64_t alloc_table(void)
{
	uint64_t pa = next_table;
	next_table += 4096;
	memset(ram(pa), 0, 4096);
	return pa;
}

/*
 * 4-level (levels = 4) or PAE page directory/table (levels = 2 below a
 * PDPTE the caller made): maps la to pa with a leaf at `level` (1 = 4K,
 * 2 = 2M, 3 = 1G). Missing tables get `upper` flags. Returns the leaf's
 * physical address.
 */
static uint64_t map(uint64_t root, int levels, uint64_t la, uint64_t pa, int level, uint64_t flags,
		    uint64_t upper)
{
	uint64_t table = root;
	for (int l = levels; l > level; l--) {
		uint64_t epa = table + ((la >> (12 + 9 * (l - 1))) & 511) * 8;
		if (!(rd64(epa) & P))
			wr64(epa, alloc_table() | upper);
		table = rd64(epa) & 0xffffffffff000ULL;
	}
	uint64_t epa = table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
	wr64(epa, pa | flags | (level > 1 ? PS : 0));
	return epa;
}

static uint64_t pml4;

static void mode_long(void)
{
	cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
	cpu->cr4 = X86_CR4_PAE;
	cpu->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
	cpu->cr3 = pml4;
	cpu->mode = 64;
	cpu->cpl = 0;
	tlb_flush(cpu);
}

static uint64_t map64(uint64_t la, uint64_t pa, int level, uint64_t flags)
{
	return map(pml4, 4, la, pa, level, flags, P | W | U);
}

static void fill(uint64_t pa, uint8_t byte, size_t n)
{
	memset(ram(pa), byte, n);
}

/* ---- Tests ---------------------------------------------------------------- */

static void test_phys(void)
{
	uint8_t buf[16];
	wr64(0x3000, 0x1122334455667788ULL);
	phys_read(&vm, 0x3000, buf, 8);
	CHECK_EQ(buf[0], 0x88);
	/* Nothing there: all-ones, writes dropped, no crash. */
	phys_read(&vm, NO_RAM, buf, 16);
	CHECK_EQ(buf[0], 0xff);
	CHECK_EQ(buf[15], 0xff);
	phys_write(&vm, NO_RAM, buf, 16);
	phys_read(&vm, ~0ULL - 3, buf, 4);
	CHECK_EQ(buf[3], 0xff);
	/* RAM end straddle: the RAM half is RAM, the rest all-ones. */
	wr32(64 * MIB - 4, 0xaabbccdd);
	phys_read(&vm, 64 * MIB - 4, buf, 8);
	CHECK_EQ(buf[0], 0xdd);
	CHECK_EQ(buf[4], 0xff);
	/* MMIO in aligned pieces. */
	dev.reads = 0;
	phys_read(&vm, MMIO_BASE + 8, buf, 8);
	CHECK_EQ(dev.reads, 1);
	CHECK_EQ(dev.last_size, 8);
	dev.reads = 0;
	phys_read(&vm, MMIO_BASE + 2, buf, 4);
	CHECK_EQ(dev.reads, 2);
	CHECK_EQ(dev.last_size, 2);
	dev.writes = 0;
	phys_write(&vm, MMIO_BASE + 1, "abcdefg", 7);
	CHECK_EQ(dev.writes, 3); /* 1 + 2 + 4 */
	CHECK(!memcmp(dev.mem + 1, "abcdefg", 7));
}

static void test_paging_off(void)
{
	cpu->cr0 = X86_CR0_PE;
	cpu->cr4 = 0;
	cpu->efer = 0;
	cpu->mode = 32;
	cpu->cpl = 0;
	tlb_flush(cpu);
	NO_FAULT(mmu_st32(cpu, 0x5004, 0xdeadbeef));
	CHECK_EQ(rd32(0x5004), 0xdeadbeef);
	uint32_t v = 0;
	NO_FAULT(v = mmu_ld32(cpu, 0x5004));
	CHECK_EQ(v, 0xdeadbeef);
	/* Second access hits the fast path. */
	CHECK_EQ(cpu->tlb[0][tlb_index(0x5004)].tag_read, 0x5000 | TLB_VALID);
	NO_FAULT(v = mmu_ld32(cpu, NO_RAM + 0x10));
	CHECK_EQ(v, 0xffffffff);
	NO_FAULT(mmu_st32(cpu, NO_RAM + 0x10, 1));
	/* 4 GiB wrap outside 64-bit mode. */
	wr32(0, 0x44332211);
	NO_FAULT(v = mmu_ld32(cpu, 0xfffffffe));
	CHECK_EQ(v, 0x2211ffff);
}

static void test_mmio(void)
{
	cpu->cr0 = X86_CR0_PE;
	cpu->cr4 = cpu->efer = 0;
	cpu->mode = 32;
	tlb_flush(cpu);
	memcpy(dev.mem + 0x10, "\x01\x02\x03\x04", 4);
	dev.reads = dev.writes = 0;
	uint32_t v = 0;
	NO_FAULT(v = mmu_ld32(cpu, MMIO_BASE + 0x10));
	CHECK_EQ(v, 0x04030201);
	NO_FAULT(v = mmu_ld32(cpu, MMIO_BASE + 0x10));
	CHECK_EQ(dev.reads, 2); /* never served from a cache */
	CHECK_EQ(cpu->tlb[0][tlb_index(MMIO_BASE)].tag_read, MMIO_BASE | TLB_MMIO);
	NO_FAULT(mmu_st16(cpu, MMIO_BASE + 0x20, 0xbeef));
	NO_FAULT(mmu_st16(cpu, MMIO_BASE + 0x20, 0xbeef));
	CHECK_EQ(dev.writes, 2);
	CHECK_EQ(dev.last_off, 0x20);
	CHECK_EQ(dev.last_size, 2);
	/* Page-crossing access from RAM into MMIO is not possible here; across two MMIO pages: */
	dev.reads = 0;
	NO_FAULT(v = mmu_ld32(cpu, MMIO_BASE + 0xffe));
	CHECK_EQ(dev.reads, 2);
	/* LOCK on MMIO falls back to the global lock. */
	void *p = (void *)1;
	NO_FAULT(p = mmu_host_rmw(cpu, MMIO_BASE + 0x30, 4));
	CHECK(p == NULL);
	/* Paged: a linear page mapped onto the device. */
	mode_long();
	map64(0x70000000, MMIO_BASE, 1, P | W);
	dev.writes = 0;
	NO_FAULT(mmu_st64(cpu, 0x70000040, 0x0102030405060708ULL));
	NO_FAULT(mmu_st64(cpu, 0x70000040, 0x0102030405060708ULL));
	CHECK_EQ(dev.writes, 2);
	CHECK_EQ(dev.last_size, 8);
	uint64_t q = 0;
	NO_FAULT(q = mmu_ld64(cpu, 0x70000040));
	CHECK_EQ(q, 0x0102030405060708ULL);
	/* Code from a device page: no host pointer, mmu_fetch reads it. */
	uint8_t *host = (uint8_t *)1;
	size_t avail = 0;
	uint64_t pa = 0;
	NO_FAULT(pa = mmu_translate_code(cpu, 0x70000040, &host, &avail));
	CHECK(host == NULL);
	CHECK_EQ(pa, MMIO_BASE + 0x40);
	CHECK_EQ(avail, 4096 - 0x40);
	uint8_t insn[2] = { 0 };
	NO_FAULT(mmu_fetch(cpu, 0x70000040, insn, 2));
	CHECK_EQ(insn[0], 0x08);
}

static void test_long_translate(void)
{
	mode_long();
	/* 4K */
	uint64_t pte = map64(0x400000, 0x200000, 1, P | W);
	wr64(0x200010, 0x55);
	uint64_t v = 0;
	NO_FAULT(v = mmu_ld64(cpu, 0x400010));
	CHECK_EQ(v, 0x55);
	CHECK_EQ(rd64(pte) & (A | D), A); /* a read sets A only */
	CHECK_EQ(rd64(pml4) & A, A);
	/* Clean page: read cached, write not. */
	CHECK_EQ(cpu->tlb[0][tlb_index(0x400000)].tag_read, 0x400000 | TLB_VALID);
	CHECK_EQ(cpu->tlb[0][tlb_index(0x400000)].tag_write, TLB_INVALID);
	NO_FAULT(mmu_st32(cpu, 0x400020, 0x1234));
	CHECK_EQ(rd32(0x200020), 0x1234);
	CHECK_EQ(rd64(pte) & (A | D), A | D);
	CHECK_EQ(cpu->tlb[0][tlb_index(0x400000)].tag_write, 0x400000 | TLB_VALID);

	/* 2M */
	uint64_t pde = map64(0x40000000, 0x600000, 2, P | W);
	wr32(0x601234, 0xcafe);
	uint32_t x = 0;
	NO_FAULT(x = mmu_ld32(cpu, 0x40001234));
	CHECK_EQ(x, 0xcafe);
	NO_FAULT(mmu_st8(cpu, 0x401ff000, 7));
	CHECK_EQ(*ram(0x7ff000), 7);
	CHECK_EQ(rd64(pde) & (A | D), A | D);

	/* 1G, PML4 index 1, PAT bit (12) is part of the 1G entry and not address. */
	uint64_t pdpe = map64(0x8000000000ULL, 0, 3, P | W | 0x1000);
	wr32(0x123456, 0x600d);
	NO_FAULT(x = mmu_ld32(cpu, 0x8000123456ULL));
	CHECK_EQ(x, 0x600d);
	CHECK_EQ(rd64(pdpe) & A, A);
	struct mmu_walk w;
	CHECK(mmu_walk(cpu, 0x8003000000ULL, MMU_READ | MMU_PEEK, false, &w));
	CHECK_EQ(w.pa, 0x3000000);
	CHECK_EQ(w.page_size, 1ULL << 30);

	/* Upper half. */
	map64(0xffff800000001000ULL, 0x201000, 1, P | W | A | D);
	NO_FAULT(mmu_st16(cpu, 0xffff800000001ffeULL, 0xabcd));
	CHECK_EQ(rd32(0x201ffe) & 0xffff, 0xabcd);

	/* A page-crossing load takes bytes from both pages. */
	map64(0x402000, 0x300000, 1, P | W);
	map64(0x403000, 0x310000, 1, P | W);
	wr32(0x300ffc, 0x44332211);
	wr32(0x310000, 0x88776655);
	NO_FAULT(v = mmu_ld64(cpu, 0x402ffc));
	CHECK_EQ(v, 0x8877665544332211ULL);
	NO_FAULT(mmu_st64(cpu, 0x402ffe, 0x0807060504030201ULL));
	CHECK_EQ(rd32(0x300ffc), 0x02012211);
	CHECK_EQ(rd32(0x310000), 0x06050403);

	/* Code fetch: host pointer and the bytes to the end of the page. */
	uint8_t *host = NULL;
	size_t avail = 0;
	uint64_t pa = 0;
	NO_FAULT(pa = mmu_translate_code(cpu, 0x400ff0, &host, &avail));
	CHECK_EQ(pa, 0x200ff0);
	CHECK(host == ram(0x200ff0));
	CHECK_EQ(avail, 16);
	/* Fetch across the page boundary into an unmapped page faults there. */
	uint8_t buf[32];
	FAULTS(mmu_fetch(cpu, 0x403ff8, buf, 16), EXC_PF, PF_I);
	CHECK_EQ(cpu->cr2, 0x404000);
}

static void test_long_faults(void)
{
	mode_long();
	uint64_t la = 0x10000000; /* nothing mapped at any level below PML4 0 */
	FAULTS(mmu_ld8(cpu, la), EXC_PF, 0);
	CHECK_EQ(cpu->cr2, la);
	FAULTS(mmu_st8(cpu, la + 5, 1), EXC_PF, PF_W);
	CHECK_EQ(cpu->cr2, la + 5);
	FAULTS(mmu_translate_code(cpu, la, &(uint8_t *){ 0 }, &(size_t){ 0 }), EXC_PF, PF_I);
	cpu->cpl = 3;
	FAULTS(mmu_ld8(cpu, la), EXC_PF, PF_U);
	FAULTS(mmu_st8(cpu, la, 0), EXC_PF, PF_U | PF_W);
	/* An implicit supervisor access from CPL 3 is a supervisor fault. */
	FAULTS(mmu_ld64_sys(cpu, la), EXC_PF, 0);
	cpu->cpl = 0;
	/* A fault leaves Accessed bits alone. */
	uint64_t pte = map64(0x10200000, 0x210000, 1, P | W); /* supervisor only */
	cpu->cpl = 3;
	FAULTS(mmu_ld8(cpu, 0x10200000), EXC_PF, PF_P | PF_U);
	cpu->cpl = 0;
	CHECK_EQ(rd64(pte), 0x210000 | P | W);

	/* Read-only supervisor page: writes allowed with WP=0 only. */
	pte = map64(0x10400000, 0x220000, 1, P | A);
	cpu->cr0 &= ~X86_CR0_WP;
	mmu_cr_written(cpu, cpu->cr0 | X86_CR0_WP, cpu->cr4, cpu->efer);
	NO_FAULT(mmu_st32(cpu, 0x10400100, 0x77));
	CHECK_EQ(rd32(0x220100), 0x77);
	CHECK_EQ(rd64(pte) & D, D);
	cpu->cr0 |= X86_CR0_WP;
	mmu_cr_written(cpu, cpu->cr0 & ~X86_CR0_WP, cpu->cr4, cpu->efer);
	FAULTS(mmu_st32(cpu, 0x10400100, 0x78), EXC_PF, PF_P | PF_W);
	CHECK_EQ(rd32(0x220100), 0x77);
	/* Read-only via an upper level. */
	map(pml4, 4, 0x20000000000ULL, 0x230000, 1, P | W, P | U); /* PML4 entry 4, no W */
	FAULTS(mmu_st8(cpu, 0x20000000000ULL, 1), EXC_PF, PF_P | PF_W);

	/* User vs supervisor pages. */
	map64(0x10600000, 0x240000, 1, P | W);     /* supervisor */
	map64(0x10601000, 0x241000, 1, P | U);     /* user, read-only */
	map64(0x10602000, 0x242000, 1, P | W | U); /* user */
	cpu->cpl = 3;
	FAULTS(mmu_ld8(cpu, 0x10600000), EXC_PF, PF_P | PF_U);
	FAULTS(mmu_st8(cpu, 0x10600000, 1), EXC_PF, PF_P | PF_U | PF_W);
	FAULTS(mmu_st8(cpu, 0x10601000, 1), EXC_PF, PF_P | PF_U | PF_W);
	NO_FAULT(mmu_ld8(cpu, 0x10601000));
	NO_FAULT(mmu_st8(cpu, 0x10602000, 1));
	/* User pages through a supervisor-only upper level. */
	map(pml4, 4, 0x28000000000ULL, 0x243000, 1, P | W | U, P | W); /* PML4 entry 5, no U */
	FAULTS(mmu_ld8(cpu, 0x28000000000ULL), EXC_PF, PF_P | PF_U);
	/* _sys from CPL 3 may touch supervisor pages. */
	NO_FAULT(mmu_st8_sys(cpu, 0x10600000, 1));
	cpu->cpl = 0;
	/* Supervisor may read and write user pages (no SMAP/SMEP). */
	NO_FAULT(mmu_st8(cpu, 0x10602000, 1));
	NO_FAULT(mmu_translate_code(cpu, 0x10602000, &(uint8_t *){ 0 }, &(size_t){ 0 }));

	/* NX with NXE=1. */
	map64(0x10800000, 0x250000, 1, P | W | NX);
	NO_FAULT(mmu_ld8(cpu, 0x10800000));
	FAULTS(mmu_translate_code(cpu, 0x10800000, &(uint8_t *){ 0 }, &(size_t){ 0 }), EXC_PF,
	       PF_P | PF_I);
	cpu->cpl = 3;
	map64(0x10801000, 0x251000, 1, P | U | NX);
	FAULTS(mmu_translate_code(cpu, 0x10801000, &(uint8_t *){ 0 }, &(size_t){ 0 }), EXC_PF,
	       PF_P | PF_U | PF_I);
	cpu->cpl = 0;
	/* NX with NXE=0 is a reserved bit; fetch faults have no I/D then. */
	cpu->efer &= ~X86_EFER_NXE;
	tlb_flush(cpu);
	FAULTS(mmu_ld8(cpu, 0x10800000), EXC_PF, PF_P | PF_RSVD);
	FAULTS(mmu_translate_code(cpu, 0x10800000, &(uint8_t *){ 0 }, &(size_t){ 0 }), EXC_PF,
	       PF_P | PF_RSVD);
	FAULTS(mmu_translate_code(cpu, 0x10000000, &(uint8_t *){ 0 }, &(size_t){ 0 }), EXC_PF, 0);
	cpu->efer |= X86_EFER_NXE;
	tlb_flush(cpu);

	/* Reserved bits: above MAXPHYADDR, PS in a PML4E, 2M address bits 20:13. */
	map64(0x10a00000, 0x260000 | (1ULL << 45), 1, P | W);
	FAULTS(mmu_ld8(cpu, 0x10a00000), EXC_PF, PF_P | PF_RSVD);
	FAULTS(mmu_st8(cpu, 0x10a00000, 0), EXC_PF, PF_P | PF_RSVD | PF_W);
	CHECK_EQ(cpu->cr2, 0x10a00000);
	/* Bits 62:52 are ignored in 4-level entries. */
	map64(0x10a01000, 0x261000 | (1ULL << 60), 1, P | W);
	NO_FAULT(mmu_ld8(cpu, 0x10a01000));
	map64(0x10c00000, 0x800000 | (1ULL << 13), 2, P | W);
	FAULTS(mmu_ld8(cpu, 0x10c00000), EXC_PF, PF_P | PF_RSVD);
	wr64(pml4 + 6 * 8, 0x270000 | P | W | PS);
	FAULTS(mmu_ld8(cpu, 0x30000000000ULL), EXC_PF, PF_P | PF_RSVD);
	cpu->cpl = 3;
	FAULTS(mmu_ld8(cpu, 0x30000000000ULL), EXC_PF, PF_P | PF_RSVD | PF_U);
	cpu->cpl = 0;

	/* Tables outside RAM read as all-ones: reserved bits, never a crash. */
	cpu->cr3 = NO_RAM;
	tlb_flush(cpu);
	FAULTS(mmu_ld8(cpu, 0x1000), EXC_PF, PF_P | PF_RSVD);
	cpu->cr3 = pml4;
	wr64(pml4 + 7 * 8, NO_RAM | P | W);
	FAULTS(mmu_ld8(cpu, 0x38000000000ULL), EXC_PF, PF_P | PF_RSVD);
	tlb_flush(cpu);
}

static void test_tlb(void)
{
	mode_long();
	uint64_t pte = map64(0x11000000, 0x280000, 1, P | W | A | D);
	wr32(0x280000, 1);
	wr32(0x281000, 2);
	uint32_t v = 0;
	NO_FAULT(v = mmu_ld32(cpu, 0x11000000));
	CHECK_EQ(v, 1);
	/* Changed in memory, not flushed: the old translation stays. */
	wr64(pte, 0x281000 | P | W | A | D);
	NO_FAULT(v = mmu_ld32(cpu, 0x11000000));
	CHECK_EQ(v, 1);
	tlb_flush_page(cpu, 0x11000abc);
	NO_FAULT(v = mmu_ld32(cpu, 0x11000000));
	CHECK_EQ(v, 2);

	/* Read-only page: reads hit the TLB, writes go slow and fault. */
	map64(0x11002000, 0x282000, 1, P | A);
	NO_FAULT(mmu_ld8(cpu, 0x11002000));
	const struct tlb_entry *e = &cpu->tlb[0][tlb_index(0x11002000)];
	CHECK_EQ(e->tag_read, 0x11002000 | TLB_VALID);
	CHECK_EQ(e->tag_write, TLB_INVALID);
	FAULTS(mmu_st8(cpu, 0x11002000, 1), EXC_PF, PF_P | PF_W);
	/* Wide accesses (SSE, x87) within a cached page take the same fast
	 * path, writes only through a write entry. */
	uint8_t wide[16], back[16];
	for (int j = 0; j < 16; j++)
		wide[j] = (uint8_t)(0xa0 + j);
	FAULTS(mmu_write(cpu, 0x11002010, wide, 16), EXC_PF, PF_P | PF_W);
	NO_FAULT(mmu_write(cpu, 0x11000ff0, wide, 16));
	NO_FAULT(mmu_read(cpu, 0x11000ff0, back, 16));
	CHECK(!memcmp(wide, back, 16));
	CHECK_EQ(rd32(0x281ff0), 0xa3a2a1a0);

	/* Separate supervisor and user entries. */
	map64(0x11003000, 0x283000, 1, P | W | U | A | D);
	NO_FAULT(mmu_ld8(cpu, 0x11003000));
	CHECK_EQ(cpu->tlb[1][tlb_index(0x11003000)].tag_read, TLB_INVALID);
	cpu->cpl = 3;
	NO_FAULT(mmu_ld8(cpu, 0x11003000));
	CHECK_EQ(cpu->tlb[1][tlb_index(0x11003000)].tag_read, 0x11003000 | TLB_VALID);
	cpu->cpl = 0;

	/* INVLPG inside a 2M page drops its other 4K pieces too. */
	uint64_t pde = map64(0x12000000, 0x400000, 2, P | W | A | D);
	wr32(0x400000, 10);
	wr32(0x600000, 20);
	NO_FAULT(v = mmu_ld32(cpu, 0x12000000));
	CHECK_EQ(v, 10);
	NO_FAULT(mmu_ld32(cpu, 0x11003000));
	wr64(pde, 0x600000 | P | W | A | D | PS);
	tlb_flush_page(cpu, 0x12001000);
	NO_FAULT(v = mmu_ld32(cpu, 0x12000000));
	CHECK_EQ(v, 20);
	/* ... and only those. */
	CHECK_EQ(cpu->tlb[0][tlb_index(0x11003000)].tag_read, 0x11003000 | TLB_VALID);

	/* Global pages survive MOV CR3 with CR4.PGE; others do not. */
	cpu->cr4 |= X86_CR4_PGE;
	tlb_flush(cpu);
	uint64_t gpte = map64(0x11004000, 0x284000, 1, P | W | A | D | G);
	pte = map64(0x11005000, 0x285000, 1, P | W | A | D);
	wr32(0x284000, 3);
	wr32(0x285000, 4);
	wr32(0x286000, 5);
	NO_FAULT(mmu_ld32(cpu, 0x11004000));
	NO_FAULT(mmu_ld32(cpu, 0x11005000));
	wr64(gpte, 0x286000 | P | W | A | D | G);
	wr64(pte, 0x286000 | P | W | A | D);
	mmu_cr3_written(cpu);
	NO_FAULT(v = mmu_ld32(cpu, 0x11004000));
	CHECK_EQ(v, 3);
	NO_FAULT(v = mmu_ld32(cpu, 0x11005000));
	CHECK_EQ(v, 5);
	tlb_flush(cpu);
	NO_FAULT(v = mmu_ld32(cpu, 0x11004000));
	CHECK_EQ(v, 5);
	/* MOV CR3 visits the entries filled since the last flush; past
	 * 2 * TLB_SIZE fills it scans them all. Either way no non-global
	 * translation survives. */
	tlb_flush(cpu);
	uint64_t pde0 = 0;
	for (uint64_t k = 0; k < 20; k++) {
		uint64_t d = map64(0x40000000 + k * 0x200000, 0x400000, 2, P | W | A | D);
		if (!k)
			pde0 = d;
	}
	wr32(0x400000, 10);
	for (uint64_t n = 0; n < 2 * TLB_SIZE + 8; n++)
		NO_FAULT(mmu_ld32(cpu, 0x40000000 + n * 0x1000));
	NO_FAULT(mmu_ld32(cpu, 0x40000000)); /* cached again, past the log's end */
	CHECK_EQ(cpu->tlb_log_n, 2 * TLB_SIZE);
	NO_FAULT(mmu_ld32(cpu, 0x11004000)); /* global: stays */
	wr64(pde0, 0x600000 | P | W | A | D | PS);
	wr64(gpte, 0x284000 | P | W | A | D | G);
	mmu_cr3_written(cpu);
	CHECK_EQ(cpu->tlb_log_n, 0);
	NO_FAULT(v = mmu_ld32(cpu, 0x40000000));
	CHECK_EQ(v, 20);
	NO_FAULT(v = mmu_ld32(cpu, 0x11004000));
	CHECK_EQ(v, 5);
	cpu->cr4 &= ~X86_CR4_PGE;
	tlb_flush(cpu);

	/* A zeroed TLB (a calloc'd vCPU) never hits. */
	memset(cpu->tlb, 0, sizeof(cpu->tlb));
	map64(0, 0x287000, 1, P | W | A | D);
	wr32(0x287000, 6);
	NO_FAULT(v = mmu_ld32(cpu, 0));
	CHECK_EQ(v, 6);
	tlb_flush(cpu);
}

static void test_crossing(void)
{
	mode_long();
	map64(0x13000000, 0x2a0000, 1, P | W | A | D);
	map64(0x13001000, 0x2a1000, 1, P | A); /* read-only */
	/* 0x13002000 not mapped */
	map64(0x13003000, 0x2a3000, 1, P | W);
	fill(0x2a0000, 0xaa, 4096);
	/* A store faulting on its second page writes nothing on the first. */
	FAULTS(mmu_st32(cpu, 0x13000ffe, 0x11223344), EXC_PF, PF_P | PF_W);
	CHECK_EQ(cpu->cr2, 0x13001000);
	CHECK_EQ(rd32(0x2a0ffc), 0xaaaaaaaa);
	FAULTS(mmu_st64(cpu, 0x13001ffc, 0), EXC_PF, PF_P | PF_W);
	CHECK_EQ(cpu->cr2, 0x13001ffc); /* the first page faults first */
	FAULTS(mmu_ld64(cpu, 0x13001ffc), EXC_PF, 0);
	CHECK_EQ(cpu->cr2, 0x13002000);
	/* Blocks: FXSAVE-sized write over a page boundary into a read-only page. */
	uint8_t blk[512];
	memset(blk, 0x5a, sizeof(blk));
	FAULTS(mmu_write(cpu, 0x13000f00, blk, sizeof(blk)), EXC_PF, PF_P | PF_W);
	CHECK_EQ(*ram(0x2a0f00), 0xaa);
	map64(0x13004000, 0x2a4000, 1, P | W);
	NO_FAULT(mmu_write(cpu, 0x13003f00, blk, sizeof(blk)));
	CHECK_EQ(*ram(0x2a3f00), 0x5a);
	CHECK_EQ(*ram(0x2a40ff), 0x5a);
	uint8_t back[512] = { 0 };
	NO_FAULT(mmu_read(cpu, 0x13003f00, back, sizeof(back)));
	CHECK(!memcmp(back, blk, sizeof(blk)));
	/* Probing: later pushes would fault on the second page. */
	FAULTS(mmu_probe_write(cpu, 0x13000ff0, 0x20), EXC_PF, PF_P | PF_W);
	CHECK_EQ(cpu->cr2, 0x13001000);
	NO_FAULT(mmu_probe_write(cpu, 0x13003ff0, 0x20));
	/* LOCK helpers. */
	void *p = NULL;
	NO_FAULT(p = mmu_host_rmw(cpu, 0x13000010, 8));
	CHECK(p == ram(0x2a0010));
	NO_FAULT(p = mmu_host_rmw(cpu, 0x1300003c, 8)); /* splits a cache line */
	CHECK(p == NULL);
	FAULTS(mmu_host_rmw(cpu, 0x13001000, 4), EXC_PF, PF_P | PF_W);
	FAULTS(mmu_host_rmw(cpu, 0x13000ffe, 4), EXC_PF, PF_P | PF_W);
	mmu_lock_global();
	mmu_unlock_global();
}

static void test_pae(void)
{
	uint64_t pdpt = alloc_table() + 0x20; /* 32-byte aligned is enough */
	cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
	cpu->cr4 = X86_CR4_PAE;
	cpu->efer = X86_EFER_NXE;
	cpu->cr3 = pdpt;
	cpu->mode = 32;
	cpu->cpl = 0;
	tlb_flush(cpu);
	uint64_t pd = alloc_table();
	wr64(pdpt + 8 * 2, pd | P); /* 0x80000000..0xbfffffff */
	uint64_t pte = map(pd, 2, 0x80001000, 0x2b0000, 1, P | W, P | W | U);
	wr32(0x2b0004, 0x99);
	uint32_t v = 0;
	NO_FAULT(v = mmu_ld32(cpu, 0x80001004));
	CHECK_EQ(v, 0x99);
	NO_FAULT(mmu_st32(cpu, 0x80001008, 1));
	CHECK_EQ(rd64(pte) & (A | D), A | D);
	CHECK_EQ(rd64(pdpt + 16) & A, 0); /* PAE PDPTEs have no A bit */
	CHECK_EQ(rd64(pd + 0) & A, A);
	/* 2M */
	map(pd, 2, 0x80400000, 0xa00000, 2, P | W, P | W);
	wr32(0xa12344, 0x7777);
	NO_FAULT(v = mmu_ld32(cpu, 0x80412344));
	CHECK_EQ(v, 0x7777);
	/* Not-present PDPTE, NX, reserved bits (62:40 are reserved in PAE). */
	FAULTS(mmu_ld8(cpu, 0x1000), EXC_PF, 0);
	map(pd, 2, 0x80003000, 0x2b3000, 1, P | W | NX, P | W);
	FAULTS(mmu_translate_code(cpu, 0x80003000, &(uint8_t *){ 0 }, &(size_t){ 0 }), EXC_PF,
	       PF_P | PF_I);
	map(pd, 2, 0x80004000, 0x2b4000 | (1ULL << 60), 1, P | W, P | W);
	FAULTS(mmu_ld8(cpu, 0x80004000), EXC_PF, PF_P | PF_RSVD);
	wr64(pdpt + 8 * 3, pd | P | W); /* R/W is reserved in a PAE PDPTE */
	FAULTS(mmu_ld8(cpu, 0xc0000000), EXC_PF, PF_P | PF_RSVD);
	tlb_flush(cpu);
}

static void test_32bit(void)
{
	uint64_t pd = alloc_table();
	cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
	cpu->cr4 = X86_CR4_PSE;
	cpu->efer = X86_EFER_NXE; /* no effect without PAE: no I/D bit either */
	cpu->cr3 = pd;
	cpu->mode = 32;
	cpu->cpl = 0;
	tlb_flush(cpu);
	/* 4K */
	uint64_t pt = alloc_table();
	wr32(pd + (0x00400000 >> 22) * 4, (uint32_t)(pt | P | W | U));
	wr32(pt + 5 * 4, 0x2c0000 | P | W | U);
	wr32(0x2c0010, 0x31);
	uint32_t v = 0;
	NO_FAULT(v = mmu_ld32(cpu, 0x00405010));
	CHECK_EQ(v, 0x31);
	NO_FAULT(mmu_st8(cpu, 0x00405011, 0x32));
	CHECK_EQ(rd32(pt + 5 * 4) & (A | D), A | D);
	CHECK_EQ(rd32(pd + 4) & A, A);
	/* 4M with PSE, and PSE-36 physical bits 39:32 in bits 20:13. */
	uint32_t pde = 0x00c00000 | P | W | PS;
	wr32(pd + (0x80000000u >> 22) * 4, pde);
	wr32(0xc01234, 0x4444);
	NO_FAULT(v = mmu_ld32(cpu, 0x80001234));
	CHECK_EQ(v, 0x4444);
	CHECK_EQ(rd32(pd + (0x80000000u >> 22) * 4) & A, A);
	wr32(pd + (0x80400000u >> 22) * 4, 0x00400000 | (0x12u << 13) | P | W | PS);
	struct mmu_walk w;
	CHECK(mmu_walk(cpu, 0x80412345, MMU_READ | MMU_PEEK, false, &w));
	CHECK_EQ(w.pa, 0x1200412345ULL);
	wr32(pd + (0x80800000u >> 22) * 4, 0x00400000 | (1u << 21) | P | W | PS);
	FAULTS(mmu_ld8(cpu, 0x80800000), EXC_PF, PF_P | PF_RSVD);
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
	cpu->cr4 = 0;
	tlb_flush(cpu);
	wr32(pd + (0x80c00000u >> 22) * 4, (uint32_t)(pt | P | W | PS));
	NO_FAULT(v = mmu_ld32(cpu, 0x80c05010));
	CHECK_EQ(v, 0x3231);
	/* Faults. */
	FAULTS(mmu_ld8(cpu, 0x40000000), EXC_PF, 0);
	FAULTS(mmu_translate_code(cpu, 0x40000000, &(uint8_t *){ 0 }, &(size_t){ 0 }), EXC_PF, 0);
	wr32(pt + 6 * 4, 0x2c1000 | P);
	FAULTS(mmu_st8(cpu, 0x00406000, 1), EXC_PF, PF_P | PF_W);
	cpu->cpl = 3;
	wr32(pt + 7 * 4, 0x2c2000 | P | W);
	FAULTS(mmu_ld8(cpu, 0x00407000), EXC_PF, PF_P | PF_U);
	cpu->cpl = 0;
	/* A page directory outside RAM reads as all-ones: maps to 0xfffff000, all-ones data. */
	cpu->cr3 = NO_RAM;
	tlb_flush(cpu);
	NO_FAULT(v = mmu_ld32(cpu, 0x12345678));
	CHECK_EQ(v, 0xffffffff);
	tlb_flush(cpu);
}

/* ---- Segmentation -------------------------------------------------------- */

static struct x86_seg data_seg(uint64_t base, uint32_t limit, uint8_t type, uint8_t db)
{
	return (struct x86_seg){ .base = base, .limit = limit, .type = type, .s = 1,
				 .present = 1, .db = db, .selector = 0x10 };
}

static void pm32(void)
{
	cpu->cr0 = X86_CR0_PE;
	cpu->cr4 = cpu->efer = 0;
	cpu->mode = 32;
	cpu->cpl = 0;
	cpu->rflags = 2;
	tlb_flush(cpu);
}

static void test_seg_linear(void)
{
	pm32();
	uint64_t la = 0;
	cpu->seg[SEG_DS] = data_seg(0x1000, 0xfff, 0x3, 1);
	NO_FAULT(la = seg_linear(cpu, SEG_DS, 0xffc, 4, MMU_READ));
	CHECK_EQ(la, 0x1ffc);
	FAULTS(seg_linear(cpu, SEG_DS, 0xffe, 4, MMU_READ), EXC_GP, 0);
	FAULTS(seg_linear(cpu, SEG_DS, 0x1000, 1, MMU_WRITE), EXC_GP, 0);
	cpu->seg[SEG_SS] = data_seg(0, 0xfff, 0x3, 1);
	FAULTS(seg_linear(cpu, SEG_SS, 0x1000, 2, MMU_WRITE), EXC_SS, 0);
	/* 32-bit wrap of base + offset. */
	cpu->seg[SEG_ES] = data_seg(0xfffff000, 0xffffffff, 0x3, 1);
	NO_FAULT(la = seg_linear(cpu, SEG_ES, 0x2000, 4, MMU_READ));
	CHECK_EQ(la, 0x1000);
	FAULTS(seg_linear(cpu, SEG_ES, 0xfffffffe, 4, MMU_READ), EXC_GP, 0);
	/* Expand-down: valid offsets are limit+1 .. 0xffffffff (B=1) or 0xffff (B=0). */
	cpu->seg[SEG_DS] = data_seg(0, 0xfff, 0x7, 1);
	FAULTS(seg_linear(cpu, SEG_DS, 0xfff, 1, MMU_READ), EXC_GP, 0);
	FAULTS(seg_linear(cpu, SEG_DS, 0xffe, 4, MMU_READ), EXC_GP, 0);
	NO_FAULT(la = seg_linear(cpu, SEG_DS, 0x1000, 4, MMU_WRITE));
	CHECK_EQ(la, 0x1000);
	NO_FAULT(seg_linear(cpu, SEG_DS, 0xfffffffc, 4, MMU_READ));
	FAULTS(seg_linear(cpu, SEG_DS, 0xfffffffe, 4, MMU_READ), EXC_GP, 0);
	cpu->seg[SEG_SS] = data_seg(0, 0xfff, 0x7, 0);
	NO_FAULT(seg_linear(cpu, SEG_SS, 0xfffe, 2, MMU_WRITE));
	FAULTS(seg_linear(cpu, SEG_SS, 0xffff, 2, MMU_WRITE), EXC_SS, 0);
	FAULTS(seg_linear(cpu, SEG_SS, 0x800, 2, MMU_WRITE), EXC_SS, 0);
	/* Types: read-only data, code (execute-only and readable). */
	cpu->seg[SEG_DS] = data_seg(0, 0xffffffff, 0x1, 1);
	NO_FAULT(seg_linear(cpu, SEG_DS, 0x10, 4, MMU_READ));
	FAULTS(seg_linear(cpu, SEG_DS, 0x10, 4, MMU_WRITE), EXC_GP, 0);
	cpu->seg[SEG_CS] = data_seg(0, 0xffffffff, 0x9, 1);
	FAULTS(seg_linear(cpu, SEG_CS, 0x10, 4, MMU_READ), EXC_GP, 0);
	NO_FAULT(seg_linear(cpu, SEG_CS, 0x10, 4, MMU_FETCH));
	cpu->seg[SEG_CS].type = 0xb;
	NO_FAULT(seg_linear(cpu, SEG_CS, 0x10, 4, MMU_READ));
	FAULTS(seg_linear(cpu, SEG_CS, 0x10, 4, MMU_WRITE), EXC_GP, 0);
	FAULTS(seg_linear(cpu, SEG_CS, 0xfffffffd, 4, MMU_FETCH), EXC_GP, 0);
	/* Null (unusable) segment. */
	cpu->seg[SEG_FS] = (struct x86_seg){ .unusable = 1 };
	FAULTS(seg_linear(cpu, SEG_FS, 0, 1, MMU_READ), EXC_GP, 0);
	/* Real mode: CS writable, limits still checked, no null check. */
	cpu->cr0 = 0;
	cpu->seg[SEG_CS] = data_seg(0xf0000, 0xffff, 0xb, 0);
	NO_FAULT(la = seg_linear(cpu, SEG_CS, 0x10, 2, MMU_WRITE));
	CHECK_EQ(la, 0xf0010);
	FAULTS(seg_linear(cpu, SEG_CS, 0xffff, 2, MMU_READ), EXC_GP, 0);
	/* 64-bit mode: only FS/GS bases, canonical checks. */
	cpu->cr0 = X86_CR0_PE | X86_CR0_PG;
	cpu->efer = X86_EFER_LMA | X86_EFER_LME;
	cpu->mode = 64;
	cpu->seg[SEG_DS] = data_seg(0x1000, 0xff, 0x1, 1); /* limit and type ignored */
	cpu->seg[SEG_FS] = data_seg(0xffff800000000000ULL, 0, 0x3, 1);
	NO_FAULT(la = seg_linear(cpu, SEG_DS, 0x5000, 8, MMU_WRITE));
	CHECK_EQ(la, 0x5000);
	NO_FAULT(la = seg_linear(cpu, SEG_FS, 0x5000, 8, MMU_WRITE));
	CHECK_EQ(la, 0xffff800000005000ULL);
	FAULTS(seg_linear(cpu, SEG_DS, 0x0000800000000000ULL, 1, MMU_READ), EXC_GP, 0);
	FAULTS(seg_linear(cpu, SEG_DS, 0x00007ffffffffffeULL, 4, MMU_READ), EXC_GP, 0);
	FAULTS(seg_linear(cpu, SEG_SS, 0xfff0000000000000ULL, 8, MMU_WRITE), EXC_SS, 0);
	NO_FAULT(seg_linear(cpu, SEG_SS, 0xfffffffffffffff8ULL, 8, MMU_WRITE));
	pm32();
}

#define GDT 0x9000

static uint64_t desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, unsigned p,
		     unsigned flags /* G, D/B, L, AVL nibble */)
{
	return (limit & 0xffffULL) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)(type | 0x10 | (dpl << 5) | (p << 7)) << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static void test_seg_load(void)
{
	pm32();
	wr64(GDT + 0x00, 0);
	wr64(GDT + 0x08, desc(0, 0xfffff, 0xa, 0, 1, 0xc));       /* code, readable */
	wr64(GDT + 0x10, desc(0x12345678, 0xfffff, 0x2, 0, 1, 0xc)); /* data rw, A clear */
	wr64(GDT + 0x18, desc(0, 0xfffff, 0x1, 0, 1, 0xc));       /* data read-only */
	wr64(GDT + 0x20, desc(0, 0xfffff, 0x3, 3, 1, 0xc));       /* data rw DPL 3 */
	wr64(GDT + 0x28, desc(0, 0xfffff, 0x3, 0, 0, 0xc));       /* not present */
	wr64(GDT + 0x30, desc(0, 0xfffff, 0x9, 0, 1, 0xc));       /* code, execute-only */
	wr64(GDT + 0x38, 0x0000890000000067ULL);                   /* a TSS: system */
	wr64(GDT + 0x40, desc(0, 0xfffff, 0xe, 0, 1, 0xc));       /* conforming readable code */
	cpu->gdt = (struct x86_dtable){ GDT, 0x47 };

	FAULTS(seg_load(cpu, SEG_SS, 0), EXC_GP, 0);
	FAULTS(seg_load(cpu, SEG_SS, 3), EXC_GP, 0);
	NO_FAULT(seg_load(cpu, SEG_DS, 0));
	CHECK(cpu->seg[SEG_DS].unusable);
	NO_FAULT(seg_load(cpu, SEG_SS, 0x10));
	CHECK_EQ(cpu->seg[SEG_SS].base, 0x12345678);
	CHECK_EQ(cpu->seg[SEG_SS].limit, 0xffffffff);
	CHECK_EQ(cpu->seg[SEG_SS].type, 0x3);
	CHECK_EQ(cpu->seg[SEG_SS].db, 1);
	CHECK_EQ(rd64(GDT + 0x10) >> 40 & 1, 1); /* accessed bit written back */
	FAULTS(seg_load(cpu, SEG_SS, 0x18), EXC_GP, 0x18);
	FAULTS(seg_load(cpu, SEG_SS, 0x08), EXC_GP, 0x08);
	FAULTS(seg_load(cpu, SEG_SS, 0x11), EXC_GP, 0x10); /* RPL != CPL */
	FAULTS(seg_load(cpu, SEG_SS, 0x20), EXC_GP, 0x20); /* DPL != CPL */
	FAULTS(seg_load(cpu, SEG_SS, 0x28), EXC_SS, 0x28);
	FAULTS(seg_load(cpu, SEG_DS, 0x28), EXC_NP, 0x28);
	FAULTS(seg_load(cpu, SEG_DS, 0x30), EXC_GP, 0x30);
	FAULTS(seg_load(cpu, SEG_DS, 0x38), EXC_GP, 0x38);
	FAULTS(seg_load(cpu, SEG_DS, 0x4b), EXC_GP, 0x48); /* beyond the GDT limit */
	FAULTS(seg_load(cpu, SEG_DS, 0x0c), EXC_GP, 0x0c); /* LDT, none loaded */
	NO_FAULT(seg_load(cpu, SEG_ES, 0x18));
	NO_FAULT(seg_load(cpu, SEG_FS, 0x08));
	CHECK_EQ(cpu->seg[SEG_FS].type, 0xb);
	/* A fault leaves the register as it was. */
	struct x86_seg before = cpu->seg[SEG_GS];
	FAULTS(seg_load(cpu, SEG_GS, 0x28), EXC_NP, 0x28);
	CHECK(!memcmp(&before, &cpu->seg[SEG_GS], sizeof(before)));
	/* CPL 3: DPL 0 data refused, DPL 3 fine, conforming code fine. */
	cpu->cpl = 3;
	FAULTS(seg_load(cpu, SEG_DS, 0x13), EXC_GP, 0x10);
	NO_FAULT(seg_load(cpu, SEG_DS, 0x23));
	CHECK_EQ(cpu->seg[SEG_DS].dpl, 3);
	NO_FAULT(seg_load(cpu, SEG_DS, 0x43));
	NO_FAULT(seg_load(cpu, SEG_SS, 0x23));
	cpu->cpl = 0;
	/* RPL 3 with DPL 0 data. */
	FAULTS(seg_load(cpu, SEG_DS, 0x13), EXC_GP, 0x10);
	/* 64-bit mode: a null SS is fine at CPL 0 with RPL 0, not with RPL 3. */
	cpu->efer = X86_EFER_LMA | X86_EFER_LME;
	cpu->cr0 |= X86_CR0_PG;
	cpu->mode = 64;
	mode_long();
	map64(0, 0, 2, P | W | A | D); /* identity for the GDT */
	NO_FAULT(seg_load(cpu, SEG_SS, 0));
	CHECK(cpu->seg[SEG_SS].unusable);
	FAULTS(seg_load(cpu, SEG_SS, 3), EXC_GP, 0);
	/* The GDT read faults like any supervisor access. */
	cpu->gdt.base = 0x40000000000ULL;
	cpu->gdt.limit = 0xffff;
	FAULTS(seg_load(cpu, SEG_DS, 0x10), EXC_PF, 0);
	CHECK_EQ(cpu->cr2, 0x40000000010ULL);
	cpu->gdt = (struct x86_dtable){ GDT, 0x47 };
	/* Read-only GDT page with A already set: no write, no fault. */
	map64(0x50000000, 0x9000, 1, P | A);
	cpu->gdt.base = 0x50000000;
	NO_FAULT(seg_load(cpu, SEG_DS, 0x10));
	wr64(GDT + 0x20, desc(0, 0xfffff, 0x2, 0, 1, 0xc)); /* A clear: the write faults */
	FAULTS(seg_load(cpu, SEG_DS, 0x20), EXC_PF, PF_P | PF_W);
	cpu->gdt = (struct x86_dtable){ GDT, 0x47 };

	/* Real and virtual-8086 mode: base = selector << 4. */
	pm32();
	cpu->cr0 = 0;
	NO_FAULT(seg_load(cpu, SEG_DS, 0x1234));
	CHECK_EQ(cpu->seg[SEG_DS].base, 0x12340);
	CHECK_EQ(cpu->seg[SEG_DS].selector, 0x1234);
	CHECK(!cpu->seg[SEG_DS].unusable);
	cpu->cr0 = X86_CR0_PE;
	cpu->rflags |= F_VM;
	cpu->cpl = 3;
	NO_FAULT(seg_load(cpu, SEG_ES, 0xb800));
	CHECK_EQ(cpu->seg[SEG_ES].base, 0xb8000);
	CHECK_EQ(cpu->seg[SEG_ES].limit, 0xffff);
	CHECK_EQ(cpu->seg[SEG_ES].dpl, 3);
	pm32();

	/* Descriptor helpers: wide (64-bit system) descriptors and limits. */
	uint64_t d[2];
	wr64(GDT + 0x48, 0xdeadbeef);
	cpu->gdt.limit = 0x4f;
	CHECK(seg_read_descriptor(cpu, 0x38, d, true));
	CHECK_EQ(d[1], desc(0, 0xfffff, 0xf, 0, 1, 0xc)); /* accessed by the load above */
	CHECK(seg_read_descriptor(cpu, 0x48, d, false));
	CHECK(!seg_read_descriptor(cpu, 0x48, d, true));
	FAULTS(seg_load_descriptor(cpu, 0x4a, d, true, EXC_TS), EXC_TS, 0x48);
	struct x86_seg s;
	const uint64_t tss[2] = { 0x67ULL | (0x123450ULL << 16) | (0x8bULL << 40) | (0xabULL << 56),
				  0xffffffffULL };
	seg_from_descriptor(&s, 0x38, tss, true);
	CHECK_EQ(s.base, 0xffffffffab123450ULL);
	CHECK_EQ(s.limit, 0x67);
	CHECK_EQ(s.type, 0xb);
	CHECK_EQ(s.s, 0);
}

int main(void)
{
	if (vm_init(&vm, 1) || guest_mem_init(&vm.mem, 64 * MIB, 0xe0000000ULL)) {
		fprintf(stderr, "cannot set up a VM\n");
		return 1;
	}
	bus_register(&vm.mmio, MMIO_BASE, 0x2000, &tdev_ops, &dev, "test");
	cpu = calloc(1, sizeof(*cpu));
	cpu->vm = &vm;
	cpu->rflags = 2;
	mmu_cpu_init(cpu);
	next_table = 0x1000000;
	pml4 = alloc_table();

	test_phys();
	test_paging_off();
	test_mmio();
	test_long_translate();
	test_long_faults();
	test_tlb();
	test_crossing();
	test_pae();
	test_32bit();
	test_seg_linear();
	test_seg_load();

	free(cpu);
	vm_destroy(&vm);
	return test_exit();
}
