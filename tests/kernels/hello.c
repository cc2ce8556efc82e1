/*
 * hello: the smallest useful guest. Proves the multiboot loader (entry
 * state, zeroed .bss, command line in the info structure), the UART and
 * isa-debug-exit.
 */
#include "kernel.h"

#define MB_BOOT_MAGIC 0x2badb002

/* The loader must zero this; a loader that copies only file bytes will not. */
static uint32_t bss_probe[64];

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	puts("kemu-test: hello\n");
	if (magic != MB_BOOT_MAGIC)
		test_fail("bad multiboot magic in eax");
	for (int i = 0; i < 64; i++)
		if (bss_probe[i])
			test_fail(".bss not zeroed");
	puts("cmdline: ");
	if (mbi->flags & MB_INFO_CMDLINE)
		puts((const char *)mbi->cmdline);
	else
		puts("(none)");
	putc('\n');
	test_exit(0);
}
