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

struct acpi_config {
	int ncpus;
	uint64_t lapic_addr;   /* 0xfee00000 */
	uint64_t ioapic_addr;  /* 0xfec00000 */
	bool pic;              /* legacy 8259 present (pc): MADT PCAT_COMPAT + ISA overrides */
	bool pci;              /* PCI host bridge present: DSDT \_SB.PCI0 */
	bool i8042;            /* keyboard controller present: FADT IAPC_BOOT_ARCH 8042 */
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
