/*
 * MSI-X delivery through accelerator MSI routes (accel_ops.msi_route_*,
 * the shape of KVM's GSI routing plus irqfds), against a fake accelerator
 * that records routes and raises: when a vector gets a route, that masks
 * (per vector and function-wide) turn raises into pending bits and unmask
 * delivers them through the route, that a message rewritten while masked
 * reaches the route on unmask and one rewritten unmasked at once, that
 * disable, reset and destroy release routes, and the fallbacks to
 * send_msi (no route op, a refused route, a message outside the MSI
 * window, the board's own msi_sink).
 */
#include <errno.h>

#include "accel/accel.h"
#include "msix_guest.h"

#define NROUTES 8

static struct {
	bool used;
	uint64_t addr;
	uint32_t data;
	int raised;
} route[NROUTES];
static int adds, updates, removes, live_routes, add_error;
static int sent;
static uint64_t sent_addr;
static uint32_t sent_data;

static int fake_add(struct vm *vm, uint64_t addr, uint32_t data)
{
	(void)vm;
	adds++;
	if (add_error)
		return add_error;
	for (int i = 0; i < NROUTES; i++) {
		if (!route[i].used) {
			route[i].used = true, route[i].addr = addr, route[i].data = data;
			route[i].raised = 0;
			live_routes++;
			return i;
		}
	}
	return -ENOSPC;
}

static int fake_update(struct vm *vm, int r, uint64_t addr, uint32_t data)
{
	(void)vm;
	CHECK(r >= 0 && r < NROUTES && route[r].used);
	updates++;
	route[r].addr = addr, route[r].data = data;
	return 0;
}

static void fake_raise(struct vm *vm, int r)
{
	(void)vm;
	CHECK(r >= 0 && r < NROUTES && route[r].used);
	route[r].raised++;
}

static void fake_remove(struct vm *vm, int r)
{
	(void)vm;
	CHECK(r >= 0 && r < NROUTES && route[r].used);
	route[r].used = false;
	removes++;
	live_routes--;
}

static void fake_send(struct vm *vm, uint64_t addr, uint32_t data)
{
	(void)vm;
	sent++;
	sent_addr = addr, sent_data = data;
}

static void sink_msi(void *opaque, uint64_t addr, uint32_t data)
{
	fake_send(opaque, addr, data);
}

static const struct accel_ops fake_routes = {
	.name = "fake-routes", .has_irqchip = true, .send_msi = fake_send,
	.msi_route_add = fake_add, .msi_route_update = fake_update,
	.msi_route_raise = fake_raise, .msi_route_remove = fake_remove,
};
static const struct accel_ops fake_plain = {
	.name = "fake-plain", .has_irqchip = true, .send_msi = fake_send,
};

static struct vm vm;

static void reset_counts(void)
{
	for (int i = 0; i < NROUTES; i++)
		route[i].used = false;
	adds = updates = removes = live_routes = add_error = sent = 0;
}

/* The route the single live one is; -1 if none or several. */
static int only_route(void)
{
	int found = -1;
	for (int i = 0; i < NROUTES; i++) {
		if (!route[i].used)
			continue;
		if (found >= 0)
			return -1;
		found = i;
	}
	return found;
}

