/*
 * The software CPU's run loop: fetch, decode, dispatch, and between
 * blocks the events other threads post (interrupts, INIT/SIPI, TLB
 * shootdowns, stop requests). A halted vCPU sleeps on its condition
 * variable until one of those arrives.
 *
 * Instructions run from decoded blocks (codecache.h): CS:RIP is
 * translated through the TLB once per block, the block found by physical
 * address and decode mode (or decoded now), and its instructions run
 * back to back: per instruction only insn_rip and rip are set and the
 * handler resolved at decode time is called. A block is left early when
 * rip is not the next instruction's address after a handler (taken
 * branch, REP restart, INT n) or a store changed its page; faults longjmp
 * to cpu_run with insn_rip naming the faulting instruction. Instructions
 * that cannot be cached (crossing a page end, outside RAM) are decoded
 * each time they run. cpu_step() runs exactly one instruction with the
 * same machinery, for tests and the differential harness.
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

/* Operations without a handler raise #UD; noted for whoever adds one. */
static void cpu_exec_missing(struct x86_cpu *cpu, const struct x86_insn *insn)
{
	log_debug("cpu %d: no handler for %s at %#llx", cpu->vcpu ? cpu->vcpu->index : 0,
		  x86_op_name(insn->op), (unsigned long long)cpu->insn_rip);
	cpu_raise(cpu, EXC_UD, 0);
}

static inline tb_exec_fn cpu_handler(const struct x86_insn *insn)
{
	exec_fn fn = exec_data_specialize(insn);
	if (!fn)
		fn = exec_int_specialize(insn);
	if (!fn)
		fn = exec_ctrl_specialize(insn);
	if (!fn)
		fn = exec_table[insn->op];
	return fn ? fn : cpu_exec_missing;
}

/*
 * Does the block end after insn? Unconditional transfers end it (what
 * follows is rarely their successor), and so does everything that changes
 * how later instructions are fetched or decoded, or when interrupts may
 * arrive: mode, CS, control registers and MSRs, descriptor tables, IF and
 * TF, the STI/MOV SS/POP SS shadow, serialising instructions, HLT. All of
 * those must be followed by a fresh lookup and an event check. Conditional
 * branches do not end a block: taken, they leave it (rip is not the next
 * instruction's); not taken, execution goes on in it.
 *
 * CLI does not end a block (disabling interrupts never makes one due).
 * STI and POPF (which may set IF) do, except in blocks the JIT runs: its
 * code leaves the block after them when an event is posted (jit.c).
 */
static bool tb_ends_block(const struct x86_insn *i, bool jit)
{
	if (i->flags & X86_INSN_PRIV)
		return true;
	switch (i->op) {
	case OP_JMP: case OP_CALL: case OP_RET: case OP_JMPF: case OP_CALLF:
	case OP_RETF: case OP_IRET: case OP_INT3: case OP_INT: case OP_INTO:
	case OP_INT1: case OP_SYSCALL: case OP_SYSRET: case OP_SYSENTER:
	case OP_SYSEXIT: case OP_UD0: case OP_UD1: case OP_UD2: case OP_INVALID:
	case OP_HLT: case OP_MONITOR: case OP_MWAIT: case OP_PAUSE: case OP_RSM:
	case OP_MOV_TO_CR: case OP_MOV_TO_DR: case OP_MOV_TO_SEG: case OP_LSS:
	case OP_LGDT: case OP_LIDT: case OP_LLDT: case OP_LTR: case OP_LMSW:
	case OP_CLTS: case OP_INVLPG: case OP_INVD: case OP_WBINVD: case OP_XSETBV:
	case OP_WRMSR: case OP_CPUID: case OP_SWAPGS: case OP_XRSTOR: case OP_FXRSTOR:
		return true;
	case OP_POPF: case OP_STI:
		return !jit;
	case OP_POP:
		return i->opnd[0] >= X86_O_ES && i->opnd[0] <= X86_O_GS;
	default:
		return false;
	}
}

