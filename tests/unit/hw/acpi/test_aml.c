/*
 * The AML emitter on its own: PkgLength forms, NameStrings, integer
 * encodings, EISAID compression, resource templates, and overflow.
 */
#include "hw/acpi/aml.h"

#include "test.h"

static void check_pkglen(size_t content, size_t n, const uint8_t *expect)
{
	uint8_t out[4] = { 0 };
	size_t got = aml_pkglen_encode(out, content);
	CHECK_EQ(got, n);
	if (got == n)
		CHECK(!memcmp(out, expect, n));
}

static void test_pkglen(void)
{
	check_pkglen(0, 1, (const uint8_t[]){ 0x01 });
	check_pkglen(62, 1, (const uint8_t[]){ 0x3f }); /* largest 1-byte form */
	check_pkglen(63, 2, (const uint8_t[]){ 0x41, 0x04 });
	check_pkglen(0xffd, 2, (const uint8_t[]){ 0x4f, 0xff }); /* largest 2-byte form */
	check_pkglen(0xffe, 3, (const uint8_t[]){ 0x81, 0x00, 0x01 });
	check_pkglen(0xffffc, 3, (const uint8_t[]){ 0x8f, 0xff, 0xff });
	check_pkglen(0xffffd, 4, (const uint8_t[]){ 0xc1, 0x00, 0x00, 0x01 });
	uint8_t out[4];
	CHECK_EQ(aml_pkglen_encode(out, 0x0ffffffc), 0); /* beyond 28 bits */
}

static void test_package_lengths_in_stream(void)
{
	static uint8_t buf[0x2000];
	struct aml a;

	/* A small package: 1-byte PkgLength. */
	aml_init(&a, buf, sizeof(buf));
	size_t p = aml_package_begin(&a, 2);
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_end(&a, p);
	CHECK(!a.overflow);
	CHECK_EQ(a.len, 5);
	CHECK(!memcmp(buf, (const uint8_t[]){ 0x12, 0x04, 0x02, 0x00, 0x01 }, 5));

	/* 100 ByteConsts: 1 + 200 content bytes -> 2-byte PkgLength covering 203. */
	aml_init(&a, buf, sizeof(buf));
	p = aml_package_begin(&a, 100);
	for (int i = 0; i < 100; i++)
		aml_byte_const(&a, 0x42);
	aml_end(&a, p);
	CHECK(!a.overflow);
	CHECK_EQ(a.len, 1 + 2 + 201);
	CHECK_EQ(buf[0], 0x12);
	CHECK_EQ(buf[1], 0x40 | (203 & 0xf));
	CHECK_EQ(buf[2], 203 >> 4);
	CHECK_EQ(buf[3], 100);
	CHECK_EQ(buf[4], 0x0a);

	/* A device with 5000 bytes inside: 3-byte PkgLength; nesting stays intact. */
	aml_init(&a, buf, sizeof(buf));
	size_t d = aml_device_begin(&a, "DEV0");
	size_t inner = aml_package_begin(&a, 1);
	aml_integer(&a, 7);
	aml_end(&a, inner);
	for (int i = 0; i < 1000; i++)
		aml_dword_const(&a, 0x11223344);
	aml_end(&a, d);
	CHECK(!a.overflow);
	size_t content = 4 + 5 + 5000; /* name, inner package, dwords */
	CHECK_EQ(a.len, 2 + 3 + content);
	CHECK_EQ(buf[0], 0x5b);
	CHECK_EQ(buf[1], 0x82);
	size_t total = content + 3;
	CHECK_EQ(buf[2], 0x80 | (total & 0xf));
	CHECK_EQ(buf[3], (total >> 4) & 0xff);
	CHECK_EQ(buf[4], (total >> 12) & 0xff);
	CHECK(!memcmp(buf + 5, "DEV0", 4));
	CHECK(!memcmp(buf + 9, (const uint8_t[]){ 0x12, 0x04, 0x01, 0x0a, 0x07 }, 5));
}

static void test_names(void)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "_S5");
	CHECK(!a.overflow);
	CHECK_EQ(a.len, 4);
	CHECK(!memcmp(buf, "_S5_", 4));

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "\\_SB.PCI0");
	CHECK_EQ(a.len, 10);
	CHECK(!memcmp(buf, "\\\x2e_SB_PCI0", 10));

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "^^A.B.C");
	CHECK_EQ(a.len, 2 + 2 + 12);
	CHECK(!memcmp(buf, "^^\x2f\x03" "A___B___C___", 16));

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "\\");
	CHECK_EQ(a.len, 2);
	CHECK(!memcmp(buf, "\\\0", 2));

	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "_HID");
	CHECK(!memcmp(buf, "\x08_HID", 5));

	const char *bad[] = { "TOOLONG", "1ABC", "a", "A..B", "A.", "A-B" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_string(&a, bad[i]);
		CHECK(a.overflow);
	}
}

