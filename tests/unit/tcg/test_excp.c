/*
 * Exception and interrupt delivery and the system instructions, run as
 * guest code: instruction bytes in guest RAM, descriptor tables, TSS and
 * page tables laid out by hand, cpu_step() under a setjmp that delivers
 * exceptions the way cpu_run() does. Checks the handler reached, the
 * stack frame contents, error codes, CR2, #DF and triple-fault escalation,
 * returns (IRET/IRETQ/SYSRET), CPUID, MSRs, CR0 into long mode and SIPI.
 */
#include <setjmp.h>
#include <stdlib.h>

#include "accel/tcg/system.h"
#include "test.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define MIB (1ULL << 20)
#define GDT 0x10000
#define IDT 0x11000
#define TSS 0x12000
#define PML4 0x100000

static struct vm vm;
static struct x86_cpu *cpu;
static int delivered; /* exceptions delivered by run() */

/* ---- guest memory --------------------------------------------------------------- */

static uint8_t *ram(uint64_t pa)
{
	return guest_ptr(&vm.mem, pa, 1);
}

static void put(uint64_t pa, const void *p, size_t n)
{
	memcpy(ram(pa), p, n);
}

static uint64_t rd(uint64_t pa, unsigned n)
{
	uint64_t v = 0;
	memcpy(&v, ram(pa), n);
	return v;
}

static void wr(uint64_t pa, uint64_t v, unsigned n)
{
	memcpy(ram(pa), &v, n);
}

#define CODE(pa, ...)                                              \
	do {                                                       \
		static const uint8_t b_[] = { __VA_ARGS__ };       \
		put(pa, b_, sizeof(b_));                           \
	} while (0)

/* ---- running --------------------------------------------------------------------- */

/*
 * Executes n instructions as cpu_run() does; an instruction that faults
 * counts once its exception (or the #DF it escalated to) is delivered.
 */
static void run(int n)
{
	volatile int left = n;
	if (setjmp(cpu->exc_jmp)) {
		cpu->rip = cpu->insn_rip;
		delivered++;
		excp_deliver_pending(cpu);
		if (vm_stopping(&vm))
			return;
		left--;
	}
	while (left > 0) {
		cpu_step(cpu);
		cpu->exc_depth = 0;
		left--;
	}
}

/* ---- descriptors ------------------------------------------------------------------ */

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffffULL) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void set_seg(int s, uint16_t sel)
{
	uint64_t d[2] = { rd(GDT + (sel & ~7u), 8), 0 };
	seg_from_descriptor(&cpu->seg[s], sel, d, false);
}

static void gate32(int vec, uint16_t sel, uint32_t off, unsigned type_attr)
{
	wr(IDT + vec * 8, (off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)type_attr << 40 |
				  (uint64_t)(off >> 16) << 48, 8);
}

static void gate64(int vec, uint16_t sel, uint64_t off, unsigned type_attr, unsigned ist)
{
	wr(IDT + vec * 16, (off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)ist << 32 |
				   (uint64_t)type_attr << 40 | ((off >> 16) & 0xffff) << 48, 8);
	wr(IDT + vec * 16 + 8, off >> 32, 8);
}

static void reset_cpu(int index)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->vm = &vm;
	cpu->vcpu = &vm.vcpus[index];
	mmu_cpu_init(cpu);
	cpu_do_init(cpu);
	cpu->wait_sipi = false;
	delivered = 0;
	memset(ram(0), 0, 2 * MIB);
}

/*
 * 32-bit protected mode, paging off. GDT: 0x08 code DPL0, 0x10 data DPL0,
 * 0x18 code DPL3, 0x20 data DPL3, 0x28 32-bit TSS, 0x30 64-bit code DPL0.
 */
