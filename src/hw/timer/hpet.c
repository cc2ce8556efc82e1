/*
 * HPET: main counter and comparators.
 *
 * The main counter is not stored while it runs: it is counter_base plus
 * the host time since it was enabled, at HPET_HZ. Halting folds the time
 * into counter_base, which is also what the guest writes while halted.
 *
 * A comparator matches when the counter reaches it (modulo 2^32 in 32-bit
 * mode). A struct timer is armed for the next match of each timer whose
 * interrupt is enabled; a periodic comparator then advances by its period.
 * Edge-triggered timers pulse their line; level-triggered ones set their
 * General Interrupt Status bit and hold the line until the guest clears it.
 * In legacy replacement mode timers 0 and 1 use the ISA IRQ 0 and 8 lines
 * whatever their route field says, and the PIT's and RTC's inputs are cut.
 *
 * Periodic mode (timer 0 only, as on common chipsets): a comparator write
 * with Tn_VAL_SET_CNF sets the comparator itself; a plain write sets the
 * period, and also the comparator unless a VAL_SET write just did.
 */
#include "hw/timer/hpet.h"

#include <errno.h>
#include <stdlib.h>

#include "core/timer.h"

#define REG_CAP 0x000
#define REG_CONFIG 0x010
#define REG_ISR 0x020
#define REG_COUNTER 0x0f0
#define REG_TIMER0 0x100
#define TIMER_STRIDE 0x20
#define TREG_CONFIG 0x00
#define TREG_CMP 0x08
#define TREG_FSB 0x10

#define HPET_FS_PER_TICK (1000000000000000ULL / HPET_HZ)
#define HPET_NS_PER_TICK (1000000000ULL / HPET_HZ)
#define HPET_VENDOR 0x8086ULL
#define HPET_REV 0x01ULL
/* Revision, number of timers - 1, 64-bit counter, legacy replacement capable. */
#define HPET_CAP (HPET_REV | ((HPET_TIMERS - 1ULL) << 8) | (1ULL << 13) | (1ULL << 15) | \
		  (HPET_VENDOR << 16) | (HPET_FS_PER_TICK << 32))

#define CONF_ENABLE 0x1ULL
#define CONF_LEGACY 0x2ULL

#define TN_LEVEL (1ULL << 1)
#define TN_INT_ENABLE (1ULL << 2)
#define TN_PERIODIC (1ULL << 3)
#define TN_PERIODIC_CAP (1ULL << 4)
#define TN_SIZE_64_CAP (1ULL << 5)
#define TN_VAL_SET (1ULL << 6)
#define TN_32BIT (1ULL << 8)
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE_MASK (0x1fULL << TN_ROUTE_SHIFT)
#define TN_ROUTE_CAP (((1ULL << HPET_GSI_COUNT) - 1) << (32 + HPET_GSI_FIRST))
#define TN_WRITABLE (TN_LEVEL | TN_INT_ENABLE | TN_PERIODIC | TN_VAL_SET | TN_32BIT | \
		     TN_ROUTE_MASK)

/* See LAPIC_MIN_PERIOD_NS: periodic interrupts faster than this coalesce. */
#define HPET_MIN_PERIOD_NS 100000ULL
/* "Never" for a comparator a whole 64-bit wrap away: centuries. */
#define HPET_FAR_NS (1ULL << 62)

struct hpet;

struct hpet_timer {
	struct hpet *hpet;
	unsigned index;
	uint64_t config;
	uint64_t cmp;
	uint64_t period;
	bool cmp_just_set; /* a VAL_SET write set cmp: the next plain write is the period */
	const struct irq_line *asserted; /* the line held high (level mode), or NULL */
	struct timer timer;
};

struct hpet {
	struct vm *vm;
	struct hpet_lines lines;
	bool legacy_in[2]; /* the PIT's and RTC's levels, passed on outside legacy mode */
	uint64_t config;
	uint64_t isr;
	uint64_t counter_base;
	uint64_t enabled_ns;
	struct hpet_timer t[HPET_TIMERS];
	bool registered;
};

