/*
 * Host-side unpacking of a bzImage's compressed payload (the vmlinux ELF
 * the kernel's own decompressor would produce), so an emulated guest need
 * not spend seconds decompressing itself.
 */
#ifndef KEMU_LOADER_BZIMAGE_UNPACK_H
#define KEMU_LOADER_BZIMAGE_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum bz_payload_format {
	BZ_PAYLOAD_UNKNOWN,
	BZ_PAYLOAD_GZIP,
	BZ_PAYLOAD_XZ,
	BZ_PAYLOAD_ZSTD,
	BZ_PAYLOAD_LZMA,
	BZ_PAYLOAD_BZIP2,
	BZ_PAYLOAD_LZO,
	BZ_PAYLOAD_LZ4,
};

/* Absolute ceiling on an unpacked kernel, whatever its header claims. */
#define BZ_UNPACK_MAX (512ULL << 20)
/*
 * init_size covers the whole decompressed kernel including bss, so an
 * honest payload never unpacks to more than a small multiple of it.
 */
#define BZ_UNPACK_INIT_SIZE_FACTOR 4

/* The compression format named by the payload's magic bytes. */
enum bz_payload_format bz_payload_detect(const uint8_t *p, size_t len);
/* "gzip", "xz", ... for messages. */
const char *bz_payload_name(enum bz_payload_format f);

/*
 * Decompresses the payload of the bzImage img into a malloc'd buffer
 * (*out, *out_len; the caller frees it). Returns 0; -ENOTSUP when the
 * image cannot be unpacked here without being broken (boot protocol before
 * 2.08, no payload, a compression kemu does not link): e says why and the
 * caller may boot it as a bzImage; any other negative errno when the image
 * is broken or too large, with e naming the file.
 */
int bzimage_unpack(const uint8_t *img, size_t len, const char *name, uint8_t **out,
		   size_t *out_len, struct error *e);

#endif
