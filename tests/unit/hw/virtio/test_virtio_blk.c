/*
 * virtio-blk driven straight through its virtio_device, with a stand-in
 * transport that counts interrupts and a driver-side ring in guest RAM:
 * features and config space, IN/OUT round trips on a temporary image,
 * FLUSH, GET_ID, DISCARD and WRITE_ZEROES, refusals (out-of-range and
 * overflowing sectors, partial sectors, unknown types and flags, writes to
 * a read-only image), malformed chains (NEEDS_RESET), a batch of requests
 * per kick, reset with requests in flight, and image locking. Completions
 * are collected by running the VM's event loop. Everything runs once per
 * I/O engine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/block.h"
#include "core/vm.h"
#include "driver_ring.h"
#include "hw/virtio/virtio_blk.h"
#include "test.h"
#include "../../block/tmpimg.h"

#define RING 0x100000
#define HDR 0x200000   /* request headers, 16 bytes apart */
#define DATA 0x300000  /* data buffers */
#define STAT 0x800000  /* status bytes, one per request */
#define SECTORS 2048   /* a 1 MiB image */
#define STATUS_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

static struct vm vm;
static int queue_irqs, config_irqs;

static void fake_notify_queue(struct virtio_device *vd, unsigned q)
{
	(void)vd;
	CHECK_EQ(q, 0);
	queue_irqs++;
}

static void fake_notify_config(struct virtio_device *vd)
{
	(void)vd;
	config_irqs++;
}

static const struct virtio_transport_ops fake_transport = {
	.notify_queue = fake_notify_queue,
	.notify_config = fake_notify_config,
};

static void bring_up(struct virtio_device *vd, struct dring *r, uint16_t size)
{
	virtio_set_status(vd, 0);
	dring_init(r, &vm.mem, RING, size);
	vd->driver_features = vd->device_features;
	virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				      VIRTIO_STATUS_FEATURES_OK);
	dring_attach(r, &vd->vq[0]);
	virtio_set_status(vd, STATUS_OK);
}

/* Lays out request slot i: header at HDR + 16 i, status at STAT + i. */
static void put_header(unsigned i, uint32_t type, uint64_t sector)
{
	uint8_t h[16] = { 0 };
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	guest_write(&vm.mem, HDR + 16ULL * i, h, 16);
	uint8_t poison = 0xee;
	guest_write(&vm.mem, STAT + i, &poison, 1);
}

/* Posts header, an optional data buffer, status; returns the head. */
static uint16_t post(struct dring *r, unsigned i, uint32_t type, uint64_t sector, uint64_t data,
		     uint32_t len, bool data_writable)
{
	put_header(i, type, sector);
	struct dbuf b[3] = { { HDR + 16ULL * i, 16, false } };
	int n = 1;
	if (len)
		b[n++] = (struct dbuf){ data, len, data_writable };
	b[n++] = (struct dbuf){ STAT + i, 1, true };
	return dring_post(r, b, n);
}

/* Runs the event loop until the device returns a chain. */
static bool wait_used(struct dring *r, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 1000; i++) {
		if (dring_used(r, id, len))
			return true;
		event_loop_poll(&vm.loop, 10);
	}
	return false;
}

static uint8_t status_of(unsigned i)
{
	uint8_t s = 0;
	guest_read(&vm.mem, STAT + i, &s, 1);
	return s;
}

