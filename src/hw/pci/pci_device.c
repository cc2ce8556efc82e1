/*
 * A PCI function's 256-byte configuration space (type 0 header). Every
 * guest write goes through the per-bit write mask, which is how read-only
 * ids stay read-only and how BAR sizing works: the size bits of a BAR are
 * not writable, so writing all-ones reads back the size mask.
 *
 * After the masked write the core acts on what changed: BAR regions follow
 * the BAR's address and COMMAND's decode bits, INTx follows
 * COMMAND.INTX_DISABLE, MSI-X follows its Message Control. Only then does
 * the device's own hook run, so it sees the new state.
 */
#include <errno.h>
#include <string.h>

#include "hw/pci/pci_config.h"
#include "util/log.h"

/* Bits a guest may flip in COMMAND: I/O, memory, bus master, parity, SERR, INTx disable. */
#define PCI_COMMAND_WMASK 0x0547
#define PCI_BAR_IO_SPACE 0x1
/* x86 I/O space is 64 KiB, so I/O BARs decode 16 bits and read 0 above. */
#define PCI_BAR_IO_LIMIT 0x10000ULL
#define PCI_BAR_MEM_LIMIT 0x100000000ULL
#define PCI_BAR_END (PCI_BAR0 + 4 * PCI_NUM_BARS)

