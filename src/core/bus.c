#include "core/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b, const char *name, pthread_mutex_t *lock)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->lock = lock;
}

void bus_destroy(struct bus *b)
{
	free(b->regions);
	b->regions = NULL;
	b->n = b->cap = 0;
}

/* Index of the first region whose end is above addr. */
static int bus_lower_bound(const struct bus *b, uint64_t addr)
{
	int lo = 0, hi = b->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct bus_region *r = &b->regions[mid];
		if (r->base + (r->len - 1) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name)
{
	if (!len || base + (len - 1) < base || !ops)
		return -EINVAL;
	int i = bus_lower_bound(b, base);
	if (i < b->n && b->regions[i].base <= base + (len - 1))
		return -EEXIST;
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct bus_region *r = realloc(b->regions, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		b->regions = r;
		b->cap = cap;
	}
	memmove(&b->regions[i + 1], &b->regions[i], (b->n - i) * sizeof(*b->regions));
	b->regions[i] = (struct bus_region){ base, len, ops, opaque, name };
	b->n++;
	return 0;
}

int bus_unregister(struct bus *b, uint64_t base)
{
	int i = bus_lower_bound(b, base);
	if (i >= b->n || b->regions[i].base != base)
		return -ENOENT;
	memmove(&b->regions[i], &b->regions[i + 1], (b->n - i - 1) * sizeof(*b->regions));
	b->n--;
	return 0;
}

const struct bus_region *bus_find(const struct bus *b, uint64_t addr)
{
	int i = bus_lower_bound(b, addr);
	if (i < b->n && b->regions[i].base <= addr)
		return &b->regions[i];
	return NULL;
}

static bool sized(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Caller holds the lock. */
static bool bus_read_locked(struct bus *b, uint64_t addr, uint8_t *data, unsigned size)
{
	const struct bus_region *r = bus_find(b, addr);
	if (r && sized(size) && addr - r->base + size <= r->len) {
		uint64_t v = r->ops->read ? r->ops->read(r->opaque, addr - r->base, size) : ~0ULL;
		memcpy(data, &v, size); /* little-endian host */
		return true;
	}
	if (size > 1 || !r) {
		/* Unaligned to the region or odd-sized: split into bytes. */
		bool any = false;
		for (unsigned i = 0; i < size; i++) {
			const struct bus_region *rb = bus_find(b, addr + i);
			if (rb && rb->ops->read) {
				data[i] = (uint8_t)rb->ops->read(rb->opaque, addr + i - rb->base, 1);
				any = true;
			} else {
				data[i] = 0xff;
			}
		}
		return any;
	}
	return false;
}

bool bus_read(struct bus *b, uint64_t addr, void *data, unsigned size)
{
	if (b->lock)
		pthread_mutex_lock(b->lock);
	bool ok = bus_read_locked(b, addr, data, size);
	if (b->lock)
		pthread_mutex_unlock(b->lock);
	return ok;
}

bool bus_write(struct bus *b, uint64_t addr, const void *data, unsigned size)
{
	bool any = false;
	const uint8_t *p = data;
	if (b->lock)
		pthread_mutex_lock(b->lock);
	const struct bus_region *r = bus_find(b, addr);
	if (r && sized(size) && addr - r->base + size <= r->len) {
		uint64_t v = 0;
		memcpy(&v, p, size);
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, v, size);
		any = true;
	} else {
		for (unsigned i = 0; i < size; i++) {
			const struct bus_region *rb = bus_find(b, addr + i);
			if (rb) {
				if (rb->ops->write)
					rb->ops->write(rb->opaque, addr + i - rb->base, p[i], 1);
				any = true;
			}
		}
	}
	if (b->lock)
		pthread_mutex_unlock(b->lock);
	return any;
}
