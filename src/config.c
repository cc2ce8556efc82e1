/*
 * Command-line parsing: a QEMU-compatible subset, turned into one
 * validated struct config. Every error names the option and the input that
 * caused it; nothing here allocates resources or touches the host beyond
 * checking that the named files exist.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
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
	       "  -device virtio-blk-pci,drive=ID[,serial=S]   (-device virtio-blk-device on microvm)\n"
	       "  -device virtio-net-pci,netdev=ID[,mac=52:54:00:12:34:56]\n"
	       "  -device virtio-rng-pci | virtio-serial-pci | virtconsole,chardev=ID\n"
	       "  -drive file=PATH[,format=raw][,if=virtio|none][,id=ID][,readonly=on]\n"
	       "  -netdev user,id=ID[,hostfwd=tcp:[HADDR]:HPORT-[GADDR]:GPORT]...\n"
	       "  -netdev tap,id=ID,ifname=NAME[,script=no,downscript=no]\n"
	       "  -chardev stdio|null|file,id=ID[,path=PATH]\n"
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

static int check_file(const char *opt, const char *path, struct error *e);

/* A virtio device: the name says which and on what transport. 0 or -EINVAL. */
static int parse_virtio_device(struct device_config *d, struct opts *o, struct error *e)
{
	static const struct {
		const char *name;
		enum device_kind kind;
		enum virtio_transport transport;
		const char *ref; /* the property naming its back end */
	} models[] = {
		{ "virtio-blk-pci", DEVICE_VIRTIO_BLK, VIRTIO_TRANSPORT_PCI, "drive" },
		{ "virtio-blk-device", DEVICE_VIRTIO_BLK, VIRTIO_TRANSPORT_MMIO, "drive" },
		{ "virtio-net-pci", DEVICE_VIRTIO_NET, VIRTIO_TRANSPORT_PCI, "netdev" },
		{ "virtio-net-device", DEVICE_VIRTIO_NET, VIRTIO_TRANSPORT_MMIO, "netdev" },
		{ "virtio-rng-pci", DEVICE_VIRTIO_RNG, VIRTIO_TRANSPORT_PCI, NULL },
		{ "virtio-rng-device", DEVICE_VIRTIO_RNG, VIRTIO_TRANSPORT_MMIO, NULL },
		{ "virtio-serial-pci", DEVICE_VIRTIO_SERIAL, VIRTIO_TRANSPORT_PCI, NULL },
		{ "virtio-serial-device", DEVICE_VIRTIO_SERIAL, VIRTIO_TRANSPORT_MMIO, NULL },
		{ "virtconsole", DEVICE_VIRTCONSOLE, VIRTIO_TRANSPORT_DEFAULT, "chardev" },
	};
	for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++) {
		if (strcmp(o->head, models[k].name))
			continue;
		d->kind = models[k].kind;
		d->transport = models[k].transport;
		if (models[k].ref) {
			const char *v = opts_get(o, models[k].ref);
			if (!v || !*v)
				return error_set(e, -EINVAL, "'%s' needs %s=ID", o->head, models[k].ref);
			if (strlen(v) >= sizeof(d->ref))
				return error_set(e, -EINVAL, "%s: id '%s' too long", models[k].ref, v);
			strcpy(d->ref, v);
		}
		if (d->kind == DEVICE_VIRTIO_BLK) {
			const char *s = opts_get(o, "serial");
			if (s && strlen(s) >= sizeof(d->blk.serial))
				return error_set(e, -EINVAL, "serial '%s' longer than 20 bytes", s);
			if (s)
				strcpy(d->blk.serial, s);
		}
		if (d->kind == DEVICE_VIRTIO_NET) {
			const char *m = opts_get(o, "mac");
			if (m) {
				unsigned b[6];
				char tail;
				if (sscanf(m, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
					   &b[4], &b[5], &tail) != 6 || (b[0] & 1))
					return error_set(e, -EINVAL, "invalid unicast MAC address '%s'", m);
				for (int i = 0; i < 6; i++)
					d->net.mac[i] = (uint8_t)b[i];
				d->net.mac_set = true;
			}
		}
		return 0;
	}
	return error_set(e, -EINVAL, "'%s' is not a valid device model name", o->head);
}

static int copy_id(char *dst, const char *id, const char *what, struct error *e)
{
	if (!id || !*id)
		return error_set(e, -EINVAL, "%s: missing id=", what);
	if (strlen(id) >= CONFIG_ID_MAX)
		return error_set(e, -EINVAL, "%s: id '%s' too long", what, id);
	strcpy(dst, id);
	return 0;
}

