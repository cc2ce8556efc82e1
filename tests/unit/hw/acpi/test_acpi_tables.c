/*
 * ACPI tables as a guest finds them: RSDP in the BIOS area, both root
 * tables, each table's checksum, and the fields Linux relies on (FADT PM
 * blocks and reset register, MADT for SMP, DSDT \_S5, and the PCI root
 * bridge only when the machine has PCI, as microvm does not). Offsets are the
 * spec's, written out here rather than taken from the builder's structs.
 *
 * Set KEMU_ACPI_DUMP=dir to write the tables out for `iasl -d`.
 */
#include <errno.h>
#include <stdlib.h>

#include "hw/acpi/acpi.h"
#include "test.h"

#define BASE 0xe0000
#define SIZE 0x20000

static struct guest_mem mem;

static uint8_t rd8(const uint8_t *p, size_t off) { return p[off]; }
static uint16_t rd16(const uint8_t *p, size_t off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static uint32_t rd32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t rd64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s += *p++;
	return s;
}

/* A table at gpa with a valid header, inside the window; NULL otherwise. */
static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
	CHECK(gpa >= BASE && gpa + 36 <= BASE + SIZE);
	const uint8_t *t = guest_ptr(&mem, gpa, 36);
	if (!t)
		return NULL;
	uint32_t len = rd32(t, 4);
	CHECK(len >= 36 && gpa + len <= BASE + SIZE);
	t = guest_ptr(&mem, gpa, len);
	if (!t)
		return NULL;
	CHECK(!memcmp(t, sig, 4));
	CHECK_EQ(sum(t, len), 0);
	CHECK_EQ(acpi_checksum(t, len), 0);
	CHECK(!memcmp(t + 10, "KEMU  ", 6));
	return t;
}

static void dump(const char *name, const uint8_t *t)
{
	const char *dir = getenv("KEMU_ACPI_DUMP");
	if (!dir || !t)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(t, 1, rd32(t, 4), f);
		fclose(f);
	}
}

static void check_gas_io(const uint8_t *g, uint16_t port, uint8_t bits)
{
	CHECK_EQ(rd8(g, 0), 1); /* system I/O */
	CHECK_EQ(rd8(g, 1), bits);
	CHECK_EQ(rd8(g, 2), 0);
	CHECK_EQ(rd64(g, 4), port);
}

static void check_fadt(const uint8_t *f, bool pic, bool i8042, const uint8_t **dsdt)
{
	CHECK_EQ(rd32(f, 4), 276);
	CHECK_EQ(rd8(f, 8), 6);
	uint64_t facs = rd64(f, 132);
	CHECK_EQ(rd32(f, 36), facs);
	CHECK_EQ(facs & 63, 0);
	const uint8_t *fc = guest_ptr(&mem, facs, 64);
	CHECK(fc && !memcmp(fc, "FACS", 4) && rd32(fc, 4) == 64);

	uint64_t dsdt_at = rd64(f, 140);
	CHECK_EQ(rd32(f, 40), dsdt_at);
	*dsdt = table_at(dsdt_at, "DSDT");

	CHECK_EQ(rd16(f, 46), ACPI_SCI_IRQ);
	CHECK_EQ(rd32(f, 48), 0); /* SMI_CMD: always in ACPI mode */
	CHECK_EQ(rd32(f, 56), ACPI_PM_BASE);
	CHECK_EQ(rd32(f, 60), 0);
	CHECK_EQ(rd32(f, 64), ACPI_PM_BASE + 4);
	CHECK_EQ(rd32(f, 76), ACPI_PM_BASE + 8);
	CHECK_EQ(rd32(f, 80), 0); /* no GPE block */
	CHECK_EQ(rd8(f, 88), 4);
	CHECK_EQ(rd8(f, 89), 2);
	CHECK_EQ(rd8(f, 91), 4);
	check_gas_io(f + 148, ACPI_PM_BASE, 32);
	check_gas_io(f + 172, ACPI_PM_BASE + 4, 16);
	check_gas_io(f + 208, ACPI_PM_BASE + 8, 32);

	uint32_t flags = rd32(f, 112);
	CHECK(flags & (1u << 0));   /* WBINVD */
	CHECK(flags & (1u << 2));   /* PROC_C1 */
	CHECK(flags & (1u << 5));   /* SLP_BUTTON */
	CHECK(flags & (1u << 8));   /* TMR_VAL_EXT: 32-bit timer, as acpi_pm.c */
	CHECK(flags & (1u << 10));  /* RESET_REG_SUP */
	CHECK(!(flags & (1u << 20))); /* not HW_REDUCED_ACPI */
	CHECK_EQ(rd16(f, 109), (pic ? 0x1 : 0) | (i8042 ? 0x2 : 0));

	const uint8_t *reset = f + 116;
	check_gas_io(reset, ACPI_RESET_PORT, 8);
	CHECK_EQ(rd8(reset, 3), 1); /* byte access */
	CHECK_EQ(rd8(f, 128), ACPI_RESET_VALUE);
}

