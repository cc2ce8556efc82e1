/*
 * Pieces every boot protocol shares: the GDT, identity page tables, the
 * string area, the e820 map handed to the guest and initrd placement.
 * Addresses come from layout.h.
 */
#ifndef KEMU_LOADER_BOOT_SETUP_H
#define KEMU_LOADER_BOOT_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "loader/loader.h"

#define GDT_LIMIT (4 * 8 - 1)

/* Names for messages; requests built by tests may leave them NULL. */
const char *boot_kernel_name(const struct boot_request *req);
const char *boot_initrd_name(const struct boot_request *req);

/*
 * The memory map the guest sees: req's own, or, when the board gave none,
 * one derived from the RAM regions with the legacy hole reserved.
 */
int boot_e820(const struct guest_mem *m, const struct boot_request *req,
	      struct e820_entry out[E820_MAX], int *n, struct error *e);

/* GDT at LAYOUT_GDT: 0x10 code (64-bit if long_mode), 0x18 data. */
int boot_write_gdt(const struct guest_mem *m, const struct boot_request *req, bool long_mode,
		   struct error *e);

/* Identity map of the first 4 GiB with 2 MiB pages, rooted at LAYOUT_PML4. */
int boot_write_page_tables(const struct guest_mem *m, const struct boot_request *req,
			   struct error *e);

/* Bump allocator over [LAYOUT_STRINGS, LAYOUT_STRINGS_END). */
struct boot_strings {
	uint64_t next;
};

void boot_strings_init(struct boot_strings *s);
/* Copies str and its NUL; *gpa is where it went. */
int boot_put_string(const struct guest_mem *m, const struct boot_request *req,
		    struct boot_strings *s, const char *str, uint64_t *gpa, struct error *e);

/*
 * Copies the initrd to the highest page-aligned address at which it lies
 * wholly inside e820 RAM and inside [lo, hi).
 */
int boot_place_initrd(const struct guest_mem *m, const struct boot_request *req,
		      const uint8_t *initrd, size_t len, uint64_t lo, uint64_t hi,
		      uint64_t *addr, struct error *e);

/* Common part of every entry state: boot stack, interrupts off. */
void boot_entry_common(struct x86_cpu_state *s);

#endif