static void test_route_lifecycle(void)
{
	struct pci_device d = { .name = "msix-routes" };
	reset_counts();
	vm.accel = &fake_routes;
	unsigned cap = mg_init(&d, &vm, 4);
	CHECK(cap != 0);

	/* Programmed while masked and disabled: nothing is set up yet. */
	mg_message(&d, 0, 0xfee00000, 0x41);
	mg_message(&d, 1, 0xfee01000, 0x42);
	mg_control(&d, cap, MG_ENABLE);
	CHECK_EQ(adds, 0);
	/* Unmasking makes vector 0 deliverable: it gets a route with its message. */
	mg_mask(&d, 0, false);
	CHECK_EQ(adds, 1);
	int r0 = only_route();
	CHECK(r0 >= 0);
	CHECK_EQ(route[r0].addr, 0xfee00000);
	CHECK_EQ(route[r0].data, 0x41);
	pci_msix_notify(&d, 0);
	CHECK_EQ(route[r0].raised, 1);
	CHECK_EQ(sent, 0); /* no KVM_SIGNAL_MSI-style send */
	CHECK(!mg_pending(&d, 0));

	/* Per-vector mask: the raise becomes a pending bit, the route stays. */
	mg_mask(&d, 0, true);
	pci_msix_notify(&d, 0);
	pci_msix_notify(&d, 0);
	CHECK_EQ(route[r0].raised, 1);
	CHECK(mg_pending(&d, 0));
	CHECK_EQ(removes, 0);
	CHECK_EQ(updates, 0);
	/* Unmask: one message for what was pending, bit cleared, no ioctl-ish calls. */
	mg_mask(&d, 0, false);
	CHECK_EQ(route[r0].raised, 2);
	CHECK(!mg_pending(&d, 0));
	CHECK_EQ(adds, 1);
	CHECK_EQ(updates, 0);

	/* Function mask: the same through Message Control. */
	mg_control(&d, cap, MG_ENABLE | MG_MASKALL);
	pci_msix_notify(&d, 0);
	CHECK_EQ(route[r0].raised, 2);
	CHECK(mg_pending(&d, 0));
	mg_control(&d, cap, MG_ENABLE);
	CHECK_EQ(route[r0].raised, 3);
	CHECK(!mg_pending(&d, 0));

	/* Rewritten while masked (how drivers move a vector): no update until
	 * unmask, then exactly one, before the pending message goes out. */
	mg_mask(&d, 0, true);
	mg_message(&d, 0, 0xfee02000, 0x51);
	CHECK_EQ(updates, 0);
	pci_msix_notify(&d, 0);
	mg_mask(&d, 0, false);
	CHECK_EQ(updates, 1);
	CHECK_EQ(route[r0].addr, 0xfee02000);
	CHECK_EQ(route[r0].data, 0x51);
	CHECK_EQ(route[r0].raised, 4);
	/* Rewritten while unmasked: the route follows each write. */
	mg_entry_write(&d, 0, 2, 0x52);
	CHECK_EQ(updates, 2);
	CHECK_EQ(route[r0].data, 0x52);
	mg_entry_write(&d, 0, 2, 0x52); /* unchanged: no update */
	CHECK_EQ(updates, 2);

	/* A message outside the MSI window loses its route; send_msi carries it. */
	mg_entry_write(&d, 0, 0, 0);
	CHECK_EQ(removes, 1);
	CHECK_EQ(live_routes, 0);
	pci_msix_notify(&d, 0);
	CHECK_EQ(sent, 1);
	CHECK_EQ(sent_addr, 0);
	CHECK_EQ(sent_data, 0x52);
	mg_entry_write(&d, 0, 0, 0xfee00000);
	CHECK_EQ(adds, 2);
	CHECK_EQ(live_routes, 1);

	/* Vector 1 still masked: no route. Disabling MSI-X releases all. */
	mg_mask(&d, 1, false);
	CHECK_EQ(live_routes, 2);
	mg_control(&d, cap, 0);
	CHECK_EQ(live_routes, 0);
	pci_msix_notify(&d, 1); /* disabled: nothing at all */
	CHECK_EQ(sent, 1);
	/* Re-enabling brings them back; reset and destroy release them. */
	mg_control(&d, cap, MG_ENABLE);
	CHECK_EQ(live_routes, 2);
	pci_msix_reset(&d);
	CHECK_EQ(live_routes, 0);
	mg_message(&d, 2, 0xfee00000, 0x60);
	mg_control(&d, cap, MG_ENABLE);
	mg_mask(&d, 2, false);
	CHECK_EQ(live_routes, 1);
	pci_msix_destroy(&d);
	CHECK_EQ(live_routes, 0);
	CHECK_EQ(d.bar[MG_BAR].nregions, 2);
	vm.accel = NULL;
}

