/*
 * virtio-console (virtio 1.2 section 5.3), what the guest knows as
 * virtio-serial with virtconsole ports: each port is a console (hvcN in a
 * Linux guest) joined to one chardev. One port is the plain device
 * (receiveq 0, transmitq 1); with more, the device offers
 * VIRTIO_CONSOLE_F_MULTIPORT and announces the ports over its control
 * queues (as it does with none).
 */
#ifndef KEMU_HW_VIRTIO_VIRTIO_CONSOLE_H
#define KEMU_HW_VIRTIO_VIRTIO_CONSOLE_H

#include "core/chardev.h"
#include "core/vm.h"
#include "hw/virtio/virtio.h"
#include "util/error.h"

/* Two queues per port plus the two control queues must fit the device. */
#define VIRTIO_CONSOLE_MAX_PORTS (VIRTIO_MAX_QUEUES / 2 - 1)

/* Feature bits. */
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Control messages (struct virtio_console_control: le32 id, le16 event, le16 value). */
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_DEVICE_ADD 1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY 3
#define VIRTIO_CONSOLE_CONSOLE_PORT 4
#define VIRTIO_CONSOLE_RESIZE 5
#define VIRTIO_CONSOLE_PORT_OPEN 6
#define VIRTIO_CONSOLE_PORT_NAME 7

/*
 * ports[0..nports) become console ports 0..nports-1; each is attached
 * (chardev_attach) to receive input under vm->io_lock. The chardevs must
 * outlive the device. nports may be 0: a virtio-serial device with no
 * ports (MULTIPORT, announcing none), as QEMU allows.
 */
struct virtio_device *virtio_console_create(struct vm *vm, struct chardev **ports, int nports,
					    struct error *e);
void virtio_console_destroy(struct virtio_device *vd);

#endif
