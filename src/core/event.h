/*
 * The event loop: one epoll set served by the main thread. Back ends
 * (the serial console's stdin, later disks and networks) register file
 * descriptors here; vCPU threads never block in it.
 *
 * event_add_fd() and event_del_fd() may be called from any thread (a
 * device register write on a vCPU can add or drop a handler while the
 * main thread dispatches): the table is guarded by its own mutex, and an
 * event reported for a slot that was freed or reused since epoll_wait()
 * returned is ignored. A callback may still run once, on the main
 * thread, after another thread removed it; callbacks therefore re-check
 * their state under the device lock.
 */
#ifndef KEMU_CORE_EVENT_H
#define KEMU_CORE_EVENT_H

#include <pthread.h>
#include <stdint.h>

typedef void (*event_cb)(void *opaque, uint32_t events);

struct event_handler {
	int fd;
	event_cb cb;
	void *opaque;
	uint32_t gen; /* bumped on every add, so stale epoll events can be told apart */
};

#define EVENT_MAX_HANDLERS 64

struct event_loop {
	int epfd;
	pthread_mutex_t lock; /* guards handlers[] */
	struct event_handler handlers[EVENT_MAX_HANDLERS];
	int wakefd; /* eventfd: event_loop_wake() makes the loop re-check its stop flag */
};

int event_loop_init(struct event_loop *l);
void event_loop_destroy(struct event_loop *l);
int event_add_fd(struct event_loop *l, int fd, uint32_t events, event_cb cb, void *opaque);
int event_del_fd(struct event_loop *l, int fd);
/* Waits up to timeout_ms (-1 forever) and runs the callbacks that are ready. */
int event_loop_poll(struct event_loop *l, int timeout_ms);
void event_loop_wake(struct event_loop *l);

#endif
