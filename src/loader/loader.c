/*
 * Kernel loaders: loader_load() reads the kernel and initrd files,
 * loader_probe() picks the boot protocol from the image's contents and the
 * per-format loaders (bzimage.c, pvh.c, multiboot.c) lay the guest out as
 * described in layout.h and return the boot CPU's entry state. Shared
 * pieces (GDT, page tables, strings, initrd placement) live in
 * boot_setup.c, ELF parsing in elf.c. With req->prefer_pvh a bzImage is
 * first unpacked on the host (bzimage_unpack.c) and booted through PVH.
 * Images are untrusted: every length read from them is checked against the
 * file before use.
 */
#include "loader/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/boot_setup.h"
#include "loader/elf.h"
#include "loader/le.h"
#include "loader/multiboot.h"

int loader_probe(const uint8_t *img, size_t len, enum boot_format *fmt)
{
	size_t off;
	uint64_t entry;
	struct elf_file ef;

	/*
	 * Any HdrS image counts as a bzImage so that bzimage_load() can say
	 * precisely what is missing (old protocol, no 64-bit entry).
	 */
	if (len >= 0x206 && get_le32(img + 0x202) == 0x53726448) {
		*fmt = BOOT_BZIMAGE;
		return 0;
	}
	/* A multiboot header is an explicit request; it outranks a PVH note. */
	if (!multiboot_find(img, len, &off)) {
		*fmt = BOOT_MULTIBOOT;
		return 0;
	}
	if (!elf_open(&ef, img, len, "", NULL) && !elf_pvh_entry(&ef, &entry)) {
		*fmt = BOOT_PVH;
		return 0;
	}
	return -ENOEXEC;
}

static int explain_unknown(const uint8_t *img, size_t len, const char *name, struct error *e)
{
	size_t off;
	if (multiboot_find(img, len, &off) == -EBADMSG)
		return error_set(e, -ENOEXEC, "%s: multiboot header has a bad checksum", name);
	struct elf_file ef;
	if (elf_is_elf(img, len) && elf_open(&ef, img, len, name, e))
		return -ENOEXEC;
	if (elf_is_elf(img, len))
		return error_set(e, -ENOEXEC,
				 "%s: ELF file without a Xen PVH note or multiboot header", name);
	return error_set(e, -ENOEXEC, "%s: not a bzImage, PVH ELF or multiboot kernel", name);
}

int loader_load_image(const struct guest_mem *m, const struct boot_request *req,
		      const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
		      size_t initrd_len, struct boot_result *out, struct error *e)
{
	enum boot_format fmt;
	if (loader_probe(kernel, kernel_len, &fmt))
		return explain_unknown(kernel, kernel_len, boot_kernel_name(req), e);
	switch (fmt) {
	case BOOT_BZIMAGE:
		if (req->prefer_pvh) {
			int r = bzimage_load_pvh(m, req, kernel, kernel_len, initrd, initrd_len,
						 out, e);
			if (r <= 0)
				return r;
		}
		return bzimage_load(m, req, kernel, kernel_len, initrd, initrd_len, out, e);
	case BOOT_PVH:
		return pvh_load(m, req, kernel, kernel_len, initrd, initrd_len, out, e);
	case BOOT_MULTIBOOT:
		return multiboot_load(m, req, kernel, kernel_len, initrd, initrd_len, out, e);
	}
	return error_set(e, -ENOEXEC, "%s: unknown boot format", boot_kernel_name(req));
}

/* Whole file into a malloc'd buffer; nothing larger than guest RAM can load. */
static int read_file(const char *path, uint64_t max, uint8_t **buf, size_t *len,
		     struct error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(e, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	int r = 0;
	uint8_t *p = NULL;
	if (fstat(fd, &st)) {
		r = error_set(e, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = error_set(e, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = error_set(e, -EFBIG, "%s: %lld bytes is more than guest RAM", path,
			      (long long)st.st_size);
		goto out;
	}
	size_t size = (size_t)st.st_size, got = 0;
	p = malloc(size ? size : 1);
	if (!p) {
		r = error_set(e, -ENOMEM, "%s: out of memory reading %zu bytes", path, size);
		goto out;
	}
	while (got < size) {
		ssize_t n = read(fd, p + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_set(e, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0) {
			r = error_set(e, -EIO, "%s: file shrank while reading", path);
			goto out;
		}
		got += (size_t)n;
	}
	*buf = p;
	*len = size;
	p = NULL;
out:
	free(p);
	close(fd);
	return r;
}

int loader_load(const struct guest_mem *m, const struct boot_request *req,
		struct boot_result *out, struct error *e)
{
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t kernel_len = 0, initrd_len = 0;
	if (!req->kernel)
		return error_set(e, -EINVAL, "no kernel given");
	int r = read_file(req->kernel, m->ram_size, &kernel, &kernel_len, e);
	if (!r && req->initrd)
		r = read_file(req->initrd, m->ram_size, &initrd, &initrd_len, e);
	if (!r)
		r = loader_load_image(m, req, kernel, kernel_len, initrd, initrd_len, out, e);
	free(kernel);
	free(initrd);
	return r;
}