static void setup_pm32(void)
{
	reset_cpu(0);
	wr(GDT + 0x08, seg_desc(0, 0xfffff, 0x9a, 0xc), 8);
	wr(GDT + 0x10, seg_desc(0, 0xfffff, 0x92, 0xc), 8);
	wr(GDT + 0x18, seg_desc(0, 0xfffff, 0xfa, 0xc), 8);
	wr(GDT + 0x20, seg_desc(0, 0xfffff, 0xf2, 0xc), 8);
	wr(GDT + 0x28, seg_desc(TSS, 0x67, 0x8b, 0), 8);
	wr(GDT + 0x30, seg_desc(0, 0xfffff, 0x9a, 0xa), 8);
	cpu->gdt = (struct x86_dtable){ GDT, 0x37 };
	cpu->idt = (struct x86_dtable){ IDT, 0x7ff };
	cpu->cr0 = X86_CR0_PE | X86_CR0_ET;
	set_seg(SEG_CS, 0x08);
	set_seg(SEG_SS, 0x10);
	set_seg(SEG_DS, 0x10);
	set_seg(SEG_ES, 0x10);
	uint64_t t[2] = { rd(GDT + 0x28, 8), 0 };
	seg_from_descriptor(&cpu->tr, 0x28, t, false);
	wr(TSS + 4, 0x20000, 4); /* ESP0 */
	wr(TSS + 8, 0x10, 2);    /* SS0 */
	cpu->gpr[R_RSP] = 0x8000;
	cpu_update_mode(cpu);
}

/*
 * Long mode: identity-mapped 0-8 MiB with 2 MiB user pages, 8 MiB+ not
 * present. GDT: 0x08 code64 DPL0, 0x10 data, 0x18 code64 DPL3, 0x20 data
 * DPL3, 0x28 64-bit TSS (16 bytes).
 */
static void setup_long(void)
{
	reset_cpu(0);
	memset(ram(PML4), 0, 0x3000);
	wr(PML4, (PML4 + 0x1000) | 7, 8);
	wr(PML4 + 0x1000, (PML4 + 0x2000) | 7, 8);
	for (int k = 0; k < 4; k++)
		wr(PML4 + 0x2000 + 8 * k, (uint64_t)k * 2 * MIB | 0x87, 8);
	wr(GDT + 0x08, seg_desc(0, 0xfffff, 0x9a, 0xa), 8);
	wr(GDT + 0x10, seg_desc(0, 0xfffff, 0x92, 0xc), 8);
	wr(GDT + 0x18, seg_desc(0, 0xfffff, 0xfa, 0xa), 8);
	wr(GDT + 0x20, seg_desc(0, 0xfffff, 0xf2, 0xc), 8);
	wr(GDT + 0x28, seg_desc(TSS, 0x67, 0x89, 0), 8);
	wr(GDT + 0x30, 0, 8);
	cpu->gdt = (struct x86_dtable){ GDT, 0x37 };
	cpu->idt = (struct x86_dtable){ IDT, 0xfff };
	cpu->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	cpu->cr4 = X86_CR4_PAE;
	cpu->cr3 = PML4;
	cpu->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_SCE;
	set_seg(SEG_CS, 0x08);
	set_seg(SEG_SS, 0x10);
	set_seg(SEG_DS, 0x10);
	uint64_t t[2] = { rd(GDT + 0x28, 8), 0 };
	seg_from_descriptor(&cpu->tr, 0x28, t, true);
	wr(TSS + 4, 0x28000, 8);    /* RSP0 */
	wr(TSS + 0x24, 0x30000, 8); /* IST1 */
	cpu->gpr[R_RSP] = 0x8000;
	cpu_update_mode(cpu);
	tlb_flush(cpu);
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_real_mode_int(void)
{
	reset_cpu(0);
	cpu->seg[SEG_CS].selector = 0;
	cpu->seg[SEG_CS].base = 0;
	cpu->rip = 0x1000;
	cpu->gpr[R_RSP] = 0x8000;
	cpu->rflags |= F_IF;
	cpu_update_mode(cpu);
	wr(0x21 * 4, 0x02000010, 4); /* 0200:0010 */
	CODE(0x1000, 0xcd, 0x21);     /* int 0x21 */
	CODE(0x2010, 0xcf);           /* iret */
	run(1);
	CHECK_EQ(cpu->mode, 16);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0x200);
	CHECK_EQ(cpu->seg[SEG_CS].base, 0x2000);
	CHECK_EQ(cpu->rip, 0x10);
	CHECK_EQ(cpu->gpr[R_RSP], 0x7ffa);
	CHECK_EQ(rd(0x7ffa, 2), 0x1002); /* IP of the next instruction */
	CHECK_EQ(rd(0x7ffc, 2), 0);      /* CS */
	CHECK(rd(0x7ffe, 2) & F_IF);     /* FLAGS as they were */
	CHECK(!(cpu->rflags & F_IF));
	run(1);
	CHECK_EQ(cpu->rip, 0x1002);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0);
	CHECK_EQ(cpu->gpr[R_RSP], 0x8000);
	CHECK(cpu->rflags & F_IF);
	CHECK_EQ(delivered, 0);
}

