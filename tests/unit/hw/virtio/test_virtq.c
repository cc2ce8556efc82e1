/*
 * Split virtqueue tests: rings are built by hand in a 16 MiB guest RAM laid
 * out as 12 MiB low + 4 MiB at 4 GiB, so the "PCI hole" between them and
 * both ends of RAM can be aimed at. Well-formed chains (direct, indirect,
 * mixed) must map to the right iovecs; every hostile ring must make
 * virtq_pop() return -EINVAL without consuming the entry; notification
 * suppression is checked in both schemes, across 16-bit wrap-around.
 */
#include <errno.h>
#include <stdlib.h>

#include "hw/virtio/virtq.h"
#include "test.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define LOW_END (12 * MIB)
#define HIGH_BASE (4 * GIB)
#define HIGH_END (HIGH_BASE + 4 * MIB)

#define QSIZE 8
#define DESC_GPA 0x10000ULL
#define AVAIL_GPA 0x20000ULL
#define USED_GPA 0x30000ULL
#define INDIRECT_GPA 0x40000ULL
#define DATA_GPA 0x100000ULL

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

static struct guest_mem mem;
static struct virtq q;
static struct virtq_elem elem;

/* dma_written log. */
static struct {
	const void *host;
	size_t len;
} dma_log[16];
static unsigned dma_count;

static void record_dma(void *opaque, const void *host, size_t len)
{
	CHECK(opaque == &dma_count);
	if (dma_count < 16)
		dma_log[dma_count] = (typeof(dma_log[0])){ host, len };
	dma_count++;
}

static void *gp(uint64_t gpa, uint64_t len)
{
	void *p = guest_ptr(&mem, gpa, len);
	if (!p) {
		fprintf(stderr, "test bug: gpa 0x%llx not RAM\n", (unsigned long long)gpa);
		exit(2);
	}
	return p;
}

static void write_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next)
{
	uint8_t *p = gp(table + 16ULL * i, 16);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	write_desc(DESC_GPA, i, addr, len, flags, next);
}

static uint16_t *avail16(unsigned i)
{
	return gp(AVAIL_GPA + 2ULL * i, 2);
}

static uint16_t *used16(uint64_t off)
{
	return gp(USED_GPA + off, 2);
}

static uint32_t *used_elem(unsigned slot)
{
	return gp(USED_GPA + 4 + 8ULL * slot, 8);
}

/* The driver makes head available. */
static void offer(uint16_t head)
{
	uint16_t idx = *avail16(1);
	*avail16(2 + (idx % QSIZE)) = head;
	*avail16(1) = (uint16_t)(idx + 1);
}

static void setup(void)
{
	memset(mem.base, 0, mem.ram_size);
	virtq_init(&q, &mem);
	q.size = QSIZE;
	q.desc_addr = DESC_GPA;
	q.avail_addr = AVAIL_GPA;
	q.used_addr = USED_GPA;
	q.ready = true;
	q.dma_written = record_dma;
	q.dma_opaque = &dma_count;
	dma_count = 0;
}

/* A hostile entry: refused, not consumed, refused again. */
#define CHECK_REFUSED()                                                   \
	do {                                                              \
		uint16_t before_ = q.last_avail;                          \
		CHECK_EQ(virtq_pop(&q, &elem), (uint64_t)(int64_t)-EINVAL); \
		CHECK_EQ(q.last_avail, before_);                          \
		CHECK_EQ(virtq_pop(&q, &elem), (uint64_t)(int64_t)-EINVAL); \
		CHECK_EQ(q.last_avail, before_);                          \
	} while (0)

static void test_out_only(void)
{
	setup();
	CHECK(virtq_valid(&q));
	CHECK(!virtq_has_work(&q));
	CHECK_EQ(virtq_pop(&q, &elem), 0);

	set_desc(3, DATA_GPA, 100, F_NEXT, 5);
	set_desc(5, DATA_GPA + 0x1000, 28, 0, 0);
	offer(3);
	CHECK(virtq_has_work(&q));
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.head, 3);
	CHECK_EQ(elem.nout, 2);
	CHECK_EQ(elem.nin, 0);
	CHECK_EQ(elem.out_len, 128);
	CHECK_EQ(elem.in_len, 0);
	CHECK(elem.iov[0].iov_base == gp(DATA_GPA, 1));
	CHECK_EQ(elem.iov[0].iov_len, 100);
	CHECK(elem.iov[1].iov_base == gp(DATA_GPA + 0x1000, 1));
	CHECK_EQ(elem.iov[1].iov_len, 28);
	CHECK_EQ(q.last_avail, 1);
	CHECK(!virtq_has_work(&q));
	CHECK_EQ(virtq_pop(&q, &elem), 0);

	virtq_push(&q, &elem, 0);
	CHECK_EQ(*used16(2), 1);
	CHECK_EQ(used_elem(0)[0], 3);
	CHECK_EQ(used_elem(0)[1], 0);
	CHECK_EQ(dma_count, 0);
}

