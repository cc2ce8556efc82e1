/*
 * The reference side: one KVM VM with one vCPU, put straight into long
 * mode ring 3 with KVM_SET_SREGS for every case. On PVM hosts 64-bit
 * ring 3 runs natively, so what comes back is what the real CPU did; 32-
 * and 16-bit code runs in KVM's instruction emulator (see diff.c).
 *
 * A case ends with an I/O exit from the OUT imm8, AL of a ring-0
 * exception stub (the vector is the port; the error code and the faulting
 * RIP/RFLAGS/RSP come from the ring-0 stack frame). The normal end is the
 * #GP(0) of the HLT filler the instruction falls through or branches to.
 * PVM keeps guest ring 3 at IOPL 0 whatever RFLAGS says, so cases run with
 * IOPL 0 and ring-3 port I/O faults on both sides.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diff.h"

static int vm_fd = -1, vcpu_fd = -1;
static struct kvm_run *run;
static uint8_t *ram;
/* KVM reports I/O exits with RIP already past the instruction (probed). */
static unsigned io_advance;
#define EXC_GP_VECTOR 13
/* Indexed by mode / 32: ring 3 runs on the CPU rather than KVM's emulator. */
static bool native[3];

static uint64_t ld64(uint64_t a)
{
	uint64_t v;
	memcpy(&v, ram + a, 8);
	return v;
}

uint8_t *kvm_diff_ram(void)
{
	return ram;
}

static int fail(char *why, size_t n, const char *what)
{
	int e = errno ? errno : EINVAL;
	snprintf(why, n, "%s: %s", what, strerror(e));
	return -e;
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_seg *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector, .type = s->type,
		.present = s->present, .dpl = s->dpl, .db = s->db, .s = s->s, .l = s->l,
		.g = s->g, .avl = s->avl, .unusable = s->unusable,
	};
}

static bool sse_set(const struct diff_case *c, char *why, size_t n);
static bool sse_get(struct diff_state *out, char *why, size_t n);

static int set_sregs(int mode)
{
	struct x86_cpu_state st;
	struct kvm_sregs sr;
	image_state(&st, mode);
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	seg_to_kvm(&sr.cs, &st.cs);
	seg_to_kvm(&sr.ds, &st.ds);
	seg_to_kvm(&sr.es, &st.es);
	seg_to_kvm(&sr.fs, &st.fs);
	seg_to_kvm(&sr.gs, &st.gs);
	seg_to_kvm(&sr.ss, &st.ss);
	seg_to_kvm(&sr.tr, &st.tr);
	seg_to_kvm(&sr.ldt, &st.ldt);
	sr.gdt = (struct kvm_dtable){ .base = st.gdt.base, .limit = st.gdt.limit };
	sr.idt = (struct kvm_dtable){ .base = st.idt.base, .limit = st.idt.limit };
	sr.cr0 = st.cr0;
	sr.cr2 = 0;
	sr.cr3 = st.cr3;
	sr.cr4 = st.cr4;
	sr.efer = st.efer;
	memset(sr.interrupt_bitmap, 0, sizeof(sr.interrupt_bitmap));
	return ioctl(vcpu_fd, KVM_SET_SREGS, &sr) < 0 ? -errno : 0;
}

static int set_cpuid(int kvm_fd)
{
	for (int nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = (uint32_t)nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
			int e = errno;
			free(c);
			if (e == E2BIG)
				continue;
			errno = e;
			return -e;
		}
		int r = ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
		free(c);
		return r;
	}
	return -E2BIG;
}

