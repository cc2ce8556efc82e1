/*
 * ELF kernels with a Xen PVH entry note (Linux vmlinux built with
 * CONFIG_PVH, and others): segments go to their physical addresses, the
 * CPU starts in flat 32-bit protected mode with paging off, ebx pointing
 * at hvm_start_info.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "loader/boot_setup.h"
#include "loader/elf.h"
#include "loader/layout.h"
#include "loader/loader.h"
#include "loader/pvh.h"

_Static_assert(PVH_MODLIST_OFF >= sizeof(struct hvm_start_info), "modlist overlaps start_info");
_Static_assert(PVH_MEMMAP_OFF >= PVH_MODLIST_OFF + sizeof(struct hvm_modlist_entry),
	       "memmap overlaps modlist");
_Static_assert(PVH_MEMMAP_OFF + E820_MAX * sizeof(struct hvm_memmap_table_entry) <= LAYOUT_PAGE,
	       "start_info page overflow");

int pvh_load(const struct guest_mem *m, const struct boot_request *req, const uint8_t *img,
	     size_t len, const uint8_t *initrd, size_t initrd_len, struct boot_result *out,
	     struct error *e)
{
	const char *name = boot_kernel_name(req);
	struct elf_file ef;
	uint64_t entry = 0, end = 0;
	int r = elf_open(&ef, img, len, name, e);
	if (r)
		return r;
	if (elf_pvh_entry(&ef, &entry))
		return error_set(e, -ENOEXEC, "%s: ELF kernel has no Xen PVH entry note", name);
	if (entry >= (1ULL << 32))
		return error_set(e, -ENOEXEC, "%s: PVH entry 0x%" PRIx64 " is above 4 GiB", name,
				 entry);

	struct e820_entry map[E820_MAX];
	int n;
	if ((r = boot_e820(m, req, map, &n, e)))
		return r;
	if ((r = elf_load(m, &ef, name, &end, e)))
		return r;

	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.rsdp_paddr = req->rsdp,
		.memmap_paddr = LAYOUT_START_INFO + PVH_MEMMAP_OFF,
		.memmap_entries = (uint32_t)n,
	};
	struct boot_strings strings;
	boot_strings_init(&strings);
	if ((r = boot_put_string(m, req, &strings, req->cmdline ? req->cmdline : "",
				 &si.cmdline_paddr, e)))
		return r;

	struct hvm_modlist_entry mod = { 0 };
	if (initrd) {
		if ((r = boot_place_initrd(m, req, initrd, initrd_len, end, guest_mem_low_end(m),
					   &mod.paddr, e)))
			return r;
		mod.size = initrd_len;
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_START_INFO + PVH_MODLIST_OFF;
	}

	struct hvm_memmap_table_entry mm[E820_MAX];
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ map[i].addr, map[i].size, map[i].type, 0 };
	if (guest_write(m, LAYOUT_START_INFO, &si, sizeof(si)) ||
	    guest_write(m, si.memmap_paddr, mm, sizeof(mm[0]) * (size_t)n) ||
	    guest_write(m, LAYOUT_START_INFO + PVH_MODLIST_OFF, &mod, sizeof(mod)))
		return error_set(e, -ENOMEM, "%s: no RAM for hvm_start_info at 0x%x", name,
				 LAYOUT_START_INFO);
	if ((r = boot_write_gdt(m, req, false, e)))
		return r;

	out->format = BOOT_PVH;
	x86_state_flat32(&out->cpu, LAYOUT_GDT, GDT_LIMIT);
	boot_entry_common(&out->cpu);
	out->cpu.rip = entry;
	out->cpu.gpr[R_RBX] = LAYOUT_START_INFO;
	return 0;
}
