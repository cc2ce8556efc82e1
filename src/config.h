/*
 * The validated configuration: main() turns the command line into one of
 * these before anything is built; the board reads it and nothing else.
 */
#ifndef KEMU_CONFIG_H
#define KEMU_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/chardev.h"
#include "util/error.h"

#define CONFIG_MAX_ACCELS 2
#define CONFIG_MAX_DEVICES 16
#define CONFIG_MAX_CPUS 64

enum accel_kind { ACCEL_KVM, ACCEL_TCG };
enum machine_kind { MACHINE_PC, MACHINE_MICROVM };

enum device_kind { DEVICE_ISA_DEBUG_EXIT };

struct device_config {
	enum device_kind kind;
	union {
		struct {
			uint16_t iobase;
			uint8_t iosize;
		} debug_exit;
	};
};

struct config {
	uint64_t ram_size;
	int smp;
	const char *kernel;
	const char *initrd;
	const char *append;
	bool nographic;
	enum chardev_kind serial;
	const char *serial_path;
	enum accel_kind accel[CONFIG_MAX_ACCELS];
	int naccel; /* 0: choose automatically */
	enum machine_kind machine;
	struct device_config device[CONFIG_MAX_DEVICES];
	int ndevice;
	bool no_reboot;
	const char *name;
};

enum config_result {
	CONFIG_OK = 0,
	CONFIG_EXIT = 1, /* --help or --version was printed: exit 0 */
	CONFIG_ACCEL_HELP = 2, /* -accel help: list accelerators, exit 0 */
};

/*
 * Fills cfg from argv. Returns CONFIG_OK, CONFIG_EXIT, or a negative errno
 * with a one-line message in e. Strings point into argv.
 */
int config_parse(struct config *cfg, int argc, char **argv, struct error *e);
void config_usage(void);

#endif
