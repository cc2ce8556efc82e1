/* Placeholder: the sse instruction handlers are being written. */
#include "accel/tcg/exec.h"

void exec_sse_register(exec_fn *t)
{
	(void)t;
}
