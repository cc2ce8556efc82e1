/*
 * The virtio-pci transport (see virtio_pci.h for the layout). Everything
 * the guest can reach here is a register: the common configuration, ISR,
 * device configuration and notification regions of BAR 4, and the PCI_CFG
 * window in config space. Each checks offset and width against the spec's
 * structure and ignores (or reads as 0) anything else: the guest is
 * hostile, and a driver that uses the wrong width gets no behaviour to
 * rely on.
 *
 * The PCI core moves the BAR regions when the guest relocates a BAR; the
 * bar_moved hook moves what it cannot, the ioeventfds of the notify
 * addresses. Locking: register handlers run under vm->io_lock (bus
 * dispatch); the ioeventfd callback takes it on the event loop.
 */
#include "hw/virtio/virtio_pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"

#define VIRTIO_PCI_REVISION 1
#define VIRTIO_PCI_CAP_SIZE 16
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20
#define VIRTIO_PCI_CFG_CAP_SIZE 20

struct virtio_pci;

/* One queue's kick by ioeventfd. */
struct virtio_pci_kick {
	struct virtio_pci *p;
	unsigned q;
	int fd;             /* -1: kicks go through the bus handler only */
	bool assigned;      /* registered with the accelerator at addr */
	uint64_t addr;
};

struct virtio_pci {
	struct pci_device pci;
	struct virtio_device *vd;
	struct vm *vm;
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint16_t queue_select;
	unsigned cfg_cap;   /* config offset of the PCI_CFG capability */
	int (*ioeventfd)(struct vm *vm, bool mmio, uint64_t addr, unsigned len, int fd, bool assign);
	struct virtio_pci_kick kick[VIRTIO_MAX_QUEUES];
	char name[32];
};

static uint32_t class_of(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000; /* Ethernet controller */
	case VIRTIO_ID_BLOCK:
		return 0x010000; /* SCSI storage controller, as other VMMs say */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* other communication controller */
	default:
		return 0x00ff00; /* unclassified: the rng and anything else */
	}
}

/* ---- interrupts ------------------------------------------------------------ */

/* INTA follows ISR, but never while MSI-X replaces it. */
static void update_intx(struct virtio_pci *p)
{
	pci_device_set_intx(&p->pci, p->vd->isr && !pci_msix_enabled(&p->pci));
}

static void vp_notify_queue(struct virtio_device *vd, unsigned q)
{
	struct virtio_pci *p = vd->transport_state;
	if (q >= vd->num_queues)
		return;
	if (pci_msix_enabled(&p->pci)) {
		if (vd->vq[q].msix_vector != VIRTIO_MSI_NO_VECTOR)
			pci_msix_notify(&p->pci, vd->vq[q].msix_vector);
		return;
	}
	vd->isr |= 1;
	update_intx(p);
}

static void vp_notify_config(struct virtio_device *vd)
{
	struct virtio_pci *p = vd->transport_state;
	/* Set with MSI-X too: section 4.1.4.5 has the driver look here. */
	vd->isr |= 2;
	if (pci_msix_enabled(&p->pci)) {
		if (vd->config_msix_vector != VIRTIO_MSI_NO_VECTOR)
			pci_msix_notify(&p->pci, vd->config_msix_vector);
		return;
	}
	update_intx(p);
}

static const struct virtio_transport_ops virtio_pci_transport = {
	.notify_queue = vp_notify_queue,
	.notify_config = vp_notify_config,
};

/* A vector the table has, or NO_VECTOR: what the driver reads back says
 * whether the mapping took (section 4.1.4.3). */
static uint16_t valid_vector(const struct virtio_pci *p, uint64_t v)
{
	return v < pci_msix_nvec(&p->pci) ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

/* ---- common configuration ------------------------------------------------- */

static struct virtq *selected_queue(struct virtio_pci *p)
{
	return p->queue_select < p->vd->num_queues ? &p->vd->vq[p->queue_select] : NULL;
}

/* The width each field takes; 64-bit fields also as two dwords. */
static bool common_access_ok(uint64_t off, unsigned size)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return size == 4;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return size == 2;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return size == 1;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return size == 4 || size == 8;
	default:
		return false;
	}
}

/* The 64-bit ring address a queue field offset names (low dword offset). */
static uint64_t *ring_addr(struct virtq *q, uint64_t off)
{
	switch (off & ~7ULL) {
	case VIRTIO_PCI_COMMON_Q_DESCLO:
		return &q->desc_addr;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
		return &q->avail_addr;
	default:
		return &q->used_addr;
	}
}

