/*
 * The virtio-pci transport, modern interface only (virtio 1.2 section
 * 4.1): a PCI function with vendor 0x1af4, device 0x1040 + device id, and
 * its registers in memory BARs found through vendor capabilities.
 *
 *   BAR 4 (16 KiB)  0x0000 common configuration   (cfg_type 1)
 *                   0x1000 ISR status             (cfg_type 3)
 *                   0x2000 device configuration   (cfg_type 4, if any)
 *                   0x3000 notifications          (cfg_type 2, 4 bytes per queue)
 *   BAR 1 (4 KiB)   0x0000 MSI-X table, 0x0800 MSI-X PBA
 *   config space    PCI_CFG access window         (cfg_type 5)
 *
 * Interrupts: with MSI-X enabled each queue (and the configuration change)
 * sends the message of the vector the driver assigned it; otherwise the
 * ISR bits are set and INTA is asserted until the driver reads ISR. Queue
 * kicks are writes to the notification region; where the accelerator can
 * (KVM), each queue's notify address also gets an ioeventfd served on the
 * event loop, so a kick needs no exit to user space.
 */
#ifndef KEMU_HW_VIRTIO_VIRTIO_PCI_H
#define KEMU_HW_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"
#include "util/error.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device id, for modern devices */
#define VIRTIO_PCI_SUBSYSTEM_ID 0x40  /* >= 0x40 says "not transitional" */

/* Where the transport lives in the function's BARs. */
#define VIRTIO_PCI_BAR 4
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_ISR_OFFSET 0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_REGION_SIZE 0x1000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_MSIX_TABLE 0x0000
#define VIRTIO_PCI_MSIX_PBA 0x0800
/* The board reserves this much at a 16 KiB-aligned address per device. */
#define VIRTIO_PCI_MMIO_SIZE (VIRTIO_PCI_BAR_SIZE + VIRTIO_PCI_MSIX_BAR_SIZE)

/* struct virtio_pci_cap (16 bytes, +4 for notify, +4 for pci_cfg). */
#define VIRTIO_PCI_CAP_LEN 2
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_ID 5
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_CAP_NOTIFY_MULT 16
#define VIRTIO_PCI_CAP_PCI_CFG_DATA 16

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* struct virtio_pci_common_cfg. */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_SIZE 0x38

struct virtio_pci_options {
	int slot;            /* PCI slot on bus 0, -1 for the first free one */
	/* BAR 4 at mmio_base, BAR 1 at mmio_base + VIRTIO_PCI_BAR_SIZE:
	 * VIRTIO_PCI_MMIO_SIZE bytes, 16 KiB aligned, in the PCI window. */
	uint64_t mmio_base;
	/* The accelerator's accel_ops.ioeventfd, or NULL. */
	int (*ioeventfd)(struct vm *vm, bool mmio, uint64_t addr, unsigned len, int fd, bool assign);
};

/*
 * Puts vd (initialised by its device) on bus as a virtio-pci function and
 * makes itself vd's transport. vd must outlive the transport.
 */
int virtio_pci_create(struct vm *vm, struct pci_bus *bus, struct virtio_device *vd,
		      const struct virtio_pci_options *o, struct error *e);
/* Takes the function off the bus and frees the transport (before vd goes). */
void virtio_pci_destroy(struct virtio_device *vd);
/* The transport's PCI function, for tests and the board's messages. */
struct pci_device *virtio_pci_device(struct virtio_device *vd);

#endif
