#include "core/event.h"
#include "core/timer.h"
#include "test.h"

#include <pthread.h>

static int order[8];
static int fired;

static void cb(void *opaque)
{
	order[fired++] = (int)(intptr_t)opaque;
}

int main(void)
{
	struct event_loop loop;
	struct timer_list l;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	CHECK(event_loop_init(&loop) == 0);
	CHECK(timer_list_init(&l, &loop, &lock) == 0);

	struct timer t[4];
	for (int i = 0; i < 4; i++)
		timer_init(&t[i], &l, cb, (void *)(intptr_t)i);
	uint64_t now = clock_ns();
	/* Armed out of order; must fire in deadline order. */
	timer_mod(&t[2], now + 3000000);
	timer_mod(&t[0], now + 1000000);
	timer_mod(&t[3], now + 4000000);
	timer_mod(&t[1], now + 2000000);
	CHECK(timer_pending(&t[1]));
	/* Re-arming moves a timer; deleting removes it. */
	timer_mod(&t[3], now + 500000);
	timer_del(&t[2]);
	CHECK(!timer_pending(&t[2]));

	uint64_t deadline = now + 2000000000ULL;
	while (fired < 3 && clock_ns() < deadline)
		event_loop_poll(&loop, 100);
	CHECK_EQ(fired, 3);
	CHECK_EQ(order[0], 3);
	CHECK_EQ(order[1], 0);
	CHECK_EQ(order[2], 1);
	/* Nothing fired early. */
	CHECK(clock_ns() >= now + 2000000);
	CHECK(!timer_pending(&t[0]));

	timer_list_destroy(&l);
	event_loop_destroy(&loop);
	return test_exit();
}
