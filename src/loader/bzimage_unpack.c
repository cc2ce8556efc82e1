/*
 * Unpacking a bzImage on the host, and booting what comes out through PVH.
 *
 * A bzImage is real-mode setup code, then a small decompressor, then the
 * compressed vmlinux ELF ("payload"), located by the setup header's
 * payload_offset and payload_length (boot protocol 2.08+), both relative to
 * the start of the protected-mode code. On an interpreted CPU the guest's
 * own decompression is the largest single cost of a boot, so kemu
 * decompresses the payload here with the host's libraries (zlib, liblzma,
 * libzstd), chosen by the payload's magic bytes, and, when the vmlinux
 * carries a Xen PVH note, hands it to pvh_load() instead of bzimage_load().
 *
 * The image is untrusted. Every header offset is checked against the file,
 * and the output is capped (BZ_UNPACK_MAX, and a multiple of the header's
 * init_size) so a small file cannot make kemu allocate gigabytes. The
 * kernel build appends the uncompressed size as the payload's last four
 * bytes (for gzip that is the format's own ISIZE field); it sizes the
 * output buffer and, since raw lzma carries no checksum, also serves as
 * the final integrity check.
 */
#include "loader/bzimage_unpack.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "loader/boot_setup.h"
#include "loader/bootparam.h"
#include "loader/elf.h"
#include "loader/le.h"
#include "loader/loader.h"
#include "util/log.h"

#define PROTO(maj, min) ((maj) << 8 | (min))
#define OFF_PAYLOAD_OFFSET 0x248
#define OFF_PAYLOAD_LENGTH 0x24c
#define OFF_INIT_SIZE 0x260
/*
 * liblzma's decoder memory is dominated by the dictionary the stream asks
 * for; kernels use 32-64 MiB, so this only stops hostile headers.
 */
#define LZMA_MEMLIMIT (256ULL << 20)
/* Output buffer slack past the recorded size, so the end is seen at once. */
#define OUT_SLACK 4096
#define OUT_MIN (1ULL << 20)

enum bz_payload_format bz_payload_detect(const uint8_t *p, size_t len)
{
	static const struct {
		enum bz_payload_format f;
		uint8_t len;
		uint8_t magic[6];
	} magics[] = {
		{ BZ_PAYLOAD_GZIP, 2, { 0x1f, 0x8b } },
		{ BZ_PAYLOAD_XZ, 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
		{ BZ_PAYLOAD_ZSTD, 4, { 0x28, 0xb5, 0x2f, 0xfd } },
		/* lc=3 lp=0 pb=2 and a dictionary size that is a multiple of 64 KiB. */
		{ BZ_PAYLOAD_LZMA, 3, { 0x5d, 0x00, 0x00 } },
		{ BZ_PAYLOAD_BZIP2, 3, { 'B', 'Z', 'h' } },
		{ BZ_PAYLOAD_LZO, 4, { 0x89, 'L', 'Z', 'O' } },
		{ BZ_PAYLOAD_LZ4, 4, { 0x02, 0x21, 0x4c, 0x18 } },
	};
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len && !memcmp(p, magics[i].magic, magics[i].len))
			return magics[i].f;
	return BZ_PAYLOAD_UNKNOWN;
}

const char *bz_payload_name(enum bz_payload_format f)
{
	switch (f) {
	case BZ_PAYLOAD_GZIP:
		return "gzip";
	case BZ_PAYLOAD_XZ:
		return "xz";
	case BZ_PAYLOAD_ZSTD:
		return "zstd";
	case BZ_PAYLOAD_LZMA:
		return "lzma";
	case BZ_PAYLOAD_BZIP2:
		return "bzip2";
	case BZ_PAYLOAD_LZO:
		return "lzo";
	case BZ_PAYLOAD_LZ4:
		return "lz4";
	case BZ_PAYLOAD_UNKNOWN:
		break;
	}
	return "an unknown format";
}

/*
 * Growable output with a hard limit. limit is one more than the largest
 * acceptable output, so filling it proves the stream is too big even when
 * the decoder has not yet been asked for more room.
 */
struct outbuf {
	uint8_t *p;
	size_t len, size, limit;
};

static int outbuf_init(struct outbuf *o, size_t hint, size_t limit)
{
	o->len = 0;
	o->limit = limit;
	o->size = hint < limit ? hint : limit;
	o->p = malloc(o->size);
	return o->p ? 0 : -ENOMEM;
}

