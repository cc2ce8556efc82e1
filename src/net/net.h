/*
 * Network back ends: where a virtual NIC's frames go on the host. Two
 * kinds sit behind one ops table: tap (a kernel tap interface through
 * /dev/net/tun) and user (libslirp, a user-space TCP/IP stack with NAT,
 * DHCP and DNS, plus host port forwards).
 *
 * Frames cross this interface with a 12-byte virtio-net header in front
 * (struct virtio_net_hdr below, the virtio 1.x layout with num_buffers),
 * so a tap with IFF_VNET_HDR passes them through untouched and the device
 * never translates. The user back end completes partial checksums itself
 * and gives slirp plain Ethernet frames.
 *
 * Direction device -> back end: ops->send(), one frame per call from an
 * iovec that may point into guest RAM (the back end copies or writes it
 * before returning).
 * Direction back end -> device: the net_client callbacks the device gave
 * at open. The back end checks can_receive(), calls receive() for each
 * frame and receive_flush() after a batch (one guest interrupt per batch).
 * When the device has no buffers, receive() returns -EAGAIN: the back end
 * keeps that frame (tap stops reading its fd; user queues a few frames,
 * then drops: slirp's TCP retransmits) until the device calls
 * ops->rx_resume() because the guest posted buffers.
 *
 * Threads and locking: every call in both directions happens with the
 * device lock (vm->io_lock) held: back ends take it on the event loop
 * before calling into the device, and the device holds it when it calls
 * the back end (from a vCPU thread or the event loop). Back ends need no
 * lock of their own.
 */
#ifndef KEMU_NET_NET_H
#define KEMU_NET_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "config.h"
#include "util/error.h"

struct event_loop;
struct timer_list;

/* The virtio 1.x network header (little-endian fields). */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define NET_HDR_LEN 12
#define NET_HDR_F_NEEDS_CSUM 1
#define NET_HDR_F_DATA_VALID 2
#define NET_HDR_GSO_NONE 0
#define NET_HDR_GSO_TCPV4 1
#define NET_HDR_GSO_UDP 3
#define NET_HDR_GSO_TCPV6 4
#define NET_HDR_GSO_ECN 0x80

/* Largest frame after the header: a 64 KiB GSO packet, Ethernet and VLAN. */
#define NET_MAX_FRAME (65536 + 14 + 4)

/* What a back end can do with frames (net_backend.caps). */
#define NET_CAP_CSUM (1u << 0)   /* accepts NEEDS_CSUM frames from the guest */
#define NET_CAP_TSO4 (1u << 1)   /* accepts TCP/IPv4 GSO frames from the guest */
#define NET_CAP_TSO6 (1u << 3)   /* accepts TCP/IPv6 GSO frames from the guest */
#define NET_CAP_TSO (NET_CAP_TSO4 | NET_CAP_TSO6)
#define NET_CAP_RX_TSO (1u << 2) /* may deliver TCP GSO frames to the guest */

/* Offloads the guest accepted for received frames (ops->set_offload). */
#define NET_OFFLOAD_CSUM (1u << 0) /* may deliver NEEDS_CSUM frames */
#define NET_OFFLOAD_TSO4 (1u << 1)
#define NET_OFFLOAD_TSO6 (1u << 2)

/* The device side, given to the back end at open. */
struct net_client {
	/* Is there room for a frame now? false arms a rx_resume() later. */
	bool (*can_receive)(void *opaque);
	/* One frame, header first (the device may rewrite the header in
	 * place). 0: consumed (delivered or dropped); -EAGAIN: no room, keep
	 * it and wait for rx_resume(). */
	int (*receive)(void *opaque, uint8_t *frame, size_t len);
	/* After a batch of receive() calls: interrupt the guest once. */
	void (*receive_flush)(void *opaque);
	void *opaque;
};

/* Where a back end hooks into the machine: the main thread's loop. */
struct net_env {
	struct event_loop *loop;
	struct timer_list *timers;   /* callbacks run with *lock held */
	pthread_mutex_t *lock;       /* vm->io_lock */
};

struct net_backend;

struct net_backend_ops {
	const char *name;
	/* Sends one frame (header first, at least NET_HDR_LEN bytes). Returns
	 * 0, or a negative errno when it was dropped. */
	int (*send)(struct net_backend *be, const struct iovec *iov, unsigned n);
	/* After a batch of send() calls; may be NULL. The back end delivers
	 * what the batch provoked right away (the ACKs a tap's host stack
	 * produced inside the writes, slirp's replies) rather than on a later
	 * event-loop wake-up, and owes one receive_flush() for all of it. */
	void (*send_flush)(struct net_backend *be);
	/* The device has buffers again after a -EAGAIN or false can_receive(). */
	void (*rx_resume)(struct net_backend *be);
	/* NET_OFFLOAD_* the guest negotiated; before that, none. */
	void (*set_offload)(struct net_backend *be, unsigned offloads);
	void (*close)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	struct net_client client;
	unsigned caps;          /* NET_CAP_* */
	char desc[64];          /* "-netdev tap,id=n0,ifname=tap0" for messages */
	/* Counters, for debugging a stalled link. */
	uint64_t tx_frames, tx_dropped, rx_frames, rx_dropped;
};

/* Opens the back end cfg describes; errors name the -netdev option. */
int net_backend_open(const struct netdev_config *cfg, const struct net_env *env,
		     const struct net_client *client, struct net_backend **out,
		     struct error *e);
void net_backend_close(struct net_backend *be);

/* The individual kinds; tun_path is "/dev/net/tun" except in tests. */
int net_tap_open(const struct netdev_config *cfg, const char *tun_path,
		 const struct net_env *env, const struct net_client *client,
		 struct net_backend **out, struct error *e);
int net_user_open(const struct netdev_config *cfg, const struct net_env *env,
		  const struct net_client *client, struct net_backend **out,
		  struct error *e);

/* "-netdev tap,id=n0,ifname=tap0": how messages name the back end. */
void net_describe(const struct netdev_config *cfg, char *buf, size_t size);
/* "tcp:127.0.0.1:2222-:22": how messages name a forward. */
void net_describe_hostfwd(const struct hostfwd *f, char *buf, size_t size);

/*
 * Completes a partial checksum (virtio NEEDS_CSUM): sums frame[csum_start,
 * len) starting from the pseudo-header sum the guest left in the checksum
 * field, and stores the result at csum_start + csum_offset. Returns 0, or
 * -EINVAL when the offsets do not fit in the frame. UDP gets 0xffff for a
 * zero result (zero means "no checksum" there).
 */
int net_csum_complete(uint8_t *frame, size_t len, size_t csum_start, size_t csum_offset);
/* The 16-bit ones' complement sum of buf added to sum, not folded. */
uint32_t net_csum_add(uint32_t sum, const void *buf, size_t len);
uint16_t net_csum_fold(uint32_t sum);

#endif
