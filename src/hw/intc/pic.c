/*
 * 8259A PIC pair with ELCR.
 *
 * Each chip keeps IRR (requests), ISR (in service), IMR (mask), and a
 * rotating priority: `lowest` is the IRQ with the lowest priority, the
 * one after it the highest (7 after initialisation, so IRQ 0 is highest).
 *
 * Edge-triggered inputs latch IRR on a rising edge and keep it after the
 * line falls: kemu's devices may pulse a line (raise then lower at once),
 * and the request must survive until INTA. Level-triggered inputs (ELCR)
 * make IRR follow the line, so a request that vanishes before INTA is
 * answered with the spurious IRQ 7/15 vector, as on hardware.
 *
 * The cascade is modelled as a level: the master's IRR bit 2 is the
 * slave's INT output, so nothing is lost if the slave's output stays high
 * across an acknowledge. Not modelled: special fully nested mode, the
 * ICW1 LTIM bit (the PC uses ELCR instead), buffered mode, 8080 mode.
 */
#include "hw/intc/pic.h"

#include <errno.h>
#include <stdlib.h>

#define PIC_MASTER 0x20
#define PIC_SLAVE 0xa0
#define PIC_ELCR 0x4d0
#define CASCADE_IRQ 2

#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1 0x10
#define OCW3 0x08
#define ICW4_AEOI 0x02

struct i8259 {
	struct pic *pic;
	uint8_t irr, isr, imr;
	uint8_t elcr, elcr_mask;
	uint8_t lines;  /* input levels, for edge detection */
	uint8_t base;   /* ICW2: vector of IRQ 0 on this chip */
	uint8_t lowest; /* lowest-priority IRQ */
	uint8_t icw3;
	uint8_t init_step; /* 0 operational, else the ICW expected next (2-4) */
	bool need_icw4, single, auto_eoi, rotate_aeoi, special_mask, read_isr, poll;
};

struct pic {
	struct bus *pio;
	struct i8259 chip[2];
	void (*intr)(void *opaque, bool level);
	void *opaque;
	bool out;
	int registered; /* how many of the three port ranges are ours */
};

/* 0 is the highest priority, 7 the lowest. */
static unsigned priority(const struct i8259 *c, unsigned irq)
{
	return (irq - c->lowest - 1u) & 7;
}

/* The highest-priority IRQ in bits, or -1. */
static int highest(const struct i8259 *c, uint8_t bits)
{
	for (unsigned p = 0; p < 8; p++) {
		unsigned irq = (c->lowest + 1u + p) & 7;
		if (bits & (1u << irq))
			return (int)irq;
	}
	return -1;
}

/* The request this chip would present now, or -1. */
static int chip_pending(const struct i8259 *c)
{
	uint8_t req = c->irr & ~c->imr;
	int irq = highest(c, req);
	if (irq < 0)
		return -1;
	/* In special mask mode, masked in-service levels stop blocking. */
	uint8_t in_service = c->special_mask ? c->isr & ~c->imr : c->isr;
	int cur = highest(c, in_service);
	if (cur >= 0 && priority(c, (unsigned)cur) <= priority(c, (unsigned)irq))
		return -1;
	return irq;
}

static void pic_update(struct pic *p)
{
	struct i8259 *m = &p->chip[0];
	if (chip_pending(&p->chip[1]) >= 0)
		m->irr |= 1u << CASCADE_IRQ;
	else
		m->irr &= ~(1u << CASCADE_IRQ);
	bool out = chip_pending(m) >= 0;
	if (out != p->out) {
		p->out = out;
		if (p->intr)
			p->intr(p->opaque, out);
	}
}

static void chip_set_line(struct i8259 *c, unsigned bit, bool level)
{
	uint8_t mask = (uint8_t)(1u << bit);
	if (c->elcr & mask) {
		if (level)
			c->irr |= mask;
		else
			c->irr &= ~mask;
	} else if (level && !(c->lines & mask)) {
		c->irr |= mask;
	}
	if (level)
		c->lines |= mask;
	else
		c->lines &= ~mask;
}

