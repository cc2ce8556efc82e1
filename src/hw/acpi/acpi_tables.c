/*
 * ACPI table builder. With no firmware in the guest, kemu writes the
 * tables itself into a reserved window of guest RAM before the first vCPU
 * runs:
 *
 *   RSDP (at base, where a BIOS-area scan finds it)
 *   FACS   (64-byte aligned; no wake support, but FADT must point at one)
 *   DSDT   (AML from aml.c: \_S5, \_SB.PCI0 root bridge and its _PRT if
 *           cfg->pci, \_SB.COM1,
 *           \_SB.VRnn for each virtio-mmio device)
 *   FADT   (fixed hardware as emulated by acpi_pm.c and pci_host.c)
 *   MADT   (local APICs, one I/O APIC, PC interrupt overrides)
 *   RSDT, XSDT -> FADT, MADT
 *
 * Layouts follow the ACPI 6 specification; the FADT is the revision 6
 * (276-byte) form, with every 32-bit block address mirrored in its X_ GAS
 * so that OSPMs reading either see the same machine.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/acpi/acpi.h"
#include "hw/acpi/aml.h"

#define ACPI_OEM_ID "KEMU  "
#define ACPI_CREATOR_ID "KEMU"
#define ACPI_TABLES_MAX_ADDR 0x100000000ULL /* RSDT and FADT hold 32-bit pointers */

/* PCI windows the root bridge hands out; must match what the board places BARs in. */
#define PCI_MMIO_WINDOW_START 0xc0000000u
#define PCI_MMIO_WINDOW_END 0xfebfffffu

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all of it */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_sdt_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");

#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_TMR_VAL_EXT (1u << 8) /* acpi_pm.c's timer is 32 bits wide */
#define FADT_RESET_REG_SUP (1u << 10)

#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042 (1u << 1)

#define GAS_SYSTEM_IO 1

struct acpi_madt {
	struct acpi_sdt_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length;
	uint8_t acpi_processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_irq_override {
	uint8_t type, length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t acpi_processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC");
_Static_assert(sizeof(struct madt_irq_override) == 10, "MADT ISO");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT LAPIC NMI");

#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_LAPIC_ENABLED (1u << 0)
/* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2. */
#define MPS_ACTIVE_HIGH 0x1
#define MPS_EDGE (0x1 << 2)
#define MPS_LEVEL (0x3 << 2)

/* xAPIC ids are 8 bits, 0xff is broadcast, and the I/O APIC takes id ncpus. */
#define ACPI_MAX_CPUS 254

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* A bump allocator over the window, handing out guest addresses. */
struct acpi_window {
	uint8_t *host;
	uint64_t base, size, used;
};

static void *window_alloc(struct acpi_window *w, uint64_t len, uint64_t align, uint64_t *gpa)
{
	uint64_t start = ((w->base + w->used + align - 1) & ~(align - 1)) - w->base;
	if (start > w->size || len > w->size - start)
		return NULL;
	w->used = start + len;
	*gpa = w->base + start;
	return w->host + start;
}

static void sdt_header_init(struct acpi_sdt_header *h, const char sig[4], uint32_t length,
			    uint8_t revision)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	h->checksum = 0;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, "KEMU", 4);
	memcpy(h->oem_table_id + 4, sig, 4);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void sdt_finish(void *table)
{
	struct acpi_sdt_header *h = table;
	h->checksum = 0;
	h->checksum = acpi_checksum(table, h->length);
}

static struct acpi_gas gas_io(uint16_t port, uint8_t bytes)
{
	/* Access size codes happen to be log2(bytes) + 1 for 1, 2 and 4. */
	uint8_t access = bytes == 1 ? 1 : bytes == 2 ? 2 : 3;
	return (struct acpi_gas){ .space_id = GAS_SYSTEM_IO,
				  .bit_width = (uint8_t)(bytes * 8),
				  .bit_offset = 0,
				  .access_size = access,
				  .address = port };
}

/* Slots 1-31 have devices; slot 0 is the host bridge, which has no pin. */
#define PRT_FIRST_SLOT 1
#define PRT_SLOTS 32
#define PRT_PINS 4

/*
 * _PRT: Package { Package { address 0xSSSSFFFF (any function of slot
 * SSSS), pin, source Zero (a GSI, not a link device), GSI } ... } with
 * the routing acpi_pci_intx_gsi() defines (see acpi.h).
 */
static void dsdt_pci_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	size_t prt = aml_package_begin(a, (PRT_SLOTS - PRT_FIRST_SLOT) * PRT_PINS);
	for (unsigned slot = PRT_FIRST_SLOT; slot < PRT_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PRT_PINS; pin++) {
			size_t entry = aml_package_begin(a, 4);
			aml_dword_const(a, slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, acpi_pci_intx_gsi(slot, pin));
			aml_end(a, entry);
		}
	}
	aml_end(a, prt);
}

