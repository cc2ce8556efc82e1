/*
 * Model-specific registers of the CPU model (see cpuid.c), for RDMSR and
 * WRMSR. An MSR not listed here does not exist: both instructions raise
 * #GP(0), which Linux's rdmsr_safe()/wrmsr_safe() probes expect. So do
 * writes of reserved bits or values the architecture rejects.
 *
 *   0x10        TSC: reads the guest TSC; writes set this vCPU's offset
 *   0x17        PLATFORM_ID: 0
 *   0x1b        APIC_BASE: stored (the local APIC window does not move)
 *   0x3a        FEATURE_CONTROL: 1 (locked, VMX off); writes #GP
 *   0x79        BIOS_UPDT_TRIG: writes ignored (no microcode to load)
 *   0x8b        BIOS_SIGN_ID (microcode revision): 0
 *   0xfe        MTRRcap: 8 variable ranges, fixed ranges, WC
 *   0x174-0x176 SYSENTER_CS/ESP/EIP
 *   0x179/0x17a MCG_CAP/MCG_STATUS: 0 (no machine check architecture)
 *   0x1a0       MISC_ENABLE: fast strings; BTS and PEBS unavailable
 *   0x200-0x20f variable MTRRs, 0x250/0x258/0x259/0x268-0x26f fixed MTRRs,
 *   0x2ff       MTRRdefType: stored and read back (memory types are not
 *               emulated: all RAM is write-back to the interpreter);
 *               starts enabled with default type WB, as firmware leaves it
 *   0x277       PAT: validated memory types
 *   0xc0000080  EFER: SCE, LME, NXE writable; LMA follows CR0.PG
 *   0xc0000081-0xc0000084  STAR, LSTAR, CSTAR, FMASK
 *   0xc0000100-0xc0000102  FS_BASE, GS_BASE, KERNEL_GS_BASE
 *   0xc0000103  TSC_AUX (RDTSCP's ECX)
 *
 * Not present (#GP): SPEC_CTRL, PRED_CMD, ARCH_CAPABILITIES (not
 * advertised), the performance counters, x2APIC, and every KVM or
 * Hyper-V paravirtual MSR.
 *
 * The TSC runs at 1 GHz: guest TSC = CLOCK_MONOTONIC nanoseconds +
 * tsc_offset. All vCPUs share the clock, so their TSCs are synchronised
 * (Linux's TSC sync check passes) and INIT leaves the offset alone.
 */
#include "accel/tcg/system.h"
#include "core/timer.h"

#define EFER_WRITABLE (X86_EFER_SCE | X86_EFER_LME | X86_EFER_NXE)

uint64_t tsc_read(const struct x86_cpu *cpu)
{
	return clock_ns() + (uint64_t)cpu->msr.tsc_offset;
}

void msr_reset(struct x86_cpu *cpu)
{
	struct x86_msrs *m = &cpu->msr;
	int64_t tsc_offset = m->tsc_offset;
	uint64_t apic_base = m->apic_base;
	*m = (struct x86_msrs){ 0 };
	m->tsc_offset = tsc_offset;
	m->apic_base = apic_base;
	m->pat = 0x0007040600070406ULL;
	m->misc_enable = 1u << 0 | 1u << 11 | 1u << 12;
	/*
	 * Not the architectural reset value (0): kernels boot here without
	 * firmware, and firmware would have enabled MTRRs with write-back as
	 * the default type. Linux 6.1 turns PAT off when MTRRs are disabled.
	 */
	m->mtrr_def_type = 1u << 11 | 6;
}

/* PAT and MTRR memory types: UC, WC, WT, WP, WB (and UC- for PAT only). */
static bool mem_type_ok(unsigned t, bool pat)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

static bool bytes_are_types(uint64_t v, bool pat)
{
	for (unsigned k = 0; k < 8; k++)
		if (!mem_type_ok((unsigned)(v >> (8 * k)) & 0xff, pat))
			return false;
	return true;
}

/* Index into mtrr_fixed[] of a fixed-range MTRR, or -1. */
static int mtrr_fixed_index(uint32_t index)
{
	if (index == 0x250)
		return 0;
	if (index == 0x258 || index == 0x259)
		return 1 + (int)(index - 0x258);
	if (index >= 0x268 && index <= 0x26f)
		return 3 + (int)(index - 0x268);
	return -1;
}

#define PHYS_ADDR_MASK (MMU_PHYS_MASK & MMU_PAGE_MASK)

