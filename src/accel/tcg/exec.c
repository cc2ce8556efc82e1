/*
 * The dispatch table: one handler per operation id, filled once by each
 * class of instructions. See exec.h for the conventions handlers follow.
 */
#include "accel/tcg/exec.h"

exec_fn exec_table[OP_COUNT];

void exec_table_init(void)
{
	exec_int_register(exec_table);
	exec_ctrl_register(exec_table);
	exec_system_register(exec_table);
	exec_x87_register(exec_table);
	exec_sse_register(exec_table);
}