int kvm_diff_init(char *why, size_t n)
{
	errno = 0;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail(why, n, "/dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		errno = ENOTSUP;
		return fail(why, n, "/dev/kvm API version");
	}
	vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return fail(why, n, "KVM_CREATE_VM");
	ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return fail(why, n, "mmap guest RAM");
	struct kvm_userspace_memory_region slot = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_RAM,
		.userspace_addr = (uint64_t)(uintptr_t)ram,
	};
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return fail(why, n, "KVM_SET_USER_MEMORY_REGION");
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		return fail(why, n, "KVM_CREATE_VCPU");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return fail(why, n, "KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		return fail(why, n, "mmap kvm_run");
	int r = set_cpuid(kvm);
	if (r) {
		errno = -r;
		return fail(why, n, "KVM_SET_CPUID2");
	}
	close(kvm);
	image_build(ram);

	/* Probe: a case that is only the filler must come back as #GP at the filler,
	 * and tells where RIP points at an I/O exit. */
	r = set_sregs(64);
	if (r) {
		errno = -r;
		return fail(why, n, "KVM_SET_SREGS (long mode, ring 3)");
	}
	struct kvm_regs regs = { .rip = INSN_PAGE, .rsp = TARGET_HI, .rflags = 0x202 };
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return fail(why, n, "KVM_SET_REGS");
	if (ioctl(vcpu_fd, KVM_RUN, 0) < 0)
		return fail(why, n, "KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO) {
		snprintf(why, n, "a ring-3 HLT did not reach its stub (exit %u)", run->exit_reason);
		return -ENOTSUP;
	}
	if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return fail(why, n, "KVM_GET_REGS");
	uint64_t stub = STUB_BASE + EXC_GP_VECTOR * STUB_SIZE;
	if (run->io.port != EXC_GP_VECTOR || (regs.rip != stub && regs.rip != stub + STUB_SIZE) ||
	    ld64(regs.rsp + 8) != INSN_PAGE) {
		snprintf(why, n, "ring-3 probe: port %#x at rip %#llx, frame rip %#llx",
			 run->io.port, (unsigned long long)regs.rip,
			 (unsigned long long)ld64(regs.rsp + 8));
		return -ENOTSUP;
	}
	io_advance = (unsigned)(regs.rip - stub);

	/*
	 * Does ring 3 of each mode run natively? PXOR runs on any x86-64 CPU but
	 * is unknown to KVM's instruction emulator, so a #UD means KVM
	 * emulates that mode (PVM: 32-bit and 16-bit code segments).
	 */
	for (int mode = 16; mode <= 64; mode *= 2) {
		struct diff_case c = { .mode = mode, .len = 4, .addr = INSN_PAGE,
				       .bytes = { 0x66, 0x0f, 0xef, 0xc0 } };
		struct diff_state out;
		c.in.rip = INSN_PAGE;
		c.in.rflags = 0x202;
		c.in.gpr[4] = TARGET_HI;
		if (!kvm_diff_run(&c, &out, why, n))
			return -ENOTSUP;
		native[mode / 32] = out.vector != 6;
	}
	return 0;
}

bool kvm_diff_native(int mode)
{
	return native[mode / 32];
}