static uint64_t common_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *p = opaque;
	struct virtio_device *vd = p->vd;
	struct virtq *q = selected_queue(p);
	if (!common_access_ok(off, size))
		return 0;
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return p->device_feature_select;
	case VIRTIO_PCI_COMMON_DF:
		return p->device_feature_select < 2
			       ? (uint32_t)(vd->device_features >> (32 * p->device_feature_select))
			       : 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		return p->driver_feature_select;
	case VIRTIO_PCI_COMMON_GF:
		return p->driver_feature_select < 2
			       ? (uint32_t)(vd->driver_features >> (32 * p->driver_feature_select))
			       : 0;
	case VIRTIO_PCI_COMMON_MSIX:
		return vd->config_msix_vector;
	case VIRTIO_PCI_COMMON_NUMQ:
		return vd->num_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return vd->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return (uint8_t)vd->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return p->queue_select;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return q ? q->size : 0; /* 0: no such queue */
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return q ? q->msix_vector : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return q ? q->ready : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return q ? p->queue_select : 0;
	default: {
		if (!q)
			return 0;
		uint64_t a = *ring_addr(q, off);
		return size == 8 ? a : (uint32_t)(a >> (off & 4 ? 32 : 0));
	}
	}
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static void common_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct virtio_pci *p = opaque;
	struct virtio_device *vd = p->vd;
	struct virtq *q = selected_queue(p);
	if (!common_access_ok(off, size))
		return;
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		p->device_feature_select = (uint32_t)v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		p->driver_feature_select = (uint32_t)v;
		break;
	case VIRTIO_PCI_COMMON_GF: {
		/* Features are fixed once the device accepted them. */
		if (vd->status & VIRTIO_STATUS_FEATURES_OK || p->driver_feature_select >= 2)
			break;
		unsigned shift = 32 * p->driver_feature_select;
		vd->driver_features = (vd->driver_features & ~(0xffffffffULL << shift)) |
				      ((v & 0xffffffffULL) << shift);
		break;
	}
	case VIRTIO_PCI_COMMON_MSIX:
		vd->config_msix_vector = valid_vector(p, v);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_set_status(vd, (uint8_t)v);
		if (!vd->status) {
			/* Reset: the core cleared ISR; the transport forgets its selectors. */
			p->device_feature_select = p->driver_feature_select = 0;
			p->queue_select = 0;
			update_intx(p);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		p->queue_select = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		/* A split ring: a power of two no larger than offered. */
		if (q && !q->ready && is_pow2(v) && v <= vd->queue_max_size)
			q->size = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (q)
			q->msix_vector = valid_vector(p, v);
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* Only 1 may be written (no VIRTIO_F_RING_RESET). A ring outside
		 * guest RAM is refused: queue_enable reads back 0. */
		if (!q || v != 1 || q->ready)
			break;
		if (virtq_valid(q))
			q->ready = true;
		else
			log_debug("%s: queue %u: rings not in guest RAM, not enabled", p->name,
				  p->queue_select);
		break;
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		break; /* read-only */
	default: {
		if (!q || q->ready)
			break;
		uint64_t *a = ring_addr(q, off);
		if (size == 8)
			*a = v;
		else if (off & 4)
			*a = (*a & 0xffffffffULL) | (v & 0xffffffffULL) << 32;
		else
			*a = (*a & ~0xffffffffULL) | (v & 0xffffffffULL);
		break;
	}
	}
}

static const struct bus_ops common_ops = { .read = common_read, .write = common_write };

/* ---- ISR, device configuration, notifications ------------------------------ */

static uint64_t isr_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *p = opaque;
	(void)size;
	if (off != 0)
		return 0;
	/* Reading acknowledges: the bits clear and INTA drops. */
	uint8_t v = p->vd->isr;
	p->vd->isr = 0;
	update_intx(p);
	return v;
}

static void isr_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque, (void)off, (void)v, (void)size; /* read-only */
}

static const struct bus_ops isr_ops = { .read = isr_read, .write = isr_write };

static bool device_cfg_ok(const struct virtio_device *vd, uint64_t off, unsigned size)
{
	return off < vd->ops->config_size && size <= vd->ops->config_size - off;
}

static uint64_t device_cfg_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *p = opaque;
	struct virtio_device *vd = p->vd;
	uint64_t v = 0;
	if (vd->ops->config_read && device_cfg_ok(vd, off, size))
		vd->ops->config_read(vd, (unsigned)off, &v, size);
	return v;
}

static void device_cfg_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct virtio_pci *p = opaque;
	struct virtio_device *vd = p->vd;
	if (vd->ops->config_write && device_cfg_ok(vd, off, size))
		vd->ops->config_write(vd, (unsigned)off, &v, size);
}

