/*
 * The accelerator interface: everything that differs between running the
 * guest under KVM and on the software CPU. The rest of kemu (board,
 * devices, loaders) is written against this and never against /dev/kvm.
 *
 * An accelerator dispatches the guest's port I/O and MMIO into vm->pio and
 * vm->mmio, and reports shutdown/reset through vm_request_stop().
 */
#ifndef KEMU_ACCEL_ACCEL_H
#define KEMU_ACCEL_ACCEL_H

#include <stdbool.h>

#include "config.h"
#include "core/vm.h"
#include "util/error.h"

struct accel_ops {
	const char *name;
	/*
	 * True if the accelerator brings its own interrupt controllers and PIT
	 * (KVM's in-kernel irqchip); otherwise the board creates them in user
	 * space and fills in each vcpu's intc.
	 */
	bool has_irqchip;
	/* True if guest instructions are emulated (the software CPU). */
	bool emulated;
	/*
	 * Can this accelerator run here at all (0 or negative errno with the
	 * reason in e)? *native says whether it runs guest kernels at full
	 * speed (false for the paravirtual PVM flavour of KVM).
	 */
	int (*probe)(bool *native, struct error *e);
	/* Creates the VM: memory already lives in vm->mem. */
	int (*vm_init)(struct vm *vm, struct error *e);
	void (*vm_destroy)(struct vm *vm);
	int (*vcpu_init)(struct vcpu *cpu, struct error *e);
	void (*vcpu_destroy)(struct vcpu *cpu);
	/* Runs the vCPU on the calling thread until vm_stopping(). */
	void (*vcpu_run)(struct vcpu *cpu);
	/* Makes a vCPU blocked in vcpu_run() look at vm->stop soon. */
	void (*vcpu_kick)(struct vcpu *cpu);
	/* Drives a GSI of the interrupt controller. */
	void (*set_irq)(struct vm *vm, unsigned gsi, bool level);
	/* Delivers an MSI (only with has_irqchip). */
	void (*send_msi)(struct vm *vm, uint64_t addr, uint32_t data);
	/*
	 * Optional: makes guest writes of exactly len bytes to addr (MMIO, or
	 * a port if !mmio) signal eventfd fd instead of exiting to a bus
	 * handler, whatever value is written (assign), or stops that (!assign,
	 * same arguments). Writes of other sizes still reach the bus. 0 or a
	 * negative errno; NULL where the accelerator cannot (the caller then
	 * just serves the bus accesses).
	 */
	int (*ioeventfd)(struct vm *vm, bool mmio, uint64_t addr, unsigned len, int fd, bool assign);
	/*
	 * Optional MSI routes (all four or none; only with has_irqchip): a
	 * message bound to a handle, delivered by the accelerator each time
	 * the handle is raised, from any thread and without a trip through
	 * send_msi (KVM: a GSI routing entry and an irqfd, raised by writing
	 * the eventfd). msi_route_add returns the handle (>= 0) or a negative
	 * errno; -ENOTSUP means "never here", and the caller keeps to
	 * send_msi. Used through vm_msi_route_*() (core/vm.h).
	 */
	int (*msi_route_add)(struct vm *vm, uint64_t addr, uint32_t data);
	int (*msi_route_update)(struct vm *vm, int route, uint64_t addr, uint32_t data);
	void (*msi_route_raise)(struct vm *vm, int route);
	void (*msi_route_remove)(struct vm *vm, int route);
};

extern const struct accel_ops accel_kvm;
extern const struct accel_ops accel_tcg;

const struct accel_ops *accel_lookup(enum accel_kind kind);

/*
 * Picks the accelerator: the first of cfg->accel that probes usable, or
 * with none given, the one that runs guest kernels natively. Prints one
 * line on stderr saying which and why when the choice was automatic.
 */
const struct accel_ops *accel_select(const struct config *cfg, struct error *e);

#endif
