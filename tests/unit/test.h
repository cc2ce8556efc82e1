/*
 * A minimal unit-test harness: CHECK() records a failure with its line and
 * keeps going; test_exit() returns the process status meson expects.
 */
#ifndef KEMU_TEST_H
#define KEMU_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                               \
	do {                                                                      \
		test_checks++;                                                    \
		if (!(cond)) {                                                    \
			test_failures++;                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                 \
		}                                                                 \
	} while (0)

#define CHECK_EQ(a, b)                                                            \
	do {                                                                      \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                  \
		test_checks++;                                                    \
		if (a_ != b_) {                                                   \
			test_failures++;                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: 0x%" PRIx64      \
				" != 0x%" PRIx64 "\n", __FILE__, __LINE__, #a, #b, \
				a_, b_);                                          \
		}                                                                 \
	} while (0)

#define CHECK_STR(a, b)                                                           \
	do {                                                                      \
		const char *a_ = (a), *b_ = (b);                                  \
		test_checks++;                                                    \
		if (!a_ || !b_ || strcmp(a_, b_)) {                               \
			test_failures++;                                          \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__,    \
				__LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		}                                                                 \
	} while (0)

static inline int test_exit(void)
{
	fprintf(stderr, "%d checks, %d failures\n", test_checks, test_failures);
	return test_failures ? 1 : 0;
}

#endif
