/*
 * System instructions: flags and interrupt enable, software interrupts,
 * fast system calls, control/debug registers, descriptor-table registers,
 * segment-register loads, descriptor queries, TSC, MSRs and CPUID. Far
 * transfers (JMPF/CALLF/RETF/IRET) are in exec_far.c, event delivery in
 * excp.c, the CPU model in cpuid.c and MSRs in msr.c.
 *
 * Privilege: the decoder marks CPL-0-only instructions but does not check
 * them, so every handler here checks CPL (and IOPL where it applies) itself,
 * before it changes anything.
 *
 * Deliberately #UD, because the CPU model does not advertise them:
 * XGETBV/XSETBV (XSAVE), MONITOR/MWAIT, RDRAND/RDSEED, CLAC/STAC (SMAP),
 * RD/WR FS/GS BASE (FSGSBASE), RDPID, RSM (no SMM). DR7 breakpoints and
 * single-step traps are stored but not acted on.
 */
#include "accel/tcg/system.h"
#include "util/log.h"

#define CR0_MP (1ULL << 1)
#define CR0_EM (1ULL << 2)
#define CR0_TS (1ULL << 3)
#define CR0_AM (1ULL << 18)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_VALID (X86_CR0_PE | CR0_MP | CR0_EM | CR0_TS | X86_CR0_ET | X86_CR0_NE | \
		   X86_CR0_WP | CR0_AM | CR0_NW | CR0_CD | X86_CR0_PG)
#define CR4_TSD (1ULL << 2)
#define CR4_DE (1ULL << 3)
#define CR4_MCE (1ULL << 6)
#define CR4_PCE (1ULL << 8)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
/*
 * CR4 bits of features the model has. DE and MCE are not advertised but
 * are accepted and ignored: they change nothing the interpreter does.
 */
#define CR4_VALID (CR4_TSD | CR4_DE | X86_CR4_PSE | X86_CR4_PAE | CR4_MCE | X86_CR4_PGE | \
		   CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT)

/* The local APIC's TPR register: CR8 is its bits 7:4. */
#define APIC_TPR_PA 0xfee00080ULL

static void exec_ud(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	cpu_raise(cpu, EXC_UD, 0);
}

static unsigned cpu_iopl(const struct x86_cpu *cpu)
{
	return (unsigned)(cpu->rflags & F_IOPL) >> 12;
}

static void set_zf(struct x86_cpu *cpu, bool z)
{
	cpu_set_rflags(cpu, z ? F_ZF : 0, F_ZF);
}

/* The descriptor-query and LDT/TR instructions do not exist in real and v86 mode. */
static void require_protected(struct x86_cpu *cpu)
{
	if (!sys_protected(cpu))
		cpu_raise(cpu, EXC_UD, 0);
}

/* ---- flags and interrupts ------------------------------------------------------ */

static void exec_pushf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if ((cpu->rflags & F_VM) && cpu_iopl(cpu) != 3)
		cpu_raise(cpu, EXC_GP, 0);
	stack_push(cpu, i->opsize, cpu_get_rflags(cpu) & ~(uint64_t)(F_VM | F_RF));
}

static void exec_popf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned osz = i->opsize;
	uint64_t mask = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID;
	if (cpu->rflags & F_VM) {
		if (cpu_iopl(cpu) != 3)
			cpu_raise(cpu, EXC_GP, 0);
		mask |= F_IF;
	} else if (cpu->cpl == 0) {
		mask |= F_IF | F_IOPL;
	} else if (cpu->cpl <= cpu_iopl(cpu)) {
		mask |= F_IF;
	}
	if (osz == 2)
		mask &= 0xffff;
	uint64_t v = stack_peek(cpu, osz, 0);
	stack_adjust(cpu, osz);
	cpu_set_rflags(cpu, v & ~(uint64_t)F_RF, mask | F_RF);
}

/* May CLI/STI change IF here? (No PVI/VME: no virtual IF.) */
static void require_if_access(struct x86_cpu *cpu)
{
	if (!(cpu->cr0 & X86_CR0_PE))
		return;
	unsigned iopl = cpu_iopl(cpu);
	if ((cpu->rflags & F_VM) ? iopl != 3 : cpu->cpl > iopl)
		cpu_raise(cpu, EXC_GP, 0);
}

