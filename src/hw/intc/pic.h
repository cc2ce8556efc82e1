/*
 * The PC's cascaded pair of 8259A programmable interrupt controllers:
 * master at ports 0x20/0x21 (IRQ 0-7), slave at 0xa0/0xa1 (IRQ 8-15) on
 * the master's IRQ 2, and the edge/level control registers (ELCR) at
 * 0x4d0/0x4d1. The master's INT output goes to the intr hook (the BSP's
 * LINT0 and I/O APIC pin 0); the CPU's interrupt acknowledge is pic_ack().
 * All calls need vm->io_lock held.
 */
#ifndef KEMU_HW_INTC_PIC_H
#define KEMU_HW_INTC_PIC_H

#include <stdbool.h>

#include "core/bus.h"
#include "util/error.h"

struct pic;

struct pic *pic_create(struct bus *pio, void (*intr)(void *opaque, bool level), void *opaque,
		       struct error *e);
void pic_destroy(struct pic *p);

/* Drives ISA IRQ 0-15 (2 is the cascade and is ignored). */
void pic_set_irq(struct pic *p, unsigned irq, bool level);
/* INTA: the vector of the highest-priority request, now in service. */
int pic_ack(struct pic *p);
/* The master's INT output. */
bool pic_intr(const struct pic *p);

#endif
