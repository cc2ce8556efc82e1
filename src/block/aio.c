/*
 * The block I/O engine's common part: picking an engine, counting what is
 * in flight, and finishing requests in batches (done() for each, then one
 * batch_done()), from blk_aio_poll(), blk_aio_drain() or the owner's event
 * loop. The engines themselves are in aio_uring.c and aio_threads.c.
 */
#include "block/aio_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"

static enum blk_aio_engine engine_from_env(enum blk_aio_engine engine)
{
	const char *s = getenv("KEMU_BLOCK_AIO");
	if (!s || !*s)
		return engine;
	if (!strcmp(s, "io_uring"))
		return BLK_AIO_ENGINE_IO_URING;
	if (!strcmp(s, "threads"))
		return BLK_AIO_ENGINE_THREADS;
	log_warn("KEMU_BLOCK_AIO=%s: unknown engine (io_uring, threads); ignored", s);
	return engine;
}

int blk_aio_create(struct blk_aio **out, struct block_backend *bb, pthread_mutex_t *lock,
		   unsigned depth, enum blk_aio_engine engine, void (*batch_done)(void *opaque),
		   void *opaque, struct error *e)
{
	*out = NULL;
	struct blk_aio *a = calloc(1, sizeof(*a));
	if (!a)
		return error_set(e, -ENOMEM, "%s: out of memory", bb->path);
	a->bb = bb;
	a->lock = lock;
	a->depth = depth ? depth : 1;
	a->batch_done = batch_done;
	a->opaque = opaque;
	a->done_head = NULL;
	a->done_tail = &a->done_head;
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		int r = -errno;
		free(a);
		return error_set(e, r, "%s: eventfd: %s", bb->path, strerror(-r));
	}

	engine = engine_from_env(engine);
	int r = -ENOSYS;
	/* io_uring needs a file to submit on; formats with their own mapping
	 * run on threads. */
	if (engine != BLK_AIO_ENGINE_THREADS && bb->direct_fd >= 0) {
		a->eng = &blk_aio_uring_ops;
		struct error ue = { { 0 } };
		r = a->eng->init(a, &ue);
		if (r && engine == BLK_AIO_ENGINE_IO_URING) {
			error_set(e, r, "%s", ue.msg);
			goto fail;
		}
		if (r)
			log_debug("%s: %s; using I/O threads", bb->path, ue.msg);
	}
	if (r) {
		a->eng = &blk_aio_threads_ops;
		r = a->eng->init(a, e);
		if (r)
			goto fail;
	}
	*out = a;
	return 0;

fail:
	close(a->efd);
	free(a);
	return r;
}

void blk_aio_destroy(struct blk_aio *a)
{
	if (!a)
		return;
	pthread_mutex_lock(a->lock);
	blk_aio_drain(a);
	pthread_mutex_unlock(a->lock);
	a->eng->fini(a);
	close(a->efd);
	free(a);
}

int blk_aio_event_fd(const struct blk_aio *a)
{
	return a->efd;
}

void blk_aio_handle_event(struct blk_aio *a)
{
	uint64_t v;
	/* Clear the counter before looking, so a completion that lands
	 * after the look raises it again instead of being missed. */
	if (read(a->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another poll already consumed the wake-up */
	}
	pthread_mutex_lock(a->lock);
	blk_aio_poll(a);
	pthread_mutex_unlock(a->lock);
}

void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	r->progress = 0;
	r->stage = 0;
	r->ret = 0;
	r->next = NULL;
	a->inflight++;
	a->eng->submit(a, r);
}

void blk_aio_kick(struct blk_aio *a)
{
	a->eng->kick(a);
}

unsigned blk_aio_poll(struct blk_aio *a)
{
	/* done() and batch_done() may submit and kick again, and those may
	 * finish at once; the outer loop below picks them up, so a nested
	 * poll has nothing to add. */
	if (a->polling)
		return 0;
	a->polling = true;
	unsigned total = 0;
	for (;;) {
		a->eng->reap(a);
		struct blk_aio_req *r = a->done_head;
		if (!r)
			break;
		a->done_head = NULL;
		a->done_tail = &a->done_head;
		while (r) {
			struct blk_aio_req *next = r->next;
			a->inflight--;
			total++;
			r->done(r, r->ret);
			r = next;
		}
		if (a->batch_done)
			a->batch_done(a->opaque);
	}
	a->polling = false;
	return total;
}

void blk_aio_drain(struct blk_aio *a)
{
	a->eng->kick(a);
	blk_aio_poll(a);
	while (a->inflight) {
		a->eng->wait(a);
		blk_aio_poll(a);
	}
}

unsigned blk_aio_inflight(const struct blk_aio *a)
{
	return a->inflight;
}

const char *blk_aio_engine_name(const struct blk_aio *a)
{
	return a->eng->name;
}
