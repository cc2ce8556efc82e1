#include "core/timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/event.h"

uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A binary min-heap on expires_ns. */
static void heap_swap(struct timer_list *l, int a, int b)
{
	struct timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->index = a;
	l->heap[b]->index = b;
}

static void heap_up(struct timer_list *l, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (l->heap[p]->expires_ns <= l->heap[i]->expires_ns)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct timer_list *l, int i)
{
	for (;;) {
		int m = i, a = 2 * i + 1, b = a + 1;
		if (a < l->n && l->heap[a]->expires_ns < l->heap[m]->expires_ns)
			m = a;
		if (b < l->n && l->heap[b]->expires_ns < l->heap[m]->expires_ns)
			m = b;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct timer_list *l, int i)
{
	l->heap[i]->index = -1;
	l->n--;
	if (i == l->n)
		return;
	l->heap[i] = l->heap[l->n];
	l->heap[i]->index = i;
	heap_down(l, i);
	heap_up(l, i);
}

/* Keeps the timerfd armed for the earliest deadline. */
static void rearm(struct timer_list *l)
{
	uint64_t next = l->n ? l->heap[0]->expires_ns : 0;
	if (next == l->armed_ns || l->fd < 0)
		return;
	struct itimerspec its = { 0 };
	if (next) {
		its.it_value.tv_sec = (time_t)(next / 1000000000ULL);
		its.it_value.tv_nsec = (long)(next % 1000000000ULL);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(l->fd, TFD_TIMER_ABSTIME, &its, NULL);
	l->armed_ns = next;
}

void timer_init(struct timer *t, struct timer_list *l, void (*cb)(void *), void *opaque)
{
	t->expires_ns = 0;
	t->cb = cb;
	t->opaque = opaque;
	t->list = l;
	t->index = -1;
}

void timer_mod(struct timer *t, uint64_t expires_ns)
{
	struct timer_list *l = t->list;
	if (t->index >= 0) {
		t->expires_ns = expires_ns;
		heap_down(l, t->index);
		heap_up(l, t->index);
	} else {
		if (l->n == l->cap) {
			int cap = l->cap ? l->cap * 2 : 16;
			struct timer **h = realloc(l->heap, (size_t)cap * sizeof(*h));
			if (!h)
				return; /* the timer stays disarmed: better than a crash */
			l->heap = h;
			l->cap = cap;
		}
		t->expires_ns = expires_ns;
		t->index = l->n;
		l->heap[l->n++] = t;
		heap_up(l, t->index);
	}
	rearm(l);
}

void timer_del(struct timer *t)
{
	if (t->index < 0)
		return;
	heap_remove(t->list, t->index);
	rearm(t->list);
}

void timer_list_run(struct timer_list *l)
{
	uint64_t now = clock_ns();
	while (l->n && l->heap[0]->expires_ns <= now) {
		struct timer *t = l->heap[0];
		heap_remove(l, 0);
		t->cb(t->opaque); /* may re-arm t or others */
	}
	l->armed_ns = ~0ULL; /* force rearm: the fd fired and is now disarmed */
	rearm(l);
}

static void on_timerfd(void *opaque, uint32_t events)
{
	struct timer_list *l = opaque;
	uint64_t ticks;
	(void)events;
	if (read(l->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_t *lock = l->lock;
	if (lock)
		pthread_mutex_lock(lock);
	timer_list_run(l);
	if (lock)
		pthread_mutex_unlock(lock);
}

int timer_list_init(struct timer_list *l, struct event_loop *loop, void *lock)
{
	l->heap = NULL;
	l->n = l->cap = 0;
	l->lock = lock;
	l->armed_ns = 0;
	l->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->fd < 0)
		return -errno;
	return event_add_fd(loop, l->fd, EPOLLIN, on_timerfd, l);
}

void timer_list_destroy(struct timer_list *l)
{
	for (int i = 0; i < l->n; i++)
		l->heap[i]->index = -1;
	free(l->heap);
	l->heap = NULL;
	l->n = l->cap = 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
