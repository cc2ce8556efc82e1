/*
 * Host-side bzImage unpacking and the prefer_pvh boot path. The synthetic
 * bzImages carry a tiny PVH vmlinux (images.h) compressed here with the
 * same libraries, framed the way the kernel build frames it: the payload
 * located by payload_offset/payload_length and ending in the uncompressed
 * size. With KEMU_TEST_BZIMAGE naming a real kernel, that is unpacked and
 * booted too, and the time it takes is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/mem.h"
#include "images.h"
#include "loader/bzimage_unpack.h"
#include "loader/elf.h"
#include "loader/layout.h"
#include "loader/loader.h"
#include "loader/pvh.h"
#include "test.h"

static struct guest_mem m;

static uint8_t *gp(uint64_t gpa, uint64_t len)
{
	return guest_ptr(&m, gpa, len);
}

/* The decompressor stub in front of the payload; its contents do not matter. */
#define STUB_LEN 0x200

enum fmt { F_GZIP, F_XZ, F_ZSTD, F_LZMA, F_COUNT };
static const char *const fmt_names[F_COUNT] = { "gzip", "xz", "zstd", "lzma" };

static uint8_t *compress_gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, len) + 64;
	uint8_t *out = malloc(cap);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int r = deflate(&z, Z_FINISH);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

static uint8_t *compress_xz(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = lzma_stream_buffer_bound(len) + 64, pos = 0;
	uint8_t *out = malloc(cap);
	/* The kernel's xz_wrap uses CRC32, which its own decoder can check. */
	if (lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, in, len, out, &pos, cap) !=
	    LZMA_OK) {
		free(out);
		return NULL;
	}
	*out_len = pos;
	return out;
}

static uint8_t *compress_lzma(const uint8_t *in, size_t len, size_t *out_len)
{
	lzma_options_lzma opt;
	lzma_lzma_preset(&opt, 1);
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_alone_encoder(&s, &opt) != LZMA_OK)
		return NULL;
	size_t cap = len + len / 2 + 4096;
	uint8_t *out = malloc(cap);
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	lzma_ret r = lzma_code(&s, LZMA_FINISH);
	*out_len = cap - s.avail_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

static uint8_t *compress_zstd(const uint8_t *in, size_t len, size_t *out_len)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	/* Like the kernel build's pipe: no content size, but a checksum. */
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	size_t cap = ZSTD_compressBound(len) + 64;
	uint8_t *out = malloc(cap);
	size_t r = ZSTD_compress2(c, out, cap, in, len);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(r)) {
		free(out);
		return NULL;
	}
	*out_len = r;
	return out;
}

/* Compressed, with the size trailer the kernel build appends (gzip has its own). */
static uint8_t *make_payload(enum fmt f, const uint8_t *in, size_t len, size_t *out_len)
{
	uint8_t *c = NULL;
	switch (f) {
	case F_GZIP:
		return compress_gzip(in, len, out_len);
	case F_XZ:
		c = compress_xz(in, len, out_len);
		break;
	case F_ZSTD:
		c = compress_zstd(in, len, out_len);
		break;
	case F_LZMA:
		c = compress_lzma(in, len, out_len);
		break;
	default:
		return NULL;
	}
	if (!c)
		return NULL;
	c = realloc(c, *out_len + 4);
	put32(c + *out_len, (uint32_t)len);
	*out_len += 4;
	return c;
}

/* bzImage whose payload (after STUB_LEN bytes of stub) is the given bytes. */
static uint8_t *bz_with_payload(const uint8_t *payload, size_t plen, uint32_t init_size,
				size_t *len)
{
	struct bz_params p = bz_default();
	p.kernel_len = STUB_LEN + plen;
	if (init_size)
		p.init_size = init_size;
	uint8_t *b = bz_build(&p, len);
	size_t pm = (size_t)(p.setup_sects + 1) * 512;
	put32(b + 0x248, STUB_LEN);
	put32(b + 0x24c, (uint32_t)plen);
	memcpy(b + pm + STUB_LEN, payload, plen);
	return b;
}

