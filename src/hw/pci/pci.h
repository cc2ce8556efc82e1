/*
 * PCI bus 0 behind a host bridge using configuration mechanism #1
 * (0xcf8 address, 0xcfc-0xcff data). Devices own a 256-byte configuration
 * space; kemu places their BARs itself (no firmware) with
 * pci_device_set_bar(), and the guest may move them later.
 *
 * What the PCI core does for a device so that it need not:
 *  - BAR contents: a device declares what lives inside each BAR
 *    (pci_device_add_bar_region); the core registers those regions on
 *    vm->mmio / vm->pio wherever the BAR currently decodes, and moves them
 *    when the guest rewrites the BAR or toggles COMMAND.MEM/IO. The
 *    device's bar_moved hook hears about each move (for things the core
 *    cannot move itself, such as KVM ioeventfds).
 *  - the capability list (pci_add_capability) and MSI-X (pci_msix.c:
 *    capability, vector table, pending bits, message delivery).
 *  - INTx: a device states its wish with pci_device_set_intx(); the bus
 *    honours COMMAND.INTX_DISABLE, mirrors STATUS.INTERRUPT, and wire-ORs
 *    devices sharing a GSI (the board's routing decides which GSI).
 *
 * Port 0xcf9 (byte access) is the reset control register and the FADT's
 * reset register (ACPI_RESET_PORT): writing a value with bit 2 set resets.
 *
 * Locking: everything here runs under vm->io_lock (config cycles arrive
 * through bus dispatch, which holds it).
 */
#ifndef KEMU_HW_PCI_PCI_H
#define KEMU_HW_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/vm.h"
#include "util/error.h"

#define PCI_MAX_DEVICES 32
#define PCI_CONFIG_SIZE 256

/* Type 0 header registers. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_NUM_BARS 6
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d /* 1-4 = INTA-INTD, 0 = none */

/* Capability ids. */
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* Where capabilities may go: after the header, dword aligned. */
#define PCI_CAP_START 0x40

/* Regions inside one BAR (virtio-pci uses five in two BARs). */
#define PCI_BAR_MAX_REGIONS 8

struct pci_device;
struct pci_bus;
struct pci_msix;

struct pci_device_ops {
	/* Optional hooks after the generic config-space handling. */
	uint32_t (*config_read)(struct pci_device *d, unsigned offset, unsigned size, uint32_t value);
	void (*config_write)(struct pci_device *d, unsigned offset, unsigned size, uint32_t value);
	/*
	 * Optional: BAR index now decodes at new_addr (0 = not at all) instead
	 * of old_addr; its regions have already been moved.
	 */
	void (*bar_moved)(struct pci_device *d, int index, uint64_t old_addr, uint64_t new_addr);
};

struct pci_bar_region {
	uint64_t offset, len;  /* within the BAR */
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
	bool mapped;           /* registered on the bus right now */
};

struct pci_bar {
	uint64_t size;
	bool is_io;
	uint64_t mapped_addr;  /* where its regions are registered, 0 = nowhere */
	int nregions;
	struct pci_bar_region region[PCI_BAR_MAX_REGIONS];
};

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE]; /* bits the guest may write */
	const struct pci_device_ops *ops;
	void *opaque;
	unsigned devfn;
	const char *name;

	/* Managed by the PCI core; initialised by pci_device_init(). */
	struct pci_bus *bus;            /* set by pci_register_device() */
	struct vm *vm;
	struct pci_bar bar[PCI_NUM_BARS];
	unsigned cap_next_free;         /* next free capability offset */
	uint8_t cap_last;               /* offset of the last capability, 0 = none */
	struct pci_msix *msix;          /* set by pci_msix_init() */
	bool intx_wanted;               /* the device's INTx level */
	bool intx_asserted;             /* what the bus counts for its GSI */
};

