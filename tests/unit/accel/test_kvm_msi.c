/*
 * MSI-X through KVM GSI routing and irqfds on a real VM: the KVM
 * accelerator with its in-kernel irqchip and one vCPU that never runs, a
 * PCI function with MSI-X driven as a guest would (msix_guest.h), and the
 * vCPU's local APIC read back with KVM_GET_LAPIC to see which vectors
 * arrived in its IRR. Checks that an unmasked vector gets a GSI route
 * above the IOAPIC pins with an irqfd, that a notify and a bare write to
 * that eventfd both deliver, that a masked vector delivers nothing and
 * sets its pending bit until unmasked, that a changed message reaches the
 * route, that disable releases it, and that the legacy routes of GSIs
 * 0-23 (IOAPIC and 8259) still work after the table was replaced.
 *
 * Exits 77 (skipped) with the reason where /dev/kvm is unusable or has no
 * GSI routing or irqfds.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "accel/kvm/kvm_int.h"
#include "hw/pci/msix_guest.h"

#define SKIP 77
#define APIC_SVR 0xf0
#define APIC_IRR 0x200

static struct vm vm;
static int vcpu_fd;

static void get_lapic(struct kvm_lapic_state *s)
{
	CHECK(ioctl(vcpu_fd, KVM_GET_LAPIC, s) == 0);
}

static uint32_t *lapic_reg(struct kvm_lapic_state *s, unsigned reg)
{
	return (uint32_t *)(void *)&s->regs[reg];
}

static bool irr_has(unsigned vector)
{
	struct kvm_lapic_state s;
	get_lapic(&s);
	return *lapic_reg(&s, APIC_IRR + vector / 32 * 0x10) >> (vector % 32) & 1;
}

/* irqfd injection may finish on a kernel worker: poll for up to a second. */
static bool irr_wait(unsigned vector)
{
	for (int i = 0; i < 1000; i++) {
		if (irr_has(vector))
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

/* Gives a stray delivery the time to land before checking it did not. */
static bool irr_stays_clear(unsigned vector)
{
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	return !irr_has(vector);
}

static void irr_clear(void)
{
	struct kvm_lapic_state s;
	get_lapic(&s);
	for (unsigned i = 0; i < 8; i++)
		*lapic_reg(&s, APIC_IRR + i * 0x10) = 0;
	CHECK(ioctl(vcpu_fd, KVM_SET_LAPIC, &s) == 0);
}

/* Software-enables the local APIC, without which fixed interrupts are dropped. */
static void lapic_enable(void)
{
	struct kvm_lapic_state s;
	get_lapic(&s);
	*lapic_reg(&s, APIC_SVR) = 0x1ff;
	CHECK(ioctl(vcpu_fd, KVM_SET_LAPIC, &s) == 0);
}

static void irq_line(unsigned gsi, bool level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };
	CHECK(ioctl(kvm_of(&vm)->vm_fd, KVM_IRQ_LINE, &l) == 0);
}

static void test_msix_irqfd(void)
{
	struct kvm_vm *k = kvm_of(&vm);
	struct pci_device d = { .name = "kvm-msix" };
	unsigned cap = mg_init(&d, &vm, 2);
	CHECK(cap != 0);
	mg_message(&d, 0, 0xfee00000, 0x45); /* fixed, edge, physical APIC 0 */
	mg_control(&d, cap, MG_ENABLE);
	CHECK_EQ(k->nmsi, 0);
	mg_mask(&d, 0, false);
	CHECK(k->nmsi > 0 && k->msi[0].used); /* GSI 24, the first above the IOAPIC */

	pci_msix_notify(&d, 0);
	CHECK(irr_wait(0x45));
	irr_clear();
	/* The eventfd alone delivers: the kernel's irqfd, not KVM_SIGNAL_MSI. */
	uint64_t one = 1;
	CHECK(write(k->msi[0].fd, &one, sizeof(one)) == sizeof(one));
	CHECK(irr_wait(0x45));
	irr_clear();

	/* Masked: pending bit, no interrupt; unmask sends it. */
	mg_mask(&d, 0, true);
	pci_msix_notify(&d, 0);
	CHECK(mg_pending(&d, 0));
	CHECK(irr_stays_clear(0x45));
	mg_mask(&d, 0, false);
	CHECK(!mg_pending(&d, 0));
	CHECK(irr_wait(0x45));
	irr_clear();
	/* Function mask likewise. */
	mg_control(&d, cap, MG_ENABLE | MG_MASKALL);
	pci_msix_notify(&d, 0);
	CHECK(irr_stays_clear(0x45));
	mg_control(&d, cap, MG_ENABLE);
	CHECK(irr_wait(0x45));
	irr_clear();

	/* A new data word while unmasked goes to the route (KVM_SET_GSI_ROUTING). */
	mg_entry_write(&d, 0, 2, 0x46);
	pci_msix_notify(&d, 0);
	CHECK(irr_wait(0x46));
	CHECK(!irr_has(0x45));
	irr_clear();

	/* A second vector gets its own route and eventfd. */
	mg_message(&d, 1, 0xfee00000, 0x47);
	mg_mask(&d, 1, false);
	CHECK(k->nmsi > 1 && k->msi[1].used);
	pci_msix_notify(&d, 1);
	CHECK(irr_wait(0x47));
	CHECK(!irr_has(0x46));
	irr_clear();

	/* Disable releases both; the slots come back with new messages. */
	mg_control(&d, cap, 0);
	CHECK(!k->msi[0].used && !k->msi[1].used);
	mg_entry_write(&d, 0, 2, 0x48);
	mg_control(&d, cap, MG_ENABLE);
	CHECK(k->msi[0].used);
	pci_msix_notify(&d, 0);
	CHECK(irr_wait(0x48));
	irr_clear();
	pci_msix_destroy(&d);
	CHECK(!k->msi[0].used && !k->msi[1].used);
}

/* GSIs 0-23 after our KVM_SET_GSI_ROUTING: still the IOAPIC and the 8259. */
static void test_legacy_routes(void)
{
	int vm_fd = kvm_of(&vm)->vm_fd;
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	CHECK(ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) == 0);
	/* Pin 10: vector 0x55, fixed, physical, edge, unmasked, APIC 0. */
	chip.chip.ioapic.redirtbl[10].bits = 0x55;
	CHECK(ioctl(vm_fd, KVM_SET_IRQCHIP, &chip) == 0);
	irq_line(10, true);
	irq_line(10, false);
	CHECK(irr_wait(0x55));
	irr_clear();

	struct kvm_irqchip pic = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
	CHECK(ioctl(vm_fd, KVM_GET_IRQCHIP, &pic) == 0);
	CHECK(!(pic.chip.pic.irr & 0x10));
	irq_line(4, true);
	CHECK(ioctl(vm_fd, KVM_GET_IRQCHIP, &pic) == 0);
	CHECK(pic.chip.pic.irr & 0x10);
	irq_line(4, false);
	struct kvm_irqchip slave = { .chip_id = KVM_IRQCHIP_PIC_SLAVE };
	irq_line(12, true);
	CHECK(ioctl(vm_fd, KVM_GET_IRQCHIP, &slave) == 0);
	CHECK(slave.chip.pic.irr & 0x10);
	irq_line(12, false);
}

