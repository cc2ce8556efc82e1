/*
 * i8042 keyboard controller (ports 0x60/0x64): enough for guests to probe
 * it quickly (keyboard on IRQ 1, an empty aux port on IRQ 12), and its
 * reset line (command 0xfe) resets the machine.
 */
#ifndef KEMU_HW_ISA_I8042_H
#define KEMU_HW_ISA_I8042_H

#include "core/vm.h"
#include "util/error.h"

struct i8042;

/* kbd_irq is the board's IRQ 1, aux_irq its IRQ 12. i8042_destroy(NULL) is a no-op. */
struct i8042 *i8042_create(struct vm *vm, struct irq_line kbd_irq, struct irq_line aux_irq,
			   struct error *e);
void i8042_destroy(struct i8042 *k);

#endif
