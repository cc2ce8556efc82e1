/*
 * virtio-blk: one request queue over a block back end.
 *
 * Data path. A kick (queue_notify, vd->lock held, on a vCPU or the event
 * loop) pops every available chain into a free request slot, checks it,
 * and hands reads, writes, flushes, discards and write-zeroes to the I/O
 * engine (block/aio.h) as one batch; GET_ID and every refusal finish on
 * the spot. The engine completes requests, again with vd->lock held,
 * either right after the submit (page-cache hits under io_uring) or later
 * from the event loop; each completion writes the status byte and returns
 * the chain, and one interrupt is raised per batch.
 *
 * Request slots are allocated once, as many as the queue can hold, and
 * each keeps its popped element and the iovecs of its data, which point
 * straight into guest RAM: nothing is allocated or copied per request.
 * When the slots run out the device stops popping and resumes as
 * completions free them.
 *
 * The guest is hostile. A chain without a 16-byte header or a writable
 * status byte cannot even be answered: the device sets NEEDS_RESET and
 * stops using the queue. Everything else (sector ranges, lengths, the
 * request type, writes to a read-only image) is answered with IOERR or
 * UNSUPP. A reset waits for every request in flight, so no completion
 * writes guest memory after it.
 */
#include "hw/virtio/virtio_blk.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "block/aio.h"
#include "block/block.h"
#include "util/log.h"

#define BLK_QUEUE_SIZE 256
/* Data segments per request: the queue size minus header and status,
 * so that a request fits the ring even without indirect descriptors. */
#define BLK_SEG_MAX_DIRECT (BLK_QUEUE_SIZE - 2)
/* With indirect descriptors a chain is not bounded by the ring, so the
 * driver may send more: a 1 MiB O_DIRECT transfer from a buffer of 256
 * scattered pages then travels as one request instead of being split in
 * two (each request costs an emulated guest a lot more than a segment).
 * Beyond the guest's own default limit (1280 KiB, 320 pages) nothing is
 * gained; the whole chain stays within VIRTQ_MAX_CHAIN. */
#define BLK_SEG_MAX 510
_Static_assert(BLK_SEG_MAX + 2 <= VIRTQ_MAX_CHAIN, "a request fits a chain");
/* Discard / write-zeroes: one segment per request, up to 4 GiB - 512. */
#define BLK_MAX_DISCARD_SECTORS (UINT32_MAX / BLOCK_SECTOR_SIZE)
#define BLK_DISCARD_ALIGNMENT 8 /* sectors: 4 KiB, the host's hole granularity */

/* Requests taken per kick before letting the rest of the machine have the
 * device lock; a guest that keeps posting refusals could otherwise hold
 * it forever. The rest is picked up from a timer on the event loop. */
#define BLK_BURST (2 * BLK_QUEUE_SIZE)

#define BLK_HEADER_BYTES 16
#define BLK_SEGMENT_BYTES 16

struct virtio_blk;

struct blk_req {
	struct blk_aio_req aio;
	struct virtio_blk *blk;
	uint8_t *status;             /* the chain's last writable byte */
	struct blk_req *next_free;
	struct iovec data[BLK_SEG_MAX];
	struct virtq_elem elem;      /* last: large, mostly never touched */
};

struct virtio_blk {
	struct virtio_device vd;
	struct vm *vm;
	struct block_backend *bb;
	struct blk_aio *aio;
	bool aio_watched;            /* its eventfd is on vm->loop */
	uint64_t capacity;           /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES];

	struct blk_req *reqs;
	struct blk_req *free_list;
	bool broken;                 /* the driver broke the queue: wait for reset */
	bool resetting;              /* draining: completions leave the rings alone */
	bool stalled;                /* stopped popping for want of a free slot */
	bool notify_pending;         /* chains returned since the last interrupt */
	struct timer backlog;        /* resumes a queue left after BLK_BURST */
};

static struct virtio_blk *to_blk(struct virtio_device *vd)
{
	return vd->dev;
}

/* ---- completion ---- */

