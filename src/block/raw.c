/*
 * The raw image format: guest byte N is file byte N. Also the place where
 * an image is opened and locked, since every format starts from a file.
 *
 * Locking follows the convention QEMU users expect: open file description
 * locks (F_OFD_SETLK), which belong to this open and not to the process,
 * so two opens in one process conflict just as two processes do, and the
 * lock goes away by itself with the last descriptor. A writer holds a
 * write lock over the whole file, a read-only user a read lock; the kernel
 * refuses whatever would let a writer share the image.
 *
 * The page cache is used (no O_DIRECT): a guest flush becomes fdatasync(),
 * which is what makes its writes durable.
 */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

struct raw_state {
	int fd;
};

static int raw_fd(struct block_backend *bb)
{
	return ((struct raw_state *)bb->opaque)->fd;
}

/* preadv/pwritev may stop short (signals, huge requests): finish the job
 * on a private copy of the iovec array so the caller's stays intact. */
static int raw_rw(struct block_backend *bb, const struct iovec *iov, int niov, uint64_t offset,
		  bool write)
{
	int fd = raw_fd(bb);
	struct iovec local[256]; /* virtio-blk's whole seg_max: no malloc */
	struct iovec *v = local;
	if (niov > (int)(sizeof(local) / sizeof(local[0]))) {
		v = malloc(sizeof(*v) * (size_t)niov);
		if (!v)
			return -ENOMEM;
	}
	memcpy(v, iov, sizeof(*v) * (size_t)niov);

	int ret = 0, i = 0;
	while (i < niov) {
		if (!v[i].iov_len) {
			i++;
			continue;
		}
		int cnt = niov - i < IOV_MAX ? niov - i : IOV_MAX;
		ssize_t n = write ? pwritev(fd, &v[i], cnt, (off_t)offset)
				  : preadv(fd, &v[i], cnt, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0) {
			/* End of file inside the image's size: it shrank under us. */
			ret = -EIO;
			break;
		}
		offset += (uint64_t)n;
		while (n > 0 && i < niov) {
			size_t take = (size_t)n < v[i].iov_len ? (size_t)n : v[i].iov_len;
			v[i].iov_base = (uint8_t *)v[i].iov_base + take;
			v[i].iov_len -= take;
			n -= (ssize_t)take;
			if (!v[i].iov_len)
				i++;
		}
	}
	if (v != local)
		free(v);
	return ret;
}

static int raw_preadv(struct block_backend *bb, const struct iovec *iov, int niov, uint64_t offset)
{
	return raw_rw(bb, iov, niov, offset, false);
}

static int raw_pwritev(struct block_backend *bb, const struct iovec *iov, int niov,
		       uint64_t offset)
{
	return raw_rw(bb, iov, niov, offset, true);
}

