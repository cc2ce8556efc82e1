#include "core/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define GIB (1ULL << 30)

int guest_mem_init(struct guest_mem *m, uint64_t ram_size, uint64_t hole_start)
{
	memset(m, 0, sizeof(*m));
	if (!ram_size || (ram_size & 0xfff))
		return -EINVAL;
	void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, ram_size, MADV_MERGEABLE);
	m->base = p;
	m->ram_size = ram_size;
	uint64_t low = ram_size < hole_start ? ram_size : hole_start;
	m->region[0] = (struct mem_region){ .gpa = 0, .size = low, .hva = p };
	m->nregions = 1;
	if (ram_size > low) {
		m->region[1] = (struct mem_region){
			.gpa = 4 * GIB, .size = ram_size - low, .hva = (uint8_t *)p + low
		};
		m->nregions = 2;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *m)
{
	if (m->base)
		munmap(m->base, m->ram_size);
	memset(m, 0, sizeof(*m));
}

void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->nregions; i++) {
		const struct mem_region *r = &m->region[i];
		/* Written so that no sum can overflow. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = guest_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = guest_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

uint64_t guest_mem_low_end(const struct guest_mem *m)
{
	return m->nregions ? m->region[0].size : 0;
}
