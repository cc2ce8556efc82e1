/* Private to the software CPU accelerator. */
#ifndef KEMU_ACCEL_TCG_INT_H
#define KEMU_ACCEL_TCG_INT_H

#include <pthread.h>

#include "accel/tcg/codecache.h"
#include "accel/tcg/cpu.h"

/* vm->accel_state under the software CPU. */
struct tcg_vm {
	struct code_pages code_pages;
};

struct tcg_vcpu {
	struct x86_cpu cpu; /* first: tcg_vcpu_of() relies on it */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct tcg_profile *profile; /* KEMU_PROFILE sampler, or NULL */
};

static inline struct tcg_vcpu *tcg_vcpu_of(struct x86_cpu *cpu)
{
	return (struct tcg_vcpu *)cpu;
}

/* Sleeps until kicked, an event is posted, or the VM stops. */
void tcg_vcpu_wait(struct x86_cpu *cpu);

/* Guest-RIP sampling profiler (profile.c), when KEMU_PROFILE is set. */
struct tcg_profile;
struct tcg_profile *tcg_profile_start(struct x86_cpu *cpu, int index);
void tcg_profile_stop(struct tcg_profile *p);

#endif
