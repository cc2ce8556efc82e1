/*
 * x87 control and state instructions: FNINIT, FNCLEX, FLDCW/FNSTCW,
 * FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR and FWAIT. The FN forms do not
 * check for pending exceptions (that is what the "N" means); FWAIT does,
 * and raises #MF for an unmasked pending exception when CR0.NE is set.
 *
 * Environment images (SDM Vol. 1 8.1.10, figures 8-9 to 8-12): 14 bytes
 * with a 16-bit operand size, 28 with 32 (64-bit mode uses the 28-byte
 * form; its FIP/FDP are truncated to 32 bits, FXSAVE64 is the way to get
 * them whole). Real and virtual-8086 mode have their own layouts where
 * FIP/FDP are 20/32-bit linear addresses split around FOP. FCS/FDS are
 * not tracked and read as 0; the unused upper halves of the 32-bit
 * protected-mode form read as FFFFh, as on Intel hardware.
 */
#include "accel/tcg/fpu.h"

/* Control instructions: only the #NM gate, no pending-#MF check. */
static void x87_ctl_begin(struct x86_cpu *cpu)
{
	x87_gate(cpu);
}

static void x87_fninit(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	x87_ctl_begin(cpu);
	x87_init(cpu);
}

static void x87_fnclex(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	x87_ctl_begin(cpu);
	cpu->fpu.fsw &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

static void x87_fldcw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_ctl_begin(cpu);
	uint16_t cw = (uint16_t)mem_load(cpu, insn_linear(cpu, i, 2, MMU_READ), 2);
	/* Bit 6 reads as 1 and bits 13-15 as 0 whatever is loaded. */
	cpu->fpu.fcw = (uint16_t)((cw & 0x1f3f) | 0x0040);
	x87_update_es(cpu);
}

static void x87_fnstcw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_ctl_begin(cpu);
	mem_store(cpu, insn_linear(cpu, i, 2, MMU_WRITE), 2, cpu->fpu.fcw);
}

static void x87_fnstsw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_ctl_begin(cpu);
	if (!x86_insn_is_mem(i))
		reg_write_sized(cpu, R_RAX, 2, x87_fsw(cpu));
	else
		mem_store(cpu, insn_linear(cpu, i, 2, MMU_WRITE), 2, x87_fsw(cpu));
}

/* FWAIT: #NM only when both MP and TS are set, then the pending check. */
static void x87_fwait(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	if ((cpu->cr0 & (X86_CR0_MP | FPU_CR0_TS)) == (X86_CR0_MP | FPU_CR0_TS))
		cpu_raise(cpu, EXC_NM, 0);
	if ((cpu->fpu.fsw & FSW_ES) && (cpu->cr0 & X86_CR0_NE))
		cpu_raise(cpu, EXC_MF, 0);
}

/* ---- environment images ------------------------------------------------------ */

