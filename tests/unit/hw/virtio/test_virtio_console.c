/*
 * virtio-console with a stand-in transport. One port: input from the
 * chardev lands in posted receive buffers and waits in the chardev while
 * there are none (backpressure); transmitted bytes reach the chardev's
 * file; config space and emergency writes. Several ports: the MULTIPORT
 * control handshake (DEVICE_READY -> DEVICE_ADD, PORT_READY ->
 * CONSOLE_PORT + PORT_OPEN) and data on port 1's own queues. No ports
 * at all is a portless MULTIPORT device; too many are refused.
 */
#include <stdlib.h>
#include <unistd.h>

#include "core/chardev.h"
#include "core/vm.h"
#include "driver_ring.h"
#include "hw/virtio/virtio_console.h"
#include "test.h"

#define RING(q) (0x100000 + (uint64_t)(q) * 0x10000)
#define BUF 0x200000
#define STATUS_FOK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)
#define STATUS_OK (STATUS_FOK | VIRTIO_STATUS_DRIVER_OK)

static struct vm vm;
static unsigned irq_mask;

static void fake_notify_queue(struct virtio_device *vd, unsigned q)
{
	(void)vd;
	irq_mask |= 1u << q;
}

static void fake_notify_config(struct virtio_device *vd)
{
	(void)vd;
}

static const struct virtio_transport_ops fake_transport = {
	.notify_queue = fake_notify_queue,
	.notify_config = fake_notify_config,
};

struct tmpfile {
	char path[64];
};

static void open_file_chardev(struct chardev *c, struct tmpfile *t)
{
	strcpy(t->path, "/tmp/kemu-vcon-XXXXXX");
	int fd = mkstemp(t->path);
	CHECK(fd >= 0);
	close(fd);
	struct error e = { { 0 } };
	CHECK_EQ(chardev_open(c, CHARDEV_FILE, t->path, &e), 0);
}

static size_t file_contents(struct tmpfile *t, char *out, size_t cap)
{
	FILE *f = fopen(t->path, "rb");
	if (!f)
		return 0;
	size_t n = fread(out, 1, cap, f);
	fclose(f);
	return n;
}

/* Input typed at the host: what the chardev's fd reader would do. */
static void type_input(struct chardev *c, const char *s)
{
	size_t n = strlen(s);
	memcpy(c->pending + c->npending, s, n);
	c->npending += n;
	chardev_accept_input(c);
}

static void negotiate(struct virtio_device *vd, uint64_t features, struct dring *rings,
		      unsigned nq)
{
	virtio_set_status(vd, 0);
	vd->driver_features = features | 1ULL << VIRTIO_F_VERSION_1;
	virtio_set_status(vd, STATUS_FOK);
	CHECK(vd->status & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++) {
		dring_init(&rings[q], &vm.mem, RING(q), 16);
		dring_attach(&rings[q], &vd->vq[q]);
	}
}

