/*
 * msix: drives a virtio-rng-pci function (-device virtio-rng-pci) as a
 * minimal modern virtio driver with its request queue on MSI-X vector 0,
 * and takes the completion interrupt through the local APIC. Then masks
 * the vector, checks that a completion sets the pending bit in the PBA
 * and raises nothing, and unmasks it to get the pending message. On kemu
 * under KVM this is the irqfd path (GSI route + eventfd); on the software
 * CPU the user-space LAPIC.
 *
 * Everything is found as a driver finds it: the function by vendor and
 * device ID on bus 0, its registers through the capability list and the
 * BARs the firmware (kemu, or SeaBIOS under QEMU) assigned. The 8259s are
 * masked so that only the MSI can interrupt. Waits are bounded by the ACPI
 * PM timer as in smp.c.
 */
#include "kernel.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PCI_COMMAND 0x04
#define PCI_CMD_MEMORY 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_CAP_PTR 0x34
#define PCI_CAP_MSIX 0x11
#define PCI_CAP_VENDOR 0x09

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_RNG_MODERN 0x1044
#define VIRTIO_RNG_TRANSITIONAL 0x1005
#define VIRTIO_CAP_COMMON 1
#define VIRTIO_CAP_NOTIFY 2

/* struct virtio_pci_common_cfg */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_AVAIL 0x28
#define CC_Q_USED 0x30

#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define NO_VECTOR 0xffff

#define LAPIC 0xfee00000u
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define MSI_VECTOR 0x41

#define QSIZE 8
#define PM_TIMER (PM_BASE + 8)
#define PM_TIMER_HZ 3579545u

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct desc ring_desc[QSIZE] __attribute__((aligned(4096)));
static volatile uint16_t ring_avail[3 + QSIZE] __attribute__((aligned(4096)));
static volatile uint32_t ring_used[1 + 2 * QSIZE + 1] __attribute__((aligned(4096)));
static uint8_t entropy[16];
static uint64_t idt[256];

volatile uint32_t msi_count, other_count;
void msi_entry(void);
void other_entry(void);

/*
 * Both count, EOI and return without IRET, which paravirtual KVM cannot
 * emulate outside real mode (see exc_entry.S): the frame is ring 0 to
 * ring 0 (EIP, CS, EFLAGS), so the stub restores EFLAGS with IF still
 * clear, then STI, whose one-instruction shadow keeps the next interrupt
 * off until the jump back has read resume_eip.
 */
uint32_t resume_eip;
__asm__(".text\n"
	".globl msi_entry\n"
	"msi_entry:\n"
	"	lock incl msi_count\n"
	"	jmp 1f\n"
	".globl other_entry\n"
	"other_entry:\n"
	"	lock incl other_count\n"
	"1:	movl $0, 0xfee000b0\n"
	"	pushl %eax\n"
	"	movl 4(%esp), %eax\n"
	"	movl %eax, resume_eip\n"
	"	andl $0xfffffdff, 12(%esp)\n"
	"	popl %eax\n"
	"	addl $8, %esp\n"
	"	popfl\n"
	"	sti\n"
	"	jmp *resume_eip\n");

static uint32_t cfg_read(unsigned dev, unsigned reg)
{
	outl(PCI_ADDR, 0x80000000u | dev << 11 | (reg & 0xfc));
	return inl(PCI_DATA) >> (reg & 3) * 8;
}

static void cfg_write16(unsigned dev, unsigned reg, uint16_t v)
{
	outl(PCI_ADDR, 0x80000000u | dev << 11 | (reg & 0xfc));
	outw(PCI_DATA + (reg & 2), v);
}