/* Enabled with the function masked, then vectors unmasked, then the function. */
static void test_function_mask_first(void)
{
	struct pci_device d = { .name = "msix-maskall" };
	reset_counts();
	vm.accel = &fake_routes;
	unsigned cap = mg_init(&d, &vm, 2);
	mg_control(&d, cap, MG_ENABLE | MG_MASKALL);
	mg_message(&d, 0, 0xfee00000, 0x70);
	mg_mask(&d, 0, false);
	CHECK_EQ(adds, 0); /* the function mask still holds it */
	pci_msix_notify(&d, 0);
	CHECK(mg_pending(&d, 0));
	mg_control(&d, cap, MG_ENABLE);
	int r = only_route();
	CHECK(r >= 0);
	CHECK_EQ(route[r >= 0 ? r : 0].raised, 1);
	CHECK(!mg_pending(&d, 0));
	pci_msix_destroy(&d);
	CHECK_EQ(live_routes, 0);
	vm.accel = NULL;
}

/* Routes refused or absent: every message through send_msi, unchanged. */
static void test_fallbacks(void)
{
	struct pci_device d = { .name = "msix-fallback" };
	reset_counts();
	vm.accel = &fake_routes;
	add_error = -ENOSPC; /* e.g. out of GSIs: this vector only */
	unsigned cap = mg_init(&d, &vm, 2);
	mg_message(&d, 0, 0xfee00000, 0x80);
	mg_message(&d, 1, 0xfee00000, 0x81);
	mg_control(&d, cap, MG_ENABLE);
	mg_mask(&d, 0, false);
	CHECK_EQ(adds, 1);
	pci_msix_notify(&d, 0);
	CHECK_EQ(sent, 1);
	CHECK_EQ(sent_data, 0x80);
	add_error = 0; /* asked again on the next chance */
	mg_mask(&d, 1, false);
	CHECK_EQ(adds, 2);
	pci_msix_notify(&d, 1);
	CHECK_EQ(sent, 1);
	pci_msix_destroy(&d);

	/* -ENOTSUP: the VM has no routes; the device stops asking. */
	reset_counts();
	add_error = -ENOTSUP;
	cap = mg_init(&d, &vm, 2);
	mg_message(&d, 0, 0xfee00000, 0x90);
	mg_message(&d, 1, 0xfee00000, 0x91);
	mg_control(&d, cap, MG_ENABLE);
	mg_mask(&d, 0, false);
	mg_mask(&d, 1, false);
	CHECK_EQ(adds, 1);
	pci_msix_notify(&d, 1);
	CHECK_EQ(sent, 1);
	CHECK_EQ(sent_data, 0x91);
	pci_msix_destroy(&d);

	/* An accelerator without the ops (the vm layer answers -ENOTSUP). */
	reset_counts();
	vm.accel = &fake_plain;
	cap = mg_init(&d, &vm, 1);
	mg_message(&d, 0, 0xfee00000, 0xa0);
	mg_control(&d, cap, MG_ENABLE);
	mg_mask(&d, 0, true);
	pci_msix_notify(&d, 0);
	CHECK_EQ(sent, 0);
	CHECK(mg_pending(&d, 0));
	mg_mask(&d, 0, false);
	CHECK_EQ(sent, 1);
	CHECK_EQ(sent_data, 0xa0);
	pci_msix_destroy(&d);

	/* The board's own interrupt controllers (msi_sink) bypass the routes. */
	reset_counts();
	vm.accel = &fake_routes;
	vm.msi_sink = sink_msi;
	cap = mg_init(&d, &vm, 1);
	mg_message(&d, 0, 0xfee00000, 0xb0);
	mg_control(&d, cap, MG_ENABLE);
	mg_mask(&d, 0, false);
	CHECK_EQ(adds, 0);
	pci_msix_notify(&d, 0);
	CHECK_EQ(sent, 1);
	pci_msix_destroy(&d);
	vm.msi_sink = NULL;
	vm.accel = NULL;
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 1), 0);
	test_route_lifecycle();
	test_function_mask_first();
	test_fallbacks();
	vm_destroy(&vm);
	return test_exit();
}
