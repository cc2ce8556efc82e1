/*
 * A virtio 1.x split virtqueue over guest memory, shared by every virtio
 * device and both transports. The guest is hostile: every descriptor
 * address, length, index and chain is validated; a malformed ring makes
 * virtq_pop() fail (the caller puts the device in NEEDS_RESET) and never
 * touches host memory outside guest RAM.
 *
 * Buffers are handed to devices as iovecs pointing straight into guest
 * RAM: "out" (driver-readable, device reads them) first, then "in"
 * (device writes them). Not thread-safe by itself: a queue is used by one
 * thread at a time (the device's), with the transport's register accesses
 * under vm->io_lock.
 */
#ifndef KEMU_HW_VIRTIO_VIRTQ_H
#define KEMU_HW_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/mem.h"

#define VIRTQ_MAX_SIZE 1024
/* Longest chain accepted (direct + indirect descriptors together). */
#define VIRTQ_MAX_CHAIN 1024

struct virtq {
	/* Set by the transport from the driver's configuration. */
	uint16_t size;          /* power of two, <= VIRTQ_MAX_SIZE */
	bool ready;
	uint64_t desc_addr, avail_addr, used_addr;
	uint16_t msix_vector;   /* VIRTIO_MSI_NO_VECTOR (0xffff) when none */
	bool event_idx;         /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;          /* VIRTIO_RING_F_INDIRECT_DESC negotiated */

	/* Device-side state. */
	uint16_t last_avail;    /* next avail ring entry to take */
	uint16_t used_idx;      /* next used ring entry to fill */
	uint16_t signalled_used;/* used_idx when the driver was last notified */
	bool signalled_valid;
	/* The largest size the transport offers (QueueNumMax / queue_size
	 * reset value); virtq_valid() refuses more, virtq_reset() restores it.
	 * 0 means VIRTQ_MAX_SIZE. */
	uint16_t max_size;
	/* virtq_set_notification(false) is in force: with event idx, pops
	 * stop advancing avail_event. */
	bool notify_off;

	const struct guest_mem *mem;
	/* Called for every guest-RAM range the device writes (code caches of
	 * an emulated CPU must forget it); may be NULL. */
	void (*dma_written)(void *opaque, const void *host, size_t len);
	void *dma_opaque;
};

/* One request: a descriptor chain mapped to iovecs. */
struct virtq_elem {
	uint16_t head;
	unsigned nout, nin;     /* iov[0..nout) readable, iov[nout..nout+nin) writable */
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_CHAIN];
};

void virtq_init(struct virtq *q, const struct guest_mem *mem);
/* Back to the reset state (size kept at max_size by the transport). */
void virtq_reset(struct virtq *q);
/* Checks the ring addresses and size before the queue is enabled. */
bool virtq_valid(const struct virtq *q);

/*
 * Takes the next available chain: 1 with *e filled, 0 when the ring is
 * empty, -EINVAL when the driver broke the rules (the device must then
 * set NEEDS_RESET and stop using the queue).
 */
int virtq_pop(struct virtq *q, struct virtq_elem *e);
/* Returns a chain to the driver with len bytes written into its "in" part. */
void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len);
/* After pushes: does the driver want an interrupt now (flags / used_event)? */
bool virtq_should_notify(struct virtq *q);
/* Tells the driver whether to notify us (used->flags / avail_event). */
void virtq_set_notification(struct virtq *q, bool enable);
/* Is there anything to pop? */
bool virtq_has_work(const struct virtq *q);

/* Copies between a flat buffer and part of an iovec array; returns bytes. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t offset, const void *buf, size_t len);

#endif
