/*
 * virtio-rng with a stand-in transport: requests are filled with host
 * random bytes and returned with the right used length; one request gets
 * at most VIRTIO_RNG_MAX_REQUEST bytes and one kick at most
 * VIRTIO_RNG_MAX_BURST (the backlog is served by the device's timer);
 * nothing moves before DRIVER_OK; a corrupt ring means NEEDS_RESET.
 */
#include <stdlib.h>
#include <time.h>

#include "core/vm.h"
#include "driver_ring.h"
#include "hw/virtio/virtio_rng.h"
#include "test.h"

#define RING 0x100000
#define BUF 0x200000
#define STATUS_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

static struct vm vm;
static int queue_irqs;

static void fake_notify_queue(struct virtio_device *vd, unsigned q)
{
	(void)vd;
	CHECK_EQ(q, 0);
	queue_irqs++;
}

static void fake_notify_config(struct virtio_device *vd)
{
	(void)vd;
}

static const struct virtio_transport_ops fake_transport = {
	.notify_queue = fake_notify_queue,
	.notify_config = fake_notify_config,
};

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void bring_up(struct virtio_device *vd, struct dring *r)
{
	virtio_set_status(vd, 0);
	dring_init(r, &vm.mem, RING, 16);
	vd->driver_features = 1ULL << VIRTIO_F_VERSION_1;
	virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				      VIRTIO_STATUS_FEATURES_OK);
	dring_attach(r, &vd->vq[0]);
	virtio_set_status(vd, STATUS_OK);
}

int main(void)
{
	struct error e = { { 0 } };
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(guest_mem_init(&vm.mem, 32 << 20, 0xc0000000ULL), 0);
	struct virtio_device *vd = virtio_rng_create(&vm, &e);
	CHECK(vd != NULL);
	if (!vd)
		return test_exit();
	vd->transport = &fake_transport;
	CHECK_EQ(vd->ops->device_id, VIRTIO_ID_RNG);
	CHECK_EQ(vd->num_queues, 1);
	CHECK_EQ(vd->ops->config_size, 0);

	uint8_t *buf = guest_ptr(&vm.mem, BUF, 4 << 20);
	struct dring r;

	/* Nothing is served before DRIVER_OK, even on a kick. */
	dring_init(&r, &vm.mem, RING, 16);
	vd->driver_features = 1ULL << VIRTIO_F_VERSION_1;
	virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				      VIRTIO_STATUS_FEATURES_OK);
	dring_attach(&r, &vd->vq[0]);
	memset(buf, 0, 64);
	dring_post1(&r, BUF, 64, true);
	vd->ops->queue_notify(vd, 0);
	CHECK(!dring_used(&r, NULL, NULL));
	/* DRIVER_OK serves what was posted before it. */
	virtio_set_status(vd, STATUS_OK);
	uint32_t id = 99, len = 0;
	CHECK(dring_used(&r, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 64);
	CHECK(!all_bytes(buf, 64, 0));
	CHECK_EQ(queue_irqs, 1);

	/* A chain of two writable buffers, after a readable one it ignores. */
	memset(buf, 0, 256);
	struct dbuf chain[] = { { BUF + 200, 8, false }, { BUF, 16, true }, { BUF + 100, 16, true } };
	dring_post(&r, chain, 3);
	vd->ops->queue_notify(vd, 0);
	CHECK(dring_used(&r, &id, &len));
	CHECK_EQ(id, 1);
	CHECK_EQ(len, 32);
	CHECK(!all_bytes(buf, 16, 0));
	CHECK(!all_bytes(buf + 100, 16, 0));
	CHECK(all_bytes(buf + 16, 84, 0));
	CHECK(all_bytes(buf + 200, 8, 0));

	/* Per-request cap: a 128 KiB buffer gets 64 KiB, the rest untouched. */
	memset(buf, 0xaa, 128 << 10);
	dring_post1(&r, BUF, 128 << 10, true);
	vd->ops->queue_notify(vd, 0);
	CHECK(dring_used(&r, &id, &len));
	CHECK_EQ(len, VIRTIO_RNG_MAX_REQUEST);
	CHECK(all_bytes(buf + VIRTIO_RNG_MAX_REQUEST, (128 << 10) - VIRTIO_RNG_MAX_REQUEST, 0xaa));
	CHECK(!all_bytes(buf + VIRTIO_RNG_MAX_REQUEST - 64, 64, 0xaa));

	/* Per-kick cap: six 64 KiB requests, four served now, the rest by the timer. */
	bring_up(vd, &r);
	int total = VIRTIO_RNG_MAX_BURST / VIRTIO_RNG_MAX_REQUEST + 2;
	for (int i = 0; i < total; i++)
		dring_post1(&r, BUF + (uint64_t)i * VIRTIO_RNG_MAX_REQUEST, VIRTIO_RNG_MAX_REQUEST,
			    true);
	queue_irqs = 0;
	vd->ops->queue_notify(vd, 0);
	int served = 0;
	while (dring_used(&r, NULL, &len)) {
		CHECK_EQ(len, VIRTIO_RNG_MAX_REQUEST);
		served++;
	}
	CHECK_EQ(served, VIRTIO_RNG_MAX_BURST / VIRTIO_RNG_MAX_REQUEST);
	CHECK_EQ(queue_irqs, 1);
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	timer_list_run(&vm.timers);
	while (dring_used(&r, NULL, &len))
		served++;
	CHECK_EQ(served, total);

	/* A descriptor outside guest RAM: NEEDS_RESET, and the queue is left alone. */
	dring_post1(&r, 0x7ffff0000000ULL, 64, true);
	vd->ops->queue_notify(vd, 0);
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!dring_used(&r, NULL, NULL));
	dring_post1(&r, BUF, 64, true);
	vd->ops->queue_notify(vd, 0);
	CHECK(!dring_used(&r, NULL, NULL));

	/* Reset brings it back. */
	bring_up(vd, &r);
	CHECK(!(vd->status & VIRTIO_STATUS_NEEDS_RESET));
	dring_post1(&r, BUF, 32, true);
	vd->ops->queue_notify(vd, 0);
	CHECK(dring_used(&r, NULL, &len));
	CHECK_EQ(len, 32);

	virtio_rng_destroy(vd);
	vm_destroy(&vm);
	return test_exit();
}
