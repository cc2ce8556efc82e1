/*
 * The software CPU's model, as CPUID reports it. It is fixed (never the
 * host's) so that a guest sees the same machine everywhere, and it
 * advertises only what the interpreter implements.
 *
 *   vendor        "GenuineIntel"
 *   signature     family 6, model 0x1c, stepping 10 (EAX 0x000106ca): an
 *                 in-order Atom (Bonnell) with Intel 64. The model matters
 *                 to Linux: Bonnell is on its "no speculation" list, so no
 *                 Meltdown/Spectre/MDS mitigations (page-table isolation,
 *                 VERW on every return to user, retpolines) are switched
 *                 on. That is also the truth: an interpreter does not
 *                 speculate. Stepping > 2 avoids Linux's Atom PSE erratum.
 *   brand         "kemu virtual CPU"
 *
 *   leaf 0        max basic leaf 0xd
 *   leaf 1  EAX   signature
 *           EBX   APIC ID (vCPU index) << 24 | logical count << 16 |
 *                 CLFLUSH line 8 (64 bytes) << 8
 *           ECX   POPCNT(23) HYPERVISOR(31). Off: SSE3, SSSE3, SSE4.x
 *                 (the SSE engine's subset is not advertised until it is
 *                 complete), CX16, MONITOR, x2APIC, TSC-deadline, XSAVE,
 *                 AVX, RDRAND, MOVBE, PCID, VMX.
 *           EDX   FPU(0) PSE(3) TSC(4) MSR(5) PAE(6) CX8(8) APIC(9)
 *                 SEP(11) MTRR(12) PGE(13) CMOV(15) PAT(16) CLFSH(19)
 *                 FXSR(24) SSE(25) SSE2(26), HTT(28) with more than one
 *                 vCPU. Off: VME, DE, MCE, MCA, PSE-36, DS, ACPI, MMX
 *                 (not implemented; no x86-64 software requires the bit),
 *                 SS, TM, PBE.
 *   leaf 2        one descriptor byte count (AL = 1), no descriptors: leaf 4 has the caches
 *   leaf 4        caches: L1d 32K 8-way, L1i 32K 8-way, L2 256K 8-way
 *                 (64-byte lines), EAX[31:26] = vCPUs - 1 cores per package
 *   leaf 0xb      topology: SMT level (1 thread), core level (N cores)
 *   leaves 3, 5-0xa, 0xd   zero: no MONITOR, power management, PMU,
 *                 structured extended features (leaf 7), XSAVE
 *   0x40000000-0x4fffffff  zero: no paravirtual interface under tcg
 *   0x80000000    max extended leaf 0x80000008
 *   0x80000001    ECX LAHF_LM(0); EDX SYSCALL(11) NX(20) PAGE1GB(26)
 *                 RDTSCP(27) LM(29)
 *   0x80000002-4  brand string
 *   0x80000006    L2: 256K, 8-way, 64-byte lines
 *   0x80000007    EDX invariant TSC(8): the TSC follows CLOCK_MONOTONIC
 *   0x80000008    40 physical, 48 linear address bits
 *   other leaves  as Intel does: the highest basic leaf's values (zero)
 */
#include <string.h>

#include "accel/tcg/system.h"

#define CPUID_MAX_BASIC 0xd
#define CPUID_MAX_EXT 0x80000008u

#define CPUID_FAMILY 6
#define CPUID_MODEL 0x1c
#define CPUID_STEPPING 10

static const char cpuid_brand[48] = "kemu virtual CPU";

uint32_t cpuid_signature(void)
{
	return CPUID_STEPPING | (CPUID_MODEL & 0xf) << 4 | CPUID_FAMILY << 8 |
	       (CPUID_MODEL >> 4) << 16;
}

static unsigned cpuid_ncpus(const struct x86_cpu *cpu)
{
	int n = cpu->vm ? cpu->vm->ncpus : 1;
	return n > 0 ? (unsigned)n : 1;
}