static void blk_req_free(struct virtio_blk *b, struct blk_req *req)
{
	req->next_free = b->free_list;
	b->free_list = req;
}

/* Writes the status byte, returns the chain and frees the slot. */
static void blk_finish(struct virtio_blk *b, struct blk_req *req, uint8_t status)
{
	if (!b->resetting) {
		*req->status = status;
		/* Report the whole writable part: it bounds what the device
		 * (or the host kernel, for a read) may have written, which is
		 * what an emulated CPU's code cache must forget. */
		uint64_t len = req->elem.in_len;
		virtq_push(&b->vd.vq[0], &req->elem, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
		b->notify_pending = true;
	}
	blk_req_free(b, req);
}

static void blk_aio_done(struct blk_aio_req *ar, int ret)
{
	struct blk_req *req = (struct blk_req *)((char *)ar - offsetof(struct blk_req, aio));
	uint8_t status = VIRTIO_BLK_S_OK;
	if (ret == -EOPNOTSUPP) {
		status = VIRTIO_BLK_S_UNSUPP;
	} else if (ret < 0) {
		status = VIRTIO_BLK_S_IOERR;
		log_debug("%s: request failed: %s", req->blk->bb->path, strerror(-ret));
	}
	blk_finish(req->blk, req, status);
}

static void blk_process(struct virtio_blk *b);

static void blk_flush_notify(struct virtio_blk *b)
{
	if (b->notify_pending && !b->resetting) {
		b->notify_pending = false;
		virtio_notify_queue(&b->vd, 0);
	}
}

/* After a batch of completions: one interrupt, and resume a stalled queue. */
static void blk_batch_done(void *opaque)
{
	struct virtio_blk *b = opaque;
	blk_flush_notify(b);
	if (b->stalled && b->free_list && !b->resetting) {
		b->stalled = false;
		blk_process(b);
	}
}

/* ---- request decoding ---- */

/*
 * Points req->data at bytes [skip, skip + len) of iov[0..n); returns the
 * number of iovecs, or -1 if they would be more than BLK_SEG_MAX.
 */
static int blk_map_data(struct blk_req *req, const struct iovec *iov, unsigned n, uint64_t skip,
			uint64_t len)
{
	int cnt = 0;
	for (unsigned i = 0; i < n && len; i++) {
		uint64_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (cnt == BLK_SEG_MAX)
			return -1;
		uint64_t take = l - skip < len ? l - skip : len;
		req->data[cnt].iov_base = (uint8_t *)iov[i].iov_base + skip;
		req->data[cnt].iov_len = (size_t)take;
		cnt++;
		len -= take;
		skip = 0;
	}
	return cnt;
}

/* Is [sector, sector + count) inside the disk? Written not to overflow. */
static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t count)
{
	return sector <= b->capacity && count <= b->capacity - sector;
}

