/* Private to the KVM accelerator. */
#ifndef KEMU_ACCEL_KVM_INT_H
#define KEMU_ACCEL_KVM_INT_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "accel/accel.h"

/* One MSI route (kvm_msi.c): GSI 24 + its index in kvm_vm.msi. */
struct kvm_msi_route {
	bool used;
	int fd; /* the irqfd's eventfd */
	uint64_t addr;
	uint32_t data;
};

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, shared by all vCPUs */

	/* MSI routes (kvm_msi.c); a route's handle is its index in msi. */
	pthread_mutex_t msi_lock;
	struct kvm_msi_route *msi;
	unsigned nmsi;
	unsigned msi_max; /* 0: no GSI routing or irqfd here */
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
};

static inline struct kvm_vm *kvm_of(const struct vm *vm)
{
	return vm->accel_state;
}

/* kvm_cpuid.c: fills and installs the CPUID table of one vCPU. */
int kvm_cpuid_fetch(struct kvm_vm *k, struct error *e);
int kvm_cpuid_setup(struct kvm_vm *k, struct vcpu *cpu, struct error *e);

/* kvm_msi.c: MSI routes as GSI routing entries plus irqfds. */
void kvm_msi_init(struct kvm_vm *k);
void kvm_msi_probe(struct kvm_vm *k); /* after KVM_CREATE_IRQCHIP */
void kvm_msi_destroy(struct kvm_vm *k);
int kvm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data);
int kvm_msi_route_update(struct vm *vm, int route, uint64_t addr, uint32_t data);
void kvm_msi_route_raise(struct vm *vm, int route);
void kvm_msi_route_remove(struct vm *vm, int route);

/* kvm_vcpu.c */
int kvm_vcpu_init(struct vcpu *cpu, struct error *e);
void kvm_vcpu_destroy(struct vcpu *cpu);
void kvm_vcpu_run(struct vcpu *cpu);
void kvm_vcpu_kick(struct vcpu *cpu);

#endif