static void exec_cli(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	require_if_access(cpu);
	cpu->rflags &= ~(uint64_t)F_IF;
}

static void exec_sti(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	require_if_access(cpu);
	if (!(cpu->rflags & F_IF)) {
		/* STI; HLT and STI; SYSRET rely on the one-instruction delay. */
		cpu->rflags |= F_IF;
		cpu->intr_shadow = true;
	}
}

static void exec_hlt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	exec_require_cpl0(cpu);
	cpu->halted = true;
}

/* INT n, INT3 and INTO: without VME, virtual-8086 mode needs IOPL 3. */
static void soft_int(struct x86_cpu *cpu, int vector)
{
	if ((cpu->rflags & F_VM) && cpu_iopl(cpu) != 3)
		cpu_raise(cpu, EXC_GP, 0);
	excp_deliver(cpu, vector, EXCP_SRC_SOFT, false, 0);
}

static void exec_int(struct x86_cpu *cpu, const struct x86_insn *i)
{
	soft_int(cpu, (int)(i->imm & 0xff));
}

static void exec_int3(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	soft_int(cpu, EXC_BP);
}

static void exec_into(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	if (cpu_cond(cpu, 0)) /* OF */
		soft_int(cpu, EXC_OF);
}

static void exec_int1(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	excp_deliver(cpu, EXC_DB, EXCP_SRC_ICEBP, false, 0);
}

/* ---- fast system calls ------------------------------------------------------------ */

static struct x86_seg flat_seg(uint16_t sel, bool code, unsigned dpl, bool l)
{
	return (struct x86_seg){ .base = 0, .limit = 0xffffffff, .selector = sel,
				 .type = code ? 0xb : 0x3, .s = 1, .dpl = (uint8_t)dpl,
				 .present = 1, .db = !l, .l = l, .g = 1 };
}

static void exec_syscall(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	/* Intel: only from 64-bit mode (compatibility mode SYSCALL is AMD's). */
	if (cpu->mode != 64 || !(cpu->efer & X86_EFER_SCE))
		cpu_raise(cpu, EXC_UD, 0);
	uint16_t sel = (uint16_t)(cpu->msr.star >> 32) & 0xfffc;
	uint64_t fl = cpu_get_rflags(cpu);
	cpu->gpr[R_RCX] = cpu->rip;
	cpu->gpr[R_R11] = fl & ~(uint64_t)F_RF;
	cpu->seg[SEG_CS] = flat_seg(sel, true, 0, true);
	cpu->seg[SEG_SS] = flat_seg((uint16_t)(sel + 8), false, 0, false);
	cpu_set_rflags(cpu, fl & ~(cpu->msr.fmask | F_RF), ~0ULL);
	cpu->rip = cpu->msr.lstar;
	cpu_update_mode(cpu);
}

static void exec_sysret(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (cpu->mode != 64 || !(cpu->efer & X86_EFER_SCE))
		cpu_raise(cpu, EXC_UD, 0);
	exec_require_cpl0(cpu);
	bool to64 = i->opsize == 8;
	/* Intel checks RCX before the switch, so the #GP is taken at CPL 0. */
	if (to64 && !mmu_canonical(cpu->gpr[R_RCX]))
		cpu_raise(cpu, EXC_GP, 0);
	uint16_t base = (uint16_t)(cpu->msr.star >> 48);
	cpu->seg[SEG_CS] = flat_seg((uint16_t)((to64 ? base + 16 : base) | 3), true, 3, to64);
	cpu->seg[SEG_SS] = flat_seg((uint16_t)((base + 8) | 3), false, 3, false);
	cpu_set_rflags(cpu, (cpu->gpr[R_R11] & 0x3c7fd7) | X86_RFLAGS_RESERVED1, ~0ULL);
	cpu->rip = to64 ? cpu->gpr[R_RCX] : (uint32_t)cpu->gpr[R_RCX];
	cpu_update_mode(cpu);
}