static void test_in_only(void)
{
	setup();
	set_desc(0, HIGH_BASE + 0x2000, 512, F_WRITE, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.nout, 0);
	CHECK_EQ(elem.nin, 1);
	CHECK_EQ(elem.in_len, 512);
	CHECK(elem.iov[0].iov_base == gp(HIGH_BASE + 0x2000, 1));

	virtq_push(&q, &elem, 200);
	CHECK_EQ(*used16(2), 1);
	CHECK_EQ(used_elem(0)[0], 0);
	CHECK_EQ(used_elem(0)[1], 200);
	CHECK_EQ(dma_count, 1);
	CHECK(dma_log[0].host == gp(HIGH_BASE + 0x2000, 1));
	CHECK_EQ(dma_log[0].len, 200);
}

static void test_mixed(void)
{
	setup();
	/* out 16, zero-length out (skipped), in 10, zero-length in, in 50 */
	set_desc(1, DATA_GPA, 16, F_NEXT, 2);
	set_desc(2, DATA_GPA + 0x100, 0, F_NEXT, 4);
	set_desc(4, DATA_GPA + 0x200, 10, F_NEXT | F_WRITE, 6);
	set_desc(6, 0xdeadbeef000ULL, 0, F_NEXT | F_WRITE, 7); /* never mapped */
	set_desc(7, DATA_GPA + 0x300, 50, F_WRITE, 0);
	offer(1);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.nout, 1);
	CHECK_EQ(elem.nin, 2);
	CHECK_EQ(elem.out_len, 16);
	CHECK_EQ(elem.in_len, 60);
	CHECK(elem.iov[1].iov_base == gp(DATA_GPA + 0x200, 1));
	CHECK(elem.iov[2].iov_base == gp(DATA_GPA + 0x300, 1));

	/* 25 bytes written: all of the first "in" buffer, 15 of the second. */
	virtq_push(&q, &elem, 25);
	CHECK_EQ(dma_count, 2);
	CHECK(dma_log[0].host == gp(DATA_GPA + 0x200, 1));
	CHECK_EQ(dma_log[0].len, 10);
	CHECK(dma_log[1].host == gp(DATA_GPA + 0x300, 1));
	CHECK_EQ(dma_log[1].len, 15);
	CHECK_EQ(used_elem(0)[1], 25);

	/* A device claiming more than the chain holds is clamped. */
	dma_count = 0;
	set_desc(0, DATA_GPA + 0x400, 8, F_WRITE, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	virtq_push(&q, &elem, 1000);
	CHECK_EQ(*used16(2), 2);
	CHECK_EQ(used_elem(1)[0], 0);
	CHECK_EQ(used_elem(1)[1], 8);
	CHECK_EQ(dma_count, 1);
	CHECK_EQ(dma_log[0].len, 8);

	/* Ring slots wrap with the 16-bit indexes. */
	q.last_avail = q.used_idx = 0xffff;
	*avail16(1) = 0xffff;
	*used16(2) = 0xffff;
	offer(0);
	CHECK_EQ(*avail16(1), 0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(q.last_avail, 0);
	virtq_push(&q, &elem, 0);
	CHECK_EQ(*used16(2), 0);
	CHECK_EQ(used_elem(7)[0], 0);
}

static void test_indirect(void)
{
	setup();
	q.indirect = true;
	write_desc(INDIRECT_GPA, 0, DATA_GPA, 12, F_NEXT, 2);
	write_desc(INDIRECT_GPA, 1, 0, 0, 0, 0); /* unused slot */
	write_desc(INDIRECT_GPA, 2, DATA_GPA + 0x100, 30, F_NEXT | F_WRITE, 3);
	write_desc(INDIRECT_GPA, 3, HIGH_BASE, 40, F_WRITE, 0);
	/* The flag WRITE on the indirect descriptor itself is ignored. */
	set_desc(2, INDIRECT_GPA, 4 * 16, F_INDIRECT | F_WRITE, 0);
	offer(2);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.head, 2);
	CHECK_EQ(elem.nout, 1);
	CHECK_EQ(elem.nin, 2);
	CHECK_EQ(elem.out_len, 12);
	CHECK_EQ(elem.in_len, 70);
	CHECK(elem.iov[0].iov_base == gp(DATA_GPA, 1));
	CHECK(elem.iov[2].iov_base == gp(HIGH_BASE, 1));

	/* A direct prefix followed by an indirect table. */
	set_desc(0, DATA_GPA + 0x800, 4, F_NEXT, 1);
	set_desc(1, INDIRECT_GPA, 4 * 16, F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.nout, 2);
	CHECK_EQ(elem.nin, 2);
	CHECK_EQ(elem.out_len, 16);

	/* The longest chain allowed: VIRTQ_MAX_CHAIN one-byte buffers. */
	for (unsigned i = 0; i < VIRTQ_MAX_CHAIN; i++)
		write_desc(INDIRECT_GPA, i, DATA_GPA + i, 1,
			   i + 1 < VIRTQ_MAX_CHAIN ? F_NEXT : 0, (uint16_t)(i + 1));
	set_desc(0, INDIRECT_GPA, VIRTQ_MAX_CHAIN * 16, F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.nout, VIRTQ_MAX_CHAIN);
	CHECK_EQ(elem.out_len, VIRTQ_MAX_CHAIN);
	CHECK(elem.iov[VIRTQ_MAX_CHAIN - 1].iov_base == gp(DATA_GPA + VIRTQ_MAX_CHAIN - 1, 1));

	/* One more buffer in a direct prefix makes it too long. */
	set_desc(3, DATA_GPA, 1, F_NEXT, 0);
	offer(3);
	CHECK_REFUSED();
}

