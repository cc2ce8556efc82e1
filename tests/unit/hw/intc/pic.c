/*
 * 8259A pair: the ICW init sequence and vector bases, masking, nested
 * priority and EOI, IRR/ISR reads through OCW3, the slave cascade,
 * ELCR level triggering, spurious IRQ 7, and auto-EOI.
 */
#include "core/vm.h"
#include "hw/intc/pic.h"
#include "hw/hwtest.h"
#include "test.h"

static struct vm vm;
static struct pic *pic;
static int intr_level, intr_changes;

static void intr(void *opaque, bool level)
{
	(void)opaque;
	intr_level = level;
	intr_changes++;
}

static void outb(uint16_t port, uint8_t v)
{
	hwtest_outb(&vm.pio, port, v);
}

static uint8_t inb(uint16_t port)
{
	return hwtest_inb(&vm.pio, port);
}

/* What Linux's init_8259A does: vectors 0x20 and 0x28, all masked. */
static void init_pics(uint8_t icw4)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, icw4);
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, icw4);
	outb(0x21, 0x00); /* ICW1 clears IMR; the OS then sets the mask it wants */
	outb(0xa1, 0x00);
}

static uint8_t read_isr(uint16_t cmd)
{
	outb(cmd, 0x0b);
	return inb(cmd);
}

static uint8_t read_irr(uint16_t cmd)
{
	outb(cmd, 0x0a);
	return inb(cmd);
}

static void test_init_and_mask(void)
{
	init_pics(0x01);
	CHECK_EQ(inb(0x21), 0x00);
	outb(0x21, 0x02);
	CHECK_EQ(inb(0x21), 0x02);

	pic_set_irq(pic, 1, true); /* masked: requested but not presented */
	CHECK_EQ(read_irr(0x20), 0x02);
	CHECK(!intr_level);
	outb(0x21, 0x00);
	CHECK(intr_level);
	CHECK_EQ(pic_ack(pic), 0x21);
	CHECK(!intr_level);
	CHECK_EQ(read_isr(0x20), 0x02);
	CHECK_EQ(read_irr(0x20), 0x00); /* edge: the acknowledge consumed it */
	pic_set_irq(pic, 1, false);
	outb(0x20, 0x20); /* non-specific EOI */
	CHECK_EQ(read_isr(0x20), 0x00);
}

static void test_priority(void)
{
	init_pics(0x01);
	pic_set_irq(pic, 3, true);
	CHECK_EQ(pic_ack(pic), 0x23);
	pic_set_irq(pic, 5, true); /* lower than the one in service */
	CHECK(!intr_level);
	pic_set_irq(pic, 1, true); /* higher: nests */
	CHECK(intr_level);
	CHECK_EQ(pic_ack(pic), 0x21);
	CHECK_EQ(read_isr(0x20), 0x0a);
	outb(0x20, 0x20); /* ends IRQ 1, the highest in service */
	CHECK_EQ(read_isr(0x20), 0x08);
	CHECK(!intr_level);
	outb(0x20, 0x63); /* specific EOI for IRQ 3 */
	CHECK_EQ(read_isr(0x20), 0x00);
	CHECK(intr_level); /* IRQ 5 now */
	CHECK_EQ(pic_ack(pic), 0x25);
	outb(0x20, 0x20);
	for (unsigned i = 0; i < 16; i++)
		pic_set_irq(pic, i, false);
}

static void test_cascade(void)
{
	init_pics(0x01);
	outb(0xa1, 0xef); /* only IRQ 12 */
	pic_set_irq(pic, 12, true);
	CHECK(intr_level);
	CHECK_EQ(read_irr(0x20), 0x04);
	CHECK_EQ(pic_ack(pic), 0x2c);
	CHECK_EQ(read_isr(0x20), 0x04);
	CHECK_EQ(read_isr(0xa0), 0x10);
	pic_set_irq(pic, 12, false);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK_EQ(read_isr(0xa0), 0x00);
	CHECK_EQ(read_isr(0x20), 0x00);
	CHECK(!intr_level);
}

static void test_elcr_level(void)
{
	init_pics(0x01);
	outb(0x4d0, 0xff);
	CHECK_EQ(inb(0x4d0), 0xf8); /* IRQ 0-2 are edge-only */
	outb(0x4d0, 0x00);
	outb(0x4d1, 0x02); /* IRQ 9 level */
	CHECK_EQ(inb(0x4d1), 0x02);

	pic_set_irq(pic, 9, true);
	CHECK(intr_level);
	CHECK_EQ(pic_ack(pic), 0x29);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(intr_level); /* still asserted: requests again */
	CHECK_EQ(pic_ack(pic), 0x29);
	pic_set_irq(pic, 9, false);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(!intr_level);

	/* A level request that vanishes before INTA is a spurious IRQ 7. */
	pic_set_irq(pic, 9, true);
	CHECK(intr_level);
	pic_set_irq(pic, 9, false);
	CHECK(!intr_level);
	CHECK_EQ(pic_ack(pic), 0x27);
	CHECK_EQ(read_isr(0x20), 0x00);
	outb(0x4d1, 0x00);
}

static void test_edge_latch_and_aeoi(void)
{
	init_pics(0x03); /* auto-EOI */
	pic_set_irq(pic, 4, true);
	pic_set_irq(pic, 4, false); /* a pulse stays latched until INTA */
	CHECK(intr_level);
	CHECK_EQ(pic_ack(pic), 0x24);
	CHECK_EQ(read_isr(0x20), 0x00);
	CHECK(!intr_level);

	/* Poll mode answers 0x80 | IRQ. */
	init_pics(0x01);
	pic_set_irq(pic, 6, true);
	outb(0x20, 0x0c);
	CHECK_EQ(inb(0x20), 0x86);
	CHECK_EQ(read_isr(0x20), 0x40);
	outb(0x20, 0x20);
	pic_set_irq(pic, 6, false);
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct error e = { 0 };
	pic = pic_create(&vm.pio, intr, NULL, &e);
	CHECK(pic != NULL);
	if (!pic)
		return test_exit();
	/* Reset state: firmware's vector bases, everything masked. */
	CHECK_EQ(inb(0x21), 0xfb);
	CHECK_EQ(inb(0xa1), 0xff);
	test_init_and_mask();
	test_priority();
	test_cascade();
	test_elcr_level();
	test_edge_latch_and_aeoi();
	/* Wide and out-of-range accesses must not crash. */
	uint32_t w = 0xffffffff;
	bus_write(&vm.pio, 0x20, &w, 4);
	bus_read(&vm.pio, 0x21, &w, 4);
	CHECK(intr_changes > 0);
	pic_destroy(pic);
	vm_destroy(&vm);
	return test_exit();
}
