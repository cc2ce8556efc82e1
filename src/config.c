/*
 * Command-line parsing: a QEMU-compatible subset, turned into one
 * validated struct config. Every error names the option and the input that
 * caused it; nothing here allocates resources or touches the host beyond
 * checking that the named files exist.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/opts.h"

#define KEMU_VERSION "0.1.0"

void config_usage(void)
{
	printf("usage: kemu [options]\n"
	       "\n"
	       "  -m SIZE              guest RAM (default 128M; suffixes K M G, plain number = MiB)\n"
	       "  -smp N               number of vCPUs (1-%d)\n"
	       "  -kernel FILE         bzImage, ELF vmlinux (PVH) or multiboot kernel\n"
	       "  -initrd FILE         initial ramdisk (a multiboot module for multiboot kernels)\n"
	       "  -append CMDLINE      kernel command line\n"
	       "  -nographic           no display; serial on the terminal\n"
	       "  -serial stdio|file:PATH|none\n"
	       "  -accel kvm|tcg|kvm:tcg  accelerator(s), first usable wins; -accel help lists them\n"
	       "  -M pc|microvm        machine type\n"
	       "  -device isa-debug-exit[,iobase=N][,iosize=N]\n"
	       "  -no-reboot           exit instead of rebooting\n"
	       "  -name NAME           guest name\n"
	       "  -h, --help           this help\n"
	       "  --version            print the version\n"
	       "\n"
	       "Ctrl-A x on the terminal ends kemu; Ctrl-A Ctrl-A sends Ctrl-A.\n",
	       CONFIG_MAX_CPUS);
}

static int parse_accel(struct config *cfg, const char *arg, struct error *e)
{
	/* QEMU accepts "-accel kvm", "-accel tcg", and the older "kvm:tcg" list. */
	char buf[64];
	if (strlen(arg) >= sizeof(buf))
		return error_set(e, -EINVAL, "-accel: invalid accelerator '%s'", arg);
	strcpy(buf, arg);
	char *comma = strchr(buf, ',');
	if (comma)
		return error_set(e, -EINVAL, "-accel: unsupported property '%s'", comma + 1);
	cfg->naccel = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		enum accel_kind k;
		if (!strcmp(t, "kvm"))
			k = ACCEL_KVM;
		else if (!strcmp(t, "tcg"))
			k = ACCEL_TCG;
		else
			return error_set(e, -EINVAL, "-accel: invalid accelerator '%s'", t);
		if (cfg->naccel == CONFIG_MAX_ACCELS)
			return error_set(e, -EINVAL, "-accel: too many accelerators in '%s'", arg);
		cfg->accel[cfg->naccel++] = k;
	}
	if (!cfg->naccel)
		return error_set(e, -EINVAL, "-accel: invalid accelerator '%s'", arg);
	return 0;
}

static int parse_serial(struct config *cfg, const char *arg, struct error *e)
{
	if (!strcmp(arg, "stdio") || !strcmp(arg, "mon:stdio")) {
		cfg->serial = CHARDEV_STDIO;
	} else if (!strcmp(arg, "none") || !strcmp(arg, "null")) {
		cfg->serial = CHARDEV_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->serial = CHARDEV_FILE;
		cfg->serial_path = arg + 5;
	} else {
		return error_set(e, -EINVAL, "-serial: unsupported back end '%s'", arg);
	}
	return 0;
}

static int parse_device(struct config *cfg, const char *arg, struct error *e)
{
	struct opts o;
	int r = opts_parse(&o, arg, true, e);
	if (r)
		return error_set(e, r, "-device: %s", e->msg);
	if (cfg->ndevice == CONFIG_MAX_DEVICES) {
		opts_free(&o);
		return error_set(e, -E2BIG, "-device: too many devices");
	}
	struct device_config *d = &cfg->device[cfg->ndevice];
	if (!strcmp(o.head, "isa-debug-exit")) {
		uint64_t iobase = 0x501, iosize = 2; /* QEMU's defaults */
		d->kind = DEVICE_ISA_DEBUG_EXIT;
		if (!r)
			r = opts_get_u64(&o, "iobase", &iobase, NULL, e);
		if (!r)
			r = opts_get_u64(&o, "iosize", &iosize, NULL, e);
		if (!r && (iobase > 0xffff || iosize < 1 || iosize > 8 || iobase + iosize > 0x10000))
			r = error_set(e, -EINVAL, "iobase/iosize out of range");
		if (!r)
			r = opts_check_unused(&o, "isa-debug-exit", e);
		d->debug_exit.iobase = (uint16_t)iobase;
		d->debug_exit.iosize = (uint8_t)iosize;
	} else {
		r = error_set(e, -EINVAL, "'%s' is not a valid device model name", o.head);
	}
	opts_free(&o);
	if (r)
		return error_set(e, r, "-device %s: %s", arg, e->msg);
	cfg->ndevice++;
	return 0;
}

