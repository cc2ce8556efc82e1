/*
 * virtio-blk (virtio 1.2 section 5.2): a disk image as a virtio block
 * device with one request queue. The image is opened (and locked) through
 * block/block.h; requests run asynchronously through block/aio.h, off the
 * vCPU threads, and complete on the VM's event loop.
 */
#ifndef KEMU_HW_VIRTIO_VIRTIO_BLK_H
#define KEMU_HW_VIRTIO_VIRTIO_BLK_H

#include "config.h"
#include "core/vm.h"
#include "hw/virtio/virtio.h"
#include "util/error.h"

/* Feature bits (section 5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types (section 5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_GET_LIFETIME 10
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_SECURE_ERASE 14

/* Status byte values. */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* Discard / write-zeroes segment flags. */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

#define VIRTIO_BLK_ID_BYTES 20

/* Layout of the configuration space the device exposes (little-endian). */
struct virtio_blk_config {
	uint64_t capacity;          /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

/*
 * Opens drive->path (read-only if drive->readonly) and builds the device.
 * serial: what GET_ID returns (up to 20 bytes); NULL or "" for a default
 * derived from the image's file name. Errors name the image.
 */
struct virtio_device *virtio_blk_create(struct vm *vm, const struct drive_config *drive,
					const char *serial, struct error *e);
/* Waits for in-flight I/O, closes the image (releasing its lock), frees.
 * Call it while the event loop is not running. */
void virtio_blk_destroy(struct virtio_device *vd);

#endif
