/*
 * Local APIC (xAPIC) emulation for the software CPU.
 *
 * Registers live at 16-byte strides in the 4 KiB window; only the low
 * dword of each is meaningful. The MMIO handler serves whichever vCPU is
 * executing (current_vcpu), so one bus region serves them all, as the
 * window is per-CPU on hardware.
 *
 * Interrupt flow: an accepted fixed interrupt sets its IRR bit (and TMR
 * bit if level-triggered); the CPU sees it through lapic_intc_pending()
 * when its priority class beats the PPR, and lapic_intc_ack() moves it to
 * the ISR. An EOI clears the highest ISR bit and, for level-triggered
 * vectors, tells the I/O APIC so it can clear Remote IRR.
 *
 * The timer holds no ticking state: the current count is derived from the
 * time the initial count was written, so reading it is exact and costs
 * nothing when the guest does not look. A struct timer fires at the next
 * expiry only to raise the interrupt.
 */
#include "hw/intc/lapic.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"

/* Register offsets >> 4. */
enum {
	REG_ID = 0x02,
	REG_VERSION = 0x03,
	REG_TPR = 0x08,
	REG_APR = 0x09,
	REG_PPR = 0x0a,
	REG_EOI = 0x0b,
	REG_RRD = 0x0c,
	REG_LDR = 0x0d,
	REG_DFR = 0x0e,
	REG_SVR = 0x0f,
	REG_ISR = 0x10, /* .. 0x17 */
	REG_TMR = 0x18, /* .. 0x1f */
	REG_IRR = 0x20, /* .. 0x27 */
	REG_ESR = 0x28,
	REG_ICR_LO = 0x30,
	REG_ICR_HI = 0x31,
	REG_LVT = 0x32, /* .. 0x37: timer, thermal, perf, LINT0, LINT1, error */
	REG_TIMER_INIT = 0x38,
	REG_TIMER_CUR = 0x39,
	REG_TIMER_DIV = 0x3e,
};

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

/* Version 0x14 (integrated xAPIC), max LVT index 5 (six entries: no CMCI). */
#define LAPIC_VERSION 0x00050014u

#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_LEVEL (1u << 15) /* trigger mode of LINT0/LINT1 */
#define LVT_DM(v) (((v) >> 8) & 7)

/* What the guest may write in each LVT: delivery status and Remote IRR are
 * read-only, TSC-deadline mode (timer bit 18) is not advertised. */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x300ff,
	[LVT_THERMAL] = 0x107ff,
	[LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,
	[LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
};

#define SVR_ENABLE (1u << 8)
#define SVR_WRITABLE 0x3ffu /* vector, enable, focus check (ignored) */

#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)

#define ICR_DELIVERY_STATUS (1u << 12)
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_LO_WRITABLE 0x000cdfffu

/*
 * A guest programming a periodic timer of a few nanoseconds would have the
 * main loop do nothing but fire it. The count the guest reads stays exact;
 * only how often the host wakes to raise the (coalescing) IRR bit is capped.
 */
#define LAPIC_MIN_PERIOD_NS 100000ULL

struct lapic {
	struct apic_bus *bus;
	struct vcpu *cpu;
	int index;
	uint8_t id;
	uint64_t base_msr;

	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr;         /* what the guest reads, latched by writing ESR */
	uint32_t esr_pending; /* errors since the last latch */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];

	uint32_t timer_initial;
	uint32_t timer_divide_conf;
	uint64_t timer_start_ns; /* when the count was (re)loaded, divided time origin */
	struct timer timer;

	bool extint_line; /* the 8259's INTR, wired to LINT0 */
	bool extint_req;  /* an ExtINT message from the I/O APIC awaits INTA */
	atomic_bool ready; /* lapic_intc_pending()'s answer, see lapic.h */
};

struct apic_bus {
	struct vm *vm;
	int n;
	struct lapic *cpus;
	void (*eoi)(void *opaque, uint8_t vector);
	void *eoi_opaque;
	int (*extint_ack)(void *opaque);
	void *extint_opaque;
	bool registered;
};

/* 256-bit vector sets. */
static void vset(uint32_t *a, unsigned v)
{
	a[v >> 5] |= 1u << (v & 31);
}

static void vclear(uint32_t *a, unsigned v)
{
	a[v >> 5] &= ~(1u << (v & 31));
}

