/*
 * Architectural x86 vCPU state, independent of any accelerator. Loaders
 * produce one for the boot CPU; KVM converts it to kvm_regs/kvm_sregs,
 * the software CPU runs on it directly.
 */
#ifndef KEMU_CORE_CPU_STATE_H
#define KEMU_CORE_CPU_STATE_H

#include <stdint.h>
#include <stdio.h>

enum x86_gpr {
	R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI,
	R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};

/* A segment register with its hidden part, fields as in a descriptor. */
struct x86_seg {
	uint64_t base;
	uint32_t limit; /* byte granular, already scaled */
	uint16_t selector;
	uint8_t type;   /* 4-bit descriptor type */
	uint8_t s;      /* 1 = code/data, 0 = system */
	uint8_t dpl;
	uint8_t present;
	uint8_t db;     /* default operation size (32-bit) */
	uint8_t l;      /* 64-bit code */
	uint8_t g;
	uint8_t avl;
	uint8_t unusable;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_MP (1ULL << 1)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_NE (1ULL << 5)
#define X86_CR0_WP (1ULL << 16)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define X86_CR4_PGE (1ULL << 7)
#define X86_EFER_SCE (1ULL << 0)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)
#define X86_EFER_NXE (1ULL << 11)
#define X86_RFLAGS_RESERVED1 (1ULL << 1)
#define X86_RFLAGS_IF (1ULL << 9)

struct x86_cpu_state {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	struct x86_seg es, cs, ss, ds, fs, gs, ldt, tr;
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
};

/* State after RESET/INIT: real mode at F000:FFF0. */
void x86_state_reset(struct x86_cpu_state *s);
/* Flat 32-bit protected mode, paging off (multiboot / bzImage 32-bit entry). */
void x86_state_flat32(struct x86_cpu_state *s, uint64_t gdt_base, uint16_t gdt_limit);
/*
 * 64-bit long mode with paging rooted at cr3; code selector 0x10,
 * data 0x18 in the GDT at gdt_base.
 */
void x86_state_long64(struct x86_cpu_state *s, uint64_t cr3, uint64_t gdt_base, uint16_t gdt_limit);

/* Prints the state in the layout QEMU users know, one line per group. */
void x86_state_dump(const struct x86_cpu_state *s, FILE *f);
/* Names the CPU mode: "real", "protected 16/32", "long 64", "compat 32". */
const char *x86_state_mode(const struct x86_cpu_state *s);

#endif
