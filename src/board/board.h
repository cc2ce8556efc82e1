/*
 * Boards: the only code that knows the machine's addresses. A board takes
 * the validated config, builds guest RAM, the accelerator's VM, the
 * devices and the firmware tables, loads the kernel, and creates the
 * vCPUs. Tearing it down and building it again is how kemu resets.
 */
#ifndef KEMU_BOARD_BOARD_H
#define KEMU_BOARD_BOARD_H

#include "accel/accel.h"
#include "config.h"
#include "core/chardev.h"
#include "core/vm.h"
#include "util/error.h"

struct board;

/*
 * Builds a machine of kind cfg->machine into vm (which the caller has not
 * initialised) with serial attached to COM1. On error, board_destroy()
 * still releases whatever was built.
 */
int board_create(struct board **out, struct vm *vm, const struct config *cfg,
		 const struct accel_ops *accel, struct chardev *serial, struct error *e);
void board_destroy(struct board *b);

#endif
