/*
 * fw_cfg, traditional I/O-port interface only: a 16-bit write to 0x510
 * selects an item and rewinds it, byte reads from 0x511 stream it out,
 * and reads past the end (or of an unknown item) return 0. FW_CFG_ID
 * says 1 (no DMA), so no guest address is ever dereferenced here.
 *
 * The device only stores what the board gives it. Keys below
 * FW_CFG_FILE_FIRST are fixed items; named files take the following keys
 * in the order they are added, and FW_CFG_FILE_DIR, listing them sorted
 * by name in big-endian, is rebuilt on every addition. Items must be
 * added before the vCPUs run (or with vm->io_lock held).
 */
#include "hw/fw_cfg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FW_CFG_NPORTS 2
#define FW_CFG_SEL_OFFSET 0
#define FW_CFG_DATA_OFFSET 1

#define FW_CFG_ARCH_LOCAL 0x8000 /* arch-specific items: none are provided */
/* Drops bit 14, the write channel: it names the same item, and writes are
 * ignored anyway. */
#define FW_CFG_KEY_MASK 0x3fff

#define FW_CFG_NAME_LEN 56
#define FW_CFG_DIR_ENTRY_SIZE (4 + 2 + 2 + FW_CFG_NAME_LEN)
#define FW_CFG_MAX_FILES (FW_CFG_KEY_MASK + 1 - FW_CFG_FILE_FIRST)

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg_file {
	struct fw_cfg_item item;
	uint16_t key;
	char name[FW_CFG_NAME_LEN];
};

struct fw_cfg {
	struct vm *vm;
	struct fw_cfg_item fixed[FW_CFG_FILE_FIRST];
	struct fw_cfg_file *files; /* in key order */
	unsigned nfiles, cap;
	uint16_t selector;
	uint32_t offset;
};

static const struct fw_cfg_item *fw_cfg_lookup(const struct fw_cfg *f, uint16_t selector)
{
	if (selector & FW_CFG_ARCH_LOCAL)
		return NULL;
	unsigned key = selector & FW_CFG_KEY_MASK;
	if (key < FW_CFG_FILE_FIRST)
		return &f->fixed[key];
	if (key - FW_CFG_FILE_FIRST < f->nfiles)
		return &f->files[key - FW_CFG_FILE_FIRST].item;
	return NULL;
}

static uint8_t fw_cfg_read_data(struct fw_cfg *f)
{
	const struct fw_cfg_item *it = fw_cfg_lookup(f, f->selector);
	if (!it || f->offset >= it->len)
		return 0;
	return it->data[f->offset++];
}

static uint64_t fw_cfg_io_read(void *opaque, uint64_t offset, unsigned size)
{
	if (offset == FW_CFG_DATA_OFFSET && size == 1)
		return fw_cfg_read_data(opaque);
	return 0;
}

static void fw_cfg_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct fw_cfg *f = opaque;
	/* Data-port writes are the legacy write path, which is read-only here. */
	if (offset == FW_CFG_SEL_OFFSET && size == 2) {
		f->selector = (uint16_t)value;
		f->offset = 0;
	}
}

static const struct bus_ops fw_cfg_ops = {
	.read = fw_cfg_io_read,
	.write = fw_cfg_io_write,
};

