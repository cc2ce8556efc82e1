/*
 * virtio-net driven through vd->ops with a stand-in transport and a dummy
 * network back end that records what it is given:
 * - features follow the back end's capabilities; config holds MAC and link up;
 * - TX: frames reach the back end header first, untouched, each chain is
 *   returned with length 0 and one interrupt per drained batch; a chain
 *   shorter than the header, an oversized one, or GSO that was not
 *   negotiated is dropped (and still returned);
 * - RX: a frame lands in one buffer (no MRG_RXBUF) or in as many as it
 *   needs with num_buffers in the first header (MRG_RXBUF), used lengths
 *   right, one interrupt per flush;
 * - backpressure: no buffers -> can_receive false / -EAGAIN, nothing
 *   consumed; the guest posts buffers and kicks -> rx_resume; a frame that
 *   needs more buffers than posted is not started (and, with EVENT_IDX, the
 *   device asks for the next kick at avail->idx);
 * - a partial checksum for a guest without GUEST_CSUM is completed;
 * - a readable or too-short receive buffer, or a broken ring -> NEEDS_RESET,
 *   cleared by a reset.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>

#include "core/vm.h"
#include "driver_ring.h"
#include "hw/virtio/virtio_net.h"
#include "test.h"

#define RX_RING 0x100000
#define TX_RING 0x110000
#define BUF 0x200000
#define STATUS_FEAT (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)
#define STATUS_OK (STATUS_FEAT | VIRTIO_STATUS_DRIVER_OK)
#define BIT(n) (1ULL << (n))

static struct vm vm;
static int irqs[2];

static void fake_notify_queue(struct virtio_device *vd, unsigned q)
{
	(void)vd;
	if (q < 2)
		irqs[q]++;
}

static void fake_notify_config(struct virtio_device *vd)
{
	(void)vd;
}

static const struct virtio_transport_ops fake_transport = {
	.notify_queue = fake_notify_queue,
	.notify_config = fake_notify_config,
};

/* ---- a back end that records ---- */

struct dummy {
	struct net_backend be;
	int sends, resumes, send_flushes;
	unsigned offload;
	uint8_t last[NET_HDR_LEN + NET_MAX_FRAME + 16];
	size_t last_len;
};

static struct dummy dummy;

static int dummy_send(struct net_backend *be, const struct iovec *iov, unsigned n)
{
	struct dummy *d = (struct dummy *)be;
	d->last_len = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(d->last + d->last_len, iov[i].iov_base, iov[i].iov_len);
		d->last_len += iov[i].iov_len;
	}
	d->sends++;
	return 0;
}

static void dummy_rx_resume(struct net_backend *be)
{
	((struct dummy *)be)->resumes++;
}

static void dummy_send_flush(struct net_backend *be)
{
	((struct dummy *)be)->send_flushes++;
}

static void dummy_set_offload(struct net_backend *be, unsigned offloads)
{
	((struct dummy *)be)->offload = offloads;
}

static void dummy_close(struct net_backend *be)
{
	(void)be;
}

static const struct net_backend_ops dummy_ops = {
	.name = "dummy",
	.send = dummy_send,
	.send_flush = dummy_send_flush,
	.rx_resume = dummy_rx_resume,
	.set_offload = dummy_set_offload,
	.close = dummy_close,
};

/* ---- helpers ---- */

static struct virtio_device *vd;
static struct dring rx, tx;
static uint8_t *buf;

static void bring_up(uint64_t features)
{
	virtio_set_status(vd, 0);
	dring_init(&rx, &vm.mem, RX_RING, 16);
	dring_init(&tx, &vm.mem, TX_RING, 16);
	vd->driver_features = features | BIT(VIRTIO_F_VERSION_1);
	virtio_set_status(vd, STATUS_FEAT);
	CHECK(vd->status & VIRTIO_STATUS_FEATURES_OK);
	dring_attach(&rx, &vd->vq[VIRTIO_NET_RXQ]);
	dring_attach(&tx, &vd->vq[VIRTIO_NET_TXQ]);
	virtio_set_status(vd, STATUS_OK);
	irqs[0] = irqs[1] = 0;
}

static int deliver(uint8_t *frame, size_t len)
{
	const struct net_client *c = &dummy.be.client;
	return c->receive(c->opaque, frame, len);
}

static void flush(void)
{
	dummy.be.client.receive_flush(dummy.be.client.opaque);
}

/* A frame of len bytes after a header with the given flags. */
static size_t make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	memset(f, 0, NET_HDR_LEN);
	for (size_t i = 0; i < len; i++)
		f[NET_HDR_LEN + i] = (uint8_t)(seed + i * 7);
	return NET_HDR_LEN + len;
}

