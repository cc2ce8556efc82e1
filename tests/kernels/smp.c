/*
 * smp: the BSP wakes the CPU with APIC id 1 with INIT, SIPI, SIPI through
 * the local APIC, and waits (bounded) for it to report in; only the BSP
 * touches the UART. The CPU count comes from fw_cfg, so -smp 1 prints
 * "smp: 1 cpus" without sending anything.
 */
#include "kernel.h"

#define LAPIC 0xfee00000u
#define LAPIC_SVR 0x0f0
#define SVR_ENABLE 0x100     /* APIC software enable; low byte: spurious vector */
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_INIT 0x00004500u /* delivery mode INIT, level assert */
#define ICR_SIPI 0x00004600u /* delivery mode start-up; low byte: vector */
#define TRAMP_PAGE 0x8000u   /* below 1 MiB and 4 KiB aligned, as SIPI needs */

#define PM_TIMER (PM_BASE + 8)
#define PM_TIMER_HZ 3579545u

extern char ap_tramp[], ap_tramp_end[];
extern volatile uint32_t ap_flag;

static void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC + reg) = v;
}

static void ipi(uint32_t apic_id, uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
}

/* A short pause between IPIs: port 0x80 reads are slow everywhere. */
static void io_delay(int n)
{
	while (n--)
		inb(0x80);
}

/*
 * Waits up to a second of ACPI PM timer time for the AP. The iteration cap
 * bounds the wait if the timer does not run; each iteration is one port
 * read, which keeps the instruction count low where ring 0 is emulated.
 */
static uint32_t wait_for_ap(void)
{
	uint32_t start = inl(PM_TIMER) & 0xffffff;
	for (int i = 0; i < 100000 && !ap_flag; i++) {
		uint32_t now = inl(PM_TIMER) & 0xffffff;
		if (((now - start) & 0xffffff) > PM_TIMER_HZ)
			break;
	}
	return ap_flag;
}

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	uint8_t b[2];
	(void)magic;
	(void)mbi;

	fw_cfg_select(FW_CFG_NB_CPUS);
	fw_cfg_read(b, 2);
	uint32_t cpus = b[0] | (uint32_t)b[1] << 8;
	uint32_t up = 1;

	if (cpus > 1) {
		memcpy((void *)TRAMP_PAGE, ap_tramp, (uint32_t)(ap_tramp_end - ap_tramp));
		/*
		 * Software-enable our local APIC first, as an OS would: it
		 * comes out of reset disabled, and KVM here delivers no IPI
		 * from a disabled one. (Under QEMU, SeaBIOS has done it.)
		 */
		lapic_write(LAPIC_SVR, SVR_ENABLE | 0xff);
		ipi(1, ICR_INIT);
		io_delay(10);
		ipi(1, ICR_SIPI | TRAMP_PAGE >> 12);
		io_delay(10);
		if (!ap_flag)
			ipi(1, ICR_SIPI | TRAMP_PAGE >> 12);
		uint32_t id = wait_for_ap();
		if (!id)
			test_fail("cpu 1 did not come up");
		puts("smp: cpu ");
		putdec(id - 1);
		puts(" up\n");
		up++;
	}
	puts("smp: ");
	putdec(up);
	puts(" cpus\n");
	test_exit(0);
}
