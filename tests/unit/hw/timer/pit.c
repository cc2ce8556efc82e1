/*
 * 8254 PIT: mode 2 counts down from the reload value, the latch command
 * freezes what is read, read-back status, channel 0's IRQ in periodic and
 * terminal-count modes, and channel 2's OUT through port 0x61 in mode 0
 * (what Linux's TSC calibration polls), including the gate pausing it.
 */
#include <time.h>

#include "core/vm.h"
#include "hw/timer/pit.h"
#include "hw/hwtest.h"
#include "test.h"

static struct vm vm;
static struct pit *pit;
static int irq_level, irq_rises;

static void fake_irq(void *opaque, unsigned gsi, bool level)
{
	(void)opaque;
	CHECK_EQ(gsi, 0);
	if (level && !irq_level)
		irq_rises++;
	irq_level = level;
}

static void outb(uint16_t port, uint8_t v)
{
	hwtest_outb(&vm.pio, port, v);
}

static uint8_t inb(uint16_t port)
{
	return hwtest_inb(&vm.pio, port);
}

static void sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000L };
	nanosleep(&ts, NULL);
}

/*
 * Checks that something has NOT happened yet only hold if the host did not
 * stall us past the deadline: on a loaded host they are skipped.
 */
static bool within(uint64_t t0, uint64_t ns)
{
	return clock_ns() - t0 < ns;
}

static uint16_t read_count(uint16_t port)
{
	uint8_t lo = inb(port);
	return (uint16_t)(lo | inb(port) << 8);
}

static void test_mode2(void)
{
	outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
	outb(0x40, 0x9c);
	outb(0x40, 0x2e); /* 11932: 10 ms */
	uint64_t t0 = clock_ns();
	outb(0x43, 0x00); /* latch */
	uint16_t a = read_count(0x40);
	CHECK(a <= 11932 && a > 0);
	sleep_us(1000);
	outb(0x43, 0x00);
	uint16_t b = read_count(0x40);
	if (within(t0, 9000000)) {
		CHECK(b < a);
		CHECK(a - b >= 1000 && a - b < 11932); /* ~1193 ticks per ms */
	}

	/* A latched count does not move until it has been read. */
	outb(0x43, 0x00);
	sleep_us(500);
	outb(0x43, 0x00); /* ignored: the first latch is still unread */
	uint16_t l = read_count(0x40);
	uint16_t live = read_count(0x40);
	CHECK(live != l);

	/* Read-back of channel 0's status: lo/hi, mode 2, binary. */
	outb(0x43, 0xe2);
	CHECK_EQ(inb(0x40) & 0x7f, 0x34);

	/* Read-back of status and count together: status first. */
	outb(0x43, 0xc2);
	CHECK_EQ(inb(0x40) & 0x3f, 0x34);
	uint16_t rb = read_count(0x40);
	CHECK(rb > 0 && rb <= 11932);
}

static void test_irq0(void)
{
	/* Mode 2, 1 ms period: the line is pulsed at each period. */
	outb(0x43, 0x34);
	outb(0x40, 0xa9);
	outb(0x40, 0x04); /* 1193 */
	irq_rises = 0;
	sleep_us(2500);
	timer_list_run(&vm.timers);
	CHECK(irq_rises >= 1);
	CHECK(!irq_level);
	int before = irq_rises;
	sleep_us(1500);
	timer_list_run(&vm.timers);
	CHECK(irq_rises > before);

	/* Mode 0: the line goes low on the control word, high at terminal count. */
	outb(0x43, 0x30);
	outb(0x40, 0xa9);
	uint64_t t0 = clock_ns();
	outb(0x40, 0x04);
	irq_rises = 0;
	CHECK(!irq_level);
	timer_list_run(&vm.timers);
	if (within(t0, 900000))
		CHECK(!irq_level);
	sleep_us(1500);
	timer_list_run(&vm.timers);
	CHECK(irq_level);
	CHECK_EQ(irq_rises, 1);
	sleep_us(1500);
	timer_list_run(&vm.timers);
	CHECK_EQ(irq_rises, 1); /* one-shot */
	outb(0x43, 0x30);
	CHECK(!irq_level);
}

static void test_channel2(void)
{
	/* As Linux's pit_calibrate_tsc: gate high, speaker off, mode 0. */
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	CHECK_EQ(inb(0x61) & 0x03, 0x01);
	outb(0x43, 0xb0);
	outb(0x42, 0x52);
	uint64_t t0 = clock_ns();
	outb(0x42, 0x09); /* 2386 ticks: 2 ms */
	CHECK_EQ(inb(0x61) & 0x20, 0);
	sleep_us(500);
	uint8_t early = inb(0x61) & 0x20;
	if (within(t0, 1900000))
		CHECK_EQ(early, 0);
	sleep_us(2000);
	CHECK_EQ(inb(0x61) & 0x20, 0x20);
	/* Past terminal count the counter wraps and keeps going. */
	uint16_t c = read_count(0x42);
	CHECK(c > 0x8000);

	/* Gate low pauses mode 0. */
	outb(0x43, 0xb0);
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	sleep_us(200);
	outb(0x61, 0x00);
	outb(0x43, 0x80);
	uint16_t p1 = read_count(0x42);
	sleep_us(1000);
	outb(0x43, 0x80);
	uint16_t p2 = read_count(0x42);
	CHECK_EQ(p1, p2);
	outb(0x61, 0x01);
	sleep_us(1000);
	outb(0x43, 0x80);
	uint16_t p3 = read_count(0x42);
	CHECK(p3 < p2);

	/* The refresh bit toggles on its own. */
	uint8_t r0 = inb(0x61) & 0x10;
	int toggled = 0;
	for (int i = 0; i < 100 && !toggled; i++) {
		sleep_us(10);
		toggled = (inb(0x61) & 0x10) != r0;
	}
	CHECK(toggled);
}

static void test_hostile(void)
{
	uint32_t w = 0xffffffff;
	CHECK(bus_write(&vm.pio, 0x40, &w, 4));
	CHECK(bus_read(&vm.pio, 0x41, &w, 4));
	outb(0x43, 0xfe); /* read-back with every bit set */
	outb(0x43, 0xff);
	inb(0x43);
	/* Mode 2 with count 1 must not storm the host. */
	outb(0x43, 0x14); /* channel 0, LSB only, mode 2 */
	outb(0x40, 0x01);
	timer_list_run(&vm.timers);
	outb(0x43, 0x30);
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct error e = { 0 };
	struct irq_line irq0 = { .set = fake_irq, .gsi = 0 };
	pit = pit_create(&vm, irq0, &e);
	CHECK(pit != NULL);
	if (!pit)
		return test_exit();
	test_mode2();
	test_irq0();
	test_channel2();
	test_hostile();
	pit_destroy(pit);
	vm_destroy(&vm);
	return test_exit();
}
