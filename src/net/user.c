/*
 * The user back end: libslirp, a TCP/IP stack in user space. The guest
 * sees the usual 10.0.2.0/24 network (host and gateway 10.0.2.2, DNS
 * 10.0.2.3, its own DHCP lease 10.0.2.15, IPv6 fec0::/64); its TCP and UDP
 * flows become ordinary host sockets, 10.0.2.2 reaches the host's own
 * loopback, and each hostfwd rule listens on a host address and port and
 * forwards to a guest port.
 *
 * Everything runs on the main thread's event loop under the device lock;
 * slirp is not thread-safe and the lock serialises it with the device's TX
 * path (vCPU threads call ops->send, which calls slirp_input).
 *
 * Polling adapter: slirp wants a poll() cycle (slirp_pollfds_fill, wait,
 * slirp_pollfds_poll) and its socket set changes all the time. Here one
 * "iteration" gathers the readiness of the sockets of the last fill with a
 * zero-timeout poll(), hands it to slirp_pollfds_poll, refills, and syncs a
 * private epoll set with what slirp now wants (epoll_ctl only for the fds
 * whose interest changed). That private epoll fd sits in the main loop, so
 * the loop wakes when any slirp socket is ready; slirp's timeout arms a
 * core timer. Anything that may change slirp's wishes from outside an
 * iteration (a guest frame, slirp's notify, its timers) "kicks": one
 * eventfd write that runs an iteration on the loop soon. A dedicated
 * thread with its own poll() would also work, but would contend for the
 * device lock on every wake-up and need its own timers.
 *
 * Checksums: slirp wants complete frames, so partial checksums from the
 * guest are finished here (net_csum_complete); slirp's own frames carry
 * full checksums and are marked DATA_VALID when the guest accepted
 * checksum offload.
 *
 * TSO from the guest, IPv4 only: a GSO frame (up to 64 KiB) is handed to
 * slirp as one IP packet after its checksum is finished; slirp's IPv4
 * input sizes its buffer to the packet and its TCP takes a segment of any
 * length inside the window, so nothing is segmented here and the guest's
 * TCP works per 64 KiB instead of per MTU. (slirp's IPv6 input refuses
 * payloads above its MTU with "packet too big", hence no TSO6.) Frames
 * to the guest stay MTU-sized (slirp's own segments): no GUEST_TSO.
 *
 * Backpressure: slirp cannot be told to stop, so while the guest has no
 * receive buffers up to USER_RXQ_SLOTS frames wait here; more are dropped
 * and slirp's TCP retransmits.
 */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libslirp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/event.h"
#include "core/timer.h"
#include "util/log.h"

#define USER_RXQ_SLOTS 64
#define USER_RXQ_SLOT 2048 /* header + 1514-byte frame (slirp's MTU 1500) */

struct user_fd {
	uint32_t events; /* EPOLL* registered in the private set, 0 = none */
	uint32_t gen;    /* iteration that last asked for it */
	bool listed;     /* in user->watched */
};

struct user_timer {
	struct timer t;
	struct net_user *u;
	SlirpTimerId id;
	SlirpTimerCb cb; /* timer_new flavour; NULL for timer_new_opaque */
	void *cb_opaque;
};

struct net_user {
	struct net_backend be;
	Slirp *slirp;
	struct event_loop *loop;
	struct timer_list *timers;
	pthread_mutex_t *lock;

	int epfd;           /* slirp's sockets; itself in the main loop */
	int kickfd;         /* eventfd: run an iteration soon */
	bool kick_pending;
	bool epfd_added, kickfd_added;

	/* The last fill: indexes slirp gave get_revents refer to these. */
	struct pollfd *pfd;
	int npfd, pfd_cap;
	/* What the private epoll set holds, by fd. */
	struct user_fd *fds;
	int fds_cap;
	int *watched;
	int nwatched, watched_cap;
	uint32_t gen;
	struct timer poll_timer;

	bool guest_csum;    /* DATA_VALID allowed on frames to the guest */
	bool rx_blocked;    /* the device said -EAGAIN: queue until rx_resume */
	bool rx_delivered;  /* receive_flush owed */
	unsigned rxq_head, rxq_count;
	uint16_t rxq_len[USER_RXQ_SLOTS];
	uint8_t (*rxq)[USER_RXQ_SLOT];

	uint8_t rxbuf[NET_HDR_LEN + NET_MAX_FRAME];
	uint8_t txbuf[NET_HDR_LEN + NET_MAX_FRAME];
};

