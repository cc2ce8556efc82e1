/*
 * 8254 PIT.
 *
 * A channel's state is its reload value n and the time counting started
 * (load_ns); the count and OUT at any moment follow from the ticks elapsed
 * since then, d. Per mode (n = 65536 for a written 0):
 *
 *   0 interrupt on terminal count   count n-d (wrapping), OUT = d >= n
 *   1 hardware one-shot             as mode 0, started by a gate rising edge
 *   2 rate generator                count n-(d mod n), OUT low on its last tick
 *   3 square wave                   counts by two, OUT high the first half
 *   4 software strobe               count n-d, OUT low for the tick at d = n
 *   5 hardware strobe               as mode 4, started by a gate rising edge
 *
 * The gate (always high on channels 0 and 1, port 0x61 bit 0 on channel 2)
 * pauses modes 0 and 4 and holds modes 2 and 3 in reload until it rises.
 *
 * Channel 0 drives IRQ 0: a struct timer fires at each period boundary in
 * modes 2 and 3 and pulses the line (the PIC and I/O APIC take it as an
 * edge), or once at terminal count in the one-shot modes.
 *
 * Simplifications: BCD counting is accepted but counts in binary (no PC
 * OS uses it); a new count written in modes 2 and 3 takes effect at once
 * rather than at the end of the current period; the one-clock delay
 * between writing a count and its load is ignored.
 */
#include "hw/timer/pit.h"

#include <errno.h>
#include <stdlib.h>

#include "core/timer.h"

#define PORT61_GATE2 0x01
#define PORT61_SPEAKER 0x02
#define PORT61_WRITABLE 0x0f
#define PORT61_REFRESH 0x10
#define PORT61_OUT2 0x20
/* The DRAM refresh request toggles bit 4 every 15.085 us; old delay loops count it. */
#define REFRESH_NS 15085ULL

#define RW_LATCH 0
#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD 3

/* Periodic IRQ 0 faster than this is coalesced: see LAPIC_MIN_PERIOD_NS's reason. */
#define PIT_MIN_PERIOD_NS 100000ULL

struct pit;

struct pit_channel {
	struct pit *pit;
	uint8_t mode, rw;
	bool bcd;
	uint32_t reload;   /* 1..65536 */
	bool loaded;       /* a count has been written since the control word */
	bool triggered;    /* modes 1 and 5: the gate has started the count */
	bool gate;
	bool paused;       /* counting held by the gate; ticks frozen at paused_ticks */
	uint64_t paused_ticks;
	uint64_t load_ns;
	bool null_count;

	bool write_msb_next;
	uint8_t write_lsb;
	bool read_msb_next;
	bool count_latched;
	uint16_t latched_count;
	bool status_latched;
	uint8_t status;
};

struct pit {
	struct vm *vm;
	struct pit_channel ch[3];
	uint8_t port61;
	struct irq_line irq0;
	struct timer timer; /* channel 0's next OUT event */
	int registered;
};

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000ULL);
}

/* Rounded up, so that ns_to_ticks(ticks_to_ns(t)) == t. */
static uint64_t ticks_to_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * 1000000000ULL + PIT_HZ - 1) / PIT_HZ);
}

static bool waits_for_trigger(const struct pit_channel *c)
{
	return (c->mode == 1 || c->mode == 5) && !c->triggered;
}

static uint64_t elapsed_ticks(const struct pit_channel *c, uint64_t now)
{
	if (c->paused)
		return c->paused_ticks;
	return now > c->load_ns ? ns_to_ticks(now - c->load_ns) : 0;
}

static uint16_t channel_count(const struct pit_channel *c, uint64_t now)
{
	if (!c->loaded || waits_for_trigger(c))
		return (uint16_t)c->reload;
	uint64_t n = c->reload, d = elapsed_ticks(c, now);
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - d % n);
	case 3: {
		uint64_t p = d % n, half = (n + 1) / 2;
		return (uint16_t)(p < half ? n - 2 * p : n - 2 * (p - half));
	}
	default: /* 0, 1, 4, 5: count down through zero and wrap */
		return (uint16_t)(n - d);
	}
}

static bool channel_out(const struct pit_channel *c, uint64_t now)
{
	if (!c->loaded)
		return c->mode != 0; /* mode 0 drives OUT low from the control word on */
	if (waits_for_trigger(c))
		return true;
	uint64_t n = c->reload, d = elapsed_ticks(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return n == 1 || d % n != n - 1;
	case 3:
		return d % n < (n + 1) / 2;
	default: /* 4, 5 */
		return d != n;
	}
}

