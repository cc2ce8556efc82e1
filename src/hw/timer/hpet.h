/*
 * HPET (IA-PC High Precision Event Timer, spec 1.0a) at HPET_BASE: a
 * 64-bit main counter at HPET_HZ and HPET_TIMERS comparators whose
 * interrupts go to I/O APIC inputs HPET_GSI_FIRST..+3, or in legacy
 * replacement mode (which Linux turns on when it finds an HPET: it then
 * uses timer 0 as its clock-event device, and the HPET to calibrate the
 * TSC and the local APIC timer) timer 0 to ISA IRQ 0 and timer 1 to ISA
 * IRQ 8. FSB (MSI) delivery is not offered.
 *
 * Legacy replacement disconnects the PIT and RTC from IRQ 0 and 8, so the
 * board hands those two devices the lines hpet_legacy_input() returns
 * instead of their ISA lines; the HPET passes their levels through while
 * legacy mode is off.
 *
 * The board describes it with an ACPI "HPET" table: event timer block ID
 * hpet_block_id(), base address HPET_BASE (system memory), HPET number 0,
 * minimum clock tick in periodic mode e.g. 128, no page protection.
 *
 * All calls need vm->io_lock held (as bus dispatch and timers have).
 */
#ifndef KEMU_HW_TIMER_HPET_H
#define KEMU_HW_TIMER_HPET_H

#include "core/irq.h"
#include "core/vm.h"
#include "util/error.h"

#define HPET_BASE 0xfed00000ULL
#define HPET_SIZE 0x400ULL
#define HPET_HZ 100000000ULL     /* 10 ns per tick */
#define HPET_TIMERS 3
#define HPET_GSI_FIRST 20        /* Tn_INT_ROUTE_CAP: GSIs 20-23 */
#define HPET_GSI_COUNT 4

struct hpet;

struct hpet_lines {
	struct irq_line gsi[HPET_GSI_COUNT]; /* GSI HPET_GSI_FIRST + i: keep them free */
	struct irq_line irq0, irq8;           /* the ISA lines the PIT and RTC would use */
};

struct hpet *hpet_create(struct vm *vm, const struct hpet_lines *lines, struct error *e);
void hpet_destroy(struct hpet *h);

/* The line to give the PIT (isa_irq 0) or the RTC (isa_irq 8); valid while h lives. */
struct irq_line hpet_legacy_input(struct hpet *h, unsigned isa_irq);
/* The general capabilities and ID register's low dword, for the ACPI table. */
uint32_t hpet_block_id(void);

#endif
