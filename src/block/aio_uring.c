/*
 * The io_uring engine: every step of a request is one SQE on the image's
 * file descriptor, tagged with the request; every CQE advances that
 * request until it is over.
 *
 *   READ/WRITE    readv/writev straight from/to the guest-RAM iovecs; a
 *                 short transfer resumes where it stopped; FUA adds an
 *                 fdatasync step after the write.
 *   FLUSH         fsync with IORING_FSYNC_DATASYNC (fdatasync).
 *   DISCARD       fallocate(PUNCH_HOLE | KEEP_SIZE).
 *   WRITE_ZEROES  punch a hole (if unmap is allowed), else ZERO_RANGE,
 *                 else plain writes from a shared zero buffer: each step
 *                 falls through to the next when the filesystem says it
 *                 cannot.
 *
 * The ring is used with the owner's lock held, from whichever thread holds
 * it (vCPUs submit, the event loop reaps), so it needs no lock of its own.
 * The submission queue is as deep as the caller's maximum in flight, and
 * each request has one step in flight at a time, so the completion queue
 * (twice that) cannot overflow; a request that finds the SQ full anyway
 * waits on a backlog list. The eventfd registered with the ring raises the
 * owner's event loop; completions that happen inside io_uring_submit()
 * (page-cache hits) are usually reaped right away by blk_aio_poll(), so
 * the eventfd is turned off (IORING_CQ_EVENTFD_DISABLED) from a submit
 * until the next reap: those completions do not wake the event loop, and
 * the reap turns it back on (then looks once more) for the ones that
 * finish later.
 */
#include "block/aio_int.h"

#include <errno.h>
#include <linux/falloc.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define ZERO_BUF_SIZE (1u << 20)

/* Steps of a WRITE_ZEROES; a WRITE uses STAGE_DATA then STAGE_SYNC. */
enum {
	STAGE_DATA = 0,
	STAGE_SYNC = 1,
	STAGE_PUNCH = 0,
	STAGE_ZERO_RANGE = 1,
	STAGE_ZERO_WRITE = 2,
};

struct uring_state {
	struct io_uring ring;
	struct blk_aio_req *backlog_head, **backlog_tail;
	void *zero; /* ZERO_BUF_SIZE zero bytes, never written */
	bool requeued; /* uring_reap(): a completion queued a next step */
	/* The eventfd is off from a submit until the next reap, so that
	 * completions inside the submit (which the submitter reaps itself)
	 * do not wake the event loop; efd_toggle: the kernel can do that. */
	bool efd_off, efd_toggle;
};

static struct uring_state *state(struct blk_aio *a)
{
	return a->priv;
}

static bool op_unsupported(int res)
{
	/* What fallocate says when the filesystem lacks the mode. */
	return res == -EOPNOTSUPP || res == -ENOSYS || res == -EINVAL;
}

/* Puts the request's next step into an SQE; false if the SQ is full. */
static bool uring_prep(struct blk_aio *a, struct blk_aio_req *r)
{
	struct uring_state *s = state(a);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
	if (!sqe)
		return false;
	int fd = a->bb->direct_fd;
	uint64_t off = r->offset + r->progress;
	uint64_t left = r->len - r->progress;

	switch (r->op) {
	case BLK_AIO_READ:
		io_uring_prep_readv(sqe, fd, r->iov, (unsigned)r->niov, off);
		break;
	case BLK_AIO_WRITE:
		if (r->stage == STAGE_SYNC)
			io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		else
			io_uring_prep_writev(sqe, fd, r->iov, (unsigned)r->niov, off);
		break;
	case BLK_AIO_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_AIO_DISCARD:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)r->offset, (off_t)r->len);
		break;
	case BLK_AIO_WRITE_ZEROES:
		if (r->stage == STAGE_PUNCH) {
			io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						(off_t)r->offset, (off_t)r->len);
		} else if (r->stage == STAGE_ZERO_RANGE) {
			io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
						(off_t)r->offset, (off_t)r->len);
		} else {
			r->zero_iov.iov_base = s->zero;
			r->zero_iov.iov_len = left < ZERO_BUF_SIZE ? (size_t)left : ZERO_BUF_SIZE;
			io_uring_prep_writev(sqe, fd, &r->zero_iov, 1, off);
		}
		break;
	}
	io_uring_sqe_set_data(sqe, r);
	return true;
}