static void exec_sysenter(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	uint16_t sel = (uint16_t)cpu->msr.sysenter_cs & 0xfffc;
	if (!(cpu->cr0 & X86_CR0_PE) || !sel)
		cpu_raise(cpu, EXC_GP, 0);
	bool lma = sys_long_mode(cpu);
	cpu->rflags &= ~(uint64_t)(F_VM | F_IF | F_RF);
	cpu->seg[SEG_CS] = flat_seg(sel, true, 0, lma);
	cpu->seg[SEG_SS] = flat_seg((uint16_t)(sel + 8), false, 0, false);
	cpu->gpr[R_RSP] = lma ? cpu->msr.sysenter_esp : (uint32_t)cpu->msr.sysenter_esp;
	cpu->rip = lma ? cpu->msr.sysenter_eip : (uint32_t)cpu->msr.sysenter_eip;
	cpu_update_mode(cpu);
}

static void exec_sysexit(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint16_t base = (uint16_t)cpu->msr.sysenter_cs;
	if (!(cpu->cr0 & X86_CR0_PE) || cpu->cpl != 0 || !(base & 0xfffc))
		cpu_raise(cpu, EXC_GP, 0);
	bool to64 = i->opsize == 8;
	if (to64 && (!mmu_canonical(cpu->gpr[R_RDX]) || !mmu_canonical(cpu->gpr[R_RCX])))
		cpu_raise(cpu, EXC_GP, 0);
	cpu->seg[SEG_CS] = flat_seg((uint16_t)((base + (to64 ? 32 : 16)) | 3), true, 3, to64);
	cpu->seg[SEG_SS] = flat_seg((uint16_t)((base + (to64 ? 40 : 24)) | 3), false, 3, false);
	cpu->rip = to64 ? cpu->gpr[R_RDX] : (uint32_t)cpu->gpr[R_RDX];
	cpu->gpr[R_RSP] = to64 ? cpu->gpr[R_RCX] : (uint32_t)cpu->gpr[R_RCX];
	cpu_update_mode(cpu);
}

static void exec_swapgs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	if (cpu->mode != 64)
		cpu_raise(cpu, EXC_UD, 0);
	exec_require_cpl0(cpu);
	uint64_t t = cpu->seg[SEG_GS].base;
	cpu->seg[SEG_GS].base = cpu->msr.kernel_gs_base;
	cpu->msr.kernel_gs_base = t;
}

/* ---- control and debug registers ------------------------------------------------------- */

static uint64_t cr8_read(struct x86_cpu *cpu)
{
	uint32_t tpr = 0xffffffff;
	phys_read(cpu->vm, APIC_TPR_PA, &tpr, 4);
	/* All-ones: nothing answers there (no local APIC), use the copy. */
	return tpr == 0xffffffff ? cpu->cr8 : (tpr >> 4) & 0xf;
}

static void cr8_write(struct x86_cpu *cpu, uint64_t v)
{
	uint32_t tpr = (uint32_t)v << 4;
	cpu->cr8 = v;
	phys_write(cpu->vm, APIC_TPR_PA, &tpr, 4);
}

static void write_cr0(struct x86_cpu *cpu, uint64_t v)
{
	uint64_t old = cpu->cr0, old_efer = cpu->efer;
	if (v >> 32)
		cpu_raise(cpu, EXC_GP, 0);
	v = (v & CR0_VALID) | X86_CR0_ET;
	if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
		cpu_raise(cpu, EXC_GP, 0);
	if ((v & CR0_NW) && !(v & CR0_CD))
		cpu_raise(cpu, EXC_GP, 0);
	bool pg_on = (v & X86_CR0_PG) && !(old & X86_CR0_PG);
	bool pg_off = !(v & X86_CR0_PG) && (old & X86_CR0_PG);
	if (pg_on && (cpu->efer & X86_EFER_LME) &&
	    (!(cpu->cr4 & X86_CR4_PAE) || cpu->seg[SEG_CS].l))
		cpu_raise(cpu, EXC_GP, 0);
	if (pg_off && cpu->mode == 64)
		cpu_raise(cpu, EXC_GP, 0);
	cpu->cr0 = v;
	/* IA-32e mode becomes active (or not) with paging. */
	if (pg_on && (cpu->efer & X86_EFER_LME))
		cpu->efer |= X86_EFER_LMA;
	if (pg_off)
		cpu->efer &= ~X86_EFER_LMA;
	mmu_cr_written(cpu, old, cpu->cr4, old_efer);
	cpu_update_mode(cpu);
}