static const struct bus_ops device_cfg_ops = { .read = device_cfg_read, .write = device_cfg_write };

/* The driver kicked queue q; out-of-range or disabled queues are ignored. */
static void kick(struct virtio_pci *p, unsigned q)
{
	struct virtio_device *vd = p->vd;
	if (q < vd->num_queues && vd->vq[q].ready && vd->ops->queue_notify)
		vd->ops->queue_notify(vd, q);
}

static uint64_t notify_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque, (void)off, (void)size;
	return 0;
}

static void notify_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)v; /* the address names the queue; the value (its index) adds nothing */
	if ((size != 2 && size != 4) || off % VIRTIO_PCI_NOTIFY_MULTIPLIER)
		return;
	kick(opaque, (unsigned)(off / VIRTIO_PCI_NOTIFY_MULTIPLIER));
}

static const struct bus_ops notify_ops = { .read = notify_read, .write = notify_write };

/* ---- ioeventfds ------------------------------------------------------------ */

static void kick_event(void *opaque, uint32_t events)
{
	struct virtio_pci_kick *k = opaque;
	uint64_t n;
	(void)events;
	if (read(k->fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(k->p->vd->lock);
	kick(k->p, k->q);
	pthread_mutex_unlock(k->p->vd->lock);
}

static void kicks_deassign(struct virtio_pci *p)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		struct virtio_pci_kick *k = &p->kick[q];
		if (!k->assigned)
			continue;
		p->ioeventfd(p->vm, true, k->addr, 2, k->fd, false);
		k->assigned = false;
	}
}

/* Notify region at bar_addr + VIRTIO_PCI_NOTIFY_OFFSET: one eventfd per queue. */
static void kicks_assign(struct virtio_pci *p, uint64_t bar_addr)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		struct virtio_pci_kick *k = &p->kick[q];
		if (k->fd < 0)
			continue;
		k->addr = bar_addr + VIRTIO_PCI_NOTIFY_OFFSET + q * VIRTIO_PCI_NOTIFY_MULTIPLIER;
		/* Linux writes the 16-bit queue index; other widths still trap. */
		int r = p->ioeventfd(p->vm, true, k->addr, 2, k->fd, true);
		k->assigned = !r;
		if (r)
			log_debug("%s: queue %u: no ioeventfd at 0x%llx: %s", p->name, q,
				  (unsigned long long)k->addr, strerror(-r));
	}
}

static void kicks_init(struct virtio_pci *p)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		p->kick[q] = (struct virtio_pci_kick){ .p = p, .q = q, .fd = -1 };
	if (!p->ioeventfd)
		return;
	for (unsigned q = 0; q < p->vd->num_queues; q++) {
		struct virtio_pci_kick *k = &p->kick[q];
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fd < 0)
			break;
		/* The event loop has a fixed number of slots: trapped kicks still work. */
		if (event_add_fd(&p->vm->loop, fd, EPOLLIN, kick_event, k)) {
			close(fd);
			log_debug("%s: queue %u: kicks trap to user space (event loop full)", p->name,
				  q);
			break;
		}
		k->fd = fd;
	}
}

static void kicks_destroy(struct virtio_pci *p)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		struct virtio_pci_kick *k = &p->kick[q];
		if (k->fd < 0)
			continue;
		event_del_fd(&p->vm->loop, k->fd);
		close(k->fd);
		k->fd = -1;
	}
}

/* ---- PCI config space ------------------------------------------------------ */

/*
 * The PCI_CFG window (section 4.1.4.9): the driver sets bar, offset and
 * length in the capability, and reading or writing pci_cfg_data performs
 * that access on the BAR. Lengths other than 1, 2, 4 and offsets not a
 * multiple of the length do nothing.
 */
static bool cfg_window(struct virtio_pci *p, int *bar, uint64_t *off, unsigned *len)
{
	unsigned c = p->cfg_cap;
	*bar = p->pci.config[c + VIRTIO_PCI_CAP_BAR];
	*off = pci_get_long(&p->pci, c + VIRTIO_PCI_CAP_OFFSET);
	uint32_t l = pci_get_long(&p->pci, c + VIRTIO_PCI_CAP_LENGTH);
	if ((l != 1 && l != 2 && l != 4) || *off % l || *bar >= PCI_NUM_BARS)
		return false;
	*len = l;
	return true;
}

static bool touches_cfg_data(const struct virtio_pci *p, unsigned offset, unsigned size)
{
	unsigned data = p->cfg_cap + VIRTIO_PCI_CAP_PCI_CFG_DATA;
	return offset < data + 4 && data < offset + size;
}

