/*
 * PCI configuration mechanism #1 as a guest drives it through ports
 * 0xcf8-0xcff: the host bridge's ids, absent functions, the enable bit,
 * partial-width data accesses, write masks, BAR sizing, and the reset
 * control register at 0xcf9.
 */
#include <errno.h>

#include "hw/acpi/acpi.h"
#include "hw/pci/pci.h"
#include "test.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define RESET_CONTROL 0xcf9

static struct vm vm;

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0;
	bus_read(&vm.pio, port, &v, size);
	return v;
}

static void out(uint16_t port, uint32_t v, unsigned size)
{
	bus_write(&vm.pio, port, &v, size);
}

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read(unsigned dev, unsigned reg, unsigned size)
{
	out(CONFIG_ADDRESS, cfg_addr(0, dev, 0, reg), 4);
	return in((uint16_t)(CONFIG_DATA + (reg & 3)), size);
}

static void cfg_write(unsigned dev, unsigned reg, uint32_t v, unsigned size)
{
	out(CONFIG_ADDRESS, cfg_addr(0, dev, 0, reg), 4);
	out((uint16_t)(CONFIG_DATA + (reg & 3)), v, size);
}

static struct pci_bus *setup(void)
{
	struct error e = { "" };
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct pci_bus *b = pci_host_create(&vm, &e);
	CHECK(b != NULL);
	if (!b)
		fprintf(stderr, "%s\n", e.msg);
	return b;
}

static void teardown(struct pci_bus *b)
{
	pci_host_destroy(b);
	vm_destroy(&vm);
}

static void test_host_bridge(void)
{
	struct pci_bus *b = setup();

	CHECK_EQ(cfg_read(0, 0x00, 4), 0x12378086);
	CHECK_EQ(cfg_read(0, 0x08, 4) >> 8, 0x060000);
	CHECK_EQ(cfg_read(0, 0x0e, 1), 0x00); /* header type 0 */

	/* Partial reads land on the right byte of the selected dword. */
	CHECK_EQ(cfg_read(0, 0x00, 2), 0x8086);
	CHECK_EQ(cfg_read(0, 0x02, 2), 0x1237);
	CHECK_EQ(cfg_read(0, 0x01, 1), 0x80);
	CHECK_EQ(cfg_read(0, 0x03, 1), 0x12);
	CHECK_EQ(cfg_read(0, 0x0b, 1), 0x06);

	/* CONFIG_ADDRESS keeps only its defined bits. */
	out(CONFIG_ADDRESS, 0xffffffff, 4);
	CHECK_EQ(in(CONFIG_ADDRESS, 4), 0x80fffffc);

	/* Ids are read-only. */
	cfg_write(0, 0x00, 0xdeadbeef, 4);
	CHECK_EQ(cfg_read(0, 0x00, 4), 0x12378086);
	cfg_write(0, 0x02, 0xbeef, 2);
	CHECK_EQ(cfg_read(0, 0x00, 4), 0x12378086);
	cfg_write(0, 0x08, 0xffffffff, 4);
	CHECK_EQ(cfg_read(0, 0x08, 4) >> 8, 0x060000);
	/* The interrupt line is plain storage. */
	cfg_write(0, 0x3c, 0x0b, 1);
	CHECK_EQ(cfg_read(0, 0x3c, 1), 0x0b);

	teardown(b);
}

static void test_absent(void)
{
	struct pci_bus *b = setup();

	/* Enable bit clear: no cycle is generated. */
	out(CONFIG_ADDRESS, cfg_addr(0, 0, 0, 0) & ~0x80000000u, 4);
	CHECK_EQ(in(CONFIG_DATA, 4), 0xffffffff);
	CHECK_EQ(in(CONFIG_DATA + 2, 2), 0xffff);

	out(CONFIG_ADDRESS, cfg_addr(0, 5, 0, 0), 4);  /* empty slot */
	CHECK_EQ(in(CONFIG_DATA, 4), 0xffffffff);
	out(CONFIG_ADDRESS, cfg_addr(0, 0, 1, 0), 4);  /* function 1 of the bridge */
	CHECK_EQ(in(CONFIG_DATA, 4), 0xffffffff);
	out(CONFIG_ADDRESS, cfg_addr(0, 0, 7, 0), 4);
	CHECK_EQ(in(CONFIG_DATA, 1), 0xff);
	out(CONFIG_ADDRESS, cfg_addr(1, 0, 0, 0), 4);  /* bus 1 */
	CHECK_EQ(in(CONFIG_DATA, 4), 0xffffffff);
	out(CONFIG_ADDRESS, cfg_addr(255, 31, 7, 0xfc), 4);
	CHECK_EQ(in(CONFIG_DATA, 4), 0xffffffff);
	out(CONFIG_DATA, 0, 4); /* dropped */
	out(CONFIG_ADDRESS, cfg_addr(0, 31, 0, 0xfc), 4);
	CHECK_EQ(in(CONFIG_DATA + 3, 1), 0xff);

	teardown(b);
}