/* ---- channel 0 and IRQ 0 ---------------------------------------------------- */

static void ch0_schedule(struct pit *p, uint64_t now)
{
	struct pit_channel *c = &p->ch[0];
	timer_del(&p->timer);
	if (!c->loaded || waits_for_trigger(c) || c->paused)
		return;
	uint64_t n = c->reload, d = elapsed_ticks(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		if (d < n)
			timer_mod(&p->timer, c->load_ns + ticks_to_ns(n));
		break;
	case 4:
	case 5:
		if (d < n)
			timer_mod(&p->timer, c->load_ns + ticks_to_ns(n));
		break;
	default: { /* 2, 3: the next period boundary */
		uint64_t next = c->load_ns + ticks_to_ns((d / n + 1) * n);
		if (ticks_to_ns(n) < PIT_MIN_PERIOD_NS && next < now + PIT_MIN_PERIOD_NS)
			next = now + PIT_MIN_PERIOD_NS;
		timer_mod(&p->timer, next);
		break;
	}
	}
}

static void ch0_fire(void *opaque)
{
	struct pit *p = opaque;
	switch (p->ch[0].mode) {
	case 0:
	case 1:
		irq_line_set(&p->irq0, true); /* OUT stays high until reprogrammed */
		break;
	default:
		irq_line_pulse(&p->irq0);
		break;
	}
	ch0_schedule(p, clock_ns());
}

/* ---- programming ------------------------------------------------------------ */

static void channel_changed(struct pit_channel *c, uint64_t now)
{
	struct pit *p = c->pit;
	if (c != &p->ch[0])
		return;
	/* OUT low from the control word (mode 0) or between pulses (others). */
	irq_line_set(&p->irq0, false);
	ch0_schedule(p, now);
}

static void channel_load(struct pit_channel *c, uint16_t value, uint64_t now)
{
	c->reload = value ? value : 65536;
	c->null_count = false;
	c->loaded = true;
	c->load_ns = now;
	c->triggered = false;
	/* Modes 0, 2, 3 and 4 count only while the gate is high. */
	c->paused = !c->gate && c->mode != 1 && c->mode != 5;
	c->paused_ticks = 0;
	channel_changed(c, now);
}

static void channel_set_gate(struct pit_channel *c, bool gate, uint64_t now)
{
	bool rising = gate && !c->gate;
	if (gate == c->gate)
		return;
	c->gate = gate;
	if (!c->loaded)
		return;
	switch (c->mode) {
	case 0:
	case 4:
		if (!gate) {
			c->paused_ticks = elapsed_ticks(c, now);
			c->paused = true;
		} else if (c->paused) {
			c->load_ns = now - ticks_to_ns(c->paused_ticks);
			c->paused = false;
		}
		break;
	case 2:
	case 3:
		/* Low holds OUT high and the counter in reload; rising restarts. */
		c->paused = !gate;
		c->paused_ticks = 0;
		if (rising)
			c->load_ns = now;
		break;
	default: /* 1, 5: a rising edge (re)starts the count */
		if (rising) {
			c->triggered = true;
			c->paused = false;
			c->load_ns = now;
		}
		break;
	}
	channel_changed(c, now);
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->count_latched)
		return; /* a second latch before the first is read is ignored */
	c->latched_count = channel_count(c, now);
	c->count_latched = true;
}

static void pit_control(struct pit *p, uint8_t v, uint64_t now)
{
	unsigned sc = v >> 6, rw = (v >> 4) & 3;
	if (sc == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear latches status. */
		for (unsigned i = 0; i < 3; i++) {
			struct pit_channel *c = &p->ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				latch_count(c, now);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = (uint8_t)((channel_out(c, now) ? 0x80 : 0) |
						      (c->null_count ? 0x40 : 0) | (c->rw << 4) |
						      (c->mode << 1) | (c->bcd ? 1 : 0));
				c->status_latched = true;
			}
		}
		return;
	}
	struct pit_channel *c = &p->ch[sc];
	if (rw == RW_LATCH) {
		latch_count(c, now);
		return;
	}
	unsigned mode = (v >> 1) & 7;
	c->mode = (uint8_t)(mode >= 6 ? mode - 4 : mode); /* 6 and 7 alias 2 and 3 */
	c->rw = (uint8_t)rw;
	c->bcd = v & 1;
	c->loaded = false;
	c->triggered = false;
	c->paused = false;
	c->null_count = true;
	c->write_msb_next = c->read_msb_next = false;
	c->count_latched = c->status_latched = false;
	channel_changed(c, now);
}

