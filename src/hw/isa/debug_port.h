/*
 * Small ISA sinks: the POST/delay port 0x80, and QEMU's isa-debug-exit,
 * whose write of v ends kemu with status (v << 1) | 1.
 */
#ifndef KEMU_HW_ISA_DEBUG_PORT_H
#define KEMU_HW_ISA_DEBUG_PORT_H

#include <stdint.h>

#include "core/vm.h"
#include "util/error.h"

int port80_create(struct vm *vm, struct error *e);
int debug_exit_create(struct vm *vm, uint16_t iobase, uint8_t iosize, struct error *e);

#endif
