/*
 * Local APICs through the whole irqchip: identification, software enable,
 * fixed IPIs and the target's pending bits, INIT/SIPI, illegal vectors,
 * TPR masking, nested acknowledge/EOI order, flat and cluster logical
 * destinations, shorthands, the timer (one-shot and periodic), the 8259
 * through virtual wire, and I/O APIC level interrupts with EOI broadcast.
 */
#include <errno.h>
#include <time.h>

#include "core/vm.h"
#include "hw/intc/irqchip.h"
#include "hw/hwtest.h"
#include "test.h"

static struct vm vm;
static struct irqchip *chip;

#define R_ID 0x20
#define R_VER 0x30
#define R_TPR 0x80
#define R_PPR 0xa0
#define R_EOI 0xb0
#define R_LDR 0xd0
#define R_DFR 0xe0
#define R_SVR 0xf0
#define R_ISR 0x100
#define R_TMR 0x180
#define R_IRR 0x200
#define R_ESR 0x280
#define R_ICR_LO 0x300
#define R_ICR_HI 0x310
#define R_LVT_TIMER 0x320
#define R_LVT_LINT0 0x350
#define R_TIMER_INIT 0x380
#define R_TIMER_CUR 0x390
#define R_TIMER_DIV 0x3e0

/* Accesses run as if on vCPU cpu, which is how the window picks its APIC. */
static uint32_t rd(int cpu, unsigned reg)
{
	return hwtest_lapic_read(&vm, LAPIC_BASE, cpu, reg);
}

static void wr(int cpu, unsigned reg, uint32_t v)
{
	hwtest_lapic_write(&vm, LAPIC_BASE, cpu, reg, v);
}

static bool vec_bit(int cpu, unsigned base, unsigned vector)
{
	return rd(cpu, base + (vector / 32) * 0x10) & (1u << (vector % 32));
}

static struct lapic *lapic(int cpu)
{
	return irqchip_lapic(chip, cpu);
}

static unsigned take_pending(int cpu)
{
	return atomic_exchange(&vm.vcpus[cpu].pending, 0);
}