static uint32_t vp_config_read(struct pci_device *d, unsigned offset, unsigned size, uint32_t value)
{
	struct virtio_pci *p = d->opaque;
	int bar;
	uint64_t off, v = 0;
	unsigned len;
	if (!touches_cfg_data(p, offset, size) || !cfg_window(p, &bar, &off, &len))
		return value;
	if (!pci_device_bar_read(d, bar, off, len, &v))
		v = 0;
	unsigned data = p->cfg_cap + VIRTIO_PCI_CAP_PCI_CFG_DATA;
	for (unsigned i = 0; i < len; i++)
		d->config[data + i] = (uint8_t)(v >> (8 * i));
	uint32_t r = 0;
	for (unsigned i = 0; i < size; i++)
		r |= (uint32_t)d->config[offset + i] << (8 * i);
	return r;
}

static void vp_config_write(struct pci_device *d, unsigned offset, unsigned size, uint32_t value)
{
	struct virtio_pci *p = d->opaque;
	int bar;
	uint64_t off;
	unsigned len;
	(void)value;
	if (touches_cfg_data(p, offset, size) && cfg_window(p, &bar, &off, &len)) {
		unsigned data = p->cfg_cap + VIRTIO_PCI_CAP_PCI_CFG_DATA;
		uint64_t v = 0;
		for (unsigned i = 0; i < len; i++)
			v |= (uint64_t)d->config[data + i] << (8 * i);
		pci_device_bar_write(d, bar, off, len, v);
	}
	/* MSI-X Enable or COMMAND.INTX_DISABLE may have changed who signals. */
	update_intx(p);
}

static void vp_bar_moved(struct pci_device *d, int index, uint64_t old_addr, uint64_t new_addr)
{
	struct virtio_pci *p = d->opaque;
	(void)old_addr;
	if (index != VIRTIO_PCI_BAR || !p->ioeventfd)
		return;
	kicks_deassign(p);
	if (new_addr)
		kicks_assign(p, new_addr);
}

static const struct pci_device_ops virtio_pci_ops = {
	.config_read = vp_config_read,
	.config_write = vp_config_write,
	.bar_moved = vp_bar_moved,
};

/* ---- construction ---------------------------------------------------------- */

static unsigned add_vendor_cap(struct pci_device *d, uint8_t cfg_type, unsigned cap_len,
			       uint32_t offset, uint32_t length)
{
	unsigned c = pci_add_capability(d, PCI_CAP_ID_VNDR, cap_len);
	if (!c)
		return 0;
	d->config[c + VIRTIO_PCI_CAP_LEN] = (uint8_t)cap_len;
	d->config[c + VIRTIO_PCI_CAP_CFG_TYPE] = cfg_type;
	d->config[c + VIRTIO_PCI_CAP_BAR] = VIRTIO_PCI_BAR;
	d->config[c + VIRTIO_PCI_CAP_ID] = 0;
	pci_set_long(d, c + VIRTIO_PCI_CAP_OFFSET, offset);
	pci_set_long(d, c + VIRTIO_PCI_CAP_LENGTH, length);
	return c;
}

