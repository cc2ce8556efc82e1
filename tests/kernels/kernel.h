/*
 * The small runtime shared by the bare multiboot test kernels: port I/O,
 * COM1 output, fw_cfg reads and the isa-debug-exit port. Everything is
 * polled and bounded: under paravirtual KVM every port access is a costly
 * exit and ring-0 code runs at about a million instructions per second.
 */
#ifndef KEMU_TEST_KERNEL_H
#define KEMU_TEST_KERNEL_H

#include <stdint.h>

#define DEBUG_EXIT_PORT 0xf4 /* -device isa-debug-exit,iobase=0xf4 */
#define COM1 0x3f8
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define PM_BASE 0x600 /* ACPI PM1a event block; control at +4, timer at +8 */

#define MB_INFO_CMDLINE (1u << 2)

/* The part of the multiboot v1 information structure the tests read. */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
};

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void putc(char c);
void puts(const char *s);
void puthex(uint64_t v); /* "0x" and no leading zeros */
void putdec(uint32_t v);

void fw_cfg_select(uint16_t key);
void fw_cfg_read(void *buf, uint32_t len);

/* isa-debug-exit: the VMM exits with status (code << 1) | 1. */
__attribute__((noreturn)) void test_exit(uint8_t code);
/* Prints "FAIL: msg" and exits with status 3. */
__attribute__((noreturn)) void test_fail(const char *msg);
/* Stops this CPU for good; for tests whose end is a reset or power-off. */
__attribute__((noreturn)) void halt_forever(void);

void *memcpy(void *dst, const void *src, uint32_t n);
void *memset(void *dst, int c, uint32_t n);

/* Each kernel's C entry point, called by crt0.S on the boot stack. */
void kmain(uint32_t magic, const struct mb_info *mbi);

#endif