static int hook_writes;
static unsigned hook_last_offset;

static void hook_write(struct pci_device *d, unsigned offset, unsigned size, uint32_t value)
{
	(void)d;
	(void)size;
	(void)value;
	hook_writes++;
	hook_last_offset = offset;
}

static uint32_t hook_read(struct pci_device *d, unsigned offset, unsigned size, uint32_t value)
{
	(void)d;
	(void)size;
	return offset == 0x40 ? 0x5a : value;
}

static const struct pci_device_ops hook_ops = { .config_read = hook_read,
						.config_write = hook_write };

static void test_device_and_bars(void)
{
	struct pci_bus *b = setup();
	struct error e = { "" };
	struct pci_device d = { .name = "test" };
	pci_device_init(&d, 0x1af4, 0x1000, 0x020000, 0x01);
	d.ops = &hook_ops;
	CHECK_EQ(pci_device_set_bar(&d, 0, 0xc0000000, 0x1000, false), 0);
	CHECK_EQ(pci_device_set_bar(&d, 1, 0xc000, 0x20, true), 0);
	CHECK_EQ(pci_register_device(b, &d, 3, &e), 0);
	CHECK_EQ(d.devfn, 3 << 3);

	CHECK_EQ(cfg_read(3, 0x00, 4), 0x10001af4);
	CHECK_EQ(cfg_read(3, 0x08, 4), 0x02000001);
	CHECK_EQ(cfg_read(3, 0x10, 4), 0xc0000000);
	CHECK_EQ(cfg_read(3, 0x14, 4), 0xc001);
	CHECK_EQ(cfg_read(3, 0x18, 4), 0); /* unimplemented BAR */
	CHECK_EQ(cfg_read(3, 0x40, 1), 0x5a); /* the read hook sees every read */

	/* BAR sizing: all-ones reads back the size mask with the type bits. */
	cfg_write(3, 0x10, 0xffffffff, 4);
	CHECK_EQ(cfg_read(3, 0x10, 4), 0xfffff000);
	CHECK_EQ(hook_writes, 1);
	CHECK_EQ(hook_last_offset, 0x10);
	cfg_write(3, 0x14, 0xffffffff, 4);
	CHECK_EQ(cfg_read(3, 0x14, 4), 0x0000ffe1);
	cfg_write(3, 0x18, 0xffffffff, 4);
	CHECK_EQ(cfg_read(3, 0x18, 4), 0);

	/* The guest moves the BARs; decoding follows COMMAND. */
	cfg_write(3, 0x10, 0xc0100000, 4);
	cfg_write(3, 0x14, 0xd000, 4);
	CHECK_EQ(cfg_read(3, 0x10, 4), 0xc0100000);
	CHECK_EQ(pci_device_bar_addr(&d, 0), 0);
	cfg_write(3, 0x04, 0xffff, 2);
	CHECK_EQ(cfg_read(3, 0x04, 2), 0x0547);
	CHECK_EQ(pci_device_bar_addr(&d, 0), 0xc0100000);
	CHECK_EQ(pci_device_bar_addr(&d, 1), 0xd000);
	CHECK_EQ(pci_device_bar_addr(&d, 2), 0);
	CHECK_EQ(pci_device_bar_addr(&d, 6), 0);
	CHECK_EQ(pci_device_bar_addr(&d, -1), 0);
	cfg_write(3, 0x04, 0x0001, 2);
	CHECK_EQ(pci_device_bar_addr(&d, 0), 0);
	CHECK_EQ(pci_device_bar_addr(&d, 1), 0xd000);

	/* Sub-dword write to a BAR's upper half keeps the low, read-only bits. */
	cfg_write(3, 0x12, 0xc020, 2);
	CHECK_EQ(cfg_read(3, 0x10, 4), 0xc0200000);

	/* Slot bookkeeping. */
	struct pci_device d2 = { .name = "second" };
	pci_device_init(&d2, 0x1af4, 0x1001, 0x010000, 0);
	CHECK_EQ(pci_register_device(b, &d2, 3, &e), -EEXIST);
	CHECK(strstr(e.msg, "second") && strstr(e.msg, "test"));
	CHECK_EQ(pci_register_device(b, &d2, 32, &e), -EINVAL);
	CHECK_EQ(pci_register_device(b, &d2, -1, &e), 0);
	CHECK_EQ(d2.devfn, 1 << 3);
	CHECK_EQ(cfg_read(1, 0x00, 4), 0x10011af4);

	teardown(b);
}