static void channel_write(struct pit_channel *c, uint8_t v, uint64_t now)
{
	switch (c->rw) {
	case RW_LSB:
		channel_load(c, v, now);
		break;
	case RW_MSB:
		channel_load(c, (uint16_t)(v << 8), now);
		break;
	case RW_WORD:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			/* In mode 0 the first byte already stops the count. */
			if (c->mode == 0 && c->loaded) {
				c->loaded = false;
				channel_changed(c, now);
			}
		} else {
			c->write_msb_next = false;
			channel_load(c, (uint16_t)(c->write_lsb | v << 8), now);
		}
		break;
	default:
		break; /* no control word yet */
	}
}

static uint8_t channel_read(struct pit_channel *c, uint64_t now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t count = c->count_latched ? c->latched_count : channel_count(c, now);
	bool msb;
	bool last;
	switch (c->rw) {
	case RW_MSB:
		msb = true;
		last = true;
		break;
	case RW_WORD:
		msb = c->read_msb_next;
		c->read_msb_next = !c->read_msb_next;
		last = msb;
		break;
	default:
		msb = false;
		last = true;
		break;
	}
	if (last)
		c->count_latched = false;
	return (uint8_t)(msb ? count >> 8 : count);
}

/* ---- ports ------------------------------------------------------------------- */

static uint8_t pit_read_byte(struct pit *p, unsigned port, uint64_t now)
{
	if (port < 3)
		return channel_read(&p->ch[port], now);
	return 0xff; /* the control register is write-only */
}

static uint64_t pit_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	uint64_t now = clock_ns(), v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)(offset + i < 4 ? pit_read_byte(p, (unsigned)(offset + i), now)
					       : 0xff) << (8 * i);
	return v;
}

static void pit_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pit *p = opaque;
	uint64_t now = clock_ns();
	for (unsigned i = 0; i < size && offset + i < 4; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));
		if (offset + i == 3)
			pit_control(p, b, now);
		else
			channel_write(&p->ch[offset + i], b, now);
	}
}

static const struct bus_ops pit_ops = {
	.read = pit_io_read,
	.write = pit_io_write,
};

static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	uint64_t now = clock_ns();
	(void)offset;
	(void)size;
	uint8_t v = p->port61 & PORT61_WRITABLE;
	if ((now / REFRESH_NS) & 1)
		v |= PORT61_REFRESH;
	if (channel_out(&p->ch[2], now))
		v |= PORT61_OUT2;
	return v;
}

static void port61_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pit *p = opaque;
	(void)offset;
	(void)size;
	p->port61 = (uint8_t)value & PORT61_WRITABLE;
	channel_set_gate(&p->ch[2], value & PORT61_GATE2, clock_ns());
}

static const struct bus_ops port61_ops = {
	.read = port61_read,
	.write = port61_write,
};

struct pit *pit_create(struct vm *vm, struct irq_line irq0, struct error *e)
{
	struct pit *p = calloc(1, sizeof(*p));
	if (!p) {
		error_set(e, -ENOMEM, "8254 PIT: out of memory");
		return NULL;
	}
	p->vm = vm;
	p->irq0 = irq0;
	timer_init(&p->timer, &vm->timers, ch0_fire, p);
	for (int i = 0; i < 3; i++) {
		p->ch[i].pit = p;
		p->ch[i].gate = i != 2; /* channel 2's gate is port 0x61 bit 0, low at reset */
		p->ch[i].reload = 65536;
	}
	int r = bus_register(&vm->pio, PIT_BASE, 4, &pit_ops, p, "pit");
	if (r) {
		error_set(e, r, "8254 PIT: cannot claim ports 0x%x-0x%x", PIT_BASE, PIT_BASE + 3);
		pit_destroy(p);
		return NULL;
	}
	p->registered = 1;
	r = bus_register(&vm->pio, PIT_PORT61, 1, &port61_ops, p, "port61");
	if (r) {
		error_set(e, r, "8254 PIT: cannot claim port 0x%x", PIT_PORT61);
		pit_destroy(p);
		return NULL;
	}
	p->registered = 2;
	return p;
}

void pit_destroy(struct pit *p)
{
	if (!p)
		return;
	timer_del(&p->timer);
	if (p->registered >= 2)
		bus_unregister(&p->vm->pio, PIT_PORT61);
	if (p->registered >= 1)
		bus_unregister(&p->vm->pio, PIT_BASE);
	free(p);
}
