/*
 * Exceptions and interrupts: how an event gets from cpu_raise() (or the
 * interrupt controller, or INT n) to the first instruction of its handler.
 *
 *   handler --cpu_raise()--> longjmp to the run loop (rip = faulting insn)
 *        --> excp_deliver_pending(): #DF / triple-fault classification
 *        --> excp_deliver(): real mode IVT | protected-mode IDT | long-mode IDT
 *   cpu_events --> excp_deliver_interrupt() / excp_deliver_nmi()
 *   INT n, INT3, INTO, INT1 (exec_system.c) --> excp_deliver()
 *
 * Delivery can fault itself (IDT limit, not-present gate, a stack page
 * that is not mapped, ...). It then calls cpu_raise() like any handler:
 * exc_depth says a delivery was in progress and exc_class what kind of
 * event it was, which is all SDM table 6-5 needs to decide between serial
 * delivery, #DF, and (a fault while delivering #DF) a triple fault, which
 * resets the machine. A delivery commits nothing before every descriptor
 * is checked and every byte of the new stack frame is known writable.
 *
 * Also here: the INIT and SIPI states, and the segment loading helpers the
 * far-transfer code (exec_far.c) shares with delivery.
 */
#include <string.h>

#include "accel/tcg/system.h"
#include "util/log.h"

/* Exception classes of SDM table 6-4/6-5. */
enum { CLASS_BENIGN, CLASS_CONTRIB, CLASS_PF, CLASS_DF };

static int excp_class(int vector)
{
	switch (vector) {
	case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
		return CLASS_CONTRIB;
	case EXC_PF:
		return CLASS_PF;
	case EXC_DF:
		return CLASS_DF;
	default:
		return CLASS_BENIGN;
	}
}

static bool excp_has_error(int vector)
{
	switch (vector) {
	case EXC_DF: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP: case EXC_PF: case EXC_AC:
		return true;
	default:
		return false;
	}
}

_Noreturn void cpu_raise(struct x86_cpu *cpu, int vector, uint32_t error_code)
{
	cpu->exc_vector = vector;
	cpu->exc_has_error = excp_has_error(vector);
	cpu->exc_error = cpu->exc_has_error ? error_code : 0;
	longjmp(cpu->exc_jmp, 1);
}

_Noreturn void cpu_raise_pf(struct x86_cpu *cpu, uint64_t linear, uint32_t error_code)
{
	cpu->cr2 = linear;
	cpu_raise(cpu, EXC_PF, error_code);
}

static int cpu_index(const struct x86_cpu *cpu)
{
	return cpu->vcpu ? cpu->vcpu->index : 0;
}

void excp_deliver_pending(struct x86_cpu *cpu)
{
	int vector = cpu->exc_vector;
	uint32_t err = cpu->exc_error;
	bool has_err = cpu->exc_has_error;

	if (cpu->exc_depth > 0) {
		/* The exception happened while delivering an earlier event. */
		int first = cpu->exc_class, second = excp_class(vector);
		if (first == CLASS_DF) {
			log_debug("cpu %d: triple fault (vector %d while delivering #DF) at %#llx",
				  cpu_index(cpu), vector, (unsigned long long)cpu->rip);
			cpu->exc_depth = 0;
			vm_request_reset(cpu->vm);
			return;
		}
		if ((first == CLASS_CONTRIB && second == CLASS_CONTRIB) ||
		    (first == CLASS_PF && second != CLASS_BENIGN)) {
			vector = EXC_DF;
			err = 0;
			has_err = true;
		}
		/* Otherwise serially: the new exception replaces the old event. */
	}
	excp_deliver(cpu, vector, EXCP_SRC_HW, has_err, err);
}

void excp_deliver_interrupt(struct x86_cpu *cpu, int vector)
{
	/* Between instructions: a fault in delivery restarts at rip, not at the last insn. */
	cpu->insn_rip = cpu->rip;
	cpu->exc_depth = 0;
	excp_deliver(cpu, vector & 0xff, EXCP_SRC_EXT, false, 0);
}

