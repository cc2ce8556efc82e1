/*
 * Linux bzImage, entered directly at its 64-bit entry point (boot protocol
 * 2.06+, XLF_KERNEL_64): no real-mode setup code runs, so the loader does
 * what the setup code would (boot_params, e820) and what the 32-bit entry
 * would (page tables, long mode).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "loader/boot_setup.h"
#include "loader/bootparam.h"
#include "loader/layout.h"
#include "loader/le.h"
#include "loader/loader.h"

#define HDR_END_MAX (BZ_SETUP_HEADER_OFF + sizeof(struct setup_header))
/* The header is read at least through the version field. */
#define HDR_MIN 0x208
#define PROTO(maj, min) ((maj) << 8 | (min))
/* Conventional setup heap end for loaders that skip real mode. */
#define HEAP_END 0xfe00
#define ENTRY64_OFFSET 0x200
#define DEFAULT_INITRD_MAX 0x37ffffff

/* Reads and checks the setup header; hdr comes back zero-extended. */
static int read_header(const uint8_t *img, size_t len, const char *name,
		       struct setup_header *hdr, struct error *e)
{
	if (len < HDR_MIN)
		return error_set(e, -ENOEXEC, "%s: truncated bzImage header", name);
	if (get_le32(img + 0x202) != BZ_HDRS_MAGIC)
		return error_set(e, -ENOEXEC, "%s: not a bzImage (no HdrS signature)", name);
	/* The header's own length lives in the jump instruction's operand. */
	size_t end = 0x202 + (size_t)img[0x201];
	if (end > len)
		return error_set(e, -ENOEXEC, "%s: truncated bzImage header", name);
	if (end > HDR_END_MAX)
		end = HDR_END_MAX;
	if (end < HDR_MIN)
		end = HDR_MIN;
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, img + BZ_SETUP_HEADER_OFF, end - BZ_SETUP_HEADER_OFF);
	uint16_t v = hdr->version;
	if (v < PROTO(2, 6))
		return error_set(e, -ENOEXEC,
				 "%s: boot protocol %u.%02u is too old (need 2.06 or newer)", name,
				 v >> 8, v & 0xff);
	if (end < 0x23c || v < PROTO(2, 12) || !(hdr->xloadflags & BZ_XLF_KERNEL_64))
		return error_set(e, -ENOEXEC,
				 "%s: bzImage has no 64-bit entry point (XLF_KERNEL_64)", name);
	return 0;
}

static void fill_boot_params(struct boot_params *bp, const struct setup_header *hdr,
			     const struct boot_request *req, const struct e820_entry *map, int n,
			     uint64_t cmdline)
{
	memset(bp, 0, sizeof(*bp));
	bp->hdr = *hdr;
	bp->hdr.type_of_loader = 0xff;
	bp->hdr.loadflags |= BZ_LOADED_HIGH | BZ_CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = HEAP_END;
	bp->hdr.code32_start = LAYOUT_KERNEL;
	bp->hdr.cmd_line_ptr = (uint32_t)cmdline;
	bp->ext_cmd_line_ptr = (uint32_t)(cmdline >> 32);
	if (hdr->version >= PROTO(2, 14))
		bp->acpi_rsdp_addr = req->rsdp;
	for (int i = 0; i < n; i++)
		bp->e820_table[i] = (struct boot_e820){ map[i].addr, map[i].size, map[i].type };
	bp->e820_entries = (uint8_t)n;
}

int bzimage_load(const struct guest_mem *m, const struct boot_request *req, const uint8_t *img,
		 size_t len, const uint8_t *initrd, size_t initrd_len, struct boot_result *out,
		 struct error *e)
{
	const char *name = boot_kernel_name(req);
	struct setup_header hdr = { 0 };
	int r = read_header(img, len, name, &hdr, e);
	if (r)
		return r;

	uint64_t kernel_off = ((uint64_t)(hdr.setup_sects ? hdr.setup_sects : 4) + 1) * 512;
	if (kernel_off >= len)
		return error_set(e, -ENOEXEC,
				 "%s: setup size (%u sectors) leaves no kernel in the %zu-byte file",
				 name, hdr.setup_sects, len);
	uint64_t kernel_len = len - kernel_off;
	uint64_t need = kernel_len;
	if (hdr.version >= PROTO(2, 10) && hdr.init_size > need)
		need = hdr.init_size;
	uint64_t low = guest_mem_low_end(m);
	if (need > low || LAYOUT_KERNEL > low - need || !guest_ptr(m, LAYOUT_KERNEL, need))
		return error_set(e, -ENOMEM,
				 "%s: kernel needs 0x%" PRIx64 " bytes at 0x%x, more than RAM holds",
				 name, need, LAYOUT_KERNEL);

	const char *cmdline = req->cmdline ? req->cmdline : "";
	size_t cmdlen = strlen(cmdline);
	if (cmdlen > hdr.cmdline_size)
		return error_set(e, -E2BIG,
				 "%s: command line is %zu bytes, the kernel accepts at most %u",
				 name, cmdlen, hdr.cmdline_size);
	if (initrd_len > UINT32_MAX)
		return error_set(e, -EFBIG, "%s: initrd larger than 4 GiB",
				 boot_initrd_name(req));

	struct e820_entry map[E820_MAX];
	int n;
	if ((r = boot_e820(m, req, map, &n, e)))
		return r;

	struct boot_strings strings;
	uint64_t cmdline_gpa;
	boot_strings_init(&strings);
	if ((r = boot_put_string(m, req, &strings, cmdline, &cmdline_gpa, e)))
		return r;
	struct boot_params bp;
	fill_boot_params(&bp, &hdr, req, map, n, cmdline_gpa);

	if (initrd) {
		/*
		 * Keep clear of both the loaded image's init_size and the area
		 * a relocatable kernel decompresses into (pref_address).
		 */
		uint64_t lo = LAYOUT_KERNEL + need;
		if (hdr.version >= PROTO(2, 10) && hdr.pref_address < (1ULL << 32) &&
		    hdr.pref_address + hdr.init_size > lo)
			lo = hdr.pref_address + hdr.init_size;
		uint64_t max = hdr.initrd_addr_max ? hdr.initrd_addr_max : DEFAULT_INITRD_MAX;
		uint64_t hi = (uint64_t)max + 1 < low ? (uint64_t)max + 1 : low;
		uint64_t addr;
		if ((r = boot_place_initrd(m, req, initrd, initrd_len, lo, hi, &addr, e)))
			return r;
		bp.hdr.ramdisk_image = (uint32_t)addr;
		bp.hdr.ramdisk_size = (uint32_t)initrd_len;
	}

	memcpy(guest_ptr(m, LAYOUT_KERNEL, kernel_len), img + kernel_off, kernel_len);
	if (guest_write(m, LAYOUT_BOOT_PARAMS, &bp, sizeof(bp)))
		return error_set(e, -ENOMEM, "%s: no RAM for boot_params at 0x%x", name,
				 LAYOUT_BOOT_PARAMS);
	if ((r = boot_write_gdt(m, req, true, e)) || (r = boot_write_page_tables(m, req, e)))
		return r;

	out->format = BOOT_BZIMAGE;
	x86_state_long64(&out->cpu, LAYOUT_PML4, LAYOUT_GDT, GDT_LIMIT);
	boot_entry_common(&out->cpu);
	out->cpu.rip = LAYOUT_KERNEL + ENTRY64_OFFSET;
	out->cpu.gpr[R_RSI] = LAYOUT_BOOT_PARAMS;
	return 0;
}