static void chip_ack(struct i8259 *c, unsigned irq)
{
	uint8_t mask = (uint8_t)(1u << irq);
	if (!(c->elcr & mask))
		c->irr &= ~mask;
	if (!c->auto_eoi)
		c->isr |= mask;
	else if (c->rotate_aeoi)
		c->lowest = (uint8_t)irq;
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	if (irq >= 16 || irq == CASCADE_IRQ)
		return;
	chip_set_line(&p->chip[irq >> 3], irq & 7, level);
	pic_update(p);
}

int pic_ack(struct pic *p)
{
	struct i8259 *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_pending(m);
	int vector;
	if (irq < 0) {
		vector = m->base | 7; /* spurious: ISR untouched */
	} else if (irq == CASCADE_IRQ) {
		chip_ack(m, CASCADE_IRQ);
		int sirq = chip_pending(s);
		if (sirq < 0) {
			vector = s->base | 7;
		} else {
			chip_ack(s, (unsigned)sirq);
			vector = s->base + sirq;
		}
	} else {
		chip_ack(m, (unsigned)irq);
		vector = m->base + irq;
	}
	pic_update(p);
	return vector;
}

bool pic_intr(const struct pic *p)
{
	return p->out;
}

static void chip_eoi(struct i8259 *c, int irq, bool rotate)
{
	if (irq < 0)
		return;
	c->isr &= ~(1u << irq);
	if (rotate)
		c->lowest = (uint8_t)irq;
}

static void chip_reset(struct i8259 *c)
{
	c->isr = 0;
	c->imr = 0;
	/* Edge detection restarts: a line already high must fall and rise again. */
	c->irr &= c->elcr & c->lines;
	c->lowest = 7;
	c->special_mask = c->read_isr = c->poll = false;
	c->auto_eoi = c->rotate_aeoi = false;
}

static void chip_write_cmd(struct i8259 *c, uint8_t v)
{
	if (v & ICW1) {
		chip_reset(c);
		c->need_icw4 = v & ICW1_IC4;
		c->single = v & ICW1_SNGL;
		c->init_step = 2;
		return;
	}
	if (v & OCW3) {
		if (v & 0x04)
			c->poll = true;
		if (v & 0x02)
			c->read_isr = v & 0x01;
		if (v & 0x40)
			c->special_mask = v & 0x20;
		return;
	}
	/* OCW2: R, SL, EOI in bits 7-5; level in bits 2-0. */
	unsigned level = v & 7;
	switch (v >> 5) {
	case 0: /* clear rotate in auto-EOI mode */
		c->rotate_aeoi = false;
		break;
	case 1: /* non-specific EOI */
		chip_eoi(c, highest(c, c->isr), false);
		break;
	case 3: /* specific EOI */
		chip_eoi(c, (int)level, false);
		break;
	case 4: /* set rotate in auto-EOI mode */
		c->rotate_aeoi = true;
		break;
	case 5: /* rotate on non-specific EOI */
		chip_eoi(c, highest(c, c->isr), true);
		break;
	case 6: /* set priority */
		c->lowest = (uint8_t)level;
		break;
	case 7: /* rotate on specific EOI */
		chip_eoi(c, (int)level, true);
		break;
	default: /* 2: no operation */
		break;
	}
}

static void chip_write_data(struct i8259 *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:
		c->base = v & 0xf8;
		c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = v;
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = v & ICW4_AEOI;
		c->init_step = 0;
		break;
	default:
		c->imr = v;
		break;
	}
}

static uint8_t chip_read(struct i8259 *c, unsigned port)
{
	if (port)
		return c->imr;
	if (c->poll) {
		/* Poll mode: an acknowledge by read, the answer is 0x80 | IRQ. */
		c->poll = false;
		int irq = chip_pending(c);
		if (irq < 0)
			return 0;
		chip_ack(c, (unsigned)irq);
		return (uint8_t)(0x80 | irq);
	}
	return c->read_isr ? c->isr : c->irr;
}

