/*
 * PCI bus 0 behind a host bridge using configuration mechanism #1
 * (0xcf8 address, 0xcfc-0xcff data). Devices own a 256-byte configuration
 * space; kemu places their BARs itself (no firmware), so bar sizes and
 * addresses are fixed at registration. Port 0xcf9 (byte access) is the
 * reset control register.
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
/* Places d at the first free slot (or slot if >= 0). */
int pci_register_device(struct pci_bus *b, struct pci_device *d, int slot, struct error *e);

#endif