static void test_pm32_gp_error_code(void)
{
	setup_pm32();
	gate32(EXC_GP, 0x08, 0x3000, 0x8e);
	cpu->rip = 0x1000;
	CODE(0x1000, 0xea, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00); /* ljmp $0x80,$0 */
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->rip, 0x3000);
	CHECK_EQ(cpu->gpr[R_RSP], 0x8000 - 16);
	CHECK_EQ(rd(0x8000 - 16, 4), 0x80);   /* error code: the selector */
	CHECK_EQ(rd(0x8000 - 12, 4), 0x1000); /* EIP of the faulting insn */
	CHECK_EQ(rd(0x8000 - 8, 4), 0x08);
	CHECK_EQ(rd(0x8000 - 4, 4) & 2, 2);
	CHECK_EQ(cpu->cpl, 0);
}

static void test_pm32_ring3_to_ring0(void)
{
	setup_pm32();
	gate32(EXC_GP, 0x08, 0x3000, 0x8e);
	set_seg(SEG_CS, 0x1b);
	set_seg(SEG_SS, 0x23);
	set_seg(SEG_DS, 0x23);
	cpu->gpr[R_RSP] = 0x9000;
	cpu->rflags |= F_IF;
	cpu_update_mode(cpu);
	CHECK_EQ(cpu->cpl, 3);
	cpu->rip = 0x1000;
	CODE(0x1000, 0xf4); /* hlt at CPL 3: #GP(0) */
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->cpl, 0);
	CHECK_EQ(cpu->rip, 0x3000);
	CHECK_EQ(cpu->seg[SEG_SS].selector, 0x10);
	CHECK_EQ(cpu->gpr[R_RSP], 0x20000 - 24);
	CHECK_EQ(rd(0x20000 - 24, 4), 0);      /* error code */
	CHECK_EQ(rd(0x20000 - 20, 4), 0x1000); /* EIP */
	CHECK_EQ(rd(0x20000 - 16, 4), 0x1b);   /* CS */
	CHECK(rd(0x20000 - 12, 4) & F_IF);     /* EFLAGS */
	CHECK_EQ(rd(0x20000 - 8, 4), 0x9000);  /* ESP */
	CHECK_EQ(rd(0x20000 - 4, 4), 0x23);    /* SS */
	CHECK(!(cpu->rflags & F_IF));          /* interrupt gate */

	/* Drop the error code and IRET back to ring 3. */
	cpu->gpr[R_RSP] += 4;
	CODE(0x3000, 0xcf);
	run(1);
	CHECK_EQ(cpu->cpl, 3);
	CHECK_EQ(cpu->rip, 0x1000);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0x1b);
	CHECK_EQ(cpu->seg[SEG_SS].selector, 0x23);
	CHECK_EQ(cpu->gpr[R_RSP], 0x9000);
	CHECK(cpu->rflags & F_IF);

	/* INT 0x80 from ring 3 needs a DPL 3 gate: DPL 0 gives #GP(0x80*8+2). */
	gate32(0x80, 0x08, 0x3100, 0x8e);
	CODE(0x1000, 0xcd, 0x80);
	run(1);
	CHECK_EQ(delivered, 2);
	CHECK_EQ(cpu->rip, 0x3000);
	CHECK_EQ(rd(cpu->gpr[R_RSP], 4), 0x80 * 8 + 2);
	CHECK_EQ(rd(cpu->gpr[R_RSP] + 4, 4), 0x1000);
	/* With DPL 3 it is delivered, pushing the address after INT. */
	setup_pm32();
	gate32(0x80, 0x08, 0x3100, 0xee);
	set_seg(SEG_CS, 0x1b);
	set_seg(SEG_SS, 0x23);
	cpu->gpr[R_RSP] = 0x9000;
	cpu_update_mode(cpu);
	cpu->rip = 0x1000;
	CODE(0x1000, 0xcd, 0x80);
	run(1);
	CHECK_EQ(delivered, 0);
	CHECK_EQ(cpu->rip, 0x3100);
	CHECK_EQ(cpu->gpr[R_RSP], 0x20000 - 20);
	CHECK_EQ(rd(0x20000 - 20, 4), 0x1002);
}

