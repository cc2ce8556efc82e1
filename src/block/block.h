/*
 * Block back ends: disk images behind one ops table, addressed in bytes.
 *
 * A device model (virtio-blk) opens an image with block_open(), learns its
 * size, and moves data through iovecs that point straight into guest RAM.
 * The ops here are synchronous and may block; devices never call them on
 * a vCPU thread with the device lock held. They go through the
 * asynchronous engine in block/aio.h instead, which either submits the
 * I/O to io_uring directly on the image's file descriptor (when the back
 * end maps guest offsets 1:1 onto a host file, as raw does) or runs these
 * ops on its worker threads.
 *
 * Offsets and lengths are in bytes; callers keep them within the size and
 * aligned to BLOCK_SECTOR_SIZE (the virtio-blk device checks both against
 * the guest's request before anything reaches a back end).
 */
#ifndef KEMU_BLOCK_BLOCK_H
#define KEMU_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "util/error.h"

#define BLOCK_SECTOR_SIZE 512u

struct block_backend;

struct block_ops {
	const char *name; /* the format: "raw" */
	/* Reads/writes all of iov at offset; 0 or a negative errno. */
	int (*preadv)(struct block_backend *bb, const struct iovec *iov, int niov,
		      uint64_t offset);
	int (*pwritev)(struct block_backend *bb, const struct iovec *iov, int niov,
		       uint64_t offset);
	/* Makes every completed write durable (fdatasync for raw). */
	int (*flush)(struct block_backend *bb);
	/* Deallocates a range; reads of it may return anything afterwards
	 * (raw: zeroes). -EOPNOTSUPP when the host cannot. */
	int (*discard)(struct block_backend *bb, uint64_t offset, uint64_t len);
	/* Makes a range read as zeroes; with unmap the back end may free it. */
	int (*write_zeroes)(struct block_backend *bb, uint64_t offset, uint64_t len, bool unmap);
	void (*close)(struct block_backend *bb);
};

struct block_backend {
	const struct block_ops *ops;
	char *path;        /* as the user gave it, for messages */
	uint64_t size;     /* bytes, a multiple of BLOCK_SECTOR_SIZE */
	bool readonly;
	/*
	 * A host file whose bytes are the guest's bytes at the same offsets,
	 * or -1. The io_uring engine submits reads, writes, fdatasync and
	 * fallocate on it directly; a format with its own mapping (qcow2)
	 * sets -1 and is driven through the ops on worker threads.
	 */
	int direct_fd;
	void *opaque;      /* the format's own state */
};

/*
 * Opens an image (only raw exists) and takes its lock: exclusive for a
 * writer, shared for a read-only user, so two kemu (or QEMU) processes
 * never write one image at once. Errors name the path.
 */
int block_open(struct block_backend **out, const char *path, bool readonly, struct error *e);
void block_close(struct block_backend *bb);

/* The raw format, for block_open() and tests. */
int raw_open(struct block_backend **out, const char *path, bool readonly, struct error *e);

#endif
