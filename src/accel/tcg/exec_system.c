/* Placeholder: the system instruction handlers are being written. */
#include "accel/tcg/exec.h"

void exec_system_register(exec_fn *t)
{
	(void)t;
}
