/*
 * The virtio device model's status and feature state machine, with a dummy
 * device and a dummy transport that count what they are asked to do:
 * FEATURES_OK refused for unknown features or without VERSION_1, reset
 * clearing everything, start called exactly once at DRIVER_OK, negotiated
 * ring features reaching the queues, NEEDS_RESET raising a config
 * notification, queue interrupts going through the suppression check.
 */
#include <stdlib.h>

#include "core/vm.h"
#include "hw/virtio/virtio.h"
#include "test.h"

#define DEV_FEATURE_A (1ULL << 0)
#define DEV_FEATURE_B (1ULL << 5)

#define ACK VIRTIO_STATUS_ACKNOWLEDGE
#define DRV VIRTIO_STATUS_DRIVER
#define FOK VIRTIO_STATUS_FEATURES_OK
#define DOK VIRTIO_STATUS_DRIVER_OK
#define BIT(n) (1ULL << (n))

static struct vm vm;
static struct virtio_device vd;
static int dev_state;
static int starts, resets, queue_irqs, config_irqs;
static unsigned last_irq_queue;

static uint64_t dummy_features(struct virtio_device *d)
{
	CHECK(d->dev == &dev_state);
	return DEV_FEATURE_A | DEV_FEATURE_B;
}

static void dummy_config_read(struct virtio_device *d, unsigned off, void *buf, unsigned len)
{
	(void)d;
	(void)off;
	memset(buf, 0, len);
}

static void dummy_config_write(struct virtio_device *d, unsigned off, const void *buf, unsigned len)
{
	(void)d;
	(void)off;
	(void)buf;
	(void)len;
}

static void dummy_start(struct virtio_device *d)
{
	CHECK(d == &vd);
	starts++;
}

static void dummy_queue_notify(struct virtio_device *d, unsigned q)
{
	(void)d;
	(void)q;
}

static void dummy_reset(struct virtio_device *d)
{
	CHECK(d == &vd);
	resets++;
}

static const struct virtio_device_ops dummy_ops = {
	.name = "virtio-dummy",
	.device_id = VIRTIO_ID_RNG,
	.features = dummy_features,
	.config_size = 8,
	.config_read = dummy_config_read,
	.config_write = dummy_config_write,
	.start = dummy_start,
	.queue_notify = dummy_queue_notify,
	.reset = dummy_reset,
};

static void transport_notify_queue(struct virtio_device *d, unsigned q)
{
	CHECK(d == &vd);
	queue_irqs++;
	last_irq_queue = q;
}

static void transport_notify_config(struct virtio_device *d)
{
	CHECK(d == &vd);
	d->isr |= 2;
	config_irqs++;
}

static const struct virtio_transport_ops dummy_transport = {
	.notify_queue = transport_notify_queue,
	.notify_config = transport_notify_config,
};

static int ram_writes;
static void count_ram_written(void *opaque, const void *host, size_t len)
{
	CHECK(opaque == &ram_writes);
	(void)host;
	(void)len;
	ram_writes++;
}

static void fresh_device(void)
{
	virtio_device_init(&vd, &vm, &dummy_ops, &dev_state, 2, 256);
	vd.transport = &dummy_transport;
	starts = resets = queue_irqs = config_irqs = 0;
}

/* The driver's side of section 3.1.1, up to FEATURES_OK; returns status. */
static uint8_t negotiate(uint64_t features)
{
	virtio_set_status(&vd, ACK);
	virtio_set_status(&vd, ACK | DRV);
	vd.driver_features = features;
	virtio_set_status(&vd, ACK | DRV | FOK);
	return vd.status;
}