/* IN / OUT: a data transfer straight between guest RAM and the image. */
static uint8_t blk_start_rw(struct virtio_blk *b, struct blk_req *req, bool write, uint64_t sector)
{
	struct virtq_elem *e = &req->elem;
	uint64_t len;
	int n;
	if (write) {
		if (b->bb->readonly)
			return VIRTIO_BLK_S_IOERR;
		len = e->out_len - BLK_HEADER_BYTES;
		n = blk_map_data(req, e->iov, e->nout, BLK_HEADER_BYTES, len);
	} else {
		len = e->in_len - 1; /* all but the status byte */
		n = blk_map_data(req, &e->iov[e->nout], e->nin, 0, len);
	}
	if (n < 0 || len % BLOCK_SECTOR_SIZE || !blk_range_ok(b, sector, len / BLOCK_SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;

	req->aio.op = write ? BLK_AIO_WRITE : BLK_AIO_READ;
	/* A driver that did not take F_FLUSH expects a write-through disk. */
	req->aio.flags = write && !virtio_has_feature(&b->vd, VIRTIO_BLK_F_FLUSH) ? BLK_AIO_F_FUA
										 : 0;
	req->aio.offset = sector * BLOCK_SECTOR_SIZE;
	req->aio.len = len;
	req->aio.iov = req->data;
	req->aio.niov = n;
	return 0xff;
}

/* DISCARD / WRITE_ZEROES: one 16-byte segment after the header. */
static uint8_t blk_start_zero(struct virtio_blk *b, struct blk_req *req, bool discard)
{
	struct virtq_elem *e = &req->elem;
	struct {
		uint64_t sector;
		uint32_t num_sectors;
		uint32_t flags;
	} seg;
	_Static_assert(sizeof(seg) == BLK_SEGMENT_BYTES, "segment layout");

	if (b->bb->readonly)
		return VIRTIO_BLK_S_IOERR;
	/* We advertise one segment per request; anything else is refused
	 * rather than half done. */
	if (e->out_len - BLK_HEADER_BYTES != BLK_SEGMENT_BYTES)
		return VIRTIO_BLK_S_IOERR;
	iov_to_buf(e->iov, e->nout, BLK_HEADER_BYTES, &seg, sizeof(seg));
	uint32_t known = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	if (seg.flags & ~known)
		return VIRTIO_BLK_S_UNSUPP; /* section 5.2.6.2: unknown flags, unmap on discard */
	if (seg.num_sectors > BLK_MAX_DISCARD_SECTORS || !blk_range_ok(b, seg.sector, seg.num_sectors))
		return VIRTIO_BLK_S_IOERR;

	req->aio.op = discard ? BLK_AIO_DISCARD : BLK_AIO_WRITE_ZEROES;
	req->aio.flags = seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ? BLK_AIO_F_UNMAP : 0;
	req->aio.offset = seg.sector * BLOCK_SECTOR_SIZE;
	req->aio.len = (uint64_t)seg.num_sectors * BLOCK_SECTOR_SIZE;
	req->aio.iov = NULL;
	req->aio.niov = 0;
	return 0xff;
}

/*
 * Starts one popped request. Returns true if it went to the engine;
 * otherwise it is already finished (or the queue is broken).
 */
static bool blk_start(struct virtio_blk *b, struct blk_req *req)
{
	struct virtq_elem *e = &req->elem;

	/* Section 5.2.6: a readable header first, a writable status byte
	 * last. Without them there is nobody to answer. */
	if (e->out_len < BLK_HEADER_BYTES || e->nin == 0) {
		log_debug("%s: malformed request chain", b->bb->path);
		b->broken = true;
		virtio_set_needs_reset(&b->vd);
		blk_req_free(b, req);
		return false;
	}
	const struct iovec *last = &e->iov[e->nout + e->nin - 1];
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1; /* iov_len >= 1 */

	struct {
		uint32_t type;
		uint32_t ioprio;
		uint64_t sector;
	} hdr;
	_Static_assert(sizeof(hdr) == BLK_HEADER_BYTES, "header layout");
	iov_to_buf(e->iov, e->nout, 0, &hdr, sizeof(hdr));

	uint8_t status;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		status = blk_start_rw(b, req, hdr.type == VIRTIO_BLK_T_OUT, hdr.sector);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (b->bb->readonly) {
			status = VIRTIO_BLK_S_OK; /* nothing was ever written */
			break;
		}
		req->aio.op = BLK_AIO_FLUSH;
		req->aio.flags = 0;
		req->aio.offset = req->aio.len = 0;
		req->aio.iov = NULL;
		req->aio.niov = 0;
		status = 0xff;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		/* The id is zero-padded, and not terminated when 20 long. */
		uint64_t room = e->in_len - 1;
		size_t n = room < VIRTIO_BLK_ID_BYTES ? (size_t)room : VIRTIO_BLK_ID_BYTES;
		iov_from_buf(&e->iov[e->nout], e->nin, 0, b->serial, n);
		status = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_start_zero(b, req, hdr.type == VIRTIO_BLK_T_DISCARD);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}

	if (status != 0xff) {
		blk_finish(b, req, status);
		return false;
	}
	blk_aio_submit(b->aio, &req->aio);
	return true;
}

/* ---- the queue ---- */

static void blk_process(struct virtio_blk *b)
{
	struct virtio_device *vd = &b->vd;
	struct virtq *q = &vd->vq[0];
	if (b->broken || b->resetting || !q->ready || !(vd->status & VIRTIO_STATUS_DRIVER_OK))
		return;

	bool submitted = false;
	unsigned budget = BLK_BURST;
	for (;;) {
		/* No kicks while we are draining anyway. */
		virtq_set_notification(q, false);
		while (b->free_list) {
			if (!budget--) {
				/* Notifications stay off: the timer comes back. */
				timer_mod(&b->backlog, clock_ns());
				goto out;
			}
			struct blk_req *req = b->free_list;
			int got = virtq_pop(q, &req->elem);
			if (got < 0) {
				b->broken = true;
				virtio_set_needs_reset(vd);
				goto out;
			}
			if (got == 0)
				break;
			b->free_list = req->next_free;
			submitted |= blk_start(b, req);
			if (b->broken)
				goto out;
		}
		if (!b->free_list) {
			/* Completions resume us (blk_batch_done); until then
			 * kicks would only find us busy. */
			b->stalled = true;
			break;
		}
		virtq_set_notification(q, true);
		/* A chain posted between the last pop and re-enabling would
		 * otherwise wait for a kick that was suppressed. */
		if (!virtq_has_work(q))
			break;
	}
out:
	if (submitted)
		blk_aio_kick(b->aio);
	blk_flush_notify(b);
	/* Page-cache hits have often completed inside the kick already. */
	if (submitted)
		blk_aio_poll(b->aio);
}

static void blk_backlog(void *opaque)
{
	blk_process(opaque);
}

/* ---- virtio_device_ops ---- */

static uint64_t blk_features(struct virtio_device *vd)
{
	struct virtio_blk *b = to_blk(vd);
	uint64_t f = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ULL << VIRTIO_BLK_F_FLUSH);
	if (b->bb->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void blk_config(const struct virtio_blk *b, struct virtio_blk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->capacity = b->capacity;
	/* Drivers read seg_max after feature negotiation (section 3.1.1),
	 * so the larger limit only reaches one that took indirect
	 * descriptors; before that the ring-sized one is safe for all. */
	c->seg_max = virtio_has_feature(&b->vd, VIRTIO_F_RING_INDIRECT_DESC) ? BLK_SEG_MAX
									    : BLK_SEG_MAX_DIRECT;
	c->blk_size = BLOCK_SECTOR_SIZE;
	c->num_queues = 1;
	c->max_discard_sectors = BLK_MAX_DISCARD_SECTORS;
	c->max_discard_seg = 1;
	c->discard_sector_alignment = BLK_DISCARD_ALIGNMENT;
	c->max_write_zeroes_sectors = BLK_MAX_DISCARD_SECTORS;
	c->max_write_zeroes_seg = 1;
	c->write_zeroes_may_unmap = 1;
}

static void blk_config_read(struct virtio_device *vd, unsigned offset, void *buf, unsigned len)
{
	struct virtio_blk_config c;
	blk_config(to_blk(vd), &c);
	memset(buf, 0, len);
	if (offset < sizeof(c))
		memcpy(buf, (uint8_t *)&c + offset, len < sizeof(c) - offset ? len : sizeof(c) - offset);
}

static void blk_config_write(struct virtio_device *vd, unsigned offset, const void *buf,
			     unsigned len)
{
	/* Only `writeback` is writable, and only with CONFIG_WCE, which we
	 * do not offer: the cache mode is always writeback + flush. */
	(void)vd, (void)offset, (void)buf, (void)len;
}

static void blk_start_device(struct virtio_device *vd)
{
	blk_process(to_blk(vd));
}

static void blk_queue_notify(struct virtio_device *vd, unsigned q)
{
	if (q == 0)
		blk_process(to_blk(vd));
}

/* Called with vd->lock held; returns with nothing in flight. */
static void blk_quiesce(struct virtio_blk *b)
{
	b->resetting = true;
	timer_del(&b->backlog);
	if (b->aio)
		blk_aio_drain(b->aio);
	b->resetting = false;
}

static void blk_reset(struct virtio_device *vd)
{
	struct virtio_blk *b = to_blk(vd);
	blk_quiesce(b);
	b->broken = false;
	b->stalled = false;
	b->notify_pending = false;
}

static const struct virtio_device_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = blk_features,
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.start = blk_start_device,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
};

static void blk_event(void *opaque, uint32_t events)
{
	(void)events;
	struct virtio_blk *b = opaque;
	blk_aio_handle_event(b->aio);
}

/* The id is a fixed 20-byte field: zero-padded, not NUL-terminated. */
static void blk_set_serial(char *out, const char *id)
{
	size_t n = strlen(id);
	memset(out, 0, VIRTIO_BLK_ID_BYTES);
	memcpy(out, id, n < VIRTIO_BLK_ID_BYTES ? n : VIRTIO_BLK_ID_BYTES);
}

/* The default id: the image's file name, which is what a user sees in
 * /dev/disk/by-id/virtio-<id>. */
static void blk_default_serial(char *out, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	blk_set_serial(out, *base ? base : "kemu-disk");
}

struct virtio_device *virtio_blk_create(struct vm *vm, const struct drive_config *drive,
					const char *serial, struct error *e)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		error_set(e, -ENOMEM, "-drive %s: out of memory", drive->path);
		return NULL;
	}
	b->vm = vm;
	b->vd.dev = b; /* so that the failure path can find b; init sets it again */
	if (block_open(&b->bb, drive->path, drive->readonly, e) < 0)
		goto fail;
	b->capacity = b->bb->size / BLOCK_SECTOR_SIZE;
	if (serial && *serial)
		blk_set_serial(b->serial, serial);
	else
		blk_default_serial(b->serial, drive->path);

	/* calloc: the large elements are only touched as far as used. */
	b->reqs = calloc(BLK_QUEUE_SIZE, sizeof(*b->reqs));
	if (!b->reqs) {
		error_set(e, -ENOMEM, "-drive %s: out of memory", drive->path);
		goto fail;
	}
	for (int i = BLK_QUEUE_SIZE - 1; i >= 0; i--) {
		b->reqs[i].blk = b;
		b->reqs[i].aio.done = blk_aio_done;
		blk_req_free(b, &b->reqs[i]);
	}

	virtio_device_init(&b->vd, vm, &blk_ops, b, 1, BLK_QUEUE_SIZE);
	timer_init(&b->backlog, &vm->timers, blk_backlog, b);

	if (blk_aio_create(&b->aio, b->bb, b->vd.lock, BLK_QUEUE_SIZE, BLK_AIO_ENGINE_AUTO,
			   blk_batch_done, b, e) < 0)
		goto fail;
	int r = event_add_fd(&vm->loop, blk_aio_event_fd(b->aio), EPOLLIN, blk_event, b);
	if (r < 0) {
		error_set(e, r, "-drive %s: cannot watch I/O completions: %s", drive->path,
			  strerror(-r));
		goto fail;
	}
	b->aio_watched = true;
	log_debug("%s: virtio-blk, %" PRIu64 " sectors%s, %s I/O", drive->path, b->capacity,
		  drive->readonly ? ", read-only" : "", blk_aio_engine_name(b->aio));
	return &b->vd;

fail:
	virtio_blk_destroy(&b->vd);
	return NULL;
}

void virtio_blk_destroy(struct virtio_device *vd)
{
	if (!vd)
		return;
	struct virtio_blk *b = to_blk(vd);
	if (!b)
		return;
	if (b->aio) {
		/* The timer was set up before the engine existed. */
		pthread_mutex_lock(&b->vm->io_lock);
		blk_quiesce(b);
		pthread_mutex_unlock(&b->vm->io_lock);
		if (b->aio_watched)
			event_del_fd(&b->vm->loop, blk_aio_event_fd(b->aio));
		blk_aio_destroy(b->aio);
	}
	block_close(b->bb);
	free(b->reqs);
	free(b);
}
