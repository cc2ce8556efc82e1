/*
 * One KVM vCPU: creation (CPUID, MSRs, FPU), the boot CPU's entry state,
 * and the run loop. Every exit to user space is either guest I/O, which
 * goes to the shared buses exactly as the software CPU's accesses do, or a
 * change of machine state (shutdown, reset, error) reported to the VM.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/kvm/kvm_int.h"
#include "util/log.h"

#define KICK_SIGNAL SIGUSR1

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_CR_PAT 0x277
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define APIC_DEFAULT_BASE 0xfee00000ULL
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_ENABLE (1ULL << 11)

static void kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return with EINTR */
}

static void install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_seg *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector, .type = s->type,
		.present = s->present, .dpl = s->dpl, .db = s->db, .s = s->s, .l = s->l,
		.g = s->g, .avl = s->avl, .unusable = s->unusable,
	};
}

static void seg_from_kvm(struct x86_seg *s, const struct kvm_segment *k)
{
	*s = (struct x86_seg){
		.base = k->base, .limit = k->limit, .selector = k->selector, .type = k->type,
		.present = k->present, .dpl = k->dpl, .db = k->db, .s = k->s, .l = k->l,
		.g = k->g, .avl = k->avl, .unusable = k->unusable,
	};
}

static int kvm_set_state(int fd, const struct x86_cpu_state *st, bool bsp)
{
	struct kvm_sregs sregs;
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_to_kvm(&sregs.cs, &st->cs);
	seg_to_kvm(&sregs.ds, &st->ds);
	seg_to_kvm(&sregs.es, &st->es);
	seg_to_kvm(&sregs.fs, &st->fs);
	seg_to_kvm(&sregs.gs, &st->gs);
	seg_to_kvm(&sregs.ss, &st->ss);
	seg_to_kvm(&sregs.tr, &st->tr);
	seg_to_kvm(&sregs.ldt, &st->ldt);
	sregs.gdt = (struct kvm_dtable){ .base = st->gdt.base, .limit = st->gdt.limit };
	sregs.idt = (struct kvm_dtable){ .base = st->idt.base, .limit = st->idt.limit };
	sregs.cr0 = st->cr0;
	sregs.cr2 = st->cr2;
	sregs.cr3 = st->cr3;
	sregs.cr4 = st->cr4;
	sregs.cr8 = st->cr8;
	sregs.efer = st->efer;
	sregs.apic_base = APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (bsp ? APIC_BASE_BSP : 0);
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	struct kvm_regs regs = {
		.rax = st->gpr[R_RAX], .rbx = st->gpr[R_RBX], .rcx = st->gpr[R_RCX],
		.rdx = st->gpr[R_RDX], .rsi = st->gpr[R_RSI], .rdi = st->gpr[R_RDI],
		.rsp = st->gpr[R_RSP], .rbp = st->gpr[R_RBP], .r8 = st->gpr[R_R8],
		.r9 = st->gpr[R_R9], .r10 = st->gpr[R_R10], .r11 = st->gpr[R_R11],
		.r12 = st->gpr[R_R12], .r13 = st->gpr[R_R13], .r14 = st->gpr[R_R14],
		.r15 = st->gpr[R_R15], .rip = st->rip, .rflags = st->rflags | X86_RFLAGS_RESERVED1,
	};
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void kvm_get_state(int fd, struct x86_cpu_state *st)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	memset(st, 0, sizeof(*st));
	if (ioctl(fd, KVM_GET_REGS, &regs) == 0) {
		uint64_t g[16] = { regs.rax, regs.rcx, regs.rdx, regs.rbx, regs.rsp, regs.rbp,
				   regs.rsi, regs.rdi, regs.r8, regs.r9, regs.r10, regs.r11,
				   regs.r12, regs.r13, regs.r14, regs.r15 };
		memcpy(st->gpr, g, sizeof(g));
		st->rip = regs.rip;
		st->rflags = regs.rflags;
	}
	if (ioctl(fd, KVM_GET_SREGS, &sregs) == 0) {
		seg_from_kvm(&st->cs, &sregs.cs);
		seg_from_kvm(&st->ds, &sregs.ds);
		seg_from_kvm(&st->es, &sregs.es);
		seg_from_kvm(&st->fs, &sregs.fs);
		seg_from_kvm(&st->gs, &sregs.gs);
		seg_from_kvm(&st->ss, &sregs.ss);
		seg_from_kvm(&st->tr, &sregs.tr);
		seg_from_kvm(&st->ldt, &sregs.ldt);
		st->gdt = (struct x86_dtable){ sregs.gdt.base, sregs.gdt.limit };
		st->idt = (struct x86_dtable){ sregs.idt.base, sregs.idt.limit };
		st->cr0 = sregs.cr0;
		st->cr2 = sregs.cr2;
		st->cr3 = sregs.cr3;
		st->cr4 = sregs.cr4;
		st->cr8 = sregs.cr8;
		st->efer = sregs.efer;
	}
}