bool msr_read(struct x86_cpu *cpu, uint32_t index, uint64_t *value)
{
	const struct x86_msrs *m = &cpu->msr;
	int fx;
	switch (index) {
	case MSR_TSC: *value = tsc_read(cpu); return true;
	case 0x17: *value = 0; return true;
	case 0x1b: *value = m->apic_base; return true;
	case 0x3a: *value = 1; return true;
	case 0x8b: *value = 0; return true;
	case 0xfe: *value = 8 | 1u << 8 | 1u << 10; return true;
	case 0x174: *value = m->sysenter_cs; return true;
	case 0x175: *value = m->sysenter_esp; return true;
	case 0x176: *value = m->sysenter_eip; return true;
	case 0x179: case 0x17a: *value = 0; return true;
	case 0x1a0: *value = m->misc_enable; return true;
	case 0x277: *value = m->pat; return true;
	case 0x2ff: *value = m->mtrr_def_type; return true;
	case MSR_EFER: *value = cpu->efer; return true;
	case 0xc0000081: *value = m->star; return true;
	case 0xc0000082: *value = m->lstar; return true;
	case 0xc0000083: *value = m->cstar; return true;
	case 0xc0000084: *value = m->fmask; return true;
	case 0xc0000100: *value = cpu->seg[SEG_FS].base; return true;
	case 0xc0000101: *value = cpu->seg[SEG_GS].base; return true;
	case 0xc0000102: *value = m->kernel_gs_base; return true;
	case 0xc0000103: *value = m->tsc_aux; return true;
	}
	if (index >= 0x200 && index <= 0x20f) {
		*value = m->mtrr_var[index - 0x200];
		return true;
	}
	if ((fx = mtrr_fixed_index(index)) >= 0) {
		*value = m->mtrr_fixed[fx];
		return true;
	}
	return false;
}

static bool msr_write_efer(struct x86_cpu *cpu, uint64_t value)
{
	uint64_t old = cpu->efer;
	if (value & ~(EFER_WRITABLE | X86_EFER_LMA))
		return false;
	/* LME may not change while paging is on (LMA would then disagree). */
	if ((cpu->cr0 & X86_CR0_PG) && ((value ^ old) & X86_EFER_LME))
		return false;
	cpu->efer = (value & EFER_WRITABLE) | (old & X86_EFER_LMA);
	mmu_cr_written(cpu, cpu->cr0, cpu->cr4, old);
	return true;
}

bool msr_write(struct x86_cpu *cpu, uint32_t index, uint64_t value)
{
	struct x86_msrs *m = &cpu->msr;
	int fx;
	switch (index) {
	case MSR_TSC:
		m->tsc_offset = (int64_t)(value - clock_ns());
		return true;
	case 0x1b:
		/* BSP(8) is read-only; x2APIC enable(10) is not offered. */
		if (value & ~(PHYS_ADDR_MASK | 1u << 8 | 1u << 11))
			return false;
		m->apic_base = (value & ~(1ULL << 8)) | (m->apic_base & (1ULL << 8));
		return true;
	case 0x79:
	case 0x8b:
		return true;
	case 0x174:
		m->sysenter_cs = value & 0xffff;
		return true;
	case 0x175:
	case 0x176:
		if (!mmu_canonical(value))
			return false;
		*(index == 0x175 ? &m->sysenter_esp : &m->sysenter_eip) = value;
		return true;
	case 0x17a:
		return value == 0;
	case 0x1a0:
		m->misc_enable = value;
		return true;
	case 0x277:
		if (!bytes_are_types(value, true))
			return false;
		m->pat = value;
		return true;
	case 0x2ff:
		if ((value & ~0xcffULL) || !mem_type_ok(value & 0xff, false))
			return false;
		m->mtrr_def_type = value;
		return true;
	case MSR_EFER:
		return msr_write_efer(cpu, value);
	case 0xc0000081:
		m->star = value;
		return true;
	case 0xc0000082:
	case 0xc0000083:
		if (!mmu_canonical(value))
			return false;
		*(index == 0xc0000082 ? &m->lstar : &m->cstar) = value;
		return true;
	case 0xc0000084:
		if (value >> 32)
			return false;
		m->fmask = value;
		return true;
	case 0xc0000100:
	case 0xc0000101:
	case 0xc0000102:
		if (!mmu_canonical(value))
			return false;
		if (index == 0xc0000102)
			m->kernel_gs_base = value;
		else
			cpu->seg[index == 0xc0000100 ? SEG_FS : SEG_GS].base = value;
		return true;
	case 0xc0000103:
		if (value >> 32)
			return false;
		m->tsc_aux = value;
		return true;
	}
	if (index >= 0x200 && index <= 0x20f) {
		if (!(index & 1)) {
			/* PHYSBASE: type in 7:0, bits 11:8 reserved. */
			if ((value & ~(PHYS_ADDR_MASK | 0xff)) || !mem_type_ok(value & 0xff, false))
				return false;
		} else if (value & ~(PHYS_ADDR_MASK | 1u << 11)) {
			return false; /* PHYSMASK: valid bit 11 */
		}
		m->mtrr_var[index - 0x200] = value;
		return true;
	}
	if ((fx = mtrr_fixed_index(index)) >= 0) {
		if (!bytes_are_types(value, false))
			return false;
		m->mtrr_fixed[fx] = value;
		return true;
	}
	return false;
}
