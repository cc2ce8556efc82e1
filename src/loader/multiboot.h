/*
 * Multiboot v1 structures (the Multiboot Specification 0.6.96), written
 * from the published layout; the framebuffer fields after vbe_* are not
 * provided, so they are left out.
 */
#ifndef KEMU_LOADER_MULTIBOOT_H
#define KEMU_LOADER_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC 0x1badb002
#define MB_BOOT_MAGIC 0x2badb002
#define MB_SEARCH_LIMIT 8192

/* Header flags. */
#define MB_HF_PAGE_ALIGN (1u << 0)
#define MB_HF_MEMORY_INFO (1u << 1)
#define MB_HF_VIDEO_MODE (1u << 2)
#define MB_HF_AOUT_KLUDGE (1u << 16)

/* Info flags. */
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
};

struct multiboot_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string;
	uint32_t reserved;
};

/* size counts the bytes after itself, so the guest can skip entries. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct multiboot_info) == 88, "multiboot_info size");
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "mmap entry size");

/* Placement inside the LAYOUT_MB_INFO page. */
#define MB_MODS_OFF 0x80
#define MB_MMAP_OFF 0x100

/*
 * Finds the header in the first 8 KiB: 0 and *off, -EBADMSG if only
 * headers with a bad checksum were seen, -ENOEXEC if none.
 */
int multiboot_find(const uint8_t *img, size_t len, size_t *off);

#endif