static void user_kick(struct net_user *u)
{
	if (u->kick_pending)
		return;
	u->kick_pending = true;
	uint64_t one = 1;
	if (write(u->kickfd, &one, sizeof(one)) < 0) {
		/* counter saturated: an iteration is due anyway */
	}
}

static void user_rx_flush(struct net_user *u)
{
	if (!u->rx_delivered)
		return;
	u->rx_delivered = false;
	u->be.client.receive_flush(u->be.client.opaque);
}

/* ---- slirp's polling, driven by the event loop ---- */

static int user_add_poll(int fd, int events, void *opaque)
{
	struct net_user *u = opaque;
	if (u->npfd == u->pfd_cap) {
		int cap = u->pfd_cap ? u->pfd_cap * 2 : 16;
		struct pollfd *p = realloc(u->pfd, (size_t)cap * sizeof(*p));
		if (!p)
			return -1; /* slirp then ignores this socket for one round */
		u->pfd = p;
		u->pfd_cap = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	u->pfd[u->npfd] = (struct pollfd){ .fd = fd, .events = ev };
	return u->npfd++;
}

static int user_get_revents(int idx, void *opaque)
{
	struct net_user *u = opaque;
	if (idx < 0 || idx >= u->npfd)
		return 0;
	short re = u->pfd[idx].revents;
	int r = 0;
	if (re & POLLIN)
		r |= SLIRP_POLL_IN;
	if (re & POLLOUT)
		r |= SLIRP_POLL_OUT;
	if (re & POLLPRI)
		r |= SLIRP_POLL_PRI;
	if (re & (POLLERR | POLLNVAL))
		r |= SLIRP_POLL_ERR;
	if (re & POLLHUP)
		r |= SLIRP_POLL_HUP;
	return r;
}

static struct user_fd *user_fd_state(struct net_user *u, int fd)
{
	if (fd < 0)
		return NULL;
	if (fd >= u->fds_cap) {
		int cap = u->fds_cap ? u->fds_cap : 64;
		while (cap <= fd)
			cap *= 2;
		struct user_fd *f = realloc(u->fds, (size_t)cap * sizeof(*f));
		if (!f)
			return NULL;
		memset(f + u->fds_cap, 0, (size_t)(cap - u->fds_cap) * sizeof(*f));
		u->fds = f;
		u->fds_cap = cap;
	}
	return &u->fds[fd];
}

static void user_epoll_set(struct net_user *u, int fd, uint32_t events, bool add)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int op = add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(u->epfd, op, fd, &ev) == 0)
		return;
	/* Our table can be stale when slirp closed an fd without telling us
	 * and the number came back: try the other operation. */
	op = add ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(u->epfd, op, fd, &ev) < 0)
		log_debug("%s: epoll fd %d: %s", u->be.desc, fd, strerror(errno));
}

/* Makes the private epoll set match the last fill. */
static void user_sync_epoll(struct net_user *u)
{
	uint32_t gen = ++u->gen;
	for (int i = 0; i < u->npfd; i++) {
		uint32_t want = 0;
		if (u->pfd[i].events & POLLIN)
			want |= EPOLLIN;
		if (u->pfd[i].events & POLLOUT)
			want |= EPOLLOUT;
		if (u->pfd[i].events & POLLPRI)
			want |= EPOLLPRI;
		if (!want)
			continue;
		struct user_fd *f = user_fd_state(u, u->pfd[i].fd);
		if (!f)
			continue;
		if (f->gen == gen)
			want |= f->events; /* the same fd twice: watch for both */
		if (f->events != want)
			user_epoll_set(u, u->pfd[i].fd, want, f->events == 0);
		f->events = want;
		f->gen = gen;
		if (!f->listed) {
			if (u->nwatched == u->watched_cap) {
				int cap = u->watched_cap ? u->watched_cap * 2 : 16;
				int *w = realloc(u->watched, (size_t)cap * sizeof(*w));
				if (!w) {
					epoll_ctl(u->epfd, EPOLL_CTL_DEL, u->pfd[i].fd, NULL);
					f->events = 0;
					continue;
				}
				u->watched = w;
				u->watched_cap = cap;
			}
			u->watched[u->nwatched++] = u->pfd[i].fd;
			f->listed = true;
		}
	}
	int n = 0;
	for (int i = 0; i < u->nwatched; i++) {
		int fd = u->watched[i];
		struct user_fd *f = &u->fds[fd];
		if (f->gen == gen && f->events) {
			u->watched[n++] = fd;
			continue;
		}
		if (f->events)
			epoll_ctl(u->epfd, EPOLL_CTL_DEL, fd, NULL);
		f->events = 0;
		f->listed = false;
	}
	u->nwatched = n;
}

