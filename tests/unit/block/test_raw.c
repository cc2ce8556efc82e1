/*
 * The raw back end on a temporary file: size (rounded down to whole
 * sectors), read/write through iovecs, flush, discard and write-zeroes,
 * read-only opens, and the image lock (one writer, or any readers).
 */
#include <errno.h>
#include <string.h>

#include "block/block.h"
#include "test.h"
#include "tmpimg.h"

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void test_io(const char *path)
{
	struct error e = { { 0 } };
	struct block_backend *bb;
	CHECK_EQ(block_open(&bb, path, false, &e), 0);
	if (!bb)
		return;
	CHECK_EQ(bb->size, 1 << 20); /* the odd 100 bytes are not visible */
	CHECK(!bb->readonly);
	CHECK(bb->direct_fd >= 0);
	CHECK_STR(bb->ops->name, "raw");

	/* A read split over two iovecs of odd sizes. */
	uint8_t a[700], b[324];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	CHECK_EQ(bb->ops->preadv(bb, iov, 2, 4096), 0);
	bool ok = true;
	for (size_t i = 0; i < sizeof(a); i++)
		ok &= a[i] == tmpimg_byte(4096 + i);
	for (size_t i = 0; i < sizeof(b); i++)
		ok &= b[i] == tmpimg_byte(4096 + sizeof(a) + i);
	CHECK(ok);

	/* Write, flush, read back. */
	memset(a, 0x5a, sizeof(a));
	memset(b, 0xa5, sizeof(b));
	CHECK_EQ(bb->ops->pwritev(bb, iov, 2, 8192), 0);
	CHECK_EQ(bb->ops->flush(bb), 0);
	uint8_t back[1024];
	struct iovec one = { back, sizeof(back) };
	CHECK_EQ(bb->ops->preadv(bb, &one, 1, 8192), 0);
	CHECK(all_bytes(back, 700, 0x5a));
	CHECK(all_bytes(back + 700, 324, 0xa5));

	/* Discard: the range reads as zeroes (ext4/tmpfs/xfs punch holes);
	 * a filesystem that cannot says so instead. */
	int r = bb->ops->discard(bb, 65536, 8192);
	CHECK(r == 0 || r == -EOPNOTSUPP);
	if (r == 0) {
		uint8_t z[8192 + 512];
		struct iovec zi = { z, sizeof(z) };
		CHECK_EQ(bb->ops->preadv(bb, &zi, 1, 65536), 0);
		CHECK(all_bytes(z, 8192, 0));
		CHECK_EQ(z[8192], tmpimg_byte(65536 + 8192)); /* not beyond */
	}

	/* Write zeroes, with and without permission to unmap. */
	for (int unmap = 0; unmap < 2; unmap++) {
		uint64_t off = 131072 + (uint64_t)unmap * 16384;
		CHECK_EQ(bb->ops->write_zeroes(bb, off, 4096 + 512, unmap), 0);
		uint8_t z[5120];
		struct iovec zi = { z, sizeof(z) };
		CHECK_EQ(bb->ops->preadv(bb, &zi, 1, off), 0);
		CHECK(all_bytes(z, 4608, 0));
		CHECK_EQ(z[4608], tmpimg_byte(off + 4608));
	}

	/* Past the end of the file: a short read is an error, not garbage. */
	uint8_t tail[1024];
	struct iovec ti = { tail, sizeof(tail) };
	CHECK_EQ(bb->ops->preadv(bb, &ti, 1, (1 << 20) + 100 - 512), -EIO);
	block_close(bb);
}

static void test_readonly(const char *path)
{
	struct error e = { { 0 } };
	struct block_backend *bb;
	CHECK_EQ(block_open(&bb, path, true, &e), 0);
	if (!bb)
		return;
	CHECK(bb->readonly);
	uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	CHECK_EQ(bb->ops->preadv(bb, &iov, 1, 0), 0);
	CHECK_EQ(buf[1], tmpimg_byte(1));
	/* The descriptor itself is read-only: even a buggy caller cannot write. */
	CHECK(bb->ops->pwritev(bb, &iov, 1, 0) < 0);
	block_close(bb);
}

static void test_locks(const char *path)
{
	struct error e = { { 0 } };
	struct block_backend *w, *w2, *r1, *r2;
	char want[256];
	snprintf(want, sizeof(want), "%s: image is locked by another process (another kemu or QEMU?)",
		 path);

	/* One writer excludes a second writer and any reader. */
	CHECK_EQ(block_open(&w, path, false, &e), 0);
	CHECK_EQ(block_open(&w2, path, false, &e), -EBUSY);
	CHECK(w2 == NULL);
	CHECK_STR(e.msg, want);
	e.msg[0] = 0;
	CHECK_EQ(block_open(&r1, path, true, &e), -EBUSY);
	CHECK_STR(e.msg, want);
	block_close(w);

	/* Readers share; a writer is refused while any is there. */
	CHECK_EQ(block_open(&r1, path, true, &e), 0);
	CHECK_EQ(block_open(&r2, path, true, &e), 0);
	CHECK_EQ(block_open(&w, path, false, &e), -EBUSY);
	block_close(r1);
	CHECK_EQ(block_open(&w, path, false, &e), -EBUSY);
	block_close(r2);

	/* Closing releases the lock. */
	CHECK_EQ(block_open(&w, path, false, &e), 0);
	block_close(w);
}

static void test_missing(void)
{
	struct error e = { { 0 } };
	struct block_backend *bb;
	CHECK_EQ(block_open(&bb, "/nonexistent/disk.img", false, &e), -ENOENT);
	CHECK_STR(e.msg, "-drive /nonexistent/disk.img: No such file or directory");
}

int main(void)
{
	char path[64];
	CHECK_EQ(tmpimg_create(path, (1 << 20) + 100), 0);
	test_io(path);
	test_readonly(path);
	test_locks(path);
	test_missing();
	unlink(path);
	return test_exit();
}
