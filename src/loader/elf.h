/*
 * Just enough ELF (32- and 64-bit, little-endian x86) to load program
 * headers by physical address and to find the Xen PVH entry note. Every
 * offset and size read from the file is checked against its length.
 */
#ifndef KEMU_LOADER_ELF_H
#define KEMU_LOADER_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"

#define ELF_PT_LOAD 1
#define ELF_PT_NOTE 4
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf_file {
	const uint8_t *img;
	size_t len;
	int is64;
	uint64_t entry;
	uint64_t phoff;
	uint32_t phentsize;
	uint32_t phnum;
};

/* Both classes widened to one shape. */
struct elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Quick check of the identification bytes only (for probing). */
int elf_is_elf(const uint8_t *img, size_t len);

/* 0, or -ENOEXEC with a message when the header or program table is bad. */
int elf_open(struct elf_file *ef, const uint8_t *img, size_t len, const char *name,
	     struct error *e);
/* i < ef->phnum; the table was bounds-checked by elf_open(). */
void elf_phdr(const struct elf_file *ef, uint32_t i, struct elf_phdr *ph);

/* The PHYS32_ENTRY from a Xen note in a PT_NOTE segment: 0, or -ENOENT. */
int elf_pvh_entry(const struct elf_file *ef, uint64_t *entry);

/*
 * Copies every PT_LOAD segment to its p_paddr and zeroes the rest up to
 * p_memsz. Segments must lie in RAM at or above LAYOUT_KERNEL, and below
 * 4 GiB since both users enter in 32-bit mode. *end is the highest byte
 * loaded plus one.
 */
int elf_load(const struct guest_mem *m, const struct elf_file *ef, const char *name,
	     uint64_t *end, struct error *e);

/* The physical address of vaddr if a PT_LOAD segment maps it, else vaddr. */
uint64_t elf_virt_to_phys(const struct elf_file *ef, uint64_t vaddr);

#endif
