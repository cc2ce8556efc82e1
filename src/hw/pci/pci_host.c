/*
 * The PCI host bridge (an i440FX look-alike at 00.0) and configuration
 * mechanism #1 on ports 0xcf8-0xcff:
 *
 *   0xcf8  CONFIG_ADDRESS, dword accesses only: enable (31), bus (23:16),
 *          device (15:11), function (10:8), dword register (7:2)
 *   0xcf9  byte accesses: the reset control register (PIIX/ICH style),
 *          also the FADT's ACPI reset register: bit 2 set resets
 *   0xcfc-0xcff  CONFIG_DATA, any width at the matching byte of the dword
 *
 * Because 0xcf9 falls inside the CONFIG_ADDRESS dword, the port cannot be
 * claimed separately by acpi_pm.c; it is decoded here. Other non-dword
 * accesses to 0xcf8-0xcfb are ignored and read as all-ones.
 *
 * Only bus 0, function 0 of each slot exists; everything else reads
 * all-ones, which is how the guest learns there is nothing there.
 *
 * INTx: devices on a PC share the four PCI interrupt lines, so the bus
 * counts the asserted pins per GSI and drives the line as their wired OR;
 * one device lowering its pin must not drop another's interrupt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci/pci_config.h"

#define PCI_HOST_PORT 0xcf8
#define PCI_HOST_LEN 8
#define CONFIG_DATA_OFFSET 4
#define RESET_CONTROL_OFFSET 1

#define CONFIG_ADDRESS_ENABLE (1u << 31)
#define CONFIG_ADDRESS_MASK 0x80fffffcu /* reserved bits 30:24 and 1:0 read 0 */

#define RCR_SYS_RST (1u << 1)  /* selects hard reset; kept for read-back only */
#define RCR_RST_CPU (1u << 2)  /* the edge that resets */
#define RCR_FULL_RST (1u << 3)

#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define PCI_CLASS_HOST_BRIDGE 0x060000

/* GSIs the INTx router can drive (the I/O APIC has 24 pins). */
#define PCI_INTX_MAX_GSI 64

struct pci_bus {
	struct vm *vm;
	uint32_t config_address;
	uint8_t reset_control;
	struct pci_device *slot[PCI_MAX_DEVICES];
	struct pci_device host;
	unsigned (*gsi_of)(unsigned slot, unsigned pin);
	unsigned intx_count[PCI_INTX_MAX_GSI]; /* asserted pins per GSI */
};

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* The function CONFIG_ADDRESS selects, or NULL if nothing answers there. */
static struct pci_device *selected_device(struct pci_bus *b)
{
	uint32_t a = b->config_address;
	if (!(a & CONFIG_ADDRESS_ENABLE))
		return NULL;
	unsigned bus = (a >> 16) & 0xff, dev = (a >> 11) & 0x1f, fn = (a >> 8) & 0x7;
	if (bus != 0 || fn != 0 || dev >= PCI_MAX_DEVICES)
		return NULL;
	return b->slot[dev];
}

static uint64_t pci_host_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pci_bus *b = opaque;
	if (offset < CONFIG_DATA_OFFSET) {
		if (offset == 0 && size == 4)
			return b->config_address;
		if (offset == RESET_CONTROL_OFFSET && size == 1)
			return b->reset_control;
		return all_ones(size);
	}
	unsigned byte = (unsigned)(offset - CONFIG_DATA_OFFSET);
	struct pci_device *d = selected_device(b);
	if (!d || size > 4 || byte + size > 4)
		return all_ones(size);
	return pci_config_read(d, (b->config_address & 0xfc) + byte, size);
}

static void pci_host_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pci_bus *b = opaque;
	if (offset < CONFIG_DATA_OFFSET) {
		if (offset == 0 && size == 4) {
			b->config_address = (uint32_t)value & CONFIG_ADDRESS_MASK;
		} else if (offset == RESET_CONTROL_OFFSET && size == 1) {
			b->reset_control = (uint8_t)value & (RCR_SYS_RST | RCR_FULL_RST);
			if (value & RCR_RST_CPU)
				vm_request_reset(b->vm);
		}
		return;
	}
	unsigned byte = (unsigned)(offset - CONFIG_DATA_OFFSET);
	struct pci_device *d = selected_device(b);
	if (!d || size > 4 || byte + size > 4)
		return;
	pci_config_write(d, (b->config_address & 0xfc) + byte, size, (uint32_t)value);
}

static const struct bus_ops pci_host_ops = {
	.read = pci_host_read,
	.write = pci_host_write,
};

static int intx_gsi(const struct pci_device *d);