static void uring_submit_now(struct blk_aio *a)
{
	struct uring_state *s = state(a);
	if (s->efd_toggle && !s->efd_off && io_uring_cq_eventfd_toggle(&s->ring, false) == 0)
		s->efd_off = true;
	int n;
	do
		n = io_uring_submit(&s->ring);
	while (n == -EINTR);
	/* -EAGAIN/-EBUSY: the kernel is short of memory or completion room;
	 * the SQEs stay queued and the next kick, poll or drain retries. */
	if (n < 0 && n != -EAGAIN && n != -EBUSY)
		log_warn("%s: io_uring submit: %s", a->bb->path, strerror(-n));
}

/* Queues the request's next step, submitting early if the SQ is full. */
static void uring_queue(struct blk_aio *a, struct blk_aio_req *r)
{
	struct uring_state *s = state(a);
	s->requeued = true;
	if (!s->backlog_head) {
		if (uring_prep(a, r))
			return;
		uring_submit_now(a);
		if (uring_prep(a, r))
			return;
	}
	r->next = NULL;
	*s->backlog_tail = r;
	s->backlog_tail = &r->next;
}

static void uring_kick(struct blk_aio *a)
{
	struct uring_state *s = state(a);
	for (;;) {
		if (io_uring_sq_ready(&s->ring))
			uring_submit_now(a);
		if (!s->backlog_head)
			return;
		unsigned moved = 0;
		while (s->backlog_head && uring_prep(a, s->backlog_head)) {
			s->backlog_head = s->backlog_head->next;
			moved++;
		}
		if (!s->backlog_head)
			s->backlog_tail = &s->backlog_head;
		if (!moved)
			return; /* the SQ did not drain: try again later */
	}
}

static void uring_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	/* Nothing to do for an empty range; fallocate would even call a
	 * zero length invalid. */
	if (r->op != BLK_AIO_FLUSH && r->len == 0) {
		blk_aio_finished(a, r, 0);
		return;
	}
	if (r->op == BLK_AIO_WRITE_ZEROES)
		r->stage = (r->flags & BLK_AIO_F_UNMAP) ? STAGE_PUNCH : STAGE_ZERO_RANGE;
	uring_queue(a, r);
}

/* Drops n transferred bytes off the front of the request's iovecs. */
static void iov_consume(struct blk_aio_req *r, uint64_t n)
{
	while (r->niov && (n || !r->iov[0].iov_len)) {
		if (n >= r->iov[0].iov_len) {
			n -= r->iov[0].iov_len;
			r->iov++;
			r->niov--;
		} else {
			r->iov[0].iov_base = (uint8_t *)r->iov[0].iov_base + n;
			r->iov[0].iov_len -= (size_t)n;
			n = 0;
		}
	}
}

/* One CQE for r: queue its next step, or hand it back. */
static void uring_complete(struct blk_aio *a, struct blk_aio_req *r, int res)
{
	if (res == -EINTR || res == -EAGAIN) {
		uring_queue(a, r); /* the same step again */
		return;
	}
	switch (r->op) {
	case BLK_AIO_READ:
	case BLK_AIO_WRITE:
		if (r->stage == STAGE_SYNC) {
			blk_aio_finished(a, r, res < 0 ? res : 0);
			return;
		}
		if (res <= 0) {
			/* 0: end of file inside the image, which shrank. */
			blk_aio_finished(a, r, res < 0 ? res : -EIO);
			return;
		}
		r->progress += (uint64_t)res;
		if (r->progress < r->len) {
			iov_consume(r, (uint64_t)res);
			uring_queue(a, r);
		} else if (r->op == BLK_AIO_WRITE && (r->flags & BLK_AIO_F_FUA)) {
			r->stage = STAGE_SYNC;
			uring_queue(a, r);
		} else {
			blk_aio_finished(a, r, 0);
		}
		return;
	case BLK_AIO_FLUSH:
		blk_aio_finished(a, r, res < 0 ? res : 0);
		return;
	case BLK_AIO_DISCARD:
		blk_aio_finished(a, r, op_unsupported(res) ? -EOPNOTSUPP : res < 0 ? res : 0);
		return;
	case BLK_AIO_WRITE_ZEROES:
		if (r->stage == STAGE_ZERO_WRITE) {
			if (res <= 0) {
				blk_aio_finished(a, r, res < 0 ? res : -EIO);
				return;
			}
			r->progress += (uint64_t)res;
			if (r->progress < r->len)
				uring_queue(a, r);
			else
				blk_aio_finished(a, r, 0);
			return;
		}
		if (op_unsupported(res)) {
			r->stage++;
			r->progress = 0;
			uring_queue(a, r);
			return;
		}
		blk_aio_finished(a, r, res < 0 ? res : 0);
		return;
	}
}

