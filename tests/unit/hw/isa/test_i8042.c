/*
 * i8042: controller self-test and command byte, keyboard replies, and the
 * reset paths (0xfe pulse, output-port write) requesting a machine reset.
 */
#include "core/vm.h"
#include "hw/isa/i8042.h"
#include "test.h"

static struct vm vm;

static void outb(uint16_t port, uint8_t v)
{
	CHECK(bus_write(&vm.pio, port, &v, 1));
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;
	CHECK(bus_read(&vm.pio, port, &v, 1));
	return v;
}

static struct i8042 *setup(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct error e;
	struct i8042 *k = i8042_create(&vm, &e);
	CHECK(k != NULL);
	return k;
}

static void teardown(struct i8042 *k)
{
	i8042_destroy(k);
	vm_destroy(&vm);
}

int main(void)
{
	struct i8042 *k = setup();
	CHECK_EQ(inb(0x64) & 0x01, 0);

	outb(0x64, 0xaa);
	CHECK_EQ(inb(0x64) & 0x05, 0x05); /* output full, system flag */
	CHECK_EQ(inb(0x60), 0x55);
	CHECK_EQ(inb(0x64) & 0x01, 0);
	outb(0x64, 0xab);
	CHECK_EQ(inb(0x60), 0x00);

	/* Command byte round trip, and the disable bits. */
	outb(0x64, 0x20);
	CHECK_EQ(inb(0x60), 0x45);
	outb(0x64, 0x60);
	outb(0x60, 0x44);
	outb(0x64, 0xad);
	outb(0x64, 0xa7);
	outb(0x64, 0x20);
	CHECK_EQ(inb(0x60), 0x74);
	outb(0x64, 0xae);
	outb(0x64, 0xa8);
	outb(0x64, 0x20);
	CHECK_EQ(inb(0x60), 0x44);

	/* The keyboard: reset, identify, LEDs with their parameter. */
	outb(0x60, 0xff);
	CHECK_EQ(inb(0x60), 0xfa);
	CHECK_EQ(inb(0x60), 0xaa);
	outb(0x60, 0xf2);
	CHECK_EQ(inb(0x60), 0xfa);
	CHECK_EQ(inb(0x60), 0xab);
	CHECK_EQ(inb(0x60), 0x41);
	outb(0x60, 0xed);
	outb(0x60, 0x07);
	CHECK_EQ(inb(0x60), 0xfa);
	CHECK_EQ(inb(0x60), 0xfa);
	CHECK_EQ(inb(0x64) & 0x01, 0);

	/* Aux loopback comes back flagged as aux data. */
	outb(0x64, 0xd3);
	outb(0x60, 0x5a);
	CHECK_EQ(inb(0x64) & 0x21, 0x21);
	CHECK_EQ(inb(0x60), 0x5a);

	/* A flood of replies is bounded, not unbounded. */
	for (int i = 0; i < 100; i++)
		outb(0x60, 0xf4);
	int n = 0;
	while ((inb(0x64) & 0x01) && n < 1000) {
		inb(0x60);
		n++;
	}
	CHECK(n > 0 && n <= 16);

	outb(0x64, 0xd0);
	CHECK_EQ(inb(0x60), 0x03);
	outb(0x64, 0xff); /* pulses nothing */
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);
	outb(0x64, 0xfe);
	CHECK_EQ(vm_stopping(&vm), VM_STOP_RESET);
	teardown(k);

	/* Writing the output port with bit 0 clear resets too; with it set, not. */
	k = setup();
	outb(0x64, 0xd1);
	outb(0x60, 0x03);
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);
	outb(0x64, 0xd1);
	outb(0x60, 0x02);
	CHECK_EQ(vm_stopping(&vm), VM_STOP_RESET);
	teardown(k);

	/* Another pulse pattern with bit 0 clear. */
	k = setup();
	outb(0x64, 0xf0);
	CHECK_EQ(vm_stopping(&vm), VM_STOP_RESET);
	teardown(k);
	return test_exit();
}