static void check_madt(const uint8_t *t, int ncpus, bool pic)
{
	uint32_t len = rd32(t, 4);
	CHECK_EQ(rd32(t, 36), 0xfee00000);
	CHECK_EQ(rd32(t, 40), pic ? 1 : 0);
	int lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	bool irq0 = false, sci = false;
	for (uint32_t off = 44; off < len;) {
		uint8_t type = t[off], elen = t[off + 1];
		CHECK(elen >= 2 && off + elen <= len);
		if (elen < 2 || off + elen > len)
			break;
		const uint8_t *e = t + off;
		switch (type) {
		case 0:
			CHECK_EQ(elen, 8);
			CHECK_EQ(e[2], lapics);
			CHECK_EQ(e[3], lapics);
			CHECK_EQ(rd32(e, 4), 1);
			lapics++;
			break;
		case 1:
			CHECK_EQ(elen, 12);
			CHECK_EQ(e[2], ncpus);
			CHECK_EQ(rd32(e, 4), 0xfec00000);
			CHECK_EQ(rd32(e, 8), 0);
			ioapics++;
			break;
		case 2:
			CHECK_EQ(elen, 10);
			CHECK_EQ(e[2], 0);
			if (e[3] == 0) {
				irq0 = true;
				CHECK_EQ(rd32(e, 4), 2);
				CHECK_EQ(rd16(e, 8) & 0xc, 0x4); /* edge */
			} else if (e[3] == ACPI_SCI_IRQ) {
				sci = true;
				CHECK_EQ(rd32(e, 4), ACPI_SCI_IRQ);
				CHECK_EQ(rd16(e, 8), 0xd); /* level, active high */
			}
			isos++;
			break;
		case 4:
			CHECK_EQ(elen, 6);
			CHECK_EQ(e[2], 0xff);
			CHECK_EQ(e[5], 1);
			nmis++;
			break;
		default:
			CHECK(!"unexpected MADT entry");
		}
		off += elen;
	}
	CHECK_EQ(lapics, ncpus);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(isos, pic ? 2 : 1);
	CHECK(irq0 == pic);
	CHECK(sci);
	CHECK_EQ(nmis, 1);
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

/* Decodes one AML integer; returns bytes used or 0. */
static size_t aml_int(const uint8_t *p, uint64_t *v)
{
	switch (p[0]) {
	case 0x00: *v = 0; return 1;
	case 0x01: *v = 1; return 1;
	case 0x0a: *v = p[1]; return 2;
	case 0x0b: *v = rd16(p, 1); return 3;
	case 0x0c: *v = rd32(p, 1); return 5;
	default: return 0;
	}
}

static void check_dsdt(const uint8_t *t, bool pci)
{
	uint32_t len = rd32(t, 4);
	CHECK_EQ(rd8(t, 8), 2);
	const uint8_t *aml = t + 36;
	size_t n = len - 36;

	/* Name(_S5_, Package(4) { SLP_TYP, SLP_TYP, 0, 0 }) */
	const uint8_t *s5 = find(aml, n, "\x08_S5_", 5);
	CHECK(s5 != NULL);
	if (s5) {
		const uint8_t *p = s5 + 5;
		CHECK_EQ(p[0], 0x12);
		CHECK(p[1] < 0x40); /* short package: 1-byte PkgLength */
		CHECK_EQ(p[2], 4);
		p += 3;
		uint64_t v[4];
		for (int i = 0; i < 4; i++) {
			size_t used = aml_int(p, &v[i]);
			CHECK(used > 0);
			if (!used)
				return;
			p += used;
		}
		CHECK_EQ(v[0], ACPI_S5_SLP_TYP);
		CHECK_EQ(v[1], ACPI_S5_SLP_TYP);
		CHECK_EQ(p - (s5 + 6), s5[6]); /* PkgLength covers exactly the package */
	}

	CHECK(find(aml, n, "\x10", 1) != NULL);
	CHECK(find(aml, n, "\\_SB_", 5) != NULL);
	CHECK(find(aml, n, "\x5b\x82", 2) != NULL);
	CHECK((find(aml, n, "PCI0", 4) != NULL) == pci);
	CHECK(find(aml, n, "COM1", 4) != NULL);
	CHECK((find(aml, n, "_HID\x0c\x41\xd0\x0a\x03", 9) != NULL) == pci); /* PNP0A03 */
	CHECK(find(aml, n, "_HID\x0c\x41\xd0\x05\x01", 9) != NULL); /* PNP0501 */
	CHECK(find(aml, n, "_CRS", 4) != NULL);
	/* COM1: IO(Decode16, 0x3f8, 0x3f8, 1, 8), IRQNoFlags() {4} */
	CHECK(find(aml, n, "\x47\x01\xf8\x03\xf8\x03\x01\x08\x22\x10\x00\x79", 12) != NULL);
	/* PCI0: bus 0-0xff, the MMIO window; nothing of it without PCI */
	CHECK((find(aml, n, "\x88\x0d\x00\x02", 4) != NULL) == pci);
	CHECK((find(aml, n, "\x00\x00\x00\xc0\xff\xff\xbf\xfe", 8) != NULL) == pci);
	CHECK((find(aml, n, "\x47\x01\xf8\x0c\xf8\x0c", 6) != NULL) == pci); /* IO 0xcf8 */
}

static void test_build(int ncpus, bool pic, bool pci, bool i8042)
{
	struct acpi_config cfg = { .ncpus = ncpus, .lapic_addr = 0xfee00000,
				   .ioapic_addr = 0xfec00000, .pic = pic, .pci = pci,
				   .i8042 = i8042 };
	struct error e = { "" };
	uint64_t rsdp_at = 0;
	memset(guest_ptr(&mem, BASE, SIZE), 0xa5, SIZE); /* stale data must not leak through */
	int r = acpi_build_tables(&mem, BASE, SIZE, &cfg, &rsdp_at, &e);
	CHECK_EQ(r, 0);
	if (r) {
		fprintf(stderr, "%s\n", e.msg);
		return;
	}
	CHECK_EQ(rsdp_at, BASE);
	const uint8_t *rsdp = guest_ptr(&mem, rsdp_at, 36);
	CHECK(!memcmp(rsdp, "RSD PTR ", 8));
	CHECK_EQ(sum(rsdp, 20), 0);
	CHECK_EQ(sum(rsdp, 36), 0);
	CHECK_EQ(rsdp[15], 2);
	CHECK_EQ(rd32(rsdp, 20), 36);
	CHECK(!memcmp(rsdp + 9, "KEMU  ", 6));

	const uint8_t *rsdt = table_at(rd32(rsdp, 16), "RSDT");
	const uint8_t *xsdt = table_at(rd64(rsdp, 24), "XSDT");
	if (!rsdt || !xsdt)
		return;
	uint32_t n = (rd32(xsdt, 4) - 36) / 8;
	CHECK_EQ(n, 2);
	CHECK_EQ((rd32(rsdt, 4) - 36) / 4, n);
	const uint8_t *fadt = NULL, *madt = NULL, *dsdt = NULL;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t x = rd64(xsdt, 36 + 8 * i);
		CHECK_EQ(rd32(rsdt, 36 + 4 * i), x);
		const uint8_t *t = guest_ptr(&mem, x, 4);
		if (t && !memcmp(t, "FACP", 4))
			fadt = table_at(x, "FACP");
		else if (t && !memcmp(t, "APIC", 4))
			madt = table_at(x, "APIC");
		else
			CHECK(!"unexpected table in XSDT");
	}
	CHECK(fadt && madt);
	if (fadt)
		check_fadt(fadt, pic, i8042, &dsdt);
	if (madt)
		check_madt(madt, ncpus, pic);
	CHECK(dsdt != NULL);
	if (dsdt)
		check_dsdt(dsdt, pci);
	if (ncpus == 4 && pic && pci) {
		dump("facp", fadt);
		dump("apic", madt);
		dump("dsdt", dsdt);
	}
}

