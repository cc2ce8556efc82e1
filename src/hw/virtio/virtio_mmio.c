/*
 * virtio-mmio, version 2 (virtio 1.2 section 4.2). The guest drives the
 * device through 32-bit registers in a 0x200-byte window; the device
 * configuration space follows at 0x100 and takes any access size that
 * stays inside it. The window belongs to vm->mmio, so every access
 * arrives with vm->io_lock held.
 *
 * Interrupts: one line, level-triggered. InterruptStatus bit 0 (used
 * buffers) and bit 1 (configuration change) are set by the device side
 * (virtio_notify_queue/virtio_notify_config end here); the line stays
 * asserted until the driver has acknowledged every set bit.
 *
 * The guest is not trusted: unaligned or non-32-bit register accesses,
 * unknown offsets, out-of-range selectors and writes the state machine
 * does not allow at that point are ignored (reads return 0), and a queue
 * is only enabled when virtq_valid() accepts its size and ring addresses.
 */
#include "hw/virtio/virtio_mmio.h"

#include <errno.h>
#include <stdlib.h>

struct virtio_mmio {
	struct virtio_device *vd;
	struct vm *vm;
	uint64_t base;
	struct irq_line irq;
	bool level;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t shm_sel;
};

static void mmio_update_irq(struct virtio_mmio *m)
{
	bool level = (m->vd->isr & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)) != 0;
	if (level != m->level) {
		m->level = level;
		irq_line_set(&m->irq, level);
	}
}

static void mmio_notify_queue(struct virtio_device *vd, unsigned q)
{
	(void)q;
	vd->isr |= VIRTIO_MMIO_INT_VRING;
	mmio_update_irq(vd->transport_state);
}

static void mmio_notify_config(struct virtio_device *vd)
{
	vd->isr |= VIRTIO_MMIO_INT_CONFIG;
	mmio_update_irq(vd->transport_state);
}

static const struct virtio_transport_ops mmio_transport_ops = {
	.notify_queue = mmio_notify_queue,
	.notify_config = mmio_notify_config,
};

/* The selected queue, or NULL if QueueSel names none. */
static struct virtq *selected_queue(struct virtio_mmio *m)
{
	struct virtio_device *vd = m->vd;
	return m->queue_sel < vd->num_queues ? &vd->vq[m->queue_sel] : NULL;
}

static uint64_t config_read(struct virtio_mmio *m, uint64_t off, unsigned size)
{
	const struct virtio_device_ops *ops = m->vd->ops;
	uint64_t v = 0;
	if (!ops->config_read || off > ops->config_size || size > ops->config_size - off)
		return 0;
	ops->config_read(m->vd, (unsigned)off, &v, size);
	return v;
}

