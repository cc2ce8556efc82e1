/*
 * isa-debug-exit's (v << 1) | 1 shutdown status, and the port 0x80 sink.
 */
#include <errno.h>

#include "core/vm.h"
#include "hw/isa/debug_port.h"
#include "test.h"

int main(void)
{
	struct vm vm;
	struct error e;
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(port80_create(&vm, &e), 0);
	CHECK_EQ(debug_exit_create(&vm, 0xf4, 4, &e), 0);
	CHECK_EQ(debug_exit_create(&vm, 0x500, 0, &e), -EINVAL);
	CHECK_EQ(debug_exit_create(&vm, 0xf0, 8, &e), -EEXIST); /* overlaps 0xf4 */
	CHECK_EQ(port80_create(&vm, &e), -EEXIST);

	uint8_t v = 0x12;
	CHECK(bus_write(&vm.pio, 0x80, &v, 1));
	CHECK(bus_read(&vm.pio, 0x80, &v, 1));
	CHECK_EQ(v, 0xff);
	uint32_t d = 0xdeadbeef;
	CHECK(bus_read(&vm.pio, 0xf4, &d, 4));
	CHECK_EQ(d, 0);
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);

	v = 0x10;
	CHECK(bus_write(&vm.pio, 0xf4, &v, 1));
	CHECK_EQ(vm_stopping(&vm), VM_STOP_SHUTDOWN);
	CHECK_EQ(vm.exit_status, 0x21);
	vm_destroy(&vm);

	/* A wide write: the whole value is encoded, the first request wins. */
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(debug_exit_create(&vm, 0x501, 2, &e), 0);
	uint16_t w = 0x0102;
	CHECK(bus_write(&vm.pio, 0x501, &w, 2));
	CHECK_EQ(vm.exit_status, 0x0205);
	w = 0;
	CHECK(bus_write(&vm.pio, 0x501, &w, 2));
	CHECK_EQ(vm.exit_status, 0x0205);
	vm_destroy(&vm);
	return test_exit();
}