static uint8_t *bz_fmt(enum fmt f, const uint8_t *elf, size_t elf_len, size_t *len)
{
	size_t plen;
	uint8_t *payload = make_payload(f, elf, elf_len, &plen);
	CHECK(payload != NULL);
	if (!payload)
		return NULL;
	uint8_t *b = bz_with_payload(payload, plen, 0, len);
	free(payload);
	return b;
}

static size_t payload_start(void)
{
	return 5 * 512 + STUB_LEN;
}

static int load(const uint8_t *img, size_t len, const char *name, bool prefer_pvh,
		const uint8_t *initrd, size_t initrd_len, struct boot_result *out,
		struct error *e)
{
	struct boot_request req;
	test_request(&req, name);
	req.cmdline = "console=ttyS0";
	req.initrd = initrd ? "initrd.cpio" : NULL;
	req.prefer_pvh = prefer_pvh;
	return loader_load_image(&m, &req, img, len, initrd, initrd_len, out, e);
}

static void check_pvh_state(const struct boot_result *out, const uint8_t *elf, size_t initrd_len)
{
	CHECK_EQ(out->format, BOOT_PVH);
	CHECK(!memcmp(gp(PVH_PADDR, 0x1000), elf + 0x1000, 0x1000));
	CHECK_EQ(*gp(PVH_PADDR + 0x1000, 1), 0);
	CHECK_EQ(out->cpu.rip, PVH_ENTRY);
	CHECK_EQ(out->cpu.gpr[R_RBX], LAYOUT_START_INFO);
	CHECK_EQ(out->cpu.cs.db, 1);
	CHECK_EQ(out->cpu.cs.l, 0);
	CHECK(out->cpu.cr0 & X86_CR0_PE);
	CHECK_EQ(out->cpu.cr0 & X86_CR0_PG, 0);
	CHECK_EQ(out->cpu.efer, 0);
	struct hvm_start_info *si = (void *)gp(LAYOUT_START_INFO, sizeof(*si));
	CHECK_EQ(si->magic, 0x336ec578);
	CHECK_EQ(si->rsdp_paddr, 0xe0000);
	CHECK_STR((char *)gp(si->cmdline_paddr, 1), "console=ttyS0");
	CHECK_EQ(si->memmap_entries, 4);
	CHECK_EQ(si->nr_modules, initrd_len ? 1 : 0);
	if (initrd_len) {
		struct hvm_modlist_entry *mod = (void *)gp(si->modlist_paddr, sizeof(*mod));
		CHECK_EQ(mod->size, initrd_len);
		CHECK(mod->paddr >= PVH_PADDR + PVH_MEMSZ);
	}
}

static void test_formats(void)
{
	size_t elf_len;
	uint8_t *elf = pvh_build(&elf_len);
	uint8_t initrd[0x1234];
	memset(initrd, 0x3c, sizeof(initrd));
	for (int f = 0; f < F_COUNT; f++) {
		size_t len;
		uint8_t *img = bz_fmt(f, elf, elf_len, &len);
		if (!img)
			continue;
		CHECK_EQ(bz_payload_detect(img + payload_start(), 8),
			 f == F_GZIP ? BZ_PAYLOAD_GZIP
			 : f == F_XZ ? BZ_PAYLOAD_XZ
			 : f == F_ZSTD ? BZ_PAYLOAD_ZSTD
				       : BZ_PAYLOAD_LZMA);

		uint8_t *out = NULL;
		size_t out_len = 0;
		struct error e = { "" };
		int r = bzimage_unpack(img, len, "vmlinuz", &out, &out_len, &e);
		CHECK_EQ(r, 0);
		if (r)
			fprintf(stderr, "%s: %s\n", fmt_names[f], e.msg);
		CHECK_EQ(out_len, elf_len);
		CHECK(out && !memcmp(out, elf, elf_len));
		free(out);

		struct boot_result res;
		memset(m.base, 0xcc, m.ram_size);
		r = load(img, len, "vmlinuz", true, initrd, sizeof(initrd), &res, &e);
		CHECK_EQ(r, 0);
		if (r)
			fprintf(stderr, "%s: %s\n", fmt_names[f], e.msg);
		check_pvh_state(&res, elf, sizeof(initrd));

		/* Without prefer_pvh the same image boots the old way. */
		r = load(img, len, "vmlinuz", false, NULL, 0, &res, &e);
		CHECK_EQ(r, 0);
		CHECK_EQ(res.format, BOOT_BZIMAGE);
		CHECK_EQ(res.cpu.rip, LAYOUT_KERNEL + 0x200);
		free(img);
	}
	free(elf);
}