static void write_cr3(struct x86_cpu *cpu, uint64_t v)
{
	if (sys_long_mode(cpu)) {
		if (v & ~MMU_PHYS_MASK)
			cpu_raise(cpu, EXC_GP, 0);
	} else {
		v = (uint32_t)v;
	}
	cpu->cr3 = v;
	mmu_cr3_written(cpu);
}

static void write_cr4(struct x86_cpu *cpu, uint64_t v)
{
	if (v & ~CR4_VALID)
		cpu_raise(cpu, EXC_GP, 0);
	if (sys_long_mode(cpu) && !(v & X86_CR4_PAE))
		cpu_raise(cpu, EXC_GP, 0);
	uint64_t old = cpu->cr4;
	cpu->cr4 = v;
	mmu_cr_written(cpu, cpu->cr0, old, cpu->efer);
}

static unsigned cr_size(const struct x86_cpu *cpu)
{
	return cpu->mode == 64 ? 8 : 4; /* operand-size prefixes do not apply */
}

static void exec_mov_from_cr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	exec_require_cpl0(cpu);
	uint64_t v;
	switch (i->reg) {
	case 0: v = cpu->cr0; break;
	case 2: v = cpu->cr2; break;
	case 3: v = cpu->cr3; break;
	case 4: v = cpu->cr4; break;
	case 8: v = cr8_read(cpu); break;
	default: cpu_raise(cpu, EXC_UD, 0);
	}
	reg_write_sized(cpu, i->rm, cr_size(cpu), v);
}

static void exec_mov_to_cr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	exec_require_cpl0(cpu);
	uint64_t v = cpu->gpr[i->rm] & exec_mask(cr_size(cpu));
	switch (i->reg) {
	case 0: write_cr0(cpu, v); break;
	case 2: cpu->cr2 = v; break;
	case 3: write_cr3(cpu, v); break;
	case 4: write_cr4(cpu, v); break;
	case 8:
		if (v & ~0xfULL)
			cpu_raise(cpu, EXC_GP, 0);
		cr8_write(cpu, v);
		break;
	default: cpu_raise(cpu, EXC_UD, 0);
	}
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE makes them #UD. */
static unsigned dr_index(struct x86_cpu *cpu, unsigned n)
{
	if (n > 7 || ((n == 4 || n == 5) && (cpu->cr4 & CR4_DE)))
		cpu_raise(cpu, EXC_UD, 0);
	return n == 4 || n == 5 ? n + 2 : n;
}

static void exec_mov_from_dr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	exec_require_cpl0(cpu);
	unsigned n = dr_index(cpu, i->reg);
	reg_write_sized(cpu, i->rm, cr_size(cpu), cpu->dr[n]);
}

static void exec_mov_to_dr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	exec_require_cpl0(cpu);
	unsigned n = dr_index(cpu, i->reg);
	uint64_t v = cpu->gpr[i->rm] & exec_mask(cr_size(cpu));
	if (n >= 6 && (v >> 32))
		cpu_raise(cpu, EXC_GP, 0);
	if (n == 6)
		v = (v | 0xffff0ff0) & ~0x1000ULL;
	if (n == 7) {
		v = (v | 0x400) & ~0xd800ULL;
		if (v & 0xff)
			log_debug("cpu: DR7 %#llx: hardware breakpoints are not implemented",
				  (unsigned long long)v);
	}
	cpu->dr[n] = v;
}

static void exec_lmsw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	exec_require_cpl0(cpu);
	uint64_t v = rm_read(cpu, i, 2);
	/* Only PE, MP, EM, TS; PE can be set but not cleared. */
	write_cr0(cpu, (cpu->cr0 & ~0xeULL) | (v & 0xf));
}

static void exec_smsw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	rm_write(cpu, i, x86_insn_is_mem(i) ? 2 : i->opsize, cpu->cr0);
}

static void exec_clts(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	exec_require_cpl0(cpu);
	cpu->cr0 &= ~CR0_TS;
}

static void exec_invlpg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	exec_require_cpl0(cpu);
	/* No access checks: only the address matters (non-canonical is a no-op). */
	uint64_t ea = insn_ea(cpu, i), la;
	if (cpu->mode == 64)
		la = ea + (i->seg >= SEG_FS ? cpu->seg[i->seg].base : 0);
	else
		la = (uint32_t)(cpu->seg[i->seg].base + ea);
	tlb_flush_page(cpu, la);
}