static void single_port(void)
{
	struct error e = { { 0 } };
	struct chardev chr;
	struct tmpfile out;
	open_file_chardev(&chr, &out);
	struct chardev *ports[] = { &chr };
	struct virtio_device *vd = virtio_console_create(&vm, ports, 1, &e);
	CHECK(vd != NULL);
	if (!vd)
		return;
	vd->transport = &fake_transport;
	CHECK_EQ(vd->ops->device_id, VIRTIO_ID_CONSOLE);
	CHECK_EQ(vd->num_queues, 2);
	CHECK(!(vd->device_features & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT)));
	CHECK(vd->device_features & (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE));

	/* Config: cols, rows 0 (no F_SIZE); max_nr_ports 1. */
	uint32_t v = 0xffffffff;
	vd->ops->config_read(vd, 4, &v, 4);
	CHECK_EQ(v, 1);
	uint16_t cols = 0xffff;
	vd->ops->config_read(vd, 0, &cols, 2);
	CHECK_EQ(cols, 0);

	struct dring r[2];
	negotiate(vd, 1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE, r, 2);

	/* Input before DRIVER_OK stays in the chardev. */
	type_input(&chr, "hello world");
	CHECK_EQ(chr.npending, 11);
	virtio_set_status(vd, STATUS_OK);
	CHECK_EQ(chr.npending, 11); /* no receive buffers yet */

	/* A 4-byte buffer takes 4 bytes; the rest waits (backpressure). */
	uint8_t *buf = guest_ptr(&vm.mem, BUF, 0x10000);
	memset(buf, 0, 64);
	dring_post1(&r[0], BUF, 4, true);
	irq_mask = 0;
	vd->ops->queue_notify(vd, 0);
	uint32_t id, len;
	CHECK(dring_used(&r[0], &id, &len));
	CHECK_EQ(len, 4);
	CHECK(!memcmp(buf, "hell", 4));
	CHECK_EQ(chr.npending, 7);
	CHECK(!memcmp(chr.pending, "o world", 7));
	CHECK_EQ(irq_mask, 1u << 0);

	/* Two more buffers drain the rest. */
	dring_post1(&r[0], BUF + 16, 4, true);
	dring_post1(&r[0], BUF + 32, 16, true);
	vd->ops->queue_notify(vd, 0);
	CHECK(dring_used(&r[0], NULL, &len));
	CHECK_EQ(len, 4);
	CHECK(dring_used(&r[0], NULL, &len));
	CHECK_EQ(len, 3);
	CHECK(!memcmp(buf + 16, "o wo", 4));
	CHECK(!memcmp(buf + 32, "rld", 3));
	CHECK_EQ(chr.npending, 0);

	/* A posted buffer takes new input at once. */
	dring_post1(&r[0], BUF + 48, 16, true);
	vd->ops->queue_notify(vd, 0);
	type_input(&chr, "ab");
	CHECK(dring_used(&r[0], NULL, &len));
	CHECK_EQ(len, 2);
	CHECK(!memcmp(buf + 48, "ab", 2));

	/* Transmit: a two-part chain reaches the file in order; used len 0. */
	memcpy(buf + 0x100, "tx:", 3);
	memcpy(buf + 0x200, "data\n", 5);
	struct dbuf tx[] = { { BUF + 0x100, 3, false }, { BUF + 0x200, 5, false } };
	dring_post(&r[1], tx, 2);
	irq_mask = 0;
	vd->ops->queue_notify(vd, 1);
	CHECK(dring_used(&r[1], NULL, &len));
	CHECK_EQ(len, 0);
	CHECK_EQ(irq_mask, 1u << 1);

	/* Emergency write: one character to port 0. */
	uint32_t ch = '!';
	vd->ops->config_write(vd, 8, &ch, 4);
	char text[64] = { 0 };
	CHECK_EQ(file_contents(&out, text, sizeof(text)), 9);
	CHECK_STR(text, "tx:data\n!");

	/* A broken receive ring: NEEDS_RESET, input stays with the chardev. */
	dring_post1(&r[0], 0x7fff00000000ULL, 16, true);
	vd->ops->queue_notify(vd, 0);
	type_input(&chr, "zz");
	CHECK(vd->status & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(chr.npending, 2);

	/* After a reset the device works again. */
	negotiate(vd, 0, r, 2);
	virtio_set_status(vd, STATUS_OK);
	dring_post1(&r[0], BUF, 16, true);
	vd->ops->queue_notify(vd, 0);
	CHECK(dring_used(&r[0], NULL, &len));
	CHECK_EQ(len, 2);
	CHECK_EQ(chr.npending, 0);

	virtio_console_destroy(vd);
	CHECK(chr.receive == NULL);
	chardev_close(&chr);
	unlink(out.path);
}

struct ctrl {
	uint32_t id;
	uint16_t event, value;
};

static void send_ctrl(struct virtio_device *vd, struct dring *r, uint64_t gpa, uint32_t id,
		      uint16_t event, uint16_t value)
{
	struct ctrl m = { id, event, value };
	guest_write(&vm.mem, gpa, &m, sizeof(m));
	dring_post1(r, gpa, sizeof(m), false);
	vd->ops->queue_notify(vd, 3);
}

static bool recv_ctrl(struct dring *r, uint64_t gpa_base, struct ctrl *m)
{
	uint32_t id, len;
	if (!dring_used(r, &id, &len))
		return false;
	CHECK_EQ(len, 8);
	guest_read(&vm.mem, gpa_base + 16ULL * id, m, sizeof(*m));
	return true;
}