/* 0, -errno, or the index of the first MSR KVM refused in *refused. */
static int kvm_set_msrs(int fd, uint32_t *refused)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} init[] = {
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 }, /* fast string operations */
		{ MSR_IA32_CR_PAT, 0x0007040600070406ULL }, /* the architectural reset value */
	};
	enum { N = sizeof(init) / sizeof(init[0]) };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[N];
	} m = { .hdr.nmsrs = N };
	for (int i = 0; i < N; i++)
		m.e[i] = (struct kvm_msr_entry){ .index = init[i].index, .data = init[i].value };
	int r = ioctl(fd, KVM_SET_MSRS, &m);
	if (r < 0)
		return -errno;
	/* KVM stops at the first MSR it refuses; report which. */
	*refused = r < N ? init[r].index : 0;
	return 0;
}

int kvm_vcpu_init(struct vcpu *cpu, struct error *e)
{
	struct kvm_vm *k = kvm_of(cpu->vm);
	struct kvm_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return error_set(e, -ENOMEM, "out of memory");
	v->fd = -1;
	cpu->accel = v;
	v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)cpu->index);
	if (v->fd < 0)
		return error_set(e, -errno, "KVM_CREATE_VCPU %d: %s", cpu->index, strerror(errno));
	void *run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		return error_set(e, -errno, "mmap kvm_run: %s", strerror(errno));
	v->run = run;
	int r = kvm_cpuid_setup(k, cpu, e);
	if (r)
		return r;
	uint32_t refused = 0;
	r = kvm_set_msrs(v->fd, &refused);
	if (r < 0)
		return error_set(e, r, "KVM_SET_MSRS: %s", strerror(-r));
	if (refused)
		log_warn("vCPU %d: KVM refused MSR 0x%x", cpu->index, refused);
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return error_set(e, -errno, "KVM_SET_FPU: %s", strerror(errno));
	/* The boot CPU enters the kernel directly; the others wait for SIPI. */
	struct x86_cpu_state st;
	if (cpu->index == 0 && cpu->vm->boot_state_valid)
		st = cpu->vm->boot_state;
	else
		x86_state_reset(&st);
	r = kvm_set_state(v->fd, &st, cpu->index == 0);
	if (r)
		return error_set(e, r, "vCPU %d: setting registers: %s", cpu->index, strerror(-r));

	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install_kick_handler);
	return 0;
}

