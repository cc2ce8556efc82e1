/*
 * The thread-pool engine: for hosts without a usable io_uring, and for
 * back ends whose guest offsets do not map straight onto one file.
 *
 * Requests go on a FIFO that a few worker threads serve by calling the
 * back end's synchronous ops (which block: that is what the threads are
 * for). A finished request goes on a second list and the eventfd is
 * raised; the owner's lock is never taken by a worker, so a drain that
 * holds it can simply wait for the list to fill.
 */
#include "block/aio_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_MAX_THREADS 8

struct pool {
	struct blk_aio *a;
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* queue gained a request, or stop */
	pthread_cond_t done_cv; /* fin gained a request */
	struct blk_aio_req *queue_head, **queue_tail;
	struct blk_aio_req *fin_head, **fin_tail;
	bool stop;
	int nthreads;
	pthread_t threads[POOL_MAX_THREADS];
};

static struct pool *pool_of(struct blk_aio *a)
{
	return a->priv;
}

static int pool_run(struct block_backend *bb, struct blk_aio_req *r)
{
	if (r->op != BLK_AIO_FLUSH && r->len == 0)
		return 0;
	switch (r->op) {
	case BLK_AIO_READ:
		return bb->ops->preadv(bb, r->iov, r->niov, r->offset);
	case BLK_AIO_WRITE: {
		int ret = bb->ops->pwritev(bb, r->iov, r->niov, r->offset);
		if (!ret && (r->flags & BLK_AIO_F_FUA))
			ret = bb->ops->flush(bb);
		return ret;
	}
	case BLK_AIO_FLUSH:
		return bb->ops->flush(bb);
	case BLK_AIO_DISCARD:
		return bb->ops->discard(bb, r->offset, r->len);
	case BLK_AIO_WRITE_ZEROES:
		return bb->ops->write_zeroes(bb, r->offset, r->len, r->flags & BLK_AIO_F_UNMAP);
	}
	return -EINVAL;
}

static void *pool_worker(void *opaque)
{
	struct pool *p = opaque;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->queue_head && !p->stop)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		struct blk_aio_req *r = p->queue_head;
		p->queue_head = r->next;
		if (!p->queue_head)
			p->queue_tail = &p->queue_head;
		pthread_mutex_unlock(&p->mu);

		r->ret = pool_run(p->a->bb, r);

		pthread_mutex_lock(&p->mu);
		r->next = NULL;
		*p->fin_tail = r;
		p->fin_tail = &r->next;
		pthread_cond_broadcast(&p->done_cv);
		uint64_t one = 1;
		if (write(p->a->efd, &one, sizeof(one)) < 0) {
			/* counter saturated: the owner is already due to look */
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void pool_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	struct pool *p = pool_of(a);
	pthread_mutex_lock(&p->mu);
	r->next = NULL;
	*p->queue_tail = r;
	p->queue_tail = &r->next;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
}

static void pool_kick(struct blk_aio *a)
{
	(void)a; /* submit already woke a worker */
}

static void pool_reap(struct blk_aio *a)
{
	struct pool *p = pool_of(a);
	pthread_mutex_lock(&p->mu);
	struct blk_aio_req *r = p->fin_head;
	p->fin_head = NULL;
	p->fin_tail = &p->fin_head;
	pthread_mutex_unlock(&p->mu);
	while (r) {
		struct blk_aio_req *next = r->next;
		blk_aio_finished(a, r, r->ret);
		r = next;
	}
}

static void pool_wait(struct blk_aio *a)
{
	struct pool *p = pool_of(a);
	pthread_mutex_lock(&p->mu);
	while (!p->fin_head)
		pthread_cond_wait(&p->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
}

static int pool_init(struct blk_aio *a, struct error *e)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return error_set(e, -ENOMEM, "%s: out of memory", a->bb->path);
	p->a = a;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->queue_tail = &p->queue_head;
	p->fin_tail = &p->fin_head;

	/* Workers take no signals: those belong to the main thread's
	 * signalfd and to vCPU kicks. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int want = a->depth < POOL_MAX_THREADS ? (int)a->depth : POOL_MAX_THREADS;
	int r = 0;
	for (int i = 0; i < want; i++) {
		r = pthread_create(&p->threads[i], NULL, pool_worker, p);
		if (r)
			break;
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->nthreads) {
		pool_stop(p);
		free(p);
		return error_set(e, -r, "%s: cannot start I/O threads: %s", a->bb->path,
				 strerror(r));
	}
	a->priv = p;
	return 0;
}

static void pool_fini(struct blk_aio *a)
{
	struct pool *p = pool_of(a);
	pool_stop(p);
	free(p);
	a->priv = NULL;
}

const struct blk_aio_engine_ops blk_aio_threads_ops = {
	.name = "threads",
	.init = pool_init,
	.fini = pool_fini,
	.submit = pool_submit,
	.kick = pool_kick,
	.reap = pool_reap,
	.wait = pool_wait,
};
