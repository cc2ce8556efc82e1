/*
 * The event loop: one epoll set served by the main thread. Back ends
 * (the serial console's stdin, later disks and networks) register file
 * descriptors here; vCPU threads never block in it.
 */
#ifndef KEMU_CORE_EVENT_H
#define KEMU_CORE_EVENT_H

#include <stdint.h>

typedef void (*event_cb)(void *opaque, uint32_t events);

struct event_handler {
	int fd;
	event_cb cb;
	void *opaque;
};

#define EVENT_MAX_HANDLERS 64

struct event_loop {
	int epfd;
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
