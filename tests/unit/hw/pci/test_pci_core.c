/*
 * The PCI core's services to devices, without any particular device:
 * the capability list, BAR regions that follow the BAR and COMMAND,
 * the bar_moved hook, BAR accesses by offset, INTx wired-OR between
 * devices sharing a GSI (with INTX_DISABLE and STATUS.INTERRUPT), and
 * MSI-X refusals.
 */
#include <errno.h>

#include "hw/pci/pci.h"
#include "test.h"

static struct vm vm;
static struct pci_bus *bus;

static bool level[32];
static void capture_irq(void *opaque, unsigned gsi, bool l)
{
	(void)opaque;
	if (gsi < 32)
		level[gsi] = l;
}

/* Every slot's INTA on GSI 20: maximal sharing. */
static unsigned route(unsigned slot, unsigned pin)
{
	(void)slot;
	return 20 + pin;
}

static uint32_t cfg_read(unsigned dev, unsigned reg, unsigned size)
{
	uint32_t a = 0x80000000u | dev << 11 | (reg & 0xfc), v = 0;
	bus_write(&vm.pio, 0xcf8, &a, 4);
	bus_read(&vm.pio, 0xcfc + (reg & 3), &v, size);
	return v;
}

static void cfg_write(unsigned dev, unsigned reg, uint32_t v, unsigned size)
{
	uint32_t a = 0x80000000u | dev << 11 | (reg & 0xfc);
	bus_write(&vm.pio, 0xcf8, &a, 4);
	bus_write(&vm.pio, 0xcfc + (reg & 3), &v, size);
}

static uint64_t reg_value;
static uint64_t reg_read(void *opaque, uint64_t off, unsigned size)
{
	(void)size;
	return (uintptr_t)opaque * 0x100 + off;
}
static void reg_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque, (void)off, (void)size;
	reg_value = v;
}
static const struct bus_ops reg_ops = { .read = reg_read, .write = reg_write };

static int moves;
static uint64_t moved_old, moved_new;
static void bar_moved(struct pci_device *d, int index, uint64_t old_addr, uint64_t new_addr)
{
	(void)d;
	CHECK_EQ(index, 2);
	moves++;
	moved_old = old_addr, moved_new = new_addr;
}
static const struct pci_device_ops moved_ops = { .bar_moved = bar_moved };

static uint64_t mmio_read(uint64_t addr)
{
	uint64_t v = 0;
	bus_read(&vm.mmio, addr, &v, 4);
	return v;
}

static void test_capabilities(void)
{
	struct pci_device d = { .name = "caps" };
	pci_device_init(&d, 0x1234, 0x5678, 0xff0000, 0);
	CHECK_EQ(d.config[PCI_CAPABILITY_LIST], 0);
	CHECK(!(pci_get_word(&d, PCI_STATUS) & PCI_STATUS_CAP_LIST));
	unsigned a = pci_add_capability(&d, 0x09, 6);
	unsigned b = pci_add_capability(&d, 0x11, 12);
	CHECK_EQ(a, 0x40);
	CHECK_EQ(b, 0x48); /* dword aligned after 6 bytes */
	CHECK_EQ(d.config[PCI_CAPABILITY_LIST], 0x40);
	CHECK_EQ(d.config[a], 0x09);
	CHECK_EQ(d.config[a + 1], b);
	CHECK_EQ(d.config[b + 1], 0);
	CHECK(pci_get_word(&d, PCI_STATUS) & PCI_STATUS_CAP_LIST);
	/* Config space runs out. */
	CHECK(pci_add_capability(&d, 0x09, 200) == 0);
	CHECK(pci_add_capability(&d, 0x09, 1) == 0);
	unsigned c = pci_add_capability(&d, 0x09, 0xa4); /* up to 0xf8 */
	CHECK_EQ(c, 0x54);
	CHECK_EQ(pci_add_capability(&d, 0x09, 16), 0);
	/* MSI-X refusals: zero vectors, misaligned table, bad BAR, no room in it. */
	struct error e = { "" };
	CHECK(pci_msix_init(&d, &vm, 0, 1, 0, 0x800, &e) < 0);
	CHECK(pci_msix_init(&d, &vm, 4, 1, 4, 0x800, &e) < 0);
	CHECK(pci_msix_init(&d, &vm, 4, 7, 0, 0x800, &e) < 0);
	CHECK(pci_msix_init(&d, &vm, 4, 1, 0, 0x800, &e) < 0); /* BAR 1 unset */
	CHECK_EQ(pci_device_set_bar(&d, 1, 0xc0000000, 0x1000, false), 0);
	CHECK(pci_msix_init(&d, &vm, 4, 1, 0, 0x800, &e) < 0); /* no capability room */
	CHECK_EQ(d.bar[1].nregions, 0); /* nothing left behind */
	CHECK(d.msix == NULL);
	CHECK(!pci_msix_enabled(&d));
	pci_msix_notify(&d, 0); /* no MSI-X: nothing, no crash */
}

