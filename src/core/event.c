#include "core/event.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int event_loop_init(struct event_loop *l)
{
	for (int i = 0; i < EVENT_MAX_HANDLERS; i++)
		l->handlers[i] = (struct event_handler){ 0 };
	l->wakefd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wakefd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
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
}

int event_add_fd(struct event_loop *l, int fd, uint32_t events, event_cb cb, void *opaque)
{
	for (int i = 0; i < EVENT_MAX_HANDLERS; i++) {
		if (l->handlers[i].cb)
			continue;
		l->handlers[i] = (struct event_handler){ fd, cb, opaque };
		struct epoll_event ev = { .events = events, .data.ptr = &l->handlers[i] };
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int r = -errno;
			l->handlers[i] = (struct event_handler){ 0 };
			return r;
		}
		return 0;
	}
	return -ENOSPC;
}

int event_del_fd(struct event_loop *l, int fd)
{
	for (int i = 0; i < EVENT_MAX_HANDLERS; i++) {
		if (l->handlers[i].cb && l->handlers[i].fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->handlers[i] = (struct event_handler){ 0 };
			return 0;
		}
	}
	return -ENOENT;
}

int event_loop_poll(struct event_loop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct event_handler *h = evs[i].data.ptr;
		if (!h) {
			uint64_t v;
			if (read(l->wakefd, &v, sizeof(v)) < 0) {
				/* nothing pending: another wake already drained it */
			}
			continue;
		}
		if (h->cb)
			h->cb(h->opaque, evs[i].events);
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