/* One request, start to finish; returns its status byte (0xee: none). */
static uint8_t do_req(struct virtio_device *vd, struct dring *r, uint32_t type, uint64_t sector,
		      uint64_t data, uint32_t len, bool data_writable, uint32_t *used_len)
{
	uint16_t head = post(r, 0, type, sector, data, len, data_writable);
	vd->ops->queue_notify(vd, 0);
	uint32_t id = 0xffff, l = 0;
	CHECK(wait_used(r, &id, &l));
	CHECK_EQ(id, head);
	if (used_len)
		*used_len = l;
	return status_of(0);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void post_segment(uint64_t gpa, uint64_t sector, uint32_t num, uint32_t flags)
{
	uint8_t s[16];
	memcpy(s, &sector, 8);
	memcpy(s + 8, &num, 4);
	memcpy(s + 12, &flags, 4);
	guest_write(&vm.mem, gpa, s, 16);
}

static void test_config(struct virtio_device *vd)
{
	CHECK_EQ(vd->ops->device_id, VIRTIO_ID_BLOCK);
	CHECK_EQ(vd->num_queues, 1);
	uint64_t f = vd->device_features;
	CHECK(f & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	CHECK(f & (1ULL << VIRTIO_BLK_F_BLK_SIZE));
	CHECK(f & (1ULL << VIRTIO_BLK_F_FLUSH));
	CHECK(f & (1ULL << VIRTIO_BLK_F_DISCARD));
	CHECK(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK(!(f & (1ULL << VIRTIO_BLK_F_RO)));
	CHECK_EQ(vd->ops->config_size, 60);

	struct virtio_blk_config c;
	vd->ops->config_read(vd, 0, &c, sizeof(c));
	CHECK_EQ(c.capacity, SECTORS);
	CHECK_EQ(c.blk_size, 512);
	CHECK(c.seg_max >= 1 && c.seg_max <= 254);
	CHECK(c.max_discard_sectors > 0);
	CHECK_EQ(c.max_discard_seg, 1);
	CHECK(c.max_write_zeroes_sectors > 0);
	CHECK_EQ(c.max_write_zeroes_seg, 1);
	CHECK_EQ(c.write_zeroes_may_unmap, 1);
	/* A narrow read at an offset, as a driver does field by field. */
	uint32_t v = 0;
	vd->ops->config_read(vd, 20, &v, 4);
	CHECK_EQ(v, 512);
}

static void test_rw(struct virtio_device *vd, struct dring *r, const char *path)
{
	uint8_t *data = guest_ptr(&vm.mem, DATA, 1 << 20);
	uint32_t len;

	/* OUT then IN of two sectors, then the file itself. */
	for (int i = 0; i < 1024; i++)
		data[i] = (uint8_t)(i ^ 0x3c);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_OUT, 8, DATA, 1024, false, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 1);
	memset(data, 0, 1024);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, 8, DATA, 1024, true, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 1025);
	bool ok = true;
	for (int i = 0; i < 1024; i++)
		ok &= data[i] == (uint8_t)(i ^ 0x3c);
	CHECK(ok);
	int fd = open(path, O_RDONLY);
	uint8_t f[1024];
	CHECK_EQ(pread(fd, f, sizeof(f), 8 * 512), 1024);
	close(fd);
	CHECK(!memcmp(f, data, 1024));

	/* The unwritten image reads as created; the last sector is reachable. */
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, SECTORS - 1, DATA, 512, true, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(data[5], tmpimg_byte((SECTORS - 1) * 512ULL + 5));

	/* A read whose data is split over three descriptors, one ending the
	 * chain together with the status byte. */
	put_header(0, VIRTIO_BLK_T_IN, 0);
	struct dbuf chain[] = {
		{ HDR, 16, false }, { DATA, 100, true }, { DATA + 4096, 312, true },
		{ DATA + 8192, 101, true },
	};
	memset(data + 8192, 0xee, 101);
	uint16_t head = dring_post(r, chain, 4);
	vd->ops->queue_notify(vd, 0);
	uint32_t id;
	CHECK(wait_used(r, &id, &len));
	CHECK_EQ(id, head);
	CHECK_EQ(len, 513);
	CHECK_EQ(data[8192 + 100], VIRTIO_BLK_S_OK);
	CHECK_EQ(data[0], tmpimg_byte(0));
	CHECK_EQ(data[4096 + 311], tmpimg_byte(411));
	CHECK_EQ(data[8192 + 99], tmpimg_byte(511));

	/* A zero-length read is fine. */
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, 0, 0, 0, true, NULL), VIRTIO_BLK_S_OK);
}

/*
 * With indirect descriptors negotiated seg_max grows past the ring: a read
 * of nseg 512-byte segments in one indirect table (header, data, status).
 */
#define ITABLE 0xa00000
static uint8_t indirect_read(struct virtio_device *vd, struct dring *r, unsigned nseg)
{
	put_header(0, VIRTIO_BLK_T_IN, 0);
	unsigned n = nseg + 2;
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = i == 0 ? HDR : i == n - 1 ? STAT : DATA + 512ULL * (i - 1);
		uint32_t len = i == 0 ? 16 : i == n - 1 ? 1 : 512;
		uint16_t flags = (uint16_t)((i + 1 < n ? 1 : 0) | (i ? 2 : 0));
		uint16_t next = (uint16_t)(i + 1);
		uint8_t d[16];
		memcpy(d, &gpa, 8);
		memcpy(d + 8, &len, 4);
		memcpy(d + 12, &flags, 2);
		memcpy(d + 14, &next, 2);
		guest_write(&vm.mem, ITABLE + 16ULL * i, d, 16);
	}
	/* dring_post writes flags 0 for a lone readable buffer; make it
	 * INDIRECT before the driver publishes it. */
	uint16_t head = r->next_desc;
	uint32_t tlen = 16 * n;
	uint64_t table = ITABLE;
	uint16_t iflag = 4;
	uint8_t d[16] = { 0 };
	memcpy(d, &table, 8);
	memcpy(d + 8, &tlen, 4);
	memcpy(d + 12, &iflag, 2);
	guest_write(&vm.mem, r->desc + 16ULL * head, d, 16);
	r->next_desc = (uint16_t)((r->next_desc + 1) % r->size);
	guest_write(&vm.mem, r->avail + 4 + 2ULL * (r->avail_idx % r->size), &head, 2);
	r->avail_idx++;
	guest_write(&vm.mem, r->avail + 2, &r->avail_idx, 2);
	vd->ops->queue_notify(vd, 0);
	uint32_t id, len;
	CHECK(wait_used(r, &id, &len));
	CHECK_EQ(id, head);
	return status_of(0);
}

