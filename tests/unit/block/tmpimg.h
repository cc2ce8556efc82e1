/* Scratch disk images for block tests: a temporary file of a given size,
 * filled with a byte pattern, removed when the test is done with it. */
#ifndef KEMU_TEST_TMPIMG_H
#define KEMU_TEST_TMPIMG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Byte i of a fresh image. */
static inline uint8_t tmpimg_byte(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

/* Creates the image; path must hold 64 bytes. Returns 0 or -1. */
static inline int tmpimg_create(char *path, uint64_t size)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, 64, "%s/kemu-blk-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	uint8_t buf[4096];
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = tmpimg_byte(off + i);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			close(fd);
			unlink(path);
			return -1;
		}
	}
	close(fd);
	return 0;
}

#endif
