/*
 * The PC board (and its trimmed microvm variant). Memory map:
 *
 *   0x00000000  RAM: real-mode area and boot structures (see loader/)
 *   0x0009fc00  reserved (EBDA)
 *   0x000e0000  ACPI tables (reserved in e820)
 *   0x00100000  RAM: kernel at 1 MiB ... up to min(RAM, 3 GiB)
 *   0xc0000000  32-bit PCI hole (MMIO BARs)
 *   0xfec00000  IOAPIC (in the accelerator's interrupt controller)
 *   0xfee00000  local APICs
 *   0x100000000 RAM above 3 GiB, if any
 *
 * Port I/O: COM1 0x3f8 (IRQ 4), RTC 0x70 (IRQ 8), i8042 0x60/0x64 (IRQ 1,
 * IRQ 12), port 0x80, ACPI PM 0x600 (SCI IRQ 9), PCI 0xcf8 (reset control
 * 0xcf9), fw_cfg 0x510. The PIT (0x40, 0x61), PICs (0x20, 0xa0), IOAPIC and
 * local APICs are the accelerator's when it has them (KVM), else the board
 * creates them in user space (hw/intc, hw/timer).
 *
 * microvm is the same machine without the PCI host: the ACPI tables then
 * leave out \_SB.PCI0, and a stand-alone reset control register keeps
 * port 0xcf9 (the FADT reset register) working.
 *
 * Virtio devices: on pc each is a PCI function (virtio-pci) in slots 1,
 * 2, ... with its BARs bump-allocated upward from 0xc0000000 in the
 * 32-bit PCI window, which ends below the I/O APIC (0xfec00000); INTx
 * follows the _PRT routing of hw/acpi (slot s INTA -> GSI 16 + s % 4). On
 * microvm each is a virtio-mmio window at 0xfeb00000 + 0x200 * n with
 * GSI 16 + n, listed in the DSDT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "board/board.h"
#include "hw/acpi/acpi.h"
#include "hw/fw_cfg.h"
#include "hw/intc/irqchip.h"
#include "hw/timer/pit.h"
#include "hw/isa/debug_port.h"
#include "hw/isa/i8042.h"
#include "hw/isa/reset_port.h"
#include "hw/isa/rtc.h"
#include "hw/isa/uart.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio_blk.h"
#include "hw/virtio/virtio_console.h"
#include "hw/virtio/virtio_mmio.h"
#include "hw/virtio/virtio_net.h"
#include "hw/virtio/virtio_pci.h"
#include "hw/virtio/virtio_rng.h"
#include "loader/loader.h"
#include "util/log.h"

#define PC_PCI_HOLE 0xc0000000ULL
#define PC_ACPI_BASE 0xe0000ULL
#define PC_ACPI_SIZE 0x20000ULL
#define PC_EBDA 0x9fc00ULL
#define PC_COM1 0x3f8
#define PC_COM1_IRQ 4
#define PC_RTC_IRQ 8
#define PC_KBD_IRQ 1
#define PC_AUX_IRQ 12
#define PC_IOAPIC 0xfec00000ULL
#define PC_LAPIC 0xfee00000ULL
/* The 32-bit PCI window for BARs; must match the DSDT's PCI0 _CRS. */
#define PC_PCI_MMIO_START 0xc0000000ULL
#define PC_PCI_MMIO_END 0xfec00000ULL /* exclusive: I/O APIC, HPET, LAPIC above */
/* microvm's virtio-mmio windows and lines: I/O APIC pins 16-23. */
#define PC_VIRTIO_MMIO_BASE 0xfeb00000ULL
#define PC_VIRTIO_MMIO_GSI 16
#define PC_VIRTIO_MMIO_MAX 8

/* A virtio device and how it is exposed, for teardown. */
struct pc_virtio {
	struct virtio_device *vd;
	enum device_kind kind;
	bool mmio;
};

struct board {
	struct vm *vm;
	struct irqchip *irqchip; /* only without the accelerator's own */
	struct pit *pit;
	struct uart *com1;
	struct rtc *rtc;
	struct i8042 *i8042;
	struct pci_bus *pci;
	struct reset_port *reset; /* only without the PCI host, which decodes 0xcf9 */
	struct acpi_pm *pm;
	struct fw_cfg *fw_cfg;

