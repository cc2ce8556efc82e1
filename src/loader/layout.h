/*
 * Where the loaders put things in guest physical memory.
 *
 *   0x00000 - 0x004ff  real-mode IVT and BIOS data area: never written
 *   0x00500 - 0x0051f  GDT: 0x10 code (32- or 64-bit), 0x18 flat data
 *   0x01000 - 0x01fff  bzImage boot_params ("zero page")
 *   0x02000 - 0x02fff  PVH hvm_start_info, module list, memory map
 *   0x03000 - 0x03fff  multiboot info, module list, memory map
 *   0x04000 - 0x07fff  boot stack (rsp = 0x8000; no protocol needs one,
 *                      but a sane rsp costs nothing)
 *   0x09000 - 0x0efff  identity page tables: PML4, PDPT, 4 page directories
 *   0x20000 - 0x2ffff  strings: command line, then multiboot loader name
 *                      and module name
 *   0x9fc00 - 0xfffff  EBDA, VGA hole, option ROMs, the board's ACPI tables
 *                      at 0xe0000: never written
 *   0x100000 ...       kernel; the initrd goes as high as it can in the RAM
 *                      below 4 GiB, above the kernel
 *
 * Each boot protocol uses only its own structure page, so the pages do not
 * need to be shared. Kernel segments below 1 MiB are refused: they would
 * overwrite the structures above or the board's tables.
 */
#ifndef KEMU_LOADER_LAYOUT_H
#define KEMU_LOADER_LAYOUT_H

#define LAYOUT_GDT 0x500
#define LAYOUT_BOOT_PARAMS 0x1000
#define LAYOUT_START_INFO 0x2000
#define LAYOUT_MB_INFO 0x3000
#define LAYOUT_STACK_TOP 0x8000
#define LAYOUT_PML4 0x9000
#define LAYOUT_PDPT 0xa000
#define LAYOUT_PD 0xb000 /* four pages, one per GiB */
#define LAYOUT_STRINGS 0x20000
#define LAYOUT_STRINGS_END 0x30000
#define LAYOUT_LOW_RAM_END 0x9fc00
#define LAYOUT_KERNEL 0x100000

#define LAYOUT_PAGE 0x1000ULL

#endif
