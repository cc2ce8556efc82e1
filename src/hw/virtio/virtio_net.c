/*
 * virtio-net: the device between the guest's rings and a network back end.
 *
 * Transmit: a kick on queue 1 drains the whole ring (notifications off
 * while draining, re-checked after turning them back on); each chain is
 * checked (header present, frame within NET_MAX_FRAME, no GSO the guest
 * did not negotiate) and handed to the back end as iovecs into guest RAM,
 * then returned with length 0. One interrupt per drained batch. After the
 * batch the back end's send_flush hands over at once what the frames
 * provoked (the ACKs a tap's host stack queued inside the writes, slirp's
 * replies), so the guest gets them with the transmit interrupt instead of
 * after another trip through the event loop.
 *
 * Receive: the back end calls net_receive() per frame. Without
 * MRG_RXBUF a frame takes one chain; with it, as many buffers as it needs,
 * and num_buffers in the first buffer's header says how many. Buffers are
 * only returned once the whole frame is placed (used entries stay in order
 * and num_buffers is right before the driver can look); if the ring runs
 * dry mid-frame the buffers taken are given back (last_avail rewound) and
 * the back end is told -EAGAIN. Then the device asks for a kick on the
 * next buffer the guest posts (with EVENT_IDX, avail_event is set to the
 * current avail->idx, since rewound entries never cross it again) and the
 * rx kick calls the back end's rx_resume. While buffers are plentiful, rx
 * kicks are suppressed. The interrupt comes from receive_flush, once per
 * back-end batch.
 *
 * The guest is hostile: a ring that virtq_pop() rejects, or a receive
 * buffer that is device-readable or smaller than the header, puts the
 * device in NEEDS_RESET and it ignores its queues until reset. Bad transmit
 * frames are dropped and returned. Headers from back ends are trimmed to
 * what the guest negotiated (partial checksums completed here otherwise).
 *
 * Locking: everything runs with vd->lock (vm->io_lock) held: transport
 * callbacks arrive with it, back ends take it before calling in.
 * Re-entry is real: a transmit to the user back end can synchronously
 * produce a received frame, so TX and RX use separate scratch elements.
 */
#include "hw/virtio/virtio_net.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct rx_rec {
	uint16_t head;
	uint32_t len;        /* bytes written into this buffer */
	unsigned iov_start;  /* its iovecs in rx_iov */
	unsigned niov;
	uint64_t in_len;
};

struct virtio_net {
	struct virtio_device vd;
	struct net_backend *be;
	uint8_t mac[6];
	bool broken;      /* NEEDS_RESET: ignore the queues until reset */
	bool rx_waiting;  /* the back end waits for rx_resume */
	bool rx_pushed;   /* an interrupt is owed for queue 0 */

	/* Receive scratch: the chain being filled, then the buffers of one
	 * merged frame until they are all pushed. */
	struct virtq_elem rx_elem;
	struct rx_rec rx_rec[VIRTIO_NET_QUEUE_SIZE];
	struct iovec rx_iov[VIRTQ_MAX_CHAIN];
	struct virtq_elem tx_elem;
};

static struct virtio_net *to_net(struct virtio_device *vd)
{
	return vd->dev;
}

