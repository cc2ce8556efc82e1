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
#define CONFIG_MAX_DRIVES 8
#define CONFIG_MAX_NETDEVS 4
#define CONFIG_MAX_CHARDEVS 4
#define CONFIG_MAX_HOSTFWD 8
#define CONFIG_ID_MAX 32

enum accel_kind { ACCEL_KVM, ACCEL_TCG };
enum machine_kind { MACHINE_PC, MACHINE_MICROVM };

enum device_kind {
	DEVICE_ISA_DEBUG_EXIT,
	DEVICE_VIRTIO_BLK,     /* virtio-blk-pci, or virtio-blk-device on microvm */
	DEVICE_VIRTIO_NET,     /* virtio-net-pci / virtio-net-device */
	DEVICE_VIRTIO_RNG,     /* virtio-rng-pci / virtio-rng-device */
	DEVICE_VIRTIO_SERIAL,  /* virtio-serial-pci / virtio-serial-device */
	DEVICE_VIRTCONSOLE,    /* a console port on the virtio-serial device */
};

/* Which transport a virtio device uses: the machine's natural one by default. */
enum virtio_transport { VIRTIO_TRANSPORT_DEFAULT, VIRTIO_TRANSPORT_PCI, VIRTIO_TRANSPORT_MMIO };

struct device_config {
	enum device_kind kind;
	enum virtio_transport transport;
	char ref[CONFIG_ID_MAX]; /* drive=/netdev=/chardev= as given, resolved after parsing */
	union {
		struct {
			uint16_t iobase;
			uint8_t iosize;
		} debug_exit;
		struct {
			int drive;     /* index into config.drive */
			char serial[21];
		} blk;
		struct {
			int netdev;    /* index into config.netdev */
			uint8_t mac[6];
			bool mac_set;
		} net;
		struct {
			int chardev;   /* index into config.chardev */
		} console;
	};
};

/* -drive file=PATH[,format=raw][,if=virtio|none][,id=ID][,readonly=on|off] */
struct drive_config {
	const char *path;
	char id[CONFIG_ID_MAX];
	bool readonly;
	bool if_virtio;  /* if=virtio: a virtio-blk device is created for it */
	bool used;       /* claimed by a -device */
};

enum netdev_kind { NETDEV_USER, NETDEV_TAP };

/* -netdev user,id=ID[,hostfwd=tcp:HADDR:HPORT-:GPORT]... | tap,id=ID,ifname=NAME[,script=no] */
struct netdev_config {
	enum netdev_kind kind;
	char id[CONFIG_ID_MAX];
	char ifname[16];
	int nhostfwd;
	struct hostfwd {
		bool udp;
		uint32_t host_addr;   /* network byte order; 0 = any */
		uint16_t host_port;
		uint32_t guest_addr;  /* network byte order; 0 = the guest's DHCP address */
		uint16_t guest_port;
	} hostfwd[CONFIG_MAX_HOSTFWD];
	bool used;
};

/* -chardev stdio|null|file,id=ID[,path=PATH] */
struct chardev_config {
	enum chardev_kind kind;
	char id[CONFIG_ID_MAX];
	const char *path;
	bool used;
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
	struct drive_config drive[CONFIG_MAX_DRIVES];
	int ndrive;
	struct netdev_config netdev[CONFIG_MAX_NETDEVS];
	int nnetdev;
	struct chardev_config chardev[CONFIG_MAX_CHARDEVS];
	int nchardev;
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
 * with a one-line message in e. Strings point into argv, except the
 * drive and chardev paths, which config_free() releases.
 */
int config_parse(struct config *cfg, int argc, char **argv, struct error *e);
void config_free(struct config *cfg);
void config_usage(void);

#endif