/* Where the instruction at CS:RIP comes from. */
struct cpu_fetch {
	uint64_t la, pa;
	uint8_t *host;  /* NULL: not RAM */
	size_t avail;   /* bytes from host to the end of the page */
	enum x86_mode mode;
};

/* Translates CS:RIP for execution (#GP, #PF as the fetch would raise them). */
static inline __attribute__((always_inline)) void
cpu_fetch_translate(struct x86_cpu *cpu, struct cpu_fetch *f)
{
	if (cpu->mode == 64) {
		f->la = cpu->rip;
		if (!mmu_canonical(f->la))
			cpu_raise(cpu, EXC_GP, 0);
		f->mode = X86_MODE_64;
	} else {
		f->la = seg_linear(cpu, SEG_CS, cpu->rip, 1, MMU_FETCH);
		f->mode = cpu->mode == 32 ? X86_MODE_32 : X86_MODE_16;
	}
	f->pa = mmu_translate_code(cpu, f->la, &f->host, &f->avail);
}

/*
 * The physical page and host address of the virtual page after f's, from
 * the code TLB as it stands (no walk, no fault); false when it has no
 * entry there or the page is not RAM.
 */
static bool cpu_next_code_page(struct x86_cpu *cpu, const struct cpu_fetch *f, uint64_t *pa,
			       uint8_t **host)
{
	uint64_t la2 = (f->la & MMU_PAGE_MASK) + MMU_PAGE_SIZE;
	const struct tlb_entry *te = &cpu->tlb[cpu->cpl == 3][tlb_index(la2)];
	if (te->tag_code != (la2 | TLB_VALID))
		return false;
	*pa = te->paddr & MMU_PAGE_MASK;
	*host = (uint8_t *)(uintptr_t)(la2 + te->addend);
	return true;
}

/*
 * A 64-bit instruction at f that crosses the page end, decoded into b as a
 * block of its own when the code TLB maps the next page to RAM now (else
 * the uncached path runs it, fetching the tail and filling the TLB, and a
 * later visit builds it). The block depends on both pages' generations
 * and on the next page's mapping (tb_cross_ok). False when not possible.
 */
static bool tb_build_cross(struct x86_cpu *cpu, const struct cpu_fetch *f, struct tb *b)
{
	struct code_pages *cp = cpu->code_pages;
	uint64_t pa2;
	uint8_t *host2;
	if (f->mode != X86_MODE_64 || f->avail >= X86_MAX_INSN_LEN ||
	    !cpu_next_code_page(cpu, f, &pa2, &host2))
		return false;
	size_t page2 = code_page_index(cp, host2);
	if (page2 >= cp->npages)
		return false;
	if (!code_page_is_code(cp, page2))
		cpu_mark_code_page(cpu, page2);
	uint32_t gen2 = atomic_load_explicit(&cp->gen[page2], memory_order_acquire);
	uint8_t buf[X86_MAX_INSN_LEN];
	memcpy(buf, f->host, f->avail);
	memcpy(buf + f->avail, host2, X86_MAX_INSN_LEN - f->avail);
	struct tb_insn *ti = &b->insn[0];
	if (x86_decode(&ti->insn, buf, X86_MAX_INSN_LEN, f->mode) != X86_DECODE_OK ||
	    ti->insn.len <= f->avail)
		return false;
	ti->fn = cpu_handler(&ti->insn);
	b->genp2 = &cp->gen[page2];
	b->gen2 = gen2;
	b->pa2 = pa2;
	return true;
}

/* Does the next virtual page still map where cross block b's tail came from? */
static inline bool tb_cross_ok(struct x86_cpu *cpu, const struct cpu_fetch *f, const struct tb *b)
{
	uint64_t pa2;
	uint8_t *host2;
	return !b->genp2 || (cpu_next_code_page(cpu, f, &pa2, &host2) && pa2 == b->pa2);
}

/*
 * Decodes a block at f: instructions up to one that ends a block, the page
 * end or TB_MAX_INSNS. An instruction crossing the page end is a block of
 * its own (tb_build_cross) when it comes first, else it ends the block.
 * Bytes that do not decode end the block too: only the first instruction's
 * faults are real, and those are left to the uncached path. NULL when not
 * even the first instruction can be cached.
 */
