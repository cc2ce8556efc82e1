/*
 * irqchip_send_msi(): x86 MSI messages (as a PCI function's MSI-X table
 * holds them) decoded and delivered to the right local APIC: physical and
 * logical destinations, broadcast, fixed, lowest priority and NMI, edge
 * (no TMR bit), and the messages that must be dropped.
 */
#include "core/vm.h"
#include "hw/intc/irqchip.h"
#include "hw/hwtest.h"
#include "test.h"

static struct vm vm;
static struct irqchip *chip;

#define NCPUS 3
#define R_LDR 0xd0
#define R_SVR 0xf0
#define R_EOI 0xb0
#define R_TMR 0x180
#define R_IRR 0x200

static uint32_t rd(int cpu, unsigned reg)
{
	return hwtest_lapic_read(&vm, LAPIC_BASE, cpu, reg);
}

static void wr(int cpu, unsigned reg, uint32_t v)
{
	hwtest_lapic_write(&vm, LAPIC_BASE, cpu, reg, v);
}

static bool irr(int cpu, unsigned vector)
{
	return rd(cpu, R_IRR + (vector / 32) * 0x10) & (1u << (vector % 32));
}

static bool tmr(int cpu, unsigned vector)
{
	return rd(cpu, R_TMR + (vector / 32) * 0x10) & (1u << (vector % 32));
}

static void drain(void)
{
	for (int cpu = 0; cpu < NCPUS; cpu++) {
		struct lapic *l = irqchip_lapic(chip, cpu);
		while (lapic_intc_pending(l)) {
			lapic_intc_ack(l);
			wr(cpu, R_EOI, 0);
		}
		atomic_store(&vm.vcpus[cpu].pending, 0);
	}
}

static void msi(uint8_t dest, bool logical, unsigned delivery, uint8_t vector)
{
	uint64_t addr = 0xfee00000ULL | (uint64_t)dest << 12 | (logical ? 4 : 0);
	pthread_mutex_lock(&vm.io_lock);
	irqchip_send_msi(chip, addr, delivery << 8 | vector);
	pthread_mutex_unlock(&vm.io_lock);
}

static int count_irr(unsigned vector)
{
	int n = 0;
	for (int cpu = 0; cpu < NCPUS; cpu++)
		n += irr(cpu, vector);
	return n;
}

static void test_physical(void)
{
	msi(2, false, 0, 0x41);
	CHECK(irr(2, 0x41));
	CHECK(!irr(0, 0x41) && !irr(1, 0x41));
	CHECK(!tmr(2, 0x41)); /* edge */
	CHECK(atomic_load(&vm.vcpus[2].pending) & VCPU_PENDING_INTR);
	/* The trigger-mode bit does not make it level. */
	pthread_mutex_lock(&vm.io_lock);
	irqchip_send_msi(chip, 0xfee01000ULL, 1u << 15 | 1u << 14 | 0x42);
	pthread_mutex_unlock(&vm.io_lock);
	CHECK(irr(1, 0x42) && !tmr(1, 0x42));
	/* Broadcast. */
	msi(0xff, false, 0, 0x43);
	CHECK_EQ(count_irr(0x43), NCPUS);
	/* Nobody has APIC ID 7. */
	msi(7, false, 0, 0x44);
	CHECK_EQ(count_irr(0x44), 0);
	drain();
}

static void test_logical(void)
{
	for (int cpu = 0; cpu < NCPUS; cpu++)
		wr(cpu, R_LDR, (1u << cpu) << 24); /* flat model */
	msi(0x06, true, 0, 0x51);
	CHECK(!irr(0, 0x51) && irr(1, 0x51) && irr(2, 0x51));
	/* Lowest priority: exactly one of the addressed CPUs. */
	msi(0x06, true, 1, 0x52);
	CHECK_EQ(count_irr(0x52), 1);
	CHECK(!irr(0, 0x52));
	drain();
}

static void test_nmi_and_dropped(void)
{
	msi(1, false, 4, 0);
	CHECK(atomic_load(&vm.vcpus[1].pending) & VCPU_PENDING_NMI);
	CHECK(!(atomic_load(&vm.vcpus[0].pending) & VCPU_PENDING_NMI));
	drain();
	/* INIT, SIPI, SMI, ExtINT by message: dropped. */
	msi(1, false, 5, 0);
	msi(1, false, 6, 0x10);
	msi(1, false, 2, 0);
	msi(1, false, 7, 0);
	CHECK_EQ(atomic_load(&vm.vcpus[1].pending), 0);
	/* Illegal vectors, and addresses outside the APIC window. */
	msi(1, false, 0, 0x0f);
	CHECK_EQ(count_irr(0x0f), 0);
	pthread_mutex_lock(&vm.io_lock);
	irqchip_send_msi(chip, 0xfed01000ULL, 0x61);
	irqchip_send_msi(chip, 0x1fee01000ULL, 0x62);
	irqchip_msi_sink(chip, 0xfee01000ULL, 0x63);
	pthread_mutex_unlock(&vm.io_lock);
	CHECK_EQ(count_irr(0x61), 0);
	CHECK_EQ(count_irr(0x62), 0);
	CHECK(irr(1, 0x63));
	drain();
}

static void test_through_vm(void)
{
	vm.msi_sink = irqchip_msi_sink;
	vm.msi_sink_opaque = chip;
	pthread_mutex_lock(&vm.io_lock);
	vm_send_msi(&vm, 0xfee00000ULL, 0x71);
	pthread_mutex_unlock(&vm.io_lock);
	CHECK(irr(0, 0x71));
	drain();
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, NCPUS), 0);
	struct error e = { 0 };
	chip = irqchip_create(&vm, &e);
	CHECK(chip != NULL);
	if (!chip) {
		fprintf(stderr, "%s\n", e.msg);
		return test_exit();
	}
	for (int cpu = 0; cpu < NCPUS; cpu++)
		wr(cpu, R_SVR, 0x1ff); /* software-enable every APIC */
	test_physical();
	test_logical();
	test_nmi_and_dropped();
	test_through_vm();
	irqchip_destroy(chip);
	vm_destroy(&vm);
	return test_exit();
}
