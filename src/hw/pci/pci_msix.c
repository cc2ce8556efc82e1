/*
 * MSI-X for any PCI function (PCI Local Bus 3.0 / PCIe base spec, "MSI-X
 * Capability and Table Structure"): the 12-byte capability in config
 * space, the vector table and the pending-bit array (PBA) in a BAR.
 *
 *   capability +2  Message Control: table size - 1 (10:0, read-only),
 *                  Function Mask (14), MSI-X Enable (15)
 *              +4  Table offset (31:3) | BIR (2:0)
 *              +8  PBA offset (31:3) | BIR (2:0)
 *   table entry    16 bytes: address low, address high, data, vector control
 *                  (bit 0 = masked)
 *
 * A vector signalled while it or the function is masked sets its pending
 * bit; the message goes out when both masks clear. The table and the PBA
 * take aligned dword and qword accesses only; anything else reads 0 and is
 * dropped (the spec leaves it undefined, and the guest is hostile).
 *
 * Delivery. Where the VM offers MSI routes (vm_msi_route_add(): KVM's GSI
 * routing plus an irqfd), a vector gets one the first time it could
 * deliver: MSI-X enabled, neither the vector nor the function masked, and
 * an x86 MSI address (0xfeexxxxx). Sending is then a raise of the route
 * (an eventfd write) instead of an ioctl per message. Routes outlive
 * masking: the masks are checked here on every notify, under the bus
 * lock, so a masked vector only sets its pending bit and never raises its
 * route; that makes masking free of ioctls. Nothing but this file raises
 * a route, so leaving it armed while masked cannot leak an interrupt. A
 * route follows the table's message while the vector is unmasked (each
 * address or data write updates it) and is brought up to date on unmask,
 * before the pending bit is acted on (drivers rewrite messages masked).
 * Clearing MSI-X Enable, reset and destroy release every route. Without
 * routes (the software CPU's user-space LAPICs, a message outside the MSI
 * window, or a route the accelerator refused) messages go out through
 * vm_send_msi() as they always did.
 */
#include <errno.h>
#include <stdlib.h>

#include "hw/pci/pci_config.h"

#define MSIX_CAP_SIZE 12
#define MSIX_CONTROL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_CONTROL_MASKALL 0x4000
#define MSIX_CONTROL_ENABLE 0x8000
#define MSIX_ENTRY_SIZE 16
#define MSIX_VECTOR_MASKED 0x1
#define MSIX_MAX_VECTORS 2048

enum { ENTRY_ADDR_LO, ENTRY_ADDR_HI, ENTRY_DATA, ENTRY_CTRL };

/* A vector's accelerator route (see "Delivery" above). */
struct msix_route {
	int handle;    /* -1: none, messages go through vm_send_msi() */
	uint64_t addr; /* the message the route delivers */
	uint32_t data;
};

struct pci_msix {
	struct pci_device *d;
	struct vm *vm;
	unsigned nvec;
	unsigned cap;         /* config offset of the capability */
	uint32_t *table;      /* nvec entries of four dwords */
	uint64_t *pba;        /* (nvec + 63) / 64 qwords */
	struct msix_route *route; /* nvec entries */
	bool no_routes;       /* the VM has none: stop asking */
};

static uint16_t control(const struct pci_msix *m)
{
	return pci_get_word(m->d, m->cap + MSIX_CONTROL);
}

bool pci_msix_enabled(const struct pci_device *d)
{
	return d->msix && (control(d->msix) & MSIX_CONTROL_ENABLE);
}

unsigned pci_msix_nvec(const struct pci_device *d)
{
	return d->msix ? d->msix->nvec : 0;
}

static bool vector_masked(const struct pci_msix *m, unsigned v)
{
	return (control(m) & MSIX_CONTROL_MASKALL) ||
	       (m->table[v * 4 + ENTRY_CTRL] & MSIX_VECTOR_MASKED);
}

static uint64_t entry_addr(const struct pci_msix *m, unsigned v)
{
	return (uint64_t)m->table[v * 4 + ENTRY_ADDR_HI] << 32 | m->table[v * 4 + ENTRY_ADDR_LO];
}

static void route_release(struct pci_msix *m, unsigned v)
{
	struct msix_route *r = &m->route[v];
	if (r->handle < 0)
		return;
	vm_msi_route_remove(m->vm, r->handle);
	r->handle = -1;
}

static void routes_release(struct pci_msix *m)
{
	for (unsigned v = 0; v < m->nvec; v++)
		route_release(m, v);
}

