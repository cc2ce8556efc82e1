#include "core/bus.h"
#include "test.h"

#include <errno.h>

struct dev {
	uint64_t last_off, last_val;
	unsigned last_size;
	int reads, writes;
};

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
	struct dev *d = opaque;
	d->reads++;
	d->last_off = off;
	d->last_size = size;
	return 0x1122334455667788ULL >> (8 * (off & 7));
}

static void dev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct dev *d = opaque;
	d->writes++;
	d->last_off = off;
	d->last_val = val;
	d->last_size = size;
}

static const struct bus_ops ops = { dev_read, dev_write };

int main(void)
{
	struct bus b;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	bus_init(&b, "test", &lock);
	struct dev a = { 0 }, c = { 0 };
	CHECK(bus_register(&b, 0x100, 0x10, &ops, &a, "a") == 0);
	CHECK(bus_register(&b, 0x200, 0x8, &ops, &c, "c") == 0);
	/* Overlaps in every position are refused. */
	CHECK_EQ(bus_register(&b, 0x100, 0x10, &ops, &c, "dup"), -EEXIST);
	CHECK_EQ(bus_register(&b, 0xf8, 0x10, &ops, &c, "left"), -EEXIST);
	CHECK_EQ(bus_register(&b, 0x10f, 1, &ops, &c, "right"), -EEXIST);
	CHECK_EQ(bus_register(&b, 0x0, 0x1000, &ops, &c, "around"), -EEXIST);
	CHECK_EQ(bus_register(&b, 0x104, 2, &ops, &c, "inside"), -EEXIST);
	CHECK_EQ(bus_register(&b, 0x10, 0, &ops, &c, "empty"), -EINVAL);
	CHECK_EQ(bus_register(&b, ~0ULL, 2, &ops, &c, "wrap"), -EINVAL);
	/* Adjacent is fine. */
	CHECK(bus_register(&b, 0x110, 0x10, &ops, &c, "adjacent") == 0);
	CHECK(bus_register(&b, 0xf0, 0x10, &ops, &c, "below") == 0);

	uint32_t v = 0;
	CHECK(bus_read(&b, 0x104, &v, 4));
	CHECK_EQ(a.last_off, 4);
	CHECK_EQ(a.last_size, 4);
	CHECK_EQ(v, 0x11223344);
	uint16_t w = 0xbeef;
	CHECK(bus_write(&b, 0x202, &w, 2));
	CHECK_EQ(c.last_off, 2);
	CHECK_EQ(c.last_val, 0xbeef);
	CHECK_EQ(c.last_size, 2);

	/* Unclaimed: not handled, reads all-ones. */
	v = 0;
	CHECK(!bus_read(&b, 0x500, &v, 4));
	CHECK(!bus_write(&b, 0x500, &v, 4));

	/* An access running off the end of a region is split into bytes. */
	c.reads = 0;
	uint32_t x = 0;
	CHECK(bus_read(&b, 0x206, &x, 4));
	CHECK_EQ(c.reads, 2);
	CHECK_EQ(x >> 16, 0xffff);

	CHECK(bus_find(&b, 0x10f) && bus_find(&b, 0x10f)->opaque == &a);
	CHECK(bus_unregister(&b, 0x100) == 0);
	CHECK(bus_find(&b, 0x104) == NULL);
	CHECK(bus_unregister(&b, 0x100) == -ENOENT);
	bus_destroy(&b);
	return test_exit();
}