uint32_t hpet_block_id(void)
{
	return (uint32_t)HPET_CAP;
}

static bool running(const struct hpet *h)
{
	return h->config & CONF_ENABLE;
}

static uint64_t counter(const struct hpet *h, uint64_t now)
{
	if (!running(h))
		return h->counter_base;
	return h->counter_base + (now - h->enabled_ns) / HPET_NS_PER_TICK;
}

static uint64_t width_mask(const struct hpet_timer *t)
{
	return (t->config & TN_32BIT) ? 0xffffffffULL : ~0ULL;
}

/* The line the timer's interrupt goes to, or NULL if it is not one we have. */
static const struct irq_line *route_line(const struct hpet_timer *t)
{
	const struct hpet *h = t->hpet;
	if ((h->config & CONF_LEGACY) && t->index < 2)
		return t->index == 0 ? &h->lines.irq0 : &h->lines.irq8;
	unsigned gsi = (unsigned)((t->config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT);
	if (gsi < HPET_GSI_FIRST || gsi >= HPET_GSI_FIRST + HPET_GSI_COUNT)
		return NULL;
	return &h->lines.gsi[gsi - HPET_GSI_FIRST];
}

/* Makes the held level match the status bit, routing and mode. */
static void update_line(struct hpet_timer *t)
{
	struct hpet *h = t->hpet;
	bool want = (t->config & TN_LEVEL) && (t->config & TN_INT_ENABLE) &&
		    (h->isr >> t->index & 1);
	const struct irq_line *l = want ? route_line(t) : NULL;
	if (l == t->asserted)
		return;
	if (t->asserted)
		irq_line_set(t->asserted, false);
	if (l)
		irq_line_set(l, true);
	t->asserted = l;
}

/* Entering legacy mode cuts the PIT and RTC off IRQ 0 and 8; leaving reconnects them. */
static void legacy_switch(struct hpet *h)
{
	for (unsigned i = 0; i < HPET_TIMERS; i++)
		update_line(&h->t[i]);
	bool on = h->config & CONF_LEGACY;
	for (unsigned i = 0; i < 2; i++) {
		const struct irq_line *out = i ? &h->lines.irq8 : &h->lines.irq0;
		if (!on)
			irq_line_set(out, h->legacy_in[i]);
		else if (h->t[i].asserted != out)
			irq_line_set(out, false);
	}
}

static void legacy_input_set(void *opaque, unsigned isa_irq, bool level)
{
	struct hpet *h = opaque;
	unsigned i = isa_irq == 8;
	h->legacy_in[i] = level;
	if (!(h->config & CONF_LEGACY))
		irq_line_set(i ? &h->lines.irq8 : &h->lines.irq0, level);
}

struct irq_line hpet_legacy_input(struct hpet *h, unsigned isa_irq)
{
	return (struct irq_line){ .set = legacy_input_set, .opaque = h,
				  .gsi = isa_irq == 8 ? 8 : 0 };
}

/* Periodic comparators advance past every match the counter has made. */
static void catch_up(struct hpet_timer *t, uint64_t count)
{
	if (!(t->config & TN_PERIODIC) || !t->period)
		return;
	uint64_t m = width_mask(t);
	uint64_t behind = (count - t->cmp) & m;
	/* Up to half the range behind counts as passed; more is in the future. */
	if (behind > m / 2)
		return;
	uint64_t k = behind / t->period + 1;
	t->cmp = (t->cmp + k * t->period) & m;
}

static void timer_arm(struct hpet_timer *t, uint64_t now, bool just_fired)
{
	struct hpet *h = t->hpet;
	if (!running(h) || !(t->config & TN_INT_ENABLE)) {
		timer_del(&t->timer);
		return;
	}
	uint64_t count = counter(h, now);
	uint64_t m = width_mask(t);
	uint64_t delta = (t->cmp - count) & m;
	uint64_t ns;
	if (delta == 0 && !just_fired)
		ns = 0;
	else if (delta == 0 || delta > HPET_FAR_NS / HPET_NS_PER_TICK)
		ns = m == ~0ULL ? HPET_FAR_NS : (m + 1) * HPET_NS_PER_TICK; /* next wrap */
	else
		ns = delta * HPET_NS_PER_TICK;
	/* ns counts from the last whole tick; measure from there. */
	uint64_t tick_ns = h->enabled_ns + (count - h->counter_base) * HPET_NS_PER_TICK;
	uint64_t when = tick_ns + ns;
	if ((t->config & TN_PERIODIC) && t->period * HPET_NS_PER_TICK < HPET_MIN_PERIOD_NS &&
	    when < now + HPET_MIN_PERIOD_NS)
		when = now + HPET_MIN_PERIOD_NS;
	timer_mod(&t->timer, when);
}

static void timer_fire(void *opaque)
{
	struct hpet_timer *t = opaque;
	struct hpet *h = t->hpet;
	uint64_t now = clock_ns();
	if (t->config & TN_LEVEL) {
		h->isr |= 1ULL << t->index;
		update_line(t);
	} else {
		const struct irq_line *l = route_line(t);
		if (l)
			irq_line_pulse(l);
	}
	catch_up(t, counter(h, now));
	timer_arm(t, now, true);
}

static void rearm_all(struct hpet *h, uint64_t now)
{
	for (unsigned i = 0; i < HPET_TIMERS; i++) {
		catch_up(&h->t[i], counter(h, now));
		timer_arm(&h->t[i], now, false);
	}
}

static uint64_t read_reg(struct hpet *h, uint64_t reg, uint64_t now)
{
	switch (reg) {
	case REG_CAP:
		return HPET_CAP;
	case REG_CONFIG:
		return h->config;
	case REG_ISR:
		return h->isr;
	case REG_COUNTER:
		return counter(h, now);
	default:
		break;
	}
	if (reg >= REG_TIMER0 && reg < REG_TIMER0 + HPET_TIMERS * TIMER_STRIDE) {
		struct hpet_timer *t = &h->t[(reg - REG_TIMER0) / TIMER_STRIDE];
		switch ((reg - REG_TIMER0) % TIMER_STRIDE) {
		case TREG_CONFIG:
			return t->config;
		case TREG_CMP:
			catch_up(t, counter(h, now));
			return t->cmp;
		default:
			return 0; /* FSB route: not supported */
		}
	}
	return 0;
}

static void write_timer_config(struct hpet_timer *t, uint64_t v, uint64_t now)
{
	uint64_t fixed = t->config & ~TN_WRITABLE;
	v &= TN_WRITABLE;
	if (!(fixed & TN_PERIODIC_CAP))
		v &= ~TN_PERIODIC;
	t->config = fixed | v;
	if (t->config & TN_32BIT) {
		t->cmp &= 0xffffffffULL;
		t->period &= 0xffffffffULL;
	}
	/* A timer switched to edge (or disabled) lets go of its status level. */
	if (!(t->config & TN_LEVEL))
		t->hpet->isr &= ~(1ULL << t->index);
	update_line(t);
	timer_arm(t, now, false);
}

static void write_timer_cmp(struct hpet_timer *t, uint64_t v, uint64_t now)
{
	v &= width_mask(t);
	if (!(t->config & TN_PERIODIC)) {
		t->cmp = v;
	} else if (t->config & TN_VAL_SET) {
		t->cmp = v;
		t->config &= ~TN_VAL_SET;
		t->cmp_just_set = true;
	} else {
		t->period = v;
		if (!t->cmp_just_set)
			t->cmp = v;
		t->cmp_just_set = false;
	}
	timer_arm(t, now, false);
}

static void write_reg(struct hpet *h, uint64_t reg, uint64_t v, uint64_t now)
{
	switch (reg) {
	case REG_CONFIG: {
		bool was = running(h);
		uint64_t old = h->config;
		uint64_t count = counter(h, now);
		h->config = v & (CONF_ENABLE | CONF_LEGACY);
		if ((old ^ h->config) & CONF_LEGACY)
			legacy_switch(h);
		if (was && !running(h)) {
			h->counter_base = count;
		} else if (!was && running(h)) {
			h->enabled_ns = now;
		}
		rearm_all(h, now);
		return;
	}
	case REG_ISR:
		h->isr &= ~v;
		for (unsigned i = 0; i < HPET_TIMERS; i++)
			update_line(&h->t[i]);
		return;
	case REG_COUNTER:
		/* Writing a running counter is undefined by the spec: ignore it. */
		if (!running(h))
			h->counter_base = v;
		return;
	default:
		break;
	}
	if (reg >= REG_TIMER0 && reg < REG_TIMER0 + HPET_TIMERS * TIMER_STRIDE) {
		struct hpet_timer *t = &h->t[(reg - REG_TIMER0) / TIMER_STRIDE];
		switch ((reg - REG_TIMER0) % TIMER_STRIDE) {
		case TREG_CONFIG:
			write_timer_config(t, v, now);
			break;
		case TREG_CMP:
			write_timer_cmp(t, v, now);
			break;
		default:
			break;
		}
	}
}

/*
 * Registers are 64 bits; the guest may use 32-bit halves (Linux does) or
 * smaller pieces. A narrow write merges into the current value first, so
 * the register sees the full result of the write.
 */
static uint64_t hpet_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct hpet *h = opaque;
	uint64_t v = read_reg(h, offset & ~7ULL, clock_ns()) >> ((offset & 7) * 8);
	return size >= 8 ? v : v & ((1ULL << (size * 8)) - 1);
}