static int raw_flush(struct block_backend *bb)
{
	while (fdatasync(raw_fd(bb)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int raw_fallocate(struct block_backend *bb, int mode, uint64_t offset, uint64_t len)
{
	while (fallocate(raw_fd(bb), mode, (off_t)offset, (off_t)len) < 0) {
		if (errno == EINTR)
			continue;
		/* Filesystems without the mode say EOPNOTSUPP; some older
		 * paths say ENOSYS or EINVAL: treat them alike. */
		if (errno == ENOSYS || errno == EINVAL)
			return -EOPNOTSUPP;
		return -errno;
	}
	return 0;
}

static int raw_discard(struct block_backend *bb, uint64_t offset, uint64_t len)
{
	return raw_fallocate(bb, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
}

/* Writes zeroes the slow way, for filesystems with no fallocate modes. */
static int raw_write_zero_buffers(struct block_backend *bb, uint64_t offset, uint64_t len)
{
	enum { CHUNK = 1 << 20 };
	void *zero = calloc(1, CHUNK);
	if (!zero)
		return -ENOMEM;
	int ret = 0;
	while (len && !ret) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		struct iovec iov = { zero, n };
		ret = raw_rw(bb, &iov, 1, offset, true);
		offset += n;
		len -= n;
	}
	free(zero);
	return ret;
}

static int raw_write_zeroes(struct block_backend *bb, uint64_t offset, uint64_t len, bool unmap)
{
	int r = -EOPNOTSUPP;
	/* A punched hole reads back as zeroes, so it is a valid way to
	 * write them when the guest allows deallocation. */
	if (unmap)
		r = raw_discard(bb, offset, len);
	if (r == -EOPNOTSUPP)
		r = raw_fallocate(bb, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, len);
	if (r == -EOPNOTSUPP)
		r = raw_write_zero_buffers(bb, offset, len);
	return r;
}

static void raw_close(struct block_backend *bb)
{
	struct raw_state *s = bb->opaque;
	close(s->fd); /* also drops the OFD lock */
	free(s);
}

static const struct block_ops raw_ops = {
	.name = "raw",
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.close = raw_close,
};

/* Takes the image lock; 0, or a negative errno with the message set. */
static int raw_lock(int fd, const char *path, bool readonly, struct error *e)
{
	struct flock fl = {
		.l_type = readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = 0,
		.l_len = 0, /* to the end of the file, however it grows */
	};
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	int err = errno;
	if (err == EAGAIN || err == EACCES)
		return error_set(e, -EBUSY,
				 "%s: image is locked by another process (another kemu or QEMU?)",
				 path);
	/* Some filesystems (old NFS, FUSE) have no locks at all: that must
	 * not make the image unusable, only unprotected. */
	if (err == ENOLCK || err == EINVAL || err == EOPNOTSUPP || err == ENOSYS) {
		log_warn("%s: cannot lock the image (%s); continuing without a lock", path,
			 strerror(err));
		return 0;
	}
	return error_set(e, -err, "%s: cannot lock the image: %s", path, strerror(err));
}

static int raw_size(int fd, const char *path, uint64_t *size, struct error *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(e, -errno, "-drive %s: %s", path, strerror(errno));
	uint64_t bytes;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return error_set(e, -errno, "-drive %s: %s", path, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else {
		return error_set(e, -EINVAL, "-drive %s: not a regular file or block device", path);
	}
	if (bytes % BLOCK_SECTOR_SIZE) {
		/* The guest can only address whole sectors; the tail is
		 * ignored rather than refused, as QEMU does. */
		log_warn("%s: size %" PRIu64 " is not a multiple of %u bytes; the last %" PRIu64
			 " bytes are not visible to the guest",
			 path, bytes, BLOCK_SECTOR_SIZE, bytes % BLOCK_SECTOR_SIZE);
		bytes -= bytes % BLOCK_SECTOR_SIZE;
	}
	*size = bytes;
	return 0;
}

int raw_open(struct block_backend **out, const char *path, bool readonly, struct error *e)
{
	*out = NULL;
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return error_set(e, -errno, "-drive %s: %s", path, strerror(errno));

	struct block_backend *bb = calloc(1, sizeof(*bb));
	struct raw_state *s = calloc(1, sizeof(*s));
	char *name = strdup(path);
	int r = -ENOMEM;
	if (!bb || !s || !name) {
		error_set(e, r, "-drive %s: out of memory", path);
		goto fail;
	}
	r = raw_lock(fd, path, readonly, e);
	if (r)
		goto fail;
	r = raw_size(fd, path, &bb->size, e);
	if (r)
		goto fail;

	s->fd = fd;
	bb->ops = &raw_ops;
	bb->path = name;
	bb->readonly = readonly;
	bb->direct_fd = fd;
	bb->opaque = s;
	*out = bb;
	return 0;

fail:
	close(fd);
	free(name);
	free(s);
	free(bb);
	return r;
}

int block_open(struct block_backend **out, const char *path, bool readonly, struct error *e)
{
	return raw_open(out, path, readonly, e);
}

void block_close(struct block_backend *bb)
{
	if (!bb)
		return;
	bb->ops->close(bb);
	free(bb->path);
	free(bb);
}