static bool vtest(const uint32_t *a, unsigned v)
{
	return a[v >> 5] & (1u << (v & 31));
}

/* Highest set vector, or -1. */
static int vhighest(const uint32_t *a)
{
	for (int i = 7; i >= 0; i--)
		if (a[i])
			return i * 32 + 31 - __builtin_clz(a[i]);
	return -1;
}

static bool hw_enabled(const struct lapic *l)
{
	return l->base_msr & LAPIC_BASE_ENABLE;
}

static bool sw_enabled(const struct lapic *l)
{
	return hw_enabled(l) && (l->svr & SVR_ENABLE);
}

static uint32_t ppr(const struct lapic *l)
{
	int isrv = vhighest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

/* The highest IRR vector whose class beats the PPR, or -1. */
static int deliverable(const struct lapic *l)
{
	int v = vhighest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

/*
 * The 8259 reaches the CPU through LINT0 in virtual-wire mode, or directly
 * when the APIC is globally disabled (the CPU then behaves as if it had no
 * APIC and INTR is its interrupt pin).
 */
static bool extint_candidate(const struct lapic *l)
{
	if (l->extint_req)
		return true;
	if (!l->extint_line)
		return false;
	uint32_t lint0 = l->lvt[LVT_LINT0];
	return !hw_enabled(l) || (!(lint0 & LVT_MASKED) && LVT_DM(lint0) == APIC_DM_EXTINT);
}

/* Recomputes the lock-free ready flag; kicks the CPU when something new appeared. */
static void lapic_update(struct lapic *l, bool new_request)
{
	bool r = extint_candidate(l) || (sw_enabled(l) && deliverable(l) >= 0);
	bool was = atomic_exchange(&l->ready, r);
	if (r && (!was || new_request))
		vcpu_notify(l->cpu, VCPU_PENDING_INTR);
}

static void accept_fixed(struct lapic *l, unsigned vector, bool level);

static void lapic_error(struct lapic *l, uint32_t bits)
{
	l->esr_pending |= bits;
	uint32_t lvt = l->lvt[LVT_ERROR];
	/* An illegal error vector would only report itself again: drop it. */
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		accept_fixed(l, lvt & 0xff, false);
}

/*
 * Vectors 0-15 are the CPU's exceptions: delivering one as an interrupt is
 * an illegal-vector error, not a delivery. A software-disabled APIC drops
 * fixed interrupts.
 */
static void accept_fixed(struct lapic *l, unsigned vector, bool level)
{
	vector &= 0xff;
	if (vector < 16) {
		lapic_error(l, ESR_RECV_ILLEGAL_VECTOR);
		return;
	}
	if (!sw_enabled(l))
		return;
	vset(l->irr, vector);
	if (level)
		vset(l->tmr, vector);
	else
		vclear(l->tmr, vector);
	lapic_update(l, true);
}

/* A local interrupt source (LVT entry) fired. */
static void lvt_fire(struct lapic *l, int which)
{
	uint32_t lvt = l->lvt[which];
	if (lvt & LVT_MASKED)
		return;
	/* The timer and error entries have no delivery mode: always fixed. */
	unsigned dm = (which == LVT_TIMER || which == LVT_ERROR) ? APIC_DM_FIXED : LVT_DM(lvt);
	switch (dm) {
	case APIC_DM_FIXED:
		accept_fixed(l, lvt & 0xff,
			     (which == LVT_LINT0 || which == LVT_LINT1) && (lvt & LVT_LEVEL));
		break;
	case APIC_DM_NMI:
		vcpu_notify(l->cpu, VCPU_PENDING_NMI);
		break;
	case APIC_DM_INIT:
		lapic_reset(l);
		vcpu_notify(l->cpu, VCPU_PENDING_INIT);
		break;
	default: /* SMI is not modelled; ExtINT is handled as a level in extint_candidate */
		break;
	}
}

/* ---- timer ---------------------------------------------------------------- */

static unsigned timer_divisor(const struct lapic *l)
{
	unsigned c = ((l->timer_divide_conf >> 1) & 4) | (l->timer_divide_conf & 3);
	return c == 7 ? 1 : 2u << c;
}

static bool timer_periodic(const struct lapic *l)
{
	return l->lvt[LVT_TIMER] & LVT_TIMER_PERIODIC;
}

/* Nanoseconds per count: the 1 GHz bus clock through the divider. */
static uint64_t timer_ns_per_count(const struct lapic *l)
{
	return (uint64_t)timer_divisor(l) * (1000000000ULL / LAPIC_TIMER_HZ);
}

static uint32_t timer_current(const struct lapic *l, uint64_t now)
{
	if (!l->timer_initial)
		return 0;
	uint64_t counts = (now - l->timer_start_ns) / timer_ns_per_count(l);
	if (timer_periodic(l))
		return l->timer_initial - (uint32_t)(counts % l->timer_initial);
	return counts >= l->timer_initial ? 0 : l->timer_initial - (uint32_t)counts;
}

/* Arms the host timer for the next expiry after now, if there is one. */
static void timer_rearm(struct lapic *l, uint64_t now)
{
	if (!l->timer_initial) {
		timer_del(&l->timer);
		return;
	}
	uint64_t period = (uint64_t)l->timer_initial * timer_ns_per_count(l);
	uint64_t elapsed = now - l->timer_start_ns;
	if (!timer_periodic(l)) {
		if (elapsed >= period)
			timer_del(&l->timer);
		else
			timer_mod(&l->timer, l->timer_start_ns + period);
		return;
	}
	uint64_t next = l->timer_start_ns + (elapsed / period + 1) * period;
	if (period < LAPIC_MIN_PERIOD_NS && next < now + LAPIC_MIN_PERIOD_NS)
		next = now + LAPIC_MIN_PERIOD_NS;
	timer_mod(&l->timer, next);
}

static void lapic_timer_fire(void *opaque)
{
	struct lapic *l = opaque;
	lvt_fire(l, LVT_TIMER);
	if (timer_periodic(l))
		timer_rearm(l, clock_ns());
}

/* A mode or divider change keeps the current count and continues from it. */
static void timer_rebase(struct lapic *l, uint64_t now, uint32_t cur)
{
	if (!l->timer_initial || !cur) {
		timer_rearm(l, now);
		return;
	}
	uint64_t done = (uint64_t)(l->timer_initial - cur) * timer_ns_per_count(l);
	l->timer_start_ns = now - done;
	timer_rearm(l, now);
}

/* ---- state ---------------------------------------------------------------- */

void lapic_reset(struct lapic *l)
{
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (int i = 0; i < LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	/*
	 * kemu boots without firmware, which on a PC would leave the BSP in
	 * virtual-wire mode: do that here so the 8259 reaches CPU 0 until the
	 * OS programs its APIC.
	 */
	if (l->base_msr & LAPIC_BASE_BSP)
		l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->timer_initial = 0;
	l->timer_divide_conf = 0;
	l->timer_start_ns = 0;
	timer_del(&l->timer);
	l->extint_req = false;
	lapic_update(l, false);
}

static void lapic_eoi(struct lapic *l)
{
	int v = vhighest(l->isr);
	if (v < 0)
		return;
	vclear(l->isr, (unsigned)v);
	if (vtest(l->tmr, (unsigned)v)) {
		vclear(l->tmr, (unsigned)v);
		if (l->bus->eoi)
			l->bus->eoi(l->bus->eoi_opaque, (uint8_t)v);
	}
	lapic_update(l, false);
}

static bool dest_match(const struct lapic *l, const struct apic_msg *m)
{
	switch (m->shorthand) {
	case APIC_SH_SELF:
		return l->index == m->source;
	case APIC_SH_ALL:
		return true;
	case APIC_SH_ALL_BUT_SELF:
		return l->index != m->source;
	default:
		break;
	}
	if (m->dest == 0xff)
		return true;
	if (!m->logical)
		return l->id == m->dest;
	uint8_t ld = (uint8_t)(l->ldr >> 24);
	if ((l->dfr >> 28) == 0xf) /* flat: one bit per CPU */
		return ld & m->dest;
	/* cluster: high nibble selects the cluster, low nibble is a mask in it */
	return (ld >> 4) == (m->dest >> 4) && (ld & m->dest & 0xf);
}

static void deliver_one(struct lapic *l, const struct apic_msg *m)
{
	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		accept_fixed(l, m->vector, m->level);
		break;
	case APIC_DM_NMI:
		vcpu_notify(l->cpu, VCPU_PENDING_NMI);
		break;
	case APIC_DM_INIT:
		/* Level de-assert INIT only resynchronises arbitration IDs. */
		if (m->level && !m->assert)
			break;
		lapic_reset(l);
		vcpu_notify(l->cpu, VCPU_PENDING_INIT);
		break;
	case APIC_DM_STARTUP:
		l->cpu->sipi_vector = m->vector;
		vcpu_notify(l->cpu, VCPU_PENDING_SIPI);
		break;
	case APIC_DM_EXTINT:
		l->extint_req = true;
		lapic_update(l, true);
		break;
	default: /* SMI and remote read are not modelled */
		break;
	}
}

void apic_bus_send(struct apic_bus *b, const struct apic_msg *m)
{
	for (int i = 0; i < b->n; i++) {
		struct lapic *l = &b->cpus[i];
		if (!hw_enabled(l) || !dest_match(l, m))
			continue;
		deliver_one(l, m);
		/* Lowest priority goes to one CPU: the first that matches. */
		if (m->delivery == APIC_DM_LOWEST)
			return;
	}
}

static void send_icr(struct lapic *l)
{
	uint32_t lo = l->icr_lo;
	struct apic_msg m = {
		.vector = (uint8_t)lo,
		.delivery = (uint8_t)((lo >> 8) & 7),
		.logical = lo & ICR_LOGICAL,
		.assert = lo & ICR_ASSERT,
		.level = lo & ICR_LEVEL,
		.shorthand = (uint8_t)((lo >> 18) & 3),
		.dest = (uint8_t)(l->icr_hi >> 24),
		.source = l->index,
	};
	if ((m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST) && m.vector < 16) {
		lapic_error(l, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	/* Only fixed interrupts may target self. */
	if (m.shorthand == APIC_SH_SELF && m.delivery != APIC_DM_FIXED)
		return;
	/* An IPI's trigger mode does not make the vector level-triggered at the
	 * target: nothing would broadcast its EOI anywhere useful. */
	if (m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST)
		m.level = false;
	apic_bus_send(l->bus, &m);
}

/* ---- registers ------------------------------------------------------------ */

static uint32_t lapic_read_reg(struct lapic *l, unsigned reg)
{
	if (reg >= REG_ISR && reg < REG_ISR + 8)
		return l->isr[reg - REG_ISR];
	if (reg >= REG_TMR && reg < REG_TMR + 8)
		return l->tmr[reg - REG_TMR];
	if (reg >= REG_IRR && reg < REG_IRR + 8)
		return l->irr[reg - REG_IRR];
	if (reg >= REG_LVT && reg < REG_LVT + LVT_COUNT)
		return l->lvt[reg - REG_LVT];
	switch (reg) {
	case REG_ID:
		return (uint32_t)l->id << 24;
	case REG_VERSION:
		return LAPIC_VERSION;
	case REG_TPR:
		return l->tpr;
	case REG_APR:
	case REG_EOI:
	case REG_RRD:
		return 0;
	case REG_PPR:
		return ppr(l);
	case REG_LDR:
		return l->ldr;
	case REG_DFR:
		return l->dfr;
	case REG_SVR:
		return l->svr;
	case REG_ESR:
		return l->esr;
	case REG_ICR_LO:
		return l->icr_lo; /* delivery status: always idle */
	case REG_ICR_HI:
		return l->icr_hi;
	case REG_TIMER_INIT:
		return l->timer_initial;
	case REG_TIMER_CUR:
		return timer_current(l, clock_ns());
	case REG_TIMER_DIV:
		return l->timer_divide_conf;
	default:
		lapic_error(l, ESR_ILLEGAL_REGISTER);
		return 0;
	}
}

static void write_lvt(struct lapic *l, int which, uint32_t v)
{
	uint64_t now = clock_ns();
	uint32_t cur = which == LVT_TIMER ? timer_current(l, now) : 0;
	v &= lvt_writable[which];
	/* A software-disabled APIC keeps every LVT masked. */
	if (!(l->svr & SVR_ENABLE))
		v |= LVT_MASKED;
	bool mode_change = which == LVT_TIMER && ((v ^ l->lvt[which]) & LVT_TIMER_PERIODIC);
	l->lvt[which] = v;
	if (mode_change)
		timer_rebase(l, now, cur);
	if (which == LVT_LINT0)
		lapic_update(l, true);
}

static void lapic_write_reg(struct lapic *l, unsigned reg, uint32_t v)
{
	if (reg >= REG_LVT && reg < REG_LVT + LVT_COUNT) {
		write_lvt(l, (int)(reg - REG_LVT), v);
		return;
	}
	if (reg >= REG_ISR && reg < REG_IRR + 8)
		return; /* read-only */
	switch (reg) {
	case REG_ID:
		l->id = (uint8_t)(v >> 24);
		break;
	case REG_VERSION:
	case REG_APR:
	case REG_PPR:
	case REG_RRD:
	case REG_TIMER_CUR:
		break; /* read-only */
	case REG_TPR:
		l->tpr = v & 0xff;
		lapic_update(l, true);
		break;
	case REG_EOI:
		lapic_eoi(l);
		break;
	case REG_LDR:
		l->ldr = v & 0xff000000u;
		break;
	case REG_DFR:
		l->dfr = v | 0x0fffffffu;
		break;
	case REG_SVR:
		l->svr = v & SVR_WRITABLE;
		if (!(l->svr & SVR_ENABLE))
			for (int i = 0; i < LVT_COUNT; i++)
				l->lvt[i] |= LVT_MASKED;
		lapic_update(l, true);
		break;
	case REG_ESR:
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case REG_ICR_LO:
		l->icr_lo = v & ICR_LO_WRITABLE;
		send_icr(l);
		break;
	case REG_ICR_HI:
		l->icr_hi = v & 0xff000000u;
		break;
	case REG_TIMER_INIT: {
		uint64_t now = clock_ns();
		l->timer_initial = v;
		l->timer_start_ns = now;
		timer_rearm(l, now);
		break;
	}
	case REG_TIMER_DIV: {
		uint64_t now = clock_ns();
		uint32_t cur = timer_current(l, now);
		l->timer_divide_conf = v & 0xb;
		timer_rebase(l, now, cur);
		break;
	}
	default:
		lapic_error(l, ESR_ILLEGAL_REGISTER);
		break;
	}
}

static struct lapic *lapic_current(struct apic_bus *b)
{
	struct vcpu *c = current_vcpu;
	if (c && c->vm == b->vm && c->index >= 0 && c->index < b->n)
		return &b->cpus[c->index];
	return &b->cpus[0];
}

static uint64_t lapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct lapic *l = lapic_current(opaque);
	unsigned in = offset & 0xf;
	/* Bytes 4-15 of each 16-byte slot are reserved and read as zero. */
	if (in >= 4)
		return 0;
	uint64_t v = lapic_read_reg(l, (unsigned)(offset >> 4)) >> (in * 8);
	return size >= 4 ? v : v & ((1ULL << (size * 8)) - 1);
}

static void lapic_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct lapic *l = lapic_current(opaque);
	/*
	 * Registers are 32 bits wide and accessed only as aligned dwords; a
	 * narrower write would trigger side effects (ICR, EOI) with a value the
	 * guest never meant, so drop it. An 8-byte write covers reserved space
	 * above the dword and is taken as its low half.
	 */
	if ((offset & 0xf) || size < 4)
		return;
	lapic_write_reg(l, (unsigned)(offset >> 4), (uint32_t)value);
}

static const struct bus_ops lapic_mmio_ops = {
	.read = lapic_mmio_read,
	.write = lapic_mmio_write,
};

/* ---- CPU interface ---------------------------------------------------------- */

bool lapic_intc_pending(void *opaque)
{
	struct lapic *l = opaque;
	return atomic_load_explicit(&l->ready, memory_order_acquire);
}

int lapic_intc_ack(void *opaque)
{
	struct lapic *l = opaque;
	pthread_mutex_t *lock = &l->bus->vm->io_lock;
	int v;
	pthread_mutex_lock(lock);
	if (extint_candidate(l)) {
		l->extint_req = false;
		v = l->bus->extint_ack ? l->bus->extint_ack(l->bus->extint_opaque) : 0xff;
	} else if (sw_enabled(l) && (v = deliverable(l)) >= 0) {
		vclear(l->irr, (unsigned)v);
		vset(l->isr, (unsigned)v);
	} else {
		v = (int)(l->svr & 0xff);
	}
	lapic_update(l, false);
	pthread_mutex_unlock(lock);
	return v;
}

uint64_t lapic_get_base(struct lapic *l)
{
	pthread_mutex_lock(&l->bus->vm->io_lock);
	uint64_t v = l->base_msr;
	pthread_mutex_unlock(&l->bus->vm->io_lock);
	return v;
}

int lapic_set_base(struct lapic *l, uint64_t value)
{
	/* Bits 0-7, 9 and 10 (x2APIC enable) and those above 51 are reserved here. */
	if (value & (0xffULL | (1ULL << 9) | (1ULL << 10) | (0xfffULL << 52)))
		return -EINVAL;
	pthread_mutex_lock(&l->bus->vm->io_lock);
	bool was = hw_enabled(l);
	/* The BSP flag is set by reset, not by software. */
	l->base_msr = (value & ~LAPIC_BASE_BSP) | (l->base_msr & LAPIC_BASE_BSP);
	if (was && !hw_enabled(l))
		lapic_reset(l); /* re-enabling starts from the power-up state */
	lapic_update(l, true);
	pthread_mutex_unlock(&l->bus->vm->io_lock);
	return 0;
}

uint64_t lapic_get_cr8(struct lapic *l)
{
	pthread_mutex_lock(&l->bus->vm->io_lock);
	uint64_t v = (l->tpr >> 4) & 0xf;
	pthread_mutex_unlock(&l->bus->vm->io_lock);
	return v;
}

void lapic_set_cr8(struct lapic *l, uint64_t cr8)
{
	pthread_mutex_lock(&l->bus->vm->io_lock);
	l->tpr = (uint32_t)(cr8 & 0xf) << 4;
	lapic_update(l, true);
	pthread_mutex_unlock(&l->bus->vm->io_lock);
}

void lapic_set_extint_line(struct lapic *l, bool level)
{
	if (l->extint_line == level)
		return;
	l->extint_line = level;
	lapic_update(l, level);
}

/* ---- the bus ---------------------------------------------------------------- */

struct apic_bus *apic_bus_create(struct vm *vm, struct error *e)
{
	/* xAPIC IDs are 8 bits and 0xff is the broadcast address. */
	if (vm->ncpus < 1 || vm->ncpus > 255) {
		error_set(e, -EINVAL, "local APIC: %d CPUs do not fit xAPIC IDs (1-255)",
			  vm->ncpus);
		return NULL;
	}
	struct apic_bus *b = calloc(1, sizeof(*b));
	if (!b) {
		error_set(e, -ENOMEM, "local APIC: out of memory");
		return NULL;
	}
	b->vm = vm;
	b->n = vm->ncpus;
	b->cpus = calloc((size_t)b->n, sizeof(*b->cpus));
	if (!b->cpus) {
		free(b);
		error_set(e, -ENOMEM, "local APIC: out of memory");
		return NULL;
	}
	for (int i = 0; i < b->n; i++) {
		struct lapic *l = &b->cpus[i];
		l->bus = b;
		l->cpu = &vm->vcpus[i];
		l->index = i;
		l->id = (uint8_t)i;
		l->base_msr = LAPIC_BASE | LAPIC_BASE_ENABLE | (i == 0 ? LAPIC_BASE_BSP : 0);
		atomic_init(&l->ready, false);
		timer_init(&l->timer, &vm->timers, lapic_timer_fire, l);
		lapic_reset(l);
	}
	int r = bus_register(&vm->mmio, LAPIC_BASE, LAPIC_SIZE, &lapic_mmio_ops, b, "lapic");
	if (r) {
		error_set(e, r, "local APIC: cannot claim MMIO 0x%llx",
			  (unsigned long long)LAPIC_BASE);
		apic_bus_destroy(b);
		return NULL;
	}
	b->registered = true;
	return b;
}

void apic_bus_destroy(struct apic_bus *b)
{
	if (!b)
		return;
	if (b->registered)
		bus_unregister(&b->vm->mmio, LAPIC_BASE);
	for (int i = 0; i < b->n; i++)
		timer_del(&b->cpus[i].timer);
	free(b->cpus);
	free(b);
}

struct lapic *apic_bus_lapic(struct apic_bus *b, int cpu)
{
	return cpu >= 0 && cpu < b->n ? &b->cpus[cpu] : NULL;
}

void apic_bus_set_eoi_hook(struct apic_bus *b, void (*eoi)(void *opaque, uint8_t vector),
			   void *opaque)
{
	b->eoi = eoi;
	b->eoi_opaque = opaque;
}

void apic_bus_set_extint_ack(struct apic_bus *b, int (*ack)(void *opaque), void *opaque)
{
	b->extint_ack = ack;
	b->extint_opaque = opaque;
}
