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
#include "loader/loader.h"

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
	b->pit = pit_create(vm, vm_irq_line(vm, 0), e);
	return b->pit ? 0 : -EINVAL;
}

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
			r = error_set(e, -ENOTSUP, "virtio devices are not wired up yet");
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
	};
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