static void test_long_pf_ist(void)
{
	setup_long();
	gate64(EXC_PF, 0x08, 0x4000, 0x8e, 1);
	set_seg(SEG_CS, 0x1b);
	set_seg(SEG_SS, 0x23);
	cpu_update_mode(cpu);
	CHECK_EQ(cpu->mode, 64);
	CHECK_EQ(cpu->cpl, 3);
	cpu->gpr[R_RSP] = 0x7008;
	cpu->rip = 0x5000;
	CODE(0x5000, 0x0f, 0x01, 0x04, 0x25, 0x00, 0x00, 0x80, 0x00); /* sgdt [0x800000] */
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->cr2, 0x800000);
	CHECK_EQ(cpu->rip, 0x4000);
	CHECK_EQ(cpu->cpl, 0);
	CHECK_EQ(cpu->mode, 64);
	CHECK_EQ(cpu->seg[SEG_SS].selector, 0); /* null SS, RPL = new CPL */
	uint64_t sp = 0x30000 - 48;            /* IST1, not RSP0 */
	CHECK_EQ(cpu->gpr[R_RSP], sp);
	CHECK_EQ(rd(sp, 8), PF_W | PF_U);  /* not present, write, user */
	CHECK_EQ(rd(sp + 8, 8), 0x5000);   /* RIP */
	CHECK_EQ(rd(sp + 16, 8), 0x1b);    /* CS */
	CHECK_EQ(rd(sp + 32, 8), 0x7008);  /* RSP */
	CHECK_EQ(rd(sp + 40, 8), 0x23);    /* SS */

	/* Pop the error code; IRETQ back to ring 3. */
	cpu->gpr[R_RSP] += 8;
	CODE(0x4000, 0x48, 0xcf);
	run(1);
	CHECK_EQ(cpu->cpl, 3);
	CHECK_EQ(cpu->rip, 0x5000);
	CHECK_EQ(cpu->gpr[R_RSP], 0x7008);
	CHECK_EQ(cpu->seg[SEG_SS].selector, 0x23);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0x1b);

	/* IRETQ at ring 0 to ring 0 pops SS:RSP too. */
	set_seg(SEG_CS, 0x08);
	set_seg(SEG_SS, 0x10);
	cpu_update_mode(cpu);
	cpu->gpr[R_RSP] = 0x7000 - 40;
	wr(0x7000 - 40, 0x6100, 8);
	wr(0x7000 - 32, 0x08, 8);
	wr(0x7000 - 24, 0x202, 8);
	wr(0x7000 - 16, 0x6500, 8);
	wr(0x7000 - 8, 0x10, 8);
	cpu->rip = 0x6000;
	CODE(0x6000, 0x48, 0xcf);
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->cpl, 0);
	CHECK_EQ(cpu->rip, 0x6100);
	CHECK_EQ(cpu->gpr[R_RSP], 0x6500);
	CHECK(cpu->rflags & F_IF);

	/* Without IST, a ring-0 fault stays on the stack, aligned to 16. */
	gate64(EXC_GP, 0x08, 0x4100, 0x8e, 0);
	cpu->gpr[R_RSP] = 0x6508;
	cpu->rip = 0x6000;
	CODE(0x6000, 0x0f, 0x32); /* rdmsr of an unknown MSR */
	cpu->gpr[R_RCX] = 0x12345;
	run(1);
	CHECK_EQ(delivered, 2);
	CHECK_EQ(cpu->rip, 0x4100);
	CHECK_EQ(cpu->gpr[R_RSP], 0x6500 - 48);
	CHECK_EQ(rd(0x6500 - 48, 8), 0);
	CHECK_EQ(rd(0x6500 - 8, 8), 0x10);
	CHECK_EQ(rd(0x6500 - 16, 8), 0x6508);
}