static void ipi(int from, uint8_t dest, uint32_t lo)
{
	wr(from, R_ICR_HI, (uint32_t)dest << 24);
	wr(from, R_ICR_LO, lo);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* "Not yet" checks hold only if the host did not stall us past the deadline. */
static bool within(uint64_t t0, uint64_t ns)
{
	return clock_ns() - t0 < ns;
}

static void test_ident(void)
{
	CHECK_EQ(rd(0, R_ID), 0);
	CHECK_EQ(rd(1, R_ID), 1u << 24);
	CHECK_EQ(rd(0, R_VER), 0x00050014);
	CHECK_EQ(rd(0, R_SVR), 0xff);
	CHECK_EQ(lapic_get_base(lapic(0)), 0xfee00900);
	CHECK_EQ(lapic_get_base(lapic(1)), 0xfee00800);
	CHECK_EQ(lapic_set_base(lapic(1), 0xfee00c00), -EINVAL); /* x2APIC */
	CHECK_EQ(lapic_set_base(lapic(1), 0xfee00801), -EINVAL);
	CHECK_EQ(lapic_set_base(lapic(1), 0xfee00900), 0);
	CHECK_EQ(lapic_get_base(lapic(1)), 0xfee00800); /* BSP is not writable */
	/* Byte reads see the register's bytes; reserved space reads zero. */
	uint8_t b = 0xaa;
	current_vcpu = &vm.vcpus[1];
	CHECK(bus_read(&vm.mmio, LAPIC_BASE + R_ID + 3, &b, 1));
	CHECK_EQ(b, 1);
	CHECK(bus_read(&vm.mmio, LAPIC_BASE + R_ID + 4, &b, 1));
	CHECK_EQ(b, 0);
	current_vcpu = NULL;
	/* No current vCPU (the main thread): CPU 0. */
	uint32_t v = 1;
	CHECK(bus_read(&vm.mmio, LAPIC_BASE + R_ID, &v, 4));
	CHECK_EQ(v, 0);
	/* An unimplemented register (CMCI) is an illegal-register error. */
	wr(1, R_ESR, 0);
	rd(1, 0x2f0);
	wr(1, R_ESR, 0);
	CHECK_EQ(rd(1, R_ESR), 0x80);
	wr(1, R_ESR, 0);
	CHECK_EQ(rd(1, R_ESR), 0);
}

static void test_fixed_ipi(void)
{
	take_pending(1);
	ipi(0, 1, 0x40); /* target software-disabled: dropped */
	CHECK(!vec_bit(1, R_IRR, 0x40));
	CHECK(!lapic_intc_pending(lapic(1)));

	wr(0, R_SVR, 0x1ff);
	wr(1, R_SVR, 0x1ff);
	CHECK_EQ(rd(1, R_SVR), 0x1ff);
	take_pending(1);
	ipi(0, 1, 0x40);
	CHECK_EQ(rd(0, R_ICR_LO) & (1u << 12), 0); /* delivery status idle */
	CHECK(vec_bit(1, R_IRR, 0x40));
	CHECK(!vec_bit(0, R_IRR, 0x40));
	CHECK(take_pending(1) & VCPU_PENDING_INTR);
	CHECK(lapic_intc_pending(lapic(1)));
	CHECK(!lapic_intc_pending(lapic(0)));
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x40);
	CHECK(vec_bit(1, R_ISR, 0x40));
	CHECK(!vec_bit(1, R_IRR, 0x40));
	CHECK(!lapic_intc_pending(lapic(1)));
	CHECK_EQ(rd(1, R_PPR), 0x40);
	wr(1, R_EOI, 0);
	CHECK(!vec_bit(1, R_ISR, 0x40));
	CHECK_EQ(rd(1, R_PPR), 0);

	/* Vectors 0-15: a send error, nothing delivered. */
	wr(0, R_ESR, 0);
	ipi(0, 1, 0x05);
	wr(0, R_ESR, 0);
	CHECK_EQ(rd(0, R_ESR), 0x20);
	CHECK(!lapic_intc_pending(lapic(1)));

	/* Shorthands: self, and all-but-self. */
	ipi(1, 0, 0x40000 | 0x51);
	CHECK(vec_bit(1, R_IRR, 0x51));
	CHECK(!vec_bit(0, R_IRR, 0x51));
	ipi(1, 0, 0xc0000 | 0x52);
	CHECK(vec_bit(0, R_IRR, 0x52));
	CHECK(!vec_bit(1, R_IRR, 0x52));
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x51);
	wr(1, R_EOI, 0);
	CHECK_EQ(lapic_intc_ack(lapic(0)), 0x52);
	wr(0, R_EOI, 0);
	/* Physical broadcast. */
	ipi(0, 0xff, 0x53);
	CHECK(vec_bit(0, R_IRR, 0x53) && vec_bit(1, R_IRR, 0x53));
	CHECK_EQ(lapic_intc_ack(lapic(0)), 0x53);
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x53);
	wr(0, R_EOI, 0);
	wr(1, R_EOI, 0);
}

static void test_init_sipi(void)
{
	take_pending(1);
	ipi(0, 1, 0x4500); /* INIT, assert */
	CHECK_EQ(take_pending(1), VCPU_PENDING_INIT);
	CHECK_EQ(rd(1, R_SVR), 0xff); /* INIT reset the APIC */
	ipi(0, 1, 0x8500); /* INIT level de-assert: no effect */
	CHECK_EQ(take_pending(1), 0);
	ipi(0, 1, 0x4608); /* start-up at 0x8000 */
	CHECK_EQ(take_pending(1), VCPU_PENDING_SIPI);
	CHECK_EQ(vm.vcpus[1].sipi_vector, 0x08);
	ipi(0, 1, 0x4400); /* NMI */
	CHECK_EQ(take_pending(1), VCPU_PENDING_NMI);
	wr(1, R_SVR, 0x1ff);
}

static void test_priority(void)
{
	wr(1, R_TPR, 0x50);
	CHECK_EQ(rd(1, R_PPR), 0x50);
	CHECK_EQ(lapic_get_cr8(lapic(1)), 5);
	ipi(0, 1, 0x45);
	CHECK(vec_bit(1, R_IRR, 0x45));
	CHECK(!lapic_intc_pending(lapic(1))); /* class 4 <= TPR class 5 */
	ipi(0, 1, 0x65);
	CHECK(lapic_intc_pending(lapic(1)));
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x65);
	CHECK_EQ(rd(1, R_PPR), 0x60);
	lapic_set_cr8(lapic(1), 0);
	CHECK_EQ(rd(1, R_TPR), 0);
	CHECK(!lapic_intc_pending(lapic(1))); /* 0x45 is below 0x65 in service */

	/* A higher vector nests; EOI ends the highest in service first. */
	ipi(0, 1, 0x80);
	CHECK(lapic_intc_pending(lapic(1)));
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x80);
	wr(1, R_EOI, 0);
	CHECK(!vec_bit(1, R_ISR, 0x80));
	CHECK(vec_bit(1, R_ISR, 0x65));
	CHECK(!lapic_intc_pending(lapic(1)));
	wr(1, R_EOI, 0);
	CHECK(lapic_intc_pending(lapic(1)));
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x45);
	wr(1, R_EOI, 0);
	/* Nothing left: the acknowledge answers with the spurious vector. */
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0xff);
}