static struct tb *tb_build(struct x86_cpu *cpu, const struct cpu_fetch *f, uint64_t tag)
{
	struct code_pages *cp = cpu->code_pages;
	size_t page = code_page_index(cp, f->host);
	if (page >= cp->npages)
		return NULL;
	/* Mark before decoding: a store from now on bumps gen. */
	if (!code_page_is_code(cp, page))
		cpu_mark_code_page(cpu, page);
	uint32_t gen = atomic_load_explicit(&cp->gen[page], memory_order_acquire);

	struct tb_cache *tc = cpu->tbc;
	struct tb *b = tb_alloc(tc);
	const bool jit = tc->jit.base && f->mode == X86_MODE_64;
	size_t off = 0;
	unsigned n = 0;
	b->genp2 = NULL;
	while (n < TB_MAX_INSNS && off < f->avail) {
		size_t left = f->avail - off;
		struct tb_insn *ti = &b->insn[n];
		if (x86_decode(&ti->insn, f->host + off, left < X86_MAX_INSN_LEN ? left : X86_MAX_INSN_LEN,
			       f->mode) != X86_DECODE_OK)
			break;
		ti->fn = cpu_handler(&ti->insn);
		off += ti->insn.len;
		n++;
		if (tb_ends_block(&ti->insn, jit))
			break;
	}
	if (!n) {
		if (!tb_build_cross(cpu, f, b))
			return NULL;
		n = 1;
		off = b->insn[0].insn.len;
	}
	b->tag = tag;
	b->genp = &cp->gen[page];
	b->next = NULL;
	b->gen = gen;
	b->ninsn = (uint16_t)n;
	b->bytes = (uint16_t)off;
	b->ended = tb_ends_block(&b->insn[n - 1].insn, jit);
	b->jit = NULL;
	b->jit_chain = NULL;
	tb_commit(tc, b);
	if (f->mode == X86_MODE_64)
		b->jit = jit_emit_block(&tc->jit, b);
	return b;
}

/*
 * The valid block starting at f, found or built; NULL when the instruction
 * there cannot be cached (not RAM, crosses the page end, does not decode,
 * or there is no cache).
 */
static inline struct tb *cpu_find_block(struct x86_cpu *cpu, const struct cpu_fetch *f)
{
	struct tb_cache *tc = cpu->tbc;
	if (!f->host || !tc || !cpu->code_pages)
		return NULL;
	uint64_t tag = tb_tag(f->pa, f->mode, cpu->cpl == 3);
	struct tb *last = tc->last;
	struct tb *b = last ? last->next : NULL;
	if (!tb_valid(b, tag) || !tb_cross_ok(cpu, f, b)) {
		b = tb_hash_lookup(tc, tag);
		if (!tb_valid(b, tag) || !tb_cross_ok(cpu, f, b)) {
			if (b && b->tag == tag)
				tc->stale++;
			b = tb_build(cpu, f, tag);
			if (!b) {
				tc->last = NULL;
				return NULL;
			}
			last = tc->last; /* building may have flushed the cache */
		}
		if (last)
			last->next = b;
	}
	tc->last = b;
	return b;
}

/*
 * Decodes the instruction at f without the cache. Near a page end or in
 * MMIO, fetches only the bytes the decoder asks for, so that a fault on
 * the next page happens only if the instruction needs it.
 */
static void cpu_decode_uncached(struct x86_cpu *cpu, const struct cpu_fetch *f,
				struct x86_insn *insn)
{
	if (f->host && f->avail >= X86_MAX_INSN_LEN) {
		int r = x86_decode(insn, f->host, X86_MAX_INSN_LEN, f->mode);
		if (r != X86_DECODE_OK)
			cpu_raise(cpu, r == X86_DECODE_GP ? EXC_GP : EXC_UD, 0);
		return;
	}
	uint8_t buf[X86_MAX_INSN_LEN];
	size_t have = f->host ? f->avail : 0;
	if (f->host)
		memcpy(buf, f->host, have);
	for (;;) {
		int r = x86_decode(insn, buf, have, f->mode);
		if (r == X86_DECODE_OK)
			return;
		if (r != X86_DECODE_NEED_MORE || insn->len <= have || insn->len > X86_MAX_INSN_LEN)
			cpu_raise(cpu, r == X86_DECODE_GP || r == X86_DECODE_NEED_MORE ? EXC_GP : EXC_UD, 0);
		if (cpu->mode != 64)
			seg_linear(cpu, SEG_CS, cpu->rip, insn->len, MMU_FETCH);
		mmu_fetch(cpu, f->la + have, buf + have, insn->len - have);
		have = insn->len;
	}
}

