/*
 * The 8254 programmable interval timer at ports 0x40-0x43 and the PC's
 * port 0x61 (NMI status and control: channel 2 gate, speaker data, OUT2
 * and refresh-toggle readback). Channel 0 drives ISA IRQ 0 through irq0;
 * channel 2 is what Linux's TSC calibration times against.
 *
 * Counts follow the host's monotonic clock at PIT_HZ; nothing ticks.
 * All calls need vm->io_lock held (as bus dispatch and timers have).
 */
#ifndef KEMU_HW_TIMER_PIT_H
#define KEMU_HW_TIMER_PIT_H

#include "core/irq.h"
#include "core/vm.h"
#include "util/error.h"

#define PIT_HZ 1193182ULL
#define PIT_BASE 0x40
#define PIT_PORT61 0x61

struct pit;

struct pit *pit_create(struct vm *vm, struct irq_line irq0, struct error *e);
void pit_destroy(struct pit *p);

#endif