static void test_many_segments(struct virtio_device *vd, struct dring *r)
{
	struct virtio_blk_config c;
	vd->ops->config_read(vd, 0, &c, sizeof(c));
	CHECK(vd->driver_features & (1ULL << VIRTIO_F_RING_INDIRECT_DESC));
	CHECK(c.seg_max > 256);
	CHECK(c.seg_max + 2 <= VIRTQ_MAX_CHAIN);

	uint8_t *data = guest_ptr(&vm.mem, DATA, 1 << 20);
	memset(data, 0xee, 512ULL * c.seg_max);
	CHECK_EQ(indirect_read(vd, r, c.seg_max), VIRTIO_BLK_S_OK);
	CHECK_EQ(data[0], tmpimg_byte(0));
	CHECK_EQ(data[512ULL * c.seg_max - 1], tmpimg_byte(512ULL * c.seg_max - 1));
	/* One more than offered is refused, not half done. */
	CHECK_EQ(indirect_read(vd, r, c.seg_max + 1), VIRTIO_BLK_S_IOERR);
}

static void test_other_types(struct virtio_device *vd, struct dring *r)
{
	uint8_t *data = guest_ptr(&vm.mem, DATA, 1 << 20);
	uint32_t len;

	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &len), VIRTIO_BLK_S_OK);

	memset(data, 0xff, 32);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, true, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 21);
	CHECK(!memcmp(data, "test-serial\0\0\0\0\0\0\0\0\0", 20));

	/* Discard 8 sectors at 64: zeroes (unless the host cannot punch). */
	post_segment(DATA + 4096, 64, 8, 0);
	uint8_t s = do_req(vd, r, VIRTIO_BLK_T_DISCARD, 0, DATA + 4096, 16, false, NULL);
	CHECK(s == VIRTIO_BLK_S_OK || s == VIRTIO_BLK_S_UNSUPP);
	if (s == VIRTIO_BLK_S_OK) {
		CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, 64, DATA, 4608, true, NULL),
			 VIRTIO_BLK_S_OK);
		CHECK(all_bytes(data, 4096, 0));
		CHECK_EQ(data[4096], tmpimg_byte(72 * 512));
	}
	/* Discard must not carry the unmap flag; unknown flags are refused. */
	post_segment(DATA + 4096, 64, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_DISCARD, 0, DATA + 4096, 16, false, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	post_segment(DATA + 4096, 64, 8, 0x80);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA + 4096, 16, false, NULL),
		 VIRTIO_BLK_S_UNSUPP);

	/* Write zeroes, with and without unmap. */
	for (uint32_t unmap = 0; unmap < 2; unmap++) {
		uint64_t sector = 128 + 16 * unmap;
		post_segment(DATA + 4096, sector, 3, unmap);
		CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA + 4096, 16, false, NULL),
			 VIRTIO_BLK_S_OK);
		CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, sector, DATA, 2048, true, NULL),
			 VIRTIO_BLK_S_OK);
		CHECK(all_bytes(data, 1536, 0));
		CHECK_EQ(data[1536], tmpimg_byte((sector + 3) * 512));
	}
	/* Past the end, or two segments when one is offered: IOERR. */
	post_segment(DATA + 4096, SECTORS - 2, 3, 0);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA + 4096, 16, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	post_segment(DATA + 4096, 0, 1, 0);
	post_segment(DATA + 4096 + 16, 8, 1, 0);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_DISCARD, 0, DATA + 4096, 32, false, NULL),
		 VIRTIO_BLK_S_IOERR);

	/* Types we do not implement. */
	CHECK_EQ(do_req(vd, r, 99, 0, DATA, 512, true, NULL), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_GET_LIFETIME, 0, DATA, 16, true, NULL),
		 VIRTIO_BLK_S_UNSUPP);
}