/* Runs one instruction whose insn_rip is set, with the interrupt shadow rule. */
static inline void cpu_exec_one(struct x86_cpu *cpu, tb_exec_fn fn, const struct x86_insn *insn)
{
	bool shadow = cpu->intr_shadow;
	cpu->rip = (cpu->rip + insn->len) & (cpu->mode == 64 ? ~0ULL : 0xffffffffULL);
	fn(cpu, insn);
	/* STI and MOV SS shadow only the one instruction after them. */
	if (shadow)
		cpu->intr_shadow = false;
	cpu->icount++;
}

void cpu_step(struct x86_cpu *cpu)
{
	/* A chain link is only ever made by the next cpu_exec_block. */
	if (cpu->tbc)
		cpu->tbc->link_slot = NULL;
	cpu->insn_rip = cpu->rip;
	struct cpu_fetch f;
	cpu_fetch_translate(cpu, &f);
	struct tb *b = cpu_find_block(cpu, &f);
	if (b) {
		cpu_exec_one(cpu, b->insn[0].fn, &b->insn[0].insn);
		return;
	}
	struct x86_insn insn;
	cpu_decode_uncached(cpu, &f, &insn);
	cpu_exec_one(cpu, cpu_handler(&insn), &insn);
}

/* One instruction of a block at rip; returns the address of the next one. */
static inline __attribute__((always_inline)) uint64_t
tb_exec_insn(struct x86_cpu *cpu, const struct tb_insn *ti, uint64_t rip, uint64_t mask)
{
	uint64_t next = (rip + ti->insn.len) & mask;
	cpu->insn_rip = rip;
	cpu->rip = next;
	ti->fn(cpu, &ti->insn);
	return next;
}

/*
 * Runs the block at CS:RIP, or one instruction when there is none. Leaves
 * the block after the instruction that moved rip elsewhere than its
 * successor (a taken branch, a REP restart, an event delivered by INT n),
 * and after one that stored into the block's page (the generation moved).
 * A fault longjmps out to cpu_run with insn_rip naming the instruction.
 */
