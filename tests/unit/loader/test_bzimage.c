#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"
#include "loader/bootparam.h"
#include "loader/layout.h"
#include "loader/loader.h"
#include "images.h"
#include "test.h"

static struct guest_mem m;

static uint8_t *gp(uint64_t gpa, uint64_t len)
{
	return guest_ptr(&m, gpa, len);
}

/* Walks 4-level tables the way the MMU would; ~0 if not mapped. */
static uint64_t walk(uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & ~0xfffULL;
	for (int level = 3; level >= 0; level--) {
		uint64_t idx = (va >> (12 + 9 * level)) & 511, ent;
		if (guest_read(&m, table + idx * 8, &ent, 8) || !(ent & 1))
			return ~0ULL;
		if (level == 1 && (ent & 0x80))
			return (ent & 0x000fffffffe00000ULL) | (va & 0x1fffff);
		if (level == 0)
			return (ent & 0x000ffffffffff000ULL) | (va & 0xfff);
		table = ent & 0x000ffffffffff000ULL;
	}
	return ~0ULL;
}

static void reset_ram(void)
{
	memset(m.base, 0xcc, m.ram_size);
}

static void test_load(void)
{
	struct bz_params p = bz_default();
	size_t len;
	uint8_t *img = bz_build(&p, &len);
	enum boot_format fmt = BOOT_PVH;
	CHECK_EQ(loader_probe(img, len, &fmt), 0);
	CHECK_EQ(fmt, BOOT_BZIMAGE);

	struct boot_request req;
	test_request(&req, "vmlinuz");
	req.cmdline = "console=ttyS0 quiet";
	uint8_t initrd[5000];
	memset(initrd, 0x77, sizeof(initrd));
	struct boot_result out;
	struct error e = { "" };
	reset_ram();
	int r = loader_load_image(&m, &req, img, len, initrd, sizeof(initrd), &out, &e);
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_EQ(out.format, BOOT_BZIMAGE);

	/* Protected-mode kernel copied to 1 MiB; nothing in the legacy hole. */
	CHECK(!memcmp(gp(0x100000, p.kernel_len), img + 5 * 512, p.kernel_len));
	CHECK_EQ(*gp(0xa0000, 1), 0xcc);
	CHECK_EQ(*gp(0xe0000, 1), 0xcc);
	CHECK_EQ(*gp(0xfffff, 1), 0xcc);

	struct boot_params *bp = (void *)gp(LAYOUT_BOOT_PARAMS, sizeof(*bp));
	CHECK_EQ(bp->hdr.header, 0x53726448);
	CHECK_EQ(bp->hdr.version, 0x020f);
	CHECK_EQ(bp->hdr.setup_sects, 4);
	CHECK_EQ(bp->hdr.type_of_loader, 0xff);
	CHECK_EQ(bp->hdr.loadflags & (BZ_LOADED_HIGH | BZ_CAN_USE_HEAP),
		 BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
	CHECK_EQ(bp->hdr.heap_end_ptr, 0xfe00);
	CHECK_EQ(bp->hdr.cmd_line_ptr, LAYOUT_STRINGS);
	CHECK_EQ(bp->ext_cmd_line_ptr, 0);
	CHECK_STR((char *)gp(bp->hdr.cmd_line_ptr, 1), "console=ttyS0 quiet");
	CHECK_EQ(bp->acpi_rsdp_addr, 0xe0000);
	/* Fields before the setup header stay zero (the "zero page"). */
	CHECK_EQ(bp->pad0[0], 0);
	CHECK_EQ(bp->e820_entries, 4);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(bp->e820_table[i].addr, req.e820[i].addr);
		CHECK_EQ(bp->e820_table[i].size, req.e820[i].size);
		CHECK_EQ(bp->e820_table[i].type, req.e820[i].type);
	}
	CHECK_EQ(bp->e820_table[4].size, 0);

	/* Initrd: top of RAM, page aligned, intact. */
	uint32_t ri = bp->hdr.ramdisk_image;
	CHECK_EQ(bp->hdr.ramdisk_size, sizeof(initrd));
	CHECK_EQ(ri & 0xfff, 0);
	CHECK(ri + sizeof(initrd) <= TEST_RAM);
	CHECK(ri + sizeof(initrd) + 0x1000 > TEST_RAM);
	CHECK(!memcmp(gp(ri, sizeof(initrd)), initrd, sizeof(initrd)));

	/* Entry state for the 64-bit boot protocol. */
	CHECK_EQ(out.cpu.rip, 0x100200);
	CHECK_EQ(out.cpu.gpr[R_RSI], LAYOUT_BOOT_PARAMS);
	CHECK_EQ(out.cpu.cs.selector, 0x10);
	CHECK_EQ(out.cpu.cs.l, 1);
	CHECK_EQ(out.cpu.ds.selector, 0x18);
	CHECK_EQ(out.cpu.ss.selector, 0x18);
	CHECK(out.cpu.cr0 & X86_CR0_PE);
	CHECK(out.cpu.cr0 & X86_CR0_PG);
	CHECK(out.cpu.cr4 & X86_CR4_PAE);
	CHECK_EQ(out.cpu.efer & (X86_EFER_LME | X86_EFER_LMA), X86_EFER_LME | X86_EFER_LMA);
	CHECK_EQ(out.cpu.rflags & X86_RFLAGS_IF, 0);
	CHECK_EQ(out.cpu.gdt.base, LAYOUT_GDT);
	CHECK_EQ(out.cpu.gdt.limit, 31);

	/* GDT descriptors agree with the cached segment state. */
	uint64_t code, data;
	guest_read(&m, LAYOUT_GDT + 0x10, &code, 8);
	guest_read(&m, LAYOUT_GDT + 0x18, &data, 8);
	CHECK_EQ((code >> 53) & 1, 1);  /* L */
	CHECK_EQ((code >> 54) & 1, 0);  /* D must be clear with L */
	CHECK_EQ((code >> 40) & 0xf, out.cpu.cs.type);
	CHECK_EQ((code >> 47) & 1, 1);  /* present */
	CHECK_EQ((data >> 40) & 0xf, out.cpu.ds.type);

	/* Page tables: identity over 4 GiB, 2 MiB pages. */
	CHECK_EQ(out.cpu.cr3, LAYOUT_PML4);
	uint64_t probes[] = { 0, 0x100200, 0x1234567, TEST_RAM - 1, 0x80000000, 0xfee00000,
			      0xffffffff };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		CHECK_EQ(walk(out.cpu.cr3, probes[i]), probes[i]);
	CHECK_EQ(walk(out.cpu.cr3, 0x100000000ULL), ~0ULL);
	/* Page tables and boot data stay below the EBDA. */
	CHECK(LAYOUT_PD + 4 * 0x1000 <= LAYOUT_STRINGS);
	free(img);
}

