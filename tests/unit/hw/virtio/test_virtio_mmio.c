/*
 * The virtio-mmio transport with a dummy device behind it, driven through
 * vm->mmio as a guest would: the register layout (magic, version, ids),
 * feature negotiation, queue setup with invalid rings refused, notifies
 * reaching the device only when they should, InterruptStatus/ACK driving
 * a level line, the config space at 0x100, and accesses that are the
 * wrong size or out of range doing nothing. Then the DSDT: each
 * virtio-mmio device as \_SB.VRnn with _HID "LNRO0005" and its _CRS.
 *
 * Set KEMU_ACPI_DUMP=dir to write that DSDT out for `iasl -d`.
 */
#include <stdlib.h>

#include "core/vm.h"
#include "driver_ring.h"
#include "hw/acpi/acpi.h"
#include "hw/virtio/virtio_mmio.h"
#include "test.h"

#define BASE 0xd0000000ULL
#define GSI 16
#define RING 0x100000

static struct vm vm;
static struct virtio_device vd;
static int line = -1, line_changes;
static unsigned notified_mask;
static int notifies;
static uint8_t config[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

static void irq_sink(void *opaque, unsigned gsi, bool level)
{
	(void)opaque;
	CHECK_EQ(gsi, GSI);
	line = level;
	line_changes++;
}

static uint64_t dummy_features(struct virtio_device *d)
{
	(void)d;
	return 1ULL << 3 | 1ULL << 40;
}

static void dummy_config_read(struct virtio_device *d, unsigned off, void *buf, unsigned len)
{
	(void)d;
	CHECK(off + len <= sizeof(config));
	memcpy(buf, config + off, len);
}

static void dummy_config_write(struct virtio_device *d, unsigned off, const void *buf, unsigned len)
{
	(void)d;
	CHECK(off + len <= sizeof(config));
	memcpy(config + off, buf, len);
}

static void dummy_queue_notify(struct virtio_device *d, unsigned q)
{
	(void)d;
	notified_mask |= 1u << q;
	notifies++;
}

static const struct virtio_device_ops dummy_ops = {
	.name = "virtio-dummy",
	.device_id = 42,
	.features = dummy_features,
	.config_size = sizeof(config),
	.config_read = dummy_config_read,
	.config_write = dummy_config_write,
	.queue_notify = dummy_queue_notify,
};

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	CHECK(bus_read(&vm.mmio, BASE + off, &v, 4));
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	CHECK(bus_write(&vm.mmio, BASE + off, &v, 4));
}

static void setup_queue(unsigned q, uint64_t desc, uint64_t avail, uint64_t used, uint32_t num)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void negotiate(void)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << 3 | 1u << VIRTIO_F_RING_EVENT_IDX);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32) | 1u << (40 - 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
}

