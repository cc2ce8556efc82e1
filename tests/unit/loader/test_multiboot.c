#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"
#include "images.h"
#include "loader/layout.h"
#include "loader/loader.h"
#include "loader/multiboot.h"
#include "test.h"

static struct guest_mem m;

static uint8_t *gp(uint64_t gpa, uint64_t len)
{
	return guest_ptr(&m, gpa, len);
}

static const char *gstr(uint32_t gpa)
{
	return (const char *)gp(gpa, 1);
}

static void check_common_info(const struct boot_result *out, const struct boot_request *req)
{
	CHECK_EQ(out->format, BOOT_MULTIBOOT);
	CHECK_EQ(out->cpu.gpr[R_RAX], 0x2badb002);
	CHECK_EQ(out->cpu.gpr[R_RBX], LAYOUT_MB_INFO);
	CHECK_EQ(out->cpu.cs.selector, 0x10);
	CHECK_EQ(out->cpu.cs.db, 1);
	CHECK(out->cpu.cr0 & X86_CR0_PE);
	CHECK_EQ(out->cpu.cr0 & X86_CR0_PG, 0);
	CHECK_EQ(out->cpu.rflags & X86_RFLAGS_IF, 0);

	struct multiboot_info *mbi = (void *)gp(LAYOUT_MB_INFO, sizeof(*mbi));
	CHECK_EQ(mbi->flags, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	CHECK_EQ(mbi->mem_lower, 639);
	CHECK_EQ(mbi->mem_upper, (TEST_RAM - 0x100000) >> 10);
	CHECK_STR(gstr(mbi->boot_loader_name), "kemu");
	CHECK_EQ(mbi->mmap_length, req->ne820 * 24);
	uint8_t *mm = gp(mbi->mmap_addr, mbi->mmap_length);
	for (int i = 0; i < req->ne820; i++) {
		const uint8_t *ent = mm + i * 24;
		CHECK_EQ(rd32(ent), 20);
		CHECK_EQ(rd64(ent + 4), req->e820[i].addr);
		CHECK_EQ(rd64(ent + 12), req->e820[i].size);
		CHECK_EQ(rd32(ent + 20), req->e820[i].type);
	}
	CHECK(mbi->mmap_addr + mbi->mmap_length <= LAYOUT_LOW_RAM_END);
}

static void test_elf(void)
{
	size_t len;
	uint8_t *img = mb_elf_build(&len);
	enum boot_format fmt = BOOT_BZIMAGE;
	CHECK_EQ(loader_probe(img, len, &fmt), 0);
	CHECK_EQ(fmt, BOOT_MULTIBOOT);

	struct boot_request req;
	test_request(&req, "tests/kernels/mb.elf");
	req.cmdline = "verbose=1";
	req.initrd = "mod.bin";
	uint8_t initrd[3000];
	memset(initrd, 0x99, sizeof(initrd));
	memset(m.base, 0xcc, m.ram_size);
	struct boot_result out;
	struct error e = { "" };
	int r = loader_load_image(&m, &req, img, len, initrd, sizeof(initrd), &out, &e);
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
	check_common_info(&out, &req);
	CHECK_EQ(out.cpu.rip, MB_ELF_ENTRY);
	CHECK(!memcmp(gp(MB_ELF_PADDR, 0x1000), img + 0x1000, 0x1000));
	CHECK_EQ(*gp(MB_ELF_PADDR + 0x1fff, 1), 0);
	CHECK_EQ(*gp(MB_ELF_PADDR + 0x2000, 1), 0xcc);
	CHECK_EQ(*gp(0xe0000, 1), 0xcc);

	struct multiboot_info *mbi = (void *)gp(LAYOUT_MB_INFO, sizeof(*mbi));
	CHECK_STR(gstr(mbi->cmdline), "tests/kernels/mb.elf verbose=1");
	CHECK_EQ(mbi->mods_count, 1);
	struct multiboot_module *mod = (void *)gp(mbi->mods_addr, sizeof(*mod));
	CHECK_EQ(mod->mod_start & 0xfff, 0);
	CHECK_EQ(mod->mod_end - mod->mod_start, sizeof(initrd));
	CHECK(mod->mod_start >= MB_ELF_PADDR + 0x2000);
	CHECK(mod->mod_end <= TEST_RAM);
	CHECK(!memcmp(gp(mod->mod_start, sizeof(initrd)), initrd, sizeof(initrd)));
	CHECK_STR(gstr(mod->string), "mod.bin");

	/* No append, no initrd. */
	req.cmdline = NULL;
	req.initrd = NULL;
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), 0);
	CHECK_STR(gstr(mbi->cmdline), "tests/kernels/mb.elf");
	CHECK_EQ(mbi->mods_count, 0);

	/* A kernel linked high: the virtual entry is translated to physical. */
	elf32_header(img, 0xc0100010, 1);
	elf32_phdr(img, 0, 1, 0x1000, 0xc0100000, MB_ELF_PADDR, 0x1000, 0x2000);
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), 0);
	CHECK_EQ(out.cpu.rip, MB_ELF_ENTRY);
	free(img);
}

