#include "loader/boot_setup.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "loader/layout.h"

#define GIB (1ULL << 30)
#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)

const char *boot_kernel_name(const struct boot_request *req)
{
	return req && req->kernel ? req->kernel : "kernel";
}

const char *boot_initrd_name(const struct boot_request *req)
{
	return req && req->initrd ? req->initrd : "initrd";
}

int boot_e820(const struct guest_mem *m, const struct boot_request *req,
	      struct e820_entry out[E820_MAX], int *n, struct error *e)
{
	if (req->ne820 < 0 || req->ne820 > E820_MAX)
		return error_set(e, -EINVAL, "%s: bad e820 entry count %d",
				 boot_kernel_name(req), req->ne820);
	if (req->ne820) {
		memcpy(out, req->e820, sizeof(out[0]) * (size_t)req->ne820);
		*n = req->ne820;
		return 0;
	}
	int k = 0;
	uint64_t low = guest_mem_low_end(m);
	out[k++] = (struct e820_entry){ 0, LAYOUT_LOW_RAM_END, E820_RAM };
	out[k++] = (struct e820_entry){ LAYOUT_LOW_RAM_END, LAYOUT_KERNEL - LAYOUT_LOW_RAM_END,
					E820_RESERVED };
	if (low > LAYOUT_KERNEL)
		out[k++] = (struct e820_entry){ LAYOUT_KERNEL, low - LAYOUT_KERNEL, E820_RAM };
	for (int i = 1; i < m->nregions && k < E820_MAX; i++)
		out[k++] = (struct e820_entry){ m->region[i].gpa, m->region[i].size, E820_RAM };
	*n = k;
	return 0;
}

int boot_write_gdt(const struct guest_mem *m, const struct boot_request *req, bool long_mode,
		   struct error *e)
{
	/*
	 * Flat 4 GiB segments with the accessed bit already set, so the CPU
	 * never writes the GDT and the descriptors match x86_state_*().
	 */
	const uint64_t gdt[4] = {
		0,
		0,
		long_mode ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL,
		0x00cf93000000ffffULL,
	};
	_Static_assert(sizeof(gdt) == GDT_LIMIT + 1, "GDT size");
	if (guest_write(m, LAYOUT_GDT, gdt, sizeof(gdt)))
		return error_set(e, -ENOMEM, "%s: no RAM for the GDT at 0x%x",
				 boot_kernel_name(req), LAYOUT_GDT);
	return 0;
}

int boot_write_page_tables(const struct guest_mem *m, const struct boot_request *req,
			   struct error *e)
{
	uint64_t *pml4 = guest_ptr(m, LAYOUT_PML4, LAYOUT_PAGE);
	uint64_t *pdpt = guest_ptr(m, LAYOUT_PDPT, LAYOUT_PAGE);
	uint64_t *pd = guest_ptr(m, LAYOUT_PD, 4 * LAYOUT_PAGE);
	if (!pml4 || !pdpt || !pd)
		return error_set(e, -ENOMEM, "%s: no RAM for page tables at 0x%x",
				 boot_kernel_name(req), LAYOUT_PML4);
	memset(pml4, 0, LAYOUT_PAGE);
	memset(pdpt, 0, LAYOUT_PAGE);
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
	for (uint64_t g = 0; g < 4; g++) {
		pdpt[g] = (LAYOUT_PD + g * LAYOUT_PAGE) | PTE_P | PTE_RW;
		for (uint64_t i = 0; i < 512; i++)
			pd[g * 512 + i] = (g * GIB + (i << 21)) | PTE_P | PTE_RW | PTE_PS;
	}
	return 0;
}

void boot_strings_init(struct boot_strings *s)
{
	s->next = LAYOUT_STRINGS;
}

int boot_put_string(const struct guest_mem *m, const struct boot_request *req,
		    struct boot_strings *s, const char *str, uint64_t *gpa, struct error *e)
{
	size_t len = strlen(str) + 1;
	if (len > LAYOUT_STRINGS_END - s->next)
		return error_set(e, -E2BIG, "%s: command line and names exceed %d bytes",
				 boot_kernel_name(req), LAYOUT_STRINGS_END - LAYOUT_STRINGS);
	if (guest_write(m, s->next, str, len))
		return error_set(e, -ENOMEM, "%s: no RAM for the command line at 0x%" PRIx64,
				 boot_kernel_name(req), s->next);
	*gpa = s->next;
	s->next += len;
	return 0;
}

int boot_place_initrd(const struct guest_mem *m, const struct boot_request *req,
		      const uint8_t *initrd, size_t len, uint64_t lo, uint64_t hi,
		      uint64_t *addr, struct error *e)
{
	struct e820_entry map[E820_MAX];
	int n, r = boot_e820(m, req, map, &n, e);
	if (r)
		return r;
	lo = (lo + LAYOUT_PAGE - 1) & ~(LAYOUT_PAGE - 1);
	uint64_t best = 0;
	int found = 0;
	for (int i = 0; i < n; i++) {
		if (map[i].type != E820_RAM)
			continue;
		uint64_t start = map[i].addr > lo ? map[i].addr : lo;
		uint64_t end = map[i].size > UINT64_MAX - map[i].addr ? UINT64_MAX
								       : map[i].addr + map[i].size;
		if (end > hi)
			end = hi;
		if (end <= start || end - start < len)
			continue;
		uint64_t a = (end - len) & ~(LAYOUT_PAGE - 1);
		if (a < start || !guest_ptr(m, a, len))
			continue;
		if (!found || a > best)
			best = a;
		found = 1;
	}
	if (!found)
		return error_set(e, -ENOMEM,
				 "%s: initrd (%zu bytes) does not fit in RAM between 0x%" PRIx64
				 " and 0x%" PRIx64,
				 boot_initrd_name(req), len, lo, hi);
	if (len)
		memcpy(guest_ptr(m, best, len), initrd, len);
	*addr = best;
	return 0;
}

void boot_entry_common(struct x86_cpu_state *s)
{
	s->gpr[R_RSP] = LAYOUT_STACK_TOP;
	s->rflags = X86_RFLAGS_RESERVED1;
}