void excp_deliver_nmi(struct x86_cpu *cpu)
{
	if (cpu->nmi_blocked) {
		/* Still in the NMI handler: keep it pending until IRET unblocks. */
		if (cpu->vcpu)
			atomic_fetch_or(&cpu->vcpu->pending, VCPU_PENDING_NMI);
		return;
	}
	cpu->insn_rip = cpu->rip;
	cpu->exc_depth = 0;
	excp_deliver(cpu, EXC_NMI, EXCP_SRC_EXT, false, 0);
	cpu->nmi_blocked = true;
}

/* ---- segment helpers shared with exec_far.c --------------------------------- */

void sys_load_cs(struct x86_cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl)
{
	struct x86_seg *cs = &cpu->seg[SEG_CS];
	seg_from_descriptor(cs, (uint16_t)((sel & ~3u) | cpl), d, false);
	/*
	 * cpu_update_mode() takes CPL from CS.DPL; a conforming segment keeps
	 * the caller's CPL, so the cache records that rather than the DPL.
	 */
	cs->dpl = (uint8_t)cpl;
	cpu_update_mode(cpu);
}

void sys_load_ss(struct x86_cpu *cpu, uint16_t sel, const uint64_t *d)
{
	struct x86_seg *ss = &cpu->seg[SEG_SS];
	if (d) {
		seg_from_descriptor(ss, sel, d, false);
	} else {
		/* A null SS (long mode only): unusable, but DPL still tells the CPL. */
		*ss = (struct x86_seg){ .selector = sel, .unusable = 1, .dpl = (uint8_t)(sel & 3) };
	}
}

void sys_load_real_seg(struct x86_cpu *cpu, int seg, uint16_t sel, bool v86)
{
	struct x86_seg *s = &cpu->seg[seg];
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	if (v86) {
		*s = (struct x86_seg){ .base = (uint64_t)sel << 4, .limit = 0xffff, .selector = sel,
				       .type = seg == SEG_CS ? 0xb : 0x3, .s = 1, .dpl = 3,
				       .present = 1 };
	}
}

void sys_null_inner_segs(struct x86_cpu *cpu)
{
	static const int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (unsigned k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
		struct x86_seg *s = &cpu->seg[segs[k]];
		if (s->unusable || !(s->selector & 0xfffc))
			continue;
		bool conforming = (s->type & TYPE_CODE) && (s->type & TYPE_CONFORMING);
		if (!conforming && s->dpl < cpu->cpl)
			*s = (struct x86_seg){ .unusable = 1 };
	}
}

bool sys_check_ss(struct x86_cpu *cpu, uint16_t sel, unsigned cpl, uint64_t d[2], int vector,
		  uint32_t ext)
{
	uint32_t err = (sel & 0xfffcu) | ext;
	if (!(sel & 0xfffc))
		return false;
	if ((sel & 3u) != cpl)
		cpu_raise(cpu, vector, err);
	if (!seg_read_descriptor(cpu, sel, d, false))
		cpu_raise(cpu, vector, err);
	if (!DESC_S(d[0]) || (DESC_TYPE(d[0]) & (TYPE_CODE | TYPE_WRITABLE)) != TYPE_WRITABLE ||
	    DESC_DPL(d[0]) != cpl)
		cpu_raise(cpu, vector, err);
	if (!DESC_P(d[0]))
		cpu_raise(cpu, EXC_SS, err);
	return true;
}

/* ---- delivery ------------------------------------------------------------------ */

/* The flags an event clears on entry to its handler (IF only through interrupt gates). */
static void excp_clear_flags(struct x86_cpu *cpu, uint64_t mask)
{
	cpu->rflags &= ~mask;
}