static void multi_port(void)
{
	struct error e = { { 0 } };
	struct chardev chr[2];
	struct tmpfile out[2];
	open_file_chardev(&chr[0], &out[0]);
	open_file_chardev(&chr[1], &out[1]);
	struct chardev *ports[] = { &chr[0], &chr[1] };
	struct virtio_device *vd = virtio_console_create(&vm, ports, 2, &e);
	CHECK(vd != NULL);
	if (!vd)
		return;
	vd->transport = &fake_transport;
	CHECK_EQ(vd->num_queues, 6);
	CHECK(vd->device_features & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT));
	uint32_t max = 0;
	vd->ops->config_read(vd, 4, &max, 4);
	CHECK_EQ(max, 2);

	struct dring r[6];
	negotiate(vd, 1ULL << VIRTIO_CONSOLE_F_MULTIPORT, r, 6);
	virtio_set_status(vd, STATUS_OK);

	/* Control receive buffers: descriptor i at CTRL_RX + 16 i. */
	const uint64_t ctrl_rx = BUF + 0x1000, ctrl_tx = BUF + 0x2000;
	for (int i = 0; i < 8; i++)
		dring_post1(&r[2], ctrl_rx + 16ULL * i, 16, true);
	vd->ops->queue_notify(vd, 2);

	/* Port 1's input waits until the driver has the port ready. */
	type_input(&chr[1], "p1");
	dring_post1(&r[4], BUF, 16, true);
	vd->ops->queue_notify(vd, 4);
	CHECK(!dring_used(&r[4], NULL, NULL));
	CHECK_EQ(chr[1].npending, 2);

	send_ctrl(vd, &r[3], ctrl_tx, 0xffffffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
	struct ctrl m;
	CHECK(recv_ctrl(&r[2], ctrl_rx, &m));
	CHECK_EQ(m.id, 0);
	CHECK_EQ(m.event, VIRTIO_CONSOLE_DEVICE_ADD);
	CHECK_EQ(m.value, 1);
	CHECK(recv_ctrl(&r[2], ctrl_rx, &m));
	CHECK_EQ(m.id, 1);
	CHECK_EQ(m.event, VIRTIO_CONSOLE_DEVICE_ADD);
	CHECK(!recv_ctrl(&r[2], ctrl_rx, &m));
	CHECK(dring_used(&r[3], NULL, NULL));

	send_ctrl(vd, &r[3], ctrl_tx + 16, 1, VIRTIO_CONSOLE_PORT_READY, 1);
	CHECK(recv_ctrl(&r[2], ctrl_rx, &m));
	CHECK_EQ(m.id, 1);
	CHECK_EQ(m.event, VIRTIO_CONSOLE_CONSOLE_PORT);
	CHECK_EQ(m.value, 1);
	CHECK(recv_ctrl(&r[2], ctrl_rx, &m));
	CHECK_EQ(m.id, 1);
	CHECK_EQ(m.event, VIRTIO_CONSOLE_PORT_OPEN);
	CHECK_EQ(m.value, 1);
	/* ... and its waiting input went to queue 4. */
	uint32_t len;
	CHECK(dring_used(&r[4], NULL, &len));
	CHECK_EQ(len, 2);
	CHECK(!memcmp(guest_ptr(&vm.mem, BUF, 2), "p1", 2));
	CHECK_EQ(chr[1].npending, 0);

	/* Bogus messages (unknown port, unknown event, short) are consumed and ignored. */
	send_ctrl(vd, &r[3], ctrl_tx + 32, 7, VIRTIO_CONSOLE_PORT_READY, 1);
	send_ctrl(vd, &r[3], ctrl_tx + 48, 0, 0x1234, 1);
	dring_post1(&r[3], ctrl_tx, 3, false);
	vd->ops->queue_notify(vd, 3);
	CHECK(!recv_ctrl(&r[2], ctrl_rx, &m));

	/* Port 1 transmits to its own chardev. */
	memcpy(guest_ptr(&vm.mem, BUF + 0x100, 6), "second", 6);
	dring_post1(&r[5], BUF + 0x100, 6, false);
	vd->ops->queue_notify(vd, 5);
	CHECK(dring_used(&r[5], NULL, NULL));
	char text[16] = { 0 };
	CHECK_EQ(file_contents(&out[1], text, sizeof(text)), 6);
	CHECK_STR(text, "second");
	CHECK_EQ(file_contents(&out[0], text, sizeof(text)), 0);

	virtio_console_destroy(vd);
	for (int i = 0; i < 2; i++) {
		chardev_close(&chr[i]);
		unlink(out[i].path);
	}
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(guest_mem_init(&vm.mem, 32 << 20, 0xc0000000ULL), 0);

	single_port();
	multi_port();

	/* Port counts outside what the queues allow are refused. */
	struct error e = { { 0 } };
	struct chardev c[VIRTIO_CONSOLE_MAX_PORTS + 1];
	struct chardev *ports[VIRTIO_CONSOLE_MAX_PORTS + 1];
	struct error none = { { 0 } };
	for (int i = 0; i <= VIRTIO_CONSOLE_MAX_PORTS; i++) {
		chardev_open(&c[i], CHARDEV_NONE, NULL, &none);
		ports[i] = &c[i];
	}
	CHECK(virtio_console_create(&vm, ports, VIRTIO_CONSOLE_MAX_PORTS + 1, &e) == NULL);
	CHECK(strstr(e.msg, "virtconsole") != NULL);
	CHECK(virtio_console_create(&vm, ports, -1, &e) == NULL);
	/* No ports: a virtio-serial device that announces none, over MULTIPORT. */
	struct virtio_device *empty = virtio_console_create(&vm, ports, 0, &e);
	CHECK(empty != NULL);
	if (empty) {
		CHECK_EQ(empty->num_queues, 4);
		CHECK(empty->device_features & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT));
		CHECK(!(empty->device_features & (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE)));
		uint32_t max = 0;
		empty->ops->config_read(empty, 4, &max, 4);
		CHECK_EQ(max, 1);
		uint32_t ch = 'x';
		empty->ops->config_write(empty, 8, &ch, 4);
		empty->ops->queue_notify(empty, 0);
		empty->ops->queue_notify(empty, 1);
		virtio_console_destroy(empty);
	}
	ports[0] = NULL;
	CHECK(virtio_console_create(&vm, ports, 1, &e) == NULL);
	CHECK(strstr(e.msg, "no chardev") != NULL);

	vm_destroy(&vm);
	return test_exit();
}