/* Little-endian accessors for a device's own config space. */
static inline void pci_set_byte(struct pci_device *d, unsigned off, uint8_t v)
{
	d->config[off] = v;
}
static inline void pci_set_word(struct pci_device *d, unsigned off, uint16_t v)
{
	d->config[off] = (uint8_t)v;
	d->config[off + 1] = (uint8_t)(v >> 8);
}
static inline void pci_set_long(struct pci_device *d, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		d->config[off + i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t pci_get_word(const struct pci_device *d, unsigned off)
{
	return (uint16_t)(d->config[off] | d->config[off + 1] << 8);
}
static inline uint32_t pci_get_long(const struct pci_device *d, unsigned off)
{
	return (uint32_t)d->config[off] | (uint32_t)d->config[off + 1] << 8 |
	       (uint32_t)d->config[off + 2] << 16 | (uint32_t)d->config[off + 3] << 24;
}

struct pci_bus *pci_host_create(struct vm *vm, struct error *e);
void pci_host_destroy(struct pci_bus *b);
/*
 * INTx routing of the platform: the GSI that slot's pin (0 = INTA .. 3 =
 * INTD) reaches. Without one, INTx goes nowhere. The board sets it to
 * match the _PRT it describes to the guest.
 */
void pci_host_set_intx_route(struct pci_bus *b, unsigned (*gsi_of)(unsigned slot, unsigned pin));

/* Initialises config with ids and class, sensible write masks. */
void pci_device_init(struct pci_device *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision);
/*
 * BAR index (0-5) at addr, size bytes (a power of two: 4-256 for I/O,
 * 16 bytes-2 GiB for 32-bit non-prefetchable memory), addr aligned to size.
 * Returns 0 or -EINVAL.
 */
int pci_device_set_bar(struct pci_device *d, int index, uint64_t addr, uint64_t size, bool is_io);
/* The BAR's current address, or 0 if it is unset or its decoding is disabled in COMMAND. */
uint64_t pci_device_bar_addr(const struct pci_device *d, int index);
/*
 * Declares [offset, offset+len) of BAR index (already set) as served by
 * ops/opaque: offsets the handlers see are relative to the region. The
 * core maps it whenever the BAR decodes. 0, or -EINVAL (no such BAR, out
 * of its bounds, overlapping another region), -ENOSPC.
 */
int pci_device_add_bar_region(struct pci_device *d, int index, uint64_t offset, uint64_t len,
			      const struct bus_ops *ops, void *opaque, const char *name);
/*
 * An access to a BAR by offset, whether or not it is mapped (for config
 * windows such as virtio's PCI_CFG capability). Returns false, reading
 * nothing, when no region holds [offset, offset+size).
 */
bool pci_device_bar_read(struct pci_device *d, int index, uint64_t offset, unsigned size,
			 uint64_t *value);
bool pci_device_bar_write(struct pci_device *d, int index, uint64_t offset, unsigned size,
			  uint64_t value);
/*
 * Appends a capability of size bytes (id and next pointer included) to
 * the list; returns its config offset, or 0 if config space is full. The
 * caller fills the body and write masks.
 */
unsigned pci_add_capability(struct pci_device *d, uint8_t id, unsigned size);
/* The device's INTx pin level (the pin at PCI_INTERRUPT_PIN). */
void pci_device_set_intx(struct pci_device *d, bool level);

/* Places d at the first free slot (or slot if >= 0). */
int pci_register_device(struct pci_bus *b, struct pci_device *d, int slot, struct error *e);
/* Takes d off the bus: its BAR regions are unmapped and INTx released. */
void pci_unregister_device(struct pci_device *d);

/* ---- MSI-X (pci_msix.c) ------------------------------------------------ */

/*
 * Adds an MSI-X capability for nvec vectors (1-2048) with its table at
 * table_off and its pending-bit array at pba_off of BAR bar, and declares
 * both as regions of that BAR. The table starts with every vector masked,
 * MSI-X disabled. Messages go out through the VM's MSI routes where it
 * has them (vm_msi_route_add: KVM irqfds), else vm_send_msi(vm, ...).
 * Call it before pci_register_device(); pci_msix_destroy() (which
 * releases the routes) after unregistering, before the VM goes.
 */
int pci_msix_init(struct pci_device *d, struct vm *vm, unsigned nvec, int bar, uint32_t table_off,
		  uint32_t pba_off, struct error *e);
void pci_msix_destroy(struct pci_device *d);
/* MSI-X Enable is set in the capability (messages replace INTx). */
bool pci_msix_enabled(const struct pci_device *d);
/*
 * Signals vector: sends its message, or, while the vector or the whole
 * function is masked, sets its pending bit to send it on unmask. Vectors
 * out of range and a disabled capability send nothing.
 */
void pci_msix_notify(struct pci_device *d, unsigned vector);
unsigned pci_msix_nvec(const struct pci_device *d);
/* Back to the reset state: disabled, all vectors masked, nothing pending,
 * no routes. */
void pci_msix_reset(struct pci_device *d);

#endif
