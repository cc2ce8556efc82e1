/*
 * A PCI function with MSI-X in BAR 1 (table at 0, PBA at 0x800), driven
 * the way a guest driver drives it: config-space writes to Message
 * Control, dword writes to the table, reads of the PBA. Shared by the MSI-X
 * unit tests and the KVM irqfd test.
 */
#ifndef KEMU_TESTS_MSIX_GUEST_H
#define KEMU_TESTS_MSIX_GUEST_H

#include "hw/pci/pci.h"
#include "hw/pci/pci_config.h"
#include "test.h"

#define MG_BAR 1
#define MG_TABLE 0
#define MG_PBA 0x800
#define MG_ENABLE 0x8000
#define MG_MASKALL 0x4000

/* Returns the config offset of the capability, 0 on failure. */
static inline unsigned mg_init(struct pci_device *d, struct vm *vm, unsigned nvec)
{
	struct error e = { "" };
	pci_device_init(d, 0x1234, 0x11, 0xff0000, 0);
	if (pci_device_set_bar(d, MG_BAR, 0xc0000000, 0x1000, false) ||
	    pci_msix_init(d, vm, nvec, MG_BAR, MG_TABLE, MG_PBA, &e)) {
		fprintf(stderr, "msix setup: %s\n", e.msg);
		return 0;
	}
	for (unsigned c = d->config[PCI_CAPABILITY_LIST]; c; c = d->config[c + 1])
		if (d->config[c] == PCI_CAP_ID_MSIX)
			return c;
	return 0;
}

static inline void mg_control(struct pci_device *d, unsigned cap, uint16_t v)
{
	pci_config_write(d, cap + 2, 2, v);
}

static inline void mg_entry_write(struct pci_device *d, unsigned v, unsigned dword, uint32_t val)
{
	CHECK(pci_device_bar_write(d, MG_BAR, MG_TABLE + v * 16 + dword * 4, 4, val));
}

/* Address, then data: the order Linux writes them in. */
static inline void mg_message(struct pci_device *d, unsigned v, uint64_t addr, uint32_t data)
{
	mg_entry_write(d, v, 0, (uint32_t)addr);
	mg_entry_write(d, v, 1, (uint32_t)(addr >> 32));
	mg_entry_write(d, v, 2, data);
}

static inline void mg_mask(struct pci_device *d, unsigned v, bool masked)
{
	mg_entry_write(d, v, 3, masked);
}

static inline bool mg_pending(struct pci_device *d, unsigned v)
{
	uint64_t q = 0;
	CHECK(pci_device_bar_read(d, MG_BAR, MG_PBA + v / 64 * 8, 8, &q));
	return q >> (v % 64) & 1;
}

#endif