static void test_init(void)
{
	fresh_device();
	CHECK(vd.ops == &dummy_ops);
	CHECK(vd.vm == &vm);
	CHECK(vd.lock == &vm.io_lock);
	CHECK_EQ(vd.num_queues, 2);
	CHECK_EQ(vd.queue_max_size, 256);
	CHECK_EQ(vd.config_msix_vector, VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(vd.device_features, DEV_FEATURE_A | DEV_FEATURE_B | BIT(VIRTIO_F_VERSION_1) |
					     BIT(VIRTIO_F_RING_INDIRECT_DESC) |
					     BIT(VIRTIO_F_RING_EVENT_IDX));
	CHECK_EQ(vd.status, 0);
	for (unsigned i = 0; i < 2; i++) {
		CHECK(vd.vq[i].mem == &vm.mem);
		CHECK_EQ(vd.vq[i].size, 256);
		CHECK_EQ(vd.vq[i].max_size, 256);
		CHECK_EQ(vd.vq[i].msix_vector, VIRTIO_MSI_NO_VECTOR);
		CHECK(!vd.vq[i].ready);
	}

	/* Queue sizes are powers of two within VIRTQ_MAX_SIZE. */
	virtio_device_init(&vd, &vm, &dummy_ops, &dev_state, 1, 300);
	CHECK_EQ(vd.queue_max_size, 256);
	virtio_device_init(&vd, &vm, &dummy_ops, &dev_state, 1, 0);
	CHECK_EQ(vd.queue_max_size, VIRTQ_MAX_SIZE);
	virtio_device_init(&vd, &vm, &dummy_ops, &dev_state, 100, 4096);
	CHECK_EQ(vd.queue_max_size, VIRTQ_MAX_SIZE);
	CHECK_EQ(vd.num_queues, VIRTIO_MAX_QUEUES);

	/* Device DMA reaches the accelerator's hook, even one installed
	 * after the device was created. */
	fresh_device();
	CHECK(vd.vq[0].dma_written != NULL);
	vd.vq[0].dma_written(vd.vq[0].dma_opaque, &vd, 1); /* no hook: nothing */
	vm.ram_written = count_ram_written;
	vm.ram_written_opaque = &ram_writes;
	vd.vq[0].dma_written(vd.vq[0].dma_opaque, &vd, 1);
	CHECK_EQ(ram_writes, 1);
	vm.ram_written = NULL;
}

static void test_negotiation(void)
{
	/* Everything offered, accepted. */
	fresh_device();
	uint64_t all = vd.device_features;
	CHECK_EQ(negotiate(all), ACK | DRV | FOK);
	CHECK(virtio_has_feature(&vd, VIRTIO_F_VERSION_1));
	CHECK(virtio_has_feature(&vd, 5));
	CHECK(!virtio_has_feature(&vd, 6));
	CHECK(!virtio_has_feature(&vd, 64));
	CHECK(!virtio_has_feature(&vd, 1000));
	CHECK(vd.vq[0].event_idx && vd.vq[0].indirect);
	CHECK(vd.vq[1].event_idx && vd.vq[1].indirect);

	/* A subset, without the ring features. */
	fresh_device();
	CHECK_EQ(negotiate(BIT(VIRTIO_F_VERSION_1) | DEV_FEATURE_A), ACK | DRV | FOK);
	CHECK(!vd.vq[0].event_idx && !vd.vq[0].indirect);
	CHECK(virtio_has_feature(&vd, 0));
	CHECK(!virtio_has_feature(&vd, 5));

	/* Only event idx. */
	fresh_device();
	CHECK_EQ(negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_EVENT_IDX)),
		 ACK | DRV | FOK);
	CHECK(vd.vq[1].event_idx && !vd.vq[1].indirect);

	/* Unknown features: refused, FEATURES_OK reads back clear. */
	fresh_device();
	CHECK_EQ(negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(7)), ACK | DRV);
	CHECK(!vd.vq[0].event_idx);
	fresh_device();
	CHECK_EQ(negotiate(all | BIT(63)), ACK | DRV);
	CHECK(!vd.vq[0].indirect);

	/* No VERSION_1 (a legacy driver): refused. */
	fresh_device();
	CHECK_EQ(negotiate(DEV_FEATURE_A), ACK | DRV);
	fresh_device();
	CHECK_EQ(negotiate(0), ACK | DRV);

	/* After a refusal DRIVER_OK does not start the device... */
	virtio_set_status(&vd, ACK | DRV | DOK);
	CHECK_EQ(starts, 0);
	CHECK(!(vd.status & DOK));
	/* ...but the driver may retry with fewer features. */
	vd.driver_features = BIT(VIRTIO_F_VERSION_1);
	virtio_set_status(&vd, ACK | DRV | FOK);
	CHECK_EQ(vd.status, ACK | DRV | FOK);
}