int main(void)
{
	struct error e = { "" };
	bool native;
	if (access("/dev/kvm", R_OK | W_OK) || accel_kvm.probe(&native, &e)) {
		printf("SKIP: /dev/kvm not usable here (%s)\n", e.msg[0] ? e.msg : strerror(errno));
		return SKIP;
	}
	CHECK_EQ(vm_init(&vm, 1), 0);
	vm.accel = &accel_kvm;
	if (accel_kvm.vm_init(&vm, &e)) {
		fprintf(stderr, "kvm vm_init: %s\n", e.msg);
		vm_destroy(&vm);
		return 1;
	}
	if (!kvm_of(&vm)->msi_max) {
		printf("SKIP: this KVM has no KVM_CAP_IRQ_ROUTING or KVM_CAP_IRQFD\n");
		vm_destroy(&vm);
		return SKIP;
	}
	if (accel_kvm.vcpu_init(&vm.vcpus[0], &e)) {
		fprintf(stderr, "kvm vcpu_init: %s\n", e.msg);
		vm_destroy(&vm);
		return 1;
	}
	vcpu_fd = ((struct kvm_vcpu *)vm.vcpus[0].accel)->fd;
	lapic_enable();
	test_msix_irqfd();
	test_legacy_routes();
	vm_destroy(&vm);
	return test_exit();
}
