/*
 * Local APICs in xAPIC mode for the software CPU: one struct lapic per
 * vCPU, all reached through one 4 KiB MMIO window at LAPIC_BASE whose
 * handler picks the instance by current_vcpu (CPU 0 on non-vCPU threads).
 *
 * The set of local APICs is the "APIC bus" (struct apic_bus): inter-
 * processor interrupts and I/O APIC messages are routed by apic_bus_send().
 * The bus reports EOIs of level-triggered vectors through a hook (to the
 * I/O APIC) and acknowledges ExtINT requests through another (to the 8259).
 *
 * Locking: all state is guarded by vm->io_lock. MMIO dispatch and timer
 * callbacks already hold it; functions below say when they take it
 * themselves (the ones the CPU calls from its run loop).
 *
 * The timer counts at LAPIC_TIMER_HZ (1 GHz bus clock, before the divide
 * configuration). TSC-deadline mode and x2APIC are not advertised and not
 * implemented.
 */
#ifndef KEMU_HW_INTC_LAPIC_H
#define KEMU_HW_INTC_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"
#include "hw/intc/apic_msg.h"
#include "util/error.h"

#define LAPIC_BASE 0xfee00000ULL
#define LAPIC_SIZE 0x1000ULL
#define LAPIC_TIMER_HZ 1000000000ULL

/* IA32_APIC_BASE (MSR 0x1b) bits. */
#define LAPIC_BASE_BSP (1ULL << 8)
#define LAPIC_BASE_ENABLE (1ULL << 11)

struct lapic;
struct apic_bus;

/*
 * Creates one local APIC per vCPU (APIC ID = vCPU index, CPU 0 is the BSP)
 * and registers the MMIO window on vm->mmio. Does not touch vcpu.intc:
 * the caller (irqchip.c) fills it in with lapic_intc_pending/ack.
 */
struct apic_bus *apic_bus_create(struct vm *vm, struct error *e);
void apic_bus_destroy(struct apic_bus *b);
struct lapic *apic_bus_lapic(struct apic_bus *b, int cpu);

/* Called (io_lock held) when a level-triggered vector is EOIed. */
void apic_bus_set_eoi_hook(struct apic_bus *b, void (*eoi)(void *opaque, uint8_t vector),
			   void *opaque);
/* Returns the 8259's vector for an ExtINT acknowledge (io_lock held). */
void apic_bus_set_extint_ack(struct apic_bus *b, int (*ack)(void *opaque), void *opaque);

/* Routes a message to the local APICs it addresses (io_lock held). */
void apic_bus_send(struct apic_bus *b, const struct apic_msg *m);

/*
 * The 8259's INTR output into the BSP's LINT0 (io_lock held). Passed to
 * the CPU as ExtINT when LINT0 is unmasked ExtINT mode (virtual wire, the
 * BSP's reset state) or the APIC is globally disabled by the MSR.
 */
void lapic_set_extint_line(struct lapic *l, bool level);

/*
 * The CPU side, shaped for struct cpu_intc (opaque = the struct lapic).
 *
 * lapic_intc_pending() takes no lock: it reads an atomic flag that every
 * state change recomputes under io_lock, so the CPU can poll it after each
 * block of instructions. It may be momentarily stale; that is harmless
 * because a change that makes an interrupt deliverable also posts
 * VCPU_PENDING_INTR, and lapic_intc_ack() re-checks under the lock.
 *
 * lapic_intc_ack() takes io_lock (do not call it with the lock held). It
 * returns the vector now in service: the 8259's vector for ExtINT, the
 * highest deliverable IRR vector, or the spurious vector from the SVR if
 * the candidate vanished meanwhile (as hardware does).
 */
bool lapic_intc_pending(void *opaque);
int lapic_intc_ack(void *opaque);

/*
 * IA32_APIC_BASE MSR for RDMSR/WRMSR; these take io_lock. Writing returns
 * -EINVAL for reserved bits or x2APIC enable (the CPU raises #GP). The
 * base address is recorded and read back but the window stays at
 * LAPIC_BASE: relocation is not supported.
 */
uint64_t lapic_get_base(struct lapic *l);
int lapic_set_base(struct lapic *l, uint64_t value);

/* CR8 is TPR[7:4]: MOV to/from CR8 in 64-bit mode. These take io_lock. */
uint64_t lapic_get_cr8(struct lapic *l);
void lapic_set_cr8(struct lapic *l, uint64_t cr8);

/*
 * Returns the local APIC to its power-up state (keeping its APIC ID);
 * an INIT IPI does this to its target. io_lock held.
 */
void lapic_reset(struct lapic *l);

#endif