static void test_start_and_reset(void)
{
	fresh_device();
	CHECK_EQ(negotiate(vd.device_features), ACK | DRV | FOK);
	CHECK_EQ(starts, 0);
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	CHECK_EQ(vd.status, ACK | DRV | FOK | DOK);
	CHECK_EQ(starts, 1);
	/* Rewriting the same status does not start it again. */
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	CHECK_EQ(starts, 1);
	/* Setting FAILED is allowed; still one start. */
	virtio_set_status(&vd, ACK | DRV | FOK | DOK | VIRTIO_STATUS_FAILED);
	CHECK(vd.status & VIRTIO_STATUS_FAILED);
	CHECK_EQ(starts, 1);

	/* Clearing bits without a reset is ignored. */
	virtio_set_status(&vd, ACK | DRV);
	CHECK_EQ(vd.status, ACK | DRV | FOK | DOK | VIRTIO_STATUS_FAILED);
	CHECK_EQ(resets, 0);

	/* Reset: everything back to the initial state. */
	vd.isr = 3;
	vd.config_msix_vector = 1;
	vd.vq[0].ready = true;
	vd.vq[0].size = 16;
	vd.vq[0].last_avail = 7;
	vd.vq[0].used_idx = 9;
	vd.vq[0].msix_vector = 2;
	vd.vq[1].desc_addr = 0x1000;
	virtio_set_status(&vd, 0);
	CHECK_EQ(resets, 1);
	CHECK_EQ(vd.status, 0);
	CHECK_EQ(vd.driver_features, 0);
	CHECK_EQ(vd.isr, 0);
	CHECK_EQ(vd.config_msix_vector, VIRTIO_MSI_NO_VECTOR);
	CHECK(!vd.vq[0].ready);
	CHECK_EQ(vd.vq[0].size, 256);
	CHECK_EQ(vd.vq[0].last_avail, 0);
	CHECK_EQ(vd.vq[0].used_idx, 0);
	CHECK_EQ(vd.vq[0].msix_vector, VIRTIO_MSI_NO_VECTOR);
	CHECK(!vd.vq[0].event_idx && !vd.vq[0].indirect);
	CHECK_EQ(vd.vq[1].desc_addr, 0);
	CHECK(!virtio_has_feature(&vd, VIRTIO_F_VERSION_1));
	/* Device features survive: they are what the device offers. */
	CHECK(vd.device_features & BIT(VIRTIO_F_VERSION_1));

	/* Second life: start is called again once. */
	CHECK_EQ(negotiate(BIT(VIRTIO_F_VERSION_1)), ACK | DRV | FOK);
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	CHECK_EQ(starts, 2);

	/* DRIVER_OK without ever reaching FEATURES_OK: no start. */
	fresh_device();
	virtio_set_status(&vd, ACK | DRV | DOK);
	CHECK_EQ(starts, 0);
	CHECK_EQ(vd.status, ACK | DRV);
	/* Everything at once in one write is legal if the features are. */
	fresh_device();
	vd.driver_features = BIT(VIRTIO_F_VERSION_1);
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	CHECK_EQ(vd.status, ACK | DRV | FOK | DOK);
	CHECK_EQ(starts, 1);
	/* The same with bad features: neither bit sticks. */
	fresh_device();
	vd.driver_features = BIT(40) | BIT(VIRTIO_F_VERSION_1);
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	CHECK_EQ(vd.status, ACK | DRV);
	CHECK_EQ(starts, 0);

	/* A device without start/reset/features callbacks does not crash. */
	static const struct virtio_device_ops bare = { .name = "bare" };
	virtio_device_init(&vd, &vm, &bare, NULL, 1, 8);
	CHECK_EQ(vd.device_features, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_INDIRECT_DESC) |
					     BIT(VIRTIO_F_RING_EVENT_IDX));
	vd.driver_features = BIT(VIRTIO_F_VERSION_1);
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	virtio_set_status(&vd, 0);
	virtio_set_needs_reset(&vd);
	virtio_notify_queue(&vd, 0);
	virtio_notify_config(&vd);
	CHECK_EQ(vd.status, VIRTIO_STATUS_NEEDS_RESET);
}

