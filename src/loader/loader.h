/*
 * Kernel loaders. loader_load() recognises the image by its contents:
 *   - Linux bzImage (boot protocol >= 2.06 with 64-bit entry): boot_params
 *     ("zero page"), e820, command line, initrd, identity page tables and
 *     a GDT, entered directly in 64-bit mode; or, with prefer_pvh, its
 *     compressed payload unpacked on the host and the vmlinux inside booted
 *     through PVH;
 *   - ELF vmlinux with a Xen PVH entry note: hvm_start_info, entered in
 *     32-bit flat protected mode with paging off;
 *   - multiboot v1 kernels (ELF, or a.out-kludge): multiboot info with
 *     memory map, command line and the initrd as a module.
 * Anything else is refused with a message naming the file.
 */
#ifndef KEMU_LOADER_LOADER_H
#define KEMU_LOADER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu_state.h"
#include "core/mem.h"
#include "util/error.h"

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_MAX 32

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_request {
	const char *kernel;  /* path, for loading and for messages */
	const char *initrd;  /* may be NULL */
	const char *cmdline; /* may be NULL: empty */
	struct e820_entry e820[E820_MAX];
	int ne820;
	uint64_t rsdp;       /* ACPI RSDP address, 0 if none */
	/*
	 * For a bzImage: unpack its payload on the host and, when the ELF
	 * inside has a PVH note, boot that instead (BOOT_PVH). Saves the
	 * guest decompressing itself, which dominates an interpreted boot.
	 * Images that cannot be unpacked on the host boot as bzImages.
	 */
	bool prefer_pvh;
};

enum boot_format { BOOT_BZIMAGE, BOOT_PVH, BOOT_MULTIBOOT };

struct boot_result {
	enum boot_format format;
	struct x86_cpu_state cpu; /* entry state of the boot CPU */
};

/* Reads the files and loads them into guest memory. */
int loader_load(const struct guest_mem *m, const struct boot_request *req,
		struct boot_result *out, struct error *e);

/*
 * The same on images already in memory (unit tests and fuzzers); name is
 * only used in messages.
 */
int loader_load_image(const struct guest_mem *m, const struct boot_request *req,
		      const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
		      size_t initrd_len, struct boot_result *out, struct error *e);

/* Per-format entry points, used by loader_load_image() and by tests. */
int bzimage_load(const struct guest_mem *m, const struct boot_request *req, const uint8_t *img,
		 size_t len, const uint8_t *initrd, size_t initrd_len, struct boot_result *out,
		 struct error *e);
int pvh_load(const struct guest_mem *m, const struct boot_request *req, const uint8_t *img,
	     size_t len, const uint8_t *initrd, size_t initrd_len, struct boot_result *out,
	     struct error *e);
int multiboot_load(const struct guest_mem *m, const struct boot_request *req, const uint8_t *img,
		   size_t len, const uint8_t *initrd, size_t initrd_len, struct boot_result *out,
		   struct error *e);
/*
 * The prefer_pvh path for a bzImage (bzimage_unpack.c): 0 when the unpacked
 * vmlinux was loaded through pvh_load(), 1 when the image cannot take this
 * path (old protocol, unsupported compression, no PVH note) and should be
 * loaded by bzimage_load(), or a negative errno when the image is broken.
 */
int bzimage_load_pvh(const struct guest_mem *m, const struct boot_request *req,
		     const uint8_t *img, size_t len, const uint8_t *initrd, size_t initrd_len,
		     struct boot_result *out, struct error *e);
/*
 * Which loader recognises the image: 0 and *fmt, or -ENOEXEC. Any image
 * with the bzImage "HdrS" signature is claimed as BOOT_BZIMAGE, so that
 * bzimage_load() can say why an old or 32-bit-only kernel is refused.
 */
int loader_probe(const uint8_t *img, size_t len, enum boot_format *fmt);

#endif