/* Asks slirp what to watch next and how long to wait. */
static void user_refill(struct net_user *u)
{
	u->npfd = 0;
	uint32_t timeout = UINT32_MAX;
	slirp_pollfds_fill(u->slirp, &timeout, user_add_poll, u);
	user_sync_epoll(u);
	if (timeout != UINT32_MAX)
		timer_mod(&u->poll_timer, clock_ns() + (uint64_t)timeout * 1000000ULL);
	else
		timer_del(&u->poll_timer);
}

/* One round of slirp's poll cycle. Device lock held. */
static void user_iterate(struct net_user *u)
{
	if (u->npfd) {
		int r = poll(u->pfd, (nfds_t)u->npfd, 0);
		if (r < 0)
			for (int i = 0; i < u->npfd; i++)
				u->pfd[i].revents = 0;
		slirp_pollfds_poll(u->slirp, r < 0 && errno != EINTR, user_get_revents, u);
	} else {
		/* Still runs slirp's TCP timers. */
		slirp_pollfds_poll(u->slirp, 0, user_get_revents, u);
	}
	user_refill(u);
	user_rx_flush(u);
}

static void user_sockets_ready(void *opaque, uint32_t events)
{
	struct net_user *u = opaque;
	(void)events;
	pthread_mutex_lock(u->lock);
	user_iterate(u);
	pthread_mutex_unlock(u->lock);
}