static void exec_cpl0_nop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	exec_require_cpl0(cpu); /* INVD, WBINVD: there are no caches to manage */
}

/* ---- descriptor-table registers ---------------------------------------------------- */

static void dtable_load(struct x86_cpu *cpu, const struct x86_insn *i, struct x86_dtable *t)
{
	exec_require_cpl0(cpu);
	unsigned bsz = cpu->mode == 64 ? 8 : 4;
	uint8_t buf[10];
	mmu_read(cpu, insn_linear(cpu, i, 2 + bsz, MMU_READ), buf, 2 + bsz);
	uint16_t limit = (uint16_t)(buf[0] | buf[1] << 8);
	uint64_t base = 0;
	for (unsigned k = 0; k < bsz; k++)
		base |= (uint64_t)buf[2 + k] << (8 * k);
	if (cpu->mode == 64 && !mmu_canonical(base))
		cpu_raise(cpu, EXC_GP, 0);
	if (cpu->mode != 64 && i->opsize == 2)
		base &= 0xffffff; /* the 16-bit form loads a 24-bit base */
	t->limit = limit;
	t->base = base;
}

static void dtable_store(struct x86_cpu *cpu, const struct x86_insn *i, const struct x86_dtable *t)
{
	unsigned bsz = cpu->mode == 64 ? 8 : 4;
	uint8_t buf[10];
	buf[0] = (uint8_t)t->limit;
	buf[1] = (uint8_t)(t->limit >> 8);
	for (unsigned k = 0; k < bsz; k++)
		buf[2 + k] = (uint8_t)(t->base >> (8 * k));
	mmu_write(cpu, insn_linear(cpu, i, 2 + bsz, MMU_WRITE), buf, 2 + bsz);
}

static void exec_lgdt(struct x86_cpu *cpu, const struct x86_insn *i) { dtable_load(cpu, i, &cpu->gdt); }
static void exec_lidt(struct x86_cpu *cpu, const struct x86_insn *i) { dtable_load(cpu, i, &cpu->idt); }
static void exec_sgdt(struct x86_cpu *cpu, const struct x86_insn *i) { dtable_store(cpu, i, &cpu->gdt); }
static void exec_sidt(struct x86_cpu *cpu, const struct x86_insn *i) { dtable_store(cpu, i, &cpu->idt); }

static void exec_sldt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	require_protected(cpu);
	rm_write(cpu, i, x86_insn_is_mem(i) ? 2 : i->opsize, cpu->ldt.selector);
}

static void exec_str(struct x86_cpu *cpu, const struct x86_insn *i)
{
	require_protected(cpu);
	rm_write(cpu, i, x86_insn_is_mem(i) ? 2 : i->opsize, cpu->tr.selector);
}

static void exec_lldt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	require_protected(cpu);
	exec_require_cpl0(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, i, 2);
	if (!(sel & 0xfffc)) {
		cpu->ldt = (struct x86_seg){ .selector = sel, .unusable = 1 };
		return;
	}
	if (sel & 4)
		cpu_raise(cpu, EXC_GP, sel & 0xfffcu);
	bool wide = sys_long_mode(cpu);
	uint64_t d[2];
	seg_load_descriptor(cpu, sel, d, wide, EXC_GP);
	if (DESC_S(d[0]) || DESC_TYPE(d[0]) != SYS_LDT)
		cpu_raise(cpu, EXC_GP, sel & 0xfffcu);
	if (!DESC_P(d[0]))
		cpu_raise(cpu, EXC_NP, sel & 0xfffcu);
	struct x86_seg s;
	seg_from_descriptor(&s, sel, d, wide);
	if (wide && !mmu_canonical(s.base))
		cpu_raise(cpu, EXC_GP, sel & 0xfffcu);
	cpu->ldt = s;
}

