/*
 * Shared between the parts of the differential checker (see diff.c for the
 * overview): the guest memory layout both engines run on, the state of one
 * case before and after, and the interfaces of the KVM and software-CPU
 * back ends and of the case generator.
 */
#ifndef KEMU_TESTS_DIFF_H
#define KEMU_TESTS_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel/tcg/decode.h"
#include "core/cpu_state.h"

/*
 * Guest-physical = linear layout (identity paging), all below 64 KiB so
 * that 16-bit code with 16-bit addressing reaches every part of it.
 */
#define GUEST_RAM 0x200000ULL     /* 2 MiB, mapped by one page table */
#define GDT_BASE 0x0000ULL
#define TSS_BASE 0x0400ULL
#define IDT_BASE 0x1000ULL        /* 256 gates */
#define PML4_BASE 0x2000ULL
#define PDPT_BASE 0x3000ULL
#define PD_BASE 0x4000ULL
#define PT_BASE 0x5000ULL
#define STUB_BASE 0x6000ULL       /* ring-0 exception stubs, 2 bytes each */
#define STUB_SIZE 2
#define RSP0_TOP 0x8000ULL        /* ring-0 stack: page 0x7000 */
#define CODE_LO 0x8000ULL         /* 3 pages of filler around the case */
#define CODE_HI 0xb000ULL
#define INSN_PAGE 0x9000ULL       /* the instruction starts in this page */
#define DATA_LO 0xb000ULL         /* compared after every case */
#define DATA_HI 0xe000ULL
#define TARGET_LO 0xc000ULL       /* memory operands aim here ... */
#define TARGET_HI 0xd800ULL       /* ... and stacks live here */
#define NP_PAGE 0xe000ULL         /* not present: #PF (data runs into it) */
#define RO_PAGE 0xf000ULL         /* user read-only: writes #PF */
#define ZERO_PAGE 0x10000ULL      /* user, zeros: only read (by accesses leaving RO_PAGE) */
/* Everything else is supervisor-only or not present, so that a stray
 * ring-3 access faults rather than changes state the harness keeps. */

/*
 * The filler: HLT, one byte, so a jump to any offset ends the case. In
 * ring 3 it raises #GP(0), which reaches its stub like any exception;
 * PVM keeps guest ring 3 at IOPL 0, so a ring-3 OUT cannot end a case.
 */
#define FILLER 0xf4

/*
 * GDT selectors (ring-3 ones with RPL 3). The ring-3 ones sit where Linux
 * puts its own (USER32_CS 0x23, USER_DS 0x2b, USER_CS 0x33): under PVM,
 * native ring-3 code runs with the host's selectors, and this way reading
 * CS or SS gives the same value on both sides.
 */
#define SEL_CODE0 0x10
#define SEL_DATA0 0x18
#define SEL_CODE32 0x23
#define SEL_DATA32 0x2b
#define SEL_CODE64 0x33
#define SEL_CODE16 0x3b
#define SEL_DATA16 0x43
#define SEL_TSS 0x48

union diff_xmm {
	uint8_t b[16];
	uint32_t d[4];
	uint64_t q[2];
};

/* Architectural state a case starts from or ends in. */
struct diff_state {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	union diff_xmm xmm[16];
	uint32_t mxcsr;
	/* How the case ended: vector -1 = reached the filler. */
	int vector;
	uint32_t error;
	bool has_error;
	uint64_t cr2;
};

/* One case: a mode, the instruction bytes and where they sit, the inputs. */
struct diff_case {
	int mode; /* 16, 32, 64 */
	uint8_t bytes[16];
	unsigned len;
	uint64_t addr; /* linear address of the first byte */
	struct x86_insn insn;
	bool ud;  /* the decoder refused it: #UD expected */
	bool sse; /* XMM registers and MXCSR are inputs and compared */
	struct diff_state in;
	/* Filled by the generator from the mask table (diff.c). */
	uint64_t flags_defined; /* RFLAGS bits compared */
	uint64_t gpr_cmp[16];   /* register bits compared: not those the SDM leaves undefined */
	uint64_t mem_undef_lo, mem_undef_hi; /* data bytes not compared, [lo, hi) */
	uint32_t data_seed;     /* the data image of the case */
	/* Values written over the data image: operands, jump targets. */
	struct {
		uint64_t addr, val;
		unsigned size;
	} patch[4];
	int npatch;
	int form;               /* index in the catalogue, for statistics */
};

/* The memory image both engines start every case from. */
void image_build(uint8_t *ram);
/* Fills the data area of ram for a case: the same case, the same bytes. */
void image_data(uint8_t *ram, const struct diff_case *c);
/* Writes the case's code over the filler, and puts the filler back after. */
void image_code(uint8_t *ram, const struct diff_case *c);
void image_uncode(uint8_t *ram, const struct diff_case *c);
/* The segment state of a ring-3 case in mode 16/32/64 (everything but GPRs). */
void image_state(struct x86_cpu_state *s, int mode);
/* Does the case have an error code (vectors 8, 10-14, 17)? */
bool vector_has_error(int vector);

/* diff_kvm.c: one VM, one vCPU; returns 0 or a negative errno with why set. */
int kvm_diff_init(char *why, size_t n);
/* Runs a case; false if KVM could not run it (reason in why). */
bool kvm_diff_run(const struct diff_case *c, struct diff_state *out, char *why, size_t n);
uint8_t *kvm_diff_ram(void);
/* Does ring-3 code of this mode run on the CPU (else in KVM's emulator)? */
bool kvm_diff_native(int mode);
bool kvm_diff_host_has(enum x86_isa isa);

/* diff_tcg.c */
int tcg_diff_init(void);
void tcg_diff_run(const struct diff_case *c, struct diff_state *out);
uint8_t *tcg_diff_ram(void);
bool tcg_diff_has_handler(unsigned op);

/* cases.c: the catalogue of forms and the generator. */
struct diff_rng {
	uint64_t s;
};
uint64_t rng_next(struct diff_rng *r);
static inline uint64_t rng_below(struct diff_rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

void cases_init(void);
int cases_count(void);
/* Generates a case from form; false when the form cannot be used now. */
bool cases_make(int form, struct diff_rng *r, struct diff_case *c);
/* Picks a form (uniform over forms, then over modes), honouring an op filter. */
int cases_pick(struct diff_rng *r, int op_filter);
const char *cases_form_name(int form, char *buf, size_t n);
unsigned cases_form_op(int form);
int cases_form_mode(int form);
/* Forms that exist in the decoder but are not generated, by reason. */
void cases_report(void);
int cases_no_handler(void);
/* What the case's memory holds at addr when it starts (image + patches). */
uint64_t case_mem_value(const struct diff_case *c, uint64_t addr, unsigned size);

/* diff.c: the mask table. */
void masks_apply(struct diff_case *c);

#endif
