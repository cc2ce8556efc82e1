/*
 * The asynchronous block I/O engine between a device model and a block
 * back end. A device fills a struct blk_aio_req per guest request (it
 * keeps them in pre-allocated slots: nothing here allocates per request),
 * hands it over with blk_aio_submit(), and starts a batch with
 * blk_aio_kick(). Each request ends exactly once with its done() callback.
 *
 * Two engines sit behind this interface:
 *  - io_uring (preferred): reads, writes, fdatasync and fallocate are
 *    submitted straight onto the image's file (block_backend.direct_fd);
 *    completions raise an eventfd that the owner's event loop watches
 *    (blk_aio_event_fd(); block/ itself knows no event loop).
 *    Reads that hit the page cache usually complete inside the submit
 *    call, so blk_aio_poll() right after a kick finishes them on the spot.
 *  - a small thread pool, when io_uring is unavailable (old kernel,
 *    seccomp, io_uring_disabled) or the back end has no direct file: the
 *    workers run the back end's synchronous ops and report through the
 *    same eventfd.
 *
 * Locking: the engine is owned by one mutex, the `lock` given at creation
 * (a virtio device passes vm->io_lock). Every call below except create and
 * destroy is made with it held, and done()/batch_done() run with it held:
 * from blk_aio_poll(), from blk_aio_drain(), or from the event loop's
 * handler, which takes the lock itself. So a device never sees two
 * completions at once, and a reset that drains under the lock cannot race
 * with the event loop.
 */
#ifndef KEMU_BLOCK_AIO_H
#define KEMU_BLOCK_AIO_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/block.h"

enum blk_aio_op {
	BLK_AIO_READ,
	BLK_AIO_WRITE,
	BLK_AIO_FLUSH,        /* durable: fdatasync of the image */
	BLK_AIO_DISCARD,      /* punch a hole; -EOPNOTSUPP if the host cannot */
	BLK_AIO_WRITE_ZEROES,
};

#define BLK_AIO_F_UNMAP (1u << 0) /* WRITE_ZEROES may deallocate the range */
#define BLK_AIO_F_FUA (1u << 1)   /* WRITE: durable before done() (write-through) */

struct blk_aio_req {
	/* Set by the submitter. */
	enum blk_aio_op op;
	unsigned flags;
	uint64_t offset;          /* bytes */
	uint64_t len;             /* bytes; READ/WRITE: the sum of iov */
	struct iovec *iov;        /* READ/WRITE; the engine may rewrite the
				     array (to resume a short transfer) */
	int niov;
	/* ret: 0, or a negative errno (-EOPNOTSUPP: the host cannot). */
	void (*done)(struct blk_aio_req *r, int ret);

	/* The engine's. */
	struct blk_aio_req *next;
	uint64_t progress;        /* bytes transferred so far */
	int stage;                /* which step of a multi-step request */
	int ret;
	struct iovec zero_iov;    /* WRITE_ZEROES by plain writes */
};

enum blk_aio_engine {
	BLK_AIO_ENGINE_AUTO,      /* io_uring if it works, else threads */
	BLK_AIO_ENGINE_IO_URING,
	BLK_AIO_ENGINE_THREADS,
};

struct blk_aio;

/*
 * depth: the most requests the caller will ever have in flight.
 * batch_done(opaque) runs, lock held, after each batch of done() calls
 * (the place to raise one interrupt for many completions).
 * The engine can be forced with KEMU_BLOCK_AIO=io_uring|threads.
 */
int blk_aio_create(struct blk_aio **out, struct block_backend *bb, pthread_mutex_t *lock,
		   unsigned depth, enum blk_aio_engine engine, void (*batch_done)(void *opaque),
		   void *opaque, struct error *e);
/* Drains (taking the lock) and frees. Take the event fd off the loop first. */
void blk_aio_destroy(struct blk_aio *a);

/* Readable when completions are waiting: watch it and then call
 * blk_aio_handle_event() (without the lock; it takes it). */
int blk_aio_event_fd(const struct blk_aio *a);
void blk_aio_handle_event(struct blk_aio *a);

/* Queues r; it starts at the latest at the next blk_aio_kick(). */
void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r);
/* Starts everything queued since the last kick, in one system call. The
 * caller follows it with blk_aio_poll() under the same lock hold: what
 * completes inside the kick is left for that poll and does not raise the
 * eventfd (the poll re-arms it for the rest). */
void blk_aio_kick(struct blk_aio *a);
/* Finishes whatever already completed, without waiting; returns how many. */
unsigned blk_aio_poll(struct blk_aio *a);
/* Waits until nothing is in flight, finishing each request. */
void blk_aio_drain(struct blk_aio *a);
unsigned blk_aio_inflight(const struct blk_aio *a);

const char *blk_aio_engine_name(const struct blk_aio *a);

#endif