static void test_refusals(struct virtio_device *vd, struct dring *r)
{
	/* Out of range, by a sector or by wrapping around 2^64. */
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, SECTORS - 1, DATA, 1024, true, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, SECTORS, DATA, 512, true, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_OUT, ~0ULL, DATA, 512, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, ~0ULL >> 9, DATA, 1024, true, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* Not whole sectors. */
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_IN, 0, DATA, 100, true, NULL), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_OUT, 0, DATA, 513, false, NULL), VIRTIO_BLK_S_IOERR);
	CHECK(!(vd->status & VIRTIO_STATUS_NEEDS_RESET));
}

static void test_batch(struct virtio_device *vd, struct dring *r, const char *path)
{
	uint8_t *data = guest_ptr(&vm.mem, DATA, 1 << 20);
	enum { N = 40 };
	memset(data, 0, N * 4096);
	for (unsigned i = 0; i < N; i++)
		post(r, i, VIRTIO_BLK_T_IN, i * 8, DATA + i * 4096ULL, 4096, true);
	queue_irqs = 0;
	vd->ops->queue_notify(vd, 0);
	int done = 0;
	uint32_t len;
	while (done < N && wait_used(r, NULL, &len)) {
		CHECK_EQ(len, 4097);
		done++;
	}
	CHECK_EQ(done, N);
	bool ok = true;
	for (unsigned i = 0; i < N; i++)
		ok &= status_of(i) == VIRTIO_BLK_S_OK;
	CHECK(ok);
	static uint8_t file[N * 4096];
	int fd = open(path, O_RDONLY);
	CHECK_EQ(pread(fd, file, sizeof(file), 0), sizeof(file));
	close(fd);
	CHECK(!memcmp(file, data, sizeof(file)));
	/* One kick, few interrupts: completions are signalled per batch. */
	CHECK(queue_irqs >= 1 && queue_irqs < N);
}

static void test_malformed(struct virtio_device *vd, struct dring *r)
{
	/* A header of 8 bytes: no way to tell what was asked. */
	put_header(0, VIRTIO_BLK_T_IN, 0);
	struct dbuf shorthdr[] = { { HDR, 8, false }, { DATA, 512, true }, { STAT, 1, true } };
	config_irqs = 0;
	dring_post(r, shorthdr, 3);
	vd->ops->queue_notify(vd, 0);
	event_loop_poll(&vm.loop, 0);
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(config_irqs, 1);
	CHECK(!dring_used(r, NULL, NULL));
	/* The queue stays dead until reset. */
	post(r, 1, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	vd->ops->queue_notify(vd, 0);
	event_loop_poll(&vm.loop, 10);
	CHECK(!dring_used(r, NULL, NULL));

	bring_up(vd, r, 128);
	CHECK(!(vd->status & VIRTIO_STATUS_NEEDS_RESET));
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), VIRTIO_BLK_S_OK);

	/* No writable byte at all: nowhere to put the status. */
	put_header(0, VIRTIO_BLK_T_OUT, 0);
	struct dbuf nostatus[] = { { HDR, 16, false }, { DATA, 512, false }, { STAT, 1, false } };
	dring_post(r, nostatus, 3);
	vd->ops->queue_notify(vd, 0);
	event_loop_poll(&vm.loop, 0);
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!dring_used(r, NULL, NULL));
	bring_up(vd, r, 128);

	/* A descriptor outside guest RAM: the ring itself is broken. */
	put_header(0, VIRTIO_BLK_T_IN, 0);
	struct dbuf wild[] = { { HDR, 16, false }, { 0x7fff00000000ULL, 512, true }, { STAT, 1, true } };
	dring_post(r, wild, 3);
	vd->ops->queue_notify(vd, 0);
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);
	bring_up(vd, r, 128);
}