static int check_file(const char *opt, const char *path, struct error *e)
{
	if (access(path, R_OK) < 0)
		return error_set(e, -errno, "%s: cannot open '%s': %s", opt, path, strerror(errno));
	return 0;
}

int config_parse(struct config *cfg, int argc, char **argv, struct error *e)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_size = 128ULL << 20;
	cfg->smp = 1;
	cfg->serial = CHARDEV_STDIO;
	cfg->machine = MACHINE_PC;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		/* QEMU accepts both -opt and --opt. */
		if (opt[0] == '-' && opt[1] == '-' && opt[2])
			opt++;
		if (!strcmp(opt, "-h") || !strcmp(opt, "-help")) {
			config_usage();
			return CONFIG_EXIT;
		}
		if (!strcmp(opt, "-version")) {
			printf("kemu version " KEMU_VERSION "\n");
			return CONFIG_EXIT;
		}
		if (!strcmp(opt, "-nographic")) {
			cfg->nographic = true;
			continue;
		}
		if (!strcmp(opt, "-no-reboot")) {
			cfg->no_reboot = true;
			continue;
		}
		static const char *const with_arg[] = {
			"-m", "-smp", "-kernel", "-initrd", "-append", "-serial", "-accel",
			"-M", "-machine", "-device", "-name", NULL,
		};
		bool known = false;
		for (int k = 0; with_arg[k]; k++)
			known |= !strcmp(opt, with_arg[k]);
		if (!known)
			return error_set(e, -EINVAL, "%s: invalid option", argv[i]);
		if (i + 1 >= argc)
			return error_set(e, -EINVAL, "%s: requires an argument", argv[i]);
		const char *arg = argv[++i];
		int r = 0;
		if (!strcmp(opt, "-m")) {
			/* QEMU also takes "size=512M". */
			const char *s = !strncmp(arg, "size=", 5) ? arg + 5 : arg;
			if (parse_size(s, 1ULL << 20, &cfg->ram_size) || cfg->ram_size < (16ULL << 20))
				return error_set(e, -EINVAL, "-m: invalid RAM size '%s' (at least 16M)", arg);
			if (cfg->ram_size > (1ULL << 40))
				return error_set(e, -EINVAL, "-m: RAM size '%s' too large (at most 1T)", arg);
			/* Round to pages: KVM memory slots are page-granular. */
			cfg->ram_size = (cfg->ram_size + 0xfff) & ~0xfffULL;
		} else if (!strcmp(opt, "-smp")) {
			/* "N" or "cpus=N" (topology properties are not supported) */
			const char *s = !strncmp(arg, "cpus=", 5) ? arg + 5 : arg;
			uint64_t n;
			if (parse_u64(s, &n) || n < 1 || n > CONFIG_MAX_CPUS)
				return error_set(e, -EINVAL, "-smp: invalid CPU count '%s' (1-%d)", arg,
						 CONFIG_MAX_CPUS);
			cfg->smp = (int)n;
		} else if (!strcmp(opt, "-kernel")) {
			cfg->kernel = arg;
		} else if (!strcmp(opt, "-initrd")) {
			cfg->initrd = arg;
		} else if (!strcmp(opt, "-append")) {
			cfg->append = arg;
		} else if (!strcmp(opt, "-serial")) {
			r = parse_serial(cfg, arg, e);
		} else if (!strcmp(opt, "-accel")) {
			if (!strcmp(arg, "help") || !strcmp(arg, "?"))
				return CONFIG_ACCEL_HELP;
			r = parse_accel(cfg, arg, e);
		} else if (!strcmp(opt, "-M") || !strcmp(opt, "-machine")) {
			/* Accept "pc", "microvm", and QEMU's "type=pc" spelling. */
			const char *s = !strncmp(arg, "type=", 5) ? arg + 5 : arg;
			if (!strcmp(s, "pc") || !strncmp(s, "pc-i440fx", 9) || !strcmp(s, "q35"))
				cfg->machine = MACHINE_PC;
			else if (!strcmp(s, "microvm"))
				cfg->machine = MACHINE_MICROVM;
			else
				r = error_set(e, -EINVAL, "-M: unsupported machine '%s' (pc, microvm)", arg);
		} else if (!strcmp(opt, "-device")) {
			r = parse_device(cfg, arg, e);
		} else if (!strcmp(opt, "-name")) {
			cfg->name = arg;
		}
		if (r)
			return r;
	}
	if (!cfg->kernel)
		return error_set(e, -EINVAL, "no kernel given: use -kernel FILE");
	int r = check_file("-kernel", cfg->kernel, e);
	if (!r && cfg->initrd)
		r = check_file("-initrd", cfg->initrd, e);
	return r ? r : CONFIG_OK;
}