static void user_kicked(void *opaque, uint32_t events)
{
	struct net_user *u = opaque;
	uint64_t v;
	(void)events;
	if (read(u->kickfd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another wake-up drained it */
	}
	pthread_mutex_lock(u->lock);
	u->kick_pending = false;
	user_iterate(u);
	pthread_mutex_unlock(u->lock);
}

static void user_poll_timeout(void *opaque)
{
	user_iterate(opaque); /* timer callbacks run with the lock held */
}

/* ---- slirp's callbacks (all with the device lock held) ---- */

static bool user_rxq_push(struct net_user *u, const uint8_t *frame, size_t len)
{
	if (u->rxq_count == USER_RXQ_SLOTS || len > USER_RXQ_SLOT) {
		u->be.rx_dropped++;
		return false;
	}
	unsigned i = (u->rxq_head + u->rxq_count) % USER_RXQ_SLOTS;
	memcpy(u->rxq[i], frame, len);
	u->rxq_len[i] = (uint16_t)len;
	u->rxq_count++;
	return true;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_user *u = opaque;
	if (len > NET_MAX_FRAME) {
		u->be.rx_dropped++;
		return (ssize_t)len;
	}
	struct virtio_net_hdr h = {
		.flags = u->guest_csum ? NET_HDR_F_DATA_VALID : 0,
		.gso_type = NET_HDR_GSO_NONE,
	};
	memcpy(u->rxbuf, &h, NET_HDR_LEN);
	memcpy(u->rxbuf + NET_HDR_LEN, buf, len);
	size_t flen = NET_HDR_LEN + len;
	u->be.rx_frames++;
	if (u->rx_blocked || u->rxq_count) {
		user_rxq_push(u, u->rxbuf, flen);
		return (ssize_t)len;
	}
	const struct net_client *c = &u->be.client;
	if (c->receive(c->opaque, u->rxbuf, flen) == -EAGAIN) {
		u->rx_blocked = true;
		user_rxq_push(u, u->rxbuf, flen);
	} else {
		u->rx_delivered = true;
	}
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_user *u = opaque;
	/* Guest-triggered: debug only, or a guest could flood the log. */
	log_debug("%s: guest error: %s", u->be.desc, msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)clock_ns();
}

static void user_timer_fire(void *opaque)
{
	struct user_timer *ut = opaque;
	struct net_user *u = ut->u;
	if (ut->cb)
		ut->cb(ut->cb_opaque);
	else
		slirp_handle_timer(u->slirp, ut->id, ut->cb_opaque);
	user_kick(u);
	user_rx_flush(u);
}

static struct user_timer *user_timer_alloc(struct net_user *u)
{
	struct user_timer *ut = calloc(1, sizeof(*ut));
	if (!ut)
		return NULL;
	ut->u = u;
	timer_init(&ut->t, u->timers, user_timer_fire, ut);
	return ut;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct user_timer *ut = user_timer_alloc(opaque);
	if (ut) {
		ut->id = id;
		ut->cb_opaque = cb_opaque;
	}
	return ut;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct user_timer *ut = user_timer_alloc(opaque);
	if (ut) {
		ut->cb = cb;
		ut->cb_opaque = cb_opaque;
	}
	return ut;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct user_timer *ut = timer;
	(void)opaque;
	if (!ut)
		return;
	timer_del(&ut->t);
	free(ut);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct user_timer *ut = timer;
	(void)opaque;
	if (ut)
		timer_mod(&ut->t, expire_ms > 0 ? (uint64_t)expire_ms * 1000000ULL : 1);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	/* Nothing: the next fill reports the fd with the events slirp wants. */
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	struct net_user *u = opaque;
	if (fd >= 0 && fd < u->fds_cap && u->fds[fd].events) {
		epoll_ctl(u->epfd, EPOLL_CTL_DEL, fd, NULL);
		u->fds[fd].events = 0; /* stays listed until the next sync drops it */
	}
}

static void cb_notify(void *opaque)
{
	user_kick(opaque);
}

static const SlirpCb user_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* ---- the back-end ops ---- */

static int user_send(struct net_backend *be, const struct iovec *iov, unsigned n)
{
	struct net_user *u = (struct net_user *)be;
	/* Copy first: the guest may change its buffer while we look at it. */
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].iov_len > sizeof(u->txbuf) - len)
			goto drop;
		memcpy(u->txbuf + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (len < NET_HDR_LEN + 14)
		goto drop;
	struct virtio_net_hdr h;
	memcpy(&h, u->txbuf, NET_HDR_LEN);
	uint8_t gso = h.gso_type & (uint8_t)~NET_HDR_GSO_ECN;
	if (gso != NET_HDR_GSO_NONE) {
		/* A TSO frame goes to slirp whole: its IP and TCP input take
		 * any length the IP header states, and its TCP ACKs it like
		 * one large segment. Section 5.1.6.2: GSO frames carry a
		 * partial checksum, which covers the whole payload here. */
		if (gso != NET_HDR_GSO_TCPV4 || !(h.flags & NET_HDR_F_NEEDS_CSUM))
			goto drop;
	}
	if ((h.flags & NET_HDR_F_NEEDS_CSUM) &&
	    net_csum_complete(u->txbuf + NET_HDR_LEN, len - NET_HDR_LEN, le16toh(h.csum_start),
			      le16toh(h.csum_offset)) < 0)
		goto drop;
	be->tx_frames++;
	slirp_input(u->slirp, u->txbuf + NET_HDR_LEN, (int)(len - NET_HDR_LEN));
	/* slirp may have opened a socket or armed a TCP timer: re-poll soon.
	 * Its replies (ACKs) are already in the guest's ring; the interrupt
	 * for them waits for the end of the batch (user_send_flush). */
	user_kick(u);
	return 0;
drop:
	be->tx_dropped++;
	return -EINVAL;
}

static void user_send_flush(struct net_backend *be)
{
	user_rx_flush((struct net_user *)be);
}

static void user_rx_resume(struct net_backend *be)
{
	struct net_user *u = (struct net_user *)be;
	const struct net_client *c = &be->client;
	u->rx_blocked = false;
	while (u->rxq_count) {
		unsigned i = u->rxq_head;
		if (c->receive(c->opaque, u->rxq[i], u->rxq_len[i]) == -EAGAIN) {
			u->rx_blocked = true;
			break;
		}
		u->rxq_head = (i + 1) % USER_RXQ_SLOTS;
		u->rxq_count--;
		u->rx_delivered = true;
	}
	user_rx_flush(u);
}

static void user_set_offload(struct net_backend *be, unsigned offloads)
{
	struct net_user *u = (struct net_user *)be;
	u->guest_csum = offloads & NET_OFFLOAD_CSUM;
}

static void user_close(struct net_backend *be)
{
	struct net_user *u = (struct net_user *)be;
	if (u->slirp)
		slirp_cleanup(u->slirp); /* closes its sockets, frees its timers */
	if (u->timers)
		timer_del(&u->poll_timer);
	if (u->epfd_added)
		event_del_fd(u->loop, u->epfd);
	if (u->kickfd_added)
		event_del_fd(u->loop, u->kickfd);
	if (u->epfd >= 0)
		close(u->epfd);
	if (u->kickfd >= 0)
		close(u->kickfd);
	free(u->pfd);
	free(u->fds);
	free(u->watched);
	free(u->rxq);
	free(u);
}

