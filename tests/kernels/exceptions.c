/*
 * exceptions: installs an IDT and takes #DE, #UD and #GP in turn, and with
 * "pf32" on the command line also #PF under 32-bit PAE paging, checking
 * vector, error code, and for #PF the faulting address in CR2. Each
 * handler prints one line and resumes the next test through exc_resume()
 * (see exc_entry.S for why not IRET).
 *
 * #PF is opt-in because paravirtual KVM (PVM) supports paging only in
 * long mode: CR0.PG outside it raises #GP(0) there. long64 covers #PF
 * under 4-level paging on every accelerator.
 */
#include "kernel.h"

struct exc_ctx {
	uint32_t ebx, esi, edi, ebp, esp, eip;
};

int exc_try(struct exc_ctx *c) __attribute__((returns_twice));
__attribute__((noreturn)) void exc_resume(struct exc_ctx *c);
void exc_handler(uint32_t vector, uint32_t err, uint32_t eip);
extern char exc_de[], exc_ud[], exc_gp[], exc_pf[], exc_other[];

#define NVEC 32
#define PF_ADDR 0x3ff010u /* in the one 4 KiB page left unmapped below */
#define BAD_SELECTOR 0x80 /* past the end of crt0's four-entry GDT */

static uint64_t idt[NVEC];
/* PAE entries are 64 bits; only the low halves are ever non-zero here. */
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t page_dir[512] __attribute__((aligned(4096)));
static uint64_t page_table[512] __attribute__((aligned(4096)));

static struct exc_ctx resume_ctx;
static volatile int armed; /* resume_ctx belongs to the test running now */
static volatile uint32_t seen_vector, seen_err, seen_cr2, seen_eip;

static void idt_set(int vec, void *handler)
{
	uint32_t a = (uint32_t)handler;
	/* 32-bit interrupt gate, DPL 0, present, code selector 0x08. */
	idt[vec] = (a & 0xffff) | 0x08u << 16 | (uint64_t)0x8e00 << 32 |
		   (uint64_t)(a >> 16) << 48;
}

static void idt_load(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) d = {sizeof(idt) - 1, (uint32_t)idt};
	for (int v = 0; v < NVEC; v++)
		idt_set(v, exc_other);
	idt_set(0, exc_de);
	idt_set(6, exc_ud);
	idt_set(13, exc_gp);
	idt_set(14, exc_pf);
	__asm__ volatile("lidt %0" : : "m"(d));
}

void exc_handler(uint32_t vector, uint32_t err, uint32_t eip)
{
	seen_vector = vector;
	seen_err = err;
	seen_eip = eip;
	puts("exc: vector=");
	putdec(vector);
	puts(" err=");
	puthex(err);
	if (vector == 14) {
		uint32_t cr2;
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		seen_cr2 = cr2;
		puts(" cr2=");
		puthex(cr2);
	}
	putc('\n');
	if (vector == 0xff || !armed) {
		puts("exc: unexpected exception at eip=");
		puthex(eip);
		putc('\n');
		test_fail("unexpected exception");
	}
	armed = 0;
	exc_resume(&resume_ctx);
}

/*
 * Identity-maps the first 4 MiB, except PF_ADDR's 4 KiB page, with PAE
 * paging: a 2 MiB page, then a page table for the second 2 MiB.
 */
static void paging_enable(void)
{
	for (uint32_t i = 0; i < 512; i++)
		page_table[i] = (0x200000 + (i << 12)) | 0x3; /* present, writable */
	page_table[(PF_ADDR - 0x200000) >> 12] = 0;
	page_dir[0] = 0x83; /* 0-2 MiB: present, writable, 2 MiB page */
	page_dir[1] = (uint32_t)page_table | 0x3;
	pdpt[0] = (uint32_t)page_dir | 0x1; /* PDPTEs have no writable bit */
	__asm__ volatile("mov %%cr4, %%eax\n\t"
			 "or $0x20, %%eax\n\t" /* PAE */
			 "mov %%eax, %%cr4\n\t"
			 "mov %0, %%cr3\n\t"
			 "mov %%cr0, %%eax\n\t"
			 "or $0x80010000, %%eax\n\t" /* PG, and WP for good measure */
			 "mov %%eax, %%cr0"
			 :
			 : "r"(pdpt)
			 : "eax", "memory");
}

/* Whether the multiboot command line holds word (a substring test). */
static int cmdline_has(const struct mb_info *mbi, const char *word)
{
	if (!(mbi->flags & MB_INFO_CMDLINE))
		return 0;
	for (const char *c = (const char *)mbi->cmdline; *c; c++) {
		int i = 0;
		while (word[i] && c[i] == word[i])
			i++;
		if (!word[i])
			return 1;
	}
	return 0;
}

static void expect(uint32_t vector, uint32_t err)
{
	if (seen_vector != vector || seen_err != err) {
		puts("exc: expected vector=");
		putdec(vector);
		puts(", got one at eip=");
		puthex(seen_eip);
		putc('\n');
		test_fail("wrong vector or error code");
	}
	seen_vector = 0xffffffff;
}

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	(void)magic;
	idt_load();
	seen_vector = 0xffffffff;

	armed = 1;
	if (!exc_try(&resume_ctx)) {
		__asm__ volatile("xor %%ecx, %%ecx\n\tdivl %%ecx" : : "a"(1), "d"(0) : "ecx");
		test_fail("no #DE");
	}
	expect(0, 0);

	armed = 1;
	if (!exc_try(&resume_ctx)) {
		__asm__ volatile("ud2");
		test_fail("no #UD");
	}
	expect(6, 0);

	armed = 1;
	if (!exc_try(&resume_ctx)) {
		/* Loading %fs keeps the fault away from the registers C relies on. */
		__asm__ volatile("mov %0, %%fs" : : "r"(BAD_SELECTOR));
		test_fail("no #GP");
	}
	expect(13, BAD_SELECTOR);

	if (cmdline_has(mbi, "pf32")) {
		paging_enable();
		armed = 1;
		if (!exc_try(&resume_ctx)) {
			*(volatile uint32_t *)PF_ADDR = 1;
			test_fail("no #PF");
		}
		expect(14, 0x2); /* not present, write, supervisor */
		if (seen_cr2 != PF_ADDR)
			test_fail("wrong cr2");
	}

	puts("exceptions: ok\n");
	test_exit(0);
}
