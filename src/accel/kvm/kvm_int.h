/* Private to the KVM accelerator. */
#ifndef KEMU_ACCEL_KVM_INT_H
#define KEMU_ACCEL_KVM_INT_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "accel/accel.h"

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, shared by all vCPUs */
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

/* kvm_vcpu.c */
int kvm_vcpu_init(struct vcpu *cpu, struct error *e);
void kvm_vcpu_destroy(struct vcpu *cpu);
void kvm_vcpu_run(struct vcpu *cpu);
void kvm_vcpu_kick(struct vcpu *cpu);

#endif