static void test_logical(void)
{
	wr(0, R_LDR, 0x01u << 24);
	wr(1, R_LDR, 0x02u << 24);
	CHECK_EQ(rd(0, R_DFR), 0xffffffff);
	ipi(0, 0x02, 0x800 | 0x61);
	CHECK(vec_bit(1, R_IRR, 0x61));
	CHECK(!vec_bit(0, R_IRR, 0x61));
	ipi(1, 0x03, 0x800 | 0x62);
	CHECK(vec_bit(0, R_IRR, 0x62) && vec_bit(1, R_IRR, 0x62));
	/* Lowest priority goes to one CPU only. */
	ipi(1, 0x03, 0x900 | 0x63);
	CHECK(vec_bit(0, R_IRR, 0x63) != vec_bit(1, R_IRR, 0x63));
	for (int cpu = 0; cpu < 2; cpu++)
		while (lapic_intc_pending(lapic(cpu))) {
			lapic_intc_ack(lapic(cpu));
			wr(cpu, R_EOI, 0);
		}

	/* Cluster model: cluster 2, member bit 0 is CPU 1. */
	wr(0, R_DFR, 0x0fffffff);
	wr(1, R_DFR, 0x0fffffff);
	wr(0, R_LDR, 0x12u << 24);
	wr(1, R_LDR, 0x21u << 24);
	ipi(0, 0x21, 0x800 | 0x64);
	CHECK(vec_bit(1, R_IRR, 0x64));
	CHECK(!vec_bit(0, R_IRR, 0x64));
	ipi(1, 0x11, 0x800 | 0x66); /* cluster 1, bit 0: nobody */
	CHECK(!vec_bit(0, R_IRR, 0x66) && !vec_bit(1, R_IRR, 0x66));
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x64);
	wr(1, R_EOI, 0);
	wr(0, R_DFR, 0xffffffff);
	wr(1, R_DFR, 0xffffffff);
}

static void test_timer(void)
{
	wr(0, R_TIMER_DIV, 0xb); /* divide by 1: 1 GHz */
	wr(0, R_LVT_TIMER, 0x30);
	uint64_t t0 = clock_ns();
	wr(0, R_TIMER_INIT, 3000000); /* 3 ms */
	uint32_t c1 = rd(0, R_TIMER_CUR);
	uint32_t c2 = rd(0, R_TIMER_CUR);
	timer_list_run(&vm.timers);
	bool fired = vec_bit(0, R_IRR, 0x30);
	CHECK(c1 <= 3000000);
	if (within(t0, 2900000)) {
		CHECK(c1 > 0);
		CHECK(c2 < c1);
		CHECK(!fired);
	}
	sleep_ms(4);
	CHECK_EQ(rd(0, R_TIMER_CUR), 0);
	timer_list_run(&vm.timers);
	CHECK(vec_bit(0, R_IRR, 0x30));
	CHECK_EQ(lapic_intc_ack(lapic(0)), 0x30);
	wr(0, R_EOI, 0);

	/* Divide by 16: the count moves 16 times slower. */
	wr(0, R_TIMER_DIV, 0x3);
	t0 = clock_ns();
	wr(0, R_TIMER_INIT, 1000000);
	sleep_ms(2);
	uint32_t c = rd(0, R_TIMER_CUR);
	CHECK(c < 1000000);
	if (within(t0, 7900000))
		CHECK(c > 1000000 - 500000);

	/* Periodic, 1 ms: keeps firing and reloading. */
	wr(0, R_TIMER_DIV, 0xb);
	wr(0, R_LVT_TIMER, 0x20000 | 0x31);
	wr(0, R_TIMER_INIT, 1000000);
	for (int i = 0; i < 2; i++) {
		sleep_ms(2);
		c = rd(0, R_TIMER_CUR);
		CHECK(c > 0 && c <= 1000000);
		timer_list_run(&vm.timers);
		CHECK(vec_bit(0, R_IRR, 0x31));
		CHECK_EQ(lapic_intc_ack(lapic(0)), 0x31);
		wr(0, R_EOI, 0);
	}
	/* Masked: counts, but raises nothing. */
	wr(0, R_LVT_TIMER, 0x30000 | 0x31);
	sleep_ms(2);
	timer_list_run(&vm.timers);
	CHECK(!vec_bit(0, R_IRR, 0x31));
	wr(0, R_TIMER_INIT, 0);
	CHECK_EQ(rd(0, R_TIMER_CUR), 0);
}