static void exec_ltr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	require_protected(cpu);
	exec_require_cpl0(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, i, 2);
	uint32_t err = sel & 0xfffcu;
	if (!err)
		cpu_raise(cpu, EXC_GP, 0);
	if (sel & 4)
		cpu_raise(cpu, EXC_GP, err);
	bool wide = sys_long_mode(cpu);
	uint64_t d[2];
	seg_load_descriptor(cpu, sel, d, wide, EXC_GP);
	unsigned type = DESC_TYPE(d[0]);
	if (DESC_S(d[0]) || !(type == SYS_TSS_AVAIL || (!wide && type == SYS_TSS16_AVAIL)))
		cpu_raise(cpu, EXC_GP, err);
	if (!DESC_P(d[0]))
		cpu_raise(cpu, EXC_NP, err);
	struct x86_seg s;
	seg_from_descriptor(&s, sel, d, wide);
	if (wide && !mmu_canonical(s.base))
		cpu_raise(cpu, EXC_GP, err);
	/* Mark the descriptor busy in memory, as seg_set_accessed does for A. */
	uint64_t la = sys_lin(cpu, seg_descriptor_addr(cpu, sel) + 5);
	uint8_t *p = mmu_host_rmw_as(cpu, la, 1, 0);
	if (p) {
		__atomic_fetch_or(p, 2, __ATOMIC_SEQ_CST);
	} else {
		mmu_lock_global();
		mmu_st8_sys(cpu, la, mmu_ld8_sys(cpu, la) | 2);
		mmu_unlock_global();
	}
	s.type |= 2;
	cpu->tr = s;
}

/* ---- descriptor queries ------------------------------------------------------------------ */

/* Reads sel's descriptor for LAR/LSL/VERR/VERW: false for null or outside the table. */
static bool query_descriptor(struct x86_cpu *cpu, uint16_t sel, uint64_t d[2])
{
	if (!(sel & 0xfffc))
		return false;
	return seg_read_descriptor(cpu, sel, d, false);
}

/* DPL >= max(CPL, RPL), which conforming code segments need not meet. */
static bool query_privilege_ok(const struct x86_cpu *cpu, uint16_t sel, uint64_t d)
{
	if (desc_is_code(d) && (DESC_TYPE(d) & TYPE_CONFORMING))
		return true;
	return DESC_DPL(d) >= cpu->cpl && DESC_DPL(d) >= (sel & 3u);
}

static bool query_system_type_ok(const struct x86_cpu *cpu, unsigned type, bool lar)
{
	if (sys_long_mode(cpu))
		return type == SYS_LDT || type == SYS_TSS_AVAIL || type == SYS_TSS_BUSY ||
		       (lar && type == SYS_CALL);
	switch (type) {
	case SYS_TSS16_AVAIL: case SYS_LDT: case SYS_TSS16_BUSY: case SYS_TSS_AVAIL:
	case SYS_TSS_BUSY:
		return true;
	case SYS_CALL16: case SYS_TASK_GATE: case SYS_CALL:
		return lar;
	default:
		return false;
	}
}

static void exec_lar_lsl(struct x86_cpu *cpu, const struct x86_insn *i, bool lar)
{
	require_protected(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, i, 2);
	uint64_t d[2];
	bool ok = query_descriptor(cpu, sel, d) &&
		  (DESC_S(d[0]) || query_system_type_ok(cpu, DESC_TYPE(d[0]), lar)) &&
		  query_privilege_ok(cpu, sel, d[0]);
	if (ok) {
		uint64_t v;
		if (lar) {
			v = (d[0] >> 32) & (i->opsize == 2 ? 0xff00 : 0x00f0ff00);
		} else {
			struct x86_seg s;
			seg_from_descriptor(&s, sel, d, false);
			v = s.limit;
		}
		reg_write(cpu, i, i->reg, i->opsize, v);
	}
	set_zf(cpu, ok);
}

static void exec_lar(struct x86_cpu *cpu, const struct x86_insn *i) { exec_lar_lsl(cpu, i, true); }
static void exec_lsl(struct x86_cpu *cpu, const struct x86_insn *i) { exec_lar_lsl(cpu, i, false); }

static void exec_verr_verw(struct x86_cpu *cpu, const struct x86_insn *i, bool write)
{
	require_protected(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, i, 2);
	uint64_t d[2];
	bool ok = query_descriptor(cpu, sel, d) && DESC_S(d[0]) &&
		  query_privilege_ok(cpu, sel, d[0]);
	if (ok) {
		unsigned type = DESC_TYPE(d[0]);
		if (write)
			ok = !(type & TYPE_CODE) && (type & TYPE_WRITABLE);
		else
			ok = !(type & TYPE_CODE) || (type & TYPE_READABLE);
	}
	set_zf(cpu, ok);
}