static uint64_t chip_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8259 *c = opaque;
	uint64_t v = 0;
	/* A word access reaches both ports, low byte first. */
	for (unsigned i = 0; i < size && offset + i < 2; i++)
		v |= (uint64_t)chip_read(c, (unsigned)(offset + i)) << (8 * i);
	pic_update(c->pic);
	return v;
}

static void chip_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct i8259 *c = opaque;
	for (unsigned i = 0; i < size && offset + i < 2; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));
		if (offset + i == 0)
			chip_write_cmd(c, b);
		else
			chip_write_data(c, b);
	}
	pic_update(c->pic);
}

static const struct bus_ops chip_ops = {
	.read = chip_io_read,
	.write = chip_io_write,
};

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pic *p = opaque;
	uint64_t v = 0;
	for (unsigned i = 0; i < size && offset + i < 2; i++)
		v |= (uint64_t)p->chip[offset + i].elcr << (8 * i);
	return v;
}

static void elcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pic *p = opaque;
	for (unsigned i = 0; i < size && offset + i < 2; i++) {
		struct i8259 *c = &p->chip[offset + i];
		uint8_t old = c->elcr;
		c->elcr = (uint8_t)(value >> (8 * i)) & c->elcr_mask;
		/* Inputs turning level-triggered: IRR now follows the line. */
		uint8_t to_level = c->elcr & ~old;
		c->irr = (uint8_t)((c->irr & ~to_level) | (c->lines & to_level));
	}
	pic_update(p);
}

static const struct bus_ops elcr_ops = {
	.read = elcr_read,
	.write = elcr_write,
};

struct pic *pic_create(struct bus *pio, void (*intr)(void *opaque, bool level), void *opaque,
		       struct error *e)
{
	struct pic *p = calloc(1, sizeof(*p));
	if (!p) {
		error_set(e, -ENOMEM, "8259 PIC: out of memory");
		return NULL;
	}
	p->pio = pio;
	p->intr = intr;
	p->opaque = opaque;
	for (int i = 0; i < 2; i++) {
		struct i8259 *c = &p->chip[i];
		c->pic = p;
		c->lowest = 7;
		/*
		 * The state PC firmware leaves behind (vectors 0x08 and 0x70),
		 * all inputs masked but the cascade: kemu boots without firmware.
		 */
		c->base = i ? 0x70 : 0x08;
		c->imr = i ? 0xff : (uint8_t)~(1u << CASCADE_IRQ);
	}
	/* IRQs 0, 1, 2, 8 and 13 are edge-only on a PC. */
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;

	static const struct {
		uint16_t port;
		const struct bus_ops *ops;
		const char *name;
	} ranges[3] = {
		{ PIC_MASTER, &chip_ops, "pic-master" },
		{ PIC_SLAVE, &chip_ops, "pic-slave" },
		{ PIC_ELCR, &elcr_ops, "elcr" },
	};
	void *opaques[3] = { &p->chip[0], &p->chip[1], p };
	for (int i = 0; i < 3; i++) {
		int r = bus_register(pio, ranges[i].port, 2, ranges[i].ops, opaques[i],
				     ranges[i].name);
		if (r) {
			error_set(e, r, "8259 PIC: cannot claim ports 0x%x-0x%x",
				  ranges[i].port, ranges[i].port + 1);
			pic_destroy(p);
			return NULL;
		}
		p->registered++;
	}
	return p;
}

void pic_destroy(struct pic *p)
{
	if (!p)
		return;
	static const uint16_t ports[3] = { PIC_MASTER, PIC_SLAVE, PIC_ELCR };
	for (int i = 0; i < p->registered; i++)
		bus_unregister(p->pio, ports[i]);
	free(p);
}
