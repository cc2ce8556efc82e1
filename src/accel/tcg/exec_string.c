/*
 * String instructions: MOVS CMPS STOS LODS SCAS INS OUTS, with REP,
 * REPE and REPNE. Registered from exec_ctrl_register.
 *
 * Addressing: rSI/rDI/rCX are used and updated at the address size
 * (16-bit wraps, 32-bit zero-extends in 64-bit mode). The source segment
 * is DS or the override; the destination is always ES.
 *
 * REP executes inside one handler call but for a bounded amount of work
 * (STR_BUDGET): when the budget runs out, rip is set back to the
 * instruction, which simply runs again after the run loop has looked at
 * interrupts. Each element (or chunk, below) commits rCX/rSI/rDI, so a
 * fault part-way leaves a consistent, restartable state, as on hardware.
 *
 * Fast path: forward REP MOVS and REP STOS (memcpy/memset/clear_page in a
 * Linux guest) move whole runs of elements that lie on the current source
 * and destination pages with one host memmove/memset. The host pointers
 * come from the TLB, else from a page walk; MMIO pages, segment limits and
 * anything else unusual take the per-element path. A chunk starts at the
 * current element, so a fault it raises is the fault that element would
 * raise. Overlapping forward copies keep the element-by-element result
 * (pattern replication), not memmove's.
 */
#include "accel/tcg/exec_int.h"

#include "core/mem.h"

/* Work units per handler call: one per element, bytes/16 per chunk. */
#define STR_BUDGET 4096

static inline bool str_rep(const struct x86_insn *i)
{
	return i->prefixes & (X86_PFX_REP | X86_PFX_REPNE);
}

static inline int64_t str_delta(const struct x86_cpu *cpu, unsigned size)
{
	return (cpu->rflags & F_DF) ? -(int64_t)size : (int64_t)size;
}

static inline void str_advance(struct x86_cpu *cpu, unsigned r, unsigned asz, int64_t delta)
{
	reg_write_sized(cpu, r, asz, cpu->gpr[r] + (uint64_t)delta);
}

/* ---- one element of each instruction ---------------------------------------- */

static void movs_one(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t am = exec_mask(asz);
	int64_t d = str_delta(cpu, size);
	uint64_t v = seg_load_val(cpu, i->seg, cpu->gpr[R_RSI] & am, size);
	seg_store_val(cpu, SEG_ES, cpu->gpr[R_RDI] & am, size, v);
	str_advance(cpu, R_RSI, asz, d);
	str_advance(cpu, R_RDI, asz, d);
}

static void cmps_one(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t am = exec_mask(asz);
	int64_t d = str_delta(cpu, size);
	uint64_t a = seg_load_val(cpu, i->seg, cpu->gpr[R_RSI] & am, size);
	uint64_t b = seg_load_val(cpu, SEG_ES, cpu->gpr[R_RDI] & am, size);
	str_advance(cpu, R_RSI, asz, d);
	str_advance(cpu, R_RDI, asz, d);
	cc_set(cpu, CC_SUB, size, a, b, (a - b) & exec_mask(size));
}

static void stos_one(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, asz = i->addrsize;
	seg_store_val(cpu, SEG_ES, cpu->gpr[R_RDI] & exec_mask(asz), size, cpu->gpr[R_RAX]);
	str_advance(cpu, R_RDI, asz, str_delta(cpu, size));
}

static void lods_one(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t v = seg_load_val(cpu, i->seg, cpu->gpr[R_RSI] & exec_mask(asz), size);
	reg_write_sized(cpu, R_RAX, size, v);
	str_advance(cpu, R_RSI, asz, str_delta(cpu, size));
}

static void scas_one(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t a = cpu->gpr[R_RAX] & exec_mask(size);
	uint64_t b = seg_load_val(cpu, SEG_ES, cpu->gpr[R_RDI] & exec_mask(asz), size);
	str_advance(cpu, R_RDI, asz, str_delta(cpu, size));
	cc_set(cpu, CC_SUB, size, a, b, (a - b) & exec_mask(size));
}

/* The destination is translated first: a #PF must not swallow port data. */
static void ins_one(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t la = seg_linear(cpu, SEG_ES, cpu->gpr[R_RDI] & exec_mask(asz), size, MMU_WRITE);
	mmu_probe_write(cpu, la, size);
	uint64_t v = io_in(cpu, cpu->gpr[R_RDX] & 0xffff, size);
	mem_store(cpu, la, size, v);
	str_advance(cpu, R_RDI, asz, str_delta(cpu, size));
}

static void outs_one(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t v = seg_load_val(cpu, i->seg, cpu->gpr[R_RSI] & exec_mask(asz), size);
	io_out(cpu, cpu->gpr[R_RDX] & 0xffff, size, v);
	str_advance(cpu, R_RSI, asz, str_delta(cpu, size));
}

/* ---- REP driver --------------------------------------------------------------- */

enum str_cond { STR_ALWAYS, STR_ZF }; /* CMPS/SCAS stop on the ZF condition */

