/*
 * virtio-net (virtio 1.2 section 5.1): one receive queue (0) and one
 * transmit queue (1), a MAC address and a link that is always up. Frames
 * go to and come from a network back end (net/net.h: tap or user) with
 * the 12-byte virtio-net header passed through, so checksum offload (and
 * TSO with tap) costs nothing here.
 */
#ifndef KEMU_HW_VIRTIO_VIRTIO_NET_H
#define KEMU_HW_VIRTIO_VIRTIO_NET_H

#include <stdint.h>

#include "config.h"
#include "core/vm.h"
#include "hw/virtio/virtio.h"
#include "net/net.h"
#include "util/error.h"

/* Feature bits (section 5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
#define VIRTIO_NET_QUEUE_SIZE 256
/* Configuration space: mac[6], status, max_virtqueue_pairs (all LE). */
#define VIRTIO_NET_CONFIG_SIZE 10

/* Opens the back end net describes; NULL with a message naming it on error. */
struct virtio_device *virtio_net_create(struct vm *vm, const struct netdev_config *net,
					const uint8_t mac[6], struct error *e);
/* The same over a back end the caller opened (tests); takes ownership of be
 * and installs the device as its client. */
struct virtio_device *virtio_net_create_with_backend(struct vm *vm, struct net_backend *be,
						     const uint8_t mac[6], struct error *e);
void virtio_net_destroy(struct virtio_device *vd);

#endif
