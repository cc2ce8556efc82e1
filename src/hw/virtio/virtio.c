/*
 * The transport-independent virtio device model: feature negotiation, the
 * device status state machine (virtio 1.2 section 2.1 and 3.1) and the
 * notification paths between a device and its transport.
 *
 * Transports call virtio_set_status() for every driver write of the status
 * register; devices call virtio_notify_queue()/virtio_notify_config() and,
 * when a queue breaks the rules, virtio_set_needs_reset(). The driver is
 * untrusted: illegal status writes are ignored, never acted upon.
 */
#include "hw/virtio/virtio.h"

#include <string.h>

/*
 * Forwards device writes into guest RAM to whatever the accelerator
 * installed. Looked up on each call, not copied at init, so the order in
 * which the board builds devices and the accelerator sets its hook does
 * not matter.
 */
static void virtio_dma_written(void *opaque, const void *host, size_t len)
{
	struct vm *vm = opaque;
	if (vm->ram_written)
		vm->ram_written(vm->ram_written_opaque, host, len);
}

void virtio_device_init(struct virtio_device *vd, struct vm *vm, const struct virtio_device_ops *ops,
			void *dev, unsigned num_queues, uint16_t queue_max_size)
{
	memset(vd, 0, sizeof(*vd));
	vd->ops = ops;
	vd->dev = dev;
	vd->vm = vm;
	vd->num_queues = num_queues < VIRTIO_MAX_QUEUES ? num_queues : VIRTIO_MAX_QUEUES;
	/* A split ring's size is a power of two no larger than VIRTQ_MAX_SIZE. */
	if (!queue_max_size || queue_max_size > VIRTQ_MAX_SIZE)
		queue_max_size = VIRTQ_MAX_SIZE;
	while (queue_max_size & (queue_max_size - 1))
		queue_max_size &= queue_max_size - 1;
	vd->queue_max_size = queue_max_size;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtq *q = &vd->vq[i];
		virtq_init(q, &vm->mem);
		q->max_size = queue_max_size;
		q->size = queue_max_size;
		q->dma_written = virtio_dma_written;
		q->dma_opaque = vm;
	}
	vd->lock = &vm->io_lock;
	vd->config_msix_vector = VIRTIO_MSI_NO_VECTOR;
	vd->device_features = (ops->features ? ops->features(vd) : 0) |
			      (1ULL << VIRTIO_F_VERSION_1) |
			      (1ULL << VIRTIO_F_RING_INDIRECT_DESC) |
			      (1ULL << VIRTIO_F_RING_EVENT_IDX);
}

static void virtio_reset(struct virtio_device *vd)
{
	/* The device stops using the rings before they are forgotten. */
	if (vd->ops->reset)
		vd->ops->reset(vd);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&vd->vq[i]);
	vd->driver_features = 0;
	vd->status = 0;
	vd->isr = 0;
	vd->config_msix_vector = VIRTIO_MSI_NO_VECTOR;
}

static bool features_acceptable(const struct virtio_device *vd)
{
	return !(vd->driver_features & ~vd->device_features) &&
	       (vd->driver_features & (1ULL << VIRTIO_F_VERSION_1));
}

void virtio_set_status(struct virtio_device *vd, uint8_t status)
{
	if (status == 0) {
		virtio_reset(vd);
		return;
	}

	uint8_t old = vd->status;
	/* NEEDS_RESET belongs to the device: the driver neither sets nor
	 * clears it (it may echo back what it read). */
	uint8_t now = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) |
				(old & VIRTIO_STATUS_NEEDS_RESET));
	/* Only a reset may clear bits (section 2.1.1); anything else is a
	 * driver bug we ignore rather than guess at. */
	if (old & ~now)
		return;

	if ((now & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		if (features_acceptable(vd)) {
			bool event_idx = vd->driver_features & (1ULL << VIRTIO_F_RING_EVENT_IDX);
			bool indirect = vd->driver_features & (1ULL << VIRTIO_F_RING_INDIRECT_DESC);
			for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
				vd->vq[i].event_idx = event_idx;
				vd->vq[i].indirect = indirect;
			}
		} else {
			/* Left clear: the driver reads status back and sees
			 * the refusal (section 3.1.1 step 6). */
			now &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		}
	}

	/* A virtio 1.x device cannot run on features never agreed on. */
	if (!(now & VIRTIO_STATUS_FEATURES_OK))
		now &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;

	vd->status = now;
	if ((now & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    vd->ops->start)
		vd->ops->start(vd);
}

bool virtio_has_feature(const struct virtio_device *vd, unsigned bit)
{
	if (bit >= 64)
		return false;
	return (vd->driver_features & vd->device_features) >> bit & 1;
}

void virtio_notify_queue(struct virtio_device *vd, unsigned q)
{
	if (q >= vd->num_queues || !(vd->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	if (!virtq_should_notify(&vd->vq[q]))
		return;
	if (vd->transport && vd->transport->notify_queue)
		vd->transport->notify_queue(vd, q);
}

void virtio_notify_config(struct virtio_device *vd)
{
	if (vd->transport && vd->transport->notify_config)
		vd->transport->notify_config(vd);
}

void virtio_set_needs_reset(struct virtio_device *vd)
{
	if (vd->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	vd->config_generation++;
	/* Section 2.1.2: the notification is owed once the driver runs. */
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_notify_config(vd);
}
