/*
 * The guest both engines run on: one memory image (GDT, TSS, IDT, page
 * tables, exception stubs, code filler, data) and the segment state of a
 * ring-3 case in each mode. Built once per engine from the same code, so
 * the two start from identical bytes.
 */
#include <string.h>

#include "diff.h"

/* A code or data descriptor as it sits in the GDT and in a segment cache. */
struct seg_desc {
	uint16_t sel;
	uint8_t type, dpl, db, l, g;
	uint32_t limit; /* byte granular */
};

static const struct seg_desc descs[] = {
	{ SEL_CODE0, 0xb, 0, 0, 1, 1, 0xffffffff },
	{ SEL_DATA0, 0x3, 0, 1, 0, 1, 0xffffffff },
	{ SEL_CODE32, 0xb, 3, 1, 0, 1, 0xffffffff },
	{ SEL_DATA32, 0x3, 3, 1, 0, 1, 0xffffffff },
	{ SEL_CODE64, 0xb, 3, 0, 1, 1, 0xffffffff },
	{ SEL_CODE16, 0xb, 3, 0, 0, 0, 0xffff },
	{ SEL_DATA16, 0x3, 3, 0, 0, 0, 0xffff },
};

static const struct seg_desc *desc_of(uint16_t sel)
{
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
		if ((descs[i].sel & ~3) == (sel & ~3))
			return &descs[i];
	return NULL;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t desc_encode(const struct seg_desc *d)
{
	uint32_t lim = d->g ? d->limit >> 12 : d->limit;
	/* Accessed is preset so that loading a selector never writes the GDT. */
	uint64_t acc = 0x80 | (uint64_t)d->dpl << 5 | 0x10 | d->type;
	return (lim & 0xffff) | (uint64_t)acc << 40 | (uint64_t)((lim >> 16) & 0xf) << 48 |
	       (uint64_t)d->l << 53 | (uint64_t)d->db << 54 | (uint64_t)d->g << 55;
}

static struct x86_seg seg_cache(uint16_t sel)
{
	const struct seg_desc *d = desc_of(sel);
	return (struct x86_seg){ .base = 0, .limit = d->limit, .selector = sel, .type = d->type,
				 .s = 1, .dpl = d->dpl, .present = 1, .db = d->db, .l = d->l,
				 .g = d->g };
}

void image_build(uint8_t *ram)
{
	memset(ram, 0, GUEST_RAM);
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
		put64(ram + GDT_BASE + (descs[i].sel & ~7), desc_encode(&descs[i]));
	/* 64-bit TSS descriptor, busy: 16 bytes. */
	uint64_t tlim = 0x67;
	put64(ram + GDT_BASE + SEL_TSS,
	      tlim | (TSS_BASE & 0xffffff) << 16 | 0x8bULL << 40 | ((TSS_BASE >> 24) & 0xff) << 56);
	put64(ram + GDT_BASE + SEL_TSS + 8, TSS_BASE >> 32);
	/* TSS: RSP0, and an I/O map base past the limit (IOPL 3 allows all ports). */
	put64(ram + TSS_BASE + 4, RSP0_TOP);
	uint16_t iomap = 0x68;
	memcpy(ram + TSS_BASE + 0x66, &iomap, 2);

	/*
	 * Every vector has an interrupt gate to its own stub, OUT imm8, AL with
	 * the vector as port. DPL 0 makes INT n from ring 3 #GP(n*8+2), which
	 * both engines must agree on.
	 */
	for (unsigned v = 0; v < 256; v++) {
		uint64_t off = STUB_BASE + v * STUB_SIZE;
		/* #BP and #OF are DPL 3, as Linux has them: PVM delivers a native
		 * INT3 without looking at the guest's gate. */
		uint64_t type = v == 3 || v == 4 ? 0xeeULL : 0x8eULL;
		uint64_t lo = (off & 0xffff) | (uint64_t)SEL_CODE0 << 16 | type << 40 |
			      ((off >> 16) & 0xffff) << 48;
		put64(ram + IDT_BASE + v * 16, lo);
		put64(ram + IDT_BASE + v * 16 + 8, off >> 32);
		ram[off] = 0xe6;
		ram[off + 1] = (uint8_t)v;
	}

	/*
	 * Identity map of the first 68 KiB with 4K pages (see diff.h for who
	 * may access what). Accessed and Dirty are preset everywhere so that
	 * neither engine writes the page tables while a case runs.
	 */
	const uint64_t dir = 0x27, user = 0x67, sup = 0x63; /* P W U A D, P W A D */
	const uint64_t nx = 1ULL << 63; /* a jump into data faults instead of running it */
	put64(ram + PML4_BASE, PDPT_BASE | dir);
	put64(ram + PDPT_BASE, PD_BASE | dir);
	put64(ram + PD_BASE, PT_BASE | dir);
	for (uint64_t p = 0; p < 512; p++) {
		uint64_t a = p << 12, e = 0;
		if (a < CODE_LO)
			e = a | sup; /* descriptor tables, page tables, stubs, ring-0 stack */
		else if (a < CODE_HI)
			e = a | (user & ~2ULL); /* code: user, read-only */
		else if (a < DATA_HI || a == ZERO_PAGE)
			e = a | user | nx;
		else if (a == RO_PAGE)
			e = a | (user & ~2ULL) | nx;
		put64(ram + PT_BASE + p * 8, e);
	}
	memset(ram + CODE_LO, FILLER, CODE_HI - CODE_LO);
}

/* splitmix64: the data image is a pure function of the case's seed. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void image_data(uint8_t *ram, const struct diff_case *c)
{
	uint64_t s = c->data_seed;
	for (uint64_t a = DATA_LO; a < DATA_HI; a += 8) {
		uint64_t v = mix(&s);
		memcpy(ram + a, &v, 8);
	}
	for (int i = 0; i < c->npatch; i++)
		memcpy(ram + c->patch[i].addr, &c->patch[i].val, c->patch[i].size);
}

void image_code(uint8_t *ram, const struct diff_case *c)
{
	memcpy(ram + c->addr, c->bytes, c->len);
}

void image_uncode(uint8_t *ram, const struct diff_case *c)
{
	memset(ram + c->addr, FILLER, c->len);
}

void image_state(struct x86_cpu_state *s, int mode)
{
	memset(s, 0, sizeof(*s));
	uint16_t cs = mode == 64 ? SEL_CODE64 : mode == 32 ? SEL_CODE32 : SEL_CODE16;
	uint16_t ds = mode == 16 ? SEL_DATA16 : SEL_DATA32;
	s->cs = seg_cache(cs);
	s->ss = s->ds = s->es = s->fs = s->gs = seg_cache(ds);
	if (mode == 64) {
		/* Null DS/ES/FS/GS, as a Linux process has them in 64-bit mode. */
		struct x86_seg null = { .unusable = 1 };
		s->ds = s->es = s->fs = s->gs = null;
	}
	s->tr = (struct x86_seg){ .base = TSS_BASE, .limit = 0x67, .selector = SEL_TSS,
				  .type = 0xb, .present = 1 };
	s->ldt = (struct x86_seg){ .type = 2, .unusable = 1 };
	s->gdt = (struct x86_dtable){ GDT_BASE, SEL_TSS + 15 };
	s->idt = (struct x86_dtable){ IDT_BASE, 256 * 16 - 1 };
	s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	s->cr3 = PML4_BASE;
	s->cr4 = X86_CR4_PAE | (1ULL << 9) /* OSFXSR */ | (1ULL << 10) /* OSXMMEXCPT */;
	s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
}

bool vector_has_error(int vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}