int pci_register_device(struct pci_bus *b, struct pci_device *d, int slot, struct error *e)
{
	const char *name = d->name ? d->name : "pci device";
	if (slot >= PCI_MAX_DEVICES)
		return error_set(e, -EINVAL, "pci: %s: slot %d out of range (0-%d)", name, slot,
				 PCI_MAX_DEVICES - 1);
	if (slot < 0) {
		for (slot = 0; slot < PCI_MAX_DEVICES && b->slot[slot]; slot++)
			;
		if (slot == PCI_MAX_DEVICES)
			return error_set(e, -ENOSPC, "pci: %s: all %d slots of bus 0 are taken",
					 name, PCI_MAX_DEVICES);
	} else if (b->slot[slot]) {
		const char *other = b->slot[slot]->name ? b->slot[slot]->name : "another device";
		return error_set(e, -EEXIST, "pci: %s: slot %d is taken by %s", name, slot, other);
	}
	d->devfn = (unsigned)slot << 3;
	b->slot[slot] = d;
	d->bus = b;
	d->vm = b->vm;
	/* kemu is the firmware: it fills in INTERRUPT_LINE as a BIOS would. */
	int gsi = intx_gsi(d);
	if (gsi >= 0)
		d->config[PCI_INTERRUPT_LINE] = (uint8_t)gsi;
	pci_device_update_mappings(d);
	pci_bus_update_intx(d);
	return 0;
}

void pci_unregister_device(struct pci_device *d)
{
	struct pci_bus *b = d->bus;
	if (!b)
		return;
	d->intx_wanted = false;
	pci_bus_update_intx(d);
	pci_device_unmap_all(d);
	if (b->slot[d->devfn >> 3] == d)
		b->slot[d->devfn >> 3] = NULL;
	d->bus = NULL;
	d->vm = NULL;
}

void pci_host_set_intx_route(struct pci_bus *b, unsigned (*gsi_of)(unsigned slot, unsigned pin))
{
	b->gsi_of = gsi_of;
}

/* The GSI d's pin reaches, or -1 if it has no pin or no route. */
static int intx_gsi(const struct pci_device *d)
{
	unsigned pin = d->config[PCI_INTERRUPT_PIN];
	if (!d->bus || !d->bus->gsi_of || pin < 1 || pin > 4)
		return -1;
	unsigned gsi = d->bus->gsi_of(d->devfn >> 3, pin - 1);
	return gsi < PCI_INTX_MAX_GSI ? (int)gsi : -1;
}

void pci_bus_update_intx(struct pci_device *d)
{
	/* STATUS.INTERRUPT shows the device's state even when INTx is disabled. */
	uint16_t status = pci_get_word(d, PCI_STATUS) & ~PCI_STATUS_INTERRUPT;
	pci_set_word(d, PCI_STATUS, status | (d->intx_wanted ? PCI_STATUS_INTERRUPT : 0));

	bool assert = d->intx_wanted && !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	int gsi = intx_gsi(d);
	if (gsi < 0 || assert == d->intx_asserted)
		return;
	struct pci_bus *b = d->bus;
	d->intx_asserted = assert;
	if (assert && b->intx_count[gsi]++ == 0) {
		struct irq_line l = vm_irq_line(b->vm, (unsigned)gsi);
		irq_line_set(&l, true);
	} else if (!assert && --b->intx_count[gsi] == 0) {
		struct irq_line l = vm_irq_line(b->vm, (unsigned)gsi);
		irq_line_set(&l, false);
	}
}

void pci_device_set_intx(struct pci_device *d, bool level)
{
	d->intx_wanted = level;
	pci_bus_update_intx(d);
}

struct pci_bus *pci_host_create(struct vm *vm, struct error *e)
{
	struct pci_bus *b = calloc(1, sizeof(*b));
	if (!b) {
		error_set(e, -ENOMEM, "pci: out of memory for the host bridge");
		return NULL;
	}
	b->vm = vm;
	pci_device_init(&b->host, I440FX_VENDOR, I440FX_DEVICE, PCI_CLASS_HOST_BRIDGE, 0x02);
	b->host.name = "i440fx host bridge";
	pci_register_device(b, &b->host, 0, NULL);

	int r = bus_register(&vm->pio, PCI_HOST_PORT, PCI_HOST_LEN, &pci_host_ops, b, "pci-host");
	if (r) {
		error_set(e, r, "pci: cannot claim ports 0x%x-0x%x: %s", PCI_HOST_PORT,
			  PCI_HOST_PORT + PCI_HOST_LEN - 1, strerror(-r));
		free(b);
		return NULL;
	}
	return b;
}

void pci_host_destroy(struct pci_bus *b)
{
	if (!b)
		return;
	bus_unregister(&b->vm->pio, PCI_HOST_PORT);
	free(b);
}