static void test_double_and_triple_fault(void)
{
	setup_pm32();
	gate32(EXC_DF, 0x08, 0x3800, 0x8e);
	cpu->idt.limit = 9 * 8 - 1; /* #GP's gate is outside the IDT */
	cpu->rip = 0x1000;
	CODE(0x1000, 0xea, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00);
	run(1);
	CHECK_EQ(delivered, 2);
	CHECK_EQ(cpu->rip, 0x3800);
	CHECK_EQ(rd(cpu->gpr[R_RSP], 4), 0);         /* #DF error code */
	CHECK_EQ(rd(cpu->gpr[R_RSP] + 4, 4), 0x1000);
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);

	/* A #GP from ring 3 whose gate is not present: #NP, then #DF. */
	setup_pm32();
	gate32(EXC_DF, 0x08, 0x3800, 0x8e);
	cpu->rip = 0x1000;
	CODE(0x1000, 0xf4);
	set_seg(SEG_CS, 0x1b);
	set_seg(SEG_SS, 0x23);
	cpu_update_mode(cpu);
	gate32(EXC_GP, 0x08, 0x3000, 0x0e);
	gate32(EXC_NP, 0x08, 0x3a00, 0x8e);
	run(1);
	CHECK_EQ(delivered, 2);
	/* #GP then #NP are both contributory: #DF. */
	CHECK_EQ(cpu->rip, 0x3800);

	/* No usable IDT at all: #GP, #GP again (#DF), then a fault on #DF. */
	setup_pm32();
	cpu->idt.limit = 0;
	cpu->rip = 0x1000;
	CODE(0x1000, 0xea, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00);
	run(5);
	CHECK_EQ(vm_stopping(&vm), VM_STOP_RESET);
}

static void test_syscall_sysret(void)
{
	setup_long();
	cpu->msr.star = (0x1bULL << 48) | (0x08ULL << 32);
	cpu->msr.lstar = 0x6000;
	cpu->msr.fmask = F_IF | F_TF;
	set_seg(SEG_CS, 0x1b);
	set_seg(SEG_SS, 0x23);
	cpu->rflags |= F_IF;
	cpu_update_mode(cpu);
	cpu->rip = 0x5000;
	CODE(0x5000, 0x0f, 0x05);       /* syscall */
	CODE(0x6000, 0x48, 0x0f, 0x07); /* sysretq */
	run(1);
	CHECK_EQ(delivered, 0);
	CHECK_EQ(cpu->cpl, 0);
	CHECK_EQ(cpu->mode, 64);
	CHECK_EQ(cpu->rip, 0x6000);
	CHECK_EQ(cpu->gpr[R_RCX], 0x5002);
	CHECK(cpu->gpr[R_R11] & F_IF);
	CHECK(!(cpu->rflags & F_IF));
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0x08);
	CHECK_EQ(cpu->seg[SEG_SS].selector, 0x10);
	run(1);
	CHECK_EQ(delivered, 0);
	CHECK_EQ(cpu->cpl, 3);
	CHECK_EQ(cpu->mode, 64);
	CHECK_EQ(cpu->rip, 0x5002);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0x2b);
	CHECK_EQ(cpu->seg[SEG_SS].selector, 0x23);
	CHECK(cpu->rflags & F_IF);

	/* SYSRET to a non-canonical RCX faults at CPL 0. */
	gate64(EXC_GP, 0x08, 0x4100, 0x8e, 0);
	set_seg(SEG_CS, 0x08);
	set_seg(SEG_SS, 0x10);
	cpu_update_mode(cpu);
	cpu->gpr[R_RCX] = 0x0000800000000000ULL;
	cpu->gpr[R_RSP] = 0x7000;
	cpu->rip = 0x6000;
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->rip, 0x4100);
	CHECK_EQ(cpu->cpl, 0);
}

