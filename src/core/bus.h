/*
 * An I/O bus: port I/O and MMIO are each one bus. Devices register
 * [base, base+len) with a read/write pair; every accelerator dispatches
 * guest accesses through bus_read()/bus_write(). Overlapping ranges are
 * refused at registration time.
 *
 * Accesses to unclaimed addresses read as all-ones and drop writes, as on
 * a PC. Devices see offsets relative to their base, and sizes 1, 2, 4 or 8.
 */
#ifndef KEMU_CORE_BUS_H
#define KEMU_CORE_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

struct bus_region {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;
	struct bus_region *regions; /* sorted by base, non-overlapping */
	int n, cap;
	/*
	 * Serialises device emulation: every dispatch holds it, and so must any
	 * other thread (the event loop) that touches device state.
	 */
	pthread_mutex_t *lock;
};

void bus_init(struct bus *b, const char *name, pthread_mutex_t *lock);
void bus_destroy(struct bus *b);
/* 0, or -EEXIST if the range overlaps another, -EINVAL if empty/wrapping. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name);
int bus_unregister(struct bus *b, uint64_t base);
const struct bus_region *bus_find(const struct bus *b, uint64_t addr);

/* Return true if a device claimed the access. Take and release b->lock. */
bool bus_read(struct bus *b, uint64_t addr, void *data, unsigned size);
bool bus_write(struct bus *b, uint64_t addr, const void *data, unsigned size);

#endif
