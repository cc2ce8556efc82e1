/*
 * MSI routes for the KVM accelerator (accel.h, msi_route_*): each route is
 * a KVM_IRQ_ROUTING_MSI entry at a GSI above the IOAPIC's 24 pins, with an
 * eventfd bound to that GSI by KVM_IRQFD. A raise is a write of 1 to the
 * eventfd; the kernel delivers the message to the local APICs without an
 * ioctl, from whatever thread wrote.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so every commit sends the
 * entries KVM_CREATE_IRQCHIP installs by default first: GSI 0-15 on the
 * IOAPIC pin of the same number and on the 8259 (master for 0-7, slave for
 * 8-15, pin GSI mod 8), GSI 16-23 on the IOAPIC only. KVM_IRQ_LINE (board
 * INTx, ISA devices) and the in-kernel PIT's GSI 0 depend on them. Then
 * come the live routes. KVM re-reads the routing of assigned irqfds when
 * it changes, so an update is one commit and no re-assign.
 *
 * A removed route is deassigned and its eventfd closed, but its entry
 * stays in the kernel's table until the next commit: nothing can reach
 * that GSI any more, and committing on every removal would cost a
 * routing-table swap (an RCU grace period) per vector on teardown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "accel/kvm/kvm_int.h"
#include "util/log.h"

#define IOAPIC_PINS 24
#define PIC_PINS 16
#define DEFAULT_ENTRIES (IOAPIC_PINS + PIC_PINS)

static uint32_t route_gsi(unsigned i)
{
	return IOAPIC_PINS + i;
}

void kvm_msi_init(struct kvm_vm *k)
{
	pthread_mutex_init(&k->msi_lock, NULL);
}

void kvm_msi_probe(struct kvm_vm *k)
{
	int max = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	if (max <= DEFAULT_ENTRIES || ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0) {
		log_debug("kvm: no GSI routing or irqfd: MSIs by KVM_SIGNAL_MSI");
		return;
	}
	/* Both the entry count and every GSI must stay below the limit. */
	k->msi_max = (unsigned)max - DEFAULT_ENTRIES;
}

/* Sends the default entries and every live route. Under msi_lock. */
static int commit(struct kvm_vm *k)
{
	unsigned n = DEFAULT_ENTRIES;
	for (unsigned i = 0; i < k->nmsi; i++)
		n += k->msi[i].used;
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	struct kvm_irq_routing_entry *e = t->entries;
	for (uint32_t gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		*e++ = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
		};
		if (gsi < PIC_PINS)
			*e++ = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					.pin = gsi % 8,
				},
			};
	}
	for (unsigned i = 0; i < k->nmsi; i++) {
		const struct kvm_msi_route *r = &k->msi[i];
		if (!r->used)
			continue;
		*e++ = (struct kvm_irq_routing_entry){
			.gsi = route_gsi(i), .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = {
				.address_lo = (uint32_t)r->addr, .address_hi = (uint32_t)(r->addr >> 32),
				.data = r->data,
			},
		};
	}
	t->nr = n;
	int ret = ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, t) < 0 ? -errno : 0;
	free(t);
	if (ret)
		log_warn("KVM_SET_GSI_ROUTING (%u entries): %s", n, strerror(-ret));
	return ret;
}

static int irqfd(struct kvm_vm *k, unsigned i, bool assign)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)k->msi[i].fd,
		.gsi = route_gsi(i),
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};
	return ioctl(k->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

/* A free slot, growing the array as needed; -ENOSPC past the GSI limit. */
static int free_slot(struct kvm_vm *k)
{
	for (unsigned i = 0; i < k->nmsi; i++)
		if (!k->msi[i].used)
			return (int)i;
	if (k->nmsi >= k->msi_max)
		return -ENOSPC;
	unsigned n = k->nmsi ? k->nmsi * 2 : 16;
	if (n > k->msi_max)
		n = k->msi_max;
	struct kvm_msi_route *grown = realloc(k->msi, n * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	memset(&grown[k->nmsi], 0, (n - k->nmsi) * sizeof(*grown));
	int i = (int)k->nmsi;
	k->msi = grown;
	k->nmsi = n;
	return i;
}

int kvm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_vm *k = kvm_of(vm);
	if (!k || !k->msi_max)
		return -ENOTSUP;
	pthread_mutex_lock(&k->msi_lock);
	int i = free_slot(k);
	if (i < 0)
		goto out;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		i = -errno;
		goto out;
	}
	struct kvm_msi_route *r = &k->msi[i];
	*r = (struct kvm_msi_route){ .used = true, .fd = fd, .addr = addr, .data = data };
	int ret = commit(k);
	if (!ret) {
		ret = irqfd(k, (unsigned)i, true);
		if (ret)
			log_warn("KVM_IRQFD gsi %u: %s", route_gsi((unsigned)i), strerror(-ret));
	}
	if (ret) {
		/* The entry, if committed, is unreachable without the irqfd. */
		r->used = false;
		close(fd);
		i = ret;
	}
out:
	pthread_mutex_unlock(&k->msi_lock);
	return i;
}

static bool live(const struct kvm_vm *k, int route)
{
	return k && route >= 0 && (unsigned)route < k->nmsi && k->msi[route].used;
}

int kvm_msi_route_update(struct vm *vm, int route, uint64_t addr, uint32_t data)
{
	struct kvm_vm *k = kvm_of(vm);
	if (!k)
		return -EINVAL;
	pthread_mutex_lock(&k->msi_lock);
	int ret = -EINVAL;
	if (live(k, route)) {
		struct kvm_msi_route *r = &k->msi[route], old = *r;
		r->addr = addr, r->data = data;
		ret = commit(k);
		if (ret)
			*r = old; /* the kernel kept the old table */
	}
	pthread_mutex_unlock(&k->msi_lock);
	return ret;
}

void kvm_msi_route_raise(struct vm *vm, int route)
{
	struct kvm_vm *k = kvm_of(vm);
	if (!k)
		return;
	/* Under the lock so that a concurrent remove cannot close the fd under us. */
	pthread_mutex_lock(&k->msi_lock);
	if (live(k, route)) {
		uint64_t one = 1;
		/* EAGAIN only if 2^64-2 raises went unconsumed: the message is pending anyway. */
		if (write(k->msi[route].fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("irqfd gsi %u: %s", route_gsi((unsigned)route), strerror(errno));
	}
	pthread_mutex_unlock(&k->msi_lock);
}

void kvm_msi_route_remove(struct vm *vm, int route)
{
	struct kvm_vm *k = kvm_of(vm);
	if (!k)
		return;
	pthread_mutex_lock(&k->msi_lock);
	if (live(k, route)) {
		int ret = irqfd(k, (unsigned)route, false);
		if (ret)
			log_warn("KVM_IRQFD deassign gsi %u: %s", route_gsi((unsigned)route),
				 strerror(-ret));
		close(k->msi[route].fd);
		k->msi[route].used = false;
	}
	pthread_mutex_unlock(&k->msi_lock);
}

/* After the VM fd is closed, which drops every irqfd. */
void kvm_msi_destroy(struct kvm_vm *k)
{
	for (unsigned i = 0; i < k->nmsi; i++)
		if (k->msi[i].used)
			close(k->msi[i].fd);
	free(k->msi);
	k->msi = NULL;
	k->nmsi = 0;
	pthread_mutex_destroy(&k->msi_lock);
}