static void deliver_real(struct x86_cpu *cpu, int vector)
{
	uint64_t ent = (uint64_t)vector * 4;
	if (ent + 3 > cpu->idt.limit)
		cpu_raise(cpu, EXC_GP, 0);
	uint32_t ivt = mmu_ld32_sys(cpu, (uint32_t)(cpu->idt.base + ent));

	unsigned ssz = stack_size(cpu);
	uint64_t mask = exec_mask(ssz), sp = cpu->gpr[R_RSP];
	uint64_t la[3];
	for (unsigned k = 0; k < 3; k++) {
		la[k] = seg_linear(cpu, SEG_SS, (sp - 2 * (k + 1)) & mask, 2, MMU_WRITE);
		mmu_probe_write_sys(cpu, la[k], 2);
	}
	uint64_t flags = cpu_get_rflags(cpu);
	mmu_st16_sys(cpu, la[0], (uint16_t)flags);
	mmu_st16_sys(cpu, la[1], cpu->seg[SEG_CS].selector);
	mmu_st16_sys(cpu, la[2], (uint16_t)cpu->rip);
	reg_write_sized(cpu, R_RSP, ssz, (sp - 6) & mask);
	excp_clear_flags(cpu, F_IF | F_TF | F_AC | F_RF);
	sys_load_real_seg(cpu, SEG_CS, (uint16_t)(ivt >> 16), false);
	cpu->rip = ivt & 0xffff;
}

/* Linear address of a frame slot on stack segment ss (limit checked, #SS(err)). */
static uint64_t frame_lin(struct x86_cpu *cpu, const struct x86_seg *ss, uint64_t off,
			  unsigned size, uint32_t err)
{
	uint64_t last = off + size - 1;
	if (!(ss->type & TYPE_CODE) && (ss->type & TYPE_EXPAND_DOWN)) {
		uint64_t upper = ss->db ? 0xffffffffULL : 0xffffULL;
		if (off <= ss->limit || last > upper)
			cpu_raise(cpu, EXC_SS, err);
	} else if (last > ss->limit) {
		cpu_raise(cpu, EXC_SS, err);
	}
	return (uint32_t)(ss->base + off);
}

/* Reads the gate's code segment and checks it; returns the new CPL. */
static unsigned gate_code_segment(struct x86_cpu *cpu, uint16_t sel, uint64_t d[2], uint32_t ext)
{
	uint32_t err = (sel & 0xfffcu) | ext;
	if (!(sel & 0xfffc))
		cpu_raise(cpu, EXC_GP, ext);
	if (!seg_read_descriptor(cpu, sel, d, false))
		cpu_raise(cpu, EXC_GP, err);
	if (!desc_is_code(d[0]) || DESC_DPL(d[0]) > cpu->cpl)
		cpu_raise(cpu, EXC_GP, err);
	if (!DESC_P(d[0]))
		cpu_raise(cpu, EXC_NP, err);
	bool conforming = DESC_TYPE(d[0]) & TYPE_CONFORMING;
	return !conforming && DESC_DPL(d[0]) < cpu->cpl ? DESC_DPL(d[0]) : cpu->cpl;
}

