/*
 * The tap back end: a kernel tap interface opened through /dev/net/tun
 * with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, so every frame carries the same
 * 12-byte virtio-net header the guest uses and passes through both ways
 * untouched: the guest's partial checksums and TSO frames go straight to
 * the kernel (which validates the header), and the kernel hands the guest
 * partial-checksum and GSO frames as far as ops->set_offload allows
 * (TUNSETOFFLOAD). kemu runs no scripts: the interface must exist, or be
 * creatable by this process, and is configured by whoever made it.
 *
 * Receive: the fd sits in the event loop edge-triggered; each wake-up,
 * and the end of each transmit batch (send_flush: the host's replies to
 * what the guest just sent are usually queued by then), reads frames
 * until the kernel queue is empty or the guest has no more buffers. Then the fd is left alone (edge-triggered: no busy loop while
 * frames keep arriving) and the kernel queues (or drops) further frames
 * until the device calls rx_resume, which drains the queue right there
 * with the device lock already held. A frame the device refused with
 * -EAGAIN is kept in the buffer and delivered first.
 */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/event.h"
#include "util/log.h"

struct tap {
	struct net_backend be;
	int fd;
	struct event_loop *loop;
	pthread_mutex_t *lock;
	bool blocked;        /* the device said no room: wait for rx_resume */
	size_t pending_len;  /* a frame in buf refused with -EAGAIN */
	unsigned offload_caps; /* TUN_F_* the kernel accepted at open */
	uint8_t buf[NET_HDR_LEN + NET_MAX_FRAME];
};

static int tap_send(struct net_backend *be, const struct iovec *iov, unsigned n)
{
	struct tap *t = (struct tap *)be;
	for (;;) {
		ssize_t r = writev(t->fd, iov, (int)n);
		if (r >= 0) {
			be->tx_frames++;
			return 0;
		}
		if (errno == EINTR)
			continue;
		/* EAGAIN (queue full), EINVAL (the kernel refused the
		 * guest's header), EIO (interface down): the frame is lost,
		 * as on a real wire. */
		be->tx_dropped++;
		return -errno;
	}
}

/* Device lock held. Reads until the kernel queue is empty or the device is full. */
static void tap_drain(struct tap *t)
{
	const struct net_client *c = &t->be.client;
	bool delivered = false;

	if (t->pending_len) {
		if (c->receive(c->opaque, t->buf, t->pending_len) == -EAGAIN) {
			t->blocked = true;
			return;
		}
		t->pending_len = 0;
		delivered = true;
	}
	for (;;) {
		if (!c->can_receive(c->opaque)) {
			t->blocked = true;
			break;
		}
		ssize_t r = read(t->fd, t->buf, sizeof(t->buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("%s: read: %s", t->be.desc, strerror(errno));
			break;
		}
		if (r < NET_HDR_LEN + 14) {
			t->be.rx_dropped++;
			continue;
		}
		t->be.rx_frames++;
		delivered = true;
		if (c->receive(c->opaque, t->buf, (size_t)r) == -EAGAIN) {
			t->pending_len = (size_t)r;
			t->blocked = true;
			break;
		}
	}
	if (delivered)
		c->receive_flush(c->opaque);
}

static void tap_readable(void *opaque, uint32_t events)
{
	struct tap *t = opaque;
	(void)events;
	pthread_mutex_lock(t->lock);
	/* While blocked, a new frame still wakes us (edge-triggered): it
	 * waits in the kernel until rx_resume. */
	if (!t->blocked)
		tap_drain(t);
	pthread_mutex_unlock(t->lock);
}

static void tap_rx_resume(struct net_backend *be)
{
	struct tap *t = (struct tap *)be;
	if (!t->blocked)
		return;
	t->blocked = false;
	tap_drain(t);
}

/* Device lock held, after the guest's frames went out: the host stack
 * usually answered inside writev() (a TCP ACK is queued on the tap by the
 * time it returns), so reading now saves the guest the round trip
 * through the event loop. The edge-triggered wake-up that follows finds
 * the queue empty. */
static void tap_send_flush(struct net_backend *be)
{
	struct tap *t = (struct tap *)be;
	if (!t->blocked)
		tap_drain(t);
}

static void tap_set_offload(struct net_backend *be, unsigned offloads)
{
	struct tap *t = (struct tap *)be;
	unsigned f = 0;
	if (offloads & NET_OFFLOAD_CSUM) {
		f |= TUN_F_CSUM;
		if (offloads & NET_OFFLOAD_TSO4)
			f |= TUN_F_TSO4;
		if (offloads & NET_OFFLOAD_TSO6)
			f |= TUN_F_TSO6;
	}
	f &= t->offload_caps;
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)f) < 0)
		log_warn("%s: TUNSETOFFLOAD: %s", be->desc, strerror(errno));
}