/* Makes room; -EFBIG once the limit is full, -ENOMEM if the host has none. */
static int outbuf_grow(struct outbuf *o)
{
	if (o->len < o->size)
		return 0;
	if (o->size >= o->limit)
		return -EFBIG;
	size_t n = o->size > o->limit / 2 ? o->limit : o->size * 2;
	uint8_t *p = realloc(o->p, n);
	if (!p)
		return -ENOMEM;
	o->p = p;
	o->size = n;
	return 0;
}

/* Decoder failures, turned into messages by the caller. */
enum unpack_fail { FAIL_NONE, FAIL_CORRUPT, FAIL_TRUNCATED, FAIL_TOO_BIG, FAIL_NOMEM,
		   FAIL_MEMLIMIT };

struct unpack_ctx {
	enum unpack_fail fail;
	const char *detail; /* the library's words, when it has some */
};

static int fail_from_grow(struct unpack_ctx *c, int r)
{
	c->fail = r == -EFBIG ? FAIL_TOO_BIG : FAIL_NOMEM;
	return r;
}

static int unpack_gzip(const uint8_t *in, size_t in_len, struct outbuf *o, struct unpack_ctx *c)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* 16 + window bits: gzip framing only, with its CRC32 checked. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		c->fail = FAIL_NOMEM;
		return -ENOMEM;
	}
	/* payload_length is 32-bit, so the whole input fits in one uInt. */
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)in_len;
	int r = 0;
	for (;;) {
		if ((r = outbuf_grow(o))) {
			fail_from_grow(c, r);
			break;
		}
		size_t room = o->size - o->len;
		z.next_out = o->p + o->len;
		z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		int zr = inflate(&z, Z_NO_FLUSH);
		o->len = (size_t)(z.next_out - o->p);
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_OK)
			continue;
		if (zr == Z_BUF_ERROR && z.avail_out)
			c->fail = FAIL_TRUNCATED;
		else if (zr == Z_BUF_ERROR)
			continue;
		else if (zr == Z_MEM_ERROR)
			c->fail = FAIL_NOMEM;
		else
			c->fail = FAIL_CORRUPT;
		c->detail = z.msg;
		r = c->fail == FAIL_NOMEM ? -ENOMEM : -EBADMSG;
		break;
	}
	/* z.msg points at static strings in zlib, so it outlives the stream. */
	inflateEnd(&z);
	return r;
}

static int unpack_lzma(const uint8_t *in, size_t in_len, struct outbuf *o, struct unpack_ctx *c,
		       int alone)
{
	lzma_stream s = LZMA_STREAM_INIT;
	/*
	 * xz: one stream, no LZMA_CONCATENATED, so the size the kernel build
	 * appends after it is ignored. Raw lzma ("alone") has an end marker
	 * or a size in its header, and nothing to check it against but ours.
	 */
	lzma_ret lr = alone ? lzma_alone_decoder(&s, LZMA_MEMLIMIT)
			    : lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0);
	if (lr != LZMA_OK) {
		c->fail = FAIL_NOMEM;
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = in_len;
	int r = 0;
	for (;;) {
		if ((r = outbuf_grow(o))) {
			fail_from_grow(c, r);
			break;
		}
		s.next_out = o->p + o->len;
		s.avail_out = o->size - o->len;
		lr = lzma_code(&s, LZMA_FINISH);
		o->len = (size_t)(s.next_out - o->p);
		if (lr == LZMA_STREAM_END)
			break;
		if (lr == LZMA_OK)
			continue;
		if (lr == LZMA_BUF_ERROR && !s.avail_out)
			continue;
		switch (lr) {
		case LZMA_BUF_ERROR:
			c->fail = FAIL_TRUNCATED;
			break;
		case LZMA_MEM_ERROR:
			c->fail = FAIL_NOMEM;
			break;
		case LZMA_MEMLIMIT_ERROR:
			c->fail = FAIL_MEMLIMIT;
			break;
		default:
			c->fail = FAIL_CORRUPT;
			break;
		}
		r = c->fail == FAIL_NOMEM ? -ENOMEM : -EBADMSG;
		break;
	}
	lzma_end(&s);
	return r;
}

