/*
 * Split virtqueues (virtio 1.2 section 2.7) over guest RAM.
 *
 * Data enters through virtq_pop(): the driver's avail ring names a chain
 * of descriptors, which is walked, validated and mapped to iovecs that
 * point straight into guest RAM. Data leaves through virtq_push(), which
 * fills a used ring element and publishes used->idx. virtq_should_notify()
 * and virtq_set_notification() implement the two suppression schemes
 * (ring flags, or the event-index fields when VIRTIO_F_EVENT_IDX is on).
 *
 * Everything in the rings is written by guest vCPUs while we read it, and
 * the guest may be hostile. So: every field a decision depends on is read
 * once into a local and only the local is checked and used; idx fields are
 * read and written with __atomic operations of their natural size; ring
 * pointers are re-derived through guest_ptr() on each use, so a queue whose
 * addresses were never validated still cannot reach outside guest RAM.
 */
#include "hw/virtio/virtq.h"

#include <errno.h>
#include <string.h>

/* Ring layouts (virtio 1.2 section 2.7): every field is little-endian,
 * which the host (x86-64) is too. */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

#define VIRTQ_DESC_SIZE 16
#define VIRTQ_USED_ELEM_SIZE 8

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Host views of the three ring areas. */
struct vq_rings {
	uint8_t *desc;
	uint16_t *avail; /* [0] flags, [1] idx, [2 + i] ring[i], [2 + size] used_event */
	uint8_t *used;   /* flags, idx, ring of {u32 id, u32 len}, avail_event */
};

static uint64_t desc_area_size(uint16_t size)
{
	return (uint64_t)VIRTQ_DESC_SIZE * size;
}

static uint64_t avail_area_size(uint16_t size)
{
	return 6 + 2 * (uint64_t)size;
}

static uint64_t used_area_size(uint16_t size)
{
	return 6 + (uint64_t)VIRTQ_USED_ELEM_SIZE * size;
}

/*
 * Maps an area that must be aligned to align in guest-physical and host
 * terms; the host check matters because the idx fields are accessed with
 * atomics, which need natural alignment.
 */