static void test_cpuid(void)
{
	setup_pm32();
	cpu->rip = 0x1000;
	CODE(0x1000, 0x0f, 0xa2, 0x0f, 0xa2, 0x0f, 0xa2, 0x0f, 0xa2);
	cpu->gpr[R_RAX] = 0;
	run(1);
	CHECK_EQ(cpu->gpr[R_RAX], 0xd);
	CHECK_EQ(cpu->gpr[R_RBX], 0x756e6547); /* "Genu" */
	CHECK_EQ(cpu->gpr[R_RDX], 0x49656e69); /* "ineI" */
	CHECK_EQ(cpu->gpr[R_RCX], 0x6c65746e); /* "ntel" */
	cpu->gpr[R_RAX] = 1;
	run(1);
	CHECK_EQ(cpu->gpr[R_RAX], 0x106ca);
	CHECK_EQ(cpu->gpr[R_RBX] >> 24, 0);
	CHECK_EQ((cpu->gpr[R_RBX] >> 16) & 0xff, 2); /* vm has two vCPUs */
	CHECK(cpu->gpr[R_RDX] & (1u << 25));          /* SSE */
	CHECK(cpu->gpr[R_RDX] & (1u << 26));          /* SSE2 */
	CHECK(!(cpu->gpr[R_RDX] & (1u << 1)));        /* no VME */
	CHECK(cpu->gpr[R_RCX] & (1u << 31));          /* hypervisor */
	CHECK(!(cpu->gpr[R_RCX] & 1));                /* no SSE3 */
	cpu->gpr[R_RAX] = 0x80000001;
	run(1);
	CHECK(cpu->gpr[R_RDX] & (1u << 29)); /* LM */
	CHECK(cpu->gpr[R_RDX] & (1u << 20)); /* NX */
	cpu->gpr[R_RAX] = 0x80000008;
	run(1);
	CHECK_EQ(cpu->gpr[R_RAX] & 0xffff, 0x3028);

	uint32_t r[4];
	char brand[49] = { 0 };
	for (unsigned k = 0; k < 3; k++) {
		cpuid_query(cpu, 0x80000002 + k, 0, r);
		memcpy(brand + 16 * k, r, 16);
	}
	CHECK_STR(brand, "kemu virtual CPU");
	cpuid_query(cpu, 0xb, 1, r);
	CHECK_EQ(r[1], 2);
	cpuid_query(cpu, 0x40000000, 0, r);
	CHECK_EQ(r[0] | r[1] | r[2] | r[3], 0);
}