static void test_aout(void)
{
	size_t len;
	uint8_t *img = mb_aout_build(&len);
	enum boot_format fmt = BOOT_BZIMAGE;
	CHECK_EQ(loader_probe(img, len, &fmt), 0);
	CHECK_EQ(fmt, BOOT_MULTIBOOT);

	struct boot_request req;
	test_request(&req, "kernel.bin");
	req.cmdline = "a b";
	memset(m.base, 0xcc, m.ram_size);
	struct boot_result out;
	struct error e = { "" };
	int r = loader_load_image(&m, &req, img, len, NULL, 0, &out, &e);
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
	check_common_info(&out, &req);
	CHECK_EQ(out.cpu.rip, MB_AOUT_ENTRY);
	CHECK(!memcmp(gp(MB_AOUT_LOAD, len), img, len));
	uint8_t zero[MB_AOUT_BSS] = { 0 };
	CHECK(!memcmp(gp(MB_AOUT_LOAD + len, MB_AOUT_BSS), zero, MB_AOUT_BSS));
	CHECK_EQ(*gp(MB_AOUT_LOAD + len + MB_AOUT_BSS, 1), 0xcc);
	struct multiboot_info *mbi = (void *)gp(LAYOUT_MB_INFO, sizeof(*mbi));
	CHECK_STR(gstr(mbi->cmdline), "kernel.bin a b");

	/* load_end_addr 0 means "to the end of the file". */
	put32(img + 0x20 + 20, 0);
	put32(img + 0x20 + 24, 0);
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), 0);
	CHECK(!memcmp(gp(MB_AOUT_LOAD, len), img, len));
	free(img);
}

/* An ELF carrying both a PVH note and a multiboot header boots multiboot. */
static void test_multiboot_wins(void)
{
	size_t len;
	uint8_t *img = pvh_build(&len);
	mb_header(img + 0x1000, 0);
	enum boot_format fmt = BOOT_PVH;
	CHECK_EQ(loader_probe(img, len, &fmt), 0);
	CHECK_EQ(fmt, BOOT_MULTIBOOT);
	struct boot_request req;
	test_request(&req, "both.elf");
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), 0);
	CHECK_EQ(out.format, BOOT_MULTIBOOT);
	/* e_entry is virtual; it maps to the segment's physical address. */
	CHECK_EQ(out.cpu.rip, PVH_PADDR);
	free(img);
}

