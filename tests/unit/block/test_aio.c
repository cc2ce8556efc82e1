/*
 * The asynchronous engine, both flavours (io_uring when the host has it,
 * and the thread pool): batches of writes and reads through iovecs,
 * flush, FUA writes, discard and write-zeroes, empty requests, a read
 * that runs past the end of the file (short transfer, then an error),
 * completion through the eventfd, and drain with requests in flight.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "block/aio.h"
#include "test.h"
#include "tmpimg.h"

#define IMG_SIZE (4u << 20)
#define NREQ 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int completed, batches;

struct treq {
	struct blk_aio_req aio; /* first */
	int ret;
	bool done;
	struct iovec iov[2];
	uint8_t buf[16384];
};

static struct treq reqs[NREQ];

static void treq_done(struct blk_aio_req *r, int ret)
{
	struct treq *t = (struct treq *)r;
	CHECK(!t->done);
	t->ret = ret;
	t->done = true;
	completed++;
}

static void batch_done(void *opaque)
{
	(void)opaque;
	batches++;
}

static void prep(struct treq *t, enum blk_aio_op op, uint64_t off, uint64_t len, unsigned flags)
{
	memset(&t->aio, 0, sizeof(t->aio));
	t->done = false;
	t->ret = 1;
	t->aio.op = op;
	t->aio.flags = flags;
	t->aio.offset = off;
	t->aio.len = len;
	t->aio.done = treq_done;
	if (op == BLK_AIO_READ || op == BLK_AIO_WRITE) {
		/* Two iovecs, split off-centre, to exercise the vector paths. */
		uint64_t first = len / 3;
		t->iov[0] = (struct iovec){ t->buf, first };
		t->iov[1] = (struct iovec){ t->buf + first, len - first };
		t->aio.iov = t->iov;
		t->aio.niov = 2;
	}
}

/* Waits on the eventfd, as the VM's event loop would, until n completed:
 * while any is outstanding the eventfd must be raised (within 5 s). */
static void wait_for(struct blk_aio *a, int n)
{
	int silent = 0;
	for (int spins = 0; completed < n && spins < 1000; spins++) {
		struct pollfd p = { blk_aio_event_fd(a), POLLIN, 0 };
		if (poll(&p, 1, 5000) != 1)
			silent++;
		blk_aio_handle_event(a);
	}
	CHECK_EQ(silent, 0);
	CHECK_EQ(completed, n);
}

/* Submits n, kicks and polls, as the device does (blk_aio_kick). */
static void submit_all(struct blk_aio *a, int n)
{
	completed = 0;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n; i++)
		blk_aio_submit(a, &reqs[i].aio);
	blk_aio_kick(a);
	blk_aio_poll(a);
	pthread_mutex_unlock(&lock);
}

