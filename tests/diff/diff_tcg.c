/*
 * The side under test: kemu's software CPU, stepped one instruction at a
 * time on its own copy of the guest image. Exceptions are caught where
 * cpu_raise() throws them (setjmp on cpu->exc_jmp), so what is compared is
 * the exception itself, before any IDT delivery; events the handlers
 * deliver themselves (INT1) are recognised by the vCPU arriving at ring 0
 * in a stub, exactly as on the KVM side.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "accel/tcg/exec.h"
#include "core/vm.h"
#include "diff.h"

#pragma GCC diagnostic ignored "-Wclobbered"

static struct vm vm;
static struct x86_cpu *cpu;

uint8_t *tcg_diff_ram(void)
{
	return vm.mem.base;
}

bool tcg_diff_has_handler(unsigned op)
{
	return op < OP_COUNT && exec_table[op] != NULL;
}

int tcg_diff_init(void)
{
	int r = vm_init(&vm, 1);
	if (r)
		return r;
	r = guest_mem_init(&vm.mem, GUEST_RAM, 0xc0000000ULL);
	if (r)
		return r;
	/* As tcg.c creates a vCPU, minus the decode cache: the harness rewrites
	 * code between cases behind the MMU's back. */
	cpu = aligned_alloc(64, (sizeof(*cpu) + 63) & ~(size_t)63);
	if (!cpu)
		return -1;
	memset(cpu, 0, sizeof(*cpu));
	cpu->vm = &vm;
	cpu->vcpu = &vm.vcpus[0];
	mmu_cpu_init(cpu);
	cpu_do_init(cpu);
	exec_table_init();
	image_build(vm.mem.base);
	return 0;
}

/* Reads the ring-0 frame of an event a handler delivered itself. */
static void frame_read(struct diff_state *out, int vector)
{
	const uint8_t *ram = vm.mem.base;
	uint64_t f = cpu->gpr[R_RSP], v[6];
	if (f < RSP0_TOP - 64 || f > RSP0_TOP - 40)
		return;
	memcpy(v, ram + f, sizeof(v));
	unsigned k = 0;
	out->has_error = vector_has_error(vector);
	if (out->has_error)
		out->error = (uint32_t)v[k++];
	out->rip = v[k];
	out->rflags = v[k + 2];
	out->gpr[R_RSP] = v[k + 3];
}

void tcg_diff_run(const struct diff_case *c, struct diff_state *out)
{
	uint8_t *ram = vm.mem.base;
	image_data(ram, c);
	image_code(ram, c);

	struct x86_cpu_state st;
	image_state(&st, c->mode);
	memcpy(st.gpr, c->in.gpr, sizeof(st.gpr));
	st.rip = c->in.rip;
	st.rflags = c->in.rflags;
	cpu_load_state(cpu, &st);
	cpu->halted = false;
	cpu->intr_shadow = false;
	cpu->exc_depth = 0;
	cpu->exc_vector = -1;
	if (c->sse) {
		memcpy(cpu->xmm, c->in.xmm, sizeof(cpu->xmm));
		cpu->mxcsr = c->in.mxcsr;
	}
	*out = c->in;
	out->vector = -1;

	volatile long steps = 0;
	if (setjmp(cpu->exc_jmp)) {
		out->vector = cpu->exc_vector;
		out->error = cpu->exc_error;
		out->has_error = vector_has_error(cpu->exc_vector);
		cpu->rip = cpu->insn_rip;
		if (cpu->exc_vector == EXC_PF)
			out->cr2 = cpu->cr2;
		goto done;
	}
	/*
	 * Until the filler: REP string instructions stay at their address
	 * between iterations, and a branch that leaves the code pages must
	 * fetch at its target, as the CPU does, to fault there.
	 */
	for (;;) {
		uint64_t ip = cpu->rip;
		if (cpu->cpl == 0 || steps >= 1000000)
			break;
		if (ip != c->addr && ip >= CODE_LO && ip < CODE_HI && ram[ip] == FILLER &&
		    (ip < c->addr || ip >= c->addr + c->len))
			break;
		steps++;
		cpu_step(cpu);
	}
done:
	memcpy(out->gpr, cpu->gpr, sizeof(out->gpr));
	out->rip = cpu->rip;
	out->rflags = cpu_get_rflags(cpu);
	if (out->vector < 0 && cpu->cpl == 0 && cpu->rip >= STUB_BASE &&
	    cpu->rip < STUB_BASE + 256 * STUB_SIZE) {
		out->vector = (int)((cpu->rip - STUB_BASE) / STUB_SIZE);
		frame_read(out, out->vector);
	}
	if (c->sse) {
		memcpy(out->xmm, cpu->xmm, sizeof(out->xmm));
		out->mxcsr = cpu->mxcsr;
	}
	image_uncode(ram, c);
}
