/*
 * PCI bus 0 behind a host bridge using configuration mechanism #1
 * (0xcf8 address, 0xcfc-0xcff data). Devices own a 256-byte configuration
 * space; kemu places their BARs itself (no firmware) with
 * pci_device_set_bar(), and the guest may move them later: a device that
 * maps a BAR follows pci_device_bar_addr() from its config_write hook.
 * Port 0xcf9 (byte access) is the reset control register and the FADT's
 * reset register (ACPI_RESET_PORT): writing a value with bit 2 set resets.
 */
#ifndef KEMU_HW_PCI_PCI_H
#define KEMU_HW_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"
#include "util/error.h"

#define PCI_MAX_DEVICES 32
#define PCI_CONFIG_SIZE 256

struct pci_device;

struct pci_device_ops {
	/* Optional hooks after the generic config-space handling. */
	uint32_t (*config_read)(struct pci_device *d, unsigned offset, unsigned size, uint32_t value);
	void (*config_write)(struct pci_device *d, unsigned offset, unsigned size, uint32_t value);
};

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE]; /* bits the guest may write */
	const struct pci_device_ops *ops;
	void *opaque;
	unsigned devfn;
	const char *name;
};

struct pci_bus;

struct pci_bus *pci_host_create(struct vm *vm, struct error *e);
void pci_host_destroy(struct pci_bus *b);
/* Initialises config with ids and class, sensible write masks. */
void pci_device_init(struct pci_device *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision);
/*
 * BAR index (0-5) at addr, size bytes (a power of two: 4-256 for I/O,
 * 16 bytes-2 GiB for 32-bit non-prefetchable memory), addr aligned to size.
 * Returns 0 or -EINVAL.
 */
int pci_device_set_bar(struct pci_device *d, int index, uint64_t addr, uint64_t size, bool is_io);
/* The BAR's current address, or 0 if it is unset or its decoding is disabled in COMMAND. */
uint64_t pci_device_bar_addr(const struct pci_device *d, int index);
/* Places d at the first free slot (or slot if >= 0). */
int pci_register_device(struct pci_bus *b, struct pci_device *d, int slot, struct error *e);

#endif