/* -drive file=PATH[,format=raw][,if=virtio|none][,id=ID][,readonly=on|off] */
static int parse_drive(struct config *cfg, const char *arg, struct error *e)
{
	if (cfg->ndrive == CONFIG_MAX_DRIVES)
		return error_set(e, -E2BIG, "-drive: too many drives");
	struct opts o;
	int r = opts_parse(&o, arg, false, e);
	if (r)
		return error_prepend(e, r, "-drive");
	struct drive_config *d = &cfg->drive[cfg->ndrive];
	memset(d, 0, sizeof(*d));
	const char *file = opts_get(&o, "file");
	const char *fmt = opts_get(&o, "format");
	const char *iface = opts_get(&o, "if");
	const char *id = opts_get(&o, "id");
	opts_get(&o, "cache"); /* accepted: I/O always reaches the disk on flush */
	opts_get(&o, "media"); /* disk is the only medium */
	if (!file || !*file)
		r = error_set(e, -EINVAL, "-drive: missing file=");
	else if (fmt && strcmp(fmt, "raw"))
		r = error_set(e, -EINVAL, "-drive %s: format '%s' not supported (raw)", file, fmt);
	else if (iface && strcmp(iface, "virtio") && strcmp(iface, "none"))
		r = error_set(e, -EINVAL, "-drive %s: if=%s not supported (virtio, none)", file, iface);
	if (!r)
		r = opts_get_bool(&o, "readonly", &d->readonly, e);
	if (!r) {
		d->if_virtio = !iface || !strcmp(iface, "virtio");
		if (id)
			r = copy_id(d->id, id, "-drive", e);
		else if (!d->if_virtio)
			r = error_set(e, -EINVAL, "-drive %s: if=none needs id=", file);
	}
	if (!r)
		r = opts_check_unused(&o, "-drive", e);
	if (!r) {
		/* The path must outlive the opts buffer: keep a copy for the run. */
		d->path = strdup(file);
		if (!d->path)
			r = error_set(e, -ENOMEM, "out of memory");
	}
	if (!r)
		r = check_file("-drive", d->path, e);
	opts_free(&o);
	if (r)
		return r;
	cfg->ndrive++;
	return 0;
}

/* tcp:[HADDR]:HPORT-[GADDR]:GPORT (or udp:) */
static int parse_hostfwd(struct hostfwd *h, const char *s, struct error *e)
{
	char proto[4], haddr[64] = "", gaddr[64] = "";
	unsigned hport, gport;
	const char *p = s;
	memset(h, 0, sizeof(*h));
	if (!strncmp(p, "tcp:", 4) || !strncmp(p, "udp:", 4)) {
		memcpy(proto, p, 3);
		proto[3] = 0;
		p += 4;
	} else {
		strcpy(proto, "tcp");
	}
	h->udp = !strcmp(proto, "udp");
	const char *dash = strchr(p, '-');
	if (!dash)
		return error_set(e, -EINVAL, "hostfwd '%s': expected [tcp:]HADDR:HPORT-GADDR:GPORT", s);
	char left[80], right[80];
	if ((size_t)(dash - p) >= sizeof(left) || strlen(dash + 1) >= sizeof(right))
		return error_set(e, -EINVAL, "hostfwd '%s' too long", s);
	memcpy(left, p, (size_t)(dash - p));
	left[dash - p] = 0;
	strcpy(right, dash + 1);
	char tail;
	if ((sscanf(left, "%63[^:]:%u%c", haddr, &hport, &tail) != 2 &&
	     sscanf(left, ":%u%c", &hport, &tail) != 1) ||
	    (sscanf(right, "%63[^:]:%u%c", gaddr, &gport, &tail) != 2 &&
	     sscanf(right, ":%u%c", &gport, &tail) != 1) ||
	    !hport || hport > 65535 || !gport || gport > 65535)
		return error_set(e, -EINVAL, "hostfwd '%s': expected [tcp:]HADDR:HPORT-GADDR:GPORT", s);
	struct in_addr a;
	if (*haddr) {
		if (inet_pton(AF_INET, haddr, &a) != 1)
			return error_set(e, -EINVAL, "hostfwd '%s': bad address '%s'", s, haddr);
		h->host_addr = a.s_addr;
	}
	if (*gaddr) {
		if (inet_pton(AF_INET, gaddr, &a) != 1)
			return error_set(e, -EINVAL, "hostfwd '%s': bad address '%s'", s, gaddr);
		h->guest_addr = a.s_addr;
	}
	h->host_port = (uint16_t)hport;
	h->guest_port = (uint16_t)gport;
	return 0;
}