static void exec_verr(struct x86_cpu *cpu, const struct x86_insn *i) { exec_verr_verw(cpu, i, false); }
static void exec_verw(struct x86_cpu *cpu, const struct x86_insn *i) { exec_verr_verw(cpu, i, true); }

static void exec_arpl(struct x86_cpu *cpu, const struct x86_insn *i)
{
	require_protected(cpu);
	uint64_t dst = rm_read(cpu, i, 2);
	uint64_t src = reg_read(cpu, i, i->reg, 2);
	bool adjust = (dst & 3) < (src & 3);
	if (adjust)
		rm_write(cpu, i, 2, (dst & ~3ULL) | (src & 3));
	set_zf(cpu, adjust);
}

/* ---- segment registers --------------------------------------------------------------------- */

static void exec_mov_from_seg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned sr = i->reg & 7; /* REX.R does not extend a segment register */
	if (sr > SEG_GS)
		cpu_raise(cpu, EXC_UD, 0);
	/* Register destinations take the operand size (zero-extended), memory 16 bits. */
	rm_write(cpu, i, x86_insn_is_mem(i) ? 2 : i->opsize, cpu->seg[sr].selector);
}

static void exec_mov_to_seg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned sr = i->reg & 7; /* REX.R does not extend a segment register */
	if (sr > SEG_GS || sr == SEG_CS)
		cpu_raise(cpu, EXC_UD, 0);
	seg_load(cpu, sr, (uint16_t)rm_read(cpu, i, 2));
	if (sr == SEG_SS)
		cpu->intr_shadow = true; /* the next insn sets SP: no interrupt between */
}

/* LES/LDS/LSS/LFS/LGS: the far pointer is read, then the segment loaded, then the GPR. */
static void load_far_pointer(struct x86_cpu *cpu, const struct x86_insn *i, int seg)
{
	unsigned osz = i->opsize;
	uint64_t la = insn_linear(cpu, i, osz + 2, MMU_READ);
	uint64_t off = mem_load(cpu, la, osz);
	uint64_t la2 = la + osz;
	uint16_t sel = mmu_ld16(cpu, cpu->mode == 64 ? la2 : (uint32_t)la2);
	seg_load(cpu, seg, sel);
	reg_write(cpu, i, i->reg, osz, off);
}

static void exec_les(struct x86_cpu *cpu, const struct x86_insn *i) { load_far_pointer(cpu, i, SEG_ES); }
static void exec_lds(struct x86_cpu *cpu, const struct x86_insn *i) { load_far_pointer(cpu, i, SEG_DS); }
static void exec_lss(struct x86_cpu *cpu, const struct x86_insn *i) { load_far_pointer(cpu, i, SEG_SS); }
static void exec_lfs(struct x86_cpu *cpu, const struct x86_insn *i) { load_far_pointer(cpu, i, SEG_FS); }
static void exec_lgs(struct x86_cpu *cpu, const struct x86_insn *i) { load_far_pointer(cpu, i, SEG_GS); }

/* ---- TSC, MSRs, CPUID ----------------------------------------------------------------------- */

static void require_tsc_access(struct x86_cpu *cpu)
{
	if ((cpu->cr4 & CR4_TSD) && cpu->cpl != 0)
		cpu_raise(cpu, EXC_GP, 0);
}

static void exec_rdtsc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	require_tsc_access(cpu);
	uint64_t t = tsc_read(cpu);
	cpu->gpr[R_RAX] = (uint32_t)t;
	cpu->gpr[R_RDX] = t >> 32;
}

static void exec_rdtscp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	exec_rdtsc(cpu, i);
	cpu->gpr[R_RCX] = (uint32_t)cpu->msr.tsc_aux;
}

static void exec_rdpmc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	cpu_raise(cpu, EXC_GP, 0); /* no performance counters exist */
}

static void exec_rdmsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	exec_require_cpl0(cpu);
	uint64_t v;
	if (!msr_read(cpu, (uint32_t)cpu->gpr[R_RCX], &v))
		cpu_raise(cpu, EXC_GP, 0);
	cpu->gpr[R_RAX] = (uint32_t)v;
	cpu->gpr[R_RDX] = v >> 32;
}