static void transport(void)
{
	struct error e = { { 0 } };
	virtio_device_init(&vd, &vm, &dummy_ops, NULL, 2, 64);
	CHECK_EQ(virtio_mmio_create(&vm, &vd, BASE, GSI, &e), 0);
	/* Only one transport per device, and no overlapping windows. */
	CHECK(virtio_mmio_create(&vm, &vd, BASE + 0x1000, GSI, &e) < 0);

	/* Identification. */
	CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CHECK_EQ(rd(VIRTIO_MMIO_VERSION_REG), 2);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 42);
	CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);

	/* Wrong sizes, misalignment and holes read 0; writes there do nothing. */
	uint8_t b = 0xff;
	CHECK(bus_read(&vm.mmio, BASE, &b, 1));
	CHECK_EQ(b, 0);
	uint64_t q64 = ~0ULL;
	CHECK(bus_read(&vm.mmio, BASE, &q64, 8));
	CHECK_EQ(q64, 0);
	CHECK_EQ(rd(0x002), 0);
	CHECK_EQ(rd(0x0e0), 0);
	uint16_t w16 = 1;
	CHECK(bus_write(&vm.mmio, BASE + VIRTIO_MMIO_STATUS, &w16, 2));
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	/* Past the window: not ours (the bus reads all-ones). */
	uint32_t v = 0;
	CHECK(!bus_read(&vm.mmio, BASE + VIRTIO_MMIO_SIZE, &v, 4));

	/* Device features, 32 bits at a time; selectors past 1 read 0. */
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), (1u << 3) | (1u << VIRTIO_F_RING_INDIRECT_DESC) |
							 (1u << VIRTIO_F_RING_EVENT_IDX));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1u << (VIRTIO_F_VERSION_1 - 32) | 1u << 8);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);

	/* Features the device does not offer make FEATURES_OK fail. */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << 4);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));

	negotiate();
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	CHECK_EQ(vd.driver_features, 1ULL << 3 | 1ULL << VIRTIO_F_RING_EVENT_IDX | 1ULL << 40 |
					     1ULL << VIRTIO_F_VERSION_1);
	/* Frozen after FEATURES_OK. */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	CHECK(vd.driver_features & (1ULL << 3));

	/* Queues: only 0 and 1 exist. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);

	/* Invalid rings are refused, and the device asks for a reset. */
	setup_queue(0, 0x7fff00000000ULL, RING + 0x2000, RING + 0x3000, 16); /* outside RAM */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	negotiate();
	CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	setup_queue(0, RING, RING + 0x2000, RING + 0x3000, 12); /* not a power of two */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	negotiate();
	setup_queue(0, RING, RING + 0x2000, RING + 0x3000, 128); /* above QueueNumMax */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	negotiate();
	setup_queue(0, RING, RING + 0x2001, RING + 0x3000, 16); /* misaligned avail */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	negotiate();
	setup_queue(0, RING, RING + 0x2000, RING + 0x3000, 0x10010); /* truncation must not help */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);

	/* Queue setup before FEATURES_OK is refused too. */
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	setup_queue(0, RING, RING + 0x2000, RING + 0x3000, 16);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);

	/* A good queue 0: each address written as two halves. */
	negotiate();
	struct dring r;
	dring_init(&r, &vm.mem, RING, 16);
	setup_queue(0, RING, RING + 0x2000, RING + 0x3000, 16);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	CHECK_EQ(vd.vq[0].size, 16);
	CHECK_EQ(vd.vq[0].desc_addr, RING);
	CHECK_EQ(vd.vq[0].avail_addr, RING + 0x2000);
	CHECK_EQ(vd.vq[0].used_addr, RING + 0x3000);
	CHECK(vd.vq[0].event_idx);
	/* A live queue's configuration cannot change. */
	wr(VIRTIO_MMIO_QUEUE_NUM, 32);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	CHECK_EQ(vd.vq[0].size, 16);
	CHECK_EQ(vd.vq[0].desc_addr, RING);

	/* Notifies reach the device only for ready queues after DRIVER_OK. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(notifies, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(notifies, 1);
	CHECK_EQ(notified_mask, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* not ready */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 7); /* no such queue */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	CHECK_EQ(notifies, 1);

	/* Interrupts: a used-buffer event raises the line; it stays up until
	 * every set bit is acknowledged. */
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	virtio_notify_queue(&vd, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	CHECK_EQ(line, 1);
	int changes = line_changes;
	virtio_notify_config(&vd);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
	CHECK_EQ(line_changes, changes); /* already up */
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 2);
	CHECK_EQ(line, 1);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xfffffffc); /* bits that are not set */
	CHECK_EQ(line, 1);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 2);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(line, 0);
	/* The driver asked for no interrupts: none. */
	uint16_t no_irq = 1;
	guest_write(&vm.mem, RING + 0x2000, &no_irq, 2);
	vd.vq[0].event_idx = false;
	virtio_notify_queue(&vd, 0);
	CHECK_EQ(line, 0);

	/* Config space: any size inside it, little-endian; nothing outside. */
	uint8_t b8 = 0;
	CHECK(bus_read(&vm.mmio, BASE + 0x101, &b8, 1));
	CHECK_EQ(b8, 0x22);
	uint16_t b16 = 0;
	CHECK(bus_read(&vm.mmio, BASE + 0x102, &b16, 2));
	CHECK_EQ(b16, 0x4433);
	CHECK_EQ(rd(0x104), 0x88776655);
	uint64_t b64 = 0;
	CHECK(bus_read(&vm.mmio, BASE + 0x100, &b64, 8));
	CHECK_EQ(b64, 0x8877665544332211ULL);
	CHECK_EQ(rd(0x106), 0); /* crosses the end */
	CHECK_EQ(rd(0x1fc), 0);
	b8 = 0xab;
	CHECK(bus_write(&vm.mmio, BASE + 0x107, &b8, 1));
	CHECK_EQ(config[7], 0xab);
	wr(0x106, 0xffffffff);
	wr(0x1fc, 0xffffffff);
	CHECK_EQ(config[6], 0x77);
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), vd.config_generation);

	/* Reset: status 0 clears the queues and drops a pending interrupt. */
	virtio_notify_config(&vd);
	CHECK_EQ(line, 1);
	wr(VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(line, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);

	/* Destroy: the window goes away. */
	virtio_mmio_destroy(&vd);
	CHECK(vd.transport == NULL);
	CHECK(!bus_read(&vm.mmio, BASE, &v, 4));
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static const uint8_t *memfind(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static void dsdt(void)
{
	struct acpi_config cfg = { .ncpus = 1, .lapic_addr = 0xfee00000, .ioapic_addr = 0xfec00000,
				   .nvirtio_mmio = 2 };
	cfg.virtio_mmio[0] = (struct acpi_virtio_mmio){ 0xfeb00000, 0x200, 16 };
	cfg.virtio_mmio[1] = (struct acpi_virtio_mmio){ 0xfeb00200, 0x200, 17 };
	struct error e = { { 0 } };
	uint64_t rsdp_at = 0;
	CHECK_EQ(acpi_build_tables(&vm.mem, 0xe0000, 0x20000, &cfg, &rsdp_at, &e), 0);
	const uint8_t *rsdp = guest_ptr(&vm.mem, rsdp_at, 36);
	const uint8_t *rsdt = guest_ptr(&vm.mem, rd32(rsdp + 16), 36);
	const uint8_t *fadt = guest_ptr(&vm.mem, rd32(rsdt + 36), 276);
	CHECK(fadt && !memcmp(fadt, "FACP", 4));
	if (!fadt)
		return;
	uint32_t dsdt_at = rd32(fadt + 40);
	const uint8_t *t = guest_ptr(&vm.mem, dsdt_at, 36);
	uint32_t len = rd32(t + 4);
	t = guest_ptr(&vm.mem, dsdt_at, len);
	CHECK(!memcmp(t, "DSDT", 4));
	CHECK_EQ(acpi_checksum(t, len), 0);
	/* KEMU_ACPI_DUMP=dir: the DSDT for `iasl -d`, as in test_acpi_tables.c. */
	const char *dir = getenv("KEMU_ACPI_DUMP");
	if (dir) {
		char path[512];
		snprintf(path, sizeof(path), "%s/DSDT-virtio-mmio.dat", dir);
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(t, 1, len, f);
			fclose(f);
		}
	}

	for (int i = 0; i < 2; i++) {
		char name[5];
		snprintf(name, sizeof(name), "VR%02d", i);
		const uint8_t *dev = memfind(t, len, name, 4);
		CHECK(dev != NULL);
		if (!dev)
			continue;
		CHECK_EQ(dev[-1] & 0xc0, 0); /* a 1-byte PkgLength would sit right before */
		size_t rest = len - (size_t)(dev - t);
		/* Name(_HID, "LNRO0005") */
		static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O',
					       '0', '0', '0', '5', 0 };
		CHECK(memfind(dev, rest, hid, sizeof(hid)) == dev + 4);
		/* Memory32Fixed(ReadWrite, base, 0x200) then Interrupt(Consumer, Level,
		 * ActiveHigh, Exclusive) { gsi }, then the End Tag. */
		uint32_t base = (uint32_t)cfg.virtio_mmio[i].base;
		uint8_t crs[] = { 0x86, 0x09, 0x00, 0x01, (uint8_t)base, (uint8_t)(base >> 8),
				  (uint8_t)(base >> 16), (uint8_t)(base >> 24), 0x00, 0x02, 0x00, 0x00,
				  0x89, 0x06, 0x00, 0x01, 0x01, (uint8_t)(16 + i), 0, 0, 0, 0x79 };
		const uint8_t *res = memfind(dev, rest, crs, sizeof(crs));
		CHECK(res != NULL);
		/* _UID i comes between _HID and _CRS. */
		const uint8_t uid[] = { 0x08, '_', 'U', 'I', 'D' };
		const uint8_t *u = memfind(dev, rest, uid, sizeof(uid));
		CHECK(u && res && u < res);
		if (u)
			CHECK_EQ(u[5], i == 0 ? 0x00 : 0x01); /* Zero / One */
	}
	CHECK(memfind(t, len, "VR02", 4) == NULL);

	/* A window above 4 GiB cannot be described by Memory32Fixed. */
	cfg.virtio_mmio[1].base = 0x100000000ULL;
	CHECK(acpi_build_tables(&vm.mem, 0xe0000, 0x20000, &cfg, &rsdp_at, &e) < 0);
	CHECK(strstr(e.msg, "virtio-mmio") != NULL);
	cfg.virtio_mmio[1].base = 0xfeb00200;
	cfg.nvirtio_mmio = ACPI_MAX_VIRTIO_MMIO + 1;
	CHECK(acpi_build_tables(&vm.mem, 0xe0000, 0x20000, &cfg, &rsdp_at, &e) < 0);
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(guest_mem_init(&vm.mem, 32 << 20, 0xc0000000ULL), 0);
	vm.irq_sink = irq_sink;

	transport();
	dsdt();

	vm_destroy(&vm);
	return test_exit();
}