static void deliver_prot(struct x86_cpu *cpu, int vector, enum excp_src src, bool has_err,
			 uint32_t err)
{
	uint32_t ext = src != EXCP_SRC_SOFT;
	uint32_t idt_err = (uint32_t)vector * 8 + 2 + ext;
	if ((uint64_t)vector * 8 + 7 > cpu->idt.limit)
		cpu_raise(cpu, EXC_GP, idt_err);
	uint64_t gate = mmu_ld64_sys(cpu, (uint32_t)(cpu->idt.base + (uint64_t)vector * 8));
	unsigned type = DESC_TYPE(gate);
	if (DESC_S(gate))
		cpu_raise(cpu, EXC_GP, idt_err);
	if (type == SYS_TASK_GATE) {
		log_debug("cpu %d: task gate for vector %d: task switches are not supported",
			  cpu_index(cpu), vector);
		cpu_raise(cpu, EXC_GP, idt_err);
	}
	if (type != SYS_INT16 && type != SYS_TRAP16 && type != SYS_INT && type != SYS_TRAP)
		cpu_raise(cpu, EXC_GP, idt_err);
	if (src == EXCP_SRC_SOFT && DESC_DPL(gate) < cpu->cpl)
		cpu_raise(cpu, EXC_GP, idt_err);
	if (!DESC_P(gate))
		cpu_raise(cpu, EXC_NP, idt_err);

	bool gate32 = type & 8;
	uint16_t sel = (uint16_t)(gate >> 16);
	uint32_t off = (uint32_t)((gate & 0xffff) | ((gate >> 32) & 0xffff0000));
	if (!gate32)
		off &= 0xffff;
	uint64_t cd[2];
	unsigned old_cpl = cpu->cpl, new_cpl = gate_code_segment(cpu, sel, cd, ext);
	bool v86 = cpu->rflags & F_VM;
	if (v86 && new_cpl != 0)
		cpu_raise(cpu, EXC_GP, (sel & 0xfffcu) | ext);
	struct x86_seg new_cs;
	seg_from_descriptor(&new_cs, sel, cd, false);
	if (off > new_cs.limit)
		cpu_raise(cpu, EXC_GP, ext);

	/* The stack the frame goes on: from the TSS when the privilege changes. */
	bool inner = new_cpl != old_cpl;
	struct x86_seg new_ss = cpu->seg[SEG_SS];
	uint64_t sp = cpu->gpr[R_RSP];
	uint16_t ss_sel = 0;
	uint64_t sd[2];
	uint32_t ss_err = ext;
	if (inner) {
		const struct x86_seg *tr = &cpu->tr;
		bool tss32 = tr->type == SYS_TSS_AVAIL || tr->type == SYS_TSS_BUSY;
		uint64_t o = tss32 ? 4 + new_cpl * 8 : 2 + new_cpl * 4;
		if (tr->unusable || o + (tss32 ? 5 : 3) > tr->limit)
			cpu_raise(cpu, EXC_TS, (tr->selector & 0xfffcu) | ext);
		uint64_t la = (uint32_t)(tr->base + o);
		if (tss32) {
			sp = mmu_ld32_sys(cpu, la);
			ss_sel = mmu_ld16_sys(cpu, (uint32_t)(la + 4));
		} else {
			sp = mmu_ld16_sys(cpu, la);
			ss_sel = mmu_ld16_sys(cpu, (uint32_t)(la + 2));
		}
		if (!sys_check_ss(cpu, ss_sel, new_cpl, sd, EXC_TS, ext))
			cpu_raise(cpu, EXC_TS, ext);
		seg_from_descriptor(&new_ss, ss_sel, sd, false);
		ss_err = (ss_sel & 0xfffcu) | ext;
	}

	/* The frame, in push order. */
	uint64_t val[10];
	unsigned n = 0;
	if (v86) {
		val[n++] = cpu->seg[SEG_GS].selector;
		val[n++] = cpu->seg[SEG_FS].selector;
		val[n++] = cpu->seg[SEG_DS].selector;
		val[n++] = cpu->seg[SEG_ES].selector;
	}
	if (inner) {
		val[n++] = cpu->seg[SEG_SS].selector;
		val[n++] = cpu->gpr[R_RSP];
	}
	val[n++] = cpu_get_rflags(cpu);
	val[n++] = cpu->seg[SEG_CS].selector;
	val[n++] = cpu->rip;
	if (has_err)
		val[n++] = err;

	unsigned sz = gate32 ? 4 : 2;
	uint64_t spmask = new_ss.db ? 0xffffffffULL : 0xffffULL;
	unsigned user = new_cpl == 3;
	uint64_t la[10];
	for (unsigned k = 0; k < n; k++) {
		la[k] = frame_lin(cpu, &new_ss, (sp - sz * (k + 1)) & spmask, sz, ss_err);
		mmu_probe_write_as(cpu, la[k], sz, user);
	}
	seg_set_accessed(cpu, sel, cd);
	if (inner)
		seg_set_accessed(cpu, ss_sel, sd);

	/* Nothing below faults. */
	for (unsigned k = 0; k < n; k++) {
		if (sz == 4)
			mmu_st32_as(cpu, la[k], (uint32_t)val[k], user);
		else
			mmu_st16_as(cpu, la[k], (uint16_t)val[k], user);
	}
	if (inner)
		sys_load_ss(cpu, ss_sel, sd);
	uint64_t new_sp = (sp - sz * n) & spmask;
	if (new_ss.db)
		cpu->gpr[R_RSP] = (uint32_t)new_sp;
	else
		cpu->gpr[R_RSP] = (cpu->gpr[R_RSP] & ~0xffffULL) | new_sp;
	if (v86) {
		static const int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
		for (unsigned k = 0; k < 4; k++)
			cpu->seg[segs[k]] = (struct x86_seg){ .unusable = 1 };
	}
	excp_clear_flags(cpu, F_TF | F_NT | F_RF | F_VM | ((type & 1) ? 0 : F_IF));
	sys_load_cs(cpu, sel, cd, new_cpl);
	cpu->rip = off;
}