static void put_le(uint8_t *p, uint32_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

void pci_device_init(struct pci_device *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision)
{
	memset(d->config, 0, sizeof(d->config));
	memset(d->wmask, 0, sizeof(d->wmask));
	memset(d->bar, 0, sizeof(d->bar));
	d->bus = NULL;
	d->vm = NULL;
	d->cap_next_free = PCI_CAP_START;
	d->cap_last = 0;
	d->msix = NULL;
	d->intx_wanted = d->intx_asserted = false;

	put_le(&d->config[PCI_VENDOR_ID], vendor, 2);
	put_le(&d->config[PCI_DEVICE_ID], device, 2);
	d->config[PCI_REVISION_ID] = revision;
	put_le(&d->config[PCI_CLASS_PROG], class_code, 3);
	d->config[PCI_HEADER_TYPE] = 0x00; /* type 0, single function */

	put_le(&d->wmask[PCI_COMMAND], PCI_COMMAND_WMASK, 2);
	/* Plain storage: guests program these, nothing here acts on them. */
	d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	d->wmask[PCI_LATENCY_TIMER] = 0xff;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_device_set_bar(struct pci_device *d, int index, uint64_t addr, uint64_t size, bool is_io)
{
	if (index < 0 || index >= PCI_NUM_BARS || !is_pow2(size) || (addr & (size - 1)))
		return -EINVAL;
	uint64_t limit = is_io ? PCI_BAR_IO_LIMIT : PCI_BAR_MEM_LIMIT;
	if (is_io ? size < 4 || size > 256 : size < 16 || size > 0x80000000ULL)
		return -EINVAL;
	if (addr > limit - size)
		return -EINVAL;
	/* Regions already declared must still fit. */
	struct pci_bar *bar = &d->bar[index];
	for (int i = 0; i < bar->nregions; i++)
		if (bar->region[i].offset + bar->region[i].len > size || bar->is_io != is_io)
			return -EINVAL;

	unsigned off = PCI_BAR0 + 4 * (unsigned)index;
	uint32_t mask = (uint32_t)~(size - 1) & (is_io ? 0xfffcu : 0xfffffff0u);
	put_le(&d->config[off], (uint32_t)addr | (is_io ? PCI_BAR_IO_SPACE : 0), 4);
	put_le(&d->wmask[off], mask, 4);
	bar->size = size;
	bar->is_io = is_io;
	pci_device_update_mappings(d);
	return 0;
}

uint64_t pci_device_bar_addr(const struct pci_device *d, int index)
{
	if (index < 0 || index >= PCI_NUM_BARS)
		return 0;
	unsigned off = PCI_BAR0 + 4 * (unsigned)index;
	if (!get_le(&d->wmask[off], 4))
		return 0;
	uint32_t bar = get_le(&d->config[off], 4);
	uint16_t cmd = (uint16_t)get_le(&d->config[PCI_COMMAND], 2);
	if (bar & PCI_BAR_IO_SPACE)
		return (cmd & PCI_COMMAND_IO) ? (bar & 0xfffcu) : 0;
	return (cmd & PCI_COMMAND_MEMORY) ? (bar & 0xfffffff0u) : 0;
}

int pci_device_add_bar_region(struct pci_device *d, int index, uint64_t offset, uint64_t len,
			      const struct bus_ops *ops, void *opaque, const char *name)
{
	if (index < 0 || index >= PCI_NUM_BARS || !ops || !len)
		return -EINVAL;
	struct pci_bar *bar = &d->bar[index];
	if (!bar->size || offset >= bar->size || len > bar->size - offset)
		return -EINVAL;
	for (int i = 0; i < bar->nregions; i++) {
		const struct pci_bar_region *r = &bar->region[i];
		if (offset < r->offset + r->len && r->offset < offset + len)
			return -EINVAL;
	}
	if (bar->nregions == PCI_BAR_MAX_REGIONS)
		return -ENOSPC;
	bar->region[bar->nregions++] = (struct pci_bar_region){
		.offset = offset, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	/* A BAR already decoding gets the new region now. */
	if (bar->mapped_addr) {
		struct pci_bar_region *r = &bar->region[bar->nregions - 1];
		struct bus *bus = bar->is_io ? &d->vm->pio : &d->vm->mmio;
		r->mapped = !bus_register(bus, bar->mapped_addr + offset, len, ops, opaque, name);
	}
	return 0;
}

static const struct pci_bar_region *find_region(const struct pci_device *d, int index,
						 uint64_t offset, unsigned size)
{
	if (index < 0 || index >= PCI_NUM_BARS)
		return NULL;
	const struct pci_bar *bar = &d->bar[index];
	for (int i = 0; i < bar->nregions; i++) {
		const struct pci_bar_region *r = &bar->region[i];
		if (offset >= r->offset && offset - r->offset < r->len &&
		    size <= r->len - (offset - r->offset))
			return r;
	}
	return NULL;
}

bool pci_device_bar_read(struct pci_device *d, int index, uint64_t offset, unsigned size,
			 uint64_t *value)
{
	const struct pci_bar_region *r = find_region(d, index, offset, size);
	if (!r)
		return false;
	*value = r->ops->read ? r->ops->read(r->opaque, offset - r->offset, size) : ~0ULL;
	return true;
}

bool pci_device_bar_write(struct pci_device *d, int index, uint64_t offset, unsigned size,
			  uint64_t value)
{
	const struct pci_bar_region *r = find_region(d, index, offset, size);
	if (!r)
		return false;
	if (r->ops->write)
		r->ops->write(r->opaque, offset - r->offset, value, size);
	return true;
}

static void unmap_bar(struct pci_device *d, struct pci_bar *bar)
{
	struct bus *bus = bar->is_io ? &d->vm->pio : &d->vm->mmio;
	for (int i = 0; i < bar->nregions; i++) {
		struct pci_bar_region *r = &bar->region[i];
		if (r->mapped)
			bus_unregister(bus, bar->mapped_addr + r->offset);
		r->mapped = false;
	}
	bar->mapped_addr = 0;
}

static void map_bar(struct pci_device *d, struct pci_bar *bar, int index, uint64_t addr)
{
	struct bus *bus = bar->is_io ? &d->vm->pio : &d->vm->mmio;
	for (int i = 0; i < bar->nregions; i++) {
		struct pci_bar_region *r = &bar->region[i];
		int err = bus_register(bus, addr + r->offset, r->len, r->ops, r->opaque, r->name);
		r->mapped = !err;
		/*
		 * The guest placed the BAR over something else (or another BAR,
		 * as during sizing with decoding on): what overlaps stays
		 * unreachable until the BAR moves again, as on real hardware
		 * where the result of such decoding is undefined.
		 */
		if (err)
			log_debug("pci: %s: BAR%d %s at 0x%llx not mapped: %s",
				  d->name ? d->name : "device", index, r->name ? r->name : "region",
				  (unsigned long long)(addr + r->offset), strerror(-err));
	}
	bar->mapped_addr = addr;
}

void pci_device_update_mappings(struct pci_device *d)
{
	if (!d->vm)
		return; /* not on a bus yet: mapped once registered */
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &d->bar[i];
		if (!bar->size)
			continue;
		uint64_t old = bar->mapped_addr, now = pci_device_bar_addr(d, i);
		if (now == old)
			continue;
		unmap_bar(d, bar);
		if (now)
			map_bar(d, bar, i, now);
		if (d->ops && d->ops->bar_moved)
			d->ops->bar_moved(d, i, old, now);
	}
}

void pci_device_unmap_all(struct pci_device *d)
{
	if (!d->vm)
		return;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &d->bar[i];
		uint64_t old = bar->mapped_addr;
		if (!old)
			continue;
		unmap_bar(d, bar);
		if (d->ops && d->ops->bar_moved)
			d->ops->bar_moved(d, i, old, 0);
	}
}

unsigned pci_add_capability(struct pci_device *d, uint8_t id, unsigned size)
{
	unsigned off = (d->cap_next_free + 3) & ~3u;
	if (size < 2 || off < PCI_CAP_START || off >= PCI_CONFIG_SIZE || size > PCI_CONFIG_SIZE - off)
		return 0;
	d->config[off] = id;
	d->config[off + 1] = 0; /* end of list */
	if (d->cap_last)
		d->config[d->cap_last + 1] = (uint8_t)off;
	else
		d->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
	put_le(&d->config[PCI_STATUS], get_le(&d->config[PCI_STATUS], 2) | PCI_STATUS_CAP_LIST, 2);
	d->cap_last = (uint8_t)off;
	d->cap_next_free = off + size;
	return off;
}

uint32_t pci_config_read(struct pci_device *d, unsigned offset, unsigned size)
{
	if (size > 4 || offset >= PCI_CONFIG_SIZE || size > PCI_CONFIG_SIZE - offset)
		return 0xffffffff;
	uint32_t v = get_le(&d->config[offset], size);
	if (d->ops && d->ops->config_read)
		v = d->ops->config_read(d, offset, size, v);
	return v;
}

static bool touches(unsigned offset, unsigned size, unsigned start, unsigned end)
{
	return offset < end && start < offset + size;
}

void pci_config_write(struct pci_device *d, unsigned offset, unsigned size, uint32_t value)
{
	if (size > 4 || offset >= PCI_CONFIG_SIZE || size > PCI_CONFIG_SIZE - offset)
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t wm = d->wmask[offset + i];
		uint8_t b = (uint8_t)(value >> (8 * i));
		d->config[offset + i] = (uint8_t)((d->config[offset + i] & ~wm) | (b & wm));
	}
	bool command = touches(offset, size, PCI_COMMAND, PCI_COMMAND + 2);
	if (command || touches(offset, size, PCI_BAR0, PCI_BAR_END))
		pci_device_update_mappings(d);
	if (command)
		pci_bus_update_intx(d);
	if (d->msix)
		pci_msix_config_written(d, offset, size);
	if (d->ops && d->ops->config_write)
		d->ops->config_write(d, offset, size, value);
}
