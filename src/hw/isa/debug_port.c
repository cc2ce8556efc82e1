/*
 * Two stateless ISA sinks. Port 0x80 is the POST-code port that Linux
 * also writes to as an I/O delay; claiming it keeps those writes off the
 * unclaimed-port path. isa-debug-exit lets test guests end kemu with a
 * status of their choosing, with QEMU's encoding (v << 1) | 1 so that a
 * guest can never produce a plain 0 ("success") by accident.
 */
#include "hw/isa/debug_port.h"

#include <errno.h>

#define PORT80 0x80

static uint64_t port80_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)size;
	return ~0ULL; /* nothing drives the bus */
}

static void port80_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)value;
	(void)size;
}

static const struct bus_ops port80_ops = {
	.read = port80_read,
	.write = port80_write,
};

int port80_create(struct vm *vm, struct error *e)
{
	int r = bus_register(&vm->pio, PORT80, 1, &port80_ops, NULL, "port80");
	if (r)
		return error_set(e, r, "port 0x%x is already claimed", PORT80);
	return 0;
}

static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)size;
	return 0;
}

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct vm *vm = opaque;
	(void)offset;
	(void)size;
	/* The status is an int here; the OS keeps only its low 8 bits. */
	vm_request_shutdown(vm, (int)((value << 1) | 1));
}

static const struct bus_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

int debug_exit_create(struct vm *vm, uint16_t iobase, uint8_t iosize, struct error *e)
{
	if (!iosize)
		return error_set(e, -EINVAL, "isa-debug-exit: iosize must not be 0");
	int r = bus_register(&vm->pio, iobase, iosize, &debug_exit_ops, vm, "isa-debug-exit");
	if (r)
		return error_set(e, r, "isa-debug-exit: cannot claim ports 0x%x-0x%x", iobase,
				 iobase + iosize - 1);
	return 0;
}