/* Reads the 8-byte TSS field at offset o (RSPn, ISTn) of the 64-bit TSS. */
static uint64_t tss64_read(struct x86_cpu *cpu, uint64_t o, uint32_t ext)
{
	const struct x86_seg *tr = &cpu->tr;
	if (tr->unusable || o + 7 > tr->limit)
		cpu_raise(cpu, EXC_TS, (tr->selector & 0xfffcu) | ext);
	return mmu_ld64_sys(cpu, tr->base + o);
}

static void deliver_long(struct x86_cpu *cpu, int vector, enum excp_src src, bool has_err,
			 uint32_t err)
{
	uint32_t ext = src != EXCP_SRC_SOFT;
	uint32_t idt_err = (uint32_t)vector * 8 + 2 + ext;
	if ((uint64_t)vector * 16 + 15 > cpu->idt.limit)
		cpu_raise(cpu, EXC_GP, idt_err);
	uint64_t gla = cpu->idt.base + (uint64_t)vector * 16;
	uint64_t lo = mmu_ld64_sys(cpu, gla), hi = mmu_ld64_sys(cpu, gla + 8);
	unsigned type = DESC_TYPE(lo);
	if (DESC_S(lo) || (type != SYS_INT && type != SYS_TRAP))
		cpu_raise(cpu, EXC_GP, idt_err);
	if (src == EXCP_SRC_SOFT && DESC_DPL(lo) < cpu->cpl)
		cpu_raise(cpu, EXC_GP, idt_err);
	if (!DESC_P(lo))
		cpu_raise(cpu, EXC_NP, idt_err);

	uint16_t sel = (uint16_t)(lo >> 16);
	uint64_t off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
	unsigned ist = (unsigned)(lo >> 32) & 7;
	uint64_t cd[2];
	unsigned old_cpl = cpu->cpl, new_cpl = gate_code_segment(cpu, sel, cd, ext);
	/* Handlers run in 64-bit mode: L=1, D=0. */
	if (!DESC_L(cd[0]) || DESC_DB(cd[0]))
		cpu_raise(cpu, EXC_GP, (sel & 0xfffcu) | ext);
	if (!mmu_canonical(off))
		cpu_raise(cpu, EXC_GP, ext);

	uint64_t rsp;
	if (ist)
		rsp = tss64_read(cpu, 0x24 + 8 * (ist - 1), ext);
	else if (new_cpl != old_cpl)
		rsp = tss64_read(cpu, 4 + 8 * new_cpl, ext);
	else
		rsp = cpu->gpr[R_RSP];
	rsp &= ~0xfULL;

	uint64_t val[6];
	unsigned n = 0;
	val[n++] = cpu->seg[SEG_SS].selector;
	val[n++] = cpu->gpr[R_RSP];
	val[n++] = cpu_get_rflags(cpu);
	val[n++] = cpu->seg[SEG_CS].selector;
	val[n++] = cpu->rip;
	if (has_err)
		val[n++] = err;
	uint64_t base = rsp - 8 * n;
	if (!mmu_canonical(rsp - 1) || !mmu_canonical(base))
		cpu_raise(cpu, EXC_SS, ext);
	unsigned user = new_cpl == 3;
	mmu_probe_write_as(cpu, base, 8 * n, user);
	seg_set_accessed(cpu, sel, cd);

	/* Nothing below faults. */
	for (unsigned k = 0; k < n; k++)
		mmu_st64_as(cpu, rsp - 8 * (k + 1), val[k], user);
	if (new_cpl != old_cpl)
		sys_load_ss(cpu, (uint16_t)new_cpl, NULL);
	cpu->gpr[R_RSP] = base;
	excp_clear_flags(cpu, F_TF | F_NT | F_RF | F_VM | ((type & 1) ? 0 : F_IF));
	sys_load_cs(cpu, sel, cd, new_cpl);
	cpu->rip = off;
}

