#!/usr/bin/env bash
# Boots the demo guest (Debian kernel + busybox initramfs) on the terminal.
# Ctrl-A x ends kemu; `poweroff` in the guest does too.
set -euo pipefail
kemu=${1:-build/kemu}
dir=${KEMU_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu/guest}

if [ -e /sys/module/kvm_pvm ] && ! "$kemu" -accel help | grep -qx tcg; then
	echo "run-demo: this host's /dev/kvm is PVM, which cannot run a Linux kernel at speed," >&2
	echo "run-demo: and this build has no software CPU yet; booting the bare test kernel instead." >&2
	exec "$kemu" -kernel "$(dirname "$kemu")/tests/kernels/hello.elf" -append "demo" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x4 -nographic
fi
exec "$kemu" -m 512M -smp 2 -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
	-append "console=ttyS0" -nographic