static void test_hostile_chains(void)
{
	/* Loop: 0 -> 1 -> 0. */
	setup();
	set_desc(0, DATA_GPA, 8, F_NEXT, 1);
	set_desc(1, DATA_GPA, 8, F_NEXT, 0);
	offer(0);
	CHECK_REFUSED();

	/* Self loop. */
	setup();
	set_desc(4, DATA_GPA, 8, F_NEXT | F_WRITE, 4);
	offer(4);
	CHECK_REFUSED();

	/* Chain through every descriptor and back: longer than size. */
	setup();
	for (unsigned i = 0; i < QSIZE; i++)
		set_desc(i, DATA_GPA, 0, F_NEXT, (uint16_t)((i + 1) % QSIZE));
	offer(0);
	CHECK_REFUSED();

	/* Head index >= size. */
	setup();
	set_desc(0, DATA_GPA, 8, 0, 0);
	offer(QSIZE);
	CHECK_REFUSED();
	setup();
	offer(0xffff);
	CHECK_REFUSED();

	/* Next index >= size. */
	setup();
	set_desc(0, DATA_GPA, 8, F_NEXT, QSIZE);
	offer(0);
	CHECK_REFUSED();

	/* Readable after writable. */
	setup();
	set_desc(0, DATA_GPA, 8, F_WRITE | F_NEXT, 1);
	set_desc(1, DATA_GPA, 8, 0, 0);
	offer(0);
	CHECK_REFUSED();

	/* The avail index ran more than size entries ahead. */
	setup();
	set_desc(0, DATA_GPA, 8, 0, 0);
	*avail16(1) = QSIZE + 1;
	CHECK_REFUSED();
	/* Exactly size ahead is fine. */
	*avail16(1) = QSIZE;
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	/* ... and so is the same distance across the 16-bit wrap. */
	setup();
	set_desc(0, DATA_GPA, 8, 0, 0);
	q.last_avail = 0xfffc;
	*avail16(1) = 4;
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	q.last_avail = 0xfffb;
	CHECK_REFUSED();
}

/* One buffer descriptor at (addr, len) must be refused. */
static void check_bad_buffer(uint64_t addr, uint32_t len, uint16_t flags)
{
	setup();
	set_desc(0, DATA_GPA, 4, F_NEXT, 1);
	set_desc(1, addr, len, flags, 0);
	offer(0);
	CHECK_REFUSED();
}

