/*
 * i8042 keyboard controller (ports 0x60/0x64): enough for guests to probe
 * it, and its reset line (command 0xfe) resets the machine.
 */
#ifndef KEMU_HW_ISA_I8042_H
#define KEMU_HW_ISA_I8042_H

#include "core/vm.h"
#include "util/error.h"

struct i8042;

struct i8042 *i8042_create(struct vm *vm, struct error *e);
void i8042_destroy(struct i8042 *k);

#endif