static void tap_close(struct net_backend *be)
{
	struct tap *t = (struct tap *)be;
	if (t->fd >= 0) {
		if (t->loop)
			event_del_fd(t->loop, t->fd);
		close(t->fd);
	}
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.name = "tap",
	.send = tap_send,
	.send_flush = tap_send_flush,
	.rx_resume = tap_rx_resume,
	.set_offload = tap_set_offload,
	.close = tap_close,
};

int net_tap_open(const struct netdev_config *cfg, const char *tun_path,
		 const struct net_env *env, const struct net_client *client,
		 struct net_backend **out, struct error *e)
{
	char desc[64];
	net_describe(cfg, desc, sizeof(desc));
	size_t namelen = strnlen(cfg->ifname, sizeof(cfg->ifname));
	if (namelen >= IFNAMSIZ || namelen == sizeof(cfg->ifname))
		return error_set(e, -EINVAL, "%s: interface name too long (at most %d characters)",
				 desc, IFNAMSIZ - 1);
	if (!namelen)
		return error_set(e, -EINVAL, "%s: ifname= is required", desc);

	struct tap *t = calloc(1, sizeof(*t));
	if (!t)
		return error_set(e, -ENOMEM, "%s: out of memory", desc);
	t->be.ops = &tap_ops;
	t->be.client = *client;
	t->be.caps = NET_CAP_CSUM;
	snprintf(t->be.desc, sizeof(t->be.desc), "%s", desc);
	t->lock = env->lock;
	t->fd = open(tun_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int r;
	if (t->fd < 0) {
		r = error_set(e, -errno, "%s: %s: %s", desc, tun_path, strerror(errno));
		goto fail;
	}

	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, cfg->ifname, namelen);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		r = error_set(e, -errno, "%s: cannot attach to interface %s: %s", desc,
				ifr.ifr_name, strerror(errno));
		goto fail;
	}
	int hdrsz = NET_HDR_LEN;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
		r = error_set(e, -errno, "%s: TUNSETVNETHDRSZ: %s", desc, strerror(errno));
		goto fail;
	}
	/* Which offloads this kernel takes: probe, then start with none
	 * until the guest says what it accepts. */
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0) {
		t->offload_caps = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
		t->be.caps |= NET_CAP_TSO | NET_CAP_RX_TSO;
	} else if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) == 0) {
		t->offload_caps = TUN_F_CSUM;
	}
	if (ioctl(t->fd, TUNSETOFFLOAD, 0UL) < 0) {
		r = error_set(e, -errno, "%s: TUNSETOFFLOAD: %s", desc, strerror(errno));
		goto fail;
	}
	r = event_add_fd(env->loop, t->fd, EPOLLIN | EPOLLET, tap_readable, t);
	if (r < 0) {
		error_set(e, r, "%s: event loop: %s", desc, strerror(-r));
		goto fail;
	}
	t->loop = env->loop;
	*out = &t->be;
	return 0;
fail:
	tap_close(&t->be);
	return r;
}
