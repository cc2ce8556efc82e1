/*
 * The virtio-pci transport as a guest driver sees it, through config
 * cycles on ports 0xcf8/0xcfc and MMIO on vm->mmio, over a dummy device:
 * ids and the capability list, feature negotiation through the common
 * configuration, queue setup with invalid rings refused, notifications
 * (by MMIO and by ioeventfd), MSI-X messages with masking and pending
 * bits, INTx with ISR read-to-clear, the PCI_CFG window, device reset,
 * odd-width accesses, and BAR relocation.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "hw/acpi/acpi.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio_pci.h"
#include "test.h"

#define SLOT 3
#define BAR_BASE 0xc0000000ULL
#define RAM_SIZE (16u << 20)
#define NQUEUES 2

static struct vm vm;
static struct pci_bus *bus;

/* ---- the dummy device -------------------------------------------------- */

static struct virtio_device dev;
static uint8_t dev_config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static int notified[VIRTIO_MAX_QUEUES + 8];
static int notify_calls;

static uint64_t dummy_features(struct virtio_device *vd)
{
	(void)vd;
	return 1ULL << 0 | 1ULL << 5;
}

static void dummy_config_read(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	(void)vd;
	memcpy(buf, dev_config + off, len);
}

static void dummy_config_write(struct virtio_device *vd, unsigned off, const void *buf,
			       unsigned len)
{
	(void)vd;
	memcpy(dev_config + off, buf, len);
}

static void dummy_queue_notify(struct virtio_device *vd, unsigned q)
{
	(void)vd;
	notify_calls++;
	if (q < sizeof(notified) / sizeof(notified[0]))
		notified[q]++;
}

static const struct virtio_device_ops dummy_ops = {
	.name = "virtio-dummy",
	.device_id = VIRTIO_ID_RNG,
	.features = dummy_features,
	.config_size = sizeof(dev_config),
	.config_read = dummy_config_read,
	.config_write = dummy_config_write,
	.queue_notify = dummy_queue_notify,
};

/* ---- interrupt and ioeventfd capture ------------------------------------ */

static bool gsi_level[64];
static int msi_count;
static uint64_t msi_addr;
static uint32_t msi_data;

static void capture_irq(void *opaque, unsigned gsi, bool level)
{
	(void)opaque;
	if (gsi < 64)
		gsi_level[gsi] = level;
}

static void capture_msi(void *opaque, uint64_t addr, uint32_t data)
{
	(void)opaque;
	msi_count++;
	msi_addr = addr;
	msi_data = data;
}

#define MAX_EVENTFDS 16
static struct {
	uint64_t addr;
	int fd;
	bool on;
} efd[MAX_EVENTFDS];

static int fake_ioeventfd(struct vm *v, bool mmio, uint64_t addr, unsigned len, int fd, bool assign)
{
	(void)v;
	CHECK(mmio);
	CHECK_EQ(len, 2);
	for (int i = 0; i < MAX_EVENTFDS; i++) {
		if (assign && !efd[i].on) {
			efd[i].addr = addr, efd[i].fd = fd, efd[i].on = true;
			return 0;
		}
		if (!assign && efd[i].on && efd[i].addr == addr && efd[i].fd == fd) {
			efd[i].on = false;
			return 0;
		}
	}
	return -ENOENT;
}

static int eventfd_at(uint64_t addr)
{
	for (int i = 0; i < MAX_EVENTFDS; i++)
		if (efd[i].on && efd[i].addr == addr)
			return efd[i].fd;
	return -1;
}

static int eventfds_on(void)
{
	int n = 0;
	for (int i = 0; i < MAX_EVENTFDS; i++)
		n += efd[i].on;
	return n;
}

/* ---- guest accesses ----------------------------------------------------- */

static uint32_t cfg_read(unsigned reg, unsigned size)
{
	uint32_t a = 0x80000000u | SLOT << 11 | (reg & 0xfc), v = 0;
	bus_write(&vm.pio, 0xcf8, &a, 4);
	bus_read(&vm.pio, 0xcfc + (reg & 3), &v, size);
	return v;
}

static void cfg_write(unsigned reg, uint32_t v, unsigned size)
{
	uint32_t a = 0x80000000u | SLOT << 11 | (reg & 0xfc);
	bus_write(&vm.pio, 0xcf8, &a, 4);
	bus_write(&vm.pio, 0xcfc + (reg & 3), &v, size);
}