	struct pc_virtio virtio[CONFIG_MAX_DEVICES];
	int nvirtio;
	struct chardev port[CONFIG_MAX_CHARDEVS]; /* virtconsole back ends, by config index */
	bool port_open[CONFIG_MAX_CHARDEVS];
	bool console_built;       /* the first virtio-serial took every virtconsole */
	int nnet;                 /* for default MAC addresses */
	uint64_t pci_mmio_next;   /* BAR allocator */
	int pci_next_slot;
	int nvirtio_mmio;
	struct acpi_virtio_mmio virtio_mmio[ACPI_MAX_VIRTIO_MMIO];
};

static void e820_add(struct boot_request *req, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size && req->ne820 < E820_MAX)
		req->e820[req->ne820++] = (struct e820_entry){ addr, size, type };
}

static void pc_e820(struct boot_request *req, const struct guest_mem *m)
{
	e820_add(req, 0, PC_EBDA, E820_RAM);
	e820_add(req, PC_EBDA, 0xa0000 - PC_EBDA, E820_RESERVED);
	e820_add(req, PC_ACPI_BASE, 0x100000 - PC_ACPI_BASE, E820_RESERVED);
	e820_add(req, 0x100000, guest_mem_low_end(m) - 0x100000, E820_RAM);
	for (int i = 1; i < m->nregions; i++)
		e820_add(req, m->region[i].gpa, m->region[i].size, E820_RAM);
}

static void quit_from_terminal(void *opaque)
{
	vm_request_shutdown(opaque, 0);
}

static void pc_set_irq(void *opaque, unsigned gsi, bool level)
{
	irqchip_set_irq(opaque, gsi, level);
}

/* PIC, IOAPIC, LAPICs and PIT in user space, for accelerators without them. */
static int pc_irqchip(struct board *b, struct error *e)
{
	struct vm *vm = b->vm;
	b->irqchip = irqchip_create(vm, e);
	if (!b->irqchip)
		return -EINVAL;
	vm->irq_sink = pc_set_irq;
	vm->irq_sink_opaque = b->irqchip;
	vm->msi_sink = irqchip_msi_sink;
	vm->msi_sink_opaque = b->irqchip;
	b->pit = pit_create(vm, vm_irq_line(vm, 0), e);
	return b->pit ? 0 : -EINVAL;
}

/* ---- virtio ------------------------------------------------------------------ */

/* Naturally aligned space in the 32-bit PCI window. */
static int pci_mmio_alloc(struct board *b, uint64_t size, uint64_t *addr, struct error *e)
{
	uint64_t a = (b->pci_mmio_next + size - 1) & ~(size - 1);
	if (a < b->pci_mmio_next || a + size > PC_PCI_MMIO_END)
		return error_set(e, -ENOSPC, "pci: the 32-bit PCI window is full");
	*addr = a;
	b->pci_mmio_next = a + size;
	return 0;
}

/*
 * Opens the chardevs of every virtconsole and builds the console device
 * over them: virtio-serial is the device, each virtconsole one of its
 * ports (all of them on the first virtio-serial, as QEMU attaches them to
 * the first bus it finds).
 */
static struct virtio_device *pc_virtio_console(struct board *b, const struct config *cfg,
					       struct error *e)
{
	struct chardev *ports[CONFIG_MAX_DEVICES];
	int n = 0;
	for (int i = 0; i < cfg->ndevice; i++) {
		const struct device_config *d = &cfg->device[i];
		if (d->kind != DEVICE_VIRTCONSOLE)
			continue;
		int k = d->console.chardev;
		const struct chardev_config *c = &cfg->chardev[k];
		if (!b->port_open[k]) {
			struct error ce = { "" };
			int r = chardev_open(&b->port[k], c->kind, c->path, &ce);
			if (r) {
				error_set(e, r, "-chardev %s: %s", c->id, ce.msg);
				return NULL;
			}
			b->port_open[k] = true;
			b->port[k].quit = quit_from_terminal;
			b->port[k].quit_opaque = b->vm;
		}
		ports[n++] = &b->port[k];
	}
	b->console_built = true;
	struct virtio_device *vd = virtio_console_create(b->vm, ports, n, e);
	if (!vd)
		return NULL;
	/* Input flows once the device has attached itself to each port. */
	for (int i = 0; i < n; i++) {
		int r = chardev_start(ports[i], &b->vm->loop);
		if (r) {
			virtio_console_destroy(vd);
			error_set(e, r, "virtconsole: cannot start its chardev: %s", strerror(-r));
			return NULL;
		}
	}
	return vd;
}