static const struct net_backend_ops user_ops = {
	.name = "user",
	.send = user_send,
	.send_flush = user_send_flush,
	.rx_resume = user_rx_resume,
	.set_offload = user_set_offload,
	.close = user_close,
};

static struct in_addr ip4(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a;
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;
	inet_pton(AF_INET6, s, &a);
	return a;
}

int net_user_open(const struct netdev_config *cfg, const struct net_env *env,
		  const struct net_client *client, struct net_backend **out,
		  struct error *e)
{
	char desc[64];
	net_describe(cfg, desc, sizeof(desc));
	struct net_user *u = calloc(1, sizeof(*u));
	if (!u)
		return error_set(e, -ENOMEM, "%s: out of memory", desc);
	u->be.ops = &user_ops;
	u->be.client = *client;
	u->be.caps = NET_CAP_CSUM | NET_CAP_TSO4;
	snprintf(u->be.desc, sizeof(u->be.desc), "%s", desc);
	u->loop = env->loop;
	u->lock = env->lock;
	u->epfd = u->kickfd = -1;
	int r;
	u->rxq = malloc(USER_RXQ_SLOTS * sizeof(*u->rxq));
	if (!u->rxq) {
		r = error_set(e, -ENOMEM, "%s: out of memory", desc);
		goto fail;
	}
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	u->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->epfd < 0 || u->kickfd < 0) {
		r = error_set(e, -errno, "%s: %s", desc, strerror(errno));
		goto fail;
	}
	u->timers = env->timers;
	timer_init(&u->poll_timer, env->timers, user_poll_timeout, u);

	SlirpConfig sc = {
		.version = 4,
		.restricted = 0,
		.in_enabled = true,
		.vnetwork = ip4("10.0.2.0"),
		.vnetmask = ip4("255.255.255.0"),
		.vhost = ip4("10.0.2.2"),
		.in6_enabled = true,
		.vprefix_addr6 = ip6("fec0::"),
		.vprefix_len = 64,
		.vhost6 = ip6("fec0::2"),
		.vdhcp_start = ip4("10.0.2.15"),
		.vnameserver = ip4("10.0.2.3"),
		.vnameserver6 = ip6("fec0::3"),
		/* 10.0.2.2 is the host: connections to it reach 127.0.0.1. */
		.disable_host_loopback = false,
		.enable_emu = false,
	};
	u->slirp = slirp_new(&sc, &user_callbacks, u);
	if (!u->slirp) {
		r = error_set(e, -ENOMEM, "%s: cannot start the user network stack", desc);
		goto fail;
	}
	for (int i = 0; i < cfg->nhostfwd; i++) {
		const struct hostfwd *f = &cfg->hostfwd[i];
		struct in_addr ha = { .s_addr = f->host_addr };
		struct in_addr ga = { .s_addr = f->guest_addr ? f->guest_addr
							      : ip4("10.0.2.15").s_addr };
		errno = 0;
		if (slirp_add_hostfwd(u->slirp, f->udp, ha, f->host_port, ga, f->guest_port) < 0) {
			char fw[64];
			int err = errno ? errno : EADDRINUSE;
			net_describe_hostfwd(f, fw, sizeof(fw));
			r = error_set(e, -err, "%s: hostfwd %s: %s", desc, fw,
				      err == EADDRINUSE ? "address in use" : strerror(err));
			goto fail;
		}
	}
	r = event_add_fd(env->loop, u->epfd, EPOLLIN, user_sockets_ready, u);
	if (r == 0) {
		u->epfd_added = true;
		r = event_add_fd(env->loop, u->kickfd, EPOLLIN, user_kicked, u);
		u->kickfd_added = r == 0;
	}
	if (r < 0) {
		error_set(e, r, "%s: event loop: %s", desc, strerror(-r));
		goto fail;
	}
	/* The first fill, so the forwards' listening sockets are watched.
	 * Only a fill: polling could hand a frame to a device still being
	 * built. Nothing else runs yet, so no lock. */
	user_refill(u);
	*out = &u->be;
	return 0;
fail:
	user_close(&u->be);
	return r;
}