static void test_initrd_rules(void)
{
	struct bz_params p = bz_default();
	p.initrd_addr_max = 0x01ffffff;
	size_t len;
	uint8_t *img = bz_build(&p, &len);
	struct boot_request req;
	test_request(&req, "vmlinuz");
	uint8_t initrd[0x1800];
	memset(initrd, 1, sizeof(initrd));
	struct boot_result out;
	struct error e = { "" };

	/* initrd_addr_max is the last usable byte. */
	CHECK_EQ(loader_load_image(&m, &req, img, len, initrd, sizeof(initrd), &out, &e), 0);
	struct boot_params *bp = (void *)gp(LAYOUT_BOOT_PARAMS, sizeof(*bp));
	CHECK_EQ(bp->hdr.ramdisk_image, 0x2000000 - 0x2000);

	/* A reserved e820 range at the top of RAM is avoided. */
	p.initrd_addr_max = 0x7fffffff;
	free(img);
	img = bz_build(&p, &len);
	req.e820[3].size = TEST_RAM - 0x100000 - 0x100000;
	req.e820[4] = (struct e820_entry){ TEST_RAM - 0x100000, 0x100000, E820_RESERVED };
	req.ne820 = 5;
	CHECK_EQ(loader_load_image(&m, &req, img, len, initrd, sizeof(initrd), &out, &e), 0);
	CHECK_EQ(bp->hdr.ramdisk_image, TEST_RAM - 0x100000 - 0x2000);
	CHECK_EQ(bp->e820_entries, 5);

	/* No e820 from the board: one is derived from RAM. */
	test_request(&req, "vmlinuz");
	req.ne820 = 0;
	CHECK_EQ(loader_load_image(&m, &req, img, len, initrd, sizeof(initrd), &out, &e), 0);
	CHECK_EQ(bp->e820_entries, 3);
	CHECK_EQ(bp->e820_table[0].size, 0x9fc00);
	CHECK_EQ(bp->e820_table[1].type, E820_RESERVED);
	CHECK_EQ(bp->e820_table[2].addr, 0x100000);
	CHECK_EQ(bp->e820_table[2].addr + bp->e820_table[2].size, TEST_RAM);
	CHECK_EQ(bp->hdr.ramdisk_image, TEST_RAM - 0x2000);

	/* Too big: must not land on the kernel's decompression area. */
	test_request(&req, "vmlinuz");
	req.initrd = "big.img";
	size_t big_len = TEST_RAM - 0x1000000 - p.init_size + 0x1000;
	uint8_t *big = calloc(1, big_len);
	e.msg[0] = 0;
	CHECK_EQ(loader_load_image(&m, &req, img, len, big, big_len, &out, &e), -ENOMEM);
	CHECK(strstr(e.msg, "big.img") != NULL);
	/* One page less fits exactly above pref_address + init_size. */
	CHECK_EQ(loader_load_image(&m, &req, img, len, big, big_len - 0x1000, &out, &e), 0);
	CHECK_EQ(bp->hdr.ramdisk_image, 0x1000000 + p.init_size);
	free(big);
	free(img);
}