/*
 * Runs one() until rCX is zero, the REPE/REPNE condition fails or the
 * budget is spent (then the instruction restarts).
 */
EXEC_INLINE void str_rep_loop(struct x86_cpu *cpu, const struct x86_insn *i,
			      void (*one)(struct x86_cpu *, const struct x86_insn *),
			      enum str_cond cond)
{
	unsigned asz = i->addrsize;
	uint64_t am = exec_mask(asz);
	bool repe = i->prefixes & X86_PFX_REP;
	for (unsigned n = 0;; n++) {
		if (!(cpu->gpr[R_RCX] & am))
			return;
		if (n == STR_BUDGET) {
			cpu->rip = cpu->insn_rip;
			return;
		}
		one(cpu, i);
		reg_write_sized(cpu, R_RCX, asz, cpu->gpr[R_RCX] - 1);
		if (cond == STR_ZF && cpu_cond(cpu, 4) != repe) /* 4: E/Z */
			return;
	}
}

/* ---- fast path: page chunks ----------------------------------------------------- */

/*
 * seg:off for n bytes, when the segment is the plain case (64-bit mode,
 * or a usable expand-up writable data segment with the range inside the
 * limit). Anything else returns false and the element path decides.
 */
static inline bool str_linear(struct x86_cpu *cpu, int seg, uint64_t off, uint64_t n,
			      uint64_t *la)
{
	const struct x86_seg *s = &cpu->seg[seg];
	if (cpu->mode == 64) {
		uint64_t l = off + (seg >= SEG_FS ? s->base : 0);
		if (!mmu_canonical(l) || !mmu_canonical(l + n - 1))
			return false;
		*la = l;
		return true;
	}
	if ((s->type & 0xe) != 0x2 || s->unusable || off + n - 1 > s->limit)
		return false;
	*la = (uint32_t)(s->base + off);
	return true;
}

/*
 * Host address of la for a read or write, from the TLB or a page walk
 * (raising #PF as the access would). NULL when the page is not RAM.
 * NB: when the translator caches code it must make this path see its
 * write-protected pages (today: tag_write invalid, which sends us to the
 * walk; the walk must then also refuse them).
 */
static uint8_t *str_host(struct x86_cpu *cpu, uint64_t la, bool write)
{
	unsigned user = mmu_user(cpu);
	const struct tlb_entry *e = &cpu->tlb[user][tlb_index(la)];
	uint64_t page = la & MMU_PAGE_MASK, tag = write ? e->tag_write : e->tag_read;
	if (mmu_likely(tag == (page | TLB_VALID)))
		return (uint8_t *)(uintptr_t)(la + e->addend);
	if (tag == (page | TLB_MMIO))
		return NULL;
	/* Through the TLB fill, so stores to cached code invalidate it. */
	return mmu_host_ptr(cpu, la, write ? MMU_WRITE : MMU_READ, user);
}

/*
 * Elements from the current position up to the first page end on either
 * side, the address-size wrap, or cnt. 0 if not even one whole element.
 */
static uint64_t str_chunk_elems(uint64_t la1, uint64_t la2, uint64_t off1, uint64_t off2,
				unsigned asz, unsigned size, uint64_t cnt)
{
	uint64_t room = MMU_PAGE_SIZE - (la1 & 0xfff);
	if (MMU_PAGE_SIZE - (la2 & 0xfff) < room)
		room = MMU_PAGE_SIZE - (la2 & 0xfff);
	if (asz < 8) {
		uint64_t am = exec_mask(asz);
		if (am - off1 + 1 < room)
			room = am - off1 + 1;
		if (am - off2 + 1 < room)
			room = am - off2 + 1;
	}
	uint64_t n = room / size;
	return n < cnt ? n : cnt;
}

/* Forward element-order copy: memmove unless dst overlaps src from above. */
static void copy_forward(uint8_t *dst, const uint8_t *src, size_t bytes, unsigned size)
{
	if (dst <= src || dst >= src + bytes) {
		memmove(dst, src, bytes);
		return;
	}
	for (size_t k = 0; k < bytes; k += size) {
		uint64_t t;
		memcpy(&t, src + k, size);
		memcpy(dst + k, &t, size);
	}
}

/* One chunk of a forward REP MOVS; returns the elements moved (0: use one element). */
static uint64_t movs_chunk(struct x86_cpu *cpu, const struct x86_insn *i, uint64_t cnt)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t am = exec_mask(asz);
	uint64_t si = cpu->gpr[R_RSI] & am, di = cpu->gpr[R_RDI] & am, sla, dla;
	if (!str_linear(cpu, i->seg, si, size, &sla) || !str_linear(cpu, SEG_ES, di, size, &dla))
		return 0;
	uint64_t n = str_chunk_elems(sla, dla, si, di, asz, size, cnt);
	if (!n)
		return 0;
	uint64_t bytes = n * size;
	if (!str_linear(cpu, i->seg, si, bytes, &sla) || !str_linear(cpu, SEG_ES, di, bytes, &dla))
		return 0;
	uint8_t *src = str_host(cpu, sla, false);
	if (!src)
		return 0;
	uint8_t *dst = str_host(cpu, dla, true);
	if (!dst)
		return 0;
	copy_forward(dst, src, bytes, size);
	reg_write_sized(cpu, R_RSI, asz, si + bytes);
	reg_write_sized(cpu, R_RDI, asz, di + bytes);
	reg_write_sized(cpu, R_RCX, asz, cpu->gpr[R_RCX] - n);
	return n;
}

