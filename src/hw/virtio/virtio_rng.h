/*
 * virtio-rng (virtio 1.2 section 5.4): the guest posts writable buffers,
 * the device fills them with bytes from the host's getrandom(2).
 */
#ifndef KEMU_HW_VIRTIO_VIRTIO_RNG_H
#define KEMU_HW_VIRTIO_VIRTIO_RNG_H

#include "core/vm.h"
#include "hw/virtio/virtio.h"
#include "util/error.h"

/* At most this many bytes go into one request, however large its buffers. */
#define VIRTIO_RNG_MAX_REQUEST (64 * 1024)
/* At most this many bytes per kick; the rest is served from a timer. */
#define VIRTIO_RNG_MAX_BURST (256 * 1024)

struct virtio_device *virtio_rng_create(struct vm *vm, struct error *e);
void virtio_rng_destroy(struct virtio_device *vd);

#endif
