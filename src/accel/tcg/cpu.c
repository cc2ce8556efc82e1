/*
 * The software CPU's run loop: fetch, decode, dispatch, and between
 * instructions the events other threads post (interrupts, INIT/SIPI,
 * TLB shootdowns, stop requests). A halted vCPU sleeps on its condition
 * variable until one of those arrives.
 */
#include <pthread.h>
#include <string.h>

#include "accel/tcg/codecache.h"
#include "accel/tcg/exec.h"
#include "accel/tcg/tcg_int.h"
#include "util/log.h"

void cpu_update_mode(struct x86_cpu *cpu)
{
	const struct x86_seg *cs = &cpu->seg[SEG_CS];
	if (!(cpu->cr0 & X86_CR0_PE)) {
		cpu->cpl = 0;
		cpu->mode = 16;
	} else if (cpu->rflags & F_VM) {
		cpu->cpl = 3;
		cpu->mode = 16;
	} else {
		cpu->cpl = cs->dpl;
		if ((cpu->efer & X86_EFER_LMA) && cs->l)
			cpu->mode = 64;
		else
			cpu->mode = cs->db ? 32 : 16;
	}
	cpu->addr_mask64 = cpu->mode == 64;
}

void cpu_load_state(struct x86_cpu *cpu, const struct x86_cpu_state *s)
{
	memcpy(cpu->gpr, s->gpr, sizeof(cpu->gpr));
	cpu->rip = s->rip;
	cpu->seg[SEG_ES] = s->es;
	cpu->seg[SEG_CS] = s->cs;
	cpu->seg[SEG_SS] = s->ss;
	cpu->seg[SEG_DS] = s->ds;
	cpu->seg[SEG_FS] = s->fs;
	cpu->seg[SEG_GS] = s->gs;
	cpu->ldt = s->ldt;
	cpu->tr = s->tr;
	cpu->gdt = s->gdt;
	cpu->idt = s->idt;
	cpu->cr0 = s->cr0;
	cpu->cr2 = s->cr2;
	cpu->cr3 = s->cr3;
	cpu->cr4 = s->cr4;
	cpu->cr8 = s->cr8;
	cpu->efer = s->efer;
	cpu->rflags = X86_RFLAGS_RESERVED1;
	cpu_set_rflags(cpu, s->rflags, ~0ULL);
	cpu_update_mode(cpu);
	tlb_flush(cpu);
}

void cpu_save_state(struct x86_cpu *cpu, struct x86_cpu_state *s)
{
	memcpy(s->gpr, cpu->gpr, sizeof(cpu->gpr));
	s->rip = cpu->rip;
	s->rflags = cpu_get_rflags(cpu);
	s->es = cpu->seg[SEG_ES];
	s->cs = cpu->seg[SEG_CS];
	s->ss = cpu->seg[SEG_SS];
	s->ds = cpu->seg[SEG_DS];
	s->fs = cpu->seg[SEG_FS];
	s->gs = cpu->seg[SEG_GS];
	s->ldt = cpu->ldt;
	s->tr = cpu->tr;
	s->gdt = cpu->gdt;
	s->idt = cpu->idt;
	s->cr0 = cpu->cr0;
	s->cr2 = cpu->cr2;
	s->cr3 = cpu->cr3;
	s->cr4 = cpu->cr4;
	s->cr8 = cpu->cr8;
	s->efer = cpu->efer;
}

/* Marks the page holding host as code and makes every vCPU's stores to it
 * take the slow path (codecache.h). */
static void cpu_mark_code_page(struct x86_cpu *cpu, size_t idx)
{
	struct code_pages *cp = cpu->code_pages;
	atomic_store(&cp->code[idx], 1);
	/* Our own TLB: drop writable entries that map this page. */
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			struct tlb_entry *e = &cpu->tlb[p][i];
			if (e->tag_write == TLB_INVALID || !(e->tag_write & TLB_VALID))
				continue;
			uint8_t *host = (uint8_t *)(uintptr_t)((e->tag_write & MMU_PAGE_MASK) + e->addend);
			if (code_page_index(cp, host) == idx)
				e->tag_write = TLB_INVALID;
		}
	}
	/* The others flush theirs before their next instruction. */
	struct vm *vm = cpu->vm;
	for (int i = 0; i < vm->ncpus; i++)
		if (&vm->vcpus[i] != cpu->vcpu)
			vcpu_notify(&vm->vcpus[i], VCPU_PENDING_TLB_FLUSH);
}