/* log2 rounded up: APIC ID bits a level occupies. */
static unsigned cpuid_bits(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* Leaf 4 subleaf: deterministic cache parameters. */
static void cpuid_cache(unsigned sub, unsigned ncpus, uint32_t r[4])
{
	static const struct {
		uint8_t type, level, ways;
		uint32_t size;
		bool shared; /* by all cores */
	} caches[] = {
		{ 1, 1, 8, 32 * 1024, false }, /* L1 data */
		{ 2, 1, 8, 32 * 1024, false }, /* L1 instruction */
		{ 3, 2, 8, 256 * 1024, true }, /* L2 unified */
	};
	if (sub >= sizeof(caches) / sizeof(caches[0]))
		return; /* type 0: no more caches */
	unsigned line = 64, sets = caches[sub].size / (caches[sub].ways * line);
	unsigned sharing = caches[sub].shared ? ncpus : 1;
	r[0] = caches[sub].type | caches[sub].level << 5 | 1u << 8 /* self-initialising */ |
	       (sharing - 1) << 14 | (ncpus - 1) << 26;
	r[1] = (caches[sub].ways - 1u) << 22 | (line - 1);
	r[2] = sets - 1;
	r[3] = 0;
}

void cpuid_query(const struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	unsigned ncpus = cpuid_ncpus(cpu);
	uint32_t apic_id = cpu->vcpu ? (uint32_t)cpu->vcpu->index : 0;
	memset(r, 0, 4 * sizeof(r[0]));

	if ((leaf > CPUID_MAX_BASIC && leaf < 0x80000000u) || leaf > CPUID_MAX_EXT) {
		if (leaf >= 0x40000000u && leaf < 0x50000000u)
			return; /* no hypervisor interface */
		leaf = CPUID_MAX_BASIC;
	}
	switch (leaf) {
	case 0:
		r[0] = CPUID_MAX_BASIC;
		memcpy(&r[1], "Genu", 4);
		memcpy(&r[3], "ineI", 4);
		memcpy(&r[2], "ntel", 4);
		break;
	case 1:
		r[0] = cpuid_signature();
		r[1] = apic_id << 24 | (ncpus > 255 ? 255 : ncpus) << 16 | 8u << 8;
		r[2] = 1u << 23 | 1u << 31;
		r[3] = 1u << 0 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 9 |
		       1u << 11 | 1u << 12 | 1u << 13 | 1u << 15 | 1u << 16 | 1u << 19 |
		       1u << 24 | 1u << 25 | 1u << 26;
		if (ncpus > 1)
			r[3] |= 1u << 28;
		break;
	case 2:
		r[0] = 1;
		break;
	case 4:
		cpuid_cache(subleaf, ncpus, r);
		break;
	case 0xb:
		if (subleaf == 0) {
			r[0] = 0;          /* no SMT bits in the APIC ID */
			r[1] = 1;          /* one thread per core */
			r[2] = 1u << 8;    /* level type SMT */
		} else if (subleaf == 1) {
			r[0] = cpuid_bits(ncpus);
			r[1] = ncpus;
			r[2] = 2u << 8 | 1; /* level type core */
		} else {
			r[2] = subleaf & 0xff; /* invalid level */
		}
		r[3] = apic_id;
		break;
	case 0x80000000u:
		r[0] = CPUID_MAX_EXT;
		break;
	case 0x80000001u:
		r[2] = 1u << 0;
		r[3] = 1u << 11 | 1u << 20 | 1u << 26 | 1u << 27 | 1u << 29;
		break;
	case 0x80000002u:
	case 0x80000003u:
	case 0x80000004u:
		memcpy(r, cpuid_brand + 16 * (leaf - 0x80000002u), 16);
		break;
	case 0x80000006u:
		r[2] = 256u << 16 | 6u << 12 | 64; /* 6: 8-way */
		break;
	case 0x80000007u:
		r[3] = 1u << 8;
		break;
	case 0x80000008u:
		r[0] = 48u << 8 | MMU_PHYS_BITS;
		break;
	default:
		break; /* 3, 5-0xa, 0xd, 0x80000005: zero */
	}
}