static void pc_virtio_free(struct pc_virtio *v)
{
	if (v->mmio)
		virtio_mmio_destroy(v->vd);
	else
		virtio_pci_destroy(v->vd);
	switch (v->kind) {
	case DEVICE_VIRTIO_BLK:
		virtio_blk_destroy(v->vd);
		break;
	case DEVICE_VIRTIO_NET:
		virtio_net_destroy(v->vd);
		break;
	case DEVICE_VIRTIO_RNG:
		virtio_rng_destroy(v->vd);
		break;
	case DEVICE_VIRTIO_SERIAL:
		virtio_console_destroy(v->vd);
		break;
	default:
		break;
	}
	v->vd = NULL;
}

static struct virtio_device *pc_virtio_build(struct board *b, const struct config *cfg,
					     const struct device_config *d, struct error *e)
{
	struct vm *vm = b->vm;
	switch (d->kind) {
	case DEVICE_VIRTIO_BLK:
		return virtio_blk_create(vm, &cfg->drive[d->blk.drive], d->blk.serial, e);
	case DEVICE_VIRTIO_NET: {
		/* QEMU's default: 52:54:00:12:34:56, plus one per further NIC. */
		uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + b->nnet) };
		b->nnet++;
		return virtio_net_create(vm, &cfg->netdev[d->net.netdev],
					 d->net.mac_set ? d->net.mac : mac, e);
	}
	case DEVICE_VIRTIO_RNG:
		return virtio_rng_create(vm, e);
	case DEVICE_VIRTIO_SERIAL:
		return pc_virtio_console(b, cfg, e);
	default:
		error_set(e, -EINVAL, "not a virtio device");
		return NULL;
	}
}

/* Exposes vd as a PCI function (pc). */
static int pc_virtio_pci(struct board *b, struct virtio_device *vd, struct error *e)
{
	struct vm *vm = b->vm;
	if (b->pci_next_slot >= PCI_MAX_DEVICES)
		return error_set(e, -ENOSPC, "%s: all %d PCI slots are taken", vd->ops->name,
				 PCI_MAX_DEVICES);
	struct virtio_pci_options o = {
		.slot = b->pci_next_slot,
		.ioeventfd = vm->accel->ioeventfd,
	};
	/* BAR 4 needs 16 KiB alignment; BAR 1 follows it. */
	int r = pci_mmio_alloc(b, VIRTIO_PCI_BAR_SIZE * 2, &o.mmio_base, e);
	if (r)
		return r;
	r = virtio_pci_create(vm, b->pci, vd, &o, e);
	if (r)
		return r;
	log_debug("%s-pci: slot %d, BARs at 0x%llx, INTA -> GSI %u", vd->ops->name, o.slot,
		  (unsigned long long)o.mmio_base, acpi_pci_intx_gsi((unsigned)o.slot, 0));
	b->pci_next_slot++;
	return 0;
}

/* Exposes vd as a virtio-mmio window (microvm), listed in the DSDT. */
static int pc_virtio_mmio(struct board *b, struct virtio_device *vd, struct error *e)
{
	int n = b->nvirtio_mmio;
	if (n >= PC_VIRTIO_MMIO_MAX)
		return error_set(e, -ENOSPC, "%s: at most %d virtio-mmio devices", vd->ops->name,
				 PC_VIRTIO_MMIO_MAX);
	uint64_t base = PC_VIRTIO_MMIO_BASE + (uint64_t)n * VIRTIO_MMIO_SIZE;
	unsigned gsi = PC_VIRTIO_MMIO_GSI + (unsigned)n;
	int r = virtio_mmio_create(b->vm, vd, base, gsi, e);
	if (r)
		return r;
	b->virtio_mmio[n] = (struct acpi_virtio_mmio){ .base = base, .size = VIRTIO_MMIO_SIZE,
						       .gsi = gsi };
	b->nvirtio_mmio++;
	log_debug("%s-device: virtio-mmio at 0x%llx, GSI %u", vd->ops->name,
		  (unsigned long long)base, gsi);
	return 0;
}

