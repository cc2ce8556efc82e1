/*
 * Linux x86 boot protocol structures (Documentation/arch/x86/boot.rst and
 * zero-page.rst), written from the published offsets; only the fields
 * kemu touches are named, the rest is padding.
 */
#ifndef KEMU_LOADER_BOOTPARAM_H
#define KEMU_LOADER_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>

#define BZ_HDRS_MAGIC 0x53726448 /* "HdrS" */
#define BZ_SETUP_HEADER_OFF 0x1f1
#define BZ_LOADED_HIGH (1 << 0)
#define BZ_KEEP_SEGMENTS (1 << 6)
#define BZ_CAN_USE_HEAP (1 << 7)
#define BZ_XLF_KERNEL_64 (1 << 0)
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G (1 << 1)
#define BZ_ZERO_PAGE_E820_MAX 128

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct boot_e820 {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_params {
	uint8_t pad0[0x070];
	uint64_t acpi_rsdp_addr;	/* 0x070 */
	uint8_t pad1[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image;	/* 0x0c0 */
	uint32_t ext_ramdisk_size;	/* 0x0c4 */
	uint32_t ext_cmd_line_ptr;	/* 0x0c8 */
	uint8_t pad2[0x1e8 - 0x0cc];
	uint8_t e820_entries;		/* 0x1e8 */
	uint8_t pad3[BZ_SETUP_HEADER_OFF - 0x1e9];
	struct setup_header hdr;	/* 0x1f1 */
	uint8_t pad4[0x2d0 - 0x1f1 - sizeof(struct setup_header)];
	struct boot_e820 e820_table[BZ_ZERO_PAGE_E820_MAX]; /* 0x2d0 */
	uint8_t pad5[0x1000 - 0x2d0 - BZ_ZERO_PAGE_E820_MAX * sizeof(struct boot_e820)];
} __attribute__((packed));

_Static_assert(offsetof(struct boot_params, hdr) + offsetof(struct setup_header, header) == 0x202,
	       "HdrS offset");
_Static_assert(offsetof(struct boot_params, hdr) + offsetof(struct setup_header, cmd_line_ptr) ==
		       0x228,
	       "cmd_line_ptr offset");
_Static_assert(offsetof(struct boot_params, hdr) + offsetof(struct setup_header, xloadflags) ==
		       0x236,
	       "xloadflags offset");
_Static_assert(offsetof(struct boot_params, hdr) + sizeof(struct setup_header) == 0x26c,
	       "setup header end");
_Static_assert(sizeof(struct boot_params) == 0x1000, "zero page size");

#endif
