/*
 * fw_cfg over I/O ports: fixed items in little-endian, the file directory
 * in big-endian sorted by name, and zeros past the end or for unknown keys.
 */
#include <errno.h>

#include "core/vm.h"
#include "hw/fw_cfg.h"
#include "test.h"

static struct vm vm;

static void select_key(uint16_t key)
{
	CHECK(bus_write(&vm.pio, FW_CFG_PORT_SEL, &key, 2));
}

static void read_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < n; i++)
		CHECK(bus_read(&vm.pio, FW_CFG_PORT_SEL + 1, &p[i], 1));
}

static uint8_t read_byte(void)
{
	uint8_t b;
	read_bytes(&b, 1);
	return b;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(void)
{
	CHECK_EQ(vm_init(&vm, 2), 0);
	struct error e;
	struct fw_cfg *f = fw_cfg_create(&vm, &e);
	CHECK(f != NULL);
	if (!f)
		return test_exit();

	uint8_t buf[64];
	select_key(FW_CFG_SIGNATURE);
	read_bytes(buf, 5);
	CHECK(!memcmp(buf, "QEMU", 4));
	CHECK_EQ(buf[4], 0); /* past the end */
	CHECK_EQ(read_byte(), 0);

	/* Reselecting rewinds; a byte write to the selector does not select. */
	select_key(FW_CFG_SIGNATURE);
	CHECK_EQ(read_byte(), 'Q');
	uint8_t one = FW_CFG_ID;
	CHECK(bus_write(&vm.pio, FW_CFG_PORT_SEL, &one, 1));
	CHECK_EQ(read_byte(), 'E');

	select_key(FW_CFG_ID);
	read_bytes(buf, 4);
	CHECK_EQ(buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24, 1);

	CHECK_EQ(fw_cfg_add_u16(f, FW_CFG_NB_CPUS, 0x1234), 0);
	CHECK_EQ(fw_cfg_add_u32(f, 0x10, 0xa1b2c3d4), 0);
	CHECK_EQ(fw_cfg_add_u64(f, FW_CFG_RAM_SIZE, 0x1122334455667788ULL), 0);
	select_key(FW_CFG_NB_CPUS);
	read_bytes(buf, 3);
	CHECK_EQ(buf[0], 0x34);
	CHECK_EQ(buf[1], 0x12);
	CHECK_EQ(buf[2], 0);
	select_key(0x10);
	read_bytes(buf, 4);
	CHECK(!memcmp(buf, "\xd4\xc3\xb2\xa1", 4));
	select_key(FW_CFG_RAM_SIZE);
	read_bytes(buf, 8);
	CHECK(!memcmp(buf, "\x88\x77\x66\x55\x44\x33\x22\x11", 8));
	/* The write channel bit names the same item. */
	select_key(0x4000 | FW_CFG_RAM_SIZE);
	CHECK_EQ(read_byte(), 0x88);

	/* Unknown and arch-local selectors read as zeros. */
	select_key(0x0200);
	CHECK_EQ(read_byte(), 0);
	select_key(0x8000);
	CHECK_EQ(read_byte(), 0);
	select_key(0xffff);
	CHECK_EQ(read_byte(), 0);

	/* The directory starts empty. */
	select_key(FW_CFG_FILE_DIR);
	read_bytes(buf, 4);
	CHECK_EQ(be32(buf), 0);

	CHECK_EQ(fw_cfg_add_file(f, "etc/zeta", "zzz", 3), 0);
	CHECK_EQ(fw_cfg_add_file(f, "etc/alpha", "aaaaa", 5), 0);
	CHECK_EQ(fw_cfg_add_file(f, "bootorder", "", 0), 0);
	CHECK_EQ(fw_cfg_add_file(f, "etc/alpha", "x", 1), -EEXIST);
	CHECK_EQ(fw_cfg_add_file(f, "", "x", 1), -EINVAL);
	char longname[57];
	memset(longname, 'n', 56);
	longname[56] = 0;
	CHECK_EQ(fw_cfg_add_file(f, longname, "x", 1), -EINVAL);
	longname[55] = 0; /* 55 characters fit, with the terminator */
	CHECK_EQ(fw_cfg_add_file(f, longname, "x", 1), 0);
	CHECK_EQ(fw_cfg_add_bytes(f, FW_CFG_FILE_DIR, "x", 1), -EINVAL);
	CHECK_EQ(fw_cfg_add_bytes(f, FW_CFG_FILE_FIRST, "x", 1), -EINVAL);

	static const struct {
		const char *name;
		uint32_t size;
		uint16_t key;
	} want[] = {
		{ "bootorder", 0, 0x22 },
		{ "etc/alpha", 5, 0x21 },
		{ "etc/zeta", 3, 0x20 },
		{ NULL, 1, 0x23 }, /* the 55-character name */
	};
	select_key(FW_CFG_FILE_DIR);
	read_bytes(buf, 4);
	CHECK_EQ(be32(buf), 4);
	for (unsigned i = 0; i < 4; i++) {
		read_bytes(buf, 64);
		CHECK_EQ(be32(buf), want[i].size);
		CHECK_EQ(buf[4] << 8 | buf[5], want[i].key);
		CHECK_EQ(buf[6] | buf[7], 0);
		CHECK_STR((char *)buf + 8, want[i].name ? want[i].name : longname);
		CHECK_EQ(buf[63], 0);
	}
	CHECK_EQ(read_byte(), 0);

	select_key(0x21);
	read_bytes(buf, 6);
	CHECK(!memcmp(buf, "aaaaa\0", 6));
	select_key(0x22);
	CHECK_EQ(read_byte(), 0);
	select_key(0x24);
	CHECK_EQ(read_byte(), 0);

	/* 16-bit reads of the data port split; only the data byte is real. */
	select_key(0x20);
	uint16_t w = 0;
	CHECK(bus_read(&vm.pio, FW_CFG_PORT_SEL + 1, &w, 2));
	CHECK_EQ(w & 0xff, 'z');

	fw_cfg_destroy(f);
	vm_destroy(&vm);
	return test_exit();
}
