/*
 * Runs inside the guest (static, glibc): a deterministic CPU-bound workload
 * for bench/soft.sh, to compare kemu's interpreter with QEMU TCG on guest
 * code rather than on boot (which is dominated by the kernel's own paths).
 *
 *   cpubench [REPS]     REPS rounds of the workload (default 8)
 *
 * One round is integer and memory work of the kinds compiled code spends its
 * time on: a sieve (byte stores, strided loops), a hash loop (multiplies,
 * shifts, dependent loads from a table bigger than L1), a qsort (indirect
 * calls through the comparator, branches that don't predict) and a short
 * double loop (SSE2 arithmetic and conversions). A round takes ~0.2 s on
 * QEMU TCG, so the default 8 take ~1.5 s. Prints "cpubench: <checksum>
 * <elapsed ms>"; the checksum is fixed for a given REPS, so a wrong result
 * from an emulator shows as a different one.
 * Elapsed is CLOCK_MONOTONIC inside the guest, which follows host time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIEVE_N 1000000
#define HASH_TABLE 65536 /* uint32_t entries: 256 KiB */
#define HASH_ITERS 2000000
#define SORT_N 100000
#define FP_ITERS 200000

static uint32_t rng = 12345; /* xorshift32: same sequence on every run */

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint64_t sieve(void)
{
	static unsigned char composite[SIEVE_N + 1];
	uint64_t count = 0, sum = 0;

	memset(composite, 0, sizeof composite);
	for (uint32_t i = 2; i <= SIEVE_N; i++) {
		if (composite[i])
			continue;
		count++;
		sum += i;
		for (uint64_t j = (uint64_t)i * i; j <= SIEVE_N; j += i)
			composite[j] = 1;
	}
	return count * 1000003u + sum;
}

static uint64_t hash_loop(void)
{
	static uint32_t table[HASH_TABLE];
	uint64_t h = 14695981039346656037ull; /* FNV-1a offset basis */

	for (uint32_t i = 0; i < HASH_TABLE; i++)
		table[i] = next();
	for (uint32_t i = 0; i < HASH_ITERS; i++) {
		/* The next index depends on the hash: loads can't be hoisted. */
		uint32_t v = table[(uint32_t)h & (HASH_TABLE - 1)];
		h = (h ^ v ^ i) * 1099511628211ull; /* FNV prime */
		h ^= h >> 29;
		table[i & (HASH_TABLE - 1)] += (uint32_t)h;
	}
	return h;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static uint64_t sort(void)
{
	static uint32_t a[SORT_N];
	uint64_t h = 0;

	for (int i = 0; i < SORT_N; i++)
		a[i] = next();
	qsort(a, SORT_N, sizeof a[0], cmp_u32);
	for (int i = 0; i < SORT_N; i++) {
		if (i && a[i - 1] > a[i])
			return 0; /* unsorted: the checksum shows it */
		h = h * 31 + a[i];
	}
	return h;
}

static uint64_t fp_loop(void)
{
	double s = 0;

	/* Exact enough in double that the truncated result is deterministic. */
	for (int i = 1; i <= FP_ITERS; i++)
		s += (double)(i % 1000) * 0.5 + (double)i / 4.0;
	return (uint64_t)s;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 8;
	uint64_t sum = 0;
	double t0 = now_ms();

	for (int r = 0; r < reps; r++) {
		sum = sum * 3 + sieve();
		sum = sum * 3 + hash_loop();
		sum = sum * 3 + sort();
		sum = sum * 3 + fp_loop();
	}
	printf("cpubench: %016llx %.0f\n", (unsigned long long)sum, now_ms() - t0);
	return 0;
}
