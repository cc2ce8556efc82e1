/*
 * The virtio device model, independent of transport. A device (blk, net,
 * console, rng) fills a virtio_device_ops and keeps its state behind
 * struct virtio_device; a transport (virtio-pci, virtio-mmio) exposes it to
 * the guest: feature negotiation, status, queue configuration, the device
 * configuration space, notifications and interrupts.
 *
 * Threads: transport register accesses and queue notifications arrive with
 * vm->io_lock (vd->lock) held, on a vCPU thread or on the event loop (KVM
 * ioeventfds). A device may hand work to its own threads (block I/O), but
 * it pops, pushes and calls virtio_notify_queue() with vd->lock held, so
 * the rings and the transport's interrupt state see one thread at a time.
 */
#ifndef KEMU_HW_VIRTIO_VIRTIO_H
#define KEMU_HW_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"
#include "hw/virtio/virtq.h"

/* Device ids (virtio 1.2 section 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* Status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Transport-level feature bits the transports offer for every device. */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define VIRTIO_MSI_NO_VECTOR 0xffff
#define VIRTIO_MAX_QUEUES 8

struct virtio_device;

struct virtio_device_ops {
	const char *name;     /* for messages: "virtio-blk" */
	uint16_t device_id;
	/* Device-specific features offered (the transport adds VERSION_1 etc.). */
	uint64_t (*features)(struct virtio_device *vd);
	/* The device configuration space; bounds are checked by the transport. */
	unsigned config_size;
	void (*config_read)(struct virtio_device *vd, unsigned offset, void *buf, unsigned len);
	void (*config_write)(struct virtio_device *vd, unsigned offset, const void *buf,
			     unsigned len);
	/* The driver set DRIVER_OK: start serving queues. May be NULL. */
	void (*start)(struct virtio_device *vd);
	/* The driver kicked queue q. */
	void (*queue_notify)(struct virtio_device *vd, unsigned q);
	/* Device reset (status 0): stop using every queue, forget state. */
	void (*reset)(struct virtio_device *vd);
};

/* What a transport does for the device model. */
struct virtio_transport_ops {
	/* Raise the interrupt for queue q (MSI-X vector or INTx + ISR bit 0). */
	void (*notify_queue)(struct virtio_device *vd, unsigned q);
	/* Raise the configuration-change interrupt (ISR bit 1). */
	void (*notify_config)(struct virtio_device *vd);
};

struct virtio_device {
	const struct virtio_device_ops *ops;
	void *dev;                    /* the device's own state */
	struct vm *vm;
	unsigned num_queues;
	uint16_t queue_max_size;
	struct virtq vq[VIRTIO_MAX_QUEUES];

	uint64_t device_features;     /* offered: ops->features() | transport bits */
	uint64_t driver_features;     /* accepted by the driver */
	uint8_t status;
	uint8_t isr;                  /* bit 0 queue, bit 1 config (INTx only) */
	uint32_t config_generation;
	uint16_t config_msix_vector;

	const struct virtio_transport_ops *transport;
	void *transport_state;
	pthread_mutex_t *lock;        /* vm->io_lock */
};

/* Prepares vd for a transport (queues initialised on vm->mem). */
void virtio_device_init(struct virtio_device *vd, struct vm *vm, const struct virtio_device_ops *ops,
			void *dev, unsigned num_queues, uint16_t queue_max_size);
/* Transport side: the driver wrote status / features; handles reset and
 * FEATURES_OK checks, calls ops->start and ops->reset. */
void virtio_set_status(struct virtio_device *vd, uint8_t status);
bool virtio_has_feature(const struct virtio_device *vd, unsigned bit);

/* Device side. */
void virtio_notify_queue(struct virtio_device *vd, unsigned q);
void virtio_notify_config(struct virtio_device *vd);
/* A queue broke the rules: NEEDS_RESET and a config interrupt, as the spec says. */
void virtio_set_needs_reset(struct virtio_device *vd);

#endif
