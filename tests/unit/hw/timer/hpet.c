/*
 * HPET: capabilities, the main counter's rate and halting, writes of a
 * halted counter, a one-shot level-triggered comparator with its status
 * bit and line, a periodic edge-triggered timer 0, 32-bit accesses, and
 * legacy replacement taking IRQ 0 from the PIT and giving it back.
 */
#include <time.h>

#include "core/vm.h"
#include "hw/timer/hpet.h"
#include "test.h"

static struct vm vm;
static struct hpet *hpet;
/* Indexed by GSI: 0 and 8 are the ISA lines, 20-23 the HPET's own. */
static int levels[24], rises[24];

static void fake_irq(void *opaque, unsigned gsi, bool level)
{
	(void)opaque;
	CHECK(gsi == 0 || gsi == 8 || (gsi >= HPET_GSI_FIRST && gsi < 24));
	if (gsi >= 24)
		return;
	if (level && !levels[gsi])
		rises[gsi]++;
	levels[gsi] = level;
}

static uint64_t rd64(uint64_t off)
{
	uint64_t v = 0;
	CHECK(bus_read(&vm.mmio, HPET_BASE + off, &v, 8));
	return v;
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v = 0;
	CHECK(bus_read(&vm.mmio, HPET_BASE + off, &v, 4));
	return v;
}

static void wr64(uint64_t off, uint64_t v)
{
	CHECK(bus_write(&vm.mmio, HPET_BASE + off, &v, 8));
}

static void wr32(uint64_t off, uint32_t v)
{
	CHECK(bus_write(&vm.mmio, HPET_BASE + off, &v, 4));
}

static void sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000L };
	nanosleep(&ts, NULL);
}

/* "Not yet" checks hold only if the host did not stall us past the deadline. */
static bool within(uint64_t t0, uint64_t ns)
{
	return clock_ns() - t0 < ns;
}

static void test_counter(void)
{
	uint64_t cap = rd64(0);
	CHECK_EQ(cap >> 32, 10000000); /* 10 ns in femtoseconds */
	CHECK_EQ((cap >> 8) & 0x1f, HPET_TIMERS - 1);
	CHECK(cap & (1u << 13));       /* 64-bit counter */
	CHECK(cap & (1u << 15));       /* legacy replacement capable */
	CHECK_EQ((cap >> 16) & 0xffff, 0x8086);
	CHECK_EQ(rd32(0), hpet_block_id());
	CHECK_EQ(rd64(0x100) >> 32, 0x00f00000); /* GSIs 20-23 */
	CHECK(rd64(0x100) & (1u << 4));          /* timer 0 can be periodic */
	CHECK(!(rd64(0x120) & (1u << 4)));

	CHECK_EQ(rd64(0xf0), 0); /* halted at reset */
	wr64(0xf0, 1000);
	CHECK_EQ(rd64(0xf0), 1000);
	wr32(0x10, 1);
	uint64_t t0 = clock_ns();
	uint32_t a = rd32(0xf0);
	sleep_us(2000);
	uint32_t b = rd32(0xf0);
	uint64_t ns = clock_ns() - t0;
	CHECK(a >= 1000);
	CHECK(b - a >= 200000 && b - a <= ns / 10 + 1); /* 100 MHz */
	wr32(0x10, 0);
	uint64_t h1 = rd64(0xf0);
	sleep_us(200);
	CHECK_EQ(rd64(0xf0), h1);
	wr32(0xf4, 0); /* high half of a halted counter */
	wr32(0xf0, 0);
	CHECK_EQ(rd64(0xf0), 0);
}

static void test_oneshot_level(void)
{
	/* Timer 1: level, enabled, routed to GSI 21, fires 1 ms after start. */
	wr64(0x120, (1u << 1) | (1u << 2) | (21u << 9));
	wr64(0x128, 100000);
	uint64_t t0 = clock_ns();
	wr32(0x10, 1);
	timer_list_run(&vm.timers);
	uint64_t isr = rd64(0x20);
	if (within(t0, 900000))
		CHECK_EQ(isr, 0);
	sleep_us(1500);
	timer_list_run(&vm.timers);
	CHECK_EQ(rd64(0x20), 2);
	CHECK(levels[21]);
	wr64(0x20, 2); /* write 1 to clear */
	CHECK_EQ(rd64(0x20), 0);
	CHECK(!levels[21]);
	wr64(0x120, 0);
	wr32(0x10, 0);
}