static void test_reset_inflight(struct virtio_device *vd, struct dring *r)
{
	enum { N = 32 };
	for (unsigned i = 0; i < N; i++)
		post(r, i, i % 4 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH, 256 + i * 8,
		     DATA + i * 4096ULL, i % 4 ? 4096 : 0, false);
	vd->ops->queue_notify(vd, 0);
	/* Reset returns with nothing in flight... */
	virtio_set_status(vd, 0);
	uint16_t used_idx;
	guest_read(&vm.mem, RING + 0x3000 + 2, &used_idx, 2);
	/* ...so nothing touches the old rings afterwards. */
	uint8_t snapshot[0x1000];
	guest_read(&vm.mem, RING + 0x3000, snapshot, sizeof(snapshot));
	for (int i = 0; i < 20; i++)
		event_loop_poll(&vm.loop, 5);
	uint8_t now[0x1000];
	guest_read(&vm.mem, RING + 0x3000, now, sizeof(now));
	CHECK(!memcmp(snapshot, now, sizeof(now)));
	CHECK(used_idx <= N);
	bring_up(vd, r, 128);
	CHECK_EQ(do_req(vd, r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
}

static void test_readonly(const char *path)
{
	struct error e = { { 0 } };
	struct drive_config drive = { .path = path, .readonly = true };
	struct virtio_device *vd = virtio_blk_create(&vm, &drive, NULL, &e);
	CHECK(vd != NULL);
	if (!vd)
		return;
	vd->transport = &fake_transport;
	CHECK(vd->device_features & (1ULL << VIRTIO_BLK_F_RO));
	CHECK(!(vd->device_features & (1ULL << VIRTIO_BLK_F_DISCARD)));

	/* A second read-only user may share the image; a writer may not. */
	struct virtio_device *vd2 = virtio_blk_create(&vm, &drive, NULL, &e);
	CHECK(vd2 != NULL);
	virtio_blk_destroy(vd2);
	struct drive_config rw = { .path = path };
	CHECK(virtio_blk_create(&vm, &rw, NULL, &e) == NULL);

	struct dring r;
	bring_up(vd, &r, 128);
	uint8_t *data = guest_ptr(&vm.mem, DATA, 4096);
	CHECK_EQ(do_req(vd, &r, VIRTIO_BLK_T_IN, 0, DATA, 512, true, NULL), VIRTIO_BLK_S_OK);
	CHECK_EQ(data[3], tmpimg_byte(3));
	CHECK_EQ(do_req(vd, &r, VIRTIO_BLK_T_OUT, 0, DATA, 512, false, NULL), VIRTIO_BLK_S_IOERR);
	post_segment(DATA + 1024, 0, 1, 0);
	CHECK_EQ(do_req(vd, &r, VIRTIO_BLK_T_DISCARD, 0, DATA + 1024, 16, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(do_req(vd, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA + 1024, 16, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(do_req(vd, &r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), VIRTIO_BLK_S_OK);

	/* The default id is the file name. */
	const char *base = strrchr(path, '/') + 1;
	memset(data, 0xff, 20);
	CHECK_EQ(do_req(vd, &r, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, true, NULL), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(data, base, strlen(base)));
	CHECK(all_bytes(data + strlen(base), 20 - strlen(base), 0));
	virtio_blk_destroy(vd);
}

static void run(const char *engine, const char *path)
{
	fprintf(stderr, "engine: %s\n", engine);
	setenv("KEMU_BLOCK_AIO", engine, 1);
	struct error e = { { 0 } };
	struct drive_config drive = { .path = path };
	struct virtio_device *vd = virtio_blk_create(&vm, &drive, "test-serial", &e);
	CHECK(vd != NULL);
	if (!vd) {
		fprintf(stderr, "%s\n", e.msg);
		return;
	}
	vd->transport = &fake_transport;

	/* The image is locked while the device lives. */
	char want[256];
	snprintf(want, sizeof(want), "%s: image is locked by another process (another kemu or QEMU?)",
		 path);
	CHECK(virtio_blk_create(&vm, &drive, NULL, &e) == NULL);
	CHECK_STR(e.msg, want);

	test_config(vd);
	struct dring r;
	bring_up(vd, &r, 128);
	test_rw(vd, &r, path);
	test_many_segments(vd, &r);
	test_other_types(vd, &r);
	test_refusals(vd, &r);
	bring_up(vd, &r, 128);
	test_batch(vd, &r, path);
	bring_up(vd, &r, 128);
	test_malformed(vd, &r);
	test_reset_inflight(vd, &r);
	virtio_blk_destroy(vd);

	test_readonly(path);
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(guest_mem_init(&vm.mem, 32 << 20, 0xc0000000ULL), 0);

	struct error e = { { 0 } };
	struct drive_config missing = { .path = "/nonexistent/disk.img" };
	CHECK(virtio_blk_create(&vm, &missing, NULL, &e) == NULL);
	CHECK_STR(e.msg, "-drive /nonexistent/disk.img: No such file or directory");

	const char *engines[] = { "io_uring", "threads" };
	for (int i = 0; i < 2; i++) {
		char path[64];
		CHECK_EQ(tmpimg_create(path, SECTORS * 512), 0);
		run(engines[i], path);
		unlink(path);
	}
	vm_destroy(&vm);
	return test_exit();
}