static int fw_cfg_set_item(struct fw_cfg_item *it, const void *data, size_t len)
{
	if (len > UINT32_MAX)
		return -EFBIG; /* the directory records sizes in 32 bits */
	uint8_t *copy = NULL;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	free(it->data);
	it->data = copy;
	it->len = (uint32_t)len;
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int fw_cfg_file_cmp(const void *a, const void *b)
{
	const struct fw_cfg_file *const *fa = a, *const *fb = b;
	return strcmp((*fa)->name, (*fb)->name);
}

/* Firmware looks files up by name, so the directory is sorted by name. */
static int fw_cfg_rebuild_dir(struct fw_cfg *f)
{
	size_t len = 4 + (size_t)f->nfiles * FW_CFG_DIR_ENTRY_SIZE;
	uint8_t *dir = calloc(1, len);
	const struct fw_cfg_file **sorted = calloc(f->nfiles ? f->nfiles : 1, sizeof(*sorted));
	if (!dir || !sorted) {
		free(dir);
		free(sorted);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < f->nfiles; i++)
		sorted[i] = &f->files[i];
	qsort(sorted, f->nfiles, sizeof(*sorted), fw_cfg_file_cmp);
	put_be32(dir, f->nfiles);
	for (unsigned i = 0; i < f->nfiles; i++) {
		uint8_t *e = dir + 4 + (size_t)i * FW_CFG_DIR_ENTRY_SIZE;
		put_be32(e, sorted[i]->item.len);
		put_be16(e + 4, sorted[i]->key);
		/* e + 6: two reserved bytes, already zero */
		memcpy(e + 8, sorted[i]->name, FW_CFG_NAME_LEN);
	}
	free(sorted);
	struct fw_cfg_item *it = &f->fixed[FW_CFG_FILE_DIR];
	free(it->data);
	it->data = dir;
	it->len = (uint32_t)len;
	return 0;
}

int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
	/* The directory is derived from the files and never set directly. */
	if (key >= FW_CFG_FILE_FIRST || key == FW_CFG_FILE_DIR || (len && !data))
		return -EINVAL;
	return fw_cfg_set_item(&f->fixed[key], data, len);
}

int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
	uint8_t b[4];
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len)
{
	size_t nlen = name ? strlen(name) : 0;
	if (!nlen || nlen >= FW_CFG_NAME_LEN || (len && !data))
		return -EINVAL;
	for (unsigned i = 0; i < f->nfiles; i++)
		if (!strcmp(f->files[i].name, name))
			return -EEXIST;
	if (f->nfiles >= FW_CFG_MAX_FILES)
		return -ENOSPC;
	if (f->nfiles == f->cap) {
		unsigned cap = f->cap ? f->cap * 2 : 16;
		struct fw_cfg_file *n = realloc(f->files, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		f->files = n;
		f->cap = cap;
	}
	struct fw_cfg_file *file = &f->files[f->nfiles];
	memset(file, 0, sizeof(*file));
	int r = fw_cfg_set_item(&file->item, data, len);
	if (r)
		return r;
	memcpy(file->name, name, nlen);
	file->key = (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles);
	f->nfiles++;
	r = fw_cfg_rebuild_dir(f);
	if (r) {
		f->nfiles--;
		free(file->item.data);
		return r;
	}
	return 0;
}

struct fw_cfg *fw_cfg_create(struct vm *vm, struct error *e)
{
	struct fw_cfg *f = calloc(1, sizeof(*f));
	if (!f) {
		error_set(e, -ENOMEM, "fw_cfg: out of memory");
		return NULL;
	}
	int r = fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
	if (!r)
		r = fw_cfg_add_u32(f, FW_CFG_ID, 1); /* traditional interface, no DMA */
	if (!r)
		r = fw_cfg_rebuild_dir(f);
	if (r) {
		error_set(e, r, "fw_cfg: out of memory");
		fw_cfg_destroy(f);
		return NULL;
	}
	r = bus_register(&vm->pio, FW_CFG_PORT_SEL, FW_CFG_NPORTS, &fw_cfg_ops, f, "fw_cfg");
	if (r) {
		error_set(e, r, "fw_cfg: cannot claim ports 0x%x-0x%x", FW_CFG_PORT_SEL,
			  FW_CFG_PORT_SEL + FW_CFG_NPORTS - 1);
		fw_cfg_destroy(f);
		return NULL;
	}
	f->vm = vm; /* only now is there a registration for destroy to undo */
	return f;
}

void fw_cfg_destroy(struct fw_cfg *f)
{
	if (!f)
		return;
	if (f->vm)
		bus_unregister(&f->vm->pio, FW_CFG_PORT_SEL);
	for (unsigned i = 0; i < FW_CFG_FILE_FIRST; i++)
		free(f->fixed[i].data);
	for (unsigned i = 0; i < f->nfiles; i++)
		free(f->files[i].item.data);
	free(f->files);
	free(f);
}
