/*
 * reset: asks the i8042 to pulse the CPU reset line. With -no-reboot the
 * VMM must exit with status 0; without it the guest boots again and prints
 * the banner a second time.
 */
#include "kernel.h"

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	(void)magic;
	(void)mbi;
	puts("reset: booting\n");
	/* A real controller takes commands only with its input buffer empty. */
	for (int i = 0; i < 100 && (inb(0x64) & 0x02); i++)
		;
	outb(0x64, 0xfe);
	/*
	 * The reset is asynchronous; halting (instead of reporting failure)
	 * avoids racing it. A VMM that ignores the command hangs here and the
	 * harness times out.
	 */
	halt_forever();
}
