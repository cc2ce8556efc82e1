#include "config.h"
#include "test.h"

#include <stdio.h>

#define ARGV(...) (char *[]){ "kemu", __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ "kemu", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cfg, e, ...) config_parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), e)

int main(void)
{
	struct config c;
	struct error e;
	const char *k = "/proc/self/exe"; /* any readable file */

	CHECK(PARSE(&c, &e, "-kernel", (char *)k) == CONFIG_OK);
	CHECK_EQ(c.ram_size, 128ULL << 20);
	CHECK_EQ(c.smp, 1);
	CHECK_EQ(c.serial, CHARDEV_STDIO);
	CHECK_EQ(c.naccel, 0);
	CHECK_EQ(c.machine, MACHINE_PC);

	CHECK(PARSE(&c, &e, "-m", "512M", "-smp", "2", "-kernel", (char *)k, "-append",
		    "console=ttyS0 quiet", "-nographic", "-accel", "kvm:tcg", "-M", "microvm",
		    "-no-reboot", "-name", "guest1", "-serial", "file:/tmp/x.log") == CONFIG_OK);
	CHECK_EQ(c.ram_size, 512ULL << 20);
	CHECK_EQ(c.smp, 2);
	CHECK_STR(c.append, "console=ttyS0 quiet");
	CHECK(c.nographic);
	CHECK_EQ(c.naccel, 2);
	CHECK_EQ(c.accel[0], ACCEL_KVM);
	CHECK_EQ(c.accel[1], ACCEL_TCG);
	CHECK_EQ(c.machine, MACHINE_MICROVM);
	CHECK(c.no_reboot);
	CHECK_STR(c.name, "guest1");
	CHECK_EQ(c.serial, CHARDEV_FILE);
	CHECK_STR(c.serial_path, "/tmp/x.log");

	/* QEMU spellings. */
	CHECK(PARSE(&c, &e, "--kernel", (char *)k, "-m", "1024", "-smp", "cpus=4", "-machine",
		    "type=pc", "-serial", "none", "-accel", "tcg") == CONFIG_OK);
	CHECK_EQ(c.ram_size, 1ULL << 30);
	CHECK_EQ(c.smp, 4);
	CHECK_EQ(c.serial, CHARDEV_NONE);
	CHECK_EQ(c.accel[0], ACCEL_TCG);

	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4")
	      == CONFIG_OK);
	CHECK_EQ(c.ndevice, 1);
	CHECK_EQ(c.device[0].kind, DEVICE_ISA_DEBUG_EXIT);
	CHECK_EQ(c.device[0].debug_exit.iobase, 0xf4);
	CHECK_EQ(c.device[0].debug_exit.iosize, 4);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-device", "isa-debug-exit") == CONFIG_OK);
	CHECK_EQ(c.device[0].debug_exit.iobase, 0x501);

	/* Errors: negative, with a message naming the input. */
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-bogus") < 0);
	CHECK(strstr(e.msg, "-bogus") != NULL);
	CHECK(PARSE(&c, &e, "-kernel") < 0);
	CHECK(strstr(e.msg, "requires an argument") != NULL);
	CHECK(PARSE(&c, &e, "-m", "lots", "-kernel", (char *)k) < 0);
	CHECK(strstr(e.msg, "lots") != NULL);
	CHECK(PARSE(&c, &e, "-m", "1M", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-smp", "0", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-smp", "999", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-smp", "2x", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-accel", "hvf", "-kernel", (char *)k) < 0);
	CHECK(strstr(e.msg, "hvf") != NULL);
	CHECK(PARSE(&c, &e, "-accel", "kvm,thread=multi", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-M", "q36", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-serial", "tcp:1234", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-device", "e1000", "-kernel", (char *)k) < 0);
	CHECK(strstr(e.msg, "e1000") != NULL);
	CHECK(PARSE(&c, &e, "-device", "isa-debug-exit,colour=red", "-kernel", (char *)k) < 0);
	CHECK(strstr(e.msg, "colour") != NULL);
	CHECK(PARSE(&c, &e, "-device", "isa-debug-exit,iobase=0x10000", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-device", "isa-debug-exit,iobase=zz", "-kernel", (char *)k) < 0);
	CHECK(PARSE(&c, &e, "-kernel", "/nonexistent/vmlinuz") < 0);
	CHECK(strstr(e.msg, "/nonexistent/vmlinuz") != NULL);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-initrd", "/nonexistent/initrd") < 0);
	CHECK(strstr(e.msg, "/nonexistent/initrd") != NULL);
	CHECK(PARSE(&c, &e, "-m", "512M") < 0); /* no kernel */

	/* Storage, network and consoles. */
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-drive", "file=/proc/self/exe,format=raw,if=virtio")
	      == CONFIG_OK);
	CHECK_EQ(c.ndrive, 1);
	CHECK_EQ(c.ndevice, 1);
	CHECK_EQ(c.device[0].kind, DEVICE_VIRTIO_BLK);
	CHECK_EQ(c.device[0].blk.drive, 0);
	CHECK(!c.drive[0].readonly);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-device", "virtio-blk-pci,drive=d0,serial=abc",
		    "-drive", "file=/proc/self/exe,if=none,id=d0,readonly=on") == CONFIG_OK);
	CHECK_EQ(c.ndevice, 1);
	CHECK_EQ(c.device[0].transport, VIRTIO_TRANSPORT_PCI);
	CHECK(c.drive[0].readonly);
	CHECK_STR(c.device[0].blk.serial, "abc");
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev",
		    "user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.0.2.15:53",
		    "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56") == CONFIG_OK);
	CHECK_EQ(c.netdev[0].kind, NETDEV_USER);
	CHECK_EQ(c.netdev[0].nhostfwd, 2);
	CHECK_EQ(c.netdev[0].hostfwd[0].host_port, 2222);
	CHECK_EQ(c.netdev[0].hostfwd[0].guest_port, 22);
	CHECK_EQ(c.netdev[0].hostfwd[0].host_addr, 0x0100007f);
	CHECK(c.netdev[0].hostfwd[1].udp);
	CHECK_EQ(c.netdev[0].hostfwd[1].guest_addr, 0x0f02000a);
	CHECK(c.device[0].net.mac_set);
	CHECK_EQ(c.device[0].net.mac[5], 0x56);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev", "tap,id=n0,ifname=tap0,script=no",
		    "-device", "virtio-net-device,netdev=n0") == CONFIG_OK);
	CHECK_EQ(c.netdev[0].kind, NETDEV_TAP);
	CHECK_STR(c.netdev[0].ifname, "tap0");
	CHECK_EQ(c.device[0].transport, VIRTIO_TRANSPORT_MMIO);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-serial", "none", "-device", "virtio-rng-pci",
		    "-device", "virtio-serial-pci", "-chardev", "stdio,id=c0", "-device",
		    "virtconsole,chardev=c0") == CONFIG_OK);
	CHECK_EQ(c.ndevice, 3);
	CHECK_EQ(c.device[2].kind, DEVICE_VIRTCONSOLE);
	CHECK_EQ(c.device[2].console.chardev, 0);
	/* The terminal has one reader: the serial port, or one virtconsole. */
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-device", "virtio-serial-pci", "-chardev",
		    "stdio,id=c0", "-device", "virtconsole,chardev=c0") < 0);
	CHECK(strstr(e.msg, "c0") != NULL);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-serial", "none", "-device", "virtio-serial-pci",
		    "-chardev", "stdio,id=c0", "-chardev", "stdio,id=c1", "-device",
		    "virtconsole,chardev=c0", "-device", "virtconsole,chardev=c1") < 0);
	CHECK(strstr(e.msg, "c1") != NULL);
	config_free(&c);
	/* ... and their errors, each naming the input. */
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-drive", "file=/nonexistent/disk.img") < 0);
	CHECK(strstr(e.msg, "/nonexistent/disk.img") != NULL);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-drive", "file=/proc/self/exe,format=qcow2") < 0);
	CHECK(strstr(e.msg, "qcow2") != NULL);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-drive", "file=/proc/self/exe,if=none") < 0);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-device", "virtio-blk-pci,drive=nope") < 0);
	CHECK(strstr(e.msg, "nope") != NULL);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-device", "virtio-blk-pci") < 0);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev", "user,id=n0,hostfwd=tcp:1.2.3:22-:22",
		    "-device", "virtio-net-pci,netdev=n0") < 0);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev", "user,id=n0,hostfwd=tcp::99999-:22") < 0);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev", "bridge,id=n0") < 0);
	CHECK(strstr(e.msg, "bridge") != NULL);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev", "tap,id=n0,ifname=tap0,script=/etc/qemu-ifup")
	      < 0);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev", "user,id=n0", "-device",
		    "virtio-net-pci,netdev=n0,mac=01:00:00:00:00:01") < 0);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-netdev", "user,id=n0", "-device",
		    "virtio-net-pci,netdev=n0", "-device", "virtio-net-pci,netdev=n0") < 0);
	CHECK(strstr(e.msg, "already in use") != NULL);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-device", "virtconsole,chardev=c9") < 0);
	CHECK(PARSE(&c, &e, "-kernel", (char *)k, "-chardev", "socket,id=c0") < 0);

	/* --help and --version print and ask to exit 0. */
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	CHECK(PARSE(&c, &e, "--help") == CONFIG_EXIT);
	CHECK(PARSE(&c, &e, "--version") == CONFIG_EXIT);
	CHECK(PARSE(&c, &e, "-accel", "help") == CONFIG_ACCEL_HELP);
	fclose(stdout);
	stdout = saved;
	return test_exit();
}
