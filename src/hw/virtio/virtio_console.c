/*
 * virtio-console: console ports between the guest and chardevs.
 *
 * Queues: port 0 uses receiveq 0 / transmitq 1. With more than one port
 * the device offers MULTIPORT; then queue 2 carries control messages to
 * the driver, queue 3 control messages from it, and port n > 0 uses
 * queues 2n+2 / 2n+3.
 *
 * Input: the chardev calls console_receive() (with vm->io_lock held) and
 * the bytes go into the port's posted receive buffers; when there are
 * none, the port takes nothing and the chardev keeps the bytes (and stops
 * reading its fd) until the guest posts more and we call
 * chardev_accept_input(). Output: each transmit buffer is written to the
 * chardev as it is popped.
 *
 * MULTIPORT handshake (driver -> device, device -> driver):
 *   DEVICE_READY(1)  ->  DEVICE_ADD for every port
 *   PORT_READY(n, 1) ->  CONSOLE_PORT(n, 1), PORT_OPEN(n, 1)
 *   PORT_OPEN(n, v)      the guest opened/closed the port (noted only)
 * Messages for the driver wait in a small FIFO until it posts control
 * receive buffers; a guest that floods requests only loses its answers.
 */
#include "hw/virtio/virtio_console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_QUEUE_SIZE 256
#define CTRL_RX_QUEUE 2
#define CTRL_TX_QUEUE 3
#define CTRL_FIFO 32
/* Config space: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
#define CONSOLE_CONFIG_SIZE 12
#define CONFIG_EMERG_WR 8

struct console_ctrl {
	uint32_t id;
	uint16_t event;
	uint16_t value;
} __attribute__((packed));

_Static_assert(sizeof(struct console_ctrl) == 8, "virtio_console_control");

struct virtio_console;

struct console_port {
	struct virtio_console *con;
	struct chardev *chr;
	unsigned id;
	bool ready;      /* MULTIPORT: the driver set the port up */
	bool guest_open; /* MULTIPORT: a guest process has it open */
};

struct virtio_console {
	struct virtio_device vd;
	int nports;
	bool broken; /* the guest corrupted a queue: nothing moves until reset */
	struct console_port port[VIRTIO_CONSOLE_MAX_PORTS];
	struct console_ctrl ctrl[CTRL_FIFO];
	unsigned ctrl_head, ctrl_count;
	struct virtq_elem elem; /* large: kept here, not on the stack */
};

static struct virtio_console *to_con(struct virtio_device *vd)
{
	return vd->dev;
}

static bool multiport(const struct virtio_console *c)
{
	return virtio_has_feature(&c->vd, VIRTIO_CONSOLE_F_MULTIPORT);
}

static unsigned rx_queue(unsigned port)
{
	return port ? 2 * port + 2 : 0;
}

static bool running(const struct virtio_console *c)
{
	return !c->broken && (c->vd.status & VIRTIO_STATUS_DRIVER_OK);
}

/* Pops from q; on a malformed ring marks the device broken. */
static int console_pop(struct virtio_console *c, struct virtq *q)
{
	int r = virtq_pop(q, &c->elem);
	if (r < 0) {
		c->broken = true;
		virtio_set_needs_reset(&c->vd);
	}
	return r;
}

static bool port_accepts_input(const struct console_port *p)
{
	const struct virtio_console *c = p->con;
	if (!running(c) || !c->vd.vq[rx_queue(p->id)].ready)
		return false;
	return multiport(c) ? p->ready : p->id == 0;
}

/* The chardev's receive hook: takes what fits in the posted buffers. */
static size_t console_receive(void *opaque, const uint8_t *buf, size_t n)
{
	struct console_port *p = opaque;
	struct virtio_console *c = p->con;
	if (!port_accepts_input(p))
		return 0;
	unsigned qi = rx_queue(p->id);
	struct virtq *q = &c->vd.vq[qi];
	size_t taken = 0;
	bool pushed = false;
	/* Bounded even if the guest posts buffers with no writable space. */
	for (unsigned budget = q->size; taken < n && budget; budget--) {
		if (console_pop(c, q) <= 0)
			break;
		size_t w = iov_from_buf(c->elem.iov + c->elem.nout, c->elem.nin, 0, buf + taken,
					 n - taken);
		virtq_push(q, &c->elem, (uint32_t)w);
		pushed = true;
		taken += w;
	}
	if (pushed)
		virtio_notify_queue(&c->vd, qi);
	return taken;
}

