/*
 * blkbench: block device throughput inside the test guest (bench/blk.sh).
 *
 *   blkbench [-w] DEV [MIB [SECONDS]]
 *
 * With O_DIRECT, so the guest page cache is out of the way and every
 * request reaches the virtio-blk device:
 *   -w       sequential write of MIB MiB in 1 MiB requests, then fdatasync
 *            (the flush is part of the figure). DESTROYS the data on DEV.
 *   always   sequential read of MIB MiB in 1 MiB requests, then 4 KiB
 *            random reads at aligned offsets within the first MIB MiB, one
 *            at a time, for SECONDS seconds.
 * Defaults: 256 MiB, 10 s. Write runs first so that the reads see written
 * blocks, not holes of a sparse image (which a host reads faster).
 *
 * Output, one line per figure, for scripts:
 *   blkbench: seq_write 123.4 MiB/s (256 MiB in 2.075 s)
 *   blkbench: seq_read 456.7 MiB/s (256 MiB in 0.560 s)
 *   blkbench: rand_read_4k 1234 IOPS (12345 reads in 10.004 s)
 * Exit status 1 with a message on stderr on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (1u << 20)
#define SMALL 4096u

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *dev)
{
	fprintf(stderr, "blkbench: %s %s: %s\n", what, dev, strerror(errno));
	exit(1);
}

/* Whole-block transfer or exit: O_DIRECT short transfers mean a broken device. */
static void xfer(int fd, void *buf, size_t len, off_t off, int wr, const char *dev)
{
	ssize_t n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	if (n < 0)
		die(wr ? "write" : "read", dev);
	if ((size_t)n != len) {
		fprintf(stderr, "blkbench: short %s on %s at %lld: %zd of %zu\n",
			wr ? "write" : "read", dev, (long long)off, n, len);
		exit(1);
	}
}

static void sequential(int fd, void *buf, unsigned mib, int wr, const char *dev)
{
	double t0 = now();
	for (unsigned i = 0; i < mib; i++)
		xfer(fd, buf, BLOCK, (off_t)i * BLOCK, wr, dev);
	if (wr && fdatasync(fd) < 0)
		die("fdatasync", dev);
	double dt = now() - t0;
	printf("blkbench: %s %.1f MiB/s (%u MiB in %.3f s)\n",
	       wr ? "seq_write" : "seq_read", mib / dt, mib, dt);
	fflush(stdout);
}

static void random_reads(int fd, void *buf, unsigned mib, double secs, const char *dev)
{
	uint64_t x = 0x9e3779b97f4a7c15ull; /* fixed seed: same offsets every run */
	uint64_t blocks = (uint64_t)mib * (BLOCK / SMALL), n = 0;
	double t0 = now(), dt;
	do {
		/* Check the clock every 16 reads: cheap, and fine-grained enough. */
		for (int i = 0; i < 16; i++, n++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			xfer(fd, buf, SMALL, (off_t)(x % blocks) * SMALL, 0, dev);
		}
		dt = now() - t0;
	} while (dt < secs);
	printf("blkbench: rand_read_4k %.0f IOPS (%llu reads in %.3f s)\n",
	       n / dt, (unsigned long long)n, dt);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int wr = argc > 1 && !strcmp(argv[1], "-w");
	argv += wr, argc -= wr;
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: blkbench [-w] DEV [MIB [SECONDS]]\n");
		return 2;
	}
	const char *dev = argv[1];
	unsigned mib = argc > 2 ? (unsigned)atoi(argv[2]) : 256;
	double secs = argc > 3 ? atof(argv[3]) : 10.0;

	int fd = open(dev, (wr ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		die("open", dev);
	/* The size of a block device (or of a file, for trying this on a host). */
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		die("lseek", dev);
	if ((uint64_t)size / BLOCK < mib)
		mib = size / BLOCK; /* a small device: use all of it */
	if (mib == 0) {
		fprintf(stderr, "blkbench: %s is smaller than 1 MiB\n", dev);
		return 1;
	}
	void *buf;
	/* O_DIRECT wants buffers aligned to the logical block size; 4 KiB covers all. */
	if (posix_memalign(&buf, SMALL, BLOCK))
		die("posix_memalign", dev);
	/* Not zeros: a back end may treat zero blocks specially. */
	for (size_t i = 0; i < BLOCK; i++)
		((unsigned char *)buf)[i] = (unsigned char)(i * 131 + 7);

	if (wr)
		sequential(fd, buf, mib, 1, dev);
	sequential(fd, buf, mib, 0, dev);
	random_reads(fd, buf, mib, secs, dev);
	close(fd);
	return 0;
}