static void test_set_bar_refusals(void)
{
	struct pci_device d;
	pci_device_init(&d, 1, 2, 0, 0);
	CHECK_EQ(pci_device_set_bar(&d, -1, 0xc0000000, 0x1000, false), -EINVAL);
	CHECK_EQ(pci_device_set_bar(&d, 6, 0xc0000000, 0x1000, false), -EINVAL);
	CHECK_EQ(pci_device_set_bar(&d, 0, 0xc0000000, 0x1800, false), -EINVAL); /* not 2^n */
	CHECK_EQ(pci_device_set_bar(&d, 0, 0xc0000800, 0x1000, false), -EINVAL); /* misaligned */
	CHECK_EQ(pci_device_set_bar(&d, 0, 0xc0000000, 8, false), -EINVAL);
	CHECK_EQ(pci_device_set_bar(&d, 0, 0x100000000ULL, 0x1000, false), -EINVAL);
	CHECK_EQ(pci_device_set_bar(&d, 0, 0xc000, 0x200, true), -EINVAL);
	CHECK_EQ(pci_device_set_bar(&d, 0, 0x10000, 0x10, true), -EINVAL);
	CHECK_EQ(pci_device_set_bar(&d, 0, 0, 0, true), -EINVAL);
	CHECK_EQ(d.wmask[0x10] | d.wmask[0x11] | d.wmask[0x12] | d.wmask[0x13], 0);
}

static void test_address_port_widths(void)
{
	struct pci_bus *b = setup();

	out(CONFIG_ADDRESS, cfg_addr(0, 0, 0, 0x08), 4);
	/* Only dword accesses reach CONFIG_ADDRESS. */
	out(CONFIG_ADDRESS, 0x1234, 2);
	out(CONFIG_ADDRESS + 2, 0x1234, 2);
	out(CONFIG_ADDRESS + 3, 0x12, 1);
	out(CONFIG_ADDRESS, 0x12, 1);
	CHECK_EQ(in(CONFIG_ADDRESS, 4), cfg_addr(0, 0, 0, 0x08));
	CHECK_EQ(in(CONFIG_ADDRESS, 1), 0xff);
	CHECK_EQ(in(CONFIG_ADDRESS + 2, 2), 0xffff);
	CHECK_EQ(in(CONFIG_ADDRESS + 3, 1), 0xff);
	/* A word straddling address and data ports is ignored too. */
	CHECK_EQ(in(CONFIG_ADDRESS + 3, 2), 0xffff);
	uint64_t q = 0;
	bus_read(&vm.pio, CONFIG_ADDRESS, &q, 8);
	CHECK_EQ(q, ~0ULL);

	teardown(b);
}

static void test_reset_control(void)
{
	struct pci_bus *b = setup();

	out(RESET_CONTROL, 0x02, 1); /* select hard reset: no reset yet */
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);
	CHECK_EQ(in(RESET_CONTROL, 1), 0x02);
	/* Writing 0xcf9 as part of a word does not reset either. */
	out(RESET_CONTROL, 0x0606, 2);
	CHECK_EQ(vm_stopping(&vm), VM_RUNNING);

	out(RESET_CONTROL, ACPI_RESET_VALUE, 1);
	CHECK_EQ(vm_stopping(&vm), VM_STOP_RESET);

	teardown(b);
}

int main(void)
{
	test_host_bridge();
	test_absent();
	test_device_and_bars();
	test_set_bar_refusals();
	test_address_port_widths();
	test_reset_control();
	return test_exit();
}