static bool x87_real_layout(const struct x86_cpu *cpu)
{
	return !(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & F_VM);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint32_t get16(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | get16(p + 2) << 16;
}

/* Writes the environment image for operand size opsize; returns its size. */
static unsigned x87_env_store(const struct x86_cpu *cpu, unsigned opsize, uint8_t *p)
{
	uint16_t fcw = cpu->fpu.fcw, fsw = x87_fsw(cpu), ftw = x87_full_tags(cpu);
	uint32_t fip = (uint32_t)cpu->fpu.fip, fdp = (uint32_t)cpu->fpu.fdp;
	uint32_t fop = cpu->fpu.fop & 0x7ff;
	bool real = x87_real_layout(cpu);
	if (real) {
		fip += (uint32_t)cpu->seg[SEG_CS].base;
	}
	if (opsize == 2) {
		put16(p, fcw);
		put16(p + 2, fsw);
		put16(p + 4, ftw);
		put16(p + 6, fip);
		put16(p + 8, real ? ((fip >> 4) & 0xf000) | fop : 0);
		put16(p + 10, fdp);
		put16(p + 12, real ? (fdp >> 4) & 0xf000 : 0);
		return 14;
	}
	put32(p, 0xffff0000u | fcw);
	put32(p + 4, 0xffff0000u | fsw);
	put32(p + 8, 0xffff0000u | ftw);
	if (real) {
		put32(p + 12, 0xffff0000u | (fip & 0xffff));
		put32(p + 16, ((fip >> 4) & 0x0ffff000u) | fop);
		put32(p + 20, 0xffff0000u | (fdp & 0xffff));
		put32(p + 24, (fdp >> 4) & 0x0ffff000u);
	} else {
		put32(p + 12, fip);
		put32(p + 16, fop << 16);
		put32(p + 20, fdp);
		put32(p + 24, 0xffff0000u);
	}
	return 28;
}

/* Loads an environment image (already read in full). */
static void x87_env_load(struct x86_cpu *cpu, unsigned opsize, const uint8_t *p)
{
	bool real = x87_real_layout(cpu);
	unsigned w = opsize == 2 ? 2 : 4;
	cpu->fpu.fcw = (uint16_t)((get16(p) & 0x1f3f) | 0x0040);
	uint16_t fsw = (uint16_t)get16(p + w);
	cpu->fpu.ftw_abridged = x87_abridge((uint16_t)get16(p + 2 * w));
	if (w == 2) {
		cpu->fpu.fip = get16(p + 6);
		cpu->fpu.fdp = get16(p + 10);
		if (real) {
			cpu->fpu.fop = get16(p + 8) & 0x7ff;
			cpu->fpu.fip |= (get16(p + 8) & 0xf000) << 4;
			cpu->fpu.fdp |= (get16(p + 12) & 0xf000) << 4;
		}
	} else if (real) {
		cpu->fpu.fip = (get16(p + 12)) | ((get32(p + 16) & 0x0ffff000u) << 4);
		cpu->fpu.fop = get32(p + 16) & 0x7ff;
		cpu->fpu.fdp = (get16(p + 20)) | ((get32(p + 24) & 0x0ffff000u) << 4);
	} else {
		cpu->fpu.fip = get32(p + 12);
		cpu->fpu.fop = (get32(p + 16) >> 16) & 0x7ff;
		cpu->fpu.fdp = get32(p + 20);
	}
	if (real)
		cpu->fpu.fip -= (uint32_t)cpu->seg[SEG_CS].base;
	x87_set_fsw(cpu, fsw);
}

static unsigned x87_env_size(const struct x86_insn *i)
{
	return i->opsize == 2 ? 14 : 28;
}

static void x87_fnstenv(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_ctl_begin(cpu);
	uint8_t img[28];
	unsigned n = x87_env_store(cpu, i->opsize, img);
	mmu_write(cpu, insn_linear(cpu, i, n, MMU_WRITE), img, n);
	/* FNSTENV masks every exception after saving (handlers rely on it). */
	cpu->fpu.fcw |= FSW_EXC;
	x87_update_es(cpu);
}

static void x87_fldenv(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_ctl_begin(cpu);
	uint8_t img[28];
	unsigned n = x87_env_size(i);
	mmu_read(cpu, insn_linear(cpu, i, n, MMU_READ), img, n);
	x87_env_load(cpu, i->opsize, img);
}

/* FNSAVE: environment, then ST(0)..ST(7) as 10-byte values, then FNINIT. */
static void x87_fnsave(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_ctl_begin(cpu);
	uint8_t img[108];
	unsigned n = x87_env_store(cpu, i->opsize, img);
	for (unsigned s = 0; s < 8; s++)
		x87_to_bytes(cpu->fpu.st[x87_phys(cpu, s)], img + n + 10 * s);
	mmu_write(cpu, insn_linear(cpu, i, n + 80, MMU_WRITE), img, n + 80);
	x87_init(cpu);
}

static void x87_frstor(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x87_ctl_begin(cpu);
	uint8_t img[108];
	unsigned n = x87_env_size(i);
	mmu_read(cpu, insn_linear(cpu, i, n + 80, MMU_READ), img, n + 80);
	x87_env_load(cpu, i->opsize, img);
	for (unsigned s = 0; s < 8; s++)
		cpu->fpu.st[x87_phys(cpu, s)] = x87_from_bytes(img + n + 10 * s);
}

void x87_ctl_register(exec_fn *t)
{
	t[OP_FNINIT] = x87_fninit;
	t[OP_FNCLEX] = x87_fnclex;
	t[OP_FLDCW] = x87_fldcw;
	t[OP_FNSTCW] = x87_fnstcw;
	t[OP_FNSTSW] = x87_fnstsw;
	t[OP_FWAIT] = x87_fwait;
	t[OP_FNSTENV] = x87_fnstenv;
	t[OP_FLDENV] = x87_fldenv;
	t[OP_FNSAVE] = x87_fnsave;
	t[OP_FRSTOR] = x87_frstor;
}