static void expect_error(const uint8_t *img, size_t len, int err, const char *what)
{
	struct boot_result res;
	struct error e = { "" };
	int r = load(img, len, "broken-vmlinuz", true, NULL, 0, &res, &e);
	CHECK_EQ(r, err);
	CHECK(strstr(e.msg, "broken-vmlinuz") != NULL);
	if (what && !strstr(e.msg, what)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, what);
		CHECK(0);
	}
}

static void test_corrupt(void)
{
	size_t elf_len;
	uint8_t *elf = pvh_build(&elf_len);
	for (int f = 0; f < F_COUNT; f++) {
		size_t len, plen;
		uint8_t *img = bz_fmt(f, elf, elf_len, &len);
		if (!img)
			continue;
		plen = len - payload_start();

		/* Truncated payload: payload_length cut in half. */
		uint8_t *copy = malloc(len);
		memcpy(copy, img, len);
		put32(copy + 0x24c, (uint32_t)(plen / 2));
		expect_error(copy, len, -ENOEXEC, fmt_names[f]);

		/* The file itself cut short: the payload now runs past its end. */
		expect_error(img, len - 8, -ENOEXEC, "outside");

		/* A flipped byte mid-stream: gzip, xz and zstd carry checksums. */
		if (f != F_LZMA) {
			memcpy(copy, img, len);
			copy[payload_start() + plen / 2] ^= 0x55;
			expect_error(copy, len, -ENOEXEC, fmt_names[f]);
		}

		/* Raw lzma asking for a 4 GiB dictionary: refused, not allocated. */
		if (f == F_LZMA) {
			memcpy(copy, img, len);
			copy[payload_start() + 3] = 0xff;
			copy[payload_start() + 4] = 0xff;
			expect_error(copy, len, -ENOEXEC, "decoder memory");
		}

		/* The recorded size disagrees with the stream. */
		memcpy(copy, img, len);
		put32(copy + len - 4, (uint32_t)elf_len + 1);
		/* For gzip the trailer is the format's own ISIZE, which zlib checks. */
		expect_error(copy, len, -ENOEXEC, f == F_GZIP ? "gzip" : "records");
		free(copy);
		free(img);
	}
	free(elf);
}

static void test_bad_header(void)
{
	size_t elf_len, len;
	uint8_t *elf = pvh_build(&elf_len);
	uint8_t *img = bz_fmt(F_GZIP, elf, elf_len, &len);
	uint8_t *copy = malloc(len);
	const uint32_t offs[] = { (uint32_t)len, 0xffffffff, 0x80000000, STUB_LEN + 1 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		memcpy(copy, img, len);
		put32(copy + 0x248, offs[i]);
		expect_error(copy, len, -ENOEXEC, "outside");
	}
	const uint32_t lens[] = { 0xffffffff, 0x80000000, (uint32_t)len };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memcpy(copy, img, len);
		put32(copy + 0x24c, lens[i]);
		expect_error(copy, len, -ENOEXEC, "outside");
	}
	/* setup_sects so large the protected-mode part starts past the end. */
	memcpy(copy, img, len);
	copy[0x1f1] = 0xff;
	expect_error(copy, len, -ENOEXEC, NULL);

	/* Protocol 2.07 has no payload fields: not unpackable, not broken. */
	struct error e = { "" };
	uint8_t *out = NULL;
	size_t out_len;
	memcpy(copy, img, len);
	put16(copy + 0x206, 0x0207);
	CHECK_EQ(bzimage_unpack(copy, len, "old", &out, &out_len, &e), -ENOTSUP);
	/* No payload recorded: likewise. */
	memcpy(copy, img, len);
	put32(copy + 0x24c, 0);
	CHECK_EQ(bzimage_unpack(copy, len, "none", &out, &out_len, &e), -ENOTSUP);
	/* A header too short to hold the payload fields. */
	memcpy(copy, img, len);
	copy[0x201] = 0x40;
	CHECK_EQ(bzimage_unpack(copy, len, "short", &out, &out_len, &e), -ENOTSUP);
	CHECK_EQ(bzimage_unpack(copy, 0x210, "tiny", &out, &out_len, &e), -ENOEXEC);
	CHECK(strstr(e.msg, "tiny") != NULL);
	free(copy);
	free(img);
	free(elf);
}