static bool net_running(const struct virtio_net *n)
{
	return !n->broken && (n->vd.status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(n->vd.status & VIRTIO_STATUS_NEEDS_RESET);
}

static void net_break(struct virtio_net *n, const char *why)
{
	log_debug("virtio-net: %s: device needs reset", why);
	n->broken = true;
	virtio_set_needs_reset(&n->vd);
}

/* ---- transmit ---- */

static void tx_one(struct virtio_net *n, const struct virtq_elem *e)
{
	struct net_backend *be = n->be;
	if (!e->nout || e->out_len < NET_HDR_LEN || e->out_len > NET_HDR_LEN + NET_MAX_FRAME) {
		be->tx_dropped++;
		return;
	}
	struct virtio_net_hdr h;
	iov_to_buf(e->iov, e->nout, 0, &h, sizeof(h));
	uint8_t gso = h.gso_type & (uint8_t)~NET_HDR_GSO_ECN;
	bool gso_ok = gso == NET_HDR_GSO_NONE ||
		      (gso == NET_HDR_GSO_TCPV4 && virtio_has_feature(&n->vd, VIRTIO_NET_F_HOST_TSO4)) ||
		      (gso == NET_HDR_GSO_TCPV6 && virtio_has_feature(&n->vd, VIRTIO_NET_F_HOST_TSO6));
	if (!gso_ok || (h.gso_type & NET_HDR_GSO_ECN)) {
		be->tx_dropped++;
		return;
	}
	/* The back end copies (or writes) the frame before it returns; it
	 * validates what it interprets on its own copy. */
	be->ops->send(be, e->iov, e->nout);
}

static void tx_process(struct virtio_net *n)
{
	struct virtq *q = &n->vd.vq[VIRTIO_NET_TXQ];
	bool pushed = false;
	if (!net_running(n) || !q->ready)
		return;
	for (;;) {
		virtq_set_notification(q, false);
		for (;;) {
			int r = virtq_pop(q, &n->tx_elem);
			if (r < 0) {
				net_break(n, "bad transmit ring");
				goto out;
			}
			if (r == 0)
				break;
			tx_one(n, &n->tx_elem);
			virtq_push(q, &n->tx_elem, 0);
			pushed = true;
		}
		virtq_set_notification(q, true);
		if (!virtq_has_work(q))
			break;
	}
out:
	/* Replies the batch provoked reach the receive ring now, and their
	 * interrupt goes out together with the transmit one. */
	if (pushed && n->be->ops->send_flush)
		n->be->ops->send_flush(n->be);
	if (pushed)
		virtio_notify_queue(&n->vd, VIRTIO_NET_TXQ);
}

/* ---- receive ---- */

/*
 * Asks the driver to kick on its next receive buffer. With EVENT_IDX the
 * kick comes when avail->idx passes avail_event; after a rewind the
 * entries up to avail->idx are already there, so the event is placed at
 * avail->idx itself. Returns true if buffers arrived meanwhile.
 */
static bool rx_arm(struct virtio_net *n)
{
	struct virtq *q = &n->vd.vq[VIRTIO_NET_RXQ];
	virtq_set_notification(q, true);
	if (q->event_idx) {
		uint16_t *avail_idx = guest_ptr(q->mem, q->avail_addr + 2, 2);
		uint16_t *avail_event =
			guest_ptr(q->mem, q->used_addr + 4 + 8 * (uint64_t)q->size, 2);
		if (avail_idx && avail_event && !((uintptr_t)avail_idx & 1) &&
		    !((uintptr_t)avail_event & 1)) {
			uint16_t idx = __atomic_load_n(avail_idx, __ATOMIC_ACQUIRE);
			__atomic_store_n(avail_event, idx, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			return __atomic_load_n(avail_idx, __ATOMIC_ACQUIRE) != idx;
		}
	}
	return virtq_has_work(q);
}

static bool net_can_receive(void *opaque)
{
	struct virtio_net *n = opaque;
	struct virtq *q = &n->vd.vq[VIRTIO_NET_RXQ];
	if (!net_running(n) || !q->ready)
		return true; /* frames are dropped: nobody listens */
	if (virtq_has_work(q))
		return true;
	n->rx_waiting = true;
	if (rx_arm(n)) {
		n->rx_waiting = false;
		virtq_set_notification(q, false);
		return true;
	}
	return false;
}

/* Brings a frame's header down to what the driver negotiated; false: drop. */
static bool rx_fix_header(struct virtio_net *n, uint8_t *frame, size_t len)
{
	struct virtio_net_hdr h;
	memcpy(&h, frame, NET_HDR_LEN);
	bool guest_csum = virtio_has_feature(&n->vd, VIRTIO_NET_F_GUEST_CSUM);
	uint8_t gso = h.gso_type & (uint8_t)~NET_HDR_GSO_ECN;
	if (gso != NET_HDR_GSO_NONE &&
	    !((gso == NET_HDR_GSO_TCPV4 && virtio_has_feature(&n->vd, VIRTIO_NET_F_GUEST_TSO4)) ||
	      (gso == NET_HDR_GSO_TCPV6 && virtio_has_feature(&n->vd, VIRTIO_NET_F_GUEST_TSO6))))
		return false; /* nobody here can segment it */
	if ((h.flags & NET_HDR_F_NEEDS_CSUM) && !guest_csum) {
		if (net_csum_complete(frame + NET_HDR_LEN, len - NET_HDR_LEN,
				      le16toh(h.csum_start), le16toh(h.csum_offset)) < 0)
			return false;
		h.flags &= (uint8_t)~NET_HDR_F_NEEDS_CSUM;
	}
	h.flags &= guest_csum ? (NET_HDR_F_NEEDS_CSUM | NET_HDR_F_DATA_VALID) : 0;
	h.num_buffers = htole16(1);
	memcpy(frame, &h, NET_HDR_LEN);
	return true;
}

static void rx_push_recs(struct virtio_net *n, unsigned nbufs)
{
	struct virtq *q = &n->vd.vq[VIRTIO_NET_RXQ];
	struct virtq_elem *e = &n->rx_elem;
	if (nbufs == 1) {
		/* rx_elem still holds the only chain. */
		virtq_push(q, e, n->rx_rec[0].len);
		return;
	}
	for (unsigned i = 0; i < nbufs; i++) {
		const struct rx_rec *r = &n->rx_rec[i];
		e->head = r->head;
		e->nout = 0;
		e->nin = r->niov;
		e->out_len = 0;
		e->in_len = r->in_len;
		memcpy(e->iov, &n->rx_iov[r->iov_start], r->niov * sizeof(struct iovec));
		virtq_push(q, e, r->len);
	}
}

static int net_receive(void *opaque, uint8_t *frame, size_t len)
{
	struct virtio_net *n = opaque;
	struct net_backend *be = n->be;
	struct virtq *q = &n->vd.vq[VIRTIO_NET_RXQ];

	if (!net_running(n) || !q->ready || len < NET_HDR_LEN + 14 ||
	    len > NET_HDR_LEN + NET_MAX_FRAME || !rx_fix_header(n, frame, len)) {
		be->rx_dropped++;
		return 0;
	}
	bool mrg = virtio_has_feature(&n->vd, VIRTIO_NET_F_MRG_RXBUF);
	struct virtq_elem *e = &n->rx_elem;

again:;
	unsigned nbufs = 0, iov_used = 0;
	size_t off = 0;
	while (off < len) {
		int r = virtq_pop(q, e);
		if (r < 0) {
			net_break(n, "bad receive ring");
			goto drop_rewound;
		}
		if (r == 0) {
			q->last_avail -= (uint16_t)nbufs;
			n->rx_waiting = true;
			if (rx_arm(n)) {
				/* Buffers arrived while arming: try again. */
				n->rx_waiting = false;
				virtq_set_notification(q, false);
				goto again;
			}
			return -EAGAIN;
		}
		if (e->nout || e->in_len < NET_HDR_LEN) {
			/* Section 5.1.6.3.1: receive buffers are writable
			 * and at least a header long. */
			net_break(n, "bad receive buffer");
			goto drop_rewound;
		}
		size_t chunk = len - off < e->in_len ? len - off : (size_t)e->in_len;
		if (!mrg && chunk < len) {
			/* Too small for a whole frame (the driver ignored the
			 * sizes in section 5.1.6.3.1): the frame is lost, the
			 * buffer returns empty. */
			virtq_push(q, e, 0);
			n->rx_pushed = true;
			be->rx_dropped++;
			return 0;
		}
		iov_from_buf(e->iov, e->nin, 0, frame + off, chunk);
		/* Remember the iovecs written, for pushing after the last one. */
		unsigned k = 0;
		for (size_t cov = 0; cov < chunk; k++)
			cov += e->iov[k].iov_len;
		if (nbufs == VIRTIO_NET_QUEUE_SIZE || k > VIRTQ_MAX_CHAIN - iov_used) {
			/* Absurdly fragmented buffers: give them back. */
			nbufs++;
			goto drop_rewound;
		}
		struct rx_rec *rec = &n->rx_rec[nbufs++];
		rec->head = e->head;
		rec->len = (uint32_t)chunk;
		rec->iov_start = iov_used;
		rec->niov = k;
		rec->in_len = 0;
		for (unsigned i = 0; i < k; i++) {
			n->rx_iov[iov_used + i] = e->iov[i];
			rec->in_len += e->iov[i].iov_len;
		}
		iov_used += k;
		off += chunk;
	}
	if (mrg && nbufs > 1) {
		uint16_t nb = htole16((uint16_t)nbufs);
		iov_from_buf(&n->rx_iov[n->rx_rec[0].iov_start], n->rx_rec[0].niov,
			     offsetof(struct virtio_net_hdr, num_buffers), &nb, sizeof(nb));
	}
	rx_push_recs(n, nbufs);
	n->rx_pushed = true;
	return 0;

drop_rewound:
	if (!n->broken)
		q->last_avail -= (uint16_t)nbufs;
	be->rx_dropped++;
	return 0;
}

static void net_receive_flush(void *opaque)
{
	struct virtio_net *n = opaque;
	if (!n->rx_pushed)
		return;
	n->rx_pushed = false;
	virtio_notify_queue(&n->vd, VIRTIO_NET_RXQ);
}

/* ---- virtio_device_ops ---- */

static uint64_t net_features(struct virtio_device *vd)
{
	struct virtio_net *n = to_net(vd);
	uint64_t f = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
		     1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (n->be->caps & NET_CAP_CSUM)
		f |= 1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	/* TSO needs checksum offload in the same direction (section 5.1.3.1). */
	if ((n->be->caps & (NET_CAP_CSUM | NET_CAP_TSO4)) == (NET_CAP_CSUM | NET_CAP_TSO4))
		f |= 1ULL << VIRTIO_NET_F_HOST_TSO4;
	if ((n->be->caps & (NET_CAP_CSUM | NET_CAP_TSO6)) == (NET_CAP_CSUM | NET_CAP_TSO6))
		f |= 1ULL << VIRTIO_NET_F_HOST_TSO6;
	if ((n->be->caps & (NET_CAP_CSUM | NET_CAP_RX_TSO)) == (NET_CAP_CSUM | NET_CAP_RX_TSO))
		f |= 1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6;
	return f;
}

static void net_config_read(struct virtio_device *vd, unsigned offset, void *buf, unsigned len)
{
	struct virtio_net *n = to_net(vd);
	uint8_t cfg[VIRTIO_NET_CONFIG_SIZE];
	uint16_t status = htole16(VIRTIO_NET_S_LINK_UP), pairs = htole16(1);
	memcpy(cfg, n->mac, 6);
	memcpy(cfg + 6, &status, 2);
	memcpy(cfg + 8, &pairs, 2);
	if (offset > sizeof(cfg) || len > sizeof(cfg) - offset) {
		memset(buf, 0, len);
		return;
	}
	memcpy(buf, cfg + offset, len);
}

static void net_config_write(struct virtio_device *vd, unsigned offset, const void *buf,
			     unsigned len)
{
	/* Read-only with VERSION_1 (no CTRL_MAC_ADDR offered). */
	(void)vd, (void)offset, (void)buf, (void)len;
}

static void net_start(struct virtio_device *vd)
{
	struct virtio_net *n = to_net(vd);
	unsigned off = 0;
	if (virtio_has_feature(vd, VIRTIO_NET_F_GUEST_CSUM)) {
		off |= NET_OFFLOAD_CSUM;
		if (virtio_has_feature(vd, VIRTIO_NET_F_GUEST_TSO4))
			off |= NET_OFFLOAD_TSO4;
		if (virtio_has_feature(vd, VIRTIO_NET_F_GUEST_TSO6))
			off |= NET_OFFLOAD_TSO6;
	}
	n->be->ops->set_offload(n->be, off);
	tx_process(n);
	/* The back end may have stopped while nobody listened. */
	n->rx_waiting = false;
	if (vd->vq[VIRTIO_NET_RXQ].ready)
		virtq_set_notification(&vd->vq[VIRTIO_NET_RXQ], false);
	n->be->ops->rx_resume(n->be);
}

static void net_queue_notify(struct virtio_device *vd, unsigned q)
{
	struct virtio_net *n = to_net(vd);
	if (!net_running(n))
		return;
	if (q == VIRTIO_NET_TXQ) {
		tx_process(n);
	} else if (q == VIRTIO_NET_RXQ && n->rx_waiting) {
		n->rx_waiting = false;
		virtq_set_notification(&vd->vq[VIRTIO_NET_RXQ], false);
		n->be->ops->rx_resume(n->be);
	}
}

static void net_reset(struct virtio_device *vd)
{
	struct virtio_net *n = to_net(vd);
	n->broken = false;
	n->rx_waiting = false;
	n->rx_pushed = false;
	n->be->ops->set_offload(n->be, 0);
}

static const struct virtio_device_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = net_features,
	.config_size = VIRTIO_NET_CONFIG_SIZE,
	.config_read = net_config_read,
	.config_write = net_config_write,
	.start = net_start,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
};

static struct net_client net_client_of(struct virtio_net *n)
{
	return (struct net_client){
		.can_receive = net_can_receive,
		.receive = net_receive,
		.receive_flush = net_receive_flush,
		.opaque = n,
	};
}

static struct virtio_device *net_finish(struct virtio_net *n, struct vm *vm, const uint8_t mac[6])
{
	memcpy(n->mac, mac, 6);
	virtio_device_init(&n->vd, vm, &net_ops, n, 2, VIRTIO_NET_QUEUE_SIZE);
	return &n->vd;
}

struct virtio_device *virtio_net_create(struct vm *vm, const struct netdev_config *net,
					const uint8_t mac[6], struct error *e)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		error_set(e, -ENOMEM, "virtio-net: out of memory");
		return NULL;
	}
	struct net_client client = net_client_of(n);
	struct net_env env = { .loop = &vm->loop, .timers = &vm->timers, .lock = &vm->io_lock };
	if (net_backend_open(net, &env, &client, &n->be, e) < 0) {
		free(n);
		return NULL;
	}
	return net_finish(n, vm, mac);
}

struct virtio_device *virtio_net_create_with_backend(struct vm *vm, struct net_backend *be,
						     const uint8_t mac[6], struct error *e)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		net_backend_close(be);
		error_set(e, -ENOMEM, "virtio-net: out of memory");
		return NULL;
	}
	n->be = be;
	be->client = net_client_of(n);
	return net_finish(n, vm, mac);
}

void virtio_net_destroy(struct virtio_device *vd)
{
	if (!vd)
		return;
	struct virtio_net *n = to_net(vd);
	net_backend_close(n->be);
	free(n);
}
