/*
 * The machine model shared by every accelerator: guest RAM, the port-I/O
 * and MMIO buses, the vCPUs, and the run state. Devices see a struct vm
 * only to reach its buses and to request shutdown or reset; they never
 * learn which accelerator runs the vCPUs.
 */
#ifndef KEMU_CORE_VM_H
#define KEMU_CORE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/bus.h"
#include "core/cpu_state.h"
#include "core/event.h"
#include "core/irq.h"
#include "core/mem.h"
#include "core/timer.h"

struct accel_ops;

enum vm_stop {
	VM_RUNNING = 0,
	VM_STOP_SHUTDOWN, /* guest powered off, debug-exit, or Ctrl-A x */
	VM_STOP_RESET,    /* guest asked for a reboot (or triple-faulted) */
	VM_STOP_ERROR,    /* an accelerator could not continue */
};

/*
 * What a vCPU's local interrupt controller offers the CPU that runs it.
 * Only used where the accelerator has no interrupt controller of its own
 * (the software CPU); the board fills it in with the local APIC.
 */
struct cpu_intc {
	/* Is a maskable interrupt waiting (before the CPU's IF check)? */
	bool (*pending)(void *opaque);
	/* Interrupt acknowledge: returns the vector and marks it in service. */
	int (*ack)(void *opaque);
	void *opaque;
};

/* Bits of vcpu.pending: events other threads post to a vCPU. */
#define VCPU_PENDING_INTR (1u << 0) /* the interrupt controller has something */
#define VCPU_PENDING_NMI (1u << 1)
#define VCPU_PENDING_INIT (1u << 2)
#define VCPU_PENDING_SIPI (1u << 3) /* vector in sipi_vector */
#define VCPU_PENDING_TLB_FLUSH (1u << 4)

struct vcpu {
	struct vm *vm;
	int index;
	pthread_t thread;
	bool started;
	void *accel; /* the accelerator's per-vCPU state */
	struct cpu_intc intc;
	atomic_uint pending;
	uint8_t sipi_vector;
};

/* The vCPU the calling thread runs, NULL on other threads. Devices whose
 * registers are per-CPU (the local APIC) use it to pick the instance. */
extern __thread struct vcpu *current_vcpu;

/* Posts VCPU_PENDING_* bits to a vCPU and makes it notice them. */
void vcpu_notify(struct vcpu *cpu, unsigned bits);

struct vm {
	struct guest_mem mem;
	pthread_mutex_t io_lock; /* serialises all device emulation */
	struct bus pio;
	struct bus mmio;
	struct event_loop loop;

	const struct accel_ops *accel;
	void *accel_state;

	int ncpus;
	struct vcpu *vcpus;
	struct x86_cpu_state boot_state; /* the boot CPU's entry state */
	bool boot_state_valid;           /* else firmware-style reset state */

	_Atomic int stop;  /* enum vm_stop, first request wins */
	int exit_status;   /* for VM_STOP_SHUTDOWN */

	struct timer_list timers; /* device timers, fired on the event loop */

	/*
	 * Where interrupt lines end: the accelerator's set_irq by default, or
	 * the board's user-space interrupt controllers when the accelerator
	 * has none (see accel_ops.has_irqchip).
	 */
	void (*irq_sink)(void *opaque, unsigned gsi, bool level);
	void *irq_sink_opaque;

	/* Message-signalled interrupts (PCI MSI/MSI-X): the accelerator's
	 * send_msi by default, the board's user-space LAPICs otherwise. */
	void (*msi_sink)(void *opaque, uint64_t addr, uint32_t data);
	void *msi_sink_opaque;

	/*
	 * Devices that write guest RAM directly (virtqueue DMA) report it
	 * here, so that an emulated CPU drops code it cached from those pages.
	 * Set by the accelerator; NULL when nothing needs to know.
	 */
	void (*ram_written)(void *opaque, const void *host, size_t len);
	void *ram_written_opaque;
};

int vm_init(struct vm *vm, int ncpus);
void vm_destroy(struct vm *vm);

/* Any thread may call these; the first request wins. */
void vm_request_stop(struct vm *vm, enum vm_stop why, int exit_status);
static inline void vm_request_shutdown(struct vm *vm, int status)
{
	vm_request_stop(vm, VM_STOP_SHUTDOWN, status);
}
static inline void vm_request_reset(struct vm *vm)
{
	vm_request_stop(vm, VM_STOP_RESET, 0);
}
static inline enum vm_stop vm_stopping(const struct vm *vm)
{
	return (enum vm_stop)atomic_load_explicit(&vm->stop, memory_order_acquire);
}

/* Sends an MSI (address/data as the device's MSI-X table holds them). */
void vm_send_msi(struct vm *vm, uint64_t addr, uint32_t data);

/*
 * MSI routes, where the accelerator has them (KVM: GSI routing and
 * irqfds): a message set up once and then raised by handle, which is
 * cheaper than vm_send_msi() and works from any thread. Masking is the
 * caller's business: a raised route always delivers. vm_msi_route_add()
 * returns the handle (>= 0) or a negative errno; -ENOTSUP when the
 * accelerator has none or the board's user-space interrupt controllers
 * take MSIs (msi_sink set), and the caller then uses vm_send_msi().
 * update returns 0 or a negative errno (the route keeps its old message).
 */
int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data);
int vm_msi_route_update(struct vm *vm, int route, uint64_t addr, uint32_t data);
void vm_msi_route_raise(struct vm *vm, int route);
void vm_msi_route_remove(struct vm *vm, int route);

/* An interrupt line into whatever interrupt controller the accelerator has. */
struct irq_line vm_irq_line(struct vm *vm, unsigned gsi);

/*
 * Starts one thread per vCPU, runs the event loop on the calling thread
 * until a stop is requested, then stops and joins the vCPUs.
 */
enum vm_stop vm_run(struct vm *vm);

#endif
