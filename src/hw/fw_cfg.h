/*
 * QEMU's firmware configuration interface, I/O-port flavour: selector at
 * 0x510 (16-bit), data at 0x511 (8-bit), DMA address at 0x514 (optional).
 * Items: signature "QEMU", ID, NB_CPUS, RAM_SIZE, the file directory, and
 * named files added by the board.
 */
#ifndef KEMU_HW_FW_CFG_H
#define KEMU_HW_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "core/vm.h"
#include "util/error.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20

struct fw_cfg;

struct fw_cfg *fw_cfg_create(struct vm *vm, struct error *e);
void fw_cfg_destroy(struct fw_cfg *f);
/* Copies data. Keys below FW_CFG_FILE_FIRST. */
int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, size_t len);
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v);
/* Adds a named file (name up to 55 chars) at the next free key. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len);

#endif