static void expect_fail(uint8_t *img, size_t len, int err, const char *what)
{
	struct boot_request req;
	test_request(&req, "bad-mb.bin");
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), err);
	CHECK(strstr(e.msg, "bad-mb.bin") != NULL);
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
	enum boot_format fmt;

	img = mb_aout_build(&len);
	put32(img + 0x20 + 8, rd32(img + 0x20 + 8) + 1);
	CHECK_EQ(loader_probe(img, len, &fmt), -ENOEXEC);
	expect_fail(img, len, -ENOEXEC, "checksum");

	/* Beyond the first 8 KiB the header does not count. */
	img = calloc(1, 0x3000);
	mb_header(img + 0x2000, 0);
	expect_fail(img, 0x3000, -ENOEXEC, "not a bzImage");
	/* Nor does a misaligned one. */
	img = calloc(1, 0x100);
	mb_header(img + 0x12, 0);
	expect_fail(img, 0x100, -ENOEXEC, "not a bzImage");

	/* Mandatory flag bits we do not know. */
	img = mb_aout_build(&len);
	mb_header(img + 0x20, 0x10008);
	expect_fail(img, len, -ENOEXEC, "unsupported");

	/* a.out kludge: fields inconsistent with the file. */
	img = mb_aout_build(&len);
	put32(img + 0x20 + 20, MB_AOUT_LOAD + len + 1);
	expect_fail(img, len, -ENOEXEC, "exceeds the file");
	img = mb_aout_build(&len);
	put32(img + 0x20 + 12, MB_AOUT_LOAD + 0x1000);
	expect_fail(img, len, -ENOEXEC, "header_addr");
	img = mb_aout_build(&len);
	put32(img + 0x20 + 24, MB_AOUT_LOAD + 0x10);
	expect_fail(img, len, -ENOEXEC, "bss_end_addr");
	img = mb_aout_build(&len);
	put32(img + 0x20 + 28, MB_AOUT_LOAD + 0x100000);
	expect_fail(img, len, -ENOEXEC, "entry");
	img = mb_aout_build(&len);
	put32(img + 0x20 + 24, 0xfff00000);
	expect_fail(img, len, -EFAULT, "RAM");
	img = mb_aout_build(&len);
	put32(img + 0x20 + 12, 0x80020);
	put32(img + 0x20 + 16, 0x80000);
	put32(img + 0x20 + 20, 0x80000 + len);
	put32(img + 0x20 + 24, 0);
	put32(img + 0x20 + 28, 0x80040);
	expect_fail(img, len, -EFAULT, "1 MiB");
	img = mb_aout_build(&len);
	expect_fail(img, 0x30, -ENOEXEC, "truncated");

	/* ELF multiboot: segment outside RAM, truncated. */
	img = mb_elf_build(&len);
	elf32_phdr(img, 0, 1, 0x1000, 0x8000000, 0x8000000, 0x1000, 0x2000);
	expect_fail(img, len, -EFAULT, "RAM");
	img = mb_elf_build(&len);
	expect_fail(img, 0x1800, -ENOEXEC, "outside the file");

	/* Module too big. */
	img = mb_elf_build(&len);
	struct boot_request req;
	test_request(&req, "mb.elf");
	req.initrd = "huge.mod";
	size_t big = TEST_RAM - 0x100000;
	uint8_t *mod = calloc(1, big);
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, mod, big, &out, &e), -ENOMEM);
	CHECK(strstr(e.msg, "huge.mod") != NULL);
	free(mod);
	free(img);
}

static void test_hammer(void)
{
	size_t len;
	struct boot_request req;
	test_request(&req, "mb");
	uint8_t *img = mb_elf_build(&len);
	CHECK(hammer_image(&m, &req, img, len) > 0);
	free(img);
	img = mb_aout_build(&len);
	CHECK(hammer_image(&m, &req, img, len) > 0);
	free(img);
}

int main(void)
{
	if (guest_mem_init(&m, TEST_RAM, TEST_HOLE)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	test_elf();
	test_aout();
	test_multiboot_wins();
	test_reject();
	test_hammer();
	guest_mem_destroy(&m);
	return test_exit();
}
