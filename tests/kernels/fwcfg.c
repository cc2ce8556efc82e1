/* fwcfg: reads the fw_cfg items a firmware-less guest relies on. */
#include "kernel.h"

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	char sig[5] = {0};
	uint8_t b[8];
	(void)magic;
	(void)mbi;

	fw_cfg_select(FW_CFG_SIGNATURE);
	fw_cfg_read(sig, 4);
	fw_cfg_select(FW_CFG_NB_CPUS);
	fw_cfg_read(b, 2); /* little-endian, byte by byte: no alignment assumptions */
	uint32_t cpus = b[0] | (uint32_t)b[1] << 8;
	fw_cfg_select(FW_CFG_RAM_SIZE);
	fw_cfg_read(b, 8);
	uint64_t ram = 0;
	for (int i = 7; i >= 0; i--)
		ram = ram << 8 | b[i];

	puts("fwcfg: sig=");
	puts(sig);
	puts(" cpus=");
	putdec(cpus);
	puts(" ram=");
	puthex(ram);
	putc('\n');
	test_exit(0);
}
