/*
 * The stand-alone reset control register (microvm's port 0xcf9): bit 2 in
 * a byte write resets, the selector bits read back, and the neighbouring
 * ports (PCI's CONFIG_ADDRESS on a PC) stay unclaimed.
 */
#include "core/vm.h"
#include "hw/isa/reset_port.h"
#include "test.h"

static struct vm vm;

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct error e;
	struct reset_port *rp = reset_port_create(&vm, 0xcf9, &e);
	CHECK(rp != NULL);
	CHECK(reset_port_create(&vm, 0xcf9, &e) == NULL); /* already claimed */

	uint8_t v = 0x0a;
	CHECK(bus_write(&vm.pio, 0xcf9, &v, 1));
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);
	v = 0;
	CHECK(bus_read(&vm.pio, 0xcf9, &v, 1));
	CHECK_EQ(v, 0x0a);
	/* A dword at 0xcf8 is not this register (the bus splits it into bytes). */
	uint32_t d = 0x80000000u;
	CHECK(bus_write(&vm.pio, 0xcf8, &d, 4));
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);
	CHECK(!bus_read(&vm.pio, 0xcf8, &v, 1)); /* only 0xcf9 is claimed */
	v = 0x06;
	CHECK(bus_write(&vm.pio, 0xcf9, &v, 1));
	CHECK_EQ(vm_stopping(&vm), VM_STOP_RESET);

	reset_port_destroy(rp);
	reset_port_destroy(NULL);
	vm_destroy(&vm);
	return test_exit();
}