static void w8(uint32_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static void w16(uint32_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static void w32(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static uint8_t r8(uint32_t a) { return *(volatile uint8_t *)a; }
static uint16_t r16(uint32_t a) { return *(volatile uint16_t *)a; }
static uint32_t r32(uint32_t a) { return *(volatile uint32_t *)a; }

/* A memory BAR below 4 GiB (a 32-bit kernel without paging reaches no more). */
static uint32_t bar_addr(unsigned dev, unsigned bar)
{
	uint32_t lo = cfg_read(dev, 0x10 + 4 * bar);
	if (lo & 1)
		test_fail("expected a memory BAR");
	if ((lo & 6) == 4 && cfg_read(dev, 0x14 + 4 * bar))
		test_fail("BAR above 4 GiB");
	return lo & ~0xfu;
}

static void idt_set(int vec, void (*handler)(void))
{
	uint32_t a = (uint32_t)handler;
	idt[vec] = (a & 0xffff) | 0x08u << 16 | (uint64_t)0x8e00 << 32 | (uint64_t)(a >> 16) << 48;
}

static void idt_load(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (uint32_t)idt };
	for (int v = 0; v < 256; v++)
		idt_set(v, other_entry);
	idt_set(MSI_VECTOR, msi_entry);
	__asm__ volatile("lidt %0" : : "m"(d));
}

/* Waits up to ~half a second of PM timer time for *p to reach want. */
static int wait_for(volatile uint32_t *p, uint32_t want)
{
	uint32_t start = inl(PM_TIMER) & 0xffffff;
	for (int i = 0; i < 200000 && *p < want; i++) {
		uint32_t now = inl(PM_TIMER) & 0xffffff;
		if (((now - start) & 0xffffff) > PM_TIMER_HZ / 2)
			break;
	}
	return *p >= want;
}

static int wait_used(uint16_t want)
{
	uint32_t start = inl(PM_TIMER) & 0xffffff;
	for (int i = 0; i < 200000; i++) {
		if ((uint16_t)(ring_used[0] >> 16) == want)
			return 1;
		uint32_t now = inl(PM_TIMER) & 0xffffff;
		if (((now - start) & 0xffffff) > PM_TIMER_HZ / 2)
			break;
	}
	return 0;
}

static uint16_t avail_idx;

static void submit(uint32_t notify_addr)
{
	ring_desc[0] = (struct desc){ (uint32_t)entropy, sizeof(entropy), 2 /* WRITE */, 0 };
	ring_avail[2 + avail_idx % QSIZE] = 0;
	__asm__ volatile("" ::: "memory");
	ring_avail[1] = ++avail_idx;
	__asm__ volatile("lock orl $0, (%%esp)" ::: "memory");
	w16(notify_addr, 0);
}

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	(void)magic;
	(void)mbi;
	unsigned dev;
	for (dev = 0; dev < 32; dev++) {
		uint32_t id = cfg_read(dev, 0);
		if ((id & 0xffff) == VIRTIO_VENDOR &&
		    (id >> 16 == VIRTIO_RNG_MODERN || id >> 16 == VIRTIO_RNG_TRANSITIONAL))
			break;
	}
	if (dev == 32)
		test_fail("no virtio-rng-pci on bus 0");

	uint32_t common = 0, notify = 0, notify_mult = 0, table = 0, pba = 0;
	unsigned msix_cap = 0;
	for (unsigned c = cfg_read(dev, PCI_CAP_PTR) & 0xfc; c; c = cfg_read(dev, c + 1) & 0xfc) {
		unsigned id = cfg_read(dev, c) & 0xff;
		if (id == PCI_CAP_MSIX) {
			msix_cap = c;
			uint32_t t = cfg_read(dev, c + 4), p = cfg_read(dev, c + 8);
			table = bar_addr(dev, t & 7) + (t & ~7u);
			pba = bar_addr(dev, p & 7) + (p & ~7u);
		} else if (id == PCI_CAP_VENDOR) {
			/* Others (PCI_CFG) may name a legacy I/O BAR: not read. */
			unsigned type = cfg_read(dev, c + 3) & 0xff;
			if (type != VIRTIO_CAP_COMMON && type != VIRTIO_CAP_NOTIFY)
				continue;
			uint32_t at = bar_addr(dev, cfg_read(dev, c + 4) & 0xff) + cfg_read(dev, c + 8);
			if (type == VIRTIO_CAP_COMMON && !common)
				common = at;
			if (type == VIRTIO_CAP_NOTIFY && !notify) {
				notify = at;
				notify_mult = cfg_read(dev, c + 16);
			}
		}
	}
	if (!msix_cap || !common || !notify)
		test_fail("MSI-X or virtio capabilities missing");
	cfg_write16(dev, PCI_COMMAND, (uint16_t)(cfg_read(dev, PCI_COMMAND) | PCI_CMD_MEMORY |
						  PCI_CMD_MASTER));

	/* Only the MSI may interrupt: 8259s masked, LAPIC on, our IDT. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	idt_load();
	w32(LAPIC + LAPIC_SVR, 0x1ff);

	/* MSI-X on with vector 0 -> APIC 0, MSI_VECTOR, before the driver uses it. */
	w32(table + 0, LAPIC);
	w32(table + 4, 0);
	w32(table + 8, MSI_VECTOR);
	w32(table + 12, 0);
	cfg_write16(dev, msix_cap + 2, 0x8000);

	/* Virtio 1.x initialisation (spec 3.1.1), one queue, no features but VERSION_1. */
	w8(common + CC_STATUS, 0);
	for (int i = 0; i < 1000 && r8(common + CC_STATUS); i++)
		;
	w8(common + CC_STATUS, ST_ACK | ST_DRIVER);
	w32(common + CC_DFSELECT, 1);
	if (!(r32(common + CC_DF) & 1))
		test_fail("no VIRTIO_F_VERSION_1");
	w32(common + CC_GFSELECT, 0);
	w32(common + CC_GF, 0);
	w32(common + CC_GFSELECT, 1);
	w32(common + CC_GF, 1);
	w8(common + CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(r8(common + CC_STATUS) & ST_FEATURES_OK))
		test_fail("FEATURES_OK refused");
	w16(common + CC_MSIX, NO_VECTOR);
	w16(common + CC_Q_SELECT, 0);
	if (r16(common + CC_Q_SIZE) < QSIZE)
		test_fail("queue too small");
	w16(common + CC_Q_SIZE, QSIZE);
	w16(common + CC_Q_MSIX, 0);
	if (r16(common + CC_Q_MSIX) != 0)
		test_fail("queue vector 0 refused");
	w32(common + CC_Q_DESC, (uint32_t)ring_desc);
	w32(common + CC_Q_DESC + 4, 0);
	w32(common + CC_Q_AVAIL, (uint32_t)ring_avail);
	w32(common + CC_Q_AVAIL + 4, 0);
	w32(common + CC_Q_USED, (uint32_t)ring_used);
	w32(common + CC_Q_USED + 4, 0);
	uint32_t kick = notify + r16(common + CC_Q_NOFF) * notify_mult;
	w16(common + CC_Q_ENABLE, 1);
	w8(common + CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	__asm__ volatile("sti");

	/* 1: unmasked, the completion interrupts. */
	submit(kick);
	if (!wait_used(1))
		test_fail("request 1 not completed");
	if (!wait_for(&msi_count, 1))
		test_fail("no MSI-X interrupt for request 1");
	puts("msix: vector ");
	puthex(MSI_VECTOR);
	puts(" delivered, ");
	putdec(ring_used[2]); /* the first used element's len */
	puts(" bytes\n");

	/* 2: masked, the completion only sets the pending bit. */
	w32(table + 12, 1);
	submit(kick);
	if (!wait_used(2))
		test_fail("request 2 not completed");
	/* Time enough for a wrongly delivered interrupt to arrive. */
	wait_for(&msi_count, 2);
	if (msi_count != 1)
		test_fail("interrupt while masked");
	if (!(r32(pba) & 1))
		test_fail("pending bit not set while masked");
	puts("msix: masked, pending\n");

	/* Unmask: the pending message goes out and the bit clears. */
	w32(table + 12, 0);
	if (!wait_for(&msi_count, 2))
		test_fail("pending interrupt not delivered on unmask");
	if (r32(pba) & 1)
		test_fail("pending bit still set");
	if (other_count)
		test_fail("unexpected interrupt vector");
	puts("msix: unmasked, delivered\n");
	test_exit(0);
}
