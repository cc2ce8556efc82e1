/*
 * Interrupt lines. A device holds an irq_line and drives its level; what
 * is behind it (KVM's in-kernel IOAPIC/PIC, or the software CPU's
 * user-space interrupt controllers) is the board's business.
 */
#ifndef KEMU_CORE_IRQ_H
#define KEMU_CORE_IRQ_H

#include <stdbool.h>

struct irq_line {
	void (*set)(void *opaque, unsigned gsi, bool level);
	void *opaque;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l && l->set)
		l->set(l->opaque, l->gsi, level);
}

static inline void irq_line_pulse(const struct irq_line *l)
{
	irq_line_set(l, true);
	irq_line_set(l, false);
}

#endif
