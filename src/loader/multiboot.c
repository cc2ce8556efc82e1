/*
 * Multiboot v1 kernels, either ELF (loaded by program headers) or with the
 * a.out kludge (loaded by the header's address fields). Command line and
 * module name follow what QEMU gives, so the same test kernels see the
 * same strings: argv0 is the kernel path, the module string is the initrd
 * path.
 */
#include "loader/multiboot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/boot_setup.h"
#include "loader/elf.h"
#include "loader/layout.h"
#include "loader/le.h"
#include "loader/loader.h"

#define GIB4 (1ULL << 32)
#define MB_MEM_LOWER_KB 639
/* Bits 0-15 are mandatory: a loader must refuse those it cannot honour. */
#define MB_HF_KNOWN (MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_VIDEO_MODE)

_Static_assert(MB_MODS_OFF >= sizeof(struct multiboot_info), "mods overlap info");
_Static_assert(MB_MMAP_OFF >= MB_MODS_OFF + sizeof(struct multiboot_module), "mmap overlaps mods");
_Static_assert(MB_MMAP_OFF + E820_MAX * sizeof(struct multiboot_mmap_entry) <= LAYOUT_PAGE,
	       "multiboot page overflow");

int multiboot_find(const uint8_t *img, size_t len, size_t *off)
{
	int r = -ENOEXEC;
	size_t limit = len < MB_SEARCH_LIMIT ? len : MB_SEARCH_LIMIT;
	for (size_t o = 0; o + 12 <= limit; o += 4) {
		uint32_t magic = get_le32(img + o);
		if (magic != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(magic + get_le32(img + o + 4) + get_le32(img + o + 8)) == 0) {
			*off = o;
			return 0;
		}
		r = -EBADMSG;
	}
	return r;
}

/* The a.out kludge: one contiguous image described by the header. */
static int load_kludge(const struct guest_mem *m, const uint8_t *img, size_t len, size_t off,
		       const char *name, uint64_t *entry, uint64_t *end, struct error *e)
{
	if (off + 32 > len)
		return error_set(e, -ENOEXEC, "%s: truncated multiboot header", name);
	uint32_t header_addr = get_le32(img + off + 12), load_addr = get_le32(img + off + 16);
	uint32_t load_end = get_le32(img + off + 20), bss_end = get_le32(img + off + 24);
	uint32_t entry_addr = get_le32(img + off + 28);

	if (header_addr < load_addr || header_addr - load_addr > off)
		return error_set(e, -ENOEXEC,
				 "%s: multiboot header_addr 0x%x and load_addr 0x%x disagree with "
				 "the header's file offset 0x%zx",
				 name, header_addr, load_addr, off);
	uint64_t file_start = off - (header_addr - load_addr);
	uint64_t file_len = load_end ? (uint64_t)load_end - load_addr : len - file_start;
	if (load_end && load_end < load_addr)
		return error_set(e, -ENOEXEC, "%s: multiboot load_end_addr below load_addr", name);
	if (file_len > len - file_start)
		return error_set(e, -ENOEXEC,
				 "%s: multiboot load range (0x%" PRIx64 " bytes) exceeds the file",
				 name, file_len);
	uint64_t mem_len = file_len;
	if (bss_end) {
		if (bss_end < load_addr + file_len)
			return error_set(e, -ENOEXEC,
					 "%s: multiboot bss_end_addr 0x%x below load end", name,
					 bss_end);
		mem_len = (uint64_t)bss_end - load_addr;
	}
	if (load_addr < LAYOUT_KERNEL)
		return error_set(e, -EFAULT,
				 "%s: multiboot load_addr 0x%x is below 1 MiB, where boot data lives",
				 name, load_addr);
	uint8_t *dst = guest_ptr(m, load_addr, mem_len);
	if (!dst)
		return error_set(e, -EFAULT,
				 "%s: multiboot image (0x%x+0x%" PRIx64 ") is not in guest RAM",
				 name, load_addr, mem_len);
	if (entry_addr < load_addr || entry_addr - load_addr >= mem_len)
		return error_set(e, -ENOEXEC, "%s: multiboot entry 0x%x is outside the image",
				 name, entry_addr);
	memcpy(dst, img + file_start, file_len);
	memset(dst + file_len, 0, mem_len - file_len);
	*entry = entry_addr;
	*end = load_addr + mem_len;
	return 0;
}

static int load_elf(const struct guest_mem *m, const uint8_t *img, size_t len, const char *name,
		    uint64_t *entry, uint64_t *end, struct error *e)
{
	struct elf_file ef;
	int r = elf_open(&ef, img, len, name, e);
	if (r)
		return r;
	if ((r = elf_load(m, &ef, name, end, e)))
		return r;
	/* Kernels linked high still run their entry with paging off. */
	*entry = elf_virt_to_phys(&ef, ef.entry);
	if (*entry >= GIB4)
		return error_set(e, -ENOEXEC, "%s: entry point 0x%" PRIx64 " is above 4 GiB",
				 name, *entry);
	return 0;
}

