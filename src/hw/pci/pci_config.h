/*
 * Generic configuration-space access, shared by the host bridge's
 * mechanism #1 decoder and any future one (e.g. ECAM): write masks, then
 * the device's hooks. Private to src/hw/pci.
 */
#ifndef KEMU_HW_PCI_PCI_CONFIG_H
#define KEMU_HW_PCI_PCI_CONFIG_H

#include "hw/pci/pci.h"

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_NUM_BARS 6
#define PCI_INTERRUPT_LINE 0x3c

/* offset + size must lie within the 256-byte space (callers check). */
uint32_t pci_config_read(struct pci_device *d, unsigned offset, unsigned size);
void pci_config_write(struct pci_device *d, unsigned offset, unsigned size, uint32_t value);

#endif
