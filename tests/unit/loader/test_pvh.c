#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"
#include "images.h"
#include "loader/layout.h"
#include "loader/loader.h"
#include "loader/pvh.h"
#include "test.h"

static struct guest_mem m;

static uint8_t *gp(uint64_t gpa, uint64_t len)
{
	return guest_ptr(&m, gpa, len);
}

static void test_load(void)
{
	size_t len;
	uint8_t *img = pvh_build(&len);
	enum boot_format fmt = BOOT_BZIMAGE;
	CHECK_EQ(loader_probe(img, len, &fmt), 0);
	CHECK_EQ(fmt, BOOT_PVH);

	struct boot_request req;
	test_request(&req, "vmlinux");
	req.cmdline = "root=/dev/vda";
	req.initrd = "initrd.cpio";
	uint8_t initrd[0x2345];
	memset(initrd, 0x42, sizeof(initrd));
	memset(m.base, 0xcc, m.ram_size);
	struct boot_result out;
	struct error e = { "" };
	int r = loader_load_image(&m, &req, img, len, initrd, sizeof(initrd), &out, &e);
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_EQ(out.format, BOOT_PVH);

	/* Segment at its physical address, bss zeroed, nothing past memsz. */
	CHECK(!memcmp(gp(PVH_PADDR, 0x1000), img + 0x1000, 0x1000));
	uint8_t zero[PVH_MEMSZ - 0x1000] = { 0 };
	CHECK(!memcmp(gp(PVH_PADDR + 0x1000, sizeof(zero)), zero, sizeof(zero)));
	CHECK_EQ(*gp(PVH_PADDR + PVH_MEMSZ, 1), 0xcc);
	CHECK_EQ(*gp(0xe0000, 1), 0xcc);

	/* Entry: flat 32-bit, paging off, ebx -> start_info. */
	CHECK_EQ(out.cpu.rip, PVH_ENTRY);
	CHECK_EQ(out.cpu.gpr[R_RBX], LAYOUT_START_INFO);
	CHECK_EQ(out.cpu.cs.selector, 0x10);
	CHECK_EQ(out.cpu.cs.db, 1);
	CHECK_EQ(out.cpu.cs.l, 0);
	CHECK_EQ(out.cpu.ds.selector, 0x18);
	CHECK(out.cpu.cr0 & X86_CR0_PE);
	CHECK_EQ(out.cpu.cr0 & X86_CR0_PG, 0);
	CHECK_EQ(out.cpu.efer, 0);
	CHECK_EQ(out.cpu.gdt.base, LAYOUT_GDT);
	uint64_t code;
	guest_read(&m, LAYOUT_GDT + 0x10, &code, 8);
	CHECK_EQ(code, 0x00cf9b000000ffffULL);

	struct hvm_start_info *si = (void *)gp(LAYOUT_START_INFO, sizeof(*si));
	CHECK_EQ(si->magic, 0x336ec578);
	CHECK_EQ(si->version, 1);
	CHECK_EQ(si->rsdp_paddr, 0xe0000);
	CHECK_STR((char *)gp(si->cmdline_paddr, 1), "root=/dev/vda");
	CHECK_EQ(si->nr_modules, 1);
	struct hvm_modlist_entry *mod = (void *)gp(si->modlist_paddr, sizeof(*mod));
	CHECK_EQ(mod->size, sizeof(initrd));
	CHECK_EQ(mod->paddr & 0xfff, 0);
	CHECK(mod->paddr >= PVH_PADDR + PVH_MEMSZ);
	CHECK(mod->paddr + sizeof(initrd) <= TEST_RAM);
	CHECK(mod->paddr + sizeof(initrd) + 0x1000 > TEST_RAM);
	CHECK(!memcmp(gp(mod->paddr, sizeof(initrd)), initrd, sizeof(initrd)));

	CHECK_EQ(si->memmap_entries, 4);
	struct hvm_memmap_table_entry *mm = (void *)gp(si->memmap_paddr, 4 * sizeof(*mm));
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(mm[i].addr, req.e820[i].addr);
		CHECK_EQ(mm[i].size, req.e820[i].size);
		CHECK_EQ(mm[i].type, req.e820[i].type);
		CHECK_EQ(mm[i].reserved, 0);
	}
	CHECK(si->memmap_paddr < LAYOUT_LOW_RAM_END && si->modlist_paddr < LAYOUT_LOW_RAM_END);

	/* Without an initrd: no modules. */
	r = loader_load_image(&m, &req, img, len, NULL, 0, &out, &e);
	CHECK_EQ(r, 0);
	CHECK_EQ(si->nr_modules, 0);
	free(img);
}

/* 8-byte note alignment and descriptors are accepted too. */
static void test_note_variants(void)
{
	size_t len;
	uint8_t *img = pvh_build(&len);
	uint8_t *n = img + 0x100;
	memset(n, 0, 0x80);
	put32(n, 4);
	put32(n + 4, 8);
	put32(n + 8, 18);
	memcpy(n + 12, "Xen", 4);
	put64(n + 16, PVH_ENTRY + 4);
	elf64_phdr(img, 1, 4, 0x100, 0, 0, 24, 24, 8);
	struct boot_request req;
	test_request(&req, "vmlinux");
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), 0);
	CHECK_EQ(out.cpu.rip, PVH_ENTRY + 4);
	free(img);
}