static int build_function(struct virtio_pci *p, const struct virtio_pci_options *o,
			  struct error *e)
{
	struct pci_device *d = &p->pci;
	struct virtio_device *vd = p->vd;
	uint16_t id = vd->ops->device_id;
	pci_device_init(d, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + id),
			class_of(id), VIRTIO_PCI_REVISION);
	d->name = p->name;
	d->ops = &virtio_pci_ops;
	d->opaque = p;
	pci_set_word(d, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_set_word(d, PCI_SUBSYSTEM_ID, VIRTIO_PCI_SUBSYSTEM_ID);
	d->config[PCI_INTERRUPT_PIN] = 1; /* INTA */

	uint64_t bar4 = o->mmio_base, bar1 = o->mmio_base + VIRTIO_PCI_BAR_SIZE;
	if (pci_device_set_bar(d, VIRTIO_PCI_BAR, bar4, VIRTIO_PCI_BAR_SIZE, false) ||
	    pci_device_set_bar(d, VIRTIO_PCI_MSIX_BAR, bar1, VIRTIO_PCI_MSIX_BAR_SIZE, false))
		return error_set(e, -EINVAL, "%s: BARs cannot go at 0x%llx (16 KiB aligned, below 4 GiB)",
				 p->name, (unsigned long long)o->mmio_base);

	unsigned cfg_size = vd->ops->config_size;
	if (cfg_size > VIRTIO_PCI_REGION_SIZE)
		return error_set(e, -EINVAL, "%s: device configuration of %u bytes exceeds %u",
				 p->name, cfg_size, VIRTIO_PCI_REGION_SIZE);
	int r = pci_device_add_bar_region(d, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFFSET,
					  VIRTIO_PCI_REGION_SIZE, &common_ops, p, "virtio-common");
	if (!r)
		r = pci_device_add_bar_region(d, VIRTIO_PCI_BAR, VIRTIO_PCI_ISR_OFFSET,
					      VIRTIO_PCI_REGION_SIZE, &isr_ops, p, "virtio-isr");
	if (!r && cfg_size)
		r = pci_device_add_bar_region(d, VIRTIO_PCI_BAR, VIRTIO_PCI_DEVICE_OFFSET,
					      VIRTIO_PCI_REGION_SIZE, &device_cfg_ops, p,
					      "virtio-device");
	if (!r)
		r = pci_device_add_bar_region(d, VIRTIO_PCI_BAR, VIRTIO_PCI_NOTIFY_OFFSET,
					      VIRTIO_PCI_REGION_SIZE, &notify_ops, p, "virtio-notify");
	if (r)
		return error_set(e, r, "%s: cannot lay out BAR %d", p->name, VIRTIO_PCI_BAR);

	bool ok = add_vendor_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_SIZE,
				 VIRTIO_PCI_COMMON_OFFSET, VIRTIO_PCI_COMMON_SIZE);
	unsigned n = add_vendor_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_CAP_SIZE,
				    VIRTIO_PCI_NOTIFY_OFFSET,
				    vd->num_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER);
	ok = ok && n;
	if (n)
		pci_set_long(d, n + VIRTIO_PCI_CAP_NOTIFY_MULT, VIRTIO_PCI_NOTIFY_MULTIPLIER);
	ok = ok && add_vendor_cap(d, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_SIZE,
				  VIRTIO_PCI_ISR_OFFSET, 1);
	if (cfg_size)
		ok = ok && add_vendor_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_SIZE,
					  VIRTIO_PCI_DEVICE_OFFSET, cfg_size);
	p->cfg_cap = add_vendor_cap(d, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_SIZE, 0, 0);
	if (!ok || !p->cfg_cap)
		return error_set(e, -ENOSPC, "%s: capabilities do not fit config space", p->name);
	/* The window's bar, offset, length and data are the driver's to set. */
	unsigned c = p->cfg_cap;
	d->config[c + VIRTIO_PCI_CAP_BAR] = 0;
	d->wmask[c + VIRTIO_PCI_CAP_BAR] = 0xff;
	memset(&d->wmask[c + VIRTIO_PCI_CAP_OFFSET], 0xff, 12);

	/* One vector per queue and one for configuration changes. */
	return pci_msix_init(d, p->vm, vd->num_queues + 1, VIRTIO_PCI_MSIX_BAR,
			     VIRTIO_PCI_MSIX_TABLE, VIRTIO_PCI_MSIX_PBA, e);
}

int virtio_pci_create(struct vm *vm, struct pci_bus *bus, struct virtio_device *vd,
		      const struct virtio_pci_options *o, struct error *e)
{
	struct virtio_pci *p = calloc(1, sizeof(*p));
	if (!p)
		return error_set(e, -ENOMEM, "%s-pci: out of memory", vd->ops->name);
	p->vd = vd;
	p->vm = vm;
	p->ioeventfd = o->ioeventfd;
	snprintf(p->name, sizeof(p->name), "%s-pci", vd->ops->name);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		p->kick[q].fd = -1;

	int r = build_function(p, o, e);
	if (!r) {
		kicks_init(p);
		vd->transport = &virtio_pci_transport;
		vd->transport_state = p;
		r = pci_register_device(bus, &p->pci, o->slot, e);
	}
	if (r) {
		kicks_destroy(p);
		pci_msix_destroy(&p->pci);
		vd->transport = NULL;
		vd->transport_state = NULL;
		free(p);
	}
	return r;
}

void virtio_pci_destroy(struct virtio_device *vd)
{
	struct virtio_pci *p = vd ? vd->transport_state : NULL;
	if (!p || vd->transport != &virtio_pci_transport)
		return;
	pci_unregister_device(&p->pci); /* unmaps the BARs: ioeventfds go too */
	kicks_destroy(p);
	pci_msix_destroy(&p->pci);
	vd->transport = NULL;
	vd->transport_state = NULL;
	free(p);
}

struct pci_device *virtio_pci_device(struct virtio_device *vd)
{
	struct virtio_pci *p = vd ? vd->transport_state : NULL;
	return p && vd->transport == &virtio_pci_transport ? &p->pci : NULL;
}