static void test_bomb(void)
{
	/* 16 MiB of zeros against init_size 2 MiB: the cap is 8 MiB. */
	size_t big = 16u << 20;
	uint8_t *zeros = calloc(1, big);
	const enum fmt fmts[] = { F_GZIP, F_ZSTD };
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		size_t plen, len;
		uint8_t *payload = make_payload(fmts[i], zeros, big, &plen);
		CHECK(payload != NULL);
		if (!payload)
			continue;
		uint8_t *img = bz_with_payload(payload, plen, 0x200000, &len);
		expect_error(img, len, -EFBIG, "decompression bomb");
		/* A trailer that lies low changes nothing. */
		put32(img + len - 4, 100);
		expect_error(img, len, -EFBIG, "decompression bomb");
		/* With room for it (init_size 8 MiB: cap 32 MiB), it unpacks. */
		put32(img + len - 4, (uint32_t)big);
		put32(img + 0x260, 8u << 20);
		uint8_t *out = NULL;
		size_t out_len = 0;
		struct error e = { "" };
		CHECK_EQ(bzimage_unpack(img, len, "zeros", &out, &out_len, &e), 0);
		CHECK_EQ(out_len, big);
		free(out);
		free(img);
		free(payload);
	}
	free(zeros);
}

/* bzip2, lzo, lz4 and unknown payloads, and payloads without PVH, boot as bzImages. */
static void test_fallback(void)
{
	static const uint8_t magics[][4] = {
		{ 'B', 'Z', 'h', '9' },
		{ 0x89, 'L', 'Z', 'O' },
		{ 0x02, 0x21, 0x4c, 0x18 },
		{ 0x12, 0x34, 0x56, 0x78 },
	};
	static const char *const words[] = { "bzip2", "lzo", "lz4", "not recognised" };
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		uint8_t payload[64];
		memset(payload, 0xa5, sizeof(payload));
		memcpy(payload, magics[i], 4);
		size_t len;
		uint8_t *img = bz_with_payload(payload, sizeof(payload), 0, &len);
		uint8_t *out = NULL;
		size_t out_len;
		struct error e = { "" };
		CHECK_EQ(bzimage_unpack(img, len, "vmlinuz", &out, &out_len, &e), -ENOTSUP);
		CHECK(strstr(e.msg, words[i]) != NULL);
		if (i < 3)
			CHECK(strstr(e.msg, "not supported: use an ELF vmlinux") != NULL);
		struct boot_result res;
		CHECK_EQ(load(img, len, "vmlinuz", true, NULL, 0, &res, &e), 0);
		CHECK_EQ(res.format, BOOT_BZIMAGE);
		CHECK_EQ(res.cpu.rip, LAYOUT_KERNEL + 0x200);
		free(img);
	}

	/* An ELF without the PVH note, and something that is not ELF at all. */
	size_t elf_len;
	uint8_t *elf = pvh_build(&elf_len);
	put32(elf + 0x100 + 24 + 8, 17); /* note type: not PHYS32_ENTRY */
	for (int k = 0; k < 2; k++) {
		if (k == 1)
			elf[0] = 0;
		size_t len;
		uint8_t *img = bz_fmt(F_XZ, elf, elf_len, &len);
		struct boot_result res;
		struct error e = { "" };
		CHECK_EQ(load(img, len, "vmlinuz", true, NULL, 0, &res, &e), 0);
		CHECK_EQ(res.format, BOOT_BZIMAGE);
		free(img);
	}
	free(elf);
}

