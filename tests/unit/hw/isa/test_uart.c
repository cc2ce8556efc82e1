/*
 * 16550A UART: registers as the Linux 8250 probe sees them, THRE interrupt
 * arming, the receive FIFO's backpressure through the chardev, trigger
 * levels, loopback and OUT2 gating. Transmitted bytes land in a temp file.
 */
#include <stdlib.h>
#include <unistd.h>

#include "core/chardev.h"
#include "core/vm.h"
#include "hw/isa/uart.h"
#include "test.h"

#define COM1 0x3f8

static struct vm vm;
static int irq_level = -1;
static int irq_edges;

static void fake_irq_set(void *opaque, unsigned gsi, bool level)
{
	(void)opaque;
	CHECK_EQ(gsi, 4);
	if (level && irq_level != 1)
		irq_edges++;
	irq_level = level;
}

static void outb(unsigned reg, uint8_t v)
{
	CHECK(bus_write(&vm.pio, COM1 + reg, &v, 1));
}

static uint8_t inb(unsigned reg)
{
	uint8_t v = 0;
	CHECK(bus_read(&vm.pio, COM1 + reg, &v, 1));
	return v;
}

int main(void)
{
	char path[] = "/tmp/kemu-uart-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);

	CHECK_EQ(vm_init(&vm, 1), 0);
	struct chardev chr;
	struct error e = { { 0 } };
	CHECK_EQ(chardev_open(&chr, CHARDEV_FILE, path, &e), 0);
	struct irq_line irq = { .set = fake_irq_set, .gsi = 4 };
	struct uart *u = uart_create(&vm.pio, COM1, irq, &chr, &e);
	CHECK(u != NULL);
	if (!u)
		return test_exit();

	/* Reset state and the scratch register. */
	CHECK_EQ(inb(2), 0x01);
	CHECK_EQ(inb(5), 0x60);
	outb(7, 0x5a);
	CHECK_EQ(inb(7), 0x5a);
	outb(7, 0xa5);
	CHECK_EQ(inb(7), 0xa5);

	/* IER keeps only its four bits (Linux's first probe step). */
	outb(1, 0xff);
	CHECK_EQ(inb(1), 0x0f);
	outb(1, 0);
	CHECK_EQ(inb(1), 0);

	/* The divisor latch hides RBR/IER while DLAB is set. */
	outb(3, 0x80);
	outb(0, 0x01);
	outb(1, 0x02);
	CHECK_EQ(inb(0), 0x01);
	CHECK_EQ(inb(1), 0x02);
	outb(3, 0x03);
	CHECK_EQ(inb(3), 0x03);
	CHECK_EQ(inb(1), 0x00);

	/* Transmit: THR and the shifter are empty again at once. */
	outb(0, 'A');
	outb(0, 'B');
	CHECK_EQ(inb(5) & 0x61, 0x60);
	CHECK_EQ(inb(2), 0x01); /* no interrupt enabled */

	/* THRE interrupt: armed by enabling it, cleared by reading IIR,
	 * re-armed by re-enabling or by a THR write. */
	outb(4, 0x08); /* OUT2 */
	outb(1, 0x02);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(inb(2), 0x02);
	CHECK_EQ(irq_level, 0);
	CHECK_EQ(inb(2), 0x01);
	outb(1, 0x00);
	outb(1, 0x02);
	CHECK_EQ(inb(2), 0x02);
	CHECK_EQ(inb(2), 0x01);
	outb(0, 'C');
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(inb(2), 0x02);
	outb(1, 0x00);
	CHECK_EQ(irq_level, 0);

	/* OUT2 gates the line but not IIR. */
	outb(4, 0x00);
	outb(1, 0x02);
	CHECK_EQ(irq_level, 0);
	outb(4, 0x08);
	CHECK_EQ(irq_level, 1);
	outb(1, 0x00);
	CHECK_EQ(irq_level, 0);

	/* FIFOs: IIR reports them; the 64-byte bit is never set. */
	outb(2, 0x21);
	CHECK_EQ(inb(2), 0xc1);

	/* RX backpressure: 16 bytes fit, the rest waits in the chardev. */
	for (int i = 0; i < 20; i++)
		chr.pending[i] = (uint8_t)('a' + i);
	chr.npending = 20;
	chardev_accept_input(&chr);
	CHECK_EQ(chr.npending, 4);
	CHECK_EQ(inb(5) & 0x01, 0x01);
	uint8_t direct = 'z';
	CHECK_EQ(chr.receive(chr.dev, &direct, 1), 0); /* full */
	CHECK_EQ(inb(0), 'a');
	CHECK_EQ(chr.npending, 3); /* the read made room for one more */
	for (int i = 1; i < 20; i++)
		CHECK_EQ(inb(0), 'a' + i);
	CHECK_EQ(chr.npending, 0);
	CHECK_EQ(inb(5) & 0x01, 0x00);
	CHECK_EQ(inb(5) & 0x02, 0x00); /* no overrun */

	/* Trigger level 8: below it the data is reported as a timeout. */
	outb(2, 0x83);
	outb(1, 0x01);
	uint8_t four[4] = { 1, 2, 3, 4 };
	CHECK_EQ(chr.receive(chr.dev, four, 4), 4);
	CHECK_EQ(inb(2), 0xcc);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(chr.receive(chr.dev, four, 4), 4);
	CHECK_EQ(inb(2), 0xc4);
	outb(2, 0x03); /* clear RX */
	CHECK_EQ(inb(5) & 0x01, 0x00);
	CHECK_EQ(inb(2), 0xc1);
	CHECK_EQ(irq_level, 0);

	/* Without FIFOs one byte is all there is room for. */
	outb(2, 0x00);
	CHECK_EQ(inb(2), 0x01);
	CHECK_EQ(chr.receive(chr.dev, four, 4), 1);
	CHECK_EQ(inb(2), 0x04);
	CHECK_EQ(inb(0), 1);
	outb(1, 0x00);

	/* Loopback: the Linux probe's MSR pattern, TX looping to RX, and
	 * the line input cut off. */
	outb(4, 0x10 | 0x0a);
	CHECK_EQ(inb(6) & 0xf0, 0x90);
	outb(4, 0x10 | 0x05);
	CHECK_EQ(inb(6) & 0xf0, 0x60);
	outb(0, 'x');
	CHECK_EQ(inb(5) & 0x01, 0x01);
	CHECK_EQ(inb(0), 'x');
	CHECK_EQ(chr.receive(chr.dev, four, 1), 0);
	outb(0, 'y');
	outb(0, 'w'); /* no FIFO: overruns */
	CHECK_EQ(inb(5) & 0x03, 0x03);
	CHECK_EQ(inb(5) & 0x02, 0x00); /* LSR read cleared OE */
	CHECK_EQ(inb(0), 'y');
	outb(4, 0x08);
	CHECK_EQ(inb(6) & 0xf0, 0xb0);
	CHECK_EQ(inb(6) & 0x0f, 0x00); /* deltas cleared by the last read */

	/* Modem status interrupt from a line change. */
	outb(1, 0x08);
	outb(4, 0x18); /* loopback: CTS/DSR/DCD drop */
	CHECK_EQ(inb(2), 0x00);
	inb(6);
	CHECK_EQ(inb(2), 0x01);
	outb(1, 0x00);
	outb(4, 0x08);

	/* Wide accesses are byte accesses in sequence. */
	uint16_t w = 0;
	CHECK(bus_read(&vm.pio, COM1 + 6, &w, 2));
	CHECK_EQ(w >> 8, 0xa5); /* SCR */

	uart_destroy(u);
	chardev_close(&chr);

	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	char buf[16] = { 0 };
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	CHECK_EQ(n, 3);
	CHECK_STR(buf, "ABC");
	unlink(path);
	vm_destroy(&vm);
	return test_exit();
}
