#include "core/cpu_state.h"

#include <string.h>

static struct x86_seg seg_real(uint16_t sel, uint8_t type)
{
	return (struct x86_seg){
		.base = (uint64_t)sel << 4, .limit = 0xffff, .selector = sel,
		.type = type, .s = 1, .present = 1,
	};
}

void x86_state_reset(struct x86_cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	s->rip = 0xfff0;
	s->rflags = X86_RFLAGS_RESERVED1;
	s->gpr[R_RDX] = 0x600; /* family 6 */
	s->cs = seg_real(0xf000, 0xb);
	s->cs.base = 0xffff0000;
	s->ds = s->es = s->fs = s->gs = s->ss = seg_real(0, 0x3);
	s->ldt = (struct x86_seg){ .limit = 0xffff, .type = 0x2, .present = 1 };
	s->tr = (struct x86_seg){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->gdt.limit = s->idt.limit = 0xffff;
	s->cr0 = X86_CR0_ET | X86_CR0_NE | (1ULL << 29) | (1ULL << 30); /* NW|CD */
}

static struct x86_seg seg_flat(uint16_t sel, uint8_t type, int l)
{
	return (struct x86_seg){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .s = 1,
		.present = 1, .db = !l, .l = (uint8_t)l, .g = 1,
	};
}

void x86_state_flat32(struct x86_cpu_state *s, uint64_t gdt_base, uint16_t gdt_limit)
{
	x86_state_reset(s);
	s->rip = 0;
	s->gpr[R_RDX] = 0;
	s->cs = seg_flat(0x10, 0xb, 0);
	s->ds = s->es = s->fs = s->gs = s->ss = seg_flat(0x18, 0x3, 0);
	s->gdt = (struct x86_dtable){ gdt_base, gdt_limit };
	s->idt = (struct x86_dtable){ 0, 0 };
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
}

void x86_state_long64(struct x86_cpu_state *s, uint64_t cr3, uint64_t gdt_base, uint16_t gdt_limit)
{
	x86_state_flat32(s, gdt_base, gdt_limit);
	s->cs = seg_flat(0x10, 0xb, 1);
	s->cr3 = cr3;
	s->cr4 = X86_CR4_PAE;
	s->cr0 |= X86_CR0_PG;
	s->efer = X86_EFER_LME | X86_EFER_LMA;
}

const char *x86_state_mode(const struct x86_cpu_state *s)
{
	if (!(s->cr0 & X86_CR0_PE))
		return "real mode";
	if (s->efer & X86_EFER_LMA)
		return s->cs.l ? "64-bit long mode" : "compatibility mode";
	return s->cs.db ? "32-bit protected mode" : "16-bit protected mode";
}

static void dump_seg(FILE *f, const char *name, const struct x86_seg *g)
{
	fprintf(f, "%-3s=%04x %016llx %08x type=%x s=%u dpl=%u p=%u db=%u l=%u g=%u\n", name,
		g->selector, (unsigned long long)g->base, g->limit, g->type, g->s, g->dpl,
		g->present, g->db, g->l, g->g);
}

void x86_state_dump(const struct x86_cpu_state *s, FILE *f)
{
	static const char *const names[16] = {
		"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
		"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
	};
	for (int i = 0; i < 16; i++)
		fprintf(f, "%-3s=%016llx%s", names[i], (unsigned long long)s->gpr[i],
			(i % 4 == 3) ? "\n" : " ");
	fprintf(f, "RIP=%016llx RFL=%08llx [%s]\n", (unsigned long long)s->rip,
		(unsigned long long)s->rflags, x86_state_mode(s));
	dump_seg(f, "ES", &s->es);
	dump_seg(f, "CS", &s->cs);
	dump_seg(f, "SS", &s->ss);
	dump_seg(f, "DS", &s->ds);
	dump_seg(f, "FS", &s->fs);
	dump_seg(f, "GS", &s->gs);
	dump_seg(f, "LDT", &s->ldt);
	dump_seg(f, "TR", &s->tr);
	fprintf(f, "GDT=%016llx %04x IDT=%016llx %04x\n", (unsigned long long)s->gdt.base,
		s->gdt.limit, (unsigned long long)s->idt.base, s->idt.limit);
	fprintf(f, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx EFER=%llx\n",
		(unsigned long long)s->cr0, (unsigned long long)s->cr2,
		(unsigned long long)s->cr3, (unsigned long long)s->cr4,
		(unsigned long long)s->efer);
}