static void dsdt_pci_root(struct aml *a)
{
	size_t dev = aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_dword_const(a, aml_eisaid("PNP0A03"));
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	size_t res = aml_resource_begin(a);
	aml_res_word_bus_number(a, 0x00, 0xff);
	/* 0xcf8-0xcff is the bridge's own config mechanism, not a window. */
	aml_res_io(a, 0xcf8, 0xcf8, 1, 8);
	aml_res_word_io(a, 0x0000, 0x0cf7);
	aml_res_word_io(a, 0x0d00, 0xffff);
	aml_res_dword_memory(a, PCI_MMIO_WINDOW_START, PCI_MMIO_WINDOW_END);
	aml_resource_end(a, res);
	dsdt_pci_prt(a);
	aml_end(a, dev);
}

static void dsdt_com1(struct aml *a)
{
	size_t dev = aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_dword_const(a, aml_eisaid("PNP0501"));
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	size_t res = aml_resource_begin(a);
	aml_res_io(a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(a, 4);
	aml_resource_end(a, res);
	aml_end(a, dev);
}

static void aml_le32(struct aml *a, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* A virtio-mmio device; the descriptors aml.h has no helper for are spelled out. */
static void dsdt_virtio_mmio(struct aml *a, int index, const struct acpi_virtio_mmio *v)
{
	char name[8];
	snprintf(name, sizeof(name), "VR%02u", (unsigned)index % 100);
	size_t dev = aml_device_begin(a, name);
	aml_name(a, "_HID");
	/* A string, not an EISAID: "LNRO" is not a compressible vendor id. */
	aml_byte(a, 0x0d);
	for (const char *c = "LNRO0005"; *c; c++)
		aml_byte(a, (uint8_t)*c);
	aml_byte(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, (uint64_t)index);
	aml_name(a, "_CRS");
	size_t res = aml_resource_begin(a);
	/* Memory32Fixed(ReadWrite, base, size): large item 0x06, 9 bytes. */
	aml_byte(a, 0x86);
	aml_byte(a, 9);
	aml_byte(a, 0);
	aml_byte(a, 0x01);
	aml_le32(a, (uint32_t)v->base);
	aml_le32(a, (uint32_t)v->size);
	/* Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) { gsi }:
	 * large item 0x09, 6 bytes; flags bit 0 consumer, bit 1 clear =
	 * level, bit 2 clear = active-high, bit 3 clear = exclusive. */
	aml_byte(a, 0x89);
	aml_byte(a, 6);
	aml_byte(a, 0);
	aml_byte(a, 0x01);
	aml_byte(a, 1);
	aml_le32(a, v->gsi);
	aml_resource_end(a, res);
	aml_end(a, dev);
}

/* Emits the DSDT into [table, table+cap); returns its length or 0 if it does not fit. */
static uint32_t build_dsdt(uint8_t *table, uint64_t cap, const struct acpi_config *cfg)
{
	struct acpi_sdt_header *h = (struct acpi_sdt_header *)table;
	if (cap < sizeof(*h))
		return 0;
	struct aml a;
	size_t room = cap - sizeof(*h) > UINT32_MAX ? UINT32_MAX : cap - sizeof(*h);
	aml_init(&a, table + sizeof(*h), room);

	/* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved; acpi_pm.c acts on SLP_TYPa. */
	aml_name(&a, "_S5");
	size_t pkg = aml_package_begin(&a, 4);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a, pkg);

	size_t sb = aml_scope_begin(&a, "\\_SB");
	if (cfg->pci)
		dsdt_pci_root(&a);
	dsdt_com1(&a);
	for (int i = 0; i < cfg->nvirtio_mmio; i++)
		dsdt_virtio_mmio(&a, i, &cfg->virtio_mmio[i]);
	aml_end(&a, sb);

	if (a.overflow)
		return 0;
	uint32_t len = (uint32_t)(sizeof(*h) + a.len);
	/* Revision 2: AML integers are 64 bits wide. */
	sdt_header_init(h, "DSDT", len, 2);
	sdt_finish(h);
	return len;
}

static uint32_t madt_length(int ncpus, bool pic)
{
	return (uint32_t)(sizeof(struct acpi_madt) + (size_t)ncpus * sizeof(struct madt_lapic) +
			  sizeof(struct madt_ioapic) +
			  (pic ? 2 : 1) * sizeof(struct madt_irq_override) +
			  sizeof(struct madt_lapic_nmi));
}

static void build_madt(struct acpi_madt *madt, const struct acpi_config *cfg)
{
	uint32_t len = madt_length(cfg->ncpus, cfg->pic);
	sdt_header_init(&madt->h, "APIC", len, 4);
	madt->lapic_address = (uint32_t)cfg->lapic_addr;
	madt->flags = cfg->pic ? MADT_PCAT_COMPAT : 0;

	uint8_t *p = (uint8_t *)(madt + 1);
	for (int i = 0; i < cfg->ncpus; i++) {
		struct madt_lapic e = { .type = 0, .length = sizeof(e),
					.acpi_processor_uid = (uint8_t)i, .apic_id = (uint8_t)i,
					.flags = MADT_LAPIC_ENABLED };
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}

	struct madt_ioapic io = { .type = 1, .length = sizeof(io), .ioapic_id = (uint8_t)cfg->ncpus,
				  .address = (uint32_t)cfg->ioapic_addr, .gsi_base = 0 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);

	/*
	 * The PIT's IRQ0 is wired to I/O APIC pin 2 on a PC. The SCI override
	 * is given even without a PIC: it states the SCI's level, active-high
	 * signalling, which would otherwise default to active-low.
	 */
	if (cfg->pic) {
		struct madt_irq_override pit = { .type = 2, .length = sizeof(pit), .bus = 0,
						 .source = 0, .gsi = 2,
						 .flags = MPS_ACTIVE_HIGH | MPS_EDGE };
		memcpy(p, &pit, sizeof(pit));
		p += sizeof(pit);
	}
	struct madt_irq_override sci = { .type = 2, .length = sizeof(sci), .bus = 0,
					 .source = ACPI_SCI_IRQ, .gsi = ACPI_SCI_IRQ,
					 .flags = MPS_ACTIVE_HIGH | MPS_LEVEL };
	memcpy(p, &sci, sizeof(sci));
	p += sizeof(sci);

	/* LINT1 is the NMI input on every processor (uid 0xff: all). */
	struct madt_lapic_nmi nmi = { .type = 4, .length = sizeof(nmi), .acpi_processor_uid = 0xff,
				      .flags = MPS_ACTIVE_HIGH | MPS_EDGE, .lint = 1 };
	memcpy(p, &nmi, sizeof(nmi));
	sdt_finish(madt);
}

static void build_fadt(struct acpi_fadt *f, const struct acpi_config *cfg, uint64_t facs,
		       uint64_t dsdt)
{
	sdt_header_init(&f->h, "FACP", sizeof(*f), 6);
	f->firmware_ctrl = (uint32_t)facs;
	f->dsdt = (uint32_t)dsdt;
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	/* No SMI command port: the machine is always in ACPI mode. */
	f->smi_cmd = 0;

	f->pm1a_evt_blk = ACPI_PM_BASE;
	f->pm1_evt_len = 4;
	f->x_pm1a_evt_blk = gas_io(ACPI_PM_BASE, 4);
	f->x_pm1a_evt_blk.access_size = 2; /* PM1_STS and PM1_EN are 16-bit registers */
	f->pm1a_cnt_blk = ACPI_PM_BASE + 4;
	f->pm1_cnt_len = 2;
	f->x_pm1a_cnt_blk = gas_io(ACPI_PM_BASE + 4, 2);
	f->pm_tmr_blk = ACPI_PM_BASE + 8;
	f->pm_tmr_len = 4;
	f->x_pm_tmr_blk = gas_io(ACPI_PM_BASE + 8, 4);

	/* C2/C3 unsupported: latencies above 100 and 1000 us say so. */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;

	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_TMR_VAL_EXT |
		   FADT_RESET_REG_SUP;
	/* Linux leaves the i8042 alone when firmware says it is absent. */
	f->iapc_boot_arch = (uint16_t)((cfg->pic ? BOOT_ARCH_LEGACY_DEVICES : 0) |
				       (cfg->i8042 ? BOOT_ARCH_8042 : 0));

	/*
	 * Byte writes to 0xcf9 reach the reset control register: pci_host.c
	 * decodes it, or reset_port.c where there is no PCI host.
	 */
	f->reset_reg = gas_io(ACPI_RESET_PORT, 1);
	f->reset_value = ACPI_RESET_VALUE;
	f->minor_version = 0;
	sdt_finish(f);
}

static int check_config(const struct guest_mem *m, uint64_t base, uint64_t size,
			const struct acpi_config *cfg, struct error *e)
{
	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return error_set(e, -EINVAL, "acpi: %d CPUs do not fit the MADT (1-%d)",
				 cfg->ncpus, ACPI_MAX_CPUS);
	if (cfg->lapic_addr >= ACPI_TABLES_MAX_ADDR || cfg->ioapic_addr >= ACPI_TABLES_MAX_ADDR)
		return error_set(e, -EINVAL,
				 "acpi: APIC addresses 0x%llx/0x%llx must be below 4 GiB",
				 (unsigned long long)cfg->lapic_addr,
				 (unsigned long long)cfg->ioapic_addr);
	if (cfg->nvirtio_mmio < 0 || cfg->nvirtio_mmio > ACPI_MAX_VIRTIO_MMIO)
		return error_set(e, -EINVAL, "acpi: %d virtio-mmio devices (at most %d)",
				 cfg->nvirtio_mmio, ACPI_MAX_VIRTIO_MMIO);
	for (int i = 0; i < cfg->nvirtio_mmio; i++) {
		const struct acpi_virtio_mmio *v = &cfg->virtio_mmio[i];
		/* Memory32Fixed: the window must lie below 4 GiB. */
		if (!v->size || v->size > ACPI_TABLES_MAX_ADDR ||
		    v->base > ACPI_TABLES_MAX_ADDR - v->size)
			return error_set(e, -EINVAL,
					 "acpi: virtio-mmio window 0x%llx+0x%llx must lie below 4 GiB",
					 (unsigned long long)v->base, (unsigned long long)v->size);
	}
	if (base & 15)
		return error_set(e, -EINVAL, "acpi: table base 0x%llx is not 16-byte aligned",
				 (unsigned long long)base);
	if (!size || size > ACPI_TABLES_MAX_ADDR || base > ACPI_TABLES_MAX_ADDR - size)
		return error_set(e, -EINVAL,
				 "acpi: table window 0x%llx+0x%llx must lie below 4 GiB",
				 (unsigned long long)base, (unsigned long long)size);
	if (!guest_ptr(m, base, size))
		return error_set(e, -EFAULT,
				 "acpi: table window 0x%llx+0x%llx is not inside guest RAM",
				 (unsigned long long)base, (unsigned long long)size);
	return 0;
}

int acpi_build_tables(const struct guest_mem *m, uint64_t base, uint64_t size,
		      const struct acpi_config *cfg, uint64_t *rsdp_gpa, struct error *e)
{
	int r = check_config(m, base, size, cfg, e);
	if (r)
		return r;

	struct acpi_window w = { .host = guest_ptr(m, base, size), .base = base, .size = size };
	memset(w.host, 0, size);

	uint64_t rsdp_at = 0, facs_at = 0, dsdt_at = 0, fadt_at = 0, madt_at = 0;
	uint64_t rsdt_at = 0, xsdt_at = 0;
	struct acpi_rsdp *rsdp = window_alloc(&w, sizeof(*rsdp), 16, &rsdp_at);
	struct acpi_facs *facs = window_alloc(&w, sizeof(*facs), 64, &facs_at);
	if (!rsdp || !facs)
		goto too_small;
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	/* The DSDT's size is known only once emitted: give it the rest, then trim. */
	uint8_t *dsdt = window_alloc(&w, 0, 16, &dsdt_at);
	if (!dsdt)
		goto too_small;
	uint32_t dsdt_len = build_dsdt(dsdt, w.size - w.used, cfg);
	if (!dsdt_len)
		goto too_small;
	w.used += dsdt_len;

	struct acpi_fadt *fadt = window_alloc(&w, sizeof(*fadt), 16, &fadt_at);
	struct acpi_madt *madt = window_alloc(&w, madt_length(cfg->ncpus, cfg->pic), 16, &madt_at);
	if (!fadt || !madt)
		goto too_small;
	build_fadt(fadt, cfg, facs_at, dsdt_at);
	build_madt(madt, cfg);

	const uint64_t entries[] = { fadt_at, madt_at };
	const size_t n = sizeof(entries) / sizeof(entries[0]);
	uint32_t rsdt_len = (uint32_t)(sizeof(struct acpi_sdt_header) + n * 4);
	uint32_t xsdt_len = (uint32_t)(sizeof(struct acpi_sdt_header) + n * 8);
	uint8_t *rsdt = window_alloc(&w, rsdt_len, 16, &rsdt_at);
	uint8_t *xsdt = window_alloc(&w, xsdt_len, 16, &xsdt_at);
	if (!rsdt || !xsdt)
		goto too_small;
	sdt_header_init((struct acpi_sdt_header *)rsdt, "RSDT", rsdt_len, 1);
	sdt_header_init((struct acpi_sdt_header *)xsdt, "XSDT", xsdt_len, 1);
	for (size_t i = 0; i < n; i++) {
		uint32_t a32 = (uint32_t)entries[i];
		memcpy(rsdt + sizeof(struct acpi_sdt_header) + i * 4, &a32, 4);
		memcpy(xsdt + sizeof(struct acpi_sdt_header) + i * 8, &entries[i], 8);
	}
	sdt_finish(rsdt);
	sdt_finish(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt_address = (uint32_t)rsdt_at;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_at;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->extended_checksum = acpi_checksum(rsdp, sizeof(*rsdp));

	*rsdp_gpa = rsdp_at;
	return 0;

too_small:
	return error_set(e, -ENOSPC, "acpi: tables do not fit in 0x%llx bytes at 0x%llx",
			 (unsigned long long)size, (unsigned long long)base);
}
