/*
 * ACPI PM fixed hardware at ACPI_PM_BASE, as the FADT describes it:
 *
 *   +0  PM1_STS  (16-bit, write 1 to clear)
 *   +2  PM1_EN   (16-bit)
 *   +4  PM1_CNT  (16-bit; SLP_EN with SLP_TYP == ACPI_S5_SLP_TYP powers off)
 *   +8  PM_TMR   (32-bit, read-only, 3.579545 MHz from CLOCK_MONOTONIC)
 *
 * Registers are handled a byte at a time so that any access width or
 * offset the guest uses lands on the same state. The FADT's SMI_CMD is 0,
 * so the machine is permanently in ACPI mode and SCI_EN reads as 1.
 *
 * The FADT reset register (ACPI_RESET_PORT, 0xcf9) is not here: it sits
 * inside the PCI configuration-address dword 0xcf8-0xcfb, so pci_host.c
 * owns that port and decodes byte writes to 0xcf9 as the reset control.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/acpi/acpi.h"

#define PM1_STS 0x0
#define PM1_EN 0x2
#define PM1_CNT 0x4
#define PM_TMR 0x8

#define PM1_STS_TMR (1u << 0)
/* Status bits the guest may see and clear; only TMR_STS is ever set. */
#define PM1_STS_MASK 0xc731u
#define PM1_EN_MASK 0x4721u /* TMR, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE_DIS */

#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_BM_RLD (1u << 1)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN (1u << 13)

#define PM_TIMER_HZ 3579545ULL
/* FADT TMR_VAL_EXT is set: the counter is 32 bits, TMR_STS follows bit 31. */
#define PM_TIMER_STS_SHIFT 31

struct acpi_pm {
	struct vm *vm;
	struct timespec start;
	uint16_t sts;
	uint16_t en;
	uint16_t cnt;     /* SLP_TYP and BM_RLD as last written */
	uint64_t tmr_ack; /* timer value when the guest last cleared TMR_STS */
};

static uint64_t pm_timer_ticks(const struct acpi_pm *pm)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t sec = now.tv_sec - pm->start.tv_sec;
	int64_t nsec = now.tv_nsec - pm->start.tv_nsec;
	if (nsec < 0) {
		sec--;
		nsec += 1000000000;
	}
	/* Split so that the product cannot overflow in any plausible uptime. */
	return (uint64_t)sec * PM_TIMER_HZ + (uint64_t)nsec * PM_TIMER_HZ / 1000000000;
}

static uint16_t pm1_sts(const struct acpi_pm *pm, uint64_t ticks)
{
	uint16_t sts = pm->sts;
	if ((ticks >> PM_TIMER_STS_SHIFT) != (pm->tmr_ack >> PM_TIMER_STS_SHIFT))
		sts |= PM1_STS_TMR;
	return sts;
}

static uint8_t pm_read_byte(struct acpi_pm *pm, unsigned off, uint64_t ticks)
{
	unsigned shift = (off & 1) * 8;
	switch (off & ~1u) {
	case PM1_STS:
		return (uint8_t)(pm1_sts(pm, ticks) >> shift);
	case PM1_EN:
		return (uint8_t)(pm->en >> shift);
	case PM1_CNT:
		return (uint8_t)((pm->cnt | PM1_CNT_SCI_EN) >> shift);
	case PM_TMR:
	case PM_TMR + 2:
		return (uint8_t)(ticks >> ((off - PM_TMR) * 8));
	default:
		return 0xff;
	}
}

static void pm1_cnt_write(struct acpi_pm *pm, uint16_t v)
{
	pm->cnt = v & (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP);
	if (!(v & PM1_CNT_SLP_EN))
		return;
	/* Only S5 is advertised; any other sleep request is ignored. */
	unsigned typ = (v & PM1_CNT_SLP_TYP) >> PM1_CNT_SLP_TYP_SHIFT;
	if (typ == ACPI_S5_SLP_TYP)
		vm_request_shutdown(pm->vm, 0);
}

static void pm_write_byte(struct acpi_pm *pm, unsigned off, uint8_t b)
{
	unsigned shift = (off & 1) * 8;
	uint16_t v = (uint16_t)(b << shift);
	switch (off & ~1u) {
	case PM1_STS:
		if (v & PM1_STS_TMR)
			pm->tmr_ack = pm_timer_ticks(pm);
		pm->sts &= (uint16_t)~(v & PM1_STS_MASK);
		break;
	case PM1_EN:
		pm->en = (uint16_t)((pm->en & ~(0xffu << shift)) | (v & PM1_EN_MASK));
		break;
	case PM1_CNT:
		/* SLP_EN lives in the high byte, so a 16-bit write acts once, with both halves. */
		pm1_cnt_write(pm, (uint16_t)((pm->cnt & ~(0xffu << shift)) | v));
		break;
	default:
		break; /* PM_TMR is read-only */
	}
}

static uint64_t pm_read(void *opaque, uint64_t offset, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint64_t ticks = pm_timer_ticks(pm);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		uint64_t off = offset + i;
		uint8_t b = off < ACPI_PM_LEN ? pm_read_byte(pm, (unsigned)off, ticks) : 0xff;
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static void pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;
	for (unsigned i = 0; i < size; i++) {
		uint64_t off = offset + i;
		if (off < ACPI_PM_LEN)
			pm_write_byte(pm, (unsigned)off, (uint8_t)(value >> (8 * i)));
	}
}

static const struct bus_ops acpi_pm_ops = {
	.read = pm_read,
	.write = pm_write,
};

struct acpi_pm *acpi_pm_create(struct vm *vm, struct error *e)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	if (!pm) {
		error_set(e, -ENOMEM, "acpi: out of memory for the PM device");
		return NULL;
	}
	pm->vm = vm;
	clock_gettime(CLOCK_MONOTONIC, &pm->start);
	int r = bus_register(&vm->pio, ACPI_PM_BASE, ACPI_PM_LEN, &acpi_pm_ops, pm, "acpi-pm");
	if (r) {
		error_set(e, r, "acpi: cannot claim ports 0x%x-0x%x: %s", ACPI_PM_BASE,
			  ACPI_PM_BASE + ACPI_PM_LEN - 1, strerror(-r));
		free(pm);
		return NULL;
	}
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	bus_unregister(&pm->vm->pio, ACPI_PM_BASE);
	free(pm);
}
