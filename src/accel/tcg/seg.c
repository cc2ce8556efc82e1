/*
 * Segmentation: the checks behind seg_linear()'s inline fast path, GDT/LDT
 * descriptor reads, and loading data/stack segment registers (MOV, POP,
 * LDS and friends) in every mode.
 *
 * Descriptor tables are read with implicit supervisor accesses through the
 * MMU, so page faults on them are raised like any other. Nothing here
 * changes a segment register before every check that can fault has passed.
 */
#include "accel/tcg/mmu.h"

/* Descriptor fields (in the first 8 bytes). */
#define DESC_TYPE(d) ((unsigned)((d) >> 40) & 0xf)
#define DESC_S(d) ((unsigned)((d) >> 44) & 1)
#define DESC_DPL(d) ((unsigned)((d) >> 45) & 3)
#define DESC_P(d) ((unsigned)((d) >> 47) & 1)
#define DESC_ACCESSED (1ULL << 40)

/* Type nibble bits of code/data segments. */
#define TYPE_CODE 0x8
#define TYPE_EXPAND_DOWN 0x4 /* data; for code: conforming */
#define TYPE_CONFORMING 0x4
#define TYPE_WRITABLE 0x2    /* data; for code: readable */
#define TYPE_READABLE 0x2

static _Noreturn void seg_fault(struct x86_cpu *cpu, int seg)
{
	cpu_raise(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
}

_Noreturn void seg_raise_noncanonical(struct x86_cpu *cpu, int seg)
{
	seg_fault(cpu, seg);
}

static bool seg_protected(const struct x86_cpu *cpu)
{
	return (cpu->cr0 & X86_CR0_PE) && !(cpu->rflags & F_VM);
}

uint64_t seg_linear_slow(struct x86_cpu *cpu, int seg, uint64_t off, unsigned size, int access)
{
	const struct x86_seg *s = &cpu->seg[seg];
	uint64_t last = off + size - 1;
	bool code = s->type & TYPE_CODE;
	/* Real and virtual-8086 mode check limits only (CS is writable there). */
	if (seg_protected(cpu)) {
		if (s->unusable)
			seg_fault(cpu, seg);
		if (code ? access == MMU_WRITE || (access == MMU_READ && !(s->type & TYPE_READABLE))
			 : access == MMU_WRITE && !(s->type & TYPE_WRITABLE))
			cpu_raise(cpu, EXC_GP, 0);
	}
	if (!code && (s->type & TYPE_EXPAND_DOWN)) {
		/* Valid offsets are limit+1 .. 0xffff or 0xffffffff (B flag). */
		uint64_t upper = s->db ? 0xffffffffULL : 0xffffULL;
		if (off <= s->limit || last > upper)
			seg_fault(cpu, seg);
	} else if (last > s->limit) {
		seg_fault(cpu, seg);
	}
	return (uint32_t)(s->base + off);
}

uint64_t seg_descriptor_addr(struct x86_cpu *cpu, uint16_t sel)
{
	uint64_t a = ((sel & 4) ? cpu->ldt.base : cpu->gdt.base) + (sel & ~7u);
	/* Table bases are 64-bit in IA-32e mode (compatibility mode too). */
	return (cpu->efer & X86_EFER_LMA) ? a : (uint32_t)a;
}

bool seg_read_descriptor(struct x86_cpu *cpu, uint16_t sel, uint64_t desc[2], bool wide)
{
	uint64_t limit;
	if (sel & 4) {
		if (cpu->ldt.unusable || !(cpu->ldt.selector & 0xfffc))
			return false;
		limit = cpu->ldt.limit;
	} else {
		limit = cpu->gdt.limit;
	}
	if ((uint64_t)(sel & ~7u) + (wide ? 15 : 7) > limit)
		return false;
	uint64_t a = seg_descriptor_addr(cpu, sel);
	desc[0] = mmu_ld64_sys(cpu, a);
	desc[1] = 0;
	if (wide) {
		uint64_t a2 = a + 8;
		desc[1] = mmu_ld64_sys(cpu, (cpu->efer & X86_EFER_LMA) ? a2 : (uint32_t)a2);
	}
	return true;
}

void seg_load_descriptor(struct x86_cpu *cpu, uint16_t sel, uint64_t desc[2], bool wide, int vector)
{
	if (!seg_read_descriptor(cpu, sel, desc, wide))
		cpu_raise(cpu, vector, sel & 0xfffc);
}

void seg_from_descriptor(struct x86_seg *s, uint16_t sel, const uint64_t desc[2], bool wide)
{
	uint64_t d = desc[0];
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	s->g = (d >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	if (wide)
		s->base |= (desc[1] & 0xffffffffULL) << 32;
	s->selector = sel;
	s->type = (uint8_t)DESC_TYPE(d);
	s->s = (uint8_t)DESC_S(d);
	s->dpl = (uint8_t)DESC_DPL(d);
	s->present = (uint8_t)DESC_P(d);
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->unusable = 0;
}

void seg_set_accessed(struct x86_cpu *cpu, uint16_t sel, uint64_t *desc)
{
	/* Only when clear: Linux maps its GDT read-only with A preset. */
	if (desc[0] & DESC_ACCESSED)
		return;
	uint64_t la = seg_descriptor_addr(cpu, sel) + 5;
	if (!(cpu->efer & X86_EFER_LMA))
		la = (uint32_t)la;
	uint8_t *p = mmu_host_rmw_as(cpu, la, 1, 0);
	if (p) {
		__atomic_fetch_or(p, 1, __ATOMIC_SEQ_CST);
	} else {
		/* Not RAM; the write was already checked, so nothing below faults. */
		mmu_lock_global();
		mmu_st8_sys(cpu, la, mmu_ld8_sys(cpu, la) | 1);
		mmu_unlock_global();
	}
	desc[0] |= DESC_ACCESSED;
}

static void seg_set_null(struct x86_seg *s, uint16_t sel)
{
	/* Intel clears the base (AMD before Zen 3 kept it; Linux copes with both). */
	*s = (struct x86_seg){ .selector = sel, .unusable = 1 };
}

void seg_load(struct x86_cpu *cpu, int seg, uint16_t sel)
{
	struct x86_seg *s = &cpu->seg[seg];
	if (!seg_protected(cpu)) {
		bool v86 = cpu->rflags & F_VM;
		s->selector = sel;
		s->base = (uint64_t)sel << 4;
		/*
		 * Real mode keeps the cached limit and attributes ("unreal" mode);
		 * virtual-8086 mode and a register left unusable by protected mode
		 * get the 64K read/write segment.
		 */
		if (v86 || s->unusable) {
			s->limit = 0xffff;
			s->type = seg == SEG_CS ? 0xb : 0x3;
			s->s = 1;
			s->dpl = v86 ? 3 : 0;
			s->present = 1;
			s->db = s->l = s->g = s->avl = 0;
			s->unusable = 0;
			if (v86)
				s->type = 0x3;
		}
		return;
	}
	/* MOV to CS does not exist; far transfers load CS with their own checks. */
	if (seg == SEG_CS)
		cpu_raise(cpu, EXC_UD, 0);
	unsigned rpl = sel & 3, cpl = cpu->cpl;
	uint16_t err = sel & 0xfffc;
	if (!err) {
		/* A null SS is only allowed in 64-bit mode, below CPL 3, with RPL = CPL. */
		if (seg == SEG_SS && !(cpu->mode == 64 && cpl != 3 && rpl == cpl))
			cpu_raise(cpu, EXC_GP, 0);
		seg_set_null(s, sel);
		if (seg == SEG_SS)
			s->dpl = (uint8_t)rpl;
		return;
	}
	uint64_t d[2];
	seg_load_descriptor(cpu, sel, d, false, EXC_GP);
	unsigned type = DESC_TYPE(d[0]), dpl = DESC_DPL(d[0]);
	if (seg == SEG_SS) {
		/* A writable data segment at exactly CPL. */
		if (rpl != cpl || !DESC_S(d[0]) || (type & (TYPE_CODE | TYPE_WRITABLE)) != TYPE_WRITABLE ||
		    dpl != cpl)
			cpu_raise(cpu, EXC_GP, err);
		if (!DESC_P(d[0]))
			cpu_raise(cpu, EXC_SS, err);
	} else {
		/* Data or readable code; privilege checked unless conforming code. */
		if (!DESC_S(d[0]) || (type & (TYPE_CODE | TYPE_READABLE)) == TYPE_CODE)
			cpu_raise(cpu, EXC_GP, err);
		if (!((type & TYPE_CODE) && (type & TYPE_CONFORMING)) && (rpl > dpl || cpl > dpl))
			cpu_raise(cpu, EXC_GP, err);
		if (!DESC_P(d[0]))
			cpu_raise(cpu, EXC_NP, err);
	}
	seg_set_accessed(cpu, sel, d);
	seg_from_descriptor(s, sel, d, false);
}