static void config_write(struct virtio_mmio *m, uint64_t off, uint64_t v, unsigned size)
{
	const struct virtio_device_ops *ops = m->vd->ops;
	if (!ops->config_write || off > ops->config_size || size > ops->config_size - off)
		return;
	ops->config_write(m->vd, (unsigned)off, &v, size);
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct virtio_mmio *m = opaque;
	struct virtio_device *vd = m->vd;
	if (offset >= VIRTIO_MMIO_CONFIG)
		return config_read(m, offset - VIRTIO_MMIO_CONFIG, size);
	if (size != 4 || (offset & 3))
		return 0;

	struct virtq *q = selected_queue(m);
	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION_REG:
		return VIRTIO_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return vd->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (m->device_features_sel > 1)
			return 0;
		return (uint32_t)(vd->device_features >> (32 * m->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? q->max_size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vd->isr & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	case VIRTIO_MMIO_STATUS:
		return vd->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* All ones: no shared memory region with this id. */
		return 0xffffffffu;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vd->config_generation;
	default:
		/* Write-only registers, QueueReset (not offered), holes. */
		return 0;
	}
}

static void set_low(uint64_t *reg, uint32_t v)
{
	*reg = (*reg & 0xffffffff00000000ULL) | v;
}

static void set_high(uint64_t *reg, uint32_t v)
{
	*reg = (*reg & 0xffffffffULL) | (uint64_t)v << 32;
}

static void queue_set_ready(struct virtio_mmio *m, struct virtq *q, uint32_t v)
{
	struct virtio_device *vd = m->vd;
	if (!v) {
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	/* Rings are set up after feature negotiation (section 3.1.1): the
	 * queue's event-idx and indirect modes are known only then. */
	if (!(vd->status & VIRTIO_STATUS_FEATURES_OK) || !virtq_valid(q)) {
		virtio_set_needs_reset(vd);
		return;
	}
	q->ready = true;
}

static void mmio_reset(struct virtio_mmio *m)
{
	m->device_features_sel = m->driver_features_sel = 0;
	m->queue_sel = m->shm_sel = 0;
	virtio_set_status(m->vd, 0);
	m->vd->isr = 0;
	mmio_update_irq(m);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct virtio_mmio *m = opaque;
	struct virtio_device *vd = m->vd;
	if (offset >= VIRTIO_MMIO_CONFIG) {
		config_write(m, offset - VIRTIO_MMIO_CONFIG, value, size);
		return;
	}
	if (size != 4 || (offset & 3))
		return;

	uint32_t v = (uint32_t)value;
	struct virtq *q = selected_queue(m);
	/* A live queue's configuration is frozen (section 4.2.2.2). */
	struct virtq *idle_q = q && !q->ready ? q : NULL;
	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->device_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Features are fixed once the driver has set FEATURES_OK. */
		if (m->driver_features_sel > 1 || (vd->status & VIRTIO_STATUS_FEATURES_OK))
			break;
		if (m->driver_features_sel == 0)
			vd->driver_features = (vd->driver_features & 0xffffffff00000000ULL) | v;
		else
			vd->driver_features = (vd->driver_features & 0xffffffffULL) |
					      (uint64_t)v << 32;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->driver_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		/* Out-of-range sizes are kept as 0 so that enabling fails. */
		if (idle_q)
			idle_q->size = v <= VIRTQ_MAX_SIZE ? (uint16_t)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q)
			queue_set_ready(m, q, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index. */
		if (v < vd->num_queues && vd->vq[v].ready &&
		    (vd->status & VIRTIO_STATUS_DRIVER_OK) &&
		    !(vd->status & VIRTIO_STATUS_NEEDS_RESET) && vd->ops->queue_notify)
			vd->ops->queue_notify(vd, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		vd->isr &= (uint8_t)~v;
		mmio_update_irq(m);
		break;
	case VIRTIO_MMIO_STATUS:
		if ((v & 0xff) == 0)
			mmio_reset(m);
		else
			virtio_set_status(vd, (uint8_t)v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		if (idle_q)
			set_low(&idle_q->desc_addr, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (idle_q)
			set_high(&idle_q->desc_addr, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		if (idle_q)
			set_low(&idle_q->avail_addr, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (idle_q)
			set_high(&idle_q->avail_addr, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		if (idle_q)
			set_low(&idle_q->used_addr, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (idle_q)
			set_high(&idle_q->used_addr, v);
		break;
	case VIRTIO_MMIO_SHM_SEL:
		m->shm_sel = v;
		break;
	default:
		break; /* read-only registers, QueueReset (not offered), holes */
	}
}

static const struct bus_ops mmio_bus_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

int virtio_mmio_create(struct vm *vm, struct virtio_device *vd, uint64_t base, unsigned gsi,
		       struct error *e)
{
	const char *name = vd->ops->name ? vd->ops->name : "virtio";
	if (vd->transport)
		return error_set(e, -EBUSY, "%s: already has a transport", name);
	struct virtio_mmio *m = calloc(1, sizeof(*m));
	if (!m)
		return error_set(e, -ENOMEM, "%s: out of memory", name);
	m->vd = vd;
	m->vm = vm;
	m->base = base;
	m->irq = vm_irq_line(vm, gsi);
	int r = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &mmio_bus_ops, m, name);
	if (r) {
		free(m);
		return error_set(e, r, "%s: cannot place virtio-mmio registers at 0x%llx", name,
				 (unsigned long long)base);
	}
	vd->transport = &mmio_transport_ops;
	vd->transport_state = m;
	return 0;
}

void virtio_mmio_destroy(struct virtio_device *vd)
{
	if (!vd || vd->transport != &mmio_transport_ops)
		return;
	struct virtio_mmio *m = vd->transport_state;
	bus_unregister(&m->vm->mmio, m->base);
	if (m->level)
		irq_line_set(&m->irq, false);
	vd->transport = NULL;
	vd->transport_state = NULL;
	free(m);
}
