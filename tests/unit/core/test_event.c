/*
 * The event loop: a handler removed by an earlier callback of the same
 * batch, or whose slot was reused meanwhile, must not run; the handler
 * table may be changed from another thread while the loop dispatches.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/event.h"
#include "test.h"

static struct event_loop loop;
static int pa[2], pb[2], pc[2];
static int ran_a, ran_b, ran_c;

static void on_c(void *opaque, uint32_t events)
{
	(void)opaque, (void)events;
	ran_c++;
}

/* Whichever of A and B runs first replaces the other with C, in the same slot. */
static void replace_other(int other_fd)
{
	CHECK_EQ(event_del_fd(&loop, other_fd), 0);
	CHECK_EQ(event_add_fd(&loop, pc[0], EPOLLIN, on_c, NULL), 0);
}

static void on_a(void *opaque, uint32_t events)
{
	(void)opaque, (void)events;
	ran_a++;
	replace_other(pb[0]);
}

static void on_b(void *opaque, uint32_t events)
{
	(void)opaque, (void)events;
	ran_b++;
	replace_other(pa[0]);
}

static void test_stale_event(void)
{
	CHECK_EQ(event_loop_init(&loop), 0);
	CHECK_EQ(pipe(pa) | pipe(pb) | pipe(pc), 0);
	CHECK_EQ(event_add_fd(&loop, pa[0], EPOLLIN, on_a, NULL), 0);
	CHECK_EQ(event_add_fd(&loop, pb[0], EPOLLIN, on_b, NULL), 0);
	CHECK_EQ(write(pa[1], "a", 1), 1);
	CHECK_EQ(write(pb[1], "b", 1), 1);
	CHECK_EQ(event_loop_poll(&loop, 1000), 2);
	/* One ran and removed the other, whose pending event went nowhere:
	 * not to C, which took its slot but has nothing to read. */
	CHECK_EQ(ran_a + ran_b, 1);
	CHECK_EQ(ran_c, 0);
	event_loop_destroy(&loop);
	for (int i = 0; i < 2; i++) {
		close(pa[i]);
		close(pb[i]);
		close(pc[i]);
	}
}

/* ---- another thread adds and removes while the loop dispatches ---- */

static atomic_bool stop;
static atomic_int dispatched;
static int busy[2], churn[2];

static void on_busy(void *opaque, uint32_t events)
{
	char buf[64];
	(void)opaque, (void)events;
	if (read(busy[0], buf, sizeof(buf)) > 0)
		atomic_fetch_add(&dispatched, 1);
}

static void on_churn(void *opaque, uint32_t events)
{
	(void)events;
	CHECK(opaque == &churn); /* never a torn or stale handler */
}

static void *churner(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		event_add_fd(&loop, churn[0], EPOLLIN, on_churn, &churn);
		event_del_fd(&loop, churn[0]);
	}
	return NULL;
}

static void test_cross_thread(void)
{
	CHECK_EQ(event_loop_init(&loop), 0);
	CHECK_EQ(pipe(busy) | pipe(churn), 0);
	CHECK_EQ(write(churn[1], "x", 1), 1); /* always readable */
	CHECK_EQ(event_add_fd(&loop, busy[0], EPOLLIN, on_busy, NULL), 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, churner, NULL), 0);
	for (int i = 0; i < 2000; i++) {
		CHECK_EQ(write(busy[1], "y", 1), 1);
		event_loop_poll(&loop, 100);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	CHECK(atomic_load(&dispatched) > 0);
	event_loop_destroy(&loop);
	for (int i = 0; i < 2; i++) {
		close(busy[i]);
		close(churn[i]);
	}
}

int main(void)
{
	test_stale_event();
	test_cross_thread();
	return test_exit();
}
