/*
 * I/O APIC: identification registers, redirection entries, edge and level
 * delivery, Remote IRR and its clearing by EOI, masking, hostile indices.
 */
#include "core/vm.h"
#include "hw/intc/ioapic.h"
#include "test.h"

static struct vm vm;
static struct ioapic *io;
static struct apic_msg last;
static int sent;

static void deliver(void *opaque, const struct apic_msg *m)
{
	(void)opaque;
	last = *m;
	sent++;
}

static uint32_t io_read(uint8_t idx)
{
	uint32_t v = idx;
	CHECK(bus_write(&vm.mmio, IOAPIC_BASE, &v, 4));
	CHECK(bus_read(&vm.mmio, IOAPIC_BASE + 0x10, &v, 4));
	return v;
}

static void io_write(uint8_t idx, uint32_t v)
{
	uint32_t sel = idx;
	CHECK(bus_write(&vm.mmio, IOAPIC_BASE, &sel, 4));
	CHECK(bus_write(&vm.mmio, IOAPIC_BASE + 0x10, &v, 4));
}

static void set_rte(unsigned pin, uint64_t e)
{
	io_write((uint8_t)(0x10 + 2 * pin + 1), (uint32_t)(e >> 32));
	io_write((uint8_t)(0x10 + 2 * pin), (uint32_t)e);
}

static uint64_t get_rte(unsigned pin)
{
	return io_read((uint8_t)(0x10 + 2 * pin)) |
	       (uint64_t)io_read((uint8_t)(0x10 + 2 * pin + 1)) << 32;
}

static void test_ident(void)
{
	CHECK_EQ(io_read(0), 3u << 24);
	CHECK_EQ(io_read(1), 0x00170011);
	CHECK_EQ(get_rte(0), 1u << 16); /* masked at reset */
	CHECK_EQ(get_rte(23), 1u << 16);
	CHECK_EQ(io_read(0x10 + 48), 0xffffffff); /* past the table */
	io_write(0xff, 0x12345678);                /* ignored */
	io_write(1, 0);                            /* read-only */
	CHECK_EQ(io_read(1), 0x00170011);
}

static void test_edge(void)
{
	set_rte(5, 0x35 | (1ULL << 56)); /* fixed, physical, edge, to APIC 1 */
	CHECK_EQ(get_rte(5), 0x35 | (1ULL << 56));
	sent = 0;
	ioapic_set_irq(io, 5, true);
	CHECK_EQ(sent, 1);
	CHECK_EQ(last.vector, 0x35);
	CHECK_EQ(last.dest, 1);
	CHECK(!last.logical && !last.level);
	CHECK_EQ(last.delivery, APIC_DM_FIXED);
	ioapic_set_irq(io, 5, true); /* no edge */
	CHECK_EQ(sent, 1);
	ioapic_set_irq(io, 5, false);
	ioapic_set_irq(io, 5, true);
	CHECK_EQ(sent, 2);
	ioapic_set_irq(io, 5, false);

	set_rte(5, 0x35 | (1ULL << 16)); /* masked: the edge is lost */
	ioapic_set_irq(io, 5, true);
	ioapic_set_irq(io, 5, false);
	CHECK_EQ(sent, 2);
	set_rte(5, 0x35);
	CHECK_EQ(sent, 2);
}

static void test_level(void)
{
	const uint64_t level = 1ULL << 15, remote_irr = 1ULL << 14;
	set_rte(10, 0x40 | level | (1ULL << 11) | (3ULL << 56)); /* logical dest 3 */
	sent = 0;
	ioapic_set_irq(io, 10, true);
	CHECK_EQ(sent, 1);
	CHECK(last.level && last.logical);
	CHECK_EQ(last.dest, 3);
	CHECK(get_rte(10) & remote_irr);
	ioapic_set_irq(io, 10, true);
	CHECK_EQ(sent, 1); /* Remote IRR holds it */
	ioapic_eoi(io, 0x41);
	CHECK_EQ(sent, 1); /* another vector's EOI */
	ioapic_eoi(io, 0x40);
	CHECK_EQ(sent, 2); /* still asserted: again */
	CHECK(get_rte(10) & remote_irr);
	ioapic_set_irq(io, 10, false);
	ioapic_eoi(io, 0x40);
	CHECK_EQ(sent, 2);
	CHECK(!(get_rte(10) & remote_irr));

	/* Asserted while masked: unmasking delivers. */
	set_rte(10, 0x40 | level | (1ULL << 16));
	ioapic_set_irq(io, 10, true);
	CHECK_EQ(sent, 2);
	set_rte(10, 0x40 | level);
	CHECK_EQ(sent, 3);
	/* Flipping to edge clears a stuck Remote IRR. */
	set_rte(10, 0x40 | (1ULL << 16));
	CHECK(!(get_rte(10) & remote_irr));
	ioapic_set_irq(io, 10, false);

	/* Non-fixed modes never set Remote IRR. */
	set_rte(11, 0x00 | (7ULL << 8) | level);
	ioapic_set_irq(io, 11, true);
	CHECK_EQ(last.delivery, APIC_DM_EXTINT);
	CHECK(!(get_rte(11) & remote_irr));
	ioapic_set_irq(io, 11, false);
	ioapic_set_irq(io, 24, true);  /* no such pin */
	ioapic_set_irq(io, ~0u, true);
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	struct error e = { 0 };
	io = ioapic_create(&vm.mmio, 3, deliver, NULL, &e);
	CHECK(io != NULL);
	if (!io)
		return test_exit();
	test_ident();
	test_edge();
	test_level();
	ioapic_destroy(io);
	vm_destroy(&vm);
	return test_exit();
}