static void expect_fail(const uint8_t *img, size_t len, int err, const char *what)
{
	struct boot_request req;
	test_request(&req, "bad-kernel.img");
	struct boot_result out;
	struct error e = { "" };
	int r = loader_load_image(&m, &req, img, len, NULL, 0, &out, &e);
	CHECK_EQ(r, err);
	CHECK(strstr(e.msg, "bad-kernel.img") != NULL);
	if (what && !strstr(e.msg, what)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, what);
		CHECK(0);
	}
}

static void test_reject(void)
{
	struct bz_params p = bz_default();
	size_t len;
	uint8_t *img;

	p.version = 0x0205;
	img = bz_build(&p, &len);
	expect_fail(img, len, -ENOEXEC, "2.05");
	free(img);

	p = bz_default();
	p.xloadflags = 0;
	img = bz_build(&p, &len);
	expect_fail(img, len, -ENOEXEC, "64-bit");
	free(img);

	p = bz_default();
	p.version = 0x020b; /* no xloadflags before 2.12 */
	img = bz_build(&p, &len);
	expect_fail(img, len, -ENOEXEC, "64-bit");
	free(img);

	/* Truncated: header cut, and setup_sects pointing past the end. */
	p = bz_default();
	img = bz_build(&p, &len);
	expect_fail(img, 0x230, -ENOEXEC, "truncated");
	img[0x1f1] = 0xff;
	expect_fail(img, len, -ENOEXEC, "setup");
	free(img);

	/* Header length byte claiming more than the file holds. */
	p = bz_default();
	p.kernel_len = 0;
	img = bz_build(&p, &len);
	expect_fail(img, 0x210, -ENOEXEC, "truncated");
	expect_fail(img, len, -ENOEXEC, "setup");
	free(img);

	/* init_size larger than RAM. */
	p = bz_default();
	p.init_size = 0x7f000000;
	img = bz_build(&p, &len);
	expect_fail(img, len, -ENOMEM, "RAM");
	free(img);

	/* Command line over cmdline_size. */
	p = bz_default();
	p.cmdline_size = 8;
	img = bz_build(&p, &len);
	struct boot_request req;
	test_request(&req, "vmlinuz");
	req.cmdline = "123456789";
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), -E2BIG);
	CHECK(strstr(e.msg, "vmlinuz") != NULL);
	req.cmdline = "12345678";
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), 0);
	free(img);

	/* rsdp only for protocol 2.14+. */
	p = bz_default();
	p.version = 0x020d;
	img = bz_build(&p, &len);
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), 0);
	struct boot_params *bp = (void *)gp(LAYOUT_BOOT_PARAMS, sizeof(*bp));
	CHECK_EQ(bp->acpi_rsdp_addr, 0);
	CHECK_EQ(bp->hdr.ramdisk_image, 0);
	free(img);
}

static void test_hammer(void)
{
	struct bz_params p = bz_default();
	size_t len;
	uint8_t *img = bz_build(&p, &len);
	struct boot_request req;
	test_request(&req, "vmlinuz");
	CHECK(hammer_image(&m, &req, img, len) > 0);
	free(img);
}

/* A real kernel, when the environment provides one. */
static void test_real_bzimage(void)
{
	const char *path = getenv("KEMU_TEST_BZIMAGE");
	if (!path || !*path) {
		fprintf(stderr, "KEMU_TEST_BZIMAGE not set, skipping real bzImage\n");
		return;
	}
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	uint8_t head[0x1000];
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	enum boot_format fmt;
	CHECK_EQ(loader_probe(head, n, &fmt), 0);
	CHECK_EQ(fmt, BOOT_BZIMAGE);

	struct guest_mem big;
	CHECK_EQ(guest_mem_init(&big, 512ULL << 20, TEST_HOLE), 0);
	struct boot_request req;
	test_request(&req, path);
	req.e820[3].size = (512ULL << 20) - 0x100000;
	req.cmdline = "console=ttyS0";
	struct boot_result out;
	struct error e = { "" };
	int r = loader_load(&big, &req, &out, &e);
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_EQ(out.format, BOOT_BZIMAGE);
	CHECK_EQ(out.cpu.rip, 0x100200);
	guest_mem_destroy(&big);
}

int main(void)
{
	if (guest_mem_init(&m, TEST_RAM, TEST_HOLE)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	test_load();
	test_initrd_rules();
	test_reject();
	test_hammer();
	test_real_bzimage();
	guest_mem_destroy(&m);
	return test_exit();
}
