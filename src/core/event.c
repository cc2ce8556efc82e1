#include "core/event.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* epoll_event.data: the slot in the low half, its generation in the high half. */
#define EVENT_WAKE_TOKEN UINT64_MAX

static uint64_t event_token(const struct event_loop *l, int slot)
{
	return (uint64_t)l->handlers[slot].gen << 32 | (uint32_t)slot;
}

int event_loop_init(struct event_loop *l)
{
	for (int i = 0; i < EVENT_MAX_HANDLERS; i++)
		l->handlers[i] = (struct event_handler){ 0 };
	pthread_mutex_init(&l->lock, NULL);
	l->wakefd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wakefd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EVENT_WAKE_TOKEN };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
		return -errno;
	return 0;
}

void event_loop_destroy(struct event_loop *l)
{
	if (l->wakefd >= 0)
		close(l->wakefd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->wakefd = l->epfd = -1;
	pthread_mutex_destroy(&l->lock);
}

int event_add_fd(struct event_loop *l, int fd, uint32_t events, event_cb cb, void *opaque)
{
	int r = -ENOSPC;
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < EVENT_MAX_HANDLERS; i++) {
		struct event_handler *h = &l->handlers[i];
		if (h->cb)
			continue;
		*h = (struct event_handler){ fd, cb, opaque, h->gen + 1 };
		struct epoll_event ev = { .events = events, .data.u64 = event_token(l, i) };
		r = 0;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			r = -errno;
			h->cb = NULL;
			h->opaque = NULL;
		}
		break;
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

int event_del_fd(struct event_loop *l, int fd)
{
	int r = -ENOENT;
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < EVENT_MAX_HANDLERS; i++) {
		struct event_handler *h = &l->handlers[i];
		if (h->cb && h->fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			h->cb = NULL;
			h->opaque = NULL;
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

int event_loop_poll(struct event_loop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint64_t token = evs[i].data.u64;
		if (token == EVENT_WAKE_TOKEN) {
			uint64_t v;
			if (read(l->wakefd, &v, sizeof(v)) < 0) {
				/* nothing pending: another wake already drained it */
			}
			continue;
		}
		/* The handler may have been removed (or its slot reused) by an
		 * earlier callback in this batch or by another thread. */
		uint32_t slot = (uint32_t)token;
		event_cb cb = NULL;
		void *opaque = NULL;
		pthread_mutex_lock(&l->lock);
		if (slot < EVENT_MAX_HANDLERS && l->handlers[slot].cb &&
		    l->handlers[slot].gen == (uint32_t)(token >> 32)) {
			cb = l->handlers[slot].cb;
			opaque = l->handlers[slot].opaque;
		}
		pthread_mutex_unlock(&l->lock);
		if (cb)
			cb(opaque, evs[i].events);
	}
	return n;
}

void event_loop_wake(struct event_loop *l)
{
	uint64_t one = 1;
	if (write(l->wakefd, &one, sizeof(one)) < 0) {
		/* counter saturated: the loop is already due to wake */
	}
}