static void test_needs_reset(void)
{
	fresh_device();
	negotiate(vd.device_features);
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	uint32_t gen = vd.config_generation;

	virtio_set_needs_reset(&vd);
	CHECK(vd.status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(vd.config_generation, gen + 1);
	CHECK_EQ(config_irqs, 1);
	CHECK_EQ(vd.isr & 2, 2);
	/* Once is enough. */
	virtio_set_needs_reset(&vd);
	CHECK_EQ(config_irqs, 1);

	/* The driver echoing status (or omitting NEEDS_RESET) keeps it. */
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);
	CHECK(vd.status & VIRTIO_STATUS_NEEDS_RESET);
	virtio_set_status(&vd, vd.status | VIRTIO_STATUS_FAILED);
	CHECK(vd.status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(vd.status & VIRTIO_STATUS_FAILED);
	/* Only reset clears it. */
	virtio_set_status(&vd, 0);
	CHECK_EQ(vd.status, 0);

	/* The driver cannot set it itself. */
	virtio_set_status(&vd, ACK | VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(vd.status, ACK);

	/* Before DRIVER_OK the bit is set but no interrupt is owed. */
	fresh_device();
	virtio_set_status(&vd, ACK);
	virtio_set_needs_reset(&vd);
	CHECK(vd.status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(config_irqs, 0);
}

static void test_queue_notify(void)
{
	/* A ring in the VM's RAM so virtq_should_notify can read its flags. */
	fresh_device();
	negotiate(BIT(VIRTIO_F_VERSION_1));
	struct virtq *q = &vd.vq[1];
	q->size = 8;
	q->desc_addr = 0x1000;
	q->avail_addr = 0x2000;
	q->used_addr = 0x3000;
	q->ready = true;

	/* Not yet DRIVER_OK: no interrupts. */
	virtio_notify_queue(&vd, 1);
	CHECK_EQ(queue_irqs, 0);
	virtio_set_status(&vd, ACK | DRV | FOK | DOK);

	virtio_notify_queue(&vd, 1);
	CHECK_EQ(queue_irqs, 1);
	CHECK_EQ(last_irq_queue, 1);
	/* The driver's NO_INTERRUPT is honoured. */
	uint16_t flags = 1;
	CHECK_EQ(guest_write(&vm.mem, 0x2000, &flags, 2), 0);
	virtio_notify_queue(&vd, 1);
	CHECK_EQ(queue_irqs, 1);
	/* Out-of-range queues are ignored. */
	virtio_notify_queue(&vd, 2);
	virtio_notify_queue(&vd, 1000);
	CHECK_EQ(queue_irqs, 1);

	virtio_notify_config(&vd);
	CHECK_EQ(config_irqs, 1);
}

int main(void)
{
	if (vm_init(&vm, 1) || guest_mem_init(&vm.mem, 16 << 20, 0xc0000000u)) {
		fprintf(stderr, "vm setup failed\n");
		return 1;
	}
	test_init();
	test_negotiation();
	test_start_and_reset();
	test_needs_reset();
	test_queue_notify();
	vm_destroy(&vm);
	return test_exit();
}