static void test_bar_regions(void)
{
	struct error e = { "" };
	struct pci_device d = { .name = "regions" };
	pci_device_init(&d, 0x1234, 0x5678, 0xff0000, 0);
	d.ops = &moved_ops;
	CHECK_EQ(pci_device_add_bar_region(&d, 2, 0, 16, &reg_ops, NULL, "r"), -EINVAL); /* no BAR */
	CHECK_EQ(pci_device_set_bar(&d, 2, 0xc0010000, 0x1000, false), 0);
	CHECK_EQ(pci_device_add_bar_region(&d, 2, 0, 0x100, &reg_ops, (void *)1, "a"), 0);
	CHECK_EQ(pci_device_add_bar_region(&d, 2, 0x800, 0x100, &reg_ops, (void *)2, "b"), 0);
	CHECK_EQ(pci_device_add_bar_region(&d, 2, 0x80, 0x100, &reg_ops, NULL, "x"), -EINVAL);
	CHECK_EQ(pci_device_add_bar_region(&d, 2, 0xf00, 0x200, &reg_ops, NULL, "x"), -EINVAL);
	CHECK_EQ(pci_device_add_bar_region(&d, 2, 0x1000, 1, &reg_ops, NULL, "x"), -EINVAL);
	CHECK_EQ(pci_device_add_bar_region(&d, 6, 0, 1, &reg_ops, NULL, "x"), -EINVAL);
	/* Shrinking the BAR under its regions is refused. */
	CHECK_EQ(pci_device_set_bar(&d, 2, 0xc0010000, 0x800, false), -EINVAL);

	uint64_t v = 0;
	CHECK(pci_device_bar_read(&d, 2, 0x804, 4, &v));
	CHECK_EQ(v, 0x204);
	CHECK(!pci_device_bar_read(&d, 2, 0x400, 4, &v));
	CHECK(!pci_device_bar_read(&d, 2, 0xfe, 4, &v)); /* straddles the end of "a" */
	CHECK(pci_device_bar_write(&d, 2, 0x10, 4, 0x77));
	CHECK_EQ(reg_value, 0x77);

	CHECK_EQ(pci_register_device(bus, &d, 4, &e), 0);
	CHECK_EQ(moves, 0);
	CHECK_EQ(mmio_read(0xc0010004), 0xffffffff); /* decoding off */
	cfg_write(4, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	CHECK_EQ(moves, 1);
	CHECK_EQ(moved_old, 0);
	CHECK_EQ(moved_new, 0xc0010000);
	CHECK_EQ(mmio_read(0xc0010004), 0x104);
	CHECK_EQ(mmio_read(0xc0010808), 0x208);
	CHECK_EQ(mmio_read(0xc0010400), 0xffffffff); /* the hole between regions */
	/* A sub-dword write of the BAR's upper half moves it. */
	cfg_write(4, PCI_BAR0 + 2 * 4 + 2, 0xc002, 2);
	CHECK_EQ(moves, 2);
	CHECK_EQ(moved_old, 0xc0010000);
	CHECK_EQ(moved_new, 0xc0020000);
	CHECK_EQ(mmio_read(0xc0010004), 0xffffffff);
	CHECK_EQ(mmio_read(0xc0020004), 0x104);
	/* Writing the same address again is not a move. */
	cfg_write(4, PCI_BAR0 + 2 * 4, 0xc0020000, 4);
	CHECK_EQ(moves, 2);
	/* A region added while decoding is mapped at once. */
	CHECK_EQ(pci_device_add_bar_region(&d, 2, 0x400, 0x10, &reg_ops, (void *)3, "c"), 0);
	CHECK_EQ(mmio_read(0xc0020404), 0x304);
	pci_unregister_device(&d);
	CHECK_EQ(moves, 3);
	CHECK_EQ(moved_new, 0);
	CHECK_EQ(mmio_read(0xc0020004), 0xffffffff);
	CHECK_EQ(cfg_read(4, 0, 4), 0xffffffff);
	pci_unregister_device(&d); /* twice: harmless */
}

static void test_shared_intx(void)
{
	struct error e = { "" };
	struct pci_device a = { .name = "a" }, b = { .name = "b" }, nopin = { .name = "nopin" };
	pci_device_init(&a, 1, 1, 0, 0);
	pci_device_init(&b, 1, 2, 0, 0);
	pci_device_init(&nopin, 1, 3, 0, 0);
	a.config[PCI_INTERRUPT_PIN] = 1;
	b.config[PCI_INTERRUPT_PIN] = 1;
	CHECK_EQ(pci_register_device(bus, &a, 5, &e), 0);
	CHECK_EQ(pci_register_device(bus, &b, 6, &e), 0);
	CHECK_EQ(pci_register_device(bus, &nopin, 7, &e), 0);
	CHECK_EQ(cfg_read(5, PCI_INTERRUPT_LINE, 1), 20); /* filled in as firmware would */
	CHECK_EQ(cfg_read(7, PCI_INTERRUPT_LINE, 1), 0);

	pci_device_set_intx(&a, true);
	CHECK(level[20]);
	CHECK(cfg_read(5, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_device_set_intx(&b, true);
	pci_device_set_intx(&a, false);
	CHECK(level[20]); /* b still holds it */
	CHECK(!(cfg_read(5, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	pci_device_set_intx(&b, true); /* idempotent */
	pci_device_set_intx(&b, false);
	CHECK(!level[20]);
	pci_device_set_intx(&nopin, true); /* no pin: no line */
	CHECK(!level[20] && !level[21]);

	/* INTX_DISABLE masks the pin; re-enabling restores it. */
	pci_device_set_intx(&a, true);
	cfg_write(5, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	CHECK(!level[20]);
	CHECK(cfg_read(5, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_device_set_intx(&b, true);
	CHECK(level[20]);
	cfg_write(5, PCI_COMMAND, 0, 2);
	pci_device_set_intx(&b, false);
	CHECK(level[20]);
	/* Leaving the bus releases the line. */
	pci_unregister_device(&a);
	CHECK(!level[20]);
	pci_unregister_device(&b);
	pci_unregister_device(&nopin);
}

int main(void)
{
	struct error e = { "" };
	CHECK_EQ(vm_init(&vm, 1), 0);
	vm.irq_sink = capture_irq;
	bus = pci_host_create(&vm, &e);
	CHECK(bus != NULL);
	pci_host_set_intx_route(bus, route);
	test_capabilities();
	test_bar_regions();
	test_shared_intx();
	pci_host_destroy(bus);
	vm_destroy(&vm);
	return test_exit();
}