static void hpet_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct hpet *h = opaque;
	uint64_t now = clock_ns();
	uint64_t reg = offset & ~7ULL;
	unsigned shift = (unsigned)(offset & 7) * 8;
	if (size >= 8 && !shift) {
		write_reg(h, reg, value, now);
		return;
	}
	if (shift + size * 8 > 64)
		return; /* straddles two registers: not a PC access pattern */
	uint64_t mask = ((1ULL << (size * 8)) - 1) << shift;
	uint64_t old = reg == REG_ISR ? 0 : read_reg(h, reg, now); /* ISR is write-1-to-clear */
	if (reg == REG_TIMER0 + TREG_CMP || reg == REG_TIMER0 + TIMER_STRIDE + TREG_CMP ||
	    reg == REG_TIMER0 + 2 * TIMER_STRIDE + TREG_CMP) {
		/* In periodic mode a plain write is the period: merge into that. */
		struct hpet_timer *t = &h->t[(reg - REG_TIMER0) / TIMER_STRIDE];
		if ((t->config & TN_PERIODIC) && !(t->config & TN_VAL_SET))
			old = t->period;
	}
	write_reg(h, reg, (old & ~mask) | ((value << shift) & mask), now);
}

static const struct bus_ops hpet_ops = {
	.read = hpet_mmio_read,
	.write = hpet_mmio_write,
};