void kvm_vcpu_destroy(struct vcpu *cpu)
{
	struct kvm_vcpu *v = cpu->accel;
	if (!v)
		return;
	if (v->run)
		munmap(v->run, (size_t)kvm_of(cpu->vm)->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
	cpu->accel = NULL;
}

void kvm_vcpu_kick(struct vcpu *cpu)
{
	struct kvm_vcpu *v = cpu->accel;
	/* immediate_exit covers a kick that lands just before KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(cpu->thread, KICK_SIGNAL);
}

static void kvm_handle_io(struct vm *vm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			bus_write(&vm->pio, run->io.port, data, run->io.size);
		} else if (!bus_read(&vm->pio, run->io.port, data, run->io.size)) {
			memset(data, 0xff, run->io.size);
		}
	}
}

static void kvm_handle_mmio(struct vm *vm, struct kvm_run *run)
{
	unsigned len = run->mmio.len > 8 ? 8 : run->mmio.len;
	if (run->mmio.is_write)
		bus_write(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else if (!bus_read(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len))
		memset(run->mmio.data, 0xff, len);
}

/* A register dump and the bytes at RIP, for errors KVM cannot recover from. */
static void kvm_dump(struct vcpu *cpu, const char *why)
{
	struct kvm_vcpu *v = cpu->accel;
	struct x86_cpu_state st;
	kvm_get_state(v->fd, &st);
	log_error("vCPU %d: %s", cpu->index, why);
	x86_state_dump(&st, stderr);
	struct kvm_translation tr = { .linear_address = st.cs.base + st.rip };
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid) {
		const uint8_t *code = guest_ptr(&cpu->vm->mem, tr.physical_address, 16);
		if (code) {
			fprintf(stderr, "Code at %016llx:", (unsigned long long)tr.physical_address);
			for (int i = 0; i < 16; i++)
				fprintf(stderr, " %02x", code[i]);
			fprintf(stderr, "\n");
		}
	}
}

static void kvm_internal_error(struct vcpu *cpu, struct kvm_run *run)
{
	static const char *const sub[] = {
		[KVM_INTERNAL_ERROR_EMULATION] = "KVM could not emulate an instruction",
		[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception while delivering an exception",
		[KVM_INTERNAL_ERROR_DELIVERY_EV] = "exit while delivering an event",
	};
	uint32_t s = run->internal.suberror;
	const char *what = s < sizeof(sub) / sizeof(sub[0]) && sub[s] ? sub[s] : "internal error";
	char msg[160];
	snprintf(msg, sizeof(msg), "KVM internal error %u: %s", s, what);
	kvm_dump(cpu, msg);
	bool native = true;
	struct error e;
	if (accel_kvm.probe(&native, &e) == 0 && !native)
		log_error("diagnosis: this host's KVM is PVM, which emulates guest ring 0 in the "
			  "kernel and cannot run some instructions there; use -accel tcg");
	else
		log_error("diagnosis: the guest ran code KVM cannot execute or emulate");
}

void kvm_vcpu_run(struct vcpu *cpu)
{
	struct vm *vm = cpu->vm;
	struct kvm_vcpu *v = cpu->accel;
	struct kvm_run *run = v->run;

	while (!vm_stopping(vm)) {
		int r = ioctl(v->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
			log_error("vCPU %d: KVM_RUN: %s", cpu->index, strerror(errno));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			kvm_handle_io(vm, run);
			break;
		case KVM_EXIT_MMIO:
			kvm_handle_mmio(vm, run);
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; nothing will wake us. */
			log_error("vCPU %d: halted with interrupts it cannot receive", cpu->index);
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		case KVM_EXIT_SHUTDOWN:
			/* A triple fault resets a PC. */
			log_debug("vCPU %d: triple fault, resetting", cpu->index);
			vm_request_reset(vm);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				vm_request_reset(vm);
			else if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
				vm_request_shutdown(vm, 0);
			else {
				kvm_dump(cpu, "guest crashed");
				vm_request_stop(vm, VM_STOP_ERROR, 1);
			}
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			kvm_internal_error(cpu, run);
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		case KVM_EXIT_FAIL_ENTRY: {
			char msg[96];
			snprintf(msg, sizeof(msg), "KVM could not enter the guest (reason 0x%llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			kvm_dump(cpu, msg);
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		default: {
			char msg[64];
			snprintf(msg, sizeof(msg), "unexpected KVM exit %u", run->exit_reason);
			kvm_dump(cpu, msg);
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		}
	}
}