static int unpack_zstd(const uint8_t *in, size_t in_len, struct outbuf *o, struct unpack_ctx *c)
{
	/*
	 * Streaming, because the kernel build compresses from a pipe and the
	 * frame may not record its content size. The default window limit
	 * (128 MiB) bounds the decoder's own memory.
	 */
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d) {
		c->fail = FAIL_NOMEM;
		return -ENOMEM;
	}
	ZSTD_inBuffer ib = { in, in_len, 0 };
	int r = 0;
	for (;;) {
		if ((r = outbuf_grow(o))) {
			fail_from_grow(c, r);
			break;
		}
		ZSTD_outBuffer ob = { o->p + o->len, o->size - o->len, 0 };
		size_t in_before = ib.pos;
		size_t zr = ZSTD_decompressStream(d, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(zr)) {
			c->fail = ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation ? FAIL_NOMEM
											  : FAIL_CORRUPT;
			c->detail = ZSTD_getErrorName(zr);
			r = c->fail == FAIL_NOMEM ? -ENOMEM : -EBADMSG;
			break;
		}
		/* 0: the frame is complete and flushed; the size trailer follows. */
		if (zr == 0)
			break;
		if (ob.pos == ob.size)
			continue;
		/* Room left, yet no end: only more input could help. */
		if (ib.pos == ib.size || (ib.pos == in_before && !ob.pos)) {
			c->fail = FAIL_TRUNCATED;
			r = -EBADMSG;
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return r;
}

/* Where the payload is and how large its output may be, from the header. */
struct payload {
	const uint8_t *p;
	size_t len;
	uint64_t limit;    /* largest acceptable output */
	uint32_t recorded; /* the size the build appended; 0 if none */
};

static int locate_payload(const uint8_t *img, size_t len, const char *name, struct payload *pl,
			  struct error *e)
{
	if (len < 0x206 || get_le32(img + 0x202) != BZ_HDRS_MAGIC)
		return error_set(e, -ENOEXEC, "%s: not a bzImage (no HdrS signature)", name);
	/* The header's length is the operand of its leading jump. */
	size_t hdr_end = 0x202 + (size_t)img[0x201];
	if (hdr_end > len)
		return error_set(e, -ENOEXEC, "%s: truncated bzImage header", name);
	uint16_t version = hdr_end >= 0x208 ? get_le16(img + 0x206) : 0;
	if (version < PROTO(2, 8) || hdr_end < OFF_PAYLOAD_LENGTH + 4)
		return error_set(e, -ENOTSUP,
				 "%s: boot protocol %u.%02u does not locate the compressed kernel",
				 name, version >> 8, version & 0xff);

	uint8_t sects = img[BZ_SETUP_HEADER_OFF];
	uint64_t kernel_off = ((uint64_t)(sects ? sects : 4) + 1) * 512;
	uint64_t off = get_le32(img + OFF_PAYLOAD_OFFSET);
	uint64_t plen = get_le32(img + OFF_PAYLOAD_LENGTH);
	if (!plen)
		return error_set(e, -ENOTSUP, "%s: bzImage records no compressed payload", name);
	/* 64-bit sums of 32-bit fields: no overflow to worry about. */
	if (kernel_off > len || kernel_off + off > len || plen > len - kernel_off - off)
		return error_set(e, -ENOEXEC,
				 "%s: compressed payload (offset 0x%" PRIx64 ", 0x%" PRIx64
				 " bytes after %" PRIu64 " bytes of setup) lies outside the %zu-byte file",
				 name, off, plen, kernel_off, len);
	pl->p = img + kernel_off + off;
	pl->len = (size_t)plen;
	pl->recorded = plen >= 4 ? get_le32(pl->p + plen - 4) : 0;

	pl->limit = BZ_UNPACK_MAX;
	if (version >= PROTO(2, 10) && hdr_end >= OFF_INIT_SIZE + 4) {
		uint64_t init_size = get_le32(img + OFF_INIT_SIZE);
		uint64_t bound = init_size * BZ_UNPACK_INIT_SIZE_FACTOR;
		if (init_size && bound < pl->limit)
			pl->limit = bound;
	}
	return 0;
}

static int fail_message(const struct unpack_ctx *c, int r, const char *name,
			enum bz_payload_format f, const struct payload *pl, struct error *e)
{
	const char *fmt = bz_payload_name(f);
	const char *detail = c->detail ? c->detail : "corrupt data";
	switch (c->fail) {
	case FAIL_TOO_BIG:
		return error_set(e, -EFBIG,
				 "%s: %s payload expands past %" PRIu64
				 " bytes (the limit for this kernel's init_size): refusing a "
				 "decompression bomb",
				 name, fmt, pl->limit);
	case FAIL_TRUNCATED:
		return error_set(e, -ENOEXEC, "%s: %s payload is truncated", name, fmt);
	case FAIL_MEMLIMIT:
		return error_set(e, -ENOEXEC,
				 "%s: %s payload needs more than %llu MiB of decoder memory", name,
				 fmt, LZMA_MEMLIMIT >> 20);
	case FAIL_NOMEM:
		return error_set(e, -ENOMEM, "%s: out of memory decompressing the %s payload",
				 name, fmt);
	case FAIL_CORRUPT:
	case FAIL_NONE:
		break;
	}
	return error_set(e, r == -ENOMEM ? -ENOMEM : -ENOEXEC, "%s: %s payload is corrupt (%s)",
			 name, fmt, detail);
}

int bzimage_unpack(const uint8_t *img, size_t len, const char *name, uint8_t **out,
		   size_t *out_len, struct error *e)
{
	struct payload pl = { 0 };
	int r = locate_payload(img, len, name, &pl, e);
	if (r)
		return r;

	enum bz_payload_format f = bz_payload_detect(pl.p, pl.len);
	switch (f) {
	case BZ_PAYLOAD_GZIP:
	case BZ_PAYLOAD_XZ:
	case BZ_PAYLOAD_ZSTD:
	case BZ_PAYLOAD_LZMA:
		break;
	case BZ_PAYLOAD_BZIP2:
	case BZ_PAYLOAD_LZO:
	case BZ_PAYLOAD_LZ4:
		return error_set(e, -ENOTSUP,
				 "%s: payload compressed with %s, not supported: use an ELF vmlinux",
				 name, bz_payload_name(f));
	case BZ_PAYLOAD_UNKNOWN:
		return error_set(e, -ENOTSUP,
				 "%s: payload compression not recognised (magic %02x %02x %02x %02x)",
				 name, pl.p[0], pl.len > 1 ? pl.p[1] : 0, pl.len > 2 ? pl.p[2] : 0,
				 pl.len > 3 ? pl.p[3] : 0);
	}

	/*
	 * Trust the recorded size only as an allocation hint: a lie costs at
	 * most a realloc, and the limit still holds.
	 */
	size_t limit = (size_t)pl.limit + 1;
	size_t hint = pl.recorded && pl.recorded < pl.limit ? (size_t)pl.recorded + OUT_SLACK
							      : OUT_MIN;
	struct outbuf o;
	if (outbuf_init(&o, hint, limit))
		return error_set(e, -ENOMEM, "%s: out of memory decompressing the %s payload",
				 name, bz_payload_name(f));
	struct unpack_ctx c = { FAIL_NONE, NULL };
	switch (f) {
	case BZ_PAYLOAD_GZIP:
		r = unpack_gzip(pl.p, pl.len, &o, &c);
		break;
	case BZ_PAYLOAD_XZ:
	case BZ_PAYLOAD_LZMA:
		r = unpack_lzma(pl.p, pl.len, &o, &c, f == BZ_PAYLOAD_LZMA);
		break;
	default:
		r = unpack_zstd(pl.p, pl.len, &o, &c);
		break;
	}
	if (!r && o.len > pl.limit) {
		c.fail = FAIL_TOO_BIG;
		r = -EFBIG;
	}
	if (r) {
		free(o.p);
		return fail_message(&c, r, name, f, &pl, e);
	}
	/*
	 * The appended size is the only check raw lzma has; for the others it
	 * catches a payload_length that cuts off or runs past the stream.
	 */
	if ((uint32_t)o.len != pl.recorded) {
		free(o.p);
		return error_set(e, -ENOEXEC,
				 "%s: %s payload unpacks to %zu bytes but the image records %" PRIu32,
				 name, bz_payload_name(f), o.len, pl.recorded);
	}
	*out = o.p;
	*out_len = o.len;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int bzimage_load_pvh(const struct guest_mem *m, const struct boot_request *req,
		     const uint8_t *img, size_t len, const uint8_t *initrd, size_t initrd_len,
		     struct boot_result *out, struct error *e)
{
	const char *name = boot_kernel_name(req);
	struct error why = { "" };
	uint8_t *elf = NULL;
	size_t elf_len = 0;
	double t0 = now_ms();
	int r = bzimage_unpack(img, len, name, &elf, &elf_len, &why);
	if (r == -ENOTSUP) {
		log_debug("%s; booting it as a bzImage", why.msg);
		return 1;
	}
	if (r) {
		if (e)
			*e = why;
		return r;
	}
	double t1 = now_ms();

	struct elf_file ef;
	uint64_t entry;
	if (elf_open(&ef, elf, elf_len, name, NULL) || elf_pvh_entry(&ef, &entry)) {
		log_debug("%s: unpacked kernel is not an ELF with a PVH entry note; booting it "
			  "as a bzImage",
			  name);
		free(elf);
		return 1;
	}
	log_debug("%s: unpacked %zu bytes of vmlinux in %.1f ms; booting it through PVH", name,
		  elf_len, t1 - t0);
	r = pvh_load(m, req, elf, elf_len, initrd, initrd_len, out, e);
	free(elf);
	return r;
}
