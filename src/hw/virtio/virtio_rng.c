/*
 * virtio-rng: one request queue of device-writable buffers. Each request
 * gets up to VIRTIO_RNG_MAX_REQUEST bytes straight from getrandom(2) into
 * guest RAM; a kick serves at most VIRTIO_RNG_MAX_BURST bytes, and what is
 * left is picked up by a short timer, so a guest posting huge or endless
 * requests cannot hold the device lock (and every other device) for long.
 *
 * getrandom() runs with GRND_NONBLOCK: before the host pool is seeded it
 * may return fewer bytes, or none; the request is then returned with the
 * bytes that were written (possibly zero), which the spec allows.
 */
#include "hw/virtio/virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_QUEUE_SIZE 256
/* How long to let the rest of the machine run before serving a backlog. */
#define RNG_BACKLOG_DELAY_NS 1000000ULL

struct virtio_rng {
	struct virtio_device vd;
	struct timer backlog;
	bool broken; /* the guest corrupted the queue: wait for a reset */
	struct virtq_elem elem; /* large: kept here, not on the stack */
};

static struct virtio_rng *to_rng(struct virtio_device *vd)
{
	return vd->dev;
}

/* Fills one buffer from the host; returns the bytes written. virtq_push()
 * tells the CPU model about the guest RAM written. */
static size_t rng_fill(void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = getrandom((uint8_t *)buf + done, len - done, GRND_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EAGAIN: the host pool is not ready; give what we have */
		done += (size_t)n;
	}
	return done;
}

static void rng_process(struct virtio_rng *r)
{
	struct virtio_device *vd = &r->vd;
	struct virtq *q = &vd->vq[0];
	if (r->broken || !q->ready || !(vd->status & VIRTIO_STATUS_DRIVER_OK))
		return;

	size_t budget = VIRTIO_RNG_MAX_BURST;
	bool pushed = false;
	while (budget) {
		struct virtq_elem *e = &r->elem;
		int got = virtq_pop(q, e);
		if (got < 0) {
			r->broken = true;
			virtio_set_needs_reset(vd);
			break;
		}
		if (got == 0)
			break;
		/* Readable parts have no meaning for this device: skip them. */
		size_t want = budget < VIRTIO_RNG_MAX_REQUEST ? budget : VIRTIO_RNG_MAX_REQUEST;
		size_t written = 0;
		for (unsigned i = e->nout; i < e->nout + e->nin && written < want; i++) {
			size_t len = e->iov[i].iov_len;
			if (len > want - written)
				len = want - written;
			size_t n = rng_fill(e->iov[i].iov_base, len);
			written += n;
			if (n < len)
				break;
		}
		virtq_push(q, e, (uint32_t)written);
		pushed = true;
		budget -= written;
		if (written == 0)
			break; /* no entropy right now: do not spin returning empty buffers */
	}
	if (pushed)
		virtio_notify_queue(vd, 0);
	if (!r->broken && !budget && virtq_has_work(q))
		timer_mod(&r->backlog, clock_ns() + RNG_BACKLOG_DELAY_NS);
}

static void rng_backlog(void *opaque)
{
	rng_process(opaque);
}

static uint64_t rng_features(struct virtio_device *vd)
{
	(void)vd;
	return 0; /* no device-specific features exist */
}

static void rng_config_read(struct virtio_device *vd, unsigned offset, void *buf, unsigned len)
{
	(void)vd, (void)offset, (void)buf, (void)len;
}

static void rng_config_write(struct virtio_device *vd, unsigned offset, const void *buf,
			     unsigned len)
{
	(void)vd, (void)offset, (void)buf, (void)len;
}

static void rng_start(struct virtio_device *vd)
{
	rng_process(to_rng(vd));
}

static void rng_queue_notify(struct virtio_device *vd, unsigned q)
{
	if (q == 0)
		rng_process(to_rng(vd));
}

static void rng_reset(struct virtio_device *vd)
{
	struct virtio_rng *r = to_rng(vd);
	timer_del(&r->backlog);
	r->broken = false;
}

static const struct virtio_device_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = rng_features,
	.config_size = 0,
	.config_read = rng_config_read,
	.config_write = rng_config_write,
	.start = rng_start,
	.queue_notify = rng_queue_notify,
	.reset = rng_reset,
};

struct virtio_device *virtio_rng_create(struct vm *vm, struct error *e)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	if (!r) {
		error_set(e, -ENOMEM, "virtio-rng: out of memory");
		return NULL;
	}
	virtio_device_init(&r->vd, vm, &rng_ops, r, 1, RNG_QUEUE_SIZE);
	timer_init(&r->backlog, &vm->timers, rng_backlog, r);
	return &r->vd;
}

void virtio_rng_destroy(struct virtio_device *vd)
{
	if (!vd)
		return;
	struct virtio_rng *r = to_rng(vd);
	timer_del(&r->backlog);
	free(r);
}