/* -netdev user,id=ID[,hostfwd=...]... | tap,id=ID,ifname=NAME[,script=no][,downscript=no] */
static int parse_netdev(struct config *cfg, const char *arg, struct error *e)
{
	if (cfg->nnetdev == CONFIG_MAX_NETDEVS)
		return error_set(e, -E2BIG, "-netdev: too many network back ends");
	struct opts o;
	int r = opts_parse(&o, arg, true, e);
	if (r)
		return error_prepend(e, r, "-netdev");
	struct netdev_config *n = &cfg->netdev[cfg->nnetdev];
	memset(n, 0, sizeof(*n));
	r = copy_id(n->id, opts_get(&o, "id"), "-netdev", e);
	if (!r && !strcmp(o.head, "user")) {
		n->kind = NETDEV_USER;
		for (int k = 0; !r && k < o.n; k++) {
			if (strcmp(o.kv[k].key, "hostfwd"))
				continue;
			o.kv[k].used = true;
			if (n->nhostfwd == CONFIG_MAX_HOSTFWD)
				r = error_set(e, -E2BIG, "-netdev: too many hostfwd rules");
			else
				r = parse_hostfwd(&n->hostfwd[n->nhostfwd++], o.kv[k].value, e);
		}
	} else if (!r && !strcmp(o.head, "tap")) {
		n->kind = NETDEV_TAP;
		const char *ifname = opts_get(&o, "ifname");
		const char *script = opts_get(&o, "script");
		const char *down = opts_get(&o, "downscript");
		if (!ifname || !*ifname || strlen(ifname) >= sizeof(n->ifname))
			r = error_set(e, -EINVAL, "-netdev tap: needs ifname=NAME (up to 15 characters)");
		else if ((script && strcmp(script, "no")) || (down && strcmp(down, "no")))
			r = error_set(e, -EINVAL, "-netdev tap: only script=no and downscript=no are supported");
		else
			strcpy(n->ifname, ifname);
	} else if (!r) {
		r = error_set(e, -EINVAL, "-netdev: unsupported type '%s' (user, tap)", o.head);
	}
	if (!r)
		r = opts_check_unused(&o, "-netdev", e);
	opts_free(&o);
	if (r)
		return r;
	cfg->nnetdev++;
	return 0;
}

/* -chardev stdio|null|file,id=ID[,path=PATH] */
static int parse_chardev(struct config *cfg, const char *arg, struct error *e)
{
	if (cfg->nchardev == CONFIG_MAX_CHARDEVS)
		return error_set(e, -E2BIG, "-chardev: too many character devices");
	struct opts o;
	int r = opts_parse(&o, arg, true, e);
	if (r)
		return error_prepend(e, r, "-chardev");
	struct chardev_config *c = &cfg->chardev[cfg->nchardev];
	memset(c, 0, sizeof(*c));
	r = copy_id(c->id, opts_get(&o, "id"), "-chardev", e);
	if (!r) {
		if (!strcmp(o.head, "stdio")) {
			c->kind = CHARDEV_STDIO;
			opts_get(&o, "signal");
		} else if (!strcmp(o.head, "null")) {
			c->kind = CHARDEV_NONE;
		} else if (!strcmp(o.head, "file")) {
			const char *path = opts_get(&o, "path");
			c->kind = CHARDEV_FILE;
			if (!path || !*path)
				r = error_set(e, -EINVAL, "-chardev file: needs path=");
			else if (!(c->path = strdup(path)))
				r = error_set(e, -ENOMEM, "out of memory");
		} else {
			r = error_set(e, -EINVAL, "-chardev: unsupported back end '%s' (stdio, null, file)",
				      o.head);
		}
	}
	if (!r)
		r = opts_check_unused(&o, "-chardev", e);
	opts_free(&o);
	if (r)
		return r;
	cfg->nchardev++;
	return 0;
}