static void test_hostile_buffers(void)
{
	check_bad_buffer(32 * MIB, 16, 0);                       /* beyond RAM */
	check_bad_buffer(0xe0000000ULL, 16, F_WRITE);            /* PCI hole */
	check_bad_buffer(LOW_END, 1, 0);                         /* hole, first byte */
	check_bad_buffer(LOW_END - 8, 16, F_WRITE);              /* crosses into the hole */
	check_bad_buffer(HIGH_BASE - 8, 16, 0);                  /* crosses out of it */
	check_bad_buffer(HIGH_END - 8, 16, F_WRITE);             /* crosses the end of RAM */
	check_bad_buffer(HIGH_END, 1, 0);
	check_bad_buffer(0xfffffffffffffff0ULL, 0x20, F_WRITE);  /* addr + len wraps */
	check_bad_buffer(0xffffffffffffffffULL, 1, 0);
	check_bad_buffer(0, 0xffffffffu, F_WRITE);               /* longer than RAM */

	/* Buffers ending exactly at the end of each region are fine. */
	setup();
	set_desc(0, LOW_END - 16, 16, F_NEXT, 1);
	set_desc(1, HIGH_END - 16, 16, F_WRITE, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.nout, 1);
	CHECK_EQ(elem.nin, 1);

	/* A zero-length buffer is skipped, wherever it claims to be. */
	setup();
	set_desc(0, 0xffffffffffffffffULL, 0, 0, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(elem.nout + elem.nin, 0);
}

static void test_hostile_indirect(void)
{
	/* Not negotiated. */
	setup();
	write_desc(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(0, INDIRECT_GPA, 16, F_INDIRECT, 0);
	offer(0);
	CHECK_REFUSED();

	/* Nested. */
	setup();
	q.indirect = true;
	write_desc(INDIRECT_GPA, 0, DATA_GPA, 8, F_NEXT, 1);
	write_desc(INDIRECT_GPA, 1, INDIRECT_GPA + 0x100, 16, F_INDIRECT, 0);
	write_desc(INDIRECT_GPA + 0x100, 0, DATA_GPA, 8, 0, 0);
	set_desc(0, INDIRECT_GPA, 32, F_INDIRECT, 0);
	offer(0);
	CHECK_REFUSED();

	/* Bad table lengths and places. */
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ INDIRECT_GPA, 0 },
		{ INDIRECT_GPA, 8 },
		{ INDIRECT_GPA, 24 },
		{ INDIRECT_GPA, (VIRTQ_MAX_CHAIN + 1) * 16 },
		{ 0xe0000000ULL, 16 },
		{ LOW_END - 16, 32 },
		{ HIGH_END, 16 },
		{ 0xfffffffffffffff0ULL, 32 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		q.indirect = true;
		write_desc(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
		set_desc(0, bad[i].addr, bad[i].len, F_INDIRECT, 0);
		offer(0);
		CHECK_REFUSED();
	}

	/* INDIRECT together with NEXT. */
	setup();
	q.indirect = true;
	write_desc(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(0, INDIRECT_GPA, 16, F_INDIRECT | F_NEXT, 1);
	set_desc(1, DATA_GPA, 8, 0, 0);
	offer(0);
	CHECK_REFUSED();

	/* A next index outside the table (though inside the ring's size). */
	setup();
	q.indirect = true;
	write_desc(INDIRECT_GPA, 0, DATA_GPA, 8, F_NEXT, 2);
	write_desc(INDIRECT_GPA, 2, DATA_GPA, 8, 0, 0); /* past the table's end */
	set_desc(0, INDIRECT_GPA, 32, F_INDIRECT, 0);
	offer(0);
	CHECK_REFUSED();

	/* A loop inside the table. */
	setup();
	q.indirect = true;
	write_desc(INDIRECT_GPA, 0, DATA_GPA, 8, F_NEXT, 1);
	write_desc(INDIRECT_GPA, 1, DATA_GPA, 8, F_NEXT, 0);
	set_desc(0, INDIRECT_GPA, 32, F_INDIRECT, 0);
	offer(0);
	CHECK_REFUSED();

	/* Readable after writable across the direct/indirect boundary. */
	setup();
	q.indirect = true;
	write_desc(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(0, DATA_GPA, 8, F_WRITE | F_NEXT, 1);
	set_desc(1, INDIRECT_GPA, 16, F_INDIRECT, 0);
	offer(0);
	CHECK_REFUSED();
}

static void test_ring_validity(void)
{
	setup();
	CHECK(virtq_valid(&q));

	static const uint16_t bad_sizes[] = { 0, 3, 6, 2048, 0xffff };
	for (unsigned i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		setup();
		q.size = bad_sizes[i];
		CHECK(!virtq_valid(&q));
	}
	/* Larger than the transport offered. */
	setup();
	q.max_size = 4;
	CHECK(!virtq_valid(&q));
	q.size = 4;
	CHECK(virtq_valid(&q));
	virtq_reset(&q);
	CHECK_EQ(q.size, 4);
	CHECK(!q.ready);

	/* Misaligned areas. */
	setup();
	q.desc_addr = DESC_GPA + 8;
	CHECK(!virtq_valid(&q));
	setup();
	q.avail_addr = AVAIL_GPA + 1;
	CHECK(!virtq_valid(&q));
	setup();
	q.used_addr = USED_GPA + 2;
	CHECK(!virtq_valid(&q));
	/* Minimum alignments are enough. */
	setup();
	q.desc_addr = DESC_GPA + 16;
	q.avail_addr = AVAIL_GPA + 2;
	q.used_addr = USED_GPA + 4;
	CHECK(virtq_valid(&q));

	/* Outside RAM, in the hole, crossing its edges. */
	setup();
	q.desc_addr = 0xe0000000ULL;
	CHECK(!virtq_valid(&q));
	setup();
	q.desc_addr = LOW_END - 16 * QSIZE + 16;
	CHECK(!virtq_valid(&q));
	setup();
	q.desc_addr = LOW_END - 16 * QSIZE; /* ends exactly at the hole */
	CHECK(virtq_valid(&q));
	setup();
	q.used_addr = HIGH_END;
	CHECK(!virtq_valid(&q));
	/* The event fields count: a ring whose used_event / avail_event
	 * would cross the end of RAM is refused. */
	setup();
	q.avail_addr = LOW_END - (4 + 2 * QSIZE);
	CHECK(!virtq_valid(&q));
	q.avail_addr = LOW_END - (6 + 2 * QSIZE);
	CHECK(virtq_valid(&q));
	setup();
	q.used_addr = HIGH_END - (4 + 8 * QSIZE);
	CHECK(!virtq_valid(&q));
	q.used_addr = HIGH_END - (8 + 8 * QSIZE); /* 4-aligned and room for avail_event */
	CHECK(virtq_valid(&q));

	/* A queue made ready without valid rings cannot be used. */
	setup();
	q.used_addr = 0xe0000000ULL;
	set_desc(0, DATA_GPA, 8, 0, 0);
	offer(0);
	CHECK(!virtq_has_work(&q));
	CHECK_REFUSED();

	/* Not ready: nothing to do. */
	setup();
	set_desc(0, DATA_GPA, 8, 0, 0);
	offer(0);
	q.ready = false;
	CHECK(!virtq_has_work(&q));
	CHECK_EQ(virtq_pop(&q, &elem), 0);
}

static void test_flags_notification(void)
{
	setup();
	/* Driver flags: NO_INTERRUPT suppresses interrupts. */
	CHECK(virtq_should_notify(&q));
	*avail16(0) = 1;
	CHECK(!virtq_should_notify(&q));
	*avail16(0) = 0;
	CHECK(virtq_should_notify(&q));

	/* Device flags: NO_NOTIFY. */
	virtq_set_notification(&q, false);
	CHECK_EQ(*used16(0), 1);
	virtq_set_notification(&q, true);
	CHECK_EQ(*used16(0), 0);
}

/* used_event set by the driver; now/old the device's used_idx history. */
static bool event_decision(uint16_t used_event, uint16_t old, uint16_t now)
{
	q.signalled_used = old;
	q.signalled_valid = true;
	q.used_idx = now;
	*avail16(2 + QSIZE) = used_event;
	bool r = virtq_should_notify(&q);
	CHECK_EQ(q.signalled_used, now);
	return r;
}

static void test_event_idx(void)
{
	setup();
	q.event_idx = true;
	/* NO_INTERRUPT means nothing once event idx is negotiated. */
	*avail16(0) = 1;

	/* Nothing signalled yet: always notify, then track. */
	q.used_idx = 5;
	*avail16(2 + QSIZE) = 100;
	CHECK(virtq_should_notify(&q));
	CHECK(q.signalled_valid);
	CHECK_EQ(q.signalled_used, 5);

	/* Notify iff used_event in [old, now). */
	CHECK(event_decision(5, 5, 6));
	CHECK(!event_decision(6, 5, 6));
	CHECK(!event_decision(4, 5, 6));
	CHECK(event_decision(7, 5, 10));
	CHECK(event_decision(9, 5, 10));
	CHECK(!event_decision(10, 5, 10));
	CHECK(!event_decision(3, 3, 3)); /* nothing pushed since */
	/* Across the 16-bit wrap. */
	CHECK(event_decision(0xffff, 0xfffe, 0x0001));
	CHECK(event_decision(0x0000, 0xfffe, 0x0001));
	CHECK(event_decision(0xfffe, 0xfffe, 0x0001));
	CHECK(!event_decision(0x0001, 0xfffe, 0x0001));
	CHECK(!event_decision(0xfffd, 0xfffe, 0x0001));
	CHECK(!event_decision(0x8000, 0xfffe, 0x0001));

	/* Through push: one interrupt per used_event crossing. */
	setup();
	q.event_idx = true;
	q.used_idx = q.signalled_used = 0xfffe;
	q.signalled_valid = true;
	*used16(2) = 0xfffe;
	*avail16(2 + QSIZE) = 0xffff; /* interrupt after the 2nd element */
	elem.head = 0;
	elem.nout = elem.nin = 0;
	elem.in_len = elem.out_len = 0;
	virtq_push(&q, &elem, 0);
	CHECK(!virtq_should_notify(&q));
	virtq_push(&q, &elem, 0);
	CHECK_EQ(*used16(2), 0);
	CHECK(virtq_should_notify(&q));
	virtq_push(&q, &elem, 0);
	CHECK(!virtq_should_notify(&q));
}

static uint16_t avail_event(void)
{
	return *used16(4 + 8 * QSIZE);
}

static void test_avail_event(void)
{
	setup();
	q.event_idx = true;
	for (unsigned i = 0; i < 3; i++)
		set_desc(i, DATA_GPA, 8, 0, 0);

	/* Enabling asks for a kick at the next entry; used->flags stays 0. */
	virtq_set_notification(&q, true);
	CHECK_EQ(avail_event(), 0);
	CHECK_EQ(*used16(0), 0);

	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(avail_event(), 1);

	/* While off, pops leave avail_event behind. */
	virtq_set_notification(&q, false);
	CHECK_EQ(*used16(0), 0);
	offer(1);
	offer(2);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(avail_event(), 1);
	virtq_set_notification(&q, true);
	CHECK_EQ(avail_event(), 3);

	/* Across the wrap. */
	q.last_avail = 0xffff;
	*avail16(1) = 0xffff;
	offer(0);
	CHECK_EQ(virtq_pop(&q, &elem), 1);
	CHECK_EQ(avail_event(), 0);

	/* A refused entry does not move it either. */
	set_desc(1, DATA_GPA, 8, F_NEXT, 1);
	offer(1);
	CHECK_REFUSED();
	CHECK_EQ(avail_event(), 0);
}

static void test_iov_copy(void)
{
	uint8_t a[3], b[5], c[4];
	struct iovec iov[3] = { { a, 3 }, { b, 5 }, { c, 4 } };
	uint8_t src[12], dst[12];
	for (unsigned i = 0; i < 12; i++)
		src[i] = (uint8_t)(i + 1);

	CHECK_EQ(iov_from_buf(iov, 3, 0, src, 12), 12);
	CHECK_EQ(a[0], 1);
	CHECK_EQ(b[0], 4);
	CHECK_EQ(c[3], 12);
	memset(dst, 0, sizeof(dst));
	CHECK_EQ(iov_to_buf(iov, 3, 2, dst, 5), 5);
	CHECK(!memcmp(dst, src + 2, 5));
	/* Short at the end, nothing past it. */
	CHECK_EQ(iov_to_buf(iov, 3, 10, dst, 12), 2);
	CHECK_EQ(dst[0], 11);
	CHECK_EQ(iov_to_buf(iov, 3, 12, dst, 4), 0);
	CHECK_EQ(iov_to_buf(iov, 3, 100, dst, 4), 0);
	CHECK_EQ(iov_from_buf(iov, 3, 7, "xyz", 3), 3);
	CHECK_EQ(b[4], 'x');
	CHECK_EQ(c[0], 'y');
	CHECK_EQ(c[1], 'z');
	CHECK_EQ(a[2], 3);
	CHECK_EQ(iov_from_buf(iov, 0, 0, src, 4), 0);
}

int main(void)
{
	if (guest_mem_init(&mem, 16 * MIB, LOW_END)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	test_out_only();
	test_in_only();
	test_mixed();
	test_indirect();
	test_hostile_chains();
	test_hostile_buffers();
	test_hostile_indirect();
	test_ring_validity();
	test_flags_notification();
	test_event_idx();
	test_avail_event();
	test_iov_copy();
	guest_mem_destroy(&mem);
	return test_exit();
}
