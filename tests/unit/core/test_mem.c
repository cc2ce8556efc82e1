#include "core/mem.h"
#include "test.h"

int main(void)
{
	struct guest_mem m;
	/* 5 GiB: 3 GiB below the hole, 2 GiB at 4 GiB (reserved lazily). */
	CHECK(guest_mem_init(&m, 5ULL << 30, 0xc0000000) == 0);
	CHECK_EQ(m.nregions, 2);
	CHECK_EQ(guest_mem_low_end(&m), 0xc0000000);
	CHECK_EQ(m.region[1].gpa, 1ULL << 32);
	CHECK_EQ(m.region[1].size, 2ULL << 30);
	CHECK(guest_ptr(&m, 0, 1) != NULL);
	CHECK(guest_ptr(&m, 0xbffff000, 0x1000) != NULL);
	CHECK(guest_ptr(&m, 0xbffff000, 0x1001) == NULL); /* into the hole */
	CHECK(guest_ptr(&m, 0xc0000000, 1) == NULL);
	CHECK(guest_ptr(&m, 1ULL << 32, 16) != NULL);
	CHECK(guest_ptr(&m, (6ULL << 30) - 1, 1) != NULL);
	CHECK(guest_ptr(&m, (6ULL << 30) - 1, 2) == NULL);
	CHECK(guest_ptr(&m, ~0ULL, 2) == NULL);       /* no wrap-around */
	CHECK(guest_ptr(&m, 16, ~0ULL) == NULL);
	uint32_t v = 0xdeadbeef, r = 0;
	CHECK(guest_write(&m, 0x1000, &v, 4) == 0);
	CHECK(guest_read(&m, 0x1000, &r, 4) == 0);
	CHECK_EQ(r, 0xdeadbeef);
	CHECK(guest_write(&m, 0xbffffffe, &v, 4) < 0);
	guest_mem_destroy(&m);

	CHECK(guest_mem_init(&m, 64ULL << 20, 0xc0000000) == 0);
	CHECK_EQ(m.nregions, 1);
	CHECK(guest_mem_init(&m, 12345, 0xc0000000) < 0); /* not page-sized */
	return test_exit();
}