static void test_msr(void)
{
	setup_pm32();
	gate32(EXC_GP, 0x08, 0x3000, 0x8e);
	cpu->rip = 0x1000;
	/* rdmsr; wrmsr; rdmsr (EFER), then rdmsr of SPEC_CTRL. */
	CODE(0x1000, 0x0f, 0x32, 0x0f, 0x30, 0x0f, 0x32, 0x0f, 0x32);
	cpu->gpr[R_RCX] = MSR_EFER;
	run(1);
	CHECK_EQ(cpu->gpr[R_RAX], 0);
	cpu->gpr[R_RAX] = X86_EFER_LME | X86_EFER_NXE | X86_EFER_SCE;
	cpu->gpr[R_RDX] = 0;
	run(1);
	CHECK_EQ(cpu->efer, X86_EFER_LME | X86_EFER_NXE | X86_EFER_SCE);
	cpu->gpr[R_RAX] = 0;
	run(1);
	CHECK_EQ(cpu->gpr[R_RAX], X86_EFER_LME | X86_EFER_NXE | X86_EFER_SCE);
	cpu->gpr[R_RCX] = 0x48;
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->rip, 0x3000);
	CHECK_EQ(rd(cpu->gpr[R_RSP] + 4, 4), 0x1006);

	/* Reserved EFER bits and invalid PAT types are rejected. */
	CHECK(!msr_write(cpu, MSR_EFER, 1ULL << 2));
	CHECK(!msr_write(cpu, 0x277, 0x0007040600070402ULL));
	CHECK(msr_write(cpu, 0x277, 0x0007010600070406ULL));
	uint64_t v = 0;
	CHECK(msr_read(cpu, 0xfe, &v));
	CHECK_EQ(v & 0xff, 8);
	CHECK(msr_write(cpu, 0x200, 0x80000006));
	CHECK(msr_read(cpu, 0x200, &v));
	CHECK_EQ(v, 0x80000006);
	CHECK(msr_read(cpu, 0x3a, &v));
	CHECK_EQ(v, 1);
	CHECK(!msr_read(cpu, 0x4b564d00, &v)); /* no KVM MSRs */
	CHECK(msr_write(cpu, 0xc0000100, 0x1234000));
	CHECK_EQ(cpu->seg[SEG_FS].base, 0x1234000);
	CHECK(!msr_write(cpu, 0xc0000101, 0x0000800000000000ULL));
}

static void test_cr0_into_long_mode(void)
{
	setup_pm32();
	memset(ram(PML4), 0, 0x3000);
	wr(PML4, (PML4 + 0x1000) | 7, 8);
	wr(PML4 + 0x1000, (PML4 + 0x2000) | 7, 8);
	wr(PML4 + 0x2000, 0x87, 8);
	cpu->cr3 = PML4;
	cpu->cr4 = X86_CR4_PAE;
	cpu->efer = X86_EFER_LME;
	cpu->gpr[R_RAX] = cpu->cr0 | X86_CR0_PG;
	cpu->rip = 0x1000;
	/* mov cr0, eax; ljmp $0x30, $0x1100 */
	CODE(0x1000, 0x0f, 0x22, 0xc0, 0xea, 0x00, 0x11, 0x00, 0x00, 0x30, 0x00);
	run(1);
	CHECK_EQ(delivered, 0);
	CHECK(cpu->efer & X86_EFER_LMA);
	CHECK(cpu->cr0 & X86_CR0_PG);
	CHECK_EQ(cpu->mode, 32); /* compatibility mode until CS changes */
	run(1);
	CHECK_EQ(delivered, 0);
	CHECK_EQ(cpu->mode, 64);
	CHECK_EQ(cpu->rip, 0x1100);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0x30);

	/* Clearing PAE in long mode is #GP. */
	CHECK(cpu->cr4 & X86_CR4_PAE);
	gate64(EXC_GP, 0x30, 0x1300, 0x8e, 0);
	cpu->idt = (struct x86_dtable){ IDT, 0xfff };
	cpu->gpr[R_RAX] = 0;
	CODE(0x1100, 0x0f, 0x22, 0xe0); /* mov cr4, rax */
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->rip, 0x1300);
	CHECK(cpu->cr4 & X86_CR4_PAE);
}

static void test_sipi(void)
{
	reset_cpu(1);
	cpu_do_init(cpu);
	CHECK(cpu->wait_sipi);
	CHECK_EQ(cpu->mode, 16);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0xf000);
	CHECK_EQ(cpu->rip, 0xfff0);
	CHECK_EQ(cpu->cr0, 0x60000010);
	CHECK_EQ(cpu->msr.pat, 0x0007040600070406ULL);
	CHECK_EQ(cpu->msr.apic_base, 0xfee00800);
	CHECK_EQ(cpu->fpu.fcw, 0x37f);
	CHECK_EQ(cpu->mxcsr, 0x1f80);
	cpu_do_sipi(cpu, 0x9a);
	CHECK(!cpu->wait_sipi);
	CHECK_EQ(cpu->seg[SEG_CS].selector, 0x9a00);
	CHECK_EQ(cpu->seg[SEG_CS].base, 0x9a000);
	CHECK_EQ(cpu->rip, 0);
	CHECK_EQ(cpu->mode, 16);
	CHECK_EQ(cpu->cpl, 0);
}

