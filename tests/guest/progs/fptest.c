/*
 * Runs inside the guest (static, glibc): floating point through the paths
 * glibc really uses. printf of double goes through SSE2, long double
 * through x87; strtod and a few libm calls add conversions and rounding.
 * The expected output is fixed (tests/guest/test_linux.py checks it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	volatile double a = 1.0 / 3.0, b = strtod("2.5e-3", NULL);
	volatile long double x = 1.0L / 3.0L;
	volatile float f = 0.1f;
	double s = 0;
	for (int i = 1; i <= 1000; i++)
		s += 1.0 / ((double)i * i);
	printf("fptest: double %.17g\n", a);
	printf("fptest: long double %.21Lg\n", x);
	printf("fptest: float %.9g sum %.15f\n", (double)f, s);
	printf("fptest: strtod %g sqrt2 %.15f\n", b, sqrt(2.0));
	printf("fptest: exp1 %.15f int %ld\n", exp(1.0), lrint(2.5e9 + 0.5));
	printf("fptest: done\n");
	return 0;
}