static void test_refusals(void)
{
	struct acpi_config cfg = { .ncpus = 1, .lapic_addr = 0xfee00000,
				   .ioapic_addr = 0xfec00000, .pic = true, .pci = true,
				   .i8042 = true };
	struct error e = { "" };
	uint64_t rsdp = 0;

	CHECK_EQ(acpi_build_tables(&mem, BASE, 0x100, &cfg, &rsdp, &e), -ENOSPC);
	CHECK(strstr(e.msg, "do not fit") != NULL);
	CHECK_EQ(acpi_build_tables(&mem, BASE, 0x300, &cfg, &rsdp, &e), -ENOSPC);
	/* 64 MiB of RAM: the window must not run past it. */
	CHECK_EQ(acpi_build_tables(&mem, (64 << 20) - 0x1000, 0x2000, &cfg, &rsdp, &e), -EFAULT);
	CHECK(strstr(e.msg, "guest RAM") != NULL);
	CHECK_EQ(acpi_build_tables(&mem, 0xfffffffffffff000ULL, 0x2000, &cfg, &rsdp, &e),
		 -EINVAL);
	CHECK_EQ(acpi_build_tables(&mem, BASE + 8, SIZE - 16, &cfg, &rsdp, &e), -EINVAL);
	CHECK_EQ(acpi_build_tables(&mem, BASE, 0, &cfg, &rsdp, &e), -EINVAL);

	cfg.ncpus = 0;
	CHECK_EQ(acpi_build_tables(&mem, BASE, SIZE, &cfg, &rsdp, &e), -EINVAL);
	cfg.ncpus = 255;
	CHECK_EQ(acpi_build_tables(&mem, BASE, SIZE, &cfg, &rsdp, &e), -EINVAL);
	cfg.ncpus = 254;
	CHECK_EQ(acpi_build_tables(&mem, BASE, SIZE, &cfg, &rsdp, &e), 0);
	cfg.ncpus = 1;
	cfg.ioapic_addr = 0x100000000ULL;
	CHECK_EQ(acpi_build_tables(&mem, BASE, SIZE, &cfg, &rsdp, &e), -EINVAL);
}

static void test_checksum(void)
{
	uint8_t b[4] = { 1, 2, 3, 0 };
	b[3] = acpi_checksum(b, 3);
	CHECK_EQ(sum(b, 4), 0);
	CHECK_EQ(acpi_checksum(b, 4), 0);
	CHECK_EQ(acpi_checksum(b, 0), 0);
}

int main(void)
{
	if (guest_mem_init(&mem, 64 << 20, 0xc0000000)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	test_checksum();
	test_build(1, true, true, true);  /* pc */
	test_build(4, true, true, true);
	test_build(2, true, false, true); /* microvm: no PCI, the i8042 stays */
	test_build(2, false, false, false);
	test_refusals();
	guest_mem_destroy(&mem);
	return test_exit();
}