static void expect_fail(uint8_t *img, size_t len, int err, const char *what)
{
	struct boot_request req;
	test_request(&req, "bad-vmlinux");
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), err);
	CHECK(strstr(e.msg, "bad-vmlinux") != NULL);
	if (what && !strstr(e.msg, what)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, what);
		CHECK(0);
	}
	free(img);
}

static void test_reject(void)
{
	size_t len;
	uint8_t *img;

	/* Segment outside RAM, below 1 MiB, in the PCI hole, above 4 GiB. */
	img = pvh_build(&len);
	elf64_phdr(img, 0, 1, 0x1000, PVH_VADDR, TEST_RAM - 0x1000, 0x1000, PVH_MEMSZ, 0x1000);
	expect_fail(img, len, -EFAULT, "RAM");
	img = pvh_build(&len);
	elf64_phdr(img, 0, 1, 0x1000, PVH_VADDR, 0xe0000, 0x1000, 0x1000, 0x1000);
	expect_fail(img, len, -EFAULT, "1 MiB");
	img = pvh_build(&len);
	elf64_phdr(img, 0, 1, 0x1000, PVH_VADDR, 0xfffff000, 0x1000, 0x1000, 0x1000);
	expect_fail(img, len, -EFAULT, NULL);
	img = pvh_build(&len);
	elf64_phdr(img, 0, 1, 0x1000, PVH_VADDR, PVH_PADDR, 0x1000, ~0ULL, 0x1000);
	expect_fail(img, len, -EFAULT, NULL);

	/* Bogus program headers. */
	img = pvh_build(&len);
	elf64_phdr(img, 0, 1, 0x1800, PVH_VADDR, PVH_PADDR, 0x1000, PVH_MEMSZ, 0x1000);
	expect_fail(img, len, -ENOEXEC, "outside the file");
	img = pvh_build(&len);
	elf64_phdr(img, 0, 1, ~0ULL - 8, PVH_VADDR, PVH_PADDR, 0x10, PVH_MEMSZ, 0x1000);
	expect_fail(img, len, -ENOEXEC, "outside the file");
	img = pvh_build(&len);
	elf64_phdr(img, 0, 1, 0x1000, PVH_VADDR, PVH_PADDR, 0x1000, 0x10, 0x1000);
	expect_fail(img, len, -ENOEXEC, "exceeds");
	img = pvh_build(&len);
	put64(img + 32, len - 0x40); /* e_phoff */
	expect_fail(img, len, -ENOEXEC, "program headers");
	img = pvh_build(&len);
	put16(img + 54, 8); /* e_phentsize */
	expect_fail(img, len, -ENOEXEC, NULL);
	img = pvh_build(&len);
	put16(img + 56, 0xffff); /* e_phnum */
	expect_fail(img, len, -ENOEXEC, NULL);

	/* Note pointing out of the file, or with a huge namesz: no PVH entry. */
	img = pvh_build(&len);
	elf64_phdr(img, 1, 4, len - 8, 0, 0, 0x100, 0x100, 4);
	expect_fail(img, len, -ENOEXEC, "PVH");
	img = pvh_build(&len);
	put32(img + 0x100 + 24, 0xfffffff0);
	expect_fail(img, len, -ENOEXEC, NULL);

	/* Truncated. */
	img = pvh_build(&len);
	expect_fail(img, 0x30, -ENOEXEC, NULL);
	img = pvh_build(&len);
	expect_fail(img, 0x1800, -ENOEXEC, NULL);

	/* Initrd that cannot fit above the kernel. */
	img = pvh_build(&len);
	struct boot_request req;
	test_request(&req, "vmlinux");
	req.initrd = "huge.cpio";
	size_t big = TEST_RAM - PVH_PADDR - PVH_MEMSZ + 1;
	uint8_t *initrd = calloc(1, big);
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, initrd, big, &out, &e), -ENOMEM);
	CHECK(strstr(e.msg, "huge.cpio") != NULL);
	/* Rounded down to a page, it fits exactly. */
	big = (big - 1) & ~0xfffULL;
	CHECK_EQ(loader_load_image(&m, &req, img, len, initrd, big, &out, &e), 0);
	free(initrd);
	free(img);
}

static void test_hammer(void)
{
	size_t len;
	uint8_t *img = pvh_build(&len);
	struct boot_request req;
	test_request(&req, "vmlinux");
	CHECK(hammer_image(&m, &req, img, len) > 0);
	free(img);
}

int main(void)
{
	if (guest_mem_init(&m, TEST_RAM, TEST_HOLE)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	test_load();
	test_note_variants();
	test_reject();
	test_hammer();
	guest_mem_destroy(&m);
	return test_exit();
}
