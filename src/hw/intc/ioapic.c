/*
 * I/O APIC: redirection of 24 interrupt pins to local APICs.
 *
 * Edge-triggered pins send a message on each rising edge while unmasked
 * (an edge arriving while masked is lost, as on hardware). Level-triggered
 * pins send while asserted and Remote IRR is clear, then set Remote IRR;
 * the local APIC's EOI of that vector clears it, and a still-asserted pin
 * sends again. Unmasking an asserted level pin sends too, so a line raised
 * while the OS had it masked is not forgotten.
 */
#include "hw/intc/ioapic.h"

#include <errno.h>
#include <stdlib.h>

#define REG_SEL 0x00
#define REG_WIN 0x10

#define IDX_ID 0x00
#define IDX_VERSION 0x01
#define IDX_ARB 0x02
#define IDX_REDTBL 0x10 /* two dwords per pin */

#define IOAPIC_VERSION (0x11u | ((IOAPIC_PINS - 1u) << 16))

#define RTE_DEST_LOGICAL (1ULL << 11)
#define RTE_DELIVERY_STATUS (1ULL << 12)
#define RTE_POLARITY_LOW (1ULL << 13)
#define RTE_REMOTE_IRR (1ULL << 14)
#define RTE_LEVEL (1ULL << 15)
#define RTE_MASKED (1ULL << 16)
#define RTE_DEST_SHIFT 56
/* Vector, delivery mode, destination mode, polarity, trigger, mask, destination. */
#define RTE_WRITABLE (0xff000000000000ffULL | (7ULL << 8) | RTE_DEST_LOGICAL | \
		      RTE_POLARITY_LOW | RTE_LEVEL | RTE_MASKED)

struct ioapic {
	struct bus *mmio;
	uint8_t id;
	uint8_t sel;
	uint32_t levels; /* pin input levels, bit per pin */
	uint64_t rte[IOAPIC_PINS];
	void (*deliver)(void *opaque, const struct apic_msg *m);
	void *opaque;
	bool registered;
};

static void pin_send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	struct apic_msg m = {
		.vector = (uint8_t)e,
		.delivery = (uint8_t)((e >> 8) & 7),
		.logical = e & RTE_DEST_LOGICAL,
		.level = e & RTE_LEVEL,
		.assert = true,
		.shorthand = APIC_SH_NONE,
		.dest = (uint8_t)(e >> RTE_DEST_SHIFT),
		.source = -1,
	};
	/* Only fixed and lowest-priority messages are EOIed; others never set Remote IRR. */
	if (m.level && (m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST))
		io->rte[pin] |= RTE_REMOTE_IRR;
	else
		m.level = false;
	io->deliver(io->opaque, &m);
}

/* Sends a level pin's message if it is asserted and may be sent now. */
static void pin_service_level(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (io->levels >> pin & 1))
		pin_send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	if (pin >= IOAPIC_PINS)
		return;
	bool old = io->levels >> pin & 1;
	if (level)
		io->levels |= 1u << pin;
	else
		io->levels &= ~(1u << pin);
	uint64_t e = io->rte[pin];
	if (e & RTE_LEVEL)
		pin_service_level(io, pin);
	else if (level && !old && !(e & RTE_MASKED))
		pin_send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->rte[pin];
		if ((uint8_t)e != vector || !(e & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		pin_service_level(io, pin);
	}
}

static uint32_t ioapic_read_indirect(struct ioapic *io)
{
	unsigned idx = io->sel;
	switch (idx) {
	case IDX_ID:
		return (uint32_t)io->id << 24;
	case IDX_VERSION:
		return IOAPIC_VERSION;
	case IDX_ARB:
		return (uint32_t)io->id << 24;
	default:
		break;
	}
	if (idx >= IDX_REDTBL && idx < IDX_REDTBL + 2 * IOAPIC_PINS) {
		uint64_t e = io->rte[(idx - IDX_REDTBL) / 2];
		return (idx & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0xffffffffu; /* no register there */
}

static void ioapic_write_indirect(struct ioapic *io, uint32_t v)
{
	unsigned idx = io->sel;
	if (idx == IDX_ID) {
		io->id = (uint8_t)(v >> 24);
		return;
	}
	if (idx < IDX_REDTBL || idx >= IDX_REDTBL + 2 * IOAPIC_PINS)
		return; /* version, arbitration and the void are read-only */
	unsigned pin = (idx - IDX_REDTBL) / 2;
	uint64_t old = io->rte[pin];
	uint64_t e = (idx & 1) ? (old & 0xffffffffULL) | ((uint64_t)v << 32)
			       : (old & ~0xffffffffULL) | v;
	e = (e & RTE_WRITABLE) | (old & RTE_REMOTE_IRR);
	/*
	 * Remote IRR means nothing for an edge pin; OSes that lack an EOI
	 * register clear a stuck one by flipping the pin to edge and back.
	 */
	if (!(e & RTE_LEVEL))
		e &= ~RTE_REMOTE_IRR;
	io->rte[pin] = e;
	pin_service_level(io, pin);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ioapic *io = opaque;
	uint32_t v;
	if (offset == REG_SEL)
		v = io->sel;
	else if (offset >= REG_WIN && offset < REG_WIN + 4)
		v = ioapic_read_indirect(io) >> ((offset - REG_WIN) * 8);
	else
		return 0;
	return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void ioapic_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct ioapic *io = opaque;
	if (offset == REG_SEL)
		io->sel = (uint8_t)value;
	else if (offset == REG_WIN && size >= 4)
		ioapic_write_indirect(io, (uint32_t)value);
}

static const struct bus_ops ioapic_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

struct ioapic *ioapic_create(struct bus *mmio, uint8_t id,
			     void (*deliver)(void *opaque, const struct apic_msg *m),
			     void *opaque, struct error *e)
{
	struct ioapic *io = calloc(1, sizeof(*io));
	if (!io) {
		error_set(e, -ENOMEM, "I/O APIC: out of memory");
		return NULL;
	}
	io->mmio = mmio;
	/* 8 bits rather than the 82093AA's 4: the MADT numbers it after the CPUs. */
	io->id = id;
	io->deliver = deliver;
	io->opaque = opaque;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = RTE_MASKED;
	int r = bus_register(mmio, IOAPIC_BASE, IOAPIC_SIZE, &ioapic_ops, io, "ioapic");
	if (r) {
		error_set(e, r, "I/O APIC: cannot claim MMIO 0x%llx",
			  (unsigned long long)IOAPIC_BASE);
		free(io);
		return NULL;
	}
	io->registered = true;
	return io;
}

void ioapic_destroy(struct ioapic *io)
{
	if (!io)
		return;
	if (io->registered)
		bus_unregister(io->mmio, IOAPIC_BASE);
	free(io);
}
