/*
 * The KVM accelerator: /dev/kvm does the CPU, kemu the rest. This file
 * owns the VM (memory slots, in-kernel irqchip and PIT, interrupt lines);
 * kvm_vcpu.c runs vCPUs and turns their exits into bus accesses;
 * kvm_cpuid.c decides what CPUID the guest sees.
 *
 * Interrupt controllers live in the kernel (KVM_CREATE_IRQCHIP: PIC, IOAPIC
 * and local APICs; KVM_CREATE_PIT2): devices drive GSIs through
 * KVM_IRQ_LINE, which reaches both the PIC and the IOAPIC as on a PC.
 * PCI MSI-X vectors become GSI routes with irqfds (kvm_msi.c) where the
 * kernel offers them, KVM_SIGNAL_MSI otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/kvm/kvm_int.h"
#include "util/log.h"

/* Three pages just below the BIOS area that KVM needs on Intel hosts. */
#define KVM_TSS_ADDR 0xfffbd000
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000

static int kvm_open(struct error *e)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_set(e, -errno, "/dev/kvm: %s", strerror(errno));
	int v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		close(fd);
		return error_set(e, -ENOTSUP, "/dev/kvm: API version %d, need %d", v, KVM_API_VERSION);
	}
	static const struct {
		int cap;
		const char *name;
	} need[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
			close(fd);
			return error_set(e, -ENOTSUP, "/dev/kvm: missing %s", need[i].name);
		}
	}
	return fd;
}

static int kvm_probe(bool *native, struct error *e)
{
	int fd = kvm_open(e);
	if (fd < 0)
		return fd;
	close(fd);
	/*
	 * PVM ("kvm_pvm") runs guest ring 0 by emulation in the host kernel:
	 * correct but around a million instructions per second, far too slow
	 * for a Linux kernel. It is a module, so its presence is the test.
	 */
	*native = access("/sys/module/kvm_pvm", F_OK) != 0;
	return 0;
}

static int kvm_vm_init(struct vm *vm, struct error *e)
{
	struct kvm_vm *k = calloc(1, sizeof(*k));
	if (!k)
		return error_set(e, -ENOMEM, "out of memory");
	k->vm_fd = -1;
	kvm_msi_init(k);
	vm->accel_state = k;
	k->kvm_fd = kvm_open(e);
	if (k->kvm_fd < 0)
		return k->kvm_fd;
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		return error_set(e, -errno, "KVM_CREATE_VM: %s", strerror(errno));
	k->run_size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0)
		return error_set(e, -errno, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return error_set(e, -errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return error_set(e, -errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	for (int i = 0; i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = (uint32_t)i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};
		if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return error_set(e, -errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	}
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return error_set(e, -errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	kvm_msi_probe(k);
	/* The PIT's speaker port (0x61) stays in the kernel too. */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return error_set(e, -errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return kvm_cpuid_fetch(k, e);
}

static void kvm_vm_destroy(struct vm *vm)
{
	struct kvm_vm *k = vm->accel_state;
	if (!k)
		return;
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	kvm_msi_destroy(k);
	free(k->cpuid);
	free(k);
	vm->accel_state = NULL;
}

static void kvm_set_irq(struct vm *vm, unsigned gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	if (ioctl(kvm_of(vm)->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_warn("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

static void kvm_send_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data,
	};
	if (ioctl(kvm_of(vm)->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		log_warn("KVM_SIGNAL_MSI %#llx/%#x: %s", (unsigned long long)addr, data, strerror(errno));
}

/*
 * KVM_IOEVENTFD without datamatch: the kernel completes the guest's write
 * and signals fd, so a virtqueue kick costs no exit to user space.
 */
static int kvm_ioeventfd(struct vm *vm, bool mmio, uint64_t addr, unsigned len, int fd,
			 bool assign)
{
	struct kvm_vm *k = kvm_of(vm);
	/* Asked each time: this runs only when a device maps or moves a BAR. */
	if (ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0)
		return -ENOTSUP;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (mmio ? 0 : KVM_IOEVENTFD_FLAG_PIO) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	if (ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}

const struct accel_ops accel_kvm = {
	.name = "kvm",
	.has_irqchip = true,
	.probe = kvm_probe,
	.vm_init = kvm_vm_init,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_init = kvm_vcpu_init,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.set_irq = kvm_set_irq,
	.send_msi = kvm_send_msi,
	.ioeventfd = kvm_ioeventfd,
	.msi_route_add = kvm_msi_route_add,
	.msi_route_update = kvm_msi_route_update,
	.msi_route_raise = kvm_msi_route_raise,
	.msi_route_remove = kvm_msi_route_remove,
};