static void outb(uint16_t port, uint8_t v)
{
	hwtest_outb(&vm.pio, port, v);
}

static void test_extint(void)
{
	/* The 8259 reaches CPU 0 through LINT0 (virtual wire at reset). */
	CHECK_EQ(rd(0, R_LVT_LINT0), 0x700);
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0x21, 0xfd); /* IRQ 1 only */
	take_pending(0);
	irqchip_set_irq(chip, 1, true);
	CHECK(take_pending(0) & VCPU_PENDING_INTR);
	CHECK(lapic_intc_pending(lapic(0)));
	CHECK(!lapic_intc_pending(lapic(1)));
	CHECK_EQ(lapic_intc_ack(lapic(0)), 0x21);
	CHECK(!lapic_intc_pending(lapic(0)));
	irqchip_set_irq(chip, 1, false);
	outb(0x20, 0x20);
	/* Masking LINT0 disconnects it. */
	wr(0, R_LVT_LINT0, 0x10700);
	irqchip_set_irq(chip, 1, true);
	CHECK(!lapic_intc_pending(lapic(0)));
	irqchip_set_irq(chip, 1, false);
	outb(0x21, 0xff);
}

static void io_write(uint8_t idx, uint32_t v)
{
	uint32_t sel = idx;
	CHECK(bus_write(&vm.mmio, IOAPIC_BASE, &sel, 4));
	CHECK(bus_write(&vm.mmio, IOAPIC_BASE + 0x10, &v, 4));
}

static void test_ioapic_level(void)
{
	/* ISA IRQ 0 is I/O APIC pin 2 (as the MADT override says). */
	io_write(0x10 + 2 * 2 + 1, 1u << 24);
	io_write(0x10 + 2 * 2, 0x22);
	irqchip_set_irq(chip, 0, true);
	irqchip_set_irq(chip, 0, false);
	CHECK(vec_bit(1, R_IRR, 0x22));
	CHECK_EQ(lapic_intc_ack(lapic(1)), 0x22);
	wr(1, R_EOI, 0);

	/* PCI GSI 17, level, to CPU 0: EOI clears Remote IRR and re-delivers. */
	io_write(0x10 + 2 * 17 + 1, 0);
	io_write(0x10 + 2 * 17, 0x8000 | 0x71);
	irqchip_set_irq(chip, 17, true);
	CHECK(vec_bit(0, R_IRR, 0x71));
	CHECK(vec_bit(0, R_TMR, 0x71));
	CHECK_EQ(lapic_intc_ack(lapic(0)), 0x71);
	wr(0, R_EOI, 0);
	CHECK(vec_bit(0, R_IRR, 0x71)); /* still asserted */
	CHECK_EQ(lapic_intc_ack(lapic(0)), 0x71);
	irqchip_set_irq(chip, 17, false);
	wr(0, R_EOI, 0);
	CHECK(!vec_bit(0, R_IRR, 0x71));
	CHECK(!lapic_intc_pending(lapic(0)));

	/* An illegal vector from the I/O APIC is the receiver's error. */
	wr(0, R_ESR, 0);
	io_write(0x10 + 2 * 18, 0x05);
	irqchip_set_irq(chip, 18, true);
	irqchip_set_irq(chip, 18, false);
	wr(0, R_ESR, 0);
	CHECK_EQ(rd(0, R_ESR), 0x40);
	CHECK(!lapic_intc_pending(lapic(0)));
	irqchip_set_irq(chip, 99, true); /* no such line */
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 2), 0);
	struct error e = { 0 };
	chip = irqchip_create(&vm, &e);
	CHECK(chip != NULL);
	if (!chip) {
		fprintf(stderr, "%s\n", e.msg);
		return test_exit();
	}
	CHECK(vm.vcpus[1].intc.opaque == lapic(1));
	CHECK(vm.vcpus[0].intc.pending == lapic_intc_pending);
	test_ident();
	test_fixed_ipi();
	test_init_sipi();
	test_priority();
	test_logical();
	test_timer();
	test_extint();
	test_ioapic_level();
	irqchip_destroy(chip);
	vm_destroy(&vm);
	return test_exit();
}
