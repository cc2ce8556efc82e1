/*
 * The user-space interrupt controllers of a PC, for accelerators without
 * their own (accel->has_irqchip false): the 8259 pair, the I/O APIC and
 * one local APIC per vCPU, wired as on a PC:
 *
 *   8259 INT      -> BSP LINT0 (ExtINT) and I/O APIC pin 0
 *   ISA IRQ 0     -> 8259 IRQ 0 and I/O APIC pin 2 (the MADT override)
 *   ISA IRQ n     -> 8259 IRQ n and I/O APIC pin n  (n = 1, 3-15)
 *   ISA IRQ 2     -> nothing: it is the cascade, not a device line
 *   GSI 16-23     -> I/O APIC pin n (PCI)
 *   LAPIC EOI of a level vector -> I/O APIC Remote IRR
 *   PCI MSI/MSI-X writes  -> irqchip_send_msi() -> the local APICs
 *
 * irqchip_create() also fills in every vcpu's struct cpu_intc.
 */
#ifndef KEMU_HW_INTC_IRQCHIP_H
#define KEMU_HW_INTC_IRQCHIP_H

#include <stdbool.h>

#include "core/irq.h"
#include "core/vm.h"
#include "hw/intc/ioapic.h"
#include "hw/intc/lapic.h"
#include "hw/intc/pic.h"
#include "util/error.h"

struct irqchip;

struct irqchip *irqchip_create(struct vm *vm, struct error *e);
void irqchip_destroy(struct irqchip *c);

/*
 * Drives line gsi: an ISA IRQ for 0-15, an I/O APIC pin for 16-23 (others
 * are ignored). Callers hold vm->io_lock, as every device does when it
 * drives a line.
 */
void irqchip_set_irq(struct irqchip *c, unsigned gsi, bool level);
/* The same, shaped for vm->irq_sink (opaque = the struct irqchip). */
void irqchip_irq_sink(void *opaque, unsigned gsi, bool level);
/* The same as an irq_line, for devices wired directly. */
struct irq_line irqchip_irq_line(struct irqchip *c, unsigned gsi);

/*
 * A message-signalled interrupt, decoded from the x86 MSI format (the same
 * address/data a device's MSI-X table holds): address 0xFEEx_xxxx with the
 * destination in bits 19:12 and physical (bit 2 clear) or logical
 * destination mode; data with the vector in bits 7:0 and the delivery mode
 * in bits 10:8. Fixed and lowest-priority deliver the vector edge-
 * triggered (the trigger-mode bit is ignored), NMI the NMI; anything else
 * (SMI, INIT, SIPI, ExtINT, a vector below 16, an address outside the
 * APIC window) is dropped, since no device has reason to send it and the
 * guest programs these messages. Callers hold vm->io_lock.
 */
void irqchip_send_msi(struct irqchip *c, uint64_t addr, uint32_t data);
/* The same, shaped for vm->msi_sink (opaque = the struct irqchip). */
void irqchip_msi_sink(void *opaque, uint64_t addr, uint32_t data);

/* Parts, for the CPU (lapic_set_base, lapic_set_cr8) and tests. */
struct lapic *irqchip_lapic(struct irqchip *c, int cpu);
struct pic *irqchip_pic(struct irqchip *c);
struct ioapic *irqchip_ioapic(struct irqchip *c);

#endif
