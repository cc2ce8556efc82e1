#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/mem.h"
#include "images.h"
#include "loader/layout.h"
#include "loader/loader.h"
#include "loader/pvh.h"
#include "test.h"

static struct guest_mem m;
static char dir[] = "/tmp/kemu-loader-XXXXXX";

static char *write_tmp(const char *name, const void *data, size_t len)
{
	char *path;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(fwrite(data, 1, len, f), len);
		fclose(f);
	}
	return path;
}

static void test_probe(void)
{
	enum boot_format fmt;
	uint8_t junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	CHECK_EQ(loader_probe(junk, sizeof(junk), &fmt), -ENOEXEC);
	CHECK_EQ(loader_probe(junk, 0, &fmt), -ENOEXEC);
	/* A plain ELF without a note or multiboot header. */
	size_t len;
	uint8_t *img = pvh_build(&len);
	elf64_phdr(img, 1, 1, 0, 0, 0x300000, 0, 0, 4);
	CHECK_EQ(loader_probe(img, len, &fmt), -ENOEXEC);
	/* HdrS alone is claimed by the bzImage loader, which explains what's wrong. */
	memset(junk, 0, sizeof(junk));
	memcpy(junk + 0x202, "HdrS", 4);
	CHECK_EQ(loader_probe(junk, sizeof(junk), &fmt), 0);
	CHECK_EQ(fmt, BOOT_BZIMAGE);

	struct boot_request req;
	test_request(&req, "plain.elf");
	struct boot_result out;
	struct error e = { "" };
	CHECK_EQ(loader_load_image(&m, &req, img, len, NULL, 0, &out, &e), -ENOEXEC);
	CHECK(strstr(e.msg, "plain.elf") && strstr(e.msg, "PVH"));
	free(img);
}

static void test_files(void)
{
	size_t len;
	uint8_t *img = pvh_build(&len);
	char *kernel = write_tmp("vmlinux", img, len);
	uint8_t rd[10000];
	memset(rd, 0x3c, sizeof(rd));
	char *initrd = write_tmp("initrd", rd, sizeof(rd));
	uint8_t junk[300];
	memset(junk, 0xab, sizeof(junk));
	char *garbage = write_tmp("foo.img", junk, sizeof(junk));
	char *empty = write_tmp("empty.img", junk, 0);
	char *missing;
	CHECK(asprintf(&missing, "%s/missing", dir) > 0);

	struct boot_request req;
	test_request(&req, kernel);
	req.initrd = initrd;
	req.cmdline = "x=1";
	struct boot_result out;
	struct error e = { "" };
	int r = loader_load(&m, &req, &out, &e);
	CHECK_EQ(r, 0);
	if (r)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_EQ(out.format, BOOT_PVH);
	struct hvm_start_info *si = guest_ptr(&m, LAYOUT_START_INFO, sizeof(*si));
	struct hvm_modlist_entry *mod = guest_ptr(&m, si->modlist_paddr, sizeof(*mod));
	CHECK_EQ(mod->size, sizeof(rd));
	CHECK(!memcmp(guest_ptr(&m, mod->paddr, sizeof(rd)), rd, sizeof(rd)));

	/* Every failure names the file at fault. */
	req.kernel = missing;
	CHECK_EQ(loader_load(&m, &req, &out, &e), -ENOENT);
	CHECK(strstr(e.msg, missing) != NULL);
	req.kernel = kernel;
	req.initrd = missing;
	CHECK_EQ(loader_load(&m, &req, &out, &e), -ENOENT);
	CHECK(strstr(e.msg, missing) != NULL);
	req.initrd = NULL;
	req.kernel = garbage;
	CHECK_EQ(loader_load(&m, &req, &out, &e), -ENOEXEC);
	CHECK(strstr(e.msg, garbage) && strstr(e.msg, "not a bzImage, PVH ELF or multiboot kernel"));
	req.kernel = empty;
	CHECK_EQ(loader_load(&m, &req, &out, &e), -ENOEXEC);
	CHECK(strstr(e.msg, empty) != NULL);
	req.kernel = dir;
	CHECK(loader_load(&m, &req, &out, &e) < 0);
	CHECK(strstr(e.msg, dir) != NULL);

	/* A file larger than guest RAM is refused before it is read. */
	char *huge;
	CHECK(asprintf(&huge, "%s/huge", dir) > 0);
	int fd = open(huge, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && !ftruncate(fd, TEST_RAM + 1));
	close(fd);
	req.kernel = kernel;
	req.initrd = huge;
	CHECK_EQ(loader_load(&m, &req, &out, &e), -EFBIG);
	CHECK(strstr(e.msg, huge) != NULL);

	const char *all[] = { kernel, initrd, garbage, empty, huge };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		unlink(all[i]);
	free(kernel);
	free(initrd);
	free(garbage);
	free(empty);
	free(missing);
	free(huge);
	free(img);
}

int main(void)
{
	if (guest_mem_init(&m, TEST_RAM, TEST_HOLE) || !mkdtemp(dir)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	test_probe();
	test_files();
	rmdir(dir);
	guest_mem_destroy(&m);
	return test_exit();
}