void cpu_exec_block(struct x86_cpu *cpu)
{
	/* Taken (and cleared) first, so that no path leaves it stale. */
	uint8_t *link_slot = NULL;
	const struct tb *link_from = NULL;
	uint64_t link_flushes = 0;
	if (cpu->tbc && cpu->tbc->link_slot) {
		link_slot = cpu->tbc->link_slot;
		link_from = cpu->tbc->link_from;
		link_flushes = cpu->tbc->flushes;
		cpu->tbc->link_slot = NULL;
	}
	cpu->insn_rip = cpu->rip;
	struct cpu_fetch f;
	cpu_fetch_translate(cpu, &f);
	struct tb *b = cpu_find_block(cpu, &f);
	if (!b) {
		struct x86_insn insn;
		cpu_decode_uncached(cpu, &f, &insn);
		cpu_exec_one(cpu, cpu_handler(&insn), &insn);
		return;
	}
	uint64_t rip = cpu->rip;
	/* The code TLB entry rip was fetched through: what trampolines and
	 * the jump cache check later. */
	const unsigned user = cpu->cpl == 3;
	const struct tlb_entry *te = &cpu->tlb[user][tlb_index(rip)];
	const bool te_ok = te->tag_code == ((rip & MMU_PAGE_MASK) | TLB_VALID);
	if (link_slot && cpu->tbc->flushes == link_flushes && b->jit_chain &&
	    (link_from->tag >> 56) == (b->tag >> 56)) {
		/* The previous block left through an unlinked chain jump to
		 * here. Same page, mode, CPL and generation make it safe to
		 * link; another page (same mode and CPL) goes through a
		 * trampoline that checks the mapping and that page. */
		if ((link_from->tag >> 12) == (b->tag >> 12)) {
			if (link_from->genp == b->genp && link_from->gen == b->gen)
				jit_link(link_slot, b->jit_chain);
		} else {
			void *tramp = NULL;
			if (te_ok)
				tramp = jit_emit_trampoline(&cpu->tbc->jit, b, te->addend, link_slot,
							    link_from);
			if (tramp)
				jit_link(link_slot, tramp);
		}
	}
	if (b->jit && !cpu->intr_shadow) {
		/* Indirect branches find it from now on (jit.h's dispatcher). */
		if (b->jit_chain && te_ok)
			cpu->tbc->jc[user][jc_index(rip)] = (struct jc_entry){
				.va = rip, .code = b->jit_chain, .addend = te->addend,
				.genp = b->genp, .gen = b->gen,
			};
		cpu->icount += b->jit(cpu, rip);
		return;
	}
	if (f.mode != X86_MODE_64 && rip + b->bytes - 1 > cpu->seg[SEG_CS].limit) {
		/* Some instruction lies past the CS limit: one at a time, so
		 * the #GP comes from the one that crosses it. */
		cpu_exec_one(cpu, b->insn[0].fn, &b->insn[0].insn);
		return;
	}
	const uint64_t mask = f.mode == X86_MODE_64 ? ~0ULL : 0xffffffffULL;
	const struct tb_insn *ti = b->insn, *end = ti + b->ninsn;
	const _Atomic uint32_t *genp = b->genp;
	const uint32_t gen = b->gen;
	/* icount is statistics: counted per block, so a fault mid-block
	 * leaves that block's retired instructions uncounted. */
	if (cpu->intr_shadow) {
		/* Instructions that start a shadow end their block, so only a
		 * block's first instruction can be in one. */
		uint64_t next = tb_exec_insn(cpu, ti, rip, mask);
		cpu->intr_shadow = false;
		/* A block built for the JIT may hold STI/POPF mid-block, which
		 * only its code follows with an event check: the JIT runs the
		 * rest. */
		if (++ti == end || cpu->rip != next || b->jit ||
		    atomic_load_explicit(genp, memory_order_relaxed) != gen)
			goto out;
		rip = next;
	}
	for (;;) {
		uint64_t next = tb_exec_insn(cpu, ti, rip, mask);
		if (++ti == end || cpu->rip != next ||
		    atomic_load_explicit(genp, memory_order_relaxed) != gen)
			break;
		rip = next;
	}
out:
	cpu->icount += (uint64_t)(ti - b->insn);
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
				/* Taken: the request stays posted only if the
				 * controller has another, so that a handler running
				 * with IF clear is not interrupted by a stale one
				 * (the JIT leaves its code while one is posted). */
				atomic_fetch_and(&v->pending, ~VCPU_PENDING_INTR);
				if (v->intc.pending(v->intc.opaque))
					atomic_fetch_or(&v->pending, VCPU_PENDING_INTR);
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
			/* An event may move rip: no chain link across it. */
			if (cpu->tbc)
				cpu->tbc->link_slot = NULL;
			if (cpu_events(cpu))
				return;
		}
		/* Blocks are short (TB_MAX_INSNS), so checking between them
		 * bounds the interrupt latency. */
		cpu_exec_block(cpu);
		cpu->exc_depth = 0;
		if (__builtin_expect(cpu->icount >= cpu->icount_stop, 0)) {
			/* A fixed amount of guest work, for measuring the host's. */
			log_info("cpu %d: stopping after %llu instructions (KEMU_STOP_AFTER)",
				 cpu->vcpu->index, (unsigned long long)cpu->icount);
			vm_request_stop(cpu->vm, VM_STOP_SHUTDOWN, 0);
			return;
		}
	}
}
