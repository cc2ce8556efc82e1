/*
 * The driver's side of a split virtqueue for device tests: lays out the
 * descriptor table, available and used rings in guest RAM, posts chains
 * and reads completions back, as a guest driver would.
 */
#ifndef KEMU_TEST_DRIVER_RING_H
#define KEMU_TEST_DRIVER_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "hw/virtio/virtq.h"

struct dbuf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

struct dring {
	const struct guest_mem *mem;
	uint64_t desc, avail, used;
	uint16_t size;
	uint16_t avail_idx, used_seen, next_desc;
};

/* Rings at base (desc), base+0x2000 (avail), base+0x3000 (used); size <= 256. */
static inline void dring_init(struct dring *r, const struct guest_mem *m, uint64_t base,
			      uint16_t size)
{
	memset(r, 0, sizeof(*r));
	r->mem = m;
	r->size = size;
	r->desc = base;
	r->avail = base + 0x2000;
	r->used = base + 0x3000;
	memset(guest_ptr(m, base, 0x4000), 0, 0x4000);
}

/* What a transport does on QueueReady, for tests without one. */
static inline void dring_attach(struct dring *r, struct virtq *q)
{
	q->size = r->size;
	q->desc_addr = r->desc;
	q->avail_addr = r->avail;
	q->used_addr = r->used;
	q->ready = true;
}

static inline uint16_t dring_post(struct dring *r, const struct dbuf *b, int n)
{
	uint16_t head = r->next_desc;
	for (int i = 0; i < n; i++) {
		uint16_t idx = r->next_desc;
		r->next_desc = (uint16_t)((r->next_desc + 1) % r->size);
		uint8_t d[16];
		uint16_t flags = (uint16_t)((i + 1 < n ? 1 : 0) | (b[i].writable ? 2 : 0));
		memcpy(d, &b[i].gpa, 8);
		memcpy(d + 8, &b[i].len, 4);
		memcpy(d + 12, &flags, 2);
		memcpy(d + 14, &r->next_desc, 2);
		guest_write(r->mem, r->desc + 16ULL * idx, d, 16);
	}
	guest_write(r->mem, r->avail + 4 + 2ULL * (r->avail_idx % r->size), &head, 2);
	r->avail_idx++;
	guest_write(r->mem, r->avail + 2, &r->avail_idx, 2);
	return head;
}

static inline uint16_t dring_post1(struct dring *r, uint64_t gpa, uint32_t len, bool writable)
{
	struct dbuf b = { gpa, len, writable };
	return dring_post(r, &b, 1);
}

/* Takes the next used element; false if the device has returned nothing new. */
static inline bool dring_used(struct dring *r, uint32_t *id, uint32_t *len)
{
	uint16_t idx;
	guest_read(r->mem, r->used + 2, &idx, 2);
	if (idx == r->used_seen)
		return false;
	uint32_t e[2];
	guest_read(r->mem, r->used + 4 + 8ULL * (r->used_seen % r->size), e, 8);
	r->used_seen++;
	if (id)
		*id = e[0];
	if (len)
		*len = e[1];
	return true;
}

#endif