static void run(enum blk_aio_engine engine, const char *path)
{
	struct error e = { { 0 } };
	struct block_backend *bb;
	CHECK_EQ(block_open(&bb, path, false, &e), 0);
	if (!bb)
		return;
	struct blk_aio *a;
	int r = blk_aio_create(&a, bb, &lock, NREQ, engine, batch_done, NULL, &e);
	if (r && engine == BLK_AIO_ENGINE_IO_URING) {
		fprintf(stderr, "io_uring engine unavailable here (%s): skipped\n", e.msg);
		block_close(bb);
		return;
	}
	CHECK_EQ(r, 0);
	if (r) {
		block_close(bb);
		return;
	}
	fprintf(stderr, "engine: %s\n", blk_aio_engine_name(a));
	CHECK_STR(blk_aio_engine_name(a), engine == BLK_AIO_ENGINE_THREADS ? "threads" : "io_uring");

	/* A batch of writes, each its own pattern, half of them FUA. */
	for (int i = 0; i < NREQ; i++) {
		prep(&reqs[i], BLK_AIO_WRITE, (uint64_t)i * 8192, 8192, i & 1 ? BLK_AIO_F_FUA : 0);
		memset(reqs[i].buf, 0x10 + i, 8192);
	}
	batches = 0;
	submit_all(a, NREQ);
	wait_for(a, NREQ);
	CHECK(batches >= 1);
	for (int i = 0; i < NREQ; i++)
		CHECK_EQ(reqs[i].ret, 0);

	/* Read them back in reverse order. */
	for (int i = 0; i < NREQ; i++) {
		prep(&reqs[i], BLK_AIO_READ, (uint64_t)(NREQ - 1 - i) * 8192, 8192, 0);
		memset(reqs[i].buf, 0, 8192);
	}
	submit_all(a, NREQ);
	wait_for(a, NREQ);
	bool ok = true;
	for (int i = 0; i < NREQ; i++) {
		ok &= reqs[i].ret == 0;
		for (int j = 0; j < 8192; j++)
			ok &= reqs[i].buf[j] == (uint8_t)(0x10 + NREQ - 1 - i);
	}
	CHECK(ok);

	/* Flush, discard, write zeroes (with and without unmap), and
	 * requests of no length at all. */
	prep(&reqs[0], BLK_AIO_FLUSH, 0, 0, 0);
	prep(&reqs[1], BLK_AIO_DISCARD, 1 << 20, 8192, 0);
	prep(&reqs[2], BLK_AIO_WRITE_ZEROES, 2 << 20, 4096 + 512, 0);
	prep(&reqs[3], BLK_AIO_WRITE_ZEROES, 3 << 20, 4096 + 512, BLK_AIO_F_UNMAP);
	prep(&reqs[4], BLK_AIO_READ, 0, 0, 0);
	prep(&reqs[5], BLK_AIO_DISCARD, 4096, 0, 0);
	submit_all(a, 6);
	wait_for(a, 6);
	CHECK_EQ(reqs[0].ret, 0);
	CHECK(reqs[1].ret == 0 || reqs[1].ret == -EOPNOTSUPP);
	CHECK_EQ(reqs[2].ret, 0);
	CHECK_EQ(reqs[3].ret, 0);
	CHECK_EQ(reqs[4].ret, 0);
	CHECK_EQ(reqs[5].ret, 0);
	/* Read back (the discard only if it happened), one sector more. */
	bool discarded = reqs[1].ret == 0;
	uint64_t zoff[3] = { 1 << 20, 2 << 20, 3 << 20 };
	uint64_t zlen[3] = { 8192, 4608, 4608 };
	for (int i = 0; i < 3; i++)
		prep(&reqs[i], BLK_AIO_READ, zoff[i], zlen[i] + 512, 0);
	submit_all(a, 3);
	wait_for(a, 3);
	for (int i = 0; i < 3; i++) {
		if (i == 0 && !discarded)
			continue;
		ok = reqs[i].ret == 0;
		for (uint64_t j = 0; j < zlen[i]; j++)
			ok &= reqs[i].buf[j] == 0;
		ok &= reqs[i].buf[zlen[i]] == tmpimg_byte(zoff[i] + zlen[i]);
		CHECK(ok);
	}

	/* Across the end of the file: half comes back, then end of file,
	 * which must be an error and not silently short. */
	prep(&reqs[0], BLK_AIO_READ, IMG_SIZE - 512, 1024, 0);
	submit_all(a, 1);
	wait_for(a, 1);
	CHECK_EQ(reqs[0].ret, -EIO);
	CHECK_EQ(reqs[0].buf[0], tmpimg_byte(IMG_SIZE - 512));

	/* Drain: returns only when everything in flight has finished. */
	for (int i = 0; i < NREQ; i++)
		prep(&reqs[i], i % 8 ? BLK_AIO_READ : BLK_AIO_FLUSH, (uint64_t)i * 4096, 4096, 0);
	submit_all(a, NREQ);
	pthread_mutex_lock(&lock);
	blk_aio_drain(a);
	CHECK_EQ(blk_aio_inflight(a), 0);
	pthread_mutex_unlock(&lock);
	CHECK_EQ(completed, NREQ);

	blk_aio_destroy(a);
	block_close(bb);
}

int main(void)
{
	char path[64];
	CHECK_EQ(tmpimg_create(path, IMG_SIZE), 0);
	unsetenv("KEMU_BLOCK_AIO");
	run(BLK_AIO_ENGINE_IO_URING, path);
	run(BLK_AIO_ENGINE_THREADS, path);
	unlink(path);
	return test_exit();
}
