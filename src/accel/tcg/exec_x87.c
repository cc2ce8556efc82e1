/* Placeholder: the x87 instruction handlers are being written. */
#include "accel/tcg/exec.h"

void exec_x87_register(exec_fn *t)
{
	(void)t;
}