static int pc_virtio(struct board *b, const struct config *cfg, const struct device_config *d,
		     struct error *e)
{
	bool pc = cfg->machine == MACHINE_PC;
	bool mmio = d->transport == VIRTIO_TRANSPORT_MMIO ||
		    (d->transport == VIRTIO_TRANSPORT_DEFAULT && !pc);
	if (d->kind == DEVICE_VIRTCONSOLE) {
		/* A port of the virtio-serial device, built with it. */
		for (int i = 0; i < cfg->ndevice; i++)
			if (cfg->device[i].kind == DEVICE_VIRTIO_SERIAL)
				return 0;
		return error_set(e, -EINVAL,
				 "virtconsole needs a virtio-serial device (-device virtio-serial-pci)");
	}
	if (d->kind == DEVICE_VIRTIO_SERIAL && b->console_built)
		return error_set(e, -EINVAL, "only one virtio-serial device is supported");
	if (mmio && pc)
		return error_set(e, -EINVAL,
				 "virtio-mmio devices (-device virtio-*-device) need -M microvm");
	if (!mmio && !pc)
		return error_set(e, -EINVAL,
				 "microvm has no PCI bus: use -device virtio-*-device");

	struct pc_virtio *v = &b->virtio[b->nvirtio];
	v->vd = pc_virtio_build(b, cfg, d, e);
	if (!v->vd)
		return -EINVAL;
	v->kind = d->kind;
	v->mmio = mmio;
	b->nvirtio++;
	return mmio ? pc_virtio_mmio(b, v->vd, e) : pc_virtio_pci(b, v->vd, e);
}

/* ---- the machine ---------------------------------------------------------- */

static int pc_devices(struct board *b, const struct config *cfg, struct chardev *serial,
		      struct error *e)
{
	struct vm *vm = b->vm;
	bool pc = cfg->machine == MACHINE_PC;
	int r = 0;
	if (!vm->accel->has_irqchip) {
		r = pc_irqchip(b, e);
		if (r)
			return r;
	}
	r = port80_create(vm, e);
	if (r)
		return r;
	b->com1 = uart_create(&vm->pio, PC_COM1, vm_irq_line(vm, PC_COM1_IRQ), serial, e);
	if (!b->com1)
		return -EINVAL;
	b->rtc = rtc_create(&vm->pio, &vm->timers, vm_irq_line(vm, PC_RTC_IRQ),
			    vm->mem.ram_size, e);
	if (!b->rtc)
		return -EINVAL;
	b->i8042 = i8042_create(vm, vm_irq_line(vm, PC_KBD_IRQ), vm_irq_line(vm, PC_AUX_IRQ), e);
	if (!b->i8042)
		return -EINVAL;
	if (pc) {
		b->pci = pci_host_create(vm, e);
		if (!b->pci)
			return -EINVAL;
		pci_host_set_intx_route(b->pci, acpi_pci_intx_gsi);
	} else {
		b->reset = reset_port_create(vm, ACPI_RESET_PORT, e);
		if (!b->reset)
			return -EINVAL;
	}
	b->pm = acpi_pm_create(vm, e);
	if (!b->pm)
		return -EINVAL;
	b->fw_cfg = fw_cfg_create(vm, e);
	if (!b->fw_cfg)
		return -EINVAL;
	fw_cfg_add_u16(b->fw_cfg, FW_CFG_NB_CPUS, (uint16_t)cfg->smp);
	fw_cfg_add_u16(b->fw_cfg, FW_CFG_MAX_CPUS, (uint16_t)cfg->smp);
	fw_cfg_add_u64(b->fw_cfg, FW_CFG_RAM_SIZE, cfg->ram_size);
	for (int i = 0; i < cfg->ndevice; i++) {
		const struct device_config *d = &cfg->device[i];
		switch (d->kind) {
		case DEVICE_ISA_DEBUG_EXIT:
			r = debug_exit_create(vm, d->debug_exit.iobase, d->debug_exit.iosize, e);
			break;
		case DEVICE_VIRTIO_BLK:
		case DEVICE_VIRTIO_NET:
		case DEVICE_VIRTIO_RNG:
		case DEVICE_VIRTIO_SERIAL:
		case DEVICE_VIRTCONSOLE:
			r = pc_virtio(b, cfg, d, e);
			break;
		}
		if (r)
			return r;
	}
	return 0;
}