static void *map_area(const struct guest_mem *mem, uint64_t gpa, uint64_t len, unsigned align)
{
	if (gpa & (align - 1))
		return NULL;
	void *p = guest_ptr(mem, gpa, len);
	if (p && ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

static bool size_ok(const struct virtq *q)
{
	uint16_t max = q->max_size ? q->max_size : VIRTQ_MAX_SIZE;
	return q->size && !(q->size & (q->size - 1)) && q->size <= VIRTQ_MAX_SIZE &&
	       q->size <= max;
}

static bool rings_map(const struct virtq *q, struct vq_rings *r)
{
	if (!q->mem || !size_ok(q))
		return false;
	r->desc = map_area(q->mem, q->desc_addr, desc_area_size(q->size), 16);
	r->avail = map_area(q->mem, q->avail_addr, avail_area_size(q->size), 2);
	r->used = map_area(q->mem, q->used_addr, used_area_size(q->size), 4);
	return r->desc && r->avail && r->used;
}

void virtq_init(struct virtq *q, const struct guest_mem *mem)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->max_size = VIRTQ_MAX_SIZE;
	q->size = VIRTQ_MAX_SIZE;
	q->msix_vector = 0xffff;
}

void virtq_reset(struct virtq *q)
{
	q->size = q->max_size ? q->max_size : VIRTQ_MAX_SIZE;
	q->ready = false;
	q->desc_addr = q->avail_addr = q->used_addr = 0;
	q->msix_vector = 0xffff;
	q->event_idx = false;
	q->indirect = false;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->notify_off = false;
}

bool virtq_valid(const struct virtq *q)
{
	struct vq_rings r;
	return rings_map(q, &r);
}

static uint16_t avail_idx_acquire(const struct vq_rings *r)
{
	return __atomic_load_n(&r->avail[1], __ATOMIC_ACQUIRE);
}

static uint16_t *used_idx_ptr(const struct vq_rings *r)
{
	return (uint16_t *)(r->used + 2);
}

static uint16_t *avail_event_ptr(const struct virtq *q, const struct vq_rings *r)
{
	return (uint16_t *)(r->used + 4 + (size_t)VIRTQ_USED_ELEM_SIZE * q->size);
}

/*
 * One read of a descriptor the guest may be rewriting. Indirect tables
 * need not be aligned, hence memcpy; the compiler barrier stops the
 * compiler from re-reading guest memory instead of using the copy.
 */
static void desc_read(const uint8_t *table, uint32_t i, struct vq_desc *d)
{
	const uint8_t *p = table + (size_t)i * VIRTQ_DESC_SIZE;
	memcpy(&d->addr, p, 8);
	memcpy(&d->len, p + 8, 4);
	memcpy(&d->flags, p + 12, 2);
	memcpy(&d->next, p + 14, 2);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Walks the chain starting at head into e; 0 or -EINVAL. */
static int chain_map(const struct virtq *q, const struct vq_rings *r, uint16_t head,
		     struct virtq_elem *e)
{
	const uint8_t *table = r->desc;
	uint32_t table_size = q->size;
	uint32_t idx = head;
	/* Descriptors visited in the current table: more than its size
	 * means the next pointers loop. */
	uint32_t visited = 0;
	unsigned buffers = 0;
	bool indirect = false, seen_write = false;

	e->head = head;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;

	for (;;) {
		struct vq_desc d;

		if (idx >= table_size || ++visited > table_size)
			return -EINVAL;
		desc_read(table, idx, &d);

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* Not negotiated, nested, or chained on: all forbidden
			 * by section 2.7.5.3.1. */
			if (!q->indirect || indirect || (d.flags & VIRTQ_DESC_F_NEXT))
				return -EINVAL;
			if (d.len == 0 || d.len % VIRTQ_DESC_SIZE ||
			    d.len / VIRTQ_DESC_SIZE > VIRTQ_MAX_CHAIN)
				return -EINVAL;
			table = guest_ptr(q->mem, d.addr, d.len);
			if (!table)
				return -EINVAL;
			table_size = d.len / VIRTQ_DESC_SIZE;
			indirect = true;
			idx = 0;
			visited = 0;
			continue;
		}

		if (++buffers > VIRTQ_MAX_CHAIN)
			return -EINVAL;
		if (d.flags & VIRTQ_DESC_F_WRITE)
			seen_write = true;
		else if (seen_write)
			return -EINVAL; /* readable after writable */

		/* Zero-length buffers carry nothing; the iovec array only holds
		 * ones the device can use. At most VIRTQ_MAX_CHAIN lengths of
		 * 32 bits each are summed, so the 64-bit totals cannot wrap. */
		if (d.len) {
			void *p = guest_ptr(q->mem, d.addr, d.len);
			if (!p)
				return -EINVAL;
			struct iovec *iov = &e->iov[e->nout + e->nin];
			iov->iov_base = p;
			iov->iov_len = d.len;
			if (d.flags & VIRTQ_DESC_F_WRITE) {
				e->nin++;
				e->in_len += d.len;
			} else {
				e->nout++;
				e->out_len += d.len;
			}
		}

		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
	struct vq_rings r;

	if (!q->ready)
		return 0;
	if (!rings_map(q, &r))
		return -EINVAL;

	uint16_t avail_idx = avail_idx_acquire(&r);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending > q->size)
		return -EINVAL;
	if (!pending)
		return 0;

	uint16_t head = __atomic_load_n(&r.avail[2 + (q->last_avail & (q->size - 1))],
					__ATOMIC_RELAXED);
	int ret = chain_map(q, &r, head, e);
	if (ret)
		return ret;
	q->last_avail++;

	/* Ask to be kicked for the entry after this one, unless the device
	 * turned notifications off while it drains the ring. */
	if (q->event_idx && !q->notify_off)
		__atomic_store_n(avail_event_ptr(q, &r), q->last_avail, __ATOMIC_RELAXED);
	return 1;
}

void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len)
{
	struct vq_rings r;

	if (!rings_map(q, &r))
		return;
	/* Never claim more than the chain could hold. */
	if (len > e->in_len)
		len = (uint32_t)e->in_len;

	if (q->dma_written) {
		uint32_t left = len;
		for (unsigned i = 0; i < e->nin && left; i++) {
			const struct iovec *iov = &e->iov[e->nout + i];
			size_t n = iov->iov_len < left ? iov->iov_len : left;
			q->dma_written(q->dma_opaque, iov->iov_base, n);
			left -= (uint32_t)n;
		}
	}

	uint32_t *elem = (uint32_t *)(r.used + 4 +
				      (size_t)VIRTQ_USED_ELEM_SIZE * (q->used_idx & (q->size - 1)));
	__atomic_store_n(&elem[0], (uint32_t)e->head, __ATOMIC_RELAXED);
	__atomic_store_n(&elem[1], len, __ATOMIC_RELAXED);
	q->used_idx++;
	/* Release: the element and the data must be visible before the index. */
	__atomic_store_n(used_idx_ptr(&r), q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *q)
{
	struct vq_rings r;

	if (!rings_map(q, &r))
		return false;
	/* The used->idx store must be visible before we read the driver's
	 * suppression fields, or both sides may decide not to act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (!q->event_idx)
		return !(__atomic_load_n(&r.avail[0], __ATOMIC_RELAXED) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);

	uint16_t old = q->signalled_used, now = q->used_idx;
	bool valid = q->signalled_valid;
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!valid)
		return true;
	uint16_t event = __atomic_load_n(&r.avail[2 + q->size], __ATOMIC_RELAXED);
	/* Interrupt iff used_event lies in [old, now), modulo 2^16. */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

void virtq_set_notification(struct virtq *q, bool enable)
{
	struct vq_rings r;

	q->notify_off = !enable;
	if (!rings_map(q, &r))
		return;
	if (q->event_idx) {
		/* With event idx, used->flags stays 0; "off" just stops moving
		 * avail_event, so the driver stops seeing it crossed. */
		if (enable)
			__atomic_store_n(avail_event_ptr(q, &r), q->last_avail,
					 __ATOMIC_RELAXED);
	} else {
		__atomic_store_n((uint16_t *)r.used, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
	}
	/* After enabling, the caller re-checks virtq_has_work(); the store
	 * must be visible before that read of avail->idx. */
	if (enable)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_has_work(const struct virtq *q)
{
	struct vq_rings r;

	if (!q->ready || !rings_map(q, &r))
		return false;
	return avail_idx_acquire(&r) != q->last_avail;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - offset;
		if (chunk > len - done)
			chunk = len - done;
		memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + offset, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t offset, const void *buf, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - offset;
		if (chunk > len - done)
			chunk = len - done;
		memcpy((uint8_t *)iov[i].iov_base + offset, (const uint8_t *)buf + done, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}