/*
 * Brings vector v's route in line with the table after anything that may
 * have changed its message, its mask or MSI-X Enable. MSI-X disabled or a
 * message outside the MSI window drops the route; otherwise a masked
 * vector keeps what it has (it cannot send) and is synced on unmask.
 */
static void route_sync(struct pci_msix *m, unsigned v)
{
	struct msix_route *r = &m->route[v];
	uint64_t addr = entry_addr(m, v);
	uint32_t data = m->table[v * 4 + ENTRY_DATA];
	if (!(control(m) & MSIX_CONTROL_ENABLE) || (addr >> 20) != 0xfee) {
		route_release(m, v);
		return;
	}
	if (vector_masked(m, v))
		return;
	if (r->handle >= 0) {
		if (r->addr == addr && r->data == data)
			return;
		if (!vm_msi_route_update(m->vm, r->handle, addr, data)) {
			r->addr = addr, r->data = data;
			return;
		}
		route_release(m, v); /* the old message must not go out: vm_send_msi() */
		return;
	}
	if (m->no_routes)
		return;
	int h = vm_msi_route_add(m->vm, addr, data);
	if (h == -ENOTSUP)
		m->no_routes = true;
	if (h >= 0)
		*r = (struct msix_route){ .handle = h, .addr = addr, .data = data };
}

/* Only for a vector that is enabled and unmasked, so its route is current. */
static void send(struct pci_msix *m, unsigned v)
{
	if (m->route[v].handle >= 0)
		vm_msi_route_raise(m->vm, m->route[v].handle);
	else
		vm_send_msi(m->vm, entry_addr(m, v), m->table[v * 4 + ENTRY_DATA]);
}

/* Sends what became deliverable: pending vectors no longer masked. */
static void flush_pending(struct pci_msix *m)
{
	if (!(control(m) & MSIX_CONTROL_ENABLE) || (control(m) & MSIX_CONTROL_MASKALL))
		return;
	for (unsigned v = 0; v < m->nvec; v++) {
		if (!(m->pba[v / 64] >> (v % 64) & 1) || vector_masked(m, v))
			continue;
		m->pba[v / 64] &= ~(1ULL << (v % 64));
		send(m, v);
	}
}

void pci_msix_notify(struct pci_device *d, unsigned vector)
{
	struct pci_msix *m = d->msix;
	if (!m || vector >= m->nvec || !(control(m) & MSIX_CONTROL_ENABLE))
		return;
	if (vector_masked(m, vector))
		m->pba[vector / 64] |= 1ULL << (vector % 64);
	else
		send(m, vector);
}

void pci_msix_config_written(struct pci_device *d, unsigned offset, unsigned size)
{
	struct pci_msix *m = d->msix;
	unsigned ctl = m->cap + MSIX_CONTROL;
	if (offset < ctl + 2 && ctl < offset + size) {
		for (unsigned v = 0; v < m->nvec; v++)
			route_sync(m, v);
		flush_pending(m);
	}
}

/* Aligned dword or qword, else nothing (see the overview). */
static bool access_ok(uint64_t offset, unsigned size)
{
	return (size == 4 || size == 8) && !(offset & (size - 1));
}

static uint64_t table_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pci_msix *m = opaque;
	if (!access_ok(offset, size) || offset + size > (uint64_t)m->nvec * MSIX_ENTRY_SIZE)
		return 0;
	unsigned i = (unsigned)(offset / 4);
	uint64_t v = m->table[i];
	if (size == 8)
		v |= (uint64_t)m->table[i + 1] << 32;
	return v;
}

static void table_write_dword(struct pci_msix *m, unsigned i, uint32_t v)
{
	switch (i % 4) {
	case ENTRY_ADDR_LO:
		v &= ~3u; /* dword-aligned messages only */
		break;
	case ENTRY_CTRL:
		v &= MSIX_VECTOR_MASKED;
		break;
	default:
		break;
	}
	m->table[i] = v;
	route_sync(m, i / 4);
	if (i % 4 == ENTRY_CTRL && !(v & MSIX_VECTOR_MASKED))
		flush_pending(m);
}

static void table_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pci_msix *m = opaque;
	if (!access_ok(offset, size) || offset + size > (uint64_t)m->nvec * MSIX_ENTRY_SIZE)
		return;
	unsigned i = (unsigned)(offset / 4);
	table_write_dword(m, i, (uint32_t)value);
	if (size == 8)
		table_write_dword(m, i + 1, (uint32_t)(value >> 32));
}

