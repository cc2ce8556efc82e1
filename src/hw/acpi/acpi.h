/*
 * ACPI for a firmware-less PC: kemu builds the tables itself (RSDP, RSDT,
 * XSDT, FADT, FACS, MADT, DSDT with _S5) into guest memory, and emulates
 * the fixed hardware they describe (acpi_pm_create): PM1a event/control
 * blocks, the 3.579545 MHz PM timer, and the reset register.
 */
#ifndef KEMU_HW_ACPI_ACPI_H
#define KEMU_HW_ACPI_ACPI_H

#include <stdint.h>

#include "core/mem.h"
#include "core/vm.h"
#include "util/error.h"

#define ACPI_PM_BASE 0x600     /* PM1a_EVT at +0, PM1a_CNT at +4, PM_TMR at +8 */
#define ACPI_PM_LEN 0x10
/*
 * FADT reset register, value ACPI_RESET_VALUE. The board must decode it:
 * the PCI host does on pc, hw/isa/reset_port.c on machines without PCI.
 */
#define ACPI_RESET_PORT 0xcf9
#define ACPI_RESET_VALUE 0x06
#define ACPI_SCI_IRQ 9
#define ACPI_S5_SLP_TYP 0      /* what _S5 returns; written to PM1a_CNT.SLP_TYP */

/*
 * PCI INTx routing, as the DSDT's \_SB.PCI0._PRT states it and the board
 * wires it: slot s, pin p (0 = INTA .. 3 = INTD) reaches I/O APIC input
 * ACPI_PCI_GSI_BASE + (s + p) % 4, the usual swizzle, so that consecutive
 * slots' INTA land on different lines. _PRT entries that name a GSI
 * directly are level-triggered, active-low by the ACPI specification's
 * rule for them, and that is how the guest programs the I/O APIC. kemu's
 * lines carry "asserted" levels, so the polarity is nominal: neither KVM's
 * in-kernel I/O APIC nor hw/intc inverts for it.
 */
#define ACPI_PCI_GSI_BASE 16
static inline unsigned acpi_pci_intx_gsi(unsigned slot, unsigned pin)
{
	return ACPI_PCI_GSI_BASE + (slot + pin) % 4;
}

/*
 * A virtio-mmio device as the DSDT describes it (\_SB.VRnn): _HID
 * "LNRO0005", the id Linux's virtio_mmio driver matches through ACPI, a
 * Memory32Fixed window and one Extended Interrupt that is level-triggered,
 * active-high and exclusive, because the transport holds its line asserted
 * until the driver acknowledges (as QEMU's microvm describes it too). Use
 * GSIs 16 and up: the ISA ones carry edge-triggered legacy defaults.
 */
#define ACPI_MAX_VIRTIO_MMIO 32
struct acpi_virtio_mmio {
	uint64_t base; /* below 4 GiB */
	uint64_t size; /* VIRTIO_MMIO_SIZE, 0x200 */
	unsigned gsi;
};

struct acpi_config {
	int ncpus;
	uint64_t lapic_addr;   /* 0xfee00000 */
	uint64_t ioapic_addr;  /* 0xfec00000 */
	bool pic;              /* legacy 8259 present (pc): MADT PCAT_COMPAT + ISA overrides */
	bool pci;              /* PCI host bridge present: DSDT \_SB.PCI0 */
	bool i8042;            /* keyboard controller present: FADT IAPC_BOOT_ARCH 8042 */
	int nvirtio_mmio;      /* virtio-mmio devices in the DSDT (microvm) */
	struct acpi_virtio_mmio virtio_mmio[ACPI_MAX_VIRTIO_MMIO];
};

/*
 * Writes all tables into guest RAM within [base, base+size) and returns the
 * RSDP's guest-physical address in *rsdp (placed at base, 16-byte aligned).
 */
int acpi_build_tables(const struct guest_mem *m, uint64_t base, uint64_t size,
		      const struct acpi_config *cfg, uint64_t *rsdp, struct error *e);

struct acpi_pm;
/* PM1a blocks and timer at ACPI_PM_BASE. S5 → shutdown(0). */
struct acpi_pm *acpi_pm_create(struct vm *vm, struct error *e);
void acpi_pm_destroy(struct acpi_pm *pm);

/* The standard ACPI checksum: bytes sum to zero. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