void excp_deliver(struct x86_cpu *cpu, int vector, enum excp_src src, bool has_err, uint32_t err)
{
	cpu->exc_depth++;
	if (vector == EXC_DF)
		cpu->exc_class = CLASS_DF;
	else if (src == EXCP_SRC_HW)
		cpu->exc_class = (uint8_t)excp_class(vector);
	else
		cpu->exc_class = CLASS_BENIGN; /* interrupts and INT n count as benign */
	if (!(cpu->cr0 & X86_CR0_PE))
		deliver_real(cpu, vector);
	else if (sys_long_mode(cpu))
		deliver_long(cpu, vector, src, has_err, err);
	else
		deliver_prot(cpu, vector, src, has_err, err);
	cpu->exc_depth = 0;
	cpu->halted = false;
	cpu->intr_shadow = false; /* the handler's first insn is not in a STI/MOV SS shadow */
}

/* ---- INIT and SIPI --------------------------------------------------------------- */

static struct x86_seg init_seg(uint16_t sel, uint64_t base, uint8_t type, uint8_t s)
{
	return (struct x86_seg){ .base = base, .limit = 0xffff, .selector = sel, .type = type,
				 .s = s, .present = 1 };
}

void cpu_do_init(struct x86_cpu *cpu)
{
	uint64_t apic_base = cpu->msr.apic_base;
	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	cpu->gpr[R_RDX] = cpuid_signature();
	cpu->rip = 0xfff0;
	cpu->rflags = X86_RFLAGS_RESERVED1;
	cpu_set_rflags(cpu, X86_RFLAGS_RESERVED1, ~0ULL);
	for (int s = 0; s < 6; s++)
		cpu->seg[s] = init_seg(0, 0, 0x3, 1);
	cpu->seg[SEG_CS] = init_seg(0xf000, 0xffff0000, 0xb, 1);
	cpu->ldt = init_seg(0, 0, SYS_LDT, 0);
	cpu->tr = init_seg(0, 0, SYS_TSS_BUSY, 0);
	cpu->gdt = (struct x86_dtable){ .base = 0, .limit = 0xffff };
	cpu->idt = (struct x86_dtable){ .base = 0, .limit = 0xffff };
	cpu->cr0 = 0x60000010; /* CD, NW, ET */
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
	cpu->efer = 0;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xffff0ff0;
	cpu->dr[7] = 0x400;

	/* x87/SSE power-on state (INIT proper would keep it; nobody relies on that). */
	memset(cpu->xmm, 0, sizeof(cpu->xmm));
	memset(&cpu->fpu, 0, sizeof(cpu->fpu));
	cpu->fpu.fcw = 0x37f;
	cpu->mxcsr = 0x1f80;

	msr_reset(cpu);
	/* The APIC base survives INIT; the first INIT sets the default (BSP bit by tcg.c). */
	cpu->msr.apic_base = apic_base ? apic_base : 0xfee00800;

	cpu->halted = false;
	cpu->intr_shadow = false;
	cpu->nmi_blocked = false;
	cpu->exc_depth = 0;
	cpu->wait_sipi = cpu_index(cpu) != 0;
	cpu_update_mode(cpu);
	tlb_flush(cpu);
}

void cpu_do_sipi(struct x86_cpu *cpu, uint8_t vector)
{
	struct x86_seg *cs = &cpu->seg[SEG_CS];
	*cs = init_seg((uint16_t)(vector << 8), (uint64_t)vector << 12, 0xb, 1);
	cpu->rip = 0;
	cpu->wait_sipi = false;
	cpu->halted = false;
	cpu_update_mode(cpu);
}
