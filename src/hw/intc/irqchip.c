/*
 * Wiring of the user-space interrupt controllers (see irqchip.h for the
 * map). The controllers do not know each other; the hooks here connect
 * them, which keeps each testable on its own.
 */
#include "hw/intc/irqchip.h"

#include <errno.h>
#include <stdlib.h>

/* The PC's ISA IRQ to I/O APIC pin map; -1 = not connected. */
static const int isa_ioapic_pin[16] = {
	2, 1, -1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
};

#define IOAPIC_EXTINT_PIN 0
#define PCI_GSI_FIRST 16

struct irqchip {
	struct vm *vm;
	struct pic *pic;
	struct ioapic *ioapic;
	struct apic_bus *apics;
};

static void pic_output(void *opaque, bool level)
{
	struct irqchip *c = opaque;
	lapic_set_extint_line(apic_bus_lapic(c->apics, 0), level);
	if (c->ioapic)
		ioapic_set_irq(c->ioapic, IOAPIC_EXTINT_PIN, level);
}

static int extint_ack(void *opaque)
{
	struct irqchip *c = opaque;
	return pic_ack(c->pic);
}

static void lapic_eoi(void *opaque, uint8_t vector)
{
	struct irqchip *c = opaque;
	ioapic_eoi(c->ioapic, vector);
}

static void ioapic_deliver(void *opaque, const struct apic_msg *m)
{
	struct irqchip *c = opaque;
	apic_bus_send(c->apics, m);
}

void irqchip_set_irq(struct irqchip *c, unsigned gsi, bool level)
{
	if (gsi < 16) {
		pic_set_irq(c->pic, gsi, level);
		if (isa_ioapic_pin[gsi] >= 0)
			ioapic_set_irq(c->ioapic, (unsigned)isa_ioapic_pin[gsi], level);
	} else if (gsi >= PCI_GSI_FIRST && gsi < IOAPIC_PINS) {
		ioapic_set_irq(c->ioapic, gsi, level);
	}
}

void irqchip_irq_sink(void *opaque, unsigned gsi, bool level)
{
	irqchip_set_irq(opaque, gsi, level);
}

struct irq_line irqchip_irq_line(struct irqchip *c, unsigned gsi)
{
	return (struct irq_line){ .set = irqchip_irq_sink, .opaque = c, .gsi = gsi };
}

/* x86 MSI address and data fields (SDM vol. 3, "Message Signalled Interrupts"). */
#define MSI_ADDR_BASE_MASK 0xfff00000ULL
#define MSI_ADDR_BASE 0xfee00000ULL
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_DEST_LOGICAL (1u << 2)
#define MSI_DATA_DELIVERY_SHIFT 8

void irqchip_send_msi(struct irqchip *c, uint64_t addr, uint32_t data)
{
	/* Bits 63:32 would be x2APIC's extended destination, not offered. */
	if ((addr & ~0xffffffffULL) || (addr & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE)
		return;
	struct apic_msg m = {
		.vector = (uint8_t)data,
		.delivery = (uint8_t)((data >> MSI_DATA_DELIVERY_SHIFT) & 7),
		.logical = addr & MSI_ADDR_DEST_LOGICAL,
		/*
		 * A message is an edge whatever its trigger-mode bit says:
		 * nothing would take a level vector's EOI back to the device.
		 */
		.level = false,
		.assert = true,
		.shorthand = APIC_SH_NONE,
		.dest = (uint8_t)(addr >> MSI_ADDR_DEST_SHIFT),
		.source = -1,
	};
	switch (m.delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* Vectors 0-15 are illegal for fixed delivery. */
		if (m.vector < 16)
			return;
		break;
	case APIC_DM_NMI:
		break;
	default:
		return;
	}
	apic_bus_send(c->apics, &m);
}

void irqchip_msi_sink(void *opaque, uint64_t addr, uint32_t data)
{
	irqchip_send_msi(opaque, addr, data);
}

struct irqchip *irqchip_create(struct vm *vm, struct error *e)
{
	struct irqchip *c = calloc(1, sizeof(*c));
	if (!c) {
		error_set(e, -ENOMEM, "interrupt controllers: out of memory");
		return NULL;
	}
	c->vm = vm;
	c->apics = apic_bus_create(vm, e);
	if (!c->apics)
		goto fail;
	/* The MADT numbers the I/O APIC after the CPUs. */
	c->ioapic = ioapic_create(&vm->mmio, (uint8_t)vm->ncpus, ioapic_deliver, c, e);
	if (!c->ioapic)
		goto fail;
	c->pic = pic_create(&vm->pio, pic_output, c, e);
	if (!c->pic)
		goto fail;
	apic_bus_set_eoi_hook(c->apics, lapic_eoi, c);
	apic_bus_set_extint_ack(c->apics, extint_ack, c);
	for (int i = 0; i < vm->ncpus; i++) {
		vm->vcpus[i].intc = (struct cpu_intc){
			.pending = lapic_intc_pending,
			.ack = lapic_intc_ack,
			.opaque = apic_bus_lapic(c->apics, i),
		};
	}
	return c;
fail:
	irqchip_destroy(c);
	return NULL;
}

void irqchip_destroy(struct irqchip *c)
{
	if (!c)
		return;
	if (c->vm && c->apics)
		for (int i = 0; i < c->vm->ncpus; i++)
			c->vm->vcpus[i].intc = (struct cpu_intc){ 0 };
	pic_destroy(c->pic);
	ioapic_destroy(c->ioapic);
	apic_bus_destroy(c->apics);
	free(c);
}

struct lapic *irqchip_lapic(struct irqchip *c, int cpu)
{
	return apic_bus_lapic(c->apics, cpu);
}

struct pic *irqchip_pic(struct irqchip *c)
{
	return c->pic;
}

struct ioapic *irqchip_ioapic(struct irqchip *c)
{
	return c->ioapic;
}
