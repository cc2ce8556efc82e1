/*
 * A PIIX/ICH-style reset control register with nothing else around it.
 * Byte writes with bit 2 (RST_CPU) set reset the machine; bits 1 and 3
 * (hard/full reset selectors) read back so that a guest doing the usual
 * read-modify-write sees what it wrote. The range is one byte, so the
 * bus splits wider accesses and hands over their byte at 0xcf9; the size
 * check only guards direct calls.
 */
#include "hw/isa/reset_port.h"

#include <errno.h>
#include <stdlib.h>

#define RCR_SYS_RST (1u << 1)
#define RCR_RST_CPU (1u << 2)
#define RCR_FULL_RST (1u << 3)

struct reset_port {
	struct vm *vm;
	uint16_t port;
	uint8_t value;
};

static uint64_t reset_port_read(void *opaque, uint64_t offset, unsigned size)
{
	struct reset_port *rp = opaque;
	if (offset != 0 || size != 1)
		return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	return rp->value;
}

static void reset_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct reset_port *rp = opaque;
	if (offset != 0 || size != 1)
		return;
	rp->value = (uint8_t)value & (RCR_SYS_RST | RCR_FULL_RST);
	if (value & RCR_RST_CPU)
		vm_request_reset(rp->vm);
}

static const struct bus_ops reset_port_ops = {
	.read = reset_port_read,
	.write = reset_port_write,
};

struct reset_port *reset_port_create(struct vm *vm, uint16_t port, struct error *e)
{
	struct reset_port *rp = calloc(1, sizeof(*rp));
	if (!rp) {
		error_set(e, -ENOMEM, "reset control: out of memory");
		return NULL;
	}
	rp->vm = vm;
	rp->port = port;
	int r = bus_register(&vm->pio, port, 1, &reset_port_ops, rp, "reset-control");
	if (r) {
		error_set(e, r, "reset control: cannot claim port 0x%x", port);
		free(rp);
		return NULL;
	}
	return rp;
}

void reset_port_destroy(struct reset_port *rp)
{
	if (!rp)
		return;
	bus_unregister(&rp->vm->pio, rp->port);
	free(rp);
}
