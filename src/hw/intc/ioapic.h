/*
 * The I/O APIC (82093AA-style, version 0x11, 24 pins) at IOAPIC_BASE:
 * IOREGSEL at +0x00 and IOWIN at +0x10 reach the ID, version, arbitration
 * and redirection-table registers. Each pin's redirection entry turns a
 * level change into an APIC-bus message, sent through the deliver hook.
 *
 * Lines carry logical assertion (true = asserted), as struct irq_line
 * does everywhere in kemu; the entry's polarity bit is stored for the guest
 * but not applied, because the electrical inversion it describes is already
 * folded into the line's level. All calls need vm->io_lock held.
 */
#ifndef KEMU_HW_INTC_IOAPIC_H
#define KEMU_HW_INTC_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "hw/intc/apic_msg.h"
#include "util/error.h"

#define IOAPIC_BASE 0xfec00000ULL
#define IOAPIC_SIZE 0x1000ULL
#define IOAPIC_PINS 24

struct ioapic;

/* id: the I/O APIC ID the MADT announces. */
struct ioapic *ioapic_create(struct bus *mmio, uint8_t id,
			     void (*deliver)(void *opaque, const struct apic_msg *m),
			     void *opaque, struct error *e);
void ioapic_destroy(struct ioapic *io);

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* A local APIC EOIed a level-triggered vector: clear Remote IRR and re-deliver. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
