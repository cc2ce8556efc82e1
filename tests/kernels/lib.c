/* The shared runtime; see kernel.h for why everything is polled and bounded. */
#include "kernel.h"

void putc(char c)
{
	/*
	 * Wait for THR empty (LSR bit 5), but not forever: a VMM whose UART
	 * never reports it should produce garbage, not a hung test.
	 */
	for (int i = 0; i < 1000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

void puthex(uint64_t v)
{
	int shift = 60;
	puts("0x");
	while (shift > 0 && !((v >> shift) & 0xf))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

void putdec(uint32_t v)
{
	char buf[11];
	int i = 10;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts(buf + i);
}

void fw_cfg_select(uint16_t key)
{
	outw(FW_CFG_SEL, key);
}

void fw_cfg_read(void *buf, uint32_t len)
{
	uint8_t *p = buf;
	while (len--)
		*p++ = inb(FW_CFG_DATA);
}

void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void test_exit(uint8_t code)
{
	outb(DEBUG_EXIT_PORT, code);
	halt_forever();
}

void test_fail(const char *msg)
{
	puts("FAIL: ");
	puts(msg);
	putc('\n');
	test_exit(1);
}

/* GCC may emit calls to these even when freestanding. */
void *memcpy(void *dst, const void *src, uint32_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, uint32_t n)
{
	uint8_t *d = dst;
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}