/* Prefixes and random corruptions must fail cleanly or succeed, never crash. */
static void test_hammer(void)
{
	size_t elf_len;
	uint8_t *elf = pvh_build(&elf_len);
	struct boot_request req;
	test_request(&req, "vmlinuz");
	req.prefer_pvh = true;
	for (int f = 0; f < F_COUNT; f++) {
		size_t len;
		uint8_t *img = bz_fmt(f, elf, elf_len, &len);
		if (!img)
			continue;
		struct boot_result res;
		struct error e;
		for (size_t l = 0x200; l <= len; l += 7) {
			uint8_t *copy = malloc(l);
			memcpy(copy, img, l);
			(void)loader_load_image(&m, &req, copy, l, NULL, 0, &res, &e);
			free(copy);
		}
		uint8_t *copy = malloc(len);
		unsigned seed = 777u + (unsigned)f;
		size_t ps = payload_start();
		for (int i = 0; i < 1500; i++) {
			memcpy(copy, img, len);
			for (int k = 0; k < 3; k++) {
				seed = seed * 1103515245 + 12345;
				/* Mostly the payload, sometimes the header. */
				size_t at = (seed >> 8) % 4 ? ps + (seed >> 10) % (len - ps)
							    : 0x1f1 + (seed >> 10) % 0x80;
				seed = seed * 1103515245 + 12345;
				copy[at] = (uint8_t)(seed >> 16);
			}
			(void)loader_load_image(&m, &req, copy, len, NULL, 0, &res, &e);
		}
		free(copy);
		free(img);
	}
	free(elf);
	CHECK(1);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	uint8_t *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return b;
}

/* A real kernel: unpack it, find its PVH note, boot it into a 512 MiB guest. */
static void test_real_kernel(void)
{
	const char *path = getenv("KEMU_TEST_BZIMAGE");
	if (!path || !*path) {
		fprintf(stderr, "KEMU_TEST_BZIMAGE not set: real-kernel check skipped\n");
		return;
	}
	size_t len;
	uint8_t *img = slurp(path, &len);
	CHECK(img != NULL);
	if (!img)
		return;
	uint8_t *out = NULL;
	size_t out_len = 0;
	struct error e = { "" };
	double t0 = now_ms();
	int r = bzimage_unpack(img, len, path, &out, &out_len, &e);
	double t1 = now_ms();
	CHECK_EQ(r, 0);
	if (r) {
		fprintf(stderr, "%s\n", e.msg);
		free(img);
		return;
	}
	struct elf_file ef;
	uint64_t entry = 0;
	CHECK_EQ(elf_open(&ef, out, out_len, path, &e), 0);
	CHECK_EQ(elf_pvh_entry(&ef, &entry), 0);
	fprintf(stderr, "%s: %zu bytes -> %zu bytes of vmlinux in %.1f ms, PVH entry 0x%" PRIx64 "\n",
		path, len, out_len, t1 - t0, entry);
	free(out);

	struct guest_mem big;
	if (guest_mem_init(&big, 512ULL << 20, TEST_HOLE)) {
		fprintf(stderr, "no 512 MiB guest: real-kernel boot check skipped\n");
		free(img);
		return;
	}
	struct boot_request req = { .kernel = path, .cmdline = "console=ttyS0", .prefer_pvh = true };
	struct boot_result res;
	t0 = now_ms();
	r = loader_load_image(&big, &req, img, len, NULL, 0, &res, &e);
	t1 = now_ms();
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_EQ(res.format, BOOT_PVH);
	CHECK_EQ(res.cpu.rip, entry);
	fprintf(stderr, "%s: loaded through PVH in %.1f ms\n", path, t1 - t0);
	guest_mem_destroy(&big);
	free(img);
}

int main(void)
{
	if (guest_mem_init(&m, TEST_RAM, TEST_HOLE)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	test_formats();
	test_corrupt();
	test_bad_header();
	test_bomb();
	test_fallback();
	test_hammer();
	test_real_kernel();
	guest_mem_destroy(&m);
	return test_exit();
}
