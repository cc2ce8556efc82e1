/*
 * CPUID under KVM: what the host CPU and KVM support
 * (KVM_GET_SUPPORTED_CPUID), made per-vCPU (APIC ids, topology) and
 * marked as running under a hypervisor, with KVM's paravirtual leaves at
 * 0x40000000 so that guests use kvm-clock and friends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm_int.h"

#define CPUID_MAX_ENTRIES 256

int kvm_cpuid_fetch(struct kvm_vm *k, struct error *e)
{
	size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	k->cpuid = calloc(1, sz);
	if (!k->cpuid)
		return error_set(e, -ENOMEM, "out of memory");
	k->cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, k->cpuid) < 0)
		return error_set(e, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	return 0;
}

static void set_signature(struct kvm_cpuid_entry2 *ent, const char sig[12])
{
	memcpy(&ent->ebx, sig, 4);
	memcpy(&ent->ecx, sig + 4, 4);
	memcpy(&ent->edx, sig + 8, 4);
}

int kvm_cpuid_setup(struct kvm_vm *k, struct vcpu *cpu, struct error *e)
{
	size_t sz = sizeof(struct kvm_cpuid2) + k->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return error_set(e, -ENOMEM, "out of memory");
	memcpy(c, k->cpuid, sz);
	uint32_t ncpus = (uint32_t)cpu->vm->ncpus;
	uint32_t apic_id = (uint32_t)cpu->index;

	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *ent = &c->entries[i];
		switch (ent->function) {
		case 1:
			/* APIC id, logical processor count, HTT when > 1. */
			ent->ebx = (ent->ebx & 0xffff) | (ncpus << 16) | (apic_id << 24);
			if (ncpus > 1)
				ent->edx |= 1u << 28;
			ent->ecx |= 1u << 31; /* hypervisor present */
			break;
		case 4:
			/* Cache topology: one core per vCPU, caches private. */
			ent->eax &= 0x3ff;
			ent->eax |= ((ncpus - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: one thread per core, ncpus cores. */
			ent->edx = apic_id;
			if (ent->index == 0) {
				ent->eax = 0;
				ent->ebx = 1;
				ent->ecx = (1u << 8) | 0;
			} else if (ent->index == 1) {
				uint32_t shift = 0;
				while ((1u << shift) < ncpus)
					shift++;
				ent->eax = shift;
				ent->ebx = ncpus;
				ent->ecx = (2u << 8) | 1;
			} else {
				ent->eax = ent->ebx = 0;
				ent->ecx = ent->index;
			}
			break;
		case 0x40000000:
			set_signature(ent, "KVMKVMKVM\0\0\0");
			if (ent->eax < 0x40000001)
				ent->eax = 0x40000001;
			break;
		default:
			break;
		}
	}
	int r = ioctl(((struct kvm_vcpu *)cpu->accel)->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return error_set(e, -errno, "KVM_SET_CPUID2: %s", strerror(errno));
	return 0;
}