int board_create(struct board **out, struct vm *vm, const struct config *cfg,
		 const struct accel_ops *accel, struct chardev *serial, struct error *e)
{
	struct board *b = calloc(1, sizeof(*b));
	*out = b;
	if (!b)
		return error_set(e, -ENOMEM, "out of memory");
	b->vm = vm;
	b->pci_mmio_next = PC_PCI_MMIO_START;
	b->pci_next_slot = 1; /* slot 0 is the host bridge */
	int r = vm_init(vm, cfg->smp);
	if (r)
		return error_set(e, r, "cannot create the machine: %s", strerror(-r));
	r = guest_mem_init(&vm->mem, cfg->ram_size, PC_PCI_HOLE);
	if (r)
		return error_set(e, r, "-m: cannot allocate %llu MiB of guest RAM: %s",
				 (unsigned long long)(cfg->ram_size >> 20), strerror(-r));
	vm->accel = accel;
	r = accel->vm_init(vm, e);
	if (r)
		return r;

	r = pc_devices(b, cfg, serial, e);
	if (r)
		return r;
	serial->quit = quit_from_terminal;
	serial->quit_opaque = vm;
	r = chardev_start(serial, &vm->loop);
	if (r)
		return error_set(e, r, "serial: %s", strerror(-r));

	struct boot_request req = {
		.kernel = cfg->kernel, .initrd = cfg->initrd, .cmdline = cfg->append,
		/* Under emulation the guest's own decompressor is the largest
		 * single cost of a boot: unpack on the host and enter via PVH. */
		.prefer_pvh = accel->emulated,
	};
	struct acpi_config acpi = {
		.ncpus = cfg->smp, .lapic_addr = PC_LAPIC, .ioapic_addr = PC_IOAPIC, .pic = true,
		.pci = b->pci != NULL, .i8042 = b->i8042 != NULL,
		.nvirtio_mmio = b->nvirtio_mmio,
	};
	memcpy(acpi.virtio_mmio, b->virtio_mmio, sizeof(b->virtio_mmio));
	r = acpi_build_tables(&vm->mem, PC_ACPI_BASE, PC_ACPI_SIZE, &acpi, &req.rsdp, e);
	if (r)
		return r;
	pc_e820(&req, &vm->mem);
	struct boot_result boot;
	r = loader_load(&vm->mem, &req, &boot, e);
	if (r)
		return r;
	vm->boot_state = boot.cpu;
	vm->boot_state_valid = true;

	for (int i = 0; i < vm->ncpus; i++) {
		r = accel->vcpu_init(&vm->vcpus[i], e);
		if (r)
			return r;
	}
	return 0;
}

void board_destroy(struct board *b)
{
	if (!b)
		return;
	/* Transports before devices, devices before the buses they sit on. */
	for (int i = b->nvirtio - 1; i >= 0; i--)
		pc_virtio_free(&b->virtio[i]);
	for (int k = 0; k < CONFIG_MAX_CHARDEVS; k++)
		if (b->port_open[k])
			chardev_close(&b->port[k]);
	fw_cfg_destroy(b->fw_cfg);
	acpi_pm_destroy(b->pm);
	reset_port_destroy(b->reset);
	pci_host_destroy(b->pci);
	i8042_destroy(b->i8042);
	rtc_destroy(b->rtc);
	uart_destroy(b->com1);
	pit_destroy(b->pit);
	irqchip_destroy(b->irqchip);
	vm_destroy(b->vm);
	free(b);
}