static void test_misc_system(void)
{
	setup_pm32();
	gate32(EXC_GP, 0x08, 0x3000, 0x8e);
	cpu->rip = 0x1000;
	/* lgdt [0x5000]; sgdt [0x5010]; ltr ax; str bx; cli; sti */
	CODE(0x1000, 0x0f, 0x01, 0x15, 0x00, 0x50, 0x00, 0x00,
	     0x0f, 0x01, 0x05, 0x10, 0x50, 0x00, 0x00,
	     0x0f, 0x00, 0xd8, 0x0f, 0x00, 0xcb, 0xfa, 0xfb);
	wr(0x5000, 0x37, 2);
	wr(0x5002, GDT, 4);
	cpu->gpr[R_RAX] = 0x28;
	wr(GDT + 0x28, seg_desc(TSS, 0x67, 0x89, 0), 8); /* available */
	run(6);
	CHECK_EQ(delivered, 0);
	CHECK_EQ(cpu->gdt.base, GDT);
	CHECK_EQ(rd(0x5010, 2), 0x37);
	CHECK_EQ(rd(0x5012, 4), GDT);
	CHECK_EQ(cpu->tr.selector, 0x28);
	CHECK_EQ(cpu->tr.type, SYS_TSS_BUSY);
	CHECK_EQ((rd(GDT + 0x28, 8) >> 40) & 0xf, SYS_TSS_BUSY);
	CHECK_EQ(cpu->gpr[R_RBX] & 0xffff, 0x28);
	CHECK(cpu->rflags & F_IF);
	CHECK(cpu->intr_shadow);
}

static void test_flags_privilege(void)
{
	setup_pm32();
	gate32(EXC_GP, 0x08, 0x3000, 0x8e);
	set_seg(SEG_CS, 0x1b);
	set_seg(SEG_SS, 0x23);
	cpu->gpr[R_RSP] = 0x9000;
	cpu->rflags |= F_IF;
	cpu_update_mode(cpu);
	/* popf at CPL 3, IOPL 0: IF and IOPL stay, the arithmetic flags change. */
	wr(0x9000, F_CF | F_IOPL, 4);
	cpu->rip = 0x1000;
	CODE(0x1000, 0x9d, 0x9c, 0xfa);
	run(1);
	CHECK_EQ(delivered, 0);
	CHECK(cpu->rflags & F_IF);
	CHECK_EQ(cpu->rflags & F_IOPL, 0);
	CHECK(cpu_get_rflags(cpu) & F_CF);
	CHECK_EQ(cpu->gpr[R_RSP], 0x9004);
	/* pushf pushes VM and RF clear; then cli at CPL 3 > IOPL: #GP(0). */
	run(1);
	CHECK_EQ(rd(0x9000, 4) & (F_IF | F_CF | F_VM | F_RF), F_IF | F_CF);
	run(1);
	CHECK_EQ(delivered, 1);
	CHECK_EQ(cpu->rip, 0x3000);
	CHECK_EQ(rd(cpu->gpr[R_RSP] + 4, 4), 0x1002);
}

int main(void)
{
	if (vm_init(&vm, 2) || guest_mem_init(&vm.mem, 16 * MIB, 0xe0000000ULL)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	cpu = aligned_alloc(64, (sizeof(*cpu) + 63) & ~(size_t)63);
	exec_table_init();
	test_real_mode_int();
	test_pm32_gp_error_code();
	test_pm32_ring3_to_ring0();
	test_long_pf_ist();
	test_syscall_sysret();
	test_cpuid();
	test_msr();
	test_cr0_into_long_mode();
	test_sipi();
	test_misc_system();
	test_flags_privilege();
	test_double_and_triple_fault(); /* last: the reset request sticks */
	free(cpu);
	return test_exit();
}