static void regs_to_state(const struct kvm_regs *r, struct diff_state *s)
{
	uint64_t g[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
			   r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	memcpy(s->gpr, g, sizeof(g));
	s->rip = r->rip;
	s->rflags = r->rflags;
}

static void state_to_regs(const struct diff_state *s, struct kvm_regs *r)
{
	const uint64_t *g = s->gpr;
	*r = (struct kvm_regs){
		.rax = g[0], .rcx = g[1], .rdx = g[2], .rbx = g[3], .rsp = g[4], .rbp = g[5],
		.rsi = g[6], .rdi = g[7], .r8 = g[8], .r9 = g[9], .r10 = g[10], .r11 = g[11],
		.r12 = g[12], .r13 = g[13], .r14 = g[14], .r15 = g[15],
		.rip = s->rip, .rflags = s->rflags,
	};
}

/*
 * SSE state goes through the XSAVE image: KVM_SET_FPU writes the legacy
 * area without marking SSE in XSTATE_BV, so the guest would start from
 * the init state (zeroed XMM), and KVM_GET_FPU reports MXCSR as 0.
 */
#define XS_MXCSR 24
#define XS_XMM 160
#define XS_BV 512

static bool sse_set(const struct diff_case *c, char *why, size_t n)
{
	struct kvm_xsave xs;
	uint8_t *p = (uint8_t *)xs.region;
	if (ioctl(vcpu_fd, KVM_GET_XSAVE, &xs) < 0) {
		snprintf(why, n, "KVM_GET_XSAVE: %s", strerror(errno));
		return false;
	}
	memset(p, 0, 24); /* FCW/FSW/FTW/FOP/FIP/FDP: set below */
	uint16_t fcw = 0x37f;
	memcpy(p, &fcw, 2);
	memcpy(p + XS_MXCSR, &c->in.mxcsr, 4);
	memcpy(p + XS_XMM, c->in.xmm, 16 * 16);
	uint64_t bv;
	memcpy(&bv, p + XS_BV, 8);
	bv = (bv | 3) & ~4ULL; /* x87 and SSE present, AVX upper halves in init state */
	memcpy(p + XS_BV, &bv, 8);
	if (ioctl(vcpu_fd, KVM_SET_XSAVE, &xs) < 0) {
		snprintf(why, n, "KVM_SET_XSAVE: %s", strerror(errno));
		return false;
	}
	return true;
}

static bool sse_get(struct diff_state *out, char *why, size_t n)
{
	struct kvm_xsave xs;
	const uint8_t *p = (const uint8_t *)xs.region;
	if (ioctl(vcpu_fd, KVM_GET_XSAVE, &xs) < 0) {
		snprintf(why, n, "KVM_GET_XSAVE: %s", strerror(errno));
		return false;
	}
	uint64_t bv;
	memcpy(&bv, p + XS_BV, 8);
	memcpy(&out->mxcsr, p + XS_MXCSR, 4);
	if (bv & 2)
		memcpy(out->xmm, p + XS_XMM, 16 * 16);
	else
		memset(out->xmm, 0, 16 * 16);
	return true;
}

bool kvm_diff_run(const struct diff_case *c, struct diff_state *out, char *why, size_t n)
{
	image_data(ram, c);
	image_code(ram, c);
	bool ok = false;
	struct kvm_regs regs;
	/* Ring 0 after an exception, or another mode: the segment state is reloaded
	 * every time; it is cheap next to KVM_RUN. */
	int r = set_sregs(c->mode);
	if (r) {
		snprintf(why, n, "KVM_SET_SREGS: %s", strerror(-r));
		goto out;
	}
	state_to_regs(&c->in, &regs);
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		snprintf(why, n, "KVM_SET_REGS: %s", strerror(errno));
		goto out;
	}
	if (c->sse && !sse_set(c, why, n))
		goto out;
	*out = c->in;
	for (int exits = 0;; exits++) {
		if (exits > 100000) {
			snprintf(why, n, "more than 100000 exits");
			goto out;
		}
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, n, "KVM_RUN: %s", strerror(errno));
			goto out;
		}
		if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0) {
			snprintf(why, n, "KVM_GET_REGS: %s", strerror(errno));
			goto out;
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			snprintf(why, n, "KVM exit %u at rip %#llx", run->exit_reason,
				 (unsigned long long)regs.rip);
			goto out;
		}
		uint64_t at = regs.rip - io_advance;
		if (at < STUB_BASE || at >= STUB_BASE + 256 * STUB_SIZE) {
			snprintf(why, n, "I/O exit (port %#x) at unexpected rip %#llx", run->io.port,
				 (unsigned long long)regs.rip);
			goto out;
		}
		/* An exception: the stub ran at ring 0 and left RSP at the frame. */
		regs_to_state(&regs, out);
		out->vector = run->io.port;
		uint64_t f = regs.rsp;
		if (f < RSP0_TOP - 64 || f > RSP0_TOP - 40) {
			snprintf(why, n, "vector %d with a bad ring-0 frame at %#llx", out->vector,
				 (unsigned long long)f);
			goto out;
		}
		out->has_error = vector_has_error(out->vector);
		if (out->has_error) {
			out->error = (uint32_t)ld64(f);
			f += 8;
		}
		out->rip = ld64(f);
		out->rflags = ld64(f + 16);
		out->gpr[4] = ld64(f + 24);
		if (out->vector == 14) {
			struct kvm_sregs sr;
			if (ioctl(vcpu_fd, KVM_GET_SREGS, &sr) == 0)
				out->cr2 = sr.cr2;
		}
		/* #GP(0) on the filler is the normal end of a case. */
		uint64_t ip = out->rip & (c->mode == 64 ? ~0ULL : 0xffffffffULL);
		if (out->vector == EXC_GP_VECTOR && out->error == 0 && ip >= CODE_LO &&
		    ip < CODE_HI && (ip < c->addr || ip >= c->addr + c->len) && ram[ip] == FILLER) {
			out->vector = -1;
			out->has_error = false;
		}
		break;
	}
	if (c->sse && !sse_get(out, why, n))
		goto out;
	ok = true;
out:
	image_uncode(ram, c);
	return ok;
}

bool kvm_diff_host_has(enum x86_isa isa)
{
	unsigned a, b, c, d;
	__cpuid(1, a, b, c, d);
	unsigned c7 = 0, b7 = 0, d7 = 0, a7 = 0;
	__cpuid_count(7, 0, a7, b7, c7, d7);
	unsigned ea, eb, ec, ed;
	__cpuid(0x80000001, ea, eb, ec, ed);
	switch (isa) {
	case X86_ISA_BASE: return true;
	case X86_ISA_X87: return d & 1;
	case X86_ISA_MMX: return d & (1u << 23);
	case X86_ISA_SSE: return d & (1u << 25);
	case X86_ISA_SSE2: return d & (1u << 26);
	case X86_ISA_SSE3: return c & 1;
	case X86_ISA_SSSE3: return c & (1u << 9);
	case X86_ISA_SSE41: return c & (1u << 19);
	case X86_ISA_SSE42: return c & (1u << 20);
	case X86_ISA_POPCNT: return c & (1u << 23);
	case X86_ISA_LZCNT: return ec & (1u << 5);
	case X86_ISA_BMI1: return b7 & (1u << 3);
	case X86_ISA_MOVBE: return c & (1u << 22);
	case X86_ISA_CX16: return c & (1u << 13);
	case X86_ISA_LM: return ed & (1u << 29); /* MOVSXD, SWAPGS */
	default: return false; /* the rest is not compared (see cases.c) */
	}
}
