/*
 * Synthetic kernel images for the loader tests, built byte by byte from
 * the protocol specs so the tests do not depend on the loader's structs.
 */
#ifndef KEMU_TEST_LOADER_IMAGES_H
#define KEMU_TEST_LOADER_IMAGES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"

#define TEST_RAM (64ULL << 20)
#define TEST_HOLE 0xc0000000ULL

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A typical e820 map as the pc board would give it for 64 MiB. */
static inline void test_request(struct boot_request *req, const char *kernel)
{
	memset(req, 0, sizeof(*req));
	req->kernel = kernel;
	req->e820[0] = (struct e820_entry){ 0, 0x9fc00, E820_RAM };
	req->e820[1] = (struct e820_entry){ 0x9fc00, 0x400, E820_RESERVED };
	req->e820[2] = (struct e820_entry){ 0xe0000, 0x20000, E820_RESERVED };
	req->e820[3] = (struct e820_entry){ 0x100000, TEST_RAM - 0x100000, E820_RAM };
	req->ne820 = 4;
	req->rsdp = 0xe0000;
}

/* bzImage layout parameters. */
struct bz_params {
	uint16_t version;
	uint16_t xloadflags;
	uint8_t setup_sects;
	uint32_t init_size;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	size_t kernel_len; /* protected-mode part */
};

static inline struct bz_params bz_default(void)
{
	return (struct bz_params){
		.version = 0x020f, .xloadflags = 0x3, .setup_sects = 4, .init_size = 0x200000,
		.initrd_addr_max = 0x7fffffff, .cmdline_size = 2047, .kernel_len = 0x3000,
	};
}

/* Returns a malloc'd image; the protected-mode part is filled with i & 0xff ^ 0x5a. */
static inline uint8_t *bz_build(const struct bz_params *p, size_t *len)
{
	size_t setup = ((size_t)(p->setup_sects ? p->setup_sects : 4) + 1) * 512;
	*len = setup + p->kernel_len;
	uint8_t *b = calloc(1, *len);
	b[0x1f1] = p->setup_sects;
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x26c - 0x202;
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, p->version);
	b[0x211] = 0x01; /* LOADED_HIGH */
	put32(b + 0x214, 0x100000);
	put32(b + 0x22c, p->initrd_addr_max);
	put32(b + 0x230, 0x200000);
	b[0x234] = 1;
	put16(b + 0x236, p->xloadflags);
	put32(b + 0x238, p->cmdline_size);
	put64(b + 0x258, 0x1000000);
	put32(b + 0x260, p->init_size);
	for (size_t i = 0; i < p->kernel_len; i++)
		b[setup + i] = (uint8_t)(i ^ 0x5a);
	return b;
}

/* ELF writers: header plus program headers at 0x40 (64) or 0x34 (32). */
static inline void elf64_header(uint8_t *b, uint64_t entry, uint16_t phnum)
{
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = 2;
	b[5] = 1;
	b[6] = 1;
	put16(b + 16, 2);  /* ET_EXEC */
	put16(b + 18, 62); /* x86-64 */
	put32(b + 20, 1);
	put64(b + 24, entry);
	put64(b + 32, 0x40);
	put16(b + 52, 64);
	put16(b + 54, 56);
	put16(b + 56, phnum);
}

static inline void elf64_phdr(uint8_t *b, int i, uint32_t type, uint64_t off, uint64_t vaddr,
			      uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t align)
{
	uint8_t *p = b + 0x40 + i * 56;
	put32(p, type);
	put32(p + 4, 5);
	put64(p + 8, off);
	put64(p + 16, vaddr);
	put64(p + 24, paddr);
	put64(p + 32, filesz);
	put64(p + 40, memsz);
	put64(p + 48, align);
}

static inline void elf32_header(uint8_t *b, uint32_t entry, uint16_t phnum)
{
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = 1;
	b[5] = 1;
	b[6] = 1;
	put16(b + 16, 2);
	put16(b + 18, 3); /* i386 */
	put32(b + 20, 1);
	put32(b + 24, entry);
	put32(b + 28, 0x34);
	put16(b + 40, 52);
	put16(b + 42, 32);
	put16(b + 44, phnum);
}

static inline void elf32_phdr(uint8_t *b, int i, uint32_t type, uint32_t off, uint32_t vaddr,
			      uint32_t paddr, uint32_t filesz, uint32_t memsz)
{
	uint8_t *p = b + 0x34 + i * 32;
	put32(p, type);
	put32(p + 4, off);
	put32(p + 8, vaddr);
	put32(p + 12, paddr);
	put32(p + 16, filesz);
	put32(p + 20, memsz);
	put32(p + 24, 5);
	put32(p + 28, 0x1000);
}

