/*
 * An interrupt message on the APIC bus: what an I/O APIC redirection entry
 * or a local APIC's ICR sends to the local APICs. Shared by ioapic.c (which
 * produces messages) and lapic.c (which routes and accepts them) so neither
 * includes the other; irqchip.c connects the two.
 */
#ifndef KEMU_HW_INTC_APIC_MSG_H
#define KEMU_HW_INTC_APIC_MSG_H

#include <stdbool.h>
#include <stdint.h>

/* Delivery modes: the 3-bit field of an RTE and of the ICR. */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_REMOTE_READ = 3, /* ICR only, obsolete: ignored */
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

/* ICR destination shorthands. */
enum apic_shorthand {
	APIC_SH_NONE = 0,
	APIC_SH_SELF = 1,
	APIC_SH_ALL = 2,
	APIC_SH_ALL_BUT_SELF = 3,
};

struct apic_msg {
	uint8_t vector;
	uint8_t delivery;  /* enum apic_delivery */
	bool logical;      /* destination is a logical (LDR) match, else an APIC ID */
	bool level;        /* level-triggered: the target sets TMR and EOI is broadcast */
	bool assert;       /* ICR level bit: INIT with it clear is the "de-assert" no-op */
	uint8_t shorthand; /* enum apic_shorthand; only the ICR uses it */
	uint8_t dest;      /* xAPIC: 8-bit APIC ID or logical mask, 0xff = broadcast */
	int source;        /* sending CPU index for shorthands, -1 for the I/O APIC */
};

#endif