/* Resolves drive=/netdev=/chardev= references, and -drive if=virtio. */
static int config_resolve(struct config *cfg, struct error *e)
{
	for (int i = 0; i < cfg->ndevice; i++) {
		struct device_config *d = &cfg->device[i];
		int found = -1;
		switch (d->kind) {
		case DEVICE_VIRTIO_BLK:
			for (int k = 0; k < cfg->ndrive; k++)
				if (!strcmp(cfg->drive[k].id, d->ref))
					found = k;
			if (found < 0)
				return error_set(e, -EINVAL, "-device: no drive with id '%s'", d->ref);
			if (cfg->drive[found].used || cfg->drive[found].if_virtio)
				return error_set(e, -EINVAL, "-device: drive '%s' is already in use", d->ref);
			cfg->drive[found].used = true;
			d->blk.drive = found;
			break;
		case DEVICE_VIRTIO_NET:
			for (int k = 0; k < cfg->nnetdev; k++)
				if (!strcmp(cfg->netdev[k].id, d->ref))
					found = k;
			if (found < 0)
				return error_set(e, -EINVAL, "-device: no netdev with id '%s'", d->ref);
			if (cfg->netdev[found].used)
				return error_set(e, -EINVAL, "-device: netdev '%s' is already in use", d->ref);
			cfg->netdev[found].used = true;
			d->net.netdev = found;
			break;
		case DEVICE_VIRTCONSOLE:
			for (int k = 0; k < cfg->nchardev; k++)
				if (!strcmp(cfg->chardev[k].id, d->ref))
					found = k;
			if (found < 0)
				return error_set(e, -EINVAL, "-device: no chardev with id '%s'", d->ref);
			if (cfg->chardev[found].used)
				return error_set(e, -EINVAL, "-device: chardev '%s' is already in use", d->ref);
			/* One reader of the terminal: two would share (and fight over) stdin. */
			if (cfg->chardev[found].kind == CHARDEV_STDIO) {
				if (cfg->serial == CHARDEV_STDIO)
					return error_set(e, -EINVAL,
							 "-chardev %s: stdio is already the serial port "
							 "(add -serial none)", d->ref);
				for (int k = 0; k < cfg->nchardev; k++)
					if (cfg->chardev[k].used && cfg->chardev[k].kind == CHARDEV_STDIO)
						return error_set(e, -EINVAL,
								 "-chardev %s: stdio is already used by "
								 "chardev '%s'", d->ref, cfg->chardev[k].id);
			}
			cfg->chardev[found].used = true;
			d->console.chardev = found;
			break;
		default:
			break;
		}
	}
	/* if=virtio drives get their device, as in QEMU. */
	for (int k = 0; k < cfg->ndrive; k++) {
		if (!cfg->drive[k].if_virtio)
			continue;
		if (cfg->ndevice == CONFIG_MAX_DEVICES)
			return error_set(e, -E2BIG, "-drive: too many devices");
		struct device_config *d = &cfg->device[cfg->ndevice++];
		memset(d, 0, sizeof(*d));
		d->kind = DEVICE_VIRTIO_BLK;
		d->transport = VIRTIO_TRANSPORT_DEFAULT;
		d->blk.drive = k;
		cfg->drive[k].used = true;
	}
	for (int k = 0; k < cfg->ndrive; k++)
		if (!cfg->drive[k].used)
			log_warn("-drive %s: not attached to any device", cfg->drive[k].path);
	return 0;
}

static int parse_device(struct config *cfg, const char *arg, struct error *e)
{
	struct opts o;
	int r = opts_parse(&o, arg, true, e);
	if (r)
		return error_prepend(e, r, "-device");
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
	} else if (!parse_virtio_device(d, &o, e)) {
		r = opts_check_unused(&o, o.head, e);
	} else {
		r = -EINVAL;
	}
	opts_free(&o);
	if (r)
		return error_prepend(e, r, "-device %s", arg);
	cfg->ndevice++;
	return 0;
}

static int check_file(const char *opt, const char *path, struct error *e)
{
	if (access(path, R_OK) < 0)
		return error_set(e, -errno, "%s: cannot open '%s': %s", opt, path, strerror(errno));
	return 0;
}

void config_free(struct config *cfg)
{
	/* Every slot: a failed parse may leave a copy past ndrive/nchardev. */
	for (int i = 0; i < CONFIG_MAX_DRIVES; i++) {
		free((char *)cfg->drive[i].path);
		cfg->drive[i].path = NULL;
	}
	for (int i = 0; i < CONFIG_MAX_CHARDEVS; i++) {
		free((char *)cfg->chardev[i].path);
		cfg->chardev[i].path = NULL;
	}
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
			"-M", "-machine", "-device", "-name", "-drive", "-netdev", "-chardev", NULL,
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
		} else if (!strcmp(opt, "-drive")) {
			r = parse_drive(cfg, arg, e);
		} else if (!strcmp(opt, "-netdev")) {
			r = parse_netdev(cfg, arg, e);
		} else if (!strcmp(opt, "-chardev")) {
			r = parse_chardev(cfg, arg, e);
		}
		if (r)
			return r;
	}
	if (!cfg->kernel)
		return error_set(e, -EINVAL, "no kernel given: use -kernel FILE");
	int r = check_file("-kernel", cfg->kernel, e);
	if (!r && cfg->initrd)
		r = check_file("-initrd", cfg->initrd, e);
	if (!r)
		r = config_resolve(cfg, e);
	return r ? r : CONFIG_OK;
}
