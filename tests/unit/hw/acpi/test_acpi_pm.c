/*
 * ACPI PM fixed hardware through the port bus: the PM timer counts, SCI_EN
 * is stuck on, PM1_STS/PM1_EN behave, and only an S5 sleep request powers
 * the machine off.
 */
#include <time.h>

#include "hw/acpi/acpi.h"
#include "test.h"

#define PM1_STS (ACPI_PM_BASE + 0)
#define PM1_EN (ACPI_PM_BASE + 2)
#define PM1_CNT (ACPI_PM_BASE + 4)
#define PM_TMR (ACPI_PM_BASE + 8)
#define SLP_EN (1u << 13)
#define SLP_TYP(t) ((unsigned)(t) << 10)

static uint32_t in(struct vm *vm, uint16_t port, unsigned size)
{
	uint32_t v = 0;
	CHECK(bus_read(&vm->pio, port, &v, size));
	return v;
}

static void out(struct vm *vm, uint16_t port, uint32_t v, unsigned size)
{
	CHECK(bus_write(&vm->pio, port, &v, size));
}

static struct acpi_pm *setup(struct vm *vm)
{
	struct error e = { "" };
	CHECK_EQ(vm_init(vm, 1), 0);
	struct acpi_pm *pm = acpi_pm_create(vm, &e);
	CHECK(pm != NULL);
	if (!pm)
		fprintf(stderr, "%s\n", e.msg);
	return pm;
}

static void test_timer(void)
{
	struct vm vm;
	struct acpi_pm *pm = setup(&vm);

	uint32_t prev = in(&vm, PM_TMR, 4);
	for (int i = 0; i < 10000; i++) {
		uint32_t t = in(&vm, PM_TMR, 4);
		CHECK(t >= prev); /* starts near 0: cannot wrap within the test */
		if (t < prev)
			break;
		prev = t;
	}
	uint32_t t1 = in(&vm, PM_TMR, 4);
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	uint32_t t2 = in(&vm, PM_TMR, 4);
	/* 5 ms at 3.58 MHz is ~17900 ticks; sleeping can only make it more. */
	CHECK(t2 - t1 >= 17000);
	CHECK(t2 > t1);

	/* Low half as a word; the counter ignores writes. */
	uint32_t lo = in(&vm, PM_TMR, 2);
	CHECK(lo <= 0xffff);
	out(&vm, PM_TMR, 0, 4);
	CHECK(in(&vm, PM_TMR, 4) >= t2);
	/* Nothing decodes past the timer. */
	CHECK_EQ(in(&vm, ACPI_PM_BASE + 12, 4), 0xffffffff);

	acpi_pm_destroy(pm);
	/* Unclaimed ports read as all-ones and report no device. */
	uint32_t v = 0;
	CHECK(!bus_read(&vm.pio, PM_TMR, &v, 4));
	vm_destroy(&vm);
}

static void test_registers(void)
{
	struct vm vm;
	struct acpi_pm *pm = setup(&vm);

	CHECK_EQ(in(&vm, PM1_CNT, 2) & 1, 1); /* SCI_EN */
	out(&vm, PM1_CNT, 0, 2);
	CHECK_EQ(in(&vm, PM1_CNT, 2) & 1, 1); /* cannot leave ACPI mode */

	CHECK_EQ(in(&vm, PM1_STS, 2), 0);
	out(&vm, PM1_STS, 0xffff, 2); /* write-1-to-clear of clear bits: still clear */
	CHECK_EQ(in(&vm, PM1_STS, 2), 0);

	out(&vm, PM1_EN, 0xffff, 2);
	CHECK_EQ(in(&vm, PM1_EN, 2), 0x4721); /* reserved bits stay zero */
	out(&vm, PM1_EN, 0x0100, 2);
	CHECK_EQ(in(&vm, PM1_EN, 2), 0x0100);
	/* The event block read as one dword: STS low, EN high. */
	CHECK_EQ(in(&vm, PM1_STS, 4), 0x01000000);

	/* SLP_TYP without SLP_EN is stored and does nothing. */
	out(&vm, PM1_CNT, SLP_TYP(5), 2);
	CHECK_EQ(in(&vm, PM1_CNT, 2), SLP_TYP(5) | 1);
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);

	acpi_pm_destroy(pm);
	vm_destroy(&vm);
}

static void test_sleep(void)
{
	struct vm vm;
	struct acpi_pm *pm = setup(&vm);

	/* Sleep states other than S5 are not offered and are ignored. */
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_S5_SLP_TYP)
			continue;
		out(&vm, PM1_CNT, SLP_TYP(typ) | SLP_EN | 1, 2);
		CHECK_EQ(vm_stopping(&vm), VM_RUNNING);
	}
	CHECK_EQ(in(&vm, PM1_CNT, 2) & SLP_EN, 0); /* write-only */

	out(&vm, PM1_CNT, SLP_TYP(ACPI_S5_SLP_TYP) | SLP_EN, 2);
	CHECK_EQ(vm_stopping(&vm), VM_STOP_SHUTDOWN);
	CHECK_EQ(vm.exit_status, 0);
	acpi_pm_destroy(pm);
	vm_destroy(&vm);

	/* The same through a byte write to the high half (SLP_EN and SLP_TYP live there). */
	pm = setup(&vm);
	out(&vm, PM1_CNT + 1, (SLP_TYP(ACPI_S5_SLP_TYP) | SLP_EN) >> 8, 1);
	CHECK_EQ(vm_stopping(&vm), VM_STOP_SHUTDOWN);
	CHECK_EQ(vm.exit_status, 0);
	acpi_pm_destroy(pm);
	vm_destroy(&vm);
}

int main(void)
{
	test_timer();
	test_registers();
	test_sleep();
	return test_exit();
}