static void test_integers(void)
{
	uint8_t buf[64];
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 0x12);
	aml_integer(&a, 0x1234);
	aml_integer(&a, 0x12345678);
	aml_integer(&a, 0x100000000ULL);
	const uint8_t expect[] = { 0x00, 0x01, 0x0a, 0x12, 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56,
				   0x34, 0x12, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 };
	CHECK_EQ(a.len, sizeof(expect));
	CHECK(!memcmp(buf, expect, sizeof(expect)));

	aml_init(&a, buf, sizeof(buf));
	aml_byte_const(&a, 0);
	aml_word_const(&a, 1);
	CHECK_EQ(a.len, 5);
	CHECK(!memcmp(buf, (const uint8_t[]){ 0x0a, 0x00, 0x0b, 0x01, 0x00 }, 5));
}

static void test_eisaid(void)
{
	CHECK_EQ(aml_eisaid("PNP0A03"), 0x030ad041);
	CHECK_EQ(aml_eisaid("PNP0501"), 0x0105d041);
	CHECK_EQ(aml_eisaid("PNP0C0F"), 0x0f0cd041);
	CHECK_EQ(aml_eisaid("pnp0501"), 0);
	CHECK_EQ(aml_eisaid("PNP05"), 0);
	CHECK_EQ(aml_eisaid("PNP050G"), 0);
}

static void test_resources(void)
{
	uint8_t buf[128];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	size_t r = aml_resource_begin(&a);
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&a, 4);
	aml_resource_end(&a, r);
	const uint8_t com1[] = { 0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03, 0xf8,
				 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00 };
	CHECK(!a.overflow);
	CHECK_EQ(a.len, sizeof(com1));
	CHECK(!memcmp(buf, com1, sizeof(com1)));

	aml_init(&a, buf, sizeof(buf));
	aml_res_word_bus_number(&a, 0, 0xff);
	const uint8_t bus[] = { 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00,
				0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01 };
	CHECK_EQ(a.len, sizeof(bus));
	CHECK(!memcmp(buf, bus, sizeof(bus)));

	aml_init(&a, buf, sizeof(buf));
	aml_res_word_io(&a, 0xd00, 0xffff);
	const uint8_t io[] = { 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00,
			       0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3 };
	CHECK_EQ(a.len, sizeof(io));
	CHECK(!memcmp(buf, io, sizeof(io)));

	aml_init(&a, buf, sizeof(buf));
	aml_res_dword_memory(&a, 0xc0000000, 0xfebfffff);
	const uint8_t mem[] = { 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0,
				0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe, 0, 0,
				0, 0, 0x00, 0x00, 0xc0, 0x3e };
	CHECK_EQ(a.len, sizeof(mem));
	CHECK(!memcmp(buf, mem, sizeof(mem)));

	/* Ranges a 16-bit length cannot express, inverted ranges, IRQs above 15. */
	aml_init(&a, buf, sizeof(buf));
	aml_res_word_io(&a, 0, 0xffff);
	CHECK(a.overflow);
	aml_init(&a, buf, sizeof(buf));
	aml_res_word_io(&a, 0x100, 0xff);
	CHECK(a.overflow);
	aml_init(&a, buf, sizeof(buf));
	aml_res_irq_noflags(&a, 16);
	CHECK(a.overflow);
}

static void test_overflow(void)
{
	uint8_t buf[8];
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	size_t p = aml_package_begin(&a, 3);
	aml_dword_const(&a, 1);
	CHECK(!a.overflow);
	aml_dword_const(&a, 2); /* 12 bytes > 8 */
	CHECK(a.overflow);
	aml_end(&a, p);
	CHECK(a.overflow);
	CHECK(a.len <= sizeof(buf));

	/* Room for the content but not for the PkgLength inserted at the end. */
	aml_init(&a, buf, 3);
	p = aml_package_begin(&a, 1);
	aml_byte(&a, 0);
	CHECK(!a.overflow);
	aml_end(&a, p);
	CHECK(a.overflow);
}

int main(void)
{
	test_pkglen();
	test_package_lengths_in_stream();
	test_names();
	test_integers();
	test_eisaid();
	test_resources();
	test_overflow();
	return test_exit();
}
