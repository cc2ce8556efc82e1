/*
 * i8042: controller self-test and command byte, keyboard replies, IRQ 1
 * and IRQ 12 following the output buffer and the command byte, Linux's
 * probe sequence (aux test, loopback with its interrupt, the absent
 * mouse), and the reset paths (0xfe pulse, output-port write) requesting
 * a machine reset.
 */
#include "core/vm.h"
#include "hw/isa/i8042.h"
#include "hw/hwtest.h"
#include "test.h"

static struct vm vm;
static bool level[16];
static int edges[16];

static void fake_irq_set(void *opaque, unsigned gsi, bool l)
{
	(void)opaque;
	CHECK(gsi == 1 || gsi == 12);
	if (gsi >= 16)
		return;
	if (l && !level[gsi])
		edges[gsi]++;
	level[gsi] = l;
}

static void outb(uint16_t port, uint8_t v)
{
	hwtest_outb(&vm.pio, port, v);
}

static uint8_t inb(uint16_t port)
{
	return hwtest_inb(&vm.pio, port);
}

static struct i8042 *setup(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct error e;
	memset(level, 0, sizeof(level));
	memset(edges, 0, sizeof(edges));
	struct irq_line kbd = { .set = fake_irq_set, .gsi = 1 };
	struct irq_line aux = { .set = fake_irq_set, .gsi = 12 };
	struct i8042 *k = i8042_create(&vm, kbd, aux, &e);
	CHECK(k != NULL);
	return k;
}

static void teardown(struct i8042 *k)
{
	i8042_destroy(k);
	vm_destroy(&vm);
}

/* Interrupts follow the byte at the head of the output buffer. */
static void test_irqs(void)
{
	struct i8042 *k = setup();
	CHECK(!level[1] && !level[12]);

	/* The default command byte (0x45) enables the keyboard interrupt. */
	outb(0x64, 0xaa);
	CHECK(level[1]);
	CHECK(!level[12]);
	CHECK_EQ(inb(0x60), 0x55);
	CHECK(!level[1]);
	CHECK_EQ(inb(0x60), 0x55); /* an empty buffer repeats, without an interrupt */
	CHECK(!level[1]);

	/* Two bytes queued: reading the first gives a fresh edge for the second. */
	outb(0x60, 0xee); /* echo */
	outb(0x60, 0xf4); /* enable: ACK */
	CHECK_EQ(edges[1], 2);
	CHECK_EQ(inb(0x60), 0xee);
	CHECK(level[1]);
	CHECK_EQ(edges[1], 3);
	CHECK_EQ(inb(0x60), 0xfa);
	CHECK(!level[1]);

	/* Enabling the interrupt with a byte waiting raises the line at once. */
	outb(0x64, 0x60);
	outb(0x60, 0x44);
	outb(0x64, 0xd2);
	outb(0x60, 0x12);
	CHECK(!level[1]);
	CHECK_EQ(inb(0x64) & 0x21, 0x01); /* keyboard data */
	outb(0x64, 0x60);
	outb(0x60, 0x45);
	CHECK(level[1]);
	CHECK_EQ(inb(0x60), 0x12);
	CHECK(!level[1]);
	CHECK(!level[12]);
	teardown(k);
	i8042_destroy(NULL);
}

/* The order Linux's drivers/input/serio/i8042.c probes in, with what it checks. */
static void test_linux_probe(void)
{
	struct i8042 *k = setup();
	/* Flush, self-test, then the command byte with interrupts off. */
	for (int i = 0; i < 16 && (inb(0x64) & 0x01); i++)
		inb(0x60);
	outb(0x64, 0xaa);
	CHECK_EQ(inb(0x60), 0x55);
	outb(0x64, 0x20);
	uint8_t ctr = inb(0x60);
	ctr &= (uint8_t)~0x03;
	outb(0x64, 0x60);
	outb(0x60, ctr);
	int e1 = edges[1];

	/* Aux loopback: the byte comes back marked as aux data; no IRQ 12 yet. */
	outb(0x64, 0xd3);
	outb(0x60, 0x5a);
	CHECK_EQ(inb(0x64) & 0x21, 0x21);
	CHECK(!level[12]);
	CHECK_EQ(inb(0x60), 0x5a);
	/* The aux interface test reports no error. */
	outb(0x64, 0xa9);
	CHECK_EQ(inb(0x64) & 0x21, 0x01);
	CHECK_EQ(inb(0x60), 0x00);
	/* The disable/enable bit assignment test. */
	outb(0x64, 0xa7);
	outb(0x64, 0x20);
	CHECK_EQ(inb(0x60) & 0x20, 0x20);
	outb(0x64, 0xa8);
	outb(0x64, 0x20);
	CHECK_EQ(inb(0x60) & 0x20, 0x00);
	CHECK_EQ(edges[1], e1);

	/* The aux IRQ test: with the aux interrupt on, loopback raises IRQ 12. */
	outb(0x64, 0x60);
	outb(0x60, ctr | 0x02);
	outb(0x64, 0xd3);
	outb(0x60, 0xa5);
	CHECK(level[12]);
	CHECK(!level[1]);
	CHECK_EQ(inb(0x64) & 0x21, 0x21);
	CHECK_EQ(inb(0x60), 0xa5);
	CHECK(!level[12]);

	/* Bytes for the mouse: nobody is there, and the controller says so at once. */
	outb(0x64, 0xd4);
	outb(0x60, 0xf2);
	CHECK(level[12]);
	CHECK_EQ(inb(0x64) & 0x61, 0x61); /* full, aux, timeout */
	CHECK_EQ(inb(0x60), 0xfe);
	CHECK(!level[12]);
	CHECK_EQ(inb(0x64) & 0x61, 0x00);

	/* Keyboard interrupt on: the keyboard answers through IRQ 1. */
	outb(0x64, 0x60);
	outb(0x60, ctr | 0x03);
	outb(0x60, 0xf2);
	CHECK(level[1]);
	CHECK_EQ(inb(0x60), 0xfa);
	CHECK(level[1]);
	CHECK_EQ(inb(0x60), 0xab);
	CHECK_EQ(inb(0x60), 0x41);
	CHECK(!level[1]);
	CHECK(!level[12]);
	teardown(k);
}

int main(void)
{
	test_irqs();
	test_linux_probe();

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