struct hpet *hpet_create(struct vm *vm, const struct hpet_lines *lines, struct error *e)
{
	struct hpet *h = calloc(1, sizeof(*h));
	if (!h) {
		error_set(e, -ENOMEM, "HPET: out of memory");
		return NULL;
	}
	h->vm = vm;
	h->lines = *lines;
	for (unsigned i = 0; i < HPET_TIMERS; i++) {
		struct hpet_timer *t = &h->t[i];
		t->hpet = h;
		t->index = i;
		t->asserted = NULL;
		t->config = TN_SIZE_64_CAP | TN_ROUTE_CAP | (i == 0 ? TN_PERIODIC_CAP : 0);
		t->cmp = ~0ULL;
		timer_init(&t->timer, &vm->timers, timer_fire, t);
	}
	int r = bus_register(&vm->mmio, HPET_BASE, HPET_SIZE, &hpet_ops, h, "hpet");
	if (r) {
		error_set(e, r, "HPET: cannot claim MMIO 0x%llx", (unsigned long long)HPET_BASE);
		hpet_destroy(h);
		return NULL;
	}
	h->registered = true;
	return h;
}

void hpet_destroy(struct hpet *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < HPET_TIMERS; i++)
		timer_del(&h->t[i].timer);
	if (h->registered)
		bus_unregister(&h->vm->mmio, HPET_BASE);
	free(h);
}