static void exec_wrmsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	exec_require_cpl0(cpu);
	uint64_t v = (uint32_t)cpu->gpr[R_RAX] | cpu->gpr[R_RDX] << 32;
	if (!msr_write(cpu, (uint32_t)cpu->gpr[R_RCX], v))
		cpu_raise(cpu, EXC_GP, 0);
}

static void exec_cpuid(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	uint32_t r[4];
	cpuid_query(cpu, (uint32_t)cpu->gpr[R_RAX], (uint32_t)cpu->gpr[R_RCX], r);
	cpu->gpr[R_RAX] = r[0];
	cpu->gpr[R_RBX] = r[1];
	cpu->gpr[R_RCX] = r[2];
	cpu->gpr[R_RDX] = r[3];
}

void exec_system_register(exec_fn *t)
{
	exec_far_register(t);
	t[OP_PUSHF] = exec_pushf;
	t[OP_POPF] = exec_popf;
	t[OP_CLI] = exec_cli;
	t[OP_STI] = exec_sti;
	t[OP_HLT] = exec_hlt;
	t[OP_INT] = exec_int;
	t[OP_INT3] = exec_int3;
	t[OP_INTO] = exec_into;
	t[OP_INT1] = exec_int1;
	t[OP_SYSCALL] = exec_syscall;
	t[OP_SYSRET] = exec_sysret;
	t[OP_SYSENTER] = exec_sysenter;
	t[OP_SYSEXIT] = exec_sysexit;
	t[OP_SWAPGS] = exec_swapgs;
	t[OP_MOV_FROM_CR] = exec_mov_from_cr;
	t[OP_MOV_TO_CR] = exec_mov_to_cr;
	t[OP_MOV_FROM_DR] = exec_mov_from_dr;
	t[OP_MOV_TO_DR] = exec_mov_to_dr;
	t[OP_LMSW] = exec_lmsw;
	t[OP_SMSW] = exec_smsw;
	t[OP_CLTS] = exec_clts;
	t[OP_INVLPG] = exec_invlpg;
	t[OP_INVD] = exec_cpl0_nop;
	t[OP_WBINVD] = exec_cpl0_nop;
	t[OP_LGDT] = exec_lgdt;
	t[OP_LIDT] = exec_lidt;
	t[OP_SGDT] = exec_sgdt;
	t[OP_SIDT] = exec_sidt;
	t[OP_SLDT] = exec_sldt;
	t[OP_STR] = exec_str;
	t[OP_LLDT] = exec_lldt;
	t[OP_LTR] = exec_ltr;
	t[OP_LAR] = exec_lar;
	t[OP_LSL] = exec_lsl;
	t[OP_VERR] = exec_verr;
	t[OP_VERW] = exec_verw;
	t[OP_ARPL] = exec_arpl;
	t[OP_MOV_FROM_SEG] = exec_mov_from_seg;
	t[OP_MOV_TO_SEG] = exec_mov_to_seg;
	t[OP_LES] = exec_les;
	t[OP_LDS] = exec_lds;
	t[OP_LSS] = exec_lss;
	t[OP_LFS] = exec_lfs;
	t[OP_LGS] = exec_lgs;
	t[OP_RDTSC] = exec_rdtsc;
	t[OP_RDTSCP] = exec_rdtscp;
	t[OP_RDPMC] = exec_rdpmc;
	t[OP_RDMSR] = exec_rdmsr;
	t[OP_WRMSR] = exec_wrmsr;
	t[OP_CPUID] = exec_cpuid;
	/* Features the model does not advertise. */
	t[OP_XGETBV] = exec_ud;
	t[OP_XSETBV] = exec_ud;
	t[OP_MONITOR] = exec_ud;
	t[OP_MWAIT] = exec_ud;
	t[OP_RDRAND] = exec_ud;
	t[OP_RDSEED] = exec_ud;
	t[OP_RDPID] = exec_ud;
	t[OP_CLAC] = exec_ud;
	t[OP_STAC] = exec_ud;
	t[OP_RDFSBASE] = exec_ud;
	t[OP_RDGSBASE] = exec_ud;
	t[OP_WRFSBASE] = exec_ud;
	t[OP_WRGSBASE] = exec_ud;
	t[OP_RSM] = exec_ud;
}
