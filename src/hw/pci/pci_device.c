/*
 * A PCI function's 256-byte configuration space (type 0 header). Every
 * guest write goes through the per-bit write mask, which is how read-only
 * ids stay read-only and how BAR sizing works: the size bits of a BAR are
 * not writable, so writing all-ones reads back the size mask.
 */
#include <errno.h>
#include <string.h>

#include "hw/pci/pci_config.h"

/* Bits a guest may flip in COMMAND: I/O, memory, bus master, parity, SERR, INTx disable. */
#define PCI_COMMAND_WMASK 0x0547
#define PCI_BAR_IO_SPACE 0x1
/* x86 I/O space is 64 KiB, so I/O BARs decode 16 bits and read 0 above. */
#define PCI_BAR_IO_LIMIT 0x10000ULL
#define PCI_BAR_MEM_LIMIT 0x100000000ULL

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

	unsigned off = PCI_BAR0 + 4 * (unsigned)index;
	uint32_t mask = (uint32_t)~(size - 1) & (is_io ? 0xfffcu : 0xfffffff0u);
	put_le(&d->config[off], (uint32_t)addr | (is_io ? PCI_BAR_IO_SPACE : 0), 4);
	put_le(&d->wmask[off], mask, 4);
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

uint32_t pci_config_read(struct pci_device *d, unsigned offset, unsigned size)
{
	if (size > 4 || offset >= PCI_CONFIG_SIZE || size > PCI_CONFIG_SIZE - offset)
		return 0xffffffff;
	uint32_t v = get_le(&d->config[offset], size);
	if (d->ops && d->ops->config_read)
		v = d->ops->config_read(d, offset, size, v);
	return v;
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
	if (d->ops && d->ops->config_write)
		d->ops->config_write(d, offset, size, value);
}
