/*
 * The reset control register at port 0xcf9 on its own, for machines
 * without a PCI host bridge (microvm) whose FADT reset register still
 * points there. On the PC board the PCI host decodes the same port.
 */
#ifndef KEMU_HW_ISA_RESET_PORT_H
#define KEMU_HW_ISA_RESET_PORT_H

#include <stdint.h>

#include "core/vm.h"
#include "util/error.h"

struct reset_port;

/* Claims one byte at port. reset_port_destroy(NULL) is a no-op. */
struct reset_port *reset_port_create(struct vm *vm, uint16_t port, struct error *e);
void reset_port_destroy(struct reset_port *rp);

#endif
