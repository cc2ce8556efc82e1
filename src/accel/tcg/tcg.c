/*
 * The software CPU as an accelerator: one host thread per vCPU, each
 * running cpu_run() (cpu.c). It has no interrupt controller of its own:
 * the board creates user-space PIC/IOAPIC/LAPICs (hw/intc) and fills in
 * each vcpu's intc, through which cpu.c asks for interrupts.
 *
 * Memory ordering: vCPU threads share guest RAM directly. Plain aligned
 * accesses are single host loads/stores and LOCKed instructions use host
 * atomics, so the guest sees the host's x86-TSO ordering, which is the
 * ordering x86 guests are written for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "accel/tcg/exec.h"
#include "accel/tcg/tcg_int.h"
#include "util/log.h"

static int tcg_probe(bool *native, struct error *e)
{
	(void)e;
	*native = false;
	return 0;
}

static void tcg_ram_written(void *opaque, const void *host, size_t len)
{
	code_pages_written(opaque, host, len);
}

static int tcg_vm_init(struct vm *vm, struct error *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, exec_table_init);
	struct tcg_vm *t = calloc(1, sizeof(*t));
	if (!t)
		return error_set(e, -ENOMEM, "out of memory");
	vm->accel_state = t;
	if (code_pages_init(&t->code_pages, &vm->mem))
		return error_set(e, -ENOMEM, "out of memory for the code cache");
	/* Device DMA into guest RAM must drop code cached from those pages. */
	vm->ram_written = tcg_ram_written;
	vm->ram_written_opaque = &t->code_pages;
	return 0;
}

static void tcg_vm_destroy(struct vm *vm)
{
	struct tcg_vm *t = vm->accel_state;
	if (!t)
		return;
	code_pages_destroy(&t->code_pages);
	free(t);
	vm->accel_state = NULL;
}

static int tcg_vcpu_init(struct vcpu *v, struct error *e)
{
	struct tcg_vcpu *t = aligned_alloc(64, (sizeof(*t) + 63) & ~(size_t)63);
	if (!t)
		return error_set(e, -ENOMEM, "out of memory");
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	v->accel = t;
	struct x86_cpu *cpu = &t->cpu;
	cpu->vcpu = v;
	cpu->vm = v->vm;
	cpu->code_pages = &((struct tcg_vm *)v->vm->accel_state)->code_pages;
	/* Development knob: stop after a fixed number of guest instructions,
	 * so that profilers (callgrind) measure a fixed amount of guest work. */
	const char *stop = getenv("KEMU_STOP_AFTER");
	cpu->icount_stop = stop ? strtoull(stop, NULL, 0) : UINT64_MAX;
	if (!cpu->icount_stop)
		cpu->icount_stop = UINT64_MAX;
	cpu->tbc = tb_cache_create();
	if (!cpu->tbc)
		return error_set(e, -ENOMEM, "out of memory");
	mmu_cpu_init(cpu);
	cpu_do_init(cpu); /* architectural INIT state, FPU/SSE/MSR defaults */
	if (v->index == 0) {
		struct x86_cpu_state st;
		if (v->vm->boot_state_valid)
			st = v->vm->boot_state;
		else
			x86_state_reset(&st);
		cpu_load_state(cpu, &st);
		cpu->wait_sipi = false;
		cpu->msr.apic_base |= 1ULL << 8; /* BSP */
	}
	return 0;
}

static void tcg_vcpu_destroy(struct vcpu *v)
{
	struct tcg_vcpu *t = v->accel;
	if (!t)
		return;
	/* Retired-instruction counts, for measuring the interpreter's cost per
	 * guest instruction (host instructions / this). */
	if (getenv("KEMU_STATS"))
		log_info("cpu %d: %llu instructions retired, %llu blocks built (%llu after stores), "
			 "%llu cache flushes", v->index, (unsigned long long)t->cpu.icount,
			 (unsigned long long)(t->cpu.tbc ? t->cpu.tbc->built : 0),
			 (unsigned long long)(t->cpu.tbc ? t->cpu.tbc->stale : 0),
			 (unsigned long long)(t->cpu.tbc ? t->cpu.tbc->flushes : 0));
	tcg_profile_stop(t->profile);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	tb_cache_destroy(t->cpu.tbc);
	free(t);
	v->accel = NULL;
}

static void tcg_vcpu_run(struct vcpu *v)
{
	struct tcg_vcpu *t = v->accel;
	if (!t->profile)
		t->profile = tcg_profile_start(&t->cpu, v->index);
	cpu_run(&t->cpu);
}

static void tcg_vcpu_kick(struct vcpu *v)
{
	struct tcg_vcpu *t = v->accel;
	atomic_store(&t->cpu.kicked, true);
	pthread_mutex_lock(&t->lock);
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

void tcg_vcpu_wait(struct x86_cpu *cpu)
{
	struct tcg_vcpu *t = tcg_vcpu_of(cpu);
	pthread_mutex_lock(&t->lock);
	while (!atomic_load(&cpu->kicked) && !atomic_load(&cpu->vcpu->pending) &&
	       !vm_stopping(cpu->vm))
		pthread_cond_wait(&t->wake, &t->lock);
	pthread_mutex_unlock(&t->lock);
}

const struct accel_ops accel_tcg = {
	.name = "tcg",
	.has_irqchip = false,
	.emulated = true,
	.probe = tcg_probe,
	.vm_init = tcg_vm_init,
	.vm_destroy = tcg_vm_destroy,
	.vcpu_init = tcg_vcpu_init,
	.vcpu_destroy = tcg_vcpu_destroy,
	.vcpu_run = tcg_vcpu_run,
	.vcpu_kick = tcg_vcpu_kick,
	.set_irq = NULL, /* interrupt lines go to the board's hw/intc */
};
