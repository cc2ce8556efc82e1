/*
 * Inside the block I/O engine: the state shared by both engines and the
 * small table each engine fills. aio.c holds what they have in common
 * (accounting, the completion list, the event handler); aio_uring.c and
 * aio_threads.c move requests to and from the host.
 */
#ifndef KEMU_BLOCK_AIO_INT_H
#define KEMU_BLOCK_AIO_INT_H

#include <stdbool.h>

#include "block/aio.h"

struct blk_aio_engine_ops {
	const char *name;
	/* -ENOSYS / -EPERM / -EOPNOTSUPP when the host cannot run this engine. */
	int (*init)(struct blk_aio *a, struct error *e);
	void (*fini)(struct blk_aio *a);
	void (*submit)(struct blk_aio *a, struct blk_aio_req *r);
	void (*kick)(struct blk_aio *a);
	/* Moves finished requests onto the done list (blk_aio_finished()),
	 * without blocking. */
	void (*reap)(struct blk_aio *a);
	/* Blocks until reap() would find something (something is in flight). */
	void (*wait)(struct blk_aio *a);
};

struct blk_aio {
	const struct blk_aio_engine_ops *eng;
	struct block_backend *bb;
	pthread_mutex_t *lock;
	unsigned depth;
	unsigned inflight;        /* submitted, done() not yet called */
	int efd;                  /* eventfd: completions are waiting */
	void (*batch_done)(void *opaque);
	void *opaque;
	bool polling;             /* in blk_aio_poll(): no nesting */
	struct blk_aio_req *done_head, **done_tail;
	void *priv;               /* the engine's state */
};

/* An engine hands back a request whose every step is over. */
static inline void blk_aio_finished(struct blk_aio *a, struct blk_aio_req *r, int ret)
{
	r->ret = ret;
	r->next = NULL;
	*a->done_tail = r;
	a->done_tail = &r->next;
}

extern const struct blk_aio_engine_ops blk_aio_uring_ops;
extern const struct blk_aio_engine_ops blk_aio_threads_ops;

#endif