static uint64_t stos_chunk(struct x86_cpu *cpu, const struct x86_insn *i, uint64_t cnt)
{
	unsigned size = i->opsize, asz = i->addrsize;
	uint64_t am = exec_mask(asz);
	uint64_t di = cpu->gpr[R_RDI] & am, dla;
	if (!str_linear(cpu, SEG_ES, di, size, &dla))
		return 0;
	uint64_t n = str_chunk_elems(dla, dla, di, di, asz, size, cnt);
	if (!n)
		return 0;
	uint64_t bytes = n * size;
	if (!str_linear(cpu, SEG_ES, di, bytes, &dla))
		return 0;
	uint8_t *dst = str_host(cpu, dla, true);
	if (!dst)
		return 0;
	uint64_t v = cpu->gpr[R_RAX] & exec_mask(size);
	/* A value made of one repeated byte (zero above all) is a memset. */
	if (size == 1 || v == (v & 0xff) * (exec_mask(size) / 0xff)) {
		memset(dst, (int)(v & 0xff), bytes);
	} else {
		for (uint64_t k = 0; k < bytes; k += size)
			memcpy(dst + k, &v, size);
	}
	reg_write_sized(cpu, R_RDI, asz, di + bytes);
	reg_write_sized(cpu, R_RCX, asz, cpu->gpr[R_RCX] - n);
	return n;
}

/* REP MOVS/STOS: chunks while DF=0, single elements otherwise or when a chunk declines. */
EXEC_INLINE void str_rep_fast(struct x86_cpu *cpu, const struct x86_insn *i,
			      uint64_t (*chunk)(struct x86_cpu *, const struct x86_insn *, uint64_t),
			      void (*one)(struct x86_cpu *, const struct x86_insn *))
{
	unsigned asz = i->addrsize;
	uint64_t am = exec_mask(asz);
	bool fwd = !(cpu->rflags & F_DF);
	for (uint64_t work = 0;;) {
		uint64_t cnt = cpu->gpr[R_RCX] & am;
		if (!cnt)
			return;
		if (work >= STR_BUDGET) {
			cpu->rip = cpu->insn_rip;
			return;
		}
		uint64_t n = fwd ? chunk(cpu, i, cnt) : 0;
		if (n) {
			work += 1 + n * i->opsize / 16;
			continue;
		}
		one(cpu, i);
		reg_write_sized(cpu, R_RCX, asz, cpu->gpr[R_RCX] - 1);
		work++;
	}
}

/* ---- handlers ------------------------------------------------------------------- */

static void exec_movs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!str_rep(i))
		movs_one(cpu, i);
	else
		str_rep_fast(cpu, i, movs_chunk, movs_one);
}

static void exec_stos(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!str_rep(i))
		stos_one(cpu, i);
	else
		str_rep_fast(cpu, i, stos_chunk, stos_one);
}

static void exec_cmps(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!str_rep(i))
		cmps_one(cpu, i);
	else
		str_rep_loop(cpu, i, cmps_one, STR_ZF);
}

static void exec_scas(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!str_rep(i))
		scas_one(cpu, i);
	else
		str_rep_loop(cpu, i, scas_one, STR_ZF);
}

static void exec_lods(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!str_rep(i))
		lods_one(cpu, i);
	else
		str_rep_loop(cpu, i, lods_one, STR_ALWAYS);
}

/* The I/O permission check is made once, before the first element. */
static void exec_ins(struct x86_cpu *cpu, const struct x86_insn *i)
{
	io_check(cpu, cpu->gpr[R_RDX] & 0xffff, i->opsize);
	if (!str_rep(i))
		ins_one(cpu, i);
	else
		str_rep_loop(cpu, i, ins_one, STR_ALWAYS);
}

static void exec_outs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	io_check(cpu, cpu->gpr[R_RDX] & 0xffff, i->opsize);
	if (!str_rep(i))
		outs_one(cpu, i);
	else
		str_rep_loop(cpu, i, outs_one, STR_ALWAYS);
}

void exec_string_register(exec_fn *t)
{
	t[OP_MOVS] = exec_movs;
	t[OP_CMPS] = exec_cmps;
	t[OP_STOS] = exec_stos;
	t[OP_LODS] = exec_lods;
	t[OP_SCAS] = exec_scas;
	t[OP_INS] = exec_ins;
	t[OP_OUTS] = exec_outs;
}