static void uring_reap(struct blk_aio *a)
{
	struct uring_state *s = state(a);
	/* A submit the kernel refused earlier gets another chance here. */
	if (io_uring_sq_ready(&s->ring) || s->backlog_head)
		uring_kick(a);
	for (;;) {
		struct io_uring_cqe *cqe;
		s->requeued = false;
		while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
			struct blk_aio_req *r = io_uring_cqe_get_data(cqe);
			int res = cqe->res;
			io_uring_cqe_seen(&s->ring, cqe);
			uring_complete(a, r, res);
		}
		if (!s->requeued) {
			if (!s->efd_off)
				return;
			/* Back on for what completes later; a completion
			 * posted before this would not have signalled. */
			io_uring_cq_eventfd_toggle(&s->ring, true);
			s->efd_off = false;
			if (!io_uring_cq_ready(&s->ring))
				return;
			continue;
		}
		/* Next steps may finish inside the submit (page cache): look
		 * again rather than wait for the eventfd. */
		uring_kick(a);
	}
}

static void uring_wait(struct blk_aio *a)
{
	struct uring_state *s = state(a);
	struct io_uring_cqe *cqe;
	uring_kick(a);
	int r;
	do
		r = io_uring_wait_cqe(&s->ring, &cqe);
	while (r == -EINTR || r == -EAGAIN);
	if (r < 0)
		log_error("%s: io_uring wait: %s", a->bb->path, strerror(-r));
}

static int uring_init(struct blk_aio *a, struct error *e)
{
	struct uring_state *s = calloc(1, sizeof(*s));
	if (!s)
		return error_set(e, -ENOMEM, "io_uring: out of memory");
	s->backlog_tail = &s->backlog_head;
	s->zero = calloc(1, ZERO_BUF_SIZE);
	if (!s->zero) {
		free(s);
		return error_set(e, -ENOMEM, "io_uring: out of memory");
	}

	unsigned entries = a->depth < 4096 ? a->depth : 4096;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	/* SUBMIT_ALL (5.18): one bad SQE must not hold back the rest of a
	 * batch. Older kernels refuse the flag; they do without. */
	p.flags = IORING_SETUP_SUBMIT_ALL;
	int r = io_uring_queue_init_params(entries, &s->ring, &p);
	if (r == -EINVAL) {
		memset(&p, 0, sizeof(p));
		r = io_uring_queue_init_params(entries, &s->ring, &p);
	}
	if (r < 0) {
		free(s->zero);
		free(s);
		return error_set(e, r, "io_uring unavailable: %s", strerror(-r));
	}

	const char *missing = NULL;
	struct io_uring_probe *probe = io_uring_get_probe_ring(&s->ring);
	if (!probe) {
		missing = "opcode probe";
	} else {
		static const struct { int op; const char *name; } need[] = {
			{ IORING_OP_READV, "readv" },
			{ IORING_OP_WRITEV, "writev" },
			{ IORING_OP_FSYNC, "fsync" },
			{ IORING_OP_FALLOCATE, "fallocate" },
		};
		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]) && !missing; i++)
			if (!io_uring_opcode_supported(probe, need[i].op))
				missing = need[i].name;
		io_uring_free_probe(probe);
	}
	if (missing) {
		r = error_set(e, -EOPNOTSUPP, "io_uring lacks %s", missing);
		goto fail;
	}
	r = io_uring_register_eventfd(&s->ring, a->efd);
	/* CQ flags (5.8+): the eventfd can be turned off around submits. */
	s->efd_toggle = r == 0 && s->ring.cq.kflags;
	if (r < 0) {
		error_set(e, r, "io_uring eventfd: %s", strerror(-r));
		goto fail;
	}
	a->priv = s;
	return 0;

fail:
	io_uring_queue_exit(&s->ring);
	free(s->zero);
	free(s);
	return r;
}

static void uring_fini(struct blk_aio *a)
{
	struct uring_state *s = state(a);
	io_uring_queue_exit(&s->ring);
	free(s->zero);
	free(s);
	a->priv = NULL;
}

const struct blk_aio_engine_ops blk_aio_uring_ops = {
	.name = "io_uring",
	.init = uring_init,
	.fini = uring_fini,
	.submit = uring_submit,
	.kick = uring_kick,
	.reap = uring_reap,
	.wait = uring_wait,
};