static uint16_t hdr_num_buffers(const uint8_t *p)
{
	struct virtio_net_hdr h;
	memcpy(&h, p, sizeof(h));
	return le16toh(h.num_buffers);
}

static void test_features_config(void)
{
	uint64_t f = vd->device_features;
	CHECK(f & BIT(VIRTIO_NET_F_MAC));
	CHECK(f & BIT(VIRTIO_NET_F_STATUS));
	CHECK(f & BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(f & BIT(VIRTIO_NET_F_CSUM));
	CHECK(f & BIT(VIRTIO_NET_F_GUEST_CSUM));
	CHECK(!(f & BIT(VIRTIO_NET_F_HOST_TSO4))); /* the dummy has no TSO */
	CHECK(!(f & BIT(VIRTIO_NET_F_GUEST_TSO4)));
	CHECK_EQ(vd->ops->device_id, VIRTIO_ID_NET);
	CHECK_EQ(vd->num_queues, 2);
	CHECK_EQ(vd->ops->config_size, VIRTIO_NET_CONFIG_SIZE);
	uint8_t cfg[VIRTIO_NET_CONFIG_SIZE];
	vd->ops->config_read(vd, 0, cfg, sizeof(cfg));
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	CHECK(memcmp(cfg, mac, 6) == 0);
	CHECK_EQ(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	uint8_t b = 0;
	vd->ops->config_read(vd, 3, &b, 1);
	CHECK_EQ(b, 0xab);
	/* Writes are ignored: the MAC is read-only here. */
	vd->ops->config_write(vd, 0, "\1\2\3\4\5\6", 6);
	vd->ops->config_read(vd, 0, cfg, 6);
	CHECK(memcmp(cfg, mac, 6) == 0);
}

static void test_tx(void)
{
	bring_up(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_MRG_RXBUF));
	/* Header and frame in separate descriptors, a partial checksum asked for. */
	struct virtio_net_hdr h = { .flags = NET_HDR_F_NEEDS_CSUM, .csum_start = htole16(34),
				    .csum_offset = htole16(16) };
	memcpy(buf, &h, sizeof(h));
	make_frame(buf + 0x1000 - NET_HDR_LEN, 60, 1);
	struct dbuf chain[] = { { BUF, NET_HDR_LEN, false }, { BUF + 0x1000, 60, false } };
	dring_post(&tx, chain, 2);
	dring_post1(&tx, BUF + 0x1000 - NET_HDR_LEN, NET_HDR_LEN + 60, false); /* one piece */
	vd->ops->queue_notify(vd, VIRTIO_NET_TXQ);
	CHECK_EQ(dummy.sends, 2);
	CHECK_EQ(dummy.last_len, NET_HDR_LEN + 60);
	uint32_t id, len = 99;
	CHECK(dring_used(&tx, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);
	CHECK(dring_used(&tx, &id, &len));
	CHECK_EQ(id, 2);
	CHECK_EQ(irqs[VIRTIO_NET_TXQ], 1); /* one interrupt for the batch */
	CHECK_EQ(dummy.send_flushes, 1);   /* and one send_flush */
	CHECK(memcmp(dummy.last + NET_HDR_LEN, buf + 0x1000, 60) == 0);

	/* The two-piece chain reached the back end header first, as posted. */
	dring_post(&tx, chain, 2);
	vd->ops->queue_notify(vd, VIRTIO_NET_TXQ);
	struct virtio_net_hdr got;
	memcpy(&got, dummy.last, sizeof(got));
	CHECK_EQ(got.flags, NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(le16toh(got.csum_start), 34);
	CHECK(dring_used(&tx, NULL, NULL));

	/* Malformed frames are dropped but still returned. */
	int sends = dummy.sends;
	uint64_t dropped = dummy.be.tx_dropped;
	dring_post1(&tx, BUF, 8, false);                             /* shorter than the header */
	dring_post1(&tx, BUF, NET_HDR_LEN + NET_MAX_FRAME + 1, false); /* too big */
	dring_post1(&tx, BUF + 0x100000, 64, true);                  /* nothing readable */
	struct virtio_net_hdr gso = { .gso_type = NET_HDR_GSO_TCPV4, .gso_size = htole16(1448) };
	memcpy(buf + 0x2000, &gso, sizeof(gso));
	dring_post1(&tx, BUF + 0x2000, NET_HDR_LEN + 100, false);    /* TSO not negotiated */
	vd->ops->queue_notify(vd, VIRTIO_NET_TXQ);
	CHECK_EQ(dummy.sends, sends);
	CHECK_EQ(dummy.be.tx_dropped, dropped + 4);
	for (int i = 0; i < 4; i++) {
		CHECK(dring_used(&tx, NULL, &len));
		CHECK_EQ(len, 0);
	}
	CHECK(!(vd->status & VIRTIO_STATUS_NEEDS_RESET));

	/* The biggest legal frame goes through. */
	dring_post1(&tx, BUF, NET_HDR_LEN + NET_MAX_FRAME, false);
	memset(buf, 0, NET_HDR_LEN);
	vd->ops->queue_notify(vd, VIRTIO_NET_TXQ);
	CHECK_EQ(dummy.sends, sends + 1);
	CHECK_EQ(dummy.last_len, NET_HDR_LEN + NET_MAX_FRAME);
	CHECK(dring_used(&tx, NULL, NULL));
}

static void test_rx_single(void)
{
	bring_up(BIT(VIRTIO_NET_F_GUEST_CSUM));
	CHECK_EQ(dummy.offload, NET_OFFLOAD_CSUM);
	CHECK(dummy.resumes > 0); /* DRIVER_OK lets a stalled back end go on */
	static uint8_t f[4096];
	size_t len = make_frame(f, 1000, 3);
	memset(buf, 0xee, 0x1000);
	dring_post1(&rx, BUF, 1526, true);
	const struct net_client *c = &dummy.be.client;
	CHECK(c->can_receive(c->opaque));
	CHECK_EQ(deliver(f, len), 0);
	CHECK_EQ(irqs[VIRTIO_NET_RXQ], 0);
	flush();
	CHECK_EQ(irqs[VIRTIO_NET_RXQ], 1);
	uint32_t id, ulen;
	CHECK(dring_used(&rx, &id, &ulen));
	CHECK_EQ(ulen, len);
	CHECK_EQ(hdr_num_buffers(buf), 1);
	CHECK(memcmp(buf + NET_HDR_LEN, f + NET_HDR_LEN, 1000) == 0);
	CHECK_EQ(buf[len], 0xee);

	/* Too big for the only buffer (no merging): the frame is lost, the
	 * buffer comes back empty. */
	dring_post1(&rx, BUF, 200, true);
	size_t big = make_frame(f, 400, 5);
	CHECK_EQ(deliver(f, big), 0);
	CHECK(dring_used(&rx, NULL, &ulen));
	CHECK_EQ(ulen, 0);

	/* DATA_VALID passes with GUEST_CSUM; GSO without GUEST_TSO is dropped. */
	dring_post1(&rx, BUF, 1526, true);
	len = make_frame(f, 100, 9);
	f[0] = NET_HDR_F_DATA_VALID;
	CHECK_EQ(deliver(f, len), 0);
	CHECK(dring_used(&rx, NULL, &ulen));
	CHECK_EQ(buf[0], NET_HDR_F_DATA_VALID);
	f[0] = 0;
	f[1] = NET_HDR_GSO_TCPV4;
	uint64_t dropped = dummy.be.rx_dropped;
	CHECK_EQ(deliver(f, len), 0);
	CHECK_EQ(dummy.be.rx_dropped, dropped + 1);
	CHECK(!dring_used(&rx, NULL, NULL));
}

static void test_rx_mergeable(void)
{
	bring_up(BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_F_RING_EVENT_IDX));
	static uint8_t f[4096];
	size_t len = make_frame(f, 1200, 11); /* 1212 bytes: three 512-byte buffers */
	memset(buf, 0, 0x4000);
	dring_post1(&rx, BUF, 512, true);
	dring_post1(&rx, BUF + 0x1000, 512, true);
	dring_post1(&rx, BUF + 0x2000, 512, true);
	dring_post1(&rx, BUF + 0x3000, 512, true);
	CHECK_EQ(deliver(f, len), 0);
	flush();
	CHECK_EQ(irqs[VIRTIO_NET_RXQ], 1);
	uint32_t id, ulen;
	CHECK(dring_used(&rx, &id, &ulen));
	CHECK_EQ(id, 0);
	CHECK_EQ(ulen, 512);
	CHECK(dring_used(&rx, &id, &ulen));
	CHECK_EQ(id, 1);
	CHECK_EQ(ulen, 512);
	CHECK(dring_used(&rx, &id, &ulen));
	CHECK_EQ(id, 2);
	CHECK_EQ(ulen, 1212 - 1024);
	CHECK(!dring_used(&rx, NULL, NULL));
	CHECK_EQ(hdr_num_buffers(buf), 3);
	uint8_t joined[1212];
	memcpy(joined, buf, 512);
	memcpy(joined + 512, buf + 0x1000, 512);
	memcpy(joined + 1024, buf + 0x2000, 188);
	CHECK(memcmp(joined + NET_HDR_LEN, f + NET_HDR_LEN, 1200) == 0);

	/* A small frame uses one buffer, num_buffers 1. */
	len = make_frame(f, 60, 13);
	CHECK_EQ(deliver(f, len), 0);
	CHECK(dring_used(&rx, &id, &ulen));
	CHECK_EQ(id, 3);
	CHECK_EQ(ulen, NET_HDR_LEN + 60);
	CHECK_EQ(hdr_num_buffers(buf + 0x3000), 1);

	/* Backpressure: nothing posted. */
	const struct net_client *c = &dummy.be.client;
	CHECK(!c->can_receive(c->opaque));
	CHECK_EQ(deliver(f, len), -EAGAIN);
	int resumes = dummy.resumes;
	dring_post1(&rx, BUF, 2048, true);
	vd->ops->queue_notify(vd, VIRTIO_NET_RXQ);
	CHECK_EQ(dummy.resumes, resumes + 1);
	CHECK(c->can_receive(c->opaque));
	CHECK_EQ(deliver(f, len), 0);
	CHECK(dring_used(&rx, NULL, NULL));
	/* No waiting back end: a kick does not call it again. */
	vd->ops->queue_notify(vd, VIRTIO_NET_RXQ);
	CHECK_EQ(dummy.resumes, resumes + 1);

	/* A frame needing three buffers when one is posted: not started. */
	len = make_frame(f, 1200, 17);
	dring_post1(&rx, BUF, 512, true);
	uint16_t last_avail = vd->vq[VIRTIO_NET_RXQ].last_avail;
	CHECK_EQ(deliver(f, len), -EAGAIN);
	CHECK_EQ(vd->vq[VIRTIO_NET_RXQ].last_avail, last_avail);
	CHECK(!dring_used(&rx, NULL, NULL));
	/* The device wants a kick as soon as avail->idx moves on. */
	uint16_t avail_event;
	guest_read(&vm.mem, RX_RING + 0x3000 + 4 + 8 * 16, &avail_event, 2);
	CHECK_EQ(avail_event, rx.avail_idx);
	dring_post1(&rx, BUF + 0x1000, 512, true);
	dring_post1(&rx, BUF + 0x2000, 512, true);
	vd->ops->queue_notify(vd, VIRTIO_NET_RXQ);
	CHECK_EQ(dummy.resumes, resumes + 2);
	CHECK_EQ(deliver(f, len), 0);
	int n = 0;
	while (dring_used(&rx, NULL, NULL))
		n++;
	CHECK_EQ(n, 3);
	CHECK_EQ(hdr_num_buffers(buf), 3);
}

static void test_rx_csum(void)
{
	/* The guest did not accept partial checksums: the device finishes them. */
	bring_up(BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK_EQ(dummy.offload, 0);
	static uint8_t f[256];
	size_t len = make_frame(f, 80, 0);
	uint8_t *eth = f + NET_HDR_LEN;
	memset(eth + 14, 0, 66);
	eth[12] = 0x08, eth[13] = 0x00;
	eth[14] = 0x45, eth[23] = 17; /* IPv4/UDP; UDP at 34, checksum at 40 */
	eth[34 + 8] = 0x12, eth[34 + 9] = 0x34;
	struct virtio_net_hdr h = { .flags = NET_HDR_F_NEEDS_CSUM, .csum_start = htole16(34),
				    .csum_offset = htole16(6) };
	memcpy(f, &h, sizeof(h));
	dring_post1(&rx, BUF, 1526, true);
	CHECK_EQ(deliver(f, len), 0);
	CHECK(dring_used(&rx, NULL, NULL));
	CHECK_EQ(buf[0] & NET_HDR_F_NEEDS_CSUM, 0);
	/* Sum over UDP header+payload must now be all ones. */
	uint8_t *udp = buf + NET_HDR_LEN + 34;
	uint32_t s = 0;
	for (int i = 0; i < 46; i += 2)
		s += (uint32_t)(udp[i] << 8 | udp[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	CHECK_EQ(s, 0xffff);

	/* Offsets outside the frame: dropped. */
	h.csum_start = htole16(300);
	memcpy(f, &h, sizeof(h));
	dring_post1(&rx, BUF, 1526, true);
	CHECK_EQ(deliver(f, len), 0);
	CHECK(!dring_used(&rx, NULL, NULL));
}

static void test_malformed(void)
{
	static uint8_t f[256];
	size_t len = make_frame(f, 60, 1);
	uint32_t ulen;

	/* A device-readable receive buffer. */
	bring_up(BIT(VIRTIO_NET_F_MRG_RXBUF));
	dring_post1(&rx, BUF, 1526, false);
	CHECK_EQ(deliver(f, len), 0);
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!dring_used(&rx, NULL, NULL));
	/* Ignored from now on, TX too. */
	int sends = dummy.sends;
	dring_post1(&tx, BUF, NET_HDR_LEN + 60, false);
	vd->ops->queue_notify(vd, VIRTIO_NET_TXQ);
	CHECK_EQ(dummy.sends, sends);

	/* A receive buffer shorter than the header. */
	bring_up(BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(!(vd->status & VIRTIO_STATUS_NEEDS_RESET));
	dring_post1(&rx, BUF, 4, true);
	CHECK_EQ(deliver(f, len), 0);
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);

	/* A descriptor outside guest RAM on the transmit ring. */
	bring_up(0);
	dring_post1(&tx, 0x7ffff0000000ULL, 64, false);
	vd->ops->queue_notify(vd, VIRTIO_NET_TXQ);
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!dring_used(&tx, NULL, NULL));

	/* Reset brings it back. */
	bring_up(0);
	dring_post1(&rx, BUF, 1526, true);
	CHECK_EQ(deliver(f, len), 0);
	CHECK(dring_used(&rx, NULL, &ulen));
	CHECK_EQ(ulen, len);

	/* Frames before DRIVER_OK are dropped, not queued. */
	virtio_set_status(vd, 0);
	const struct net_client *c = &dummy.be.client;
	CHECK(c->can_receive(c->opaque));
	CHECK_EQ(deliver(f, len), 0);
}

int main(void)
{
	struct error e = { { 0 } };
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(guest_mem_init(&vm.mem, 32 << 20, 0xc0000000ULL), 0);
	dummy.be.ops = &dummy_ops;
	dummy.be.caps = NET_CAP_CSUM;
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	vd = virtio_net_create_with_backend(&vm, &dummy.be, mac, &e);
	CHECK(vd != NULL);
	if (!vd)
		return test_exit();
	vd->transport = &fake_transport;
	buf = guest_ptr(&vm.mem, BUF, 4 << 20);

	test_features_config();
	test_tx();
	test_rx_single();
	test_rx_mergeable();
	test_rx_csum();
	test_malformed();

	/* With a TSO-capable back end the TSO features are offered. */
	struct error e2 = { { 0 } };
	static struct dummy tso;
	tso.be.ops = &dummy_ops;
	tso.be.caps = NET_CAP_CSUM | NET_CAP_TSO | NET_CAP_RX_TSO;
	struct virtio_device *vd2 = virtio_net_create_with_backend(&vm, &tso.be, mac, &e2);
	CHECK(vd2 && (vd2->device_features & BIT(VIRTIO_NET_F_HOST_TSO4)));
	CHECK(vd2 && (vd2->device_features & BIT(VIRTIO_NET_F_GUEST_TSO6)));
	virtio_net_destroy(vd2);

	/* A back end that takes only IPv4 TSO and never delivers GSO frames
	 * (user): HOST_TSO4 alone. */
	static struct dummy tso4;
	tso4.be.ops = &dummy_ops;
	tso4.be.caps = NET_CAP_CSUM | NET_CAP_TSO4;
	vd2 = virtio_net_create_with_backend(&vm, &tso4.be, mac, &e2);
	CHECK(vd2 && (vd2->device_features & BIT(VIRTIO_NET_F_HOST_TSO4)));
	CHECK(vd2 && !(vd2->device_features & BIT(VIRTIO_NET_F_HOST_TSO6)));
	CHECK(vd2 && !(vd2->device_features & BIT(VIRTIO_NET_F_GUEST_TSO4)));
	CHECK(vd2 && !(vd2->device_features & BIT(VIRTIO_NET_F_GUEST_TSO6)));
	virtio_net_destroy(vd2);

	/* The real constructor names a bad -netdev. */
	struct netdev_config bad = { .kind = NETDEV_TAP, .id = "x" };
	memset(bad.ifname, 'b', sizeof(bad.ifname));
	CHECK(virtio_net_create(&vm, &bad, mac, &e2) == NULL);
	CHECK(strstr(e2.msg, "-netdev tap,id=x,") == e2.msg);

	virtio_net_destroy(vd);
	vm_destroy(&vm);
	return test_exit();
}
