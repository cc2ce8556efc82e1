/*
 * Xen PVH boot ABI structures (xen/include/public/arch-x86/hvm/start_info.h
 * layout, version 1), written from the published field list.
 */
#ifndef KEMU_LOADER_PVH_H
#define KEMU_LOADER_PVH_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info size");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist entry size");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry size");

/* Placement inside the LAYOUT_START_INFO page. */
#define PVH_MODLIST_OFF 0x40
#define PVH_MEMMAP_OFF 0x80

#endif
