/*
 * Device timers on the host's monotonic clock. Timers belong to a
 * timer_list that the main thread's event loop serves: callbacks run there
 * with the device lock (vm->io_lock) held, so devices need no other lock.
 * timer_mod()/timer_del() may be called from any thread holding that lock.
 */
#ifndef KEMU_CORE_TIMER_H
#define KEMU_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer_list;

struct timer {
	uint64_t expires_ns; /* absolute, clock_ns() time base */
	void (*cb)(void *opaque);
	void *opaque;
	struct timer_list *list;
	int index; /* position in the list's heap, -1 when not armed */
};

struct timer_list {
	struct timer **heap;
	int n, cap;
	int fd; /* timerfd armed for the earliest expiry */
	void *lock; /* pthread_mutex_t held while callbacks run */
	uint64_t armed_ns; /* what fd is armed for, 0 = disarmed */
};

struct event_loop;

/* Registers the list's timerfd with the loop; callbacks run under *lock. */
int timer_list_init(struct timer_list *l, struct event_loop *loop, void *lock);
void timer_list_destroy(struct timer_list *l);
/* Fires every timer due by now (the event loop calls this). */
void timer_list_run(struct timer_list *l);

/* CLOCK_MONOTONIC in nanoseconds: guest time follows it. */
uint64_t clock_ns(void);

void timer_init(struct timer *t, struct timer_list *l, void (*cb)(void *), void *opaque);
/* Arms (or re-arms) t to fire at the absolute time expires_ns. */
void timer_mod(struct timer *t, uint64_t expires_ns);
void timer_del(struct timer *t);
static inline bool timer_pending(const struct timer *t)
{
	return t->index >= 0;
}

#endif
