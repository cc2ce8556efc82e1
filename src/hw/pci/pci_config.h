/*
 * Generic configuration-space access, shared by the host bridge's
 * mechanism #1 decoder and any future one (e.g. ECAM): write masks, then
 * the core's own follow-ups (BAR moves, MSI-X control, INTx disable), then
 * the device's hooks. Private to src/hw/pci.
 */
#ifndef KEMU_HW_PCI_PCI_CONFIG_H
#define KEMU_HW_PCI_PCI_CONFIG_H

#include "hw/pci/pci.h"

/* offset + size must lie within the 256-byte space (callers check). */
uint32_t pci_config_read(struct pci_device *d, unsigned offset, unsigned size);
void pci_config_write(struct pci_device *d, unsigned offset, unsigned size, uint32_t value);

/* pci_msix.c: the guest wrote [offset, offset+size) of config space. */
void pci_msix_config_written(struct pci_device *d, unsigned offset, unsigned size);
/* pci_host.c: recounts the device's INTx after COMMAND changed or it left. */
void pci_bus_update_intx(struct pci_device *d);
/* pci_device.c: moves BAR regions to where the BARs decode now. */
void pci_device_update_mappings(struct pci_device *d);
/* pci_device.c: unmaps every BAR (the device leaves the bus). */
void pci_device_unmap_all(struct pci_device *d);

#endif