static uint64_t pba_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pci_msix *m = opaque;
	uint64_t len = (m->nvec + 63) / 64 * 8;
	if (!access_ok(offset, size) || offset + size > len)
		return 0;
	uint64_t q = m->pba[offset / 8];
	return size == 8 ? q : (uint32_t)(q >> (offset % 8 * 8));
}

static void pba_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	/* Read-only. */
	(void)opaque, (void)offset, (void)value, (void)size;
}

static const struct bus_ops msix_table_ops = { .read = table_read, .write = table_write };
static const struct bus_ops msix_pba_ops = { .read = pba_read, .write = pba_write };

void pci_msix_reset(struct pci_device *d)
{
	struct pci_msix *m = d->msix;
	if (!m)
		return;
	routes_release(m);
	pci_set_word(d, m->cap + MSIX_CONTROL, (uint16_t)(m->nvec - 1));
	for (unsigned v = 0; v < m->nvec; v++) {
		m->table[v * 4 + ENTRY_ADDR_LO] = 0;
		m->table[v * 4 + ENTRY_ADDR_HI] = 0;
		m->table[v * 4 + ENTRY_DATA] = 0;
		m->table[v * 4 + ENTRY_CTRL] = MSIX_VECTOR_MASKED;
	}
	for (unsigned q = 0; q < (m->nvec + 63) / 64; q++)
		m->pba[q] = 0;
}

int pci_msix_init(struct pci_device *d, struct vm *vm, unsigned nvec, int bar, uint32_t table_off,
		  uint32_t pba_off, struct error *e)
{
	const char *name = d->name ? d->name : "pci device";
	/* Before registration, so that no region is mapped while half built. */
	if (d->msix || d->bus)
		return error_set(e, -EBUSY, "pci: %s: MSI-X set up twice or after registration",
				 name);
	if (!nvec || nvec > MSIX_MAX_VECTORS || bar < 0 || bar >= PCI_NUM_BARS ||
	    (table_off & 7) || (pba_off & 7))
		return error_set(e, -EINVAL, "pci: %s: bad MSI-X layout (%u vectors, BAR %d)", name,
				 nvec, bar);
	struct pci_msix *m = calloc(1, sizeof(*m));
	uint32_t *table = calloc(nvec, MSIX_ENTRY_SIZE);
	uint64_t *pba = calloc((nvec + 63) / 64, 8);
	struct msix_route *route = calloc(nvec, sizeof(*route));
	if (!m || !table || !pba || !route) {
		free(m), free(table), free(pba), free(route);
		return error_set(e, -ENOMEM, "pci: %s: out of memory for MSI-X", name);
	}
	*m = (struct pci_msix){
		.d = d, .vm = vm, .nvec = nvec, .table = table, .pba = pba, .route = route,
	};
	for (unsigned v = 0; v < nvec; v++)
		route[v].handle = -1;
	int r = pci_device_add_bar_region(d, bar, table_off, (uint64_t)nvec * MSIX_ENTRY_SIZE,
					  &msix_table_ops, m, "msix-table");
	if (!r)
		r = pci_device_add_bar_region(d, bar, pba_off, (nvec + 63) / 64 * 8, &msix_pba_ops,
					      m, "msix-pba");
	unsigned cap = r ? 0 : pci_add_capability(d, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
	if (!cap) {
		/* A region added before the failure would point at freed memory. */
		struct pci_bar *b = &d->bar[bar];
		while (b->nregions && b->region[b->nregions - 1].opaque == m)
			b->nregions--;
		free(m), free(table), free(pba), free(route);
		return error_set(e, r ? r : -ENOSPC, "pci: %s: no room for MSI-X in BAR %d or config space",
				 name, bar);
	}
	m->cap = cap;
	d->msix = m;
	pci_set_long(d, cap + MSIX_TABLE, table_off | (uint32_t)bar);
	pci_set_long(d, cap + MSIX_PBA, pba_off | (uint32_t)bar);
	d->wmask[cap + MSIX_CONTROL + 1] = (MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL) >> 8;
	pci_msix_reset(d);
	return 0;
}

void pci_msix_destroy(struct pci_device *d)
{
	struct pci_msix *m = d->msix;
	if (!m)
		return;
	d->msix = NULL;
	routes_release(m);
	free(m->route);
	free(m->table);
	free(m->pba);
	free(m);
}