static void port_transmit(struct console_port *p)
{
	struct virtio_console *c = p->con;
	unsigned qi = rx_queue(p->id) + 1;
	struct virtq *q = &c->vd.vq[qi];
	if (!running(c) || !q->ready)
		return;
	bool pushed = false;
	/* One ring's worth per kick: a guest refilling as fast as we drain
	 * must not keep us here. */
	for (unsigned budget = q->size; budget; budget--) {
		if (console_pop(c, q) <= 0)
			break;
		const struct virtq_elem *e = &c->elem;
		for (unsigned i = 0; i < e->nout; i++)
			chardev_write(p->chr, e->iov[i].iov_base, e->iov[i].iov_len);
		virtq_push(q, e, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify_queue(&c->vd, qi);
}

static void ctrl_queue_msg(struct virtio_console *c, uint32_t id, uint16_t event, uint16_t value)
{
	if (c->ctrl_count == CTRL_FIFO)
		return; /* only a misbehaving driver asks for this many answers */
	c->ctrl[(c->ctrl_head + c->ctrl_count) % CTRL_FIFO] =
		(struct console_ctrl){ .id = id, .event = event, .value = value };
	c->ctrl_count++;
}

/* Hands queued control messages to the driver's control receive buffers. */
static void ctrl_flush(struct virtio_console *c)
{
	struct virtq *q = &c->vd.vq[CTRL_RX_QUEUE];
	if (!running(c) || !multiport(c) || !q->ready)
		return;
	bool pushed = false;
	while (c->ctrl_count) {
		if (console_pop(c, q) <= 0)
			break;
		size_t w = iov_from_buf(c->elem.iov + c->elem.nout, c->elem.nin, 0,
					 &c->ctrl[c->ctrl_head], sizeof(c->ctrl[0]));
		virtq_push(q, &c->elem, (uint32_t)w);
		pushed = true;
		c->ctrl_head = (c->ctrl_head + 1) % CTRL_FIFO;
		c->ctrl_count--;
	}
	if (pushed)
		virtio_notify_queue(&c->vd, CTRL_RX_QUEUE);
}

static void ctrl_handle(struct virtio_console *c, const struct console_ctrl *m)
{
	struct console_port *p = m->id < (uint32_t)c->nports ? &c->port[m->id] : NULL;
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (m->value != 1)
			break; /* the driver gave up on the device */
		for (int i = 0; i < c->nports; i++)
			ctrl_queue_msg(c, (uint32_t)i, VIRTIO_CONSOLE_DEVICE_ADD, 1);
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (!p)
			break;
		p->ready = m->value == 1;
		if (!p->ready)
			break;
		/* Every port here is a console, and its host side is always open. */
		ctrl_queue_msg(c, p->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
		ctrl_queue_msg(c, p->id, VIRTIO_CONSOLE_PORT_OPEN, 1);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (p)
			p->guest_open = m->value != 0;
		break;
	default:
		break; /* device-to-driver events, or unknown: ignored */
	}
}

static void ctrl_receive(struct virtio_console *c)
{
	struct virtq *q = &c->vd.vq[CTRL_TX_QUEUE];
	if (!running(c) || !multiport(c) || !q->ready)
		return;
	bool pushed = false;
	for (unsigned budget = q->size; budget; budget--) {
		if (console_pop(c, q) <= 0)
			break;
		struct console_ctrl m;
		if (iov_to_buf(c->elem.iov, c->elem.nout, 0, &m, sizeof(m)) == sizeof(m))
			ctrl_handle(c, &m);
		virtq_push(q, &c->elem, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify_queue(&c->vd, CTRL_TX_QUEUE);
	ctrl_flush(c);
	/* A port that just became ready may have input waiting. */
	for (int i = 0; i < c->nports; i++)
		chardev_accept_input(c->port[i].chr);
}

static uint64_t console_features(struct virtio_device *vd)
{
	uint64_t f = 0;
	if (to_con(vd)->nports > 0)
		f |= 1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE;
	/* Without MULTIPORT the driver assumes exactly one port, 0. */
	if (to_con(vd)->nports != 1)
		f |= 1ULL << VIRTIO_CONSOLE_F_MULTIPORT;
	return f;
}

static void console_config_read(struct virtio_device *vd, unsigned offset, void *buf,
				unsigned len)
{
	uint8_t cfg[CONSOLE_CONFIG_SIZE] = { 0 };
	/* cols and rows stay 0: F_SIZE is not offered. */
	int n = to_con(vd)->nports;
	/* A portless device still reports one slot: its queues exist. */
	uint32_t max_ports = (uint32_t)(n ? n : 1);
	memcpy(cfg + 4, &max_ports, 4);
	if (offset > sizeof(cfg) || len > sizeof(cfg) - offset) {
		memset(buf, 0, len);
		return;
	}
	memcpy(buf, cfg + offset, len);
}

static void console_config_write(struct virtio_device *vd, unsigned offset, const void *buf,
				 unsigned len)
{
	struct virtio_console *c = to_con(vd);
	/* emerg_wr: the low byte is a character for port 0, even before DRIVER_OK. */
	if (!c->nports || !virtio_has_feature(vd, VIRTIO_CONSOLE_F_EMERG_WRITE))
		return;
	if (offset <= CONFIG_EMERG_WR && len > CONFIG_EMERG_WR - offset)
		chardev_write(c->port[0].chr, (const uint8_t *)buf + (CONFIG_EMERG_WR - offset), 1);
}

static void console_start(struct virtio_device *vd)
{
	struct virtio_console *c = to_con(vd);
	if (multiport(c))
		ctrl_receive(c);
	for (int i = 0; i < c->nports; i++) {
		port_transmit(&c->port[i]);
		chardev_accept_input(c->port[i].chr);
	}
}

static void console_queue_notify(struct virtio_device *vd, unsigned q)
{
	struct virtio_console *c = to_con(vd);
	if (q == CTRL_RX_QUEUE || q == CTRL_TX_QUEUE) {
		if (q == CTRL_RX_QUEUE)
			ctrl_flush(c);
		else
			ctrl_receive(c);
		return;
	}
	unsigned port = q < 2 ? 0 : q / 2 - 1;
	if (port >= (unsigned)c->nports)
		return;
	if (q & 1)
		port_transmit(&c->port[port]);
	else
		chardev_accept_input(c->port[port].chr); /* new receive buffers */
}

static void console_reset(struct virtio_device *vd)
{
	struct virtio_console *c = to_con(vd);
	c->broken = false;
	c->ctrl_head = c->ctrl_count = 0;
	for (int i = 0; i < c->nports; i++)
		c->port[i].ready = c->port[i].guest_open = false;
}

static const struct virtio_device_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = console_features,
	.config_size = CONSOLE_CONFIG_SIZE,
	.config_read = console_config_read,
	.config_write = console_config_write,
	.start = console_start,
	.queue_notify = console_queue_notify,
	.reset = console_reset,
};

struct virtio_device *virtio_console_create(struct vm *vm, struct chardev **ports, int nports,
					    struct error *e)
{
	if (nports < 0 || nports > VIRTIO_CONSOLE_MAX_PORTS) {
		error_set(e, -EINVAL, "virtconsole: %d ports requested, at most %d supported", nports,
			  VIRTIO_CONSOLE_MAX_PORTS);
		return NULL;
	}
	for (int i = 0; i < nports; i++) {
		if (!ports[i]) {
			error_set(e, -EINVAL, "virtconsole: port %d has no chardev", i);
			return NULL;
		}
	}
	struct virtio_console *c = calloc(1, sizeof(*c));
	if (!c) {
		error_set(e, -ENOMEM, "virtconsole: out of memory");
		return NULL;
	}
	c->nports = nports;
	unsigned nqueues = nports == 1 ? 2 : 2 * ((unsigned)(nports ? nports : 1) + 1);
	virtio_device_init(&c->vd, vm, &console_ops, c, nqueues, CONSOLE_QUEUE_SIZE);
	for (int i = 0; i < nports; i++) {
		c->port[i] = (struct console_port){ .con = c, .chr = ports[i], .id = (unsigned)i };
		chardev_attach(ports[i], console_receive, &c->port[i], &vm->io_lock);
	}
	return &c->vd;
}

void virtio_console_destroy(struct virtio_device *vd)
{
	if (!vd)
		return;
	struct virtio_console *c = to_con(vd);
	for (int i = 0; i < c->nports; i++)
		chardev_attach(c->port[i].chr, NULL, NULL, NULL);
	free(c);
}