/*
 * Decodes (or finds in the decode cache) the instruction at CS:RIP,
 * fetching across a page end if needed. Returns the decoded instruction:
 * a cache entry, or *scratch for instructions that cannot be cached.
 */
static const struct x86_insn *cpu_fetch_decode(struct x86_cpu *cpu, struct x86_insn *scratch)
{
	uint64_t la;
	if (cpu->mode == 64) {
		la = cpu->rip;
		if (!mmu_canonical(la))
			cpu_raise(cpu, EXC_GP, 0);
	} else {
		la = seg_linear(cpu, SEG_CS, cpu->rip, 1, MMU_FETCH);
	}
	uint8_t *host;
	size_t avail;
	uint64_t pa = mmu_translate_code(cpu, la, &host, &avail);
	enum x86_mode mode = cpu->mode == 64 ? X86_MODE_64 : cpu->mode == 32 ? X86_MODE_32
									      : X86_MODE_16;
	struct code_pages *cp = cpu->code_pages;
	struct dcache_entry *de = NULL;
	size_t page = 0;
	uint32_t gen = 0;
	if (host && cp) {
		page = code_page_index(cp, host);
		if (page < cp->npages) {
			de = &cpu->dcache[dcache_index(pa)];
			gen = atomic_load_explicit(&cp->gen[page], memory_order_acquire);
			if (de->tag == dcache_tag(pa, mode) && de->gen == gen)
				return &de->insn;
		}
	}

	uint8_t buf[X86_MAX_INSN_LEN];
	if (host && avail >= X86_MAX_INSN_LEN) {
		if (de && !code_page_is_code(cp, page)) {
			/* Mark before decoding: a store from now on bumps gen. */
			cpu_mark_code_page(cpu, page);
			gen = atomic_load_explicit(&cp->gen[page], memory_order_acquire);
		}
		int r = x86_decode(scratch, host, X86_MAX_INSN_LEN, mode);
		if (r != X86_DECODE_OK)
			cpu_raise(cpu, r == X86_DECODE_GP ? EXC_GP : EXC_UD, 0);
		if (de && (pa & 0xfff) + scratch->len <= MMU_PAGE_SIZE) {
			de->insn = *scratch;
			de->gen = gen;
			de->tag = dcache_tag(pa, mode);
			return &de->insn;
		}
		return scratch;
	}
	/* Near a page end or in MMIO: fetch only the bytes the decoder asks for,
	 * so that a fault on the next page happens only if the insn needs it.
	 * Such instructions are not cached. */
	size_t have = host ? avail : 0;
	if (host)
		memcpy(buf, host, have);
	for (;;) {
		int r = x86_decode(scratch, buf, have, mode);
		if (r == X86_DECODE_OK)
			return scratch;
		if (r != X86_DECODE_NEED_MORE || scratch->len <= have || scratch->len > X86_MAX_INSN_LEN)
			cpu_raise(cpu, r == X86_DECODE_GP || r == X86_DECODE_NEED_MORE ? EXC_GP : EXC_UD, 0);
		if (cpu->mode != 64)
			seg_linear(cpu, SEG_CS, cpu->rip, scratch->len, MMU_FETCH);
		mmu_fetch(cpu, la + have, buf + have, scratch->len - have);
		have = scratch->len;
	}
}