/* Contiguous RAM from 1 MiB up, the spec's "upper memory". */
static uint32_t upper_memory_kb(const struct e820_entry *map, int n)
{
	uint64_t top = LAYOUT_KERNEL;
	for (int progress = 1; progress;) {
		progress = 0;
		for (int i = 0; i < n; i++) {
			uint64_t end = map[i].addr + map[i].size;
			if (map[i].type == E820_RAM && map[i].addr <= top && end > top) {
				top = end;
				progress = 1;
			}
		}
	}
	uint64_t kb = (top - LAYOUT_KERNEL) >> 10;
	return kb > UINT32_MAX ? UINT32_MAX : (uint32_t)kb;
}

static int write_strings(const struct guest_mem *m, const struct boot_request *req,
			 struct multiboot_info *mbi, uint32_t *mod_string, struct error *e)
{
	const char *kernel = boot_kernel_name(req);
	const char *append = req->cmdline ? req->cmdline : "";
	char *cmdline;
	if (asprintf(&cmdline, "%s%s%s", kernel, *append ? " " : "", append) < 0)
		return error_set(e, -ENOMEM, "%s: out of memory", kernel);
	struct boot_strings s;
	uint64_t cmd, loader, mod = 0;
	boot_strings_init(&s);
	int r = boot_put_string(m, req, &s, cmdline, &cmd, e);
	free(cmdline);
	if (!r)
		r = boot_put_string(m, req, &s, "kemu", &loader, e);
	if (!r && req->initrd)
		r = boot_put_string(m, req, &s, req->initrd, &mod, e);
	if (r)
		return r;
	mbi->cmdline = (uint32_t)cmd;
	mbi->boot_loader_name = (uint32_t)loader;
	*mod_string = (uint32_t)mod;
	return 0;
}

int multiboot_load(const struct guest_mem *m, const struct boot_request *req, const uint8_t *img,
		   size_t len, const uint8_t *initrd, size_t initrd_len, struct boot_result *out,
		   struct error *e)
{
	const char *name = boot_kernel_name(req);
	size_t off;
	int r = multiboot_find(img, len, &off);
	if (r == -EBADMSG)
		return error_set(e, -ENOEXEC, "%s: multiboot header has a bad checksum", name);
	if (r)
		return error_set(e, -ENOEXEC, "%s: no multiboot header in the first 8 KiB", name);
	uint32_t flags = get_le32(img + off + 4);
	if (flags & 0xffff & ~MB_HF_KNOWN)
		return error_set(e, -ENOEXEC, "%s: multiboot header requires unsupported flags 0x%x",
				 name, flags & 0xffff & ~MB_HF_KNOWN);
	if (initrd_len >= GIB4)
		return error_set(e, -EFBIG, "%s: initrd larger than 4 GiB", boot_initrd_name(req));

	struct e820_entry map[E820_MAX];
	int n;
	if ((r = boot_e820(m, req, map, &n, e)))
		return r;
	uint64_t entry = 0, end = 0;
	r = flags & MB_HF_AOUT_KLUDGE ? load_kludge(m, img, len, off, name, &entry, &end, e)
				      : load_elf(m, img, len, name, &entry, &end, e);
	if (r)
		return r;

	/* Video mode requests (bit 2) are ignored: no VBE info is offered. */
	struct multiboot_info mbi = {
		.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP |
			 MB_INFO_LOADER_NAME,
		.mem_lower = MB_MEM_LOWER_KB,
		.mem_upper = upper_memory_kb(map, n),
		.mods_addr = LAYOUT_MB_INFO + MB_MODS_OFF,
		.mmap_addr = LAYOUT_MB_INFO + MB_MMAP_OFF,
		.mmap_length = (uint32_t)(n * sizeof(struct multiboot_mmap_entry)),
	};
	struct multiboot_module mod = { 0 };
	if ((r = write_strings(m, req, &mbi, &mod.string, e)))
		return r;
	if (initrd) {
		/* Always page aligned, which satisfies MB_HF_PAGE_ALIGN. */
		uint64_t addr;
		if ((r = boot_place_initrd(m, req, initrd, initrd_len, end, guest_mem_low_end(m),
					   &addr, e)))
			return r;
		mod.mod_start = (uint32_t)addr;
		mod.mod_end = (uint32_t)(addr + initrd_len);
		mbi.mods_count = 1;
	}

	struct multiboot_mmap_entry mm[E820_MAX];
	for (int i = 0; i < n; i++)
		mm[i] = (struct multiboot_mmap_entry){ 20, map[i].addr, map[i].size, map[i].type };
	if (guest_write(m, LAYOUT_MB_INFO, &mbi, sizeof(mbi)) ||
	    guest_write(m, mbi.mods_addr, &mod, sizeof(mod)) ||
	    guest_write(m, mbi.mmap_addr, mm, mbi.mmap_length))
		return error_set(e, -ENOMEM, "%s: no RAM for multiboot info at 0x%x", name,
				 LAYOUT_MB_INFO);
	if ((r = boot_write_gdt(m, req, false, e)))
		return r;

	out->format = BOOT_MULTIBOOT;
	x86_state_flat32(&out->cpu, LAYOUT_GDT, GDT_LIMIT);
	boot_entry_common(&out->cpu);
	out->cpu.rip = entry;
	out->cpu.gpr[R_RAX] = MB_BOOT_MAGIC;
	out->cpu.gpr[R_RBX] = LAYOUT_MB_INFO;
	return 0;
}
