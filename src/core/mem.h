/*
 * Guest physical memory: a few RAM regions, each backed by host memory.
 * Every guest-controlled address goes through guest_ptr(), which refuses
 * ranges that are not wholly inside one RAM region.
 */
#ifndef KEMU_CORE_MEM_H
#define KEMU_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct mem_region region[GUEST_MEM_MAX_REGIONS];
	int nregions;
	uint64_t ram_size; /* sum of region sizes */
	uint8_t *base;     /* the single host mapping all regions live in */
};

/*
 * Allocates ram_size bytes of guest RAM and lays it out below the 32-bit
 * hole starting at hole_start; what does not fit continues at 4 GiB.
 */
int guest_mem_init(struct guest_mem *m, uint64_t ram_size, uint64_t hole_start);
void guest_mem_destroy(struct guest_mem *m);

/* Host pointer for [gpa, gpa+len) or NULL if any byte is outside RAM. */
void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Copies; return 0 or -EFAULT. */
int guest_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int guest_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
/* Top of the RAM below 4 GiB (end of the low region). */
uint64_t guest_mem_low_end(const struct guest_mem *m);

#endif