void cpu_step(struct x86_cpu *cpu)
{
	struct x86_insn scratch;
	cpu->insn_rip = cpu->rip;
	const struct x86_insn *insn = cpu_fetch_decode(cpu, &scratch);
	bool shadow = cpu->intr_shadow;
	cpu->rip = (cpu->rip + insn->len) & (cpu->mode == 64 ? ~0ULL : 0xffffffffULL);
	exec_fn fn = exec_table[insn->op];
	if (!fn) {
		log_debug("cpu %d: no handler for %s at %#llx", cpu->vcpu ? cpu->vcpu->index : 0,
			  x86_op_name(insn->op), (unsigned long long)cpu->insn_rip);
		cpu_raise(cpu, EXC_UD, 0);
	}
	fn(cpu, insn);
	/* STI and MOV SS shadow only the one instruction after them. */
	if (shadow)
		cpu->intr_shadow = false;
	cpu->icount++;
}

/* Handles posted events; returns true when the vCPU must stop running. */
static bool cpu_events(struct x86_cpu *cpu)
{
	struct vcpu *v = cpu->vcpu;
	struct vm *vm = cpu->vm;
	for (;;) {
		atomic_store(&cpu->kicked, false);
		if (vm_stopping(vm))
			return true;
		unsigned p = atomic_load(&v->pending);
		if (p & VCPU_PENDING_TLB_FLUSH) {
			atomic_fetch_and(&v->pending, ~VCPU_PENDING_TLB_FLUSH);
			tlb_flush(cpu);
		}
		if (p & VCPU_PENDING_INIT) {
			atomic_fetch_and(&v->pending, ~VCPU_PENDING_INIT);
			cpu_do_init(cpu);
		}
		if (p & VCPU_PENDING_SIPI) {
			atomic_fetch_and(&v->pending, ~VCPU_PENDING_SIPI);
			if (cpu->wait_sipi)
				cpu_do_sipi(cpu, v->sipi_vector);
		}
		if (cpu->wait_sipi)
			goto sleep;
		if (p & VCPU_PENDING_NMI) {
			atomic_fetch_and(&v->pending, ~VCPU_PENDING_NMI);
			cpu->halted = false;
			excp_deliver_nmi(cpu);
			return false;
		}
		if (p & VCPU_PENDING_INTR) {
			bool want = v->intc.pending && v->intc.pending(v->intc.opaque);
			if (!want) {
				atomic_fetch_and(&v->pending, ~VCPU_PENDING_INTR);
				/* Re-check: the controller may have raised it meanwhile. */
				if (v->intc.pending && v->intc.pending(v->intc.opaque))
					atomic_fetch_or(&v->pending, VCPU_PENDING_INTR);
			} else if ((cpu->rflags & F_IF) && !cpu->intr_shadow) {
				int vector = v->intc.ack(v->intc.opaque);
				cpu->halted = false;
				if (vector >= 0)
					excp_deliver_interrupt(cpu, vector);
				return false;
			}
		}
		if (!cpu->halted)
			return false;
	sleep:
		tcg_vcpu_wait(cpu);
	}
}

/* Are there events worth stopping the instruction stream for? */
static inline bool cpu_should_check(struct x86_cpu *cpu)
{
	unsigned p = atomic_load_explicit(&cpu->vcpu->pending, memory_order_relaxed);
	if (atomic_load_explicit(&cpu->kicked, memory_order_relaxed))
		return true;
	/* A pending maskable interrupt only matters once IF is set. */
	if (p == VCPU_PENDING_INTR)
		return (cpu->rflags & F_IF) && !cpu->intr_shadow;
	return p != 0;
}

void cpu_run(struct x86_cpu *cpu)
{
	if (setjmp(cpu->exc_jmp)) {
		/* cpu_raise() landed here: the faulting instruction never happened. */
		cpu->rip = cpu->insn_rip;
		excp_deliver_pending(cpu);
		if (vm_stopping(cpu->vm))
			return;
	}
	for (;;) {
		if (cpu->halted || cpu->wait_sipi || cpu_should_check(cpu)) {
			if (cpu_events(cpu))
				return;
		}
		/* A batch between event checks keeps the check off the hot path. */
		for (int n = 0; n < 64; n++) {
			cpu_step(cpu);
			cpu->exc_depth = 0;
			if (cpu->halted)
				break;
		}
	}
}
