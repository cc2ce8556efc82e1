/*
 * shutdown: ACPI soft-off without reading any table. kemu's PM1a control
 * block sits at 0x604 and its \_S5 sleep type is 0, which is also what
 * QEMU's pc machine uses once SeaBIOS has put the PIIX4 PM block at 0x600.
 */
#include "kernel.h"

#define PM1_CNT (PM_BASE + 4)
#define SLP_TYP_S5 0
#define SLP_EN (1u << 13)

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	(void)magic;
	(void)mbi;
	puts("shutdown: powering off\n");
	outw(PM1_CNT, SLP_TYP_S5 << 10 | SLP_EN);
	/* As in reset.c: halt rather than race the asynchronous power-off. */
	halt_forever();
}
