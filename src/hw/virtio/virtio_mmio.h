/*
 * The virtio-mmio transport, version 2 (virtio 1.2 section 4.2): one
 * 0x200-byte register window per device and one level-triggered
 * interrupt line. Used on microvm, where there is no PCI; the guest finds
 * the devices through the DSDT (_HID "LNRO0005", see hw/acpi) or through
 * virtio_mmio.device= on the kernel command line.
 */
#ifndef KEMU_HW_VIRTIO_VIRTIO_MMIO_H
#define KEMU_HW_VIRTIO_VIRTIO_MMIO_H

#include <stdint.h>

#include "core/vm.h"
#include "hw/virtio/virtio.h"
#include "util/error.h"

#define VIRTIO_MMIO_SIZE 0x200

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_MMIO_VERSION 2
#define VIRTIO_MMIO_VENDOR 0x554d4551 /* "QEMU": what guests expect of a VMM */

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION_REG 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

/*
 * Exposes vd at [base, base+VIRTIO_MMIO_SIZE) on vm->mmio with its
 * interrupt on vm_irq_line(vm, gsi). vd must outlive the registration.
 */
int virtio_mmio_create(struct vm *vm, struct virtio_device *vd, uint64_t base, unsigned gsi,
		       struct error *e);
/* Unregisters the window and frees the transport state (before vd goes). */
void virtio_mmio_destroy(struct virtio_device *vd);

#endif