static void test_periodic(void)
{
	wr64(0xf0, 0);
	/* Timer 0, periodic, edge, 32-bit, GSI 20, period 1 ms (Linux's sequence). */
	wr32(0x100, (1u << 2) | (1u << 3) | (1u << 6) | (1u << 8) | (20u << 9));
	wr32(0x108, 100000);
	wr32(0x108, 100000);
	wr32(0x10, 1);
	rises[20] = 0;
	sleep_us(2500);
	timer_list_run(&vm.timers);
	CHECK(rises[20] >= 1);
	CHECK(!levels[20]);
	uint64_t t0 = clock_ns();
	uint32_t now = rd32(0xf0);
	uint32_t cmp = rd32(0x108);
	CHECK(cmp > now); /* advanced past the counter */
	if (within(t0, 500000))
		CHECK(cmp - now <= 100000 + 50000);
	int r = rises[20];
	sleep_us(1500);
	timer_list_run(&vm.timers);
	CHECK(rises[20] > r);
	wr32(0x10, 0);
	wr64(0x100, 0);
	/* Unknown offsets and odd sizes are harmless. */
	uint8_t byte = 0xff;
	CHECK(bus_write(&vm.mmio, HPET_BASE + 0x3ff, &byte, 1));
	CHECK(bus_write(&vm.mmio, HPET_BASE + 0x107, &byte, 1));
	uint16_t w = 0;
	CHECK(bus_read(&vm.mmio, HPET_BASE + 0x2, &w, 2));
	CHECK_EQ(w, 0x8086);
}

static void test_legacy(void)
{
	struct irq_line pit = hpet_legacy_input(hpet, 0);
	struct irq_line rtc = hpet_legacy_input(hpet, 8);
	rises[20] = 0;
	/* Outside legacy mode the PIT and RTC reach their lines. */
	irq_line_set(&pit, true);
	irq_line_set(&rtc, true);
	CHECK(levels[0] && levels[8]);
	irq_line_set(&rtc, false);
	CHECK(!levels[8]);

	/* Legacy mode: the PIT is cut off; timer 0 (edge, one-shot) owns IRQ 0. */
	wr64(0xf0, 0);
	wr32(0x100, (1u << 2) | (1u << 8) | (20u << 9));
	wr32(0x108, 50000); /* 0.5 ms */
	wr32(0x10, 3);
	CHECK(!levels[0]);
	irq_line_pulse(&pit);
	CHECK_EQ(rises[0], 1); /* only the first raise above, before legacy mode */
	sleep_us(1000);
	timer_list_run(&vm.timers);
	CHECK_EQ(rises[0], 2);
	CHECK_EQ(rises[20], 0);
	CHECK(!levels[0]);
	/* Leaving legacy mode hands IRQ 0 back to the PIT's current level. */
	irq_line_set(&pit, true);
	CHECK(!levels[0]);
	wr32(0x10, 1);
	CHECK(levels[0]);
	irq_line_set(&pit, false);
	wr32(0x10, 0);
	wr64(0x100, 0);
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct error e = { 0 };
	struct hpet_lines lines = {
		.irq0 = { .set = fake_irq, .gsi = 0 },
		.irq8 = { .set = fake_irq, .gsi = 8 },
	};
	for (unsigned i = 0; i < HPET_GSI_COUNT; i++)
		lines.gsi[i] = (struct irq_line){ .set = fake_irq, .gsi = HPET_GSI_FIRST + i };
	hpet = hpet_create(&vm, &lines, &e);
	CHECK(hpet != NULL);
	if (!hpet)
		return test_exit();
	test_counter();
	test_oneshot_level();
	test_periodic();
	test_legacy();
	hpet_destroy(hpet);
	vm_destroy(&vm);
	return test_exit();
}