static uint64_t bar4 = BAR_BASE, bar1 = BAR_BASE + VIRTIO_PCI_BAR_SIZE;

static uint64_t rd(uint64_t addr, unsigned size)
{
	uint64_t v = 0;
	bus_read(&vm.mmio, addr, &v, size);
	return v;
}

static void wr(uint64_t addr, uint64_t v, unsigned size)
{
	bus_write(&vm.mmio, addr, &v, size);
}

static uint64_t common(unsigned off, unsigned size)
{
	return rd(bar4 + VIRTIO_PCI_COMMON_OFFSET + off, size);
}

static void set_common(unsigned off, uint64_t v, unsigned size)
{
	wr(bar4 + VIRTIO_PCI_COMMON_OFFSET + off, v, size);
}

static unsigned find_cap(uint8_t id, int cfg_type)
{
	unsigned guard = 0;
	for (unsigned c = cfg_read(PCI_CAPABILITY_LIST, 1); c && guard < 48;
	     c = cfg_read(c + 1, 1), guard++) {
		if (cfg_read(c, 1) != id)
			continue;
		if (cfg_type < 0 || cfg_read(c + VIRTIO_PCI_CAP_CFG_TYPE, 1) == (unsigned)cfg_type)
			return c;
	}
	return 0;
}

static void setup(bool with_ioeventfd)
{
	struct error e = { "" };
	memset(gsi_level, 0, sizeof(gsi_level));
	memset(notified, 0, sizeof(notified));
	memset(efd, 0, sizeof(efd));
	notify_calls = msi_count = 0;
	bar4 = BAR_BASE, bar1 = BAR_BASE + VIRTIO_PCI_BAR_SIZE;
	CHECK_EQ(vm_init(&vm, 1), 0);
	CHECK_EQ(guest_mem_init(&vm.mem, RAM_SIZE, 0xc0000000u), 0);
	vm.irq_sink = capture_irq;
	vm.msi_sink = capture_msi;
	bus = pci_host_create(&vm, &e);
	CHECK(bus != NULL);
	pci_host_set_intx_route(bus, acpi_pci_intx_gsi);
	virtio_device_init(&dev, &vm, &dummy_ops, NULL, NQUEUES, 256);
	struct virtio_pci_options o = {
		.slot = SLOT,
		.mmio_base = BAR_BASE,
		.ioeventfd = with_ioeventfd ? fake_ioeventfd : NULL,
	};
	int r = virtio_pci_create(&vm, bus, &dev, &o, &e);
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
}

static void teardown(void)
{
	virtio_pci_destroy(&dev);
	CHECK(dev.transport == NULL);
	pci_host_destroy(bus);
	vm_destroy(&vm);
}

