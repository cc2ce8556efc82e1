#include "core/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "util/log.h"

int vm_init(struct vm *vm, int ncpus)
{
	memset(vm, 0, sizeof(*vm));
	/* So that vm_destroy() after a failure here closes only what was opened. */
	vm->loop.epfd = vm->loop.wakefd = vm->timers.fd = -1;
	pthread_mutex_init(&vm->io_lock, NULL);
	bus_init(&vm->pio, "ioport", &vm->io_lock);
	bus_init(&vm->mmio, "mmio", &vm->io_lock);
	int r = event_loop_init(&vm->loop);
	if (r)
		return r;
	r = timer_list_init(&vm->timers, &vm->loop, &vm->io_lock);
	if (r)
		return r;
	vm->ncpus = ncpus;
	vm->vcpus = calloc((size_t)ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (int i = 0; i < ncpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].index = i;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (vm->accel) {
		for (int i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i].accel)
				vm->accel->vcpu_destroy(&vm->vcpus[i]);
		if (vm->accel_state)
			vm->accel->vm_destroy(vm);
	}
	free(vm->vcpus);
	timer_list_destroy(&vm->timers);
	event_loop_destroy(&vm->loop);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	guest_mem_destroy(&vm->mem);
	pthread_mutex_destroy(&vm->io_lock);
}

void vm_request_stop(struct vm *vm, enum vm_stop why, int exit_status)
{
	int expected = VM_RUNNING;
	if (!atomic_compare_exchange_strong(&vm->stop, &expected, (int)why))
		return;
	vm->exit_status = exit_status;
	event_loop_wake(&vm->loop);
	if (vm->accel && vm->accel->vcpu_kick)
		for (int i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i].started)
				vm->accel->vcpu_kick(&vm->vcpus[i]);
}

static void vm_set_irq(void *opaque, unsigned gsi, bool level)
{
	struct vm *vm = opaque;
	if (vm->irq_sink)
		vm->irq_sink(vm->irq_sink_opaque, gsi, level);
	else if (vm->accel && vm->accel->set_irq)
		vm->accel->set_irq(vm, gsi, level);
}

void vm_send_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	if (vm->msi_sink)
		vm->msi_sink(vm->msi_sink_opaque, addr, data);
	else if (vm->accel && vm->accel->send_msi)
		vm->accel->send_msi(vm, addr, data);
}

/* A board that takes MSIs itself (msi_sink) bypasses the accelerator's routes too. */
static bool vm_has_msi_routes(const struct vm *vm)
{
	return !vm->msi_sink && vm->accel && vm->accel->msi_route_add;
}

int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data)
{
	return vm_has_msi_routes(vm) ? vm->accel->msi_route_add(vm, addr, data) : -ENOTSUP;
}

int vm_msi_route_update(struct vm *vm, int route, uint64_t addr, uint32_t data)
{
	return vm_has_msi_routes(vm) ? vm->accel->msi_route_update(vm, route, addr, data)
				     : -ENOTSUP;
}

void vm_msi_route_raise(struct vm *vm, int route)
{
	if (vm_has_msi_routes(vm))
		vm->accel->msi_route_raise(vm, route);
}

void vm_msi_route_remove(struct vm *vm, int route)
{
	if (vm_has_msi_routes(vm))
		vm->accel->msi_route_remove(vm, route);
}

struct irq_line vm_irq_line(struct vm *vm, unsigned gsi)
{
	return (struct irq_line){ .set = vm_set_irq, .opaque = vm, .gsi = gsi };
}

__thread struct vcpu *current_vcpu;

void vcpu_notify(struct vcpu *cpu, unsigned bits)
{
	atomic_fetch_or(&cpu->pending, bits);
	if (cpu->started && cpu->vm->accel->vcpu_kick && current_vcpu != cpu)
		cpu->vm->accel->vcpu_kick(cpu);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *cpu = arg;
	current_vcpu = cpu;
	cpu->vm->accel->vcpu_run(cpu);
	return NULL;
}

enum vm_stop vm_run(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *cpu = &vm->vcpus[i];
		int r = pthread_create(&cpu->thread, NULL, vcpu_thread, cpu);
		if (r) {
			log_error("cannot start vCPU %d: %s", i, strerror(r));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		cpu->started = true;
	}
	while (!vm_stopping(vm))
		event_loop_poll(&vm->loop, -1);
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *cpu = &vm->vcpus[i];
		if (!cpu->started)
			continue;
		vm->accel->vcpu_kick(cpu);
		pthread_join(cpu->thread, NULL);
		cpu->started = false;
	}
	return vm_stopping(vm);
}