/* A Xen note: namesz 4, descsz 4, type, "Xen\0", value. Returns its size. */
static inline size_t xen_note(uint8_t *p, uint32_t type, uint32_t value)
{
	put32(p, 4);
	put32(p + 4, 4);
	put32(p + 8, type);
	memcpy(p + 12, "Xen", 4);
	put32(p + 16, value);
	return 20;
}

#define PVH_FILE_LEN 0x2000
#define PVH_PADDR 0x200000ULL
#define PVH_VADDR 0xffffffff80200000ULL
#define PVH_ENTRY 0x200040
#define PVH_MEMSZ 0x3000

/*
 * vmlinux-like: a GNU note first (to be skipped), then the PVH note, one
 * PT_LOAD of 0x1000 bytes at 2 MiB with 0x2000 bytes of bss.
 */
static inline uint8_t *pvh_build(size_t *len)
{
	*len = PVH_FILE_LEN;
	uint8_t *b = calloc(1, *len);
	elf64_header(b, PVH_VADDR, 2);
	uint8_t *n = b + 0x100;
	put32(n, 4);
	put32(n + 4, 8);
	put32(n + 8, 3);
	memcpy(n + 12, "GNU", 4);
	size_t nl = 24;
	nl += xen_note(n + nl, 18, PVH_ENTRY);
	elf64_phdr(b, 0, 1, 0x1000, PVH_VADDR, PVH_PADDR, 0x1000, PVH_MEMSZ, 0x1000);
	elf64_phdr(b, 1, 4, 0x100, 0, 0, nl, nl, 4);
	for (size_t i = 0; i < 0x1000; i++)
		b[0x1000 + i] = (uint8_t)(i * 7 + 1);
	return b;
}

/* Multiboot header at off: magic, flags, checksum. */
static inline void mb_header(uint8_t *b, uint32_t flags)
{
	put32(b, 0x1badb002);
	put32(b + 4, flags);
	put32(b + 8, (uint32_t)-(0x1badb002u + flags));
}

#define MB_ELF_LEN 0x2000
#define MB_ELF_PADDR 0x100000
#define MB_ELF_ENTRY 0x100010

/* ELF32 multiboot kernel: header inside the one PT_LOAD at 1 MiB. */
static inline uint8_t *mb_elf_build(size_t *len)
{
	*len = MB_ELF_LEN;
	uint8_t *b = calloc(1, *len);
	elf32_header(b, MB_ELF_ENTRY, 1);
	elf32_phdr(b, 0, 1, 0x1000, MB_ELF_PADDR, MB_ELF_PADDR, 0x1000, 0x2000);
	mb_header(b + 0x1000, 0x3);
	for (size_t i = 12; i < 0x1000; i++)
		b[0x1000 + i] = (uint8_t)(i * 3);
	return b;
}

#define MB_AOUT_LOAD 0x200000
#define MB_AOUT_LEN 0x1800
#define MB_AOUT_BSS 0x1000
#define MB_AOUT_ENTRY (MB_AOUT_LOAD + 0x40)

/* Flat binary with the a.out kludge; the header sits 0x20 into the image. */
static inline uint8_t *mb_aout_build(size_t *len)
{
	*len = MB_AOUT_LEN;
	uint8_t *b = calloc(1, *len);
	for (size_t i = 0; i < *len; i++)
		b[i] = (uint8_t)(i * 5 + 3);
	uint8_t *h = b + 0x20;
	mb_header(h, 0x10003);
	put32(h + 12, MB_AOUT_LOAD + 0x20);
	put32(h + 16, MB_AOUT_LOAD);
	put32(h + 20, MB_AOUT_LOAD + MB_AOUT_LEN);
	put32(h + 24, MB_AOUT_LOAD + MB_AOUT_LEN + MB_AOUT_BSS);
	put32(h + 28, MB_AOUT_ENTRY);
	return b;
}

/*
 * Loads every prefix of img and a few thousand single-byte corruptions:
 * the loader must fail cleanly or succeed, never crash or touch memory
 * outside RAM. Returns how many attempts succeeded.
 */
static inline int hammer_image(const struct guest_mem *m, const struct boot_request *req,
			       const uint8_t *img, size_t len)
{
	struct boot_result out;
	struct error e;
	int ok = 0;
	for (size_t l = 0; l < len; l++) {
		uint8_t *copy = malloc(l ? l : 1);
		memcpy(copy, img, l);
		ok += !loader_load_image(m, req, copy, l, NULL, 0, &out, &e);
		free(copy);
	}
	uint8_t *copy = malloc(len);
	unsigned seed = 12345;
	for (int i = 0; i < 3000; i++) {
		memcpy(copy, img, len);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % (len < 0x400 ? len : 0x400);
			seed = seed * 1103515245 + 12345;
			copy[at] = (uint8_t)(seed >> 16);
		}
		ok += !loader_load_image(m, req, copy, len, NULL, 0, &out, &e);
	}
	free(copy);
	return ok;
}

#endif