static void enable_memory(void)
{
	cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* ---- tests --------------------------------------------------------------- */

static void test_identity_and_caps(void)
{
	setup(false);
	CHECK_EQ(cfg_read(PCI_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfg_read(PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_RNG);
	CHECK_EQ(cfg_read(PCI_REVISION_ID, 1), 1);
	CHECK_EQ(cfg_read(0x08, 4) >> 8, 0x00ff00);
	CHECK_EQ(cfg_read(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	CHECK(cfg_read(PCI_SUBSYSTEM_ID, 2) >= 0x40);
	CHECK_EQ(cfg_read(PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(cfg_read(PCI_INTERRUPT_LINE, 1), acpi_pci_intx_gsi(SLOT, 0));
	CHECK(cfg_read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	CHECK_EQ(cfg_read(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 4), bar4);
	CHECK_EQ(cfg_read(PCI_BAR0 + 4 * VIRTIO_PCI_MSIX_BAR, 4), bar1);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 0xffffffff, 4);
	CHECK_EQ(cfg_read(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 4), (uint32_t)-VIRTIO_PCI_BAR_SIZE);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, (uint32_t)bar4, 4);

	static const struct {
		int type;
		uint32_t offset, length;
	} want[] = {
		{ VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET, VIRTIO_PCI_COMMON_SIZE },
		{ VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET, NQUEUES * 4 },
		{ VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, 1 },
		{ VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET, sizeof(dev_config) },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		unsigned c = find_cap(PCI_CAP_ID_VNDR, want[i].type);
		CHECK(c >= 0x40 && c % 4 == 0);
		CHECK_EQ(cfg_read(c + VIRTIO_PCI_CAP_BAR, 1), VIRTIO_PCI_BAR);
		CHECK_EQ(cfg_read(c + VIRTIO_PCI_CAP_OFFSET, 4), want[i].offset);
		CHECK_EQ(cfg_read(c + VIRTIO_PCI_CAP_LENGTH, 4), want[i].length);
		CHECK(cfg_read(c + VIRTIO_PCI_CAP_LEN, 1) >= 16);
	}
	unsigned n = find_cap(PCI_CAP_ID_VNDR, VIRTIO_PCI_CAP_NOTIFY_CFG);
	CHECK_EQ(cfg_read(n + VIRTIO_PCI_CAP_LEN, 1), 20);
	CHECK_EQ(cfg_read(n + VIRTIO_PCI_CAP_NOTIFY_MULT, 4), 4);
	unsigned pc = find_cap(PCI_CAP_ID_VNDR, VIRTIO_PCI_CAP_PCI_CFG);
	CHECK(pc != 0);
	CHECK_EQ(cfg_read(pc + VIRTIO_PCI_CAP_LEN, 1), 20);

	unsigned x = find_cap(PCI_CAP_ID_MSIX, -1);
	CHECK(x != 0);
	CHECK_EQ(cfg_read(x + 2, 2), NQUEUES); /* table size - 1, disabled, unmasked */
	CHECK_EQ(cfg_read(x + 4, 4), VIRTIO_PCI_MSIX_TABLE | VIRTIO_PCI_MSIX_BAR);
	CHECK_EQ(cfg_read(x + 8, 4), VIRTIO_PCI_MSIX_PBA | VIRTIO_PCI_MSIX_BAR);
	/* Only Enable and Function Mask are writable. */
	cfg_write(x + 2, 0xffff, 2);
	CHECK_EQ(cfg_read(x + 2, 2), 0xc000 | NQUEUES);
	cfg_write(x + 2, 0, 2);
	/* Capabilities are read-only apart from the PCI_CFG window. */
	cfg_write(n + VIRTIO_PCI_CAP_OFFSET, 0, 4);
	CHECK_EQ(cfg_read(n + VIRTIO_PCI_CAP_OFFSET, 4), VIRTIO_PCI_NOTIFY_OFFSET);

	/* No decoding before COMMAND.MEM: nothing answers at the BAR. */
	CHECK_EQ(common(VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	CHECK(bus_find(&vm.mmio, bar4) == NULL);
	enable_memory();
	CHECK_EQ(common(VIRTIO_PCI_COMMON_NUMQ, 2), NQUEUES);
	CHECK_EQ(rd(bar4 + VIRTIO_PCI_DEVICE_OFFSET + 2, 2), 0x0403);
	wr(bar4 + VIRTIO_PCI_DEVICE_OFFSET + 6, 0xbeef, 2);
	CHECK_EQ(dev_config[6], 0xef);
	/* Beyond the device's configuration: 0, writes dropped. */
	CHECK_EQ(rd(bar4 + VIRTIO_PCI_DEVICE_OFFSET + 6, 4), 0);
	wr(bar4 + VIRTIO_PCI_DEVICE_OFFSET + 8, 0x55, 1);
	teardown();
}

static void test_features(void)
{
	setup(false);
	enable_memory();
	set_common(VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_DF, 4), (uint32_t)dev.device_features);
	CHECK(common(VIRTIO_PCI_COMMON_DF, 4) & (1u << 5));
	set_common(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	CHECK(common(VIRTIO_PCI_COMMON_DF, 4) & 1u); /* VERSION_1 */
	set_common(VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_DF, 4), 0);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_DFSELECT, 4), 2);
	/* Wrong widths: read 0, writes dropped. */
	set_common(VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_DF, 2), 0);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_DF + 1, 1), 0);
	set_common(VIRTIO_PCI_COMMON_GF, 0xffff, 2);
	CHECK_EQ(dev.driver_features, 0);

	set_common(VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	set_common(VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	/* An unoffered feature: FEATURES_OK does not stick. */
	set_common(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	set_common(VIRTIO_PCI_COMMON_GF, 1u << 5 | 1u << 7, 4);
	set_common(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	set_common(VIRTIO_PCI_COMMON_GF, 1, 4);
	CHECK_EQ(dev.driver_features, 1ULL << 32 | 1u << 5 | 1u << 7);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_GF, 4), 1);
	set_common(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x03);
	/* Then the right set. */
	set_common(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	set_common(VIRTIO_PCI_COMMON_GF, 1u << 5, 4);
	set_common(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
	CHECK(virtio_has_feature(&dev, 5));
	CHECK(virtio_has_feature(&dev, VIRTIO_F_VERSION_1));
	/* Accepted features are frozen. */
	set_common(VIRTIO_PCI_COMMON_GF, 1u << 0, 4);
	CHECK_EQ(dev.driver_features, 1ULL << 32 | 1u << 5);
	teardown();
}

static void setup_ring_addrs(unsigned q, uint64_t base)
{
	set_common(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	set_common(VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	set_common(VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)base, 4);
	set_common(VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(base >> 32), 4);
	set_common(VIRTIO_PCI_COMMON_Q_AVAILLO, base + 0x1000, 8);
	set_common(VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)(base + 0x2000), 4);
	set_common(VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)((base + 0x2000) >> 32), 4);
}

static void setup_ring(unsigned q, uint64_t base)
{
	setup_ring_addrs(q, base);
	set_common(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static void test_queues(void)
{
	setup(false);
	enable_memory();
	set_common(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	set_common(VIRTIO_PCI_COMMON_Q_SIZE, 100, 2); /* not a power of two */
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	set_common(VIRTIO_PCI_COMMON_Q_SIZE, 512, 2); /* above the maximum */
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	set_common(VIRTIO_PCI_COMMON_Q_SIZE, 0, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	set_common(VIRTIO_PCI_COMMON_Q_SIZE, 64, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);

	/* Rings outside guest RAM: refused, queue_enable reads 0. */
	set_common(VIRTIO_PCI_COMMON_Q_DESCLO, 0xf0000000u, 4);
	set_common(VIRTIO_PCI_COMMON_Q_AVAILLO, 0x10000, 4);
	set_common(VIRTIO_PCI_COMMON_Q_USEDLO, 0x20000, 4);
	set_common(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK(!dev.vq[0].ready);
	set_common(VIRTIO_PCI_COMMON_Q_DESCHI, 1, 4); /* 0x1_f000_0000 */
	CHECK_EQ(dev.vq[0].desc_addr, 0x1f0000000ULL);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_DESCHI, 4), 1);
	set_common(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* A used ring past the end of RAM. */
	setup_ring_addrs(0, 0x10000);
	set_common(VIRTIO_PCI_COMMON_Q_USEDLO, RAM_SIZE - 4, 4);
	set_common(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);

	/* Valid rings: enabled, then frozen. */
	setup_ring(0, 0x10000);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	CHECK(dev.vq[0].ready);
	CHECK_EQ(dev.vq[0].size, 16);
	CHECK_EQ(dev.vq[0].desc_addr, 0x10000);
	CHECK_EQ(dev.vq[0].avail_addr, 0x11000);
	CHECK_EQ(dev.vq[0].used_addr, 0x12000);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_AVAILLO, 8), 0x11000);
	set_common(VIRTIO_PCI_COMMON_Q_SIZE, 32, 2);
	set_common(VIRTIO_PCI_COMMON_Q_DESCLO, 0x40000, 4);
	CHECK_EQ(dev.vq[0].size, 16);
	CHECK_EQ(dev.vq[0].desc_addr, 0x10000);
	set_common(VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2); /* no RING_RESET: ignored */
	CHECK(dev.vq[0].ready);

	/* Queues that do not exist read as size 0 and ignore writes. */
	set_common(VIRTIO_PCI_COMMON_Q_SELECT, NQUEUES, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	set_common(VIRTIO_PCI_COMMON_Q_DESCLO, 0x30000, 4);
	set_common(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	set_common(VIRTIO_PCI_COMMON_Q_SELECT, 0xffff, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	CHECK(!dev.vq[NQUEUES].ready);

	/* Reset: status 0 forgets the queues. */
	set_common(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_STATUS, 1), 0);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	teardown();
}

static void test_notify(void)
{
	setup(false);
	enable_memory();
	uint64_t n = bar4 + VIRTIO_PCI_NOTIFY_OFFSET;
	wr(n, 0, 2); /* queue 0 not enabled yet */
	CHECK_EQ(notify_calls, 0);
	setup_ring(0, 0x10000);
	setup_ring(1, 0x20000);
	set_common(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	wr(n + 0, 0, 2);
	CHECK_EQ(notified[0], 1);
	wr(n + 4, 1, 2);
	CHECK_EQ(notified[1], 1);
	wr(n + 4, 1, 4); /* with NOTIFICATION_DATA's width too */
	CHECK_EQ(notified[1], 2);
	CHECK_EQ(notify_calls, 3);
	/* Out of range, misaligned, wrong width: nothing. */
	wr(n + 8, 2, 2);
	wr(n + 4 * 200, 200, 2);
	wr(n + 0xffc, 0, 2);
	wr(n + 2, 0, 2);
	wr(n + 4, 1, 1);
	CHECK_EQ(notify_calls, 3);
	CHECK_EQ(rd(n, 2), 0);
	teardown();
}

static void test_ioeventfd(void)
{
	setup(true);
	CHECK_EQ(eventfds_on(), 0); /* nothing decodes yet */
	enable_memory();
	CHECK_EQ(eventfds_on(), NQUEUES);
	uint64_t n = bar4 + VIRTIO_PCI_NOTIFY_OFFSET;
	int fd1 = eventfd_at(n + 4);
	CHECK(fd1 >= 0 && eventfd_at(n) >= 0);
	setup_ring(1, 0x20000);
	uint64_t one = 1;
	CHECK_EQ(write(fd1, &one, 8), 8);
	event_loop_poll(&vm.loop, 100);
	CHECK_EQ(notified[1], 1);
	/* A kick for a queue not enabled: served, ignored. */
	CHECK_EQ(write(eventfd_at(n), &one, 8), 8);
	event_loop_poll(&vm.loop, 100);
	CHECK_EQ(notified[0], 0);

	/* The BAR moves: the eventfds follow. */
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 0xd0000000u, 4);
	bar4 = 0xd0000000u;
	CHECK_EQ(eventfds_on(), NQUEUES);
	CHECK_EQ(eventfd_at(n + 4), -1);
	CHECK_EQ(eventfd_at(bar4 + VIRTIO_PCI_NOTIFY_OFFSET + 4), fd1);
	/* Decoding off: none left. */
	cfg_write(PCI_COMMAND, 0, 2);
	CHECK_EQ(eventfds_on(), 0);
	enable_memory();
	CHECK_EQ(eventfds_on(), NQUEUES);
	teardown();
	CHECK_EQ(eventfds_on(), 0);
}

static void test_msix(void)
{
	setup(false);
	enable_memory();
	unsigned x = find_cap(PCI_CAP_ID_MSIX, -1);
	uint64_t t = bar1 + VIRTIO_PCI_MSIX_TABLE, pba = bar1 + VIRTIO_PCI_MSIX_PBA;
	/* Entries start masked and zeroed. */
	CHECK_EQ(rd(t + 12, 4), 1);
	CHECK_EQ(rd(t + 16 + 12, 4), 1);
	CHECK_EQ(rd(t, 8), 0);

	/* Vectors past the table are refused (NO_VECTOR reads back). */
	set_common(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	set_common(VIRTIO_PCI_COMMON_Q_MSIX, NQUEUES + 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	set_common(VIRTIO_PCI_COMMON_MSIX, 7, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	set_common(VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	set_common(VIRTIO_PCI_COMMON_MSIX, 0, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_MSIX, 2), 0);

	/* Program vector 1 (queue 0) and vector 0 (config). */
	wr(t + 16, 0xfee01003, 4); /* the low two bits do not stick */
	wr(t + 16 + 4, 0, 4);
	wr(t + 16 + 8, 0x4041, 4);
	CHECK_EQ(rd(t + 16, 4), 0xfee01000);
	wr(t + 0, 0xfee00000ULL, 8);
	wr(t + 8, 0x51, 4);
	/* Odd widths and misaligned accesses do nothing. */
	wr(t + 16 + 8, 0x99, 2);
	wr(t + 16 + 9, 0x99, 4);
	CHECK_EQ(rd(t + 16 + 8, 4), 0x4041);
	CHECK_EQ(rd(t + 16 + 8, 2), 0);

	/* MSI-X disabled: INTx carries the interrupt, no message. */
	dev.transport->notify_queue(&dev, 0);
	CHECK_EQ(msi_count, 0);
	CHECK(gsi_level[acpi_pci_intx_gsi(SLOT, 0)]);
	CHECK_EQ(rd(bar4 + VIRTIO_PCI_ISR_OFFSET, 1), 1);
	CHECK(!gsi_level[acpi_pci_intx_gsi(SLOT, 0)]);

	cfg_write(x + 2, 0x8000, 2); /* enable */
	CHECK(pci_msix_enabled(virtio_pci_device(&dev)));
	/* Vector 1 still masked: pending, no message. */
	dev.transport->notify_queue(&dev, 0);
	CHECK_EQ(msi_count, 0);
	CHECK_EQ(rd(pba, 8), 2);
	CHECK_EQ(rd(pba, 4), 2);
	wr(pba, 0, 8); /* read-only */
	CHECK_EQ(rd(pba, 8), 2);
	CHECK(!gsi_level[acpi_pci_intx_gsi(SLOT, 0)]);
	/* Unmask: the pending message goes out. */
	wr(t + 16 + 12, 0, 4);
	CHECK_EQ(msi_count, 1);
	CHECK_EQ(msi_addr, 0xfee01000);
	CHECK_EQ(msi_data, 0x4041);
	CHECK_EQ(rd(pba, 8), 0);
	/* Unmasked: straight out. */
	dev.transport->notify_queue(&dev, 0);
	CHECK_EQ(msi_count, 2);

	/* Function mask holds every vector. */
	cfg_write(x + 2, 0xc000, 2);
	dev.transport->notify_queue(&dev, 0);
	CHECK_EQ(msi_count, 2);
	CHECK_EQ(rd(pba, 8), 2);
	cfg_write(x + 2, 0x8000, 2);
	CHECK_EQ(msi_count, 3);
	CHECK_EQ(rd(pba, 8), 0);

	/* Config changes go to the config vector (masked until now). */
	dev.transport->notify_config(&dev);
	CHECK_EQ(msi_count, 3);
	wr(t + 12, 0, 4);
	CHECK_EQ(msi_count, 4);
	CHECK_EQ(msi_addr, 0xfee00000);
	CHECK_EQ(msi_data, 0x51);
	CHECK(!gsi_level[acpi_pci_intx_gsi(SLOT, 0)]);

	/* NO_VECTOR: nothing at all. */
	set_common(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	dev.transport->notify_queue(&dev, 1);
	CHECK_EQ(msi_count, 4);
	CHECK_EQ(rd(pba, 8), 0);
	/* Out-of-range queues from a buggy device: nothing either. */
	dev.transport->notify_queue(&dev, VIRTIO_MAX_QUEUES + 3);
	CHECK_EQ(msi_count, 4);
	teardown();
}

static void test_intx(void)
{
	setup(false);
	enable_memory();
	unsigned gsi = acpi_pci_intx_gsi(SLOT, 0);
	uint64_t isr = bar4 + VIRTIO_PCI_ISR_OFFSET;
	CHECK_EQ(rd(isr, 1), 0);
	dev.transport->notify_queue(&dev, 1);
	CHECK(gsi_level[gsi]);
	CHECK(cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	dev.transport->notify_config(&dev);
	/* INTX_DISABLE drops the line but keeps the status. */
	cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	CHECK(!gsi_level[gsi]);
	CHECK(cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	CHECK(gsi_level[gsi]);
	/* Reading ISR returns and clears both bits and lowers the line. */
	CHECK_EQ(rd(isr + 1, 1), 0); /* only offset 0 is ISR */
	CHECK(gsi_level[gsi]);
	CHECK_EQ(rd(isr, 1), 3);
	CHECK(!gsi_level[gsi]);
	CHECK(!(cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	CHECK_EQ(rd(isr, 1), 0);
	/* Reset lowers a pending line too. */
	dev.transport->notify_queue(&dev, 0);
	CHECK(gsi_level[gsi]);
	set_common(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	CHECK(!gsi_level[gsi]);
	teardown();
}

static void test_pci_cfg_window(void)
{
	setup(false);
	/* Works without memory decoding: that is what the window is for. */
	unsigned c = find_cap(PCI_CAP_ID_VNDR, VIRTIO_PCI_CAP_PCI_CFG);
	unsigned data = c + VIRTIO_PCI_CAP_PCI_CFG_DATA;
	cfg_write(c + VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_BAR, 1);
	cfg_write(c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_write(c + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	CHECK_EQ(cfg_read(data, 4) & 0xffff, NQUEUES);
	CHECK_EQ(cfg_read(data, 2), NQUEUES);
	cfg_write(c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_Q_SELECT, 4);
	cfg_write(data, 1, 4);
	CHECK_EQ(cfg_read(data, 2), 1);
	/* Misaligned offset, bad length, other BARs' holes: no effect. */
	cfg_write(c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_Q_SELECT + 1, 4);
	cfg_write(data, 0, 4);
	cfg_write(c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_Q_SELECT, 4);
	cfg_write(c + VIRTIO_PCI_CAP_LENGTH, 3, 4);
	cfg_write(data, 0, 4);
	cfg_write(c + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	CHECK_EQ(cfg_read(data, 2), 1);
	cfg_write(c + VIRTIO_PCI_CAP_BAR, 2, 1);
	CHECK_EQ(cfg_read(data, 4), 0);
	cfg_write(c + VIRTIO_PCI_CAP_BAR, 9, 1);
	CHECK_EQ(cfg_read(data, 4), 0);
	cfg_write(c + VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_BAR, 1);
	cfg_write(c + VIRTIO_PCI_CAP_OFFSET, 0xfffffffc, 4);
	cfg_write(c + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	CHECK_EQ(cfg_read(data, 4), 0);
	/* The ISR through the window clears it too. */
	dev.transport->notify_queue(&dev, 0);
	cfg_write(c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_ISR_OFFSET, 4);
	cfg_write(c + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	CHECK_EQ(cfg_read(data, 1), 1);
	CHECK(!gsi_level[acpi_pci_intx_gsi(SLOT, 0)]);
	teardown();
}

static void test_bar_move(void)
{
	setup(false);
	enable_memory();
	CHECK_EQ(common(VIRTIO_PCI_COMMON_NUMQ, 2), NQUEUES);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 0xc0100000u, 4);
	CHECK(bus_find(&vm.mmio, BAR_BASE) == NULL);
	CHECK(bus_find(&vm.mmio, BAR_BASE + VIRTIO_PCI_NOTIFY_OFFSET) == NULL);
	bar4 = 0xc0100000u;
	CHECK_EQ(common(VIRTIO_PCI_COMMON_NUMQ, 2), NQUEUES);
	setup_ring(0, 0x10000);
	wr(bar4 + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
	CHECK_EQ(notified[0], 1);
	/* The MSI-X BAR moves on its own. */
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_MSIX_BAR, 0xc0200000u, 4);
	CHECK_EQ(rd(0xc0200000u + 12, 4), 1);
	CHECK(bus_find(&vm.mmio, bar1) == NULL);
	/* Sizing with decoding on parks the BARs on top of each other; the
	 * overlap stays unmapped and restoring them brings everything back. */
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 0xffffffff, 4);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_MSIX_BAR, 0xffffffff, 4);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, (uint32_t)bar4, 4);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_MSIX_BAR, 0xc0200000u, 4);
	CHECK_EQ(common(VIRTIO_PCI_COMMON_NUMQ, 2), NQUEUES);
	wr(bar4 + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
	CHECK_EQ(notified[0], 2);
	CHECK_EQ(rd(0xc0200000u + 12, 4), 1);
	/* A BAR placed over another device's registers stays unmapped there. */
	CHECK_EQ(bus_register(&vm.mmio, 0xc0400000u, 0x100, &(const struct bus_ops){ 0 }, NULL,
			      "other"),
		 0);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 0xc0400000u, 4);
	CHECK(bus_find(&vm.mmio, 0xc0400000u)->opaque == NULL);
	CHECK(bus_find(&vm.mmio, 0xc0400000u + VIRTIO_PCI_ISR_OFFSET) != NULL);
	cfg_write(PCI_BAR0 + 4 * VIRTIO_PCI_BAR, (uint32_t)bar4, 4);
	CHECK(bus_find(&vm.mmio, 0xc0400000u) != NULL); /* not ours to remove */
	CHECK(bus_find(&vm.mmio, 0xc0400000u + VIRTIO_PCI_ISR_OFFSET) == NULL);
	/* COMMAND.MEM off: nothing of it left on the bus. */
	cfg_write(PCI_COMMAND, 0, 2);
	CHECK(bus_find(&vm.mmio, bar4) == NULL);
	CHECK(bus_find(&vm.mmio, 0xc0200000u) == NULL);
	teardown();
	CHECK(bus_find(&vm.mmio, bar4) == NULL);
}

int main(void)
{
	test_identity_and_caps();
	test_features();
	test_queues();
	test_notify();
	test_ioeventfd();
	test_msix();
	test_intx();
	test_pci_cfg_window();
	test_bar_move();
	return test_exit();
}
