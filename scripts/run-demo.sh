#!/usr/bin/env bash
# Boots the demo guest (Debian kernel + busybox initramfs) on the terminal.
# kemu picks KVM where it runs guest kernels natively, else its software
# CPU, and says which. Ctrl-A x ends kemu; `poweroff -f` in the guest does too.
set -euo pipefail
kemu=${1:-build/kemu}
dir=${KEMU_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu/guest}
exec "$kemu" -m 512M -smp 2 -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
	-append "console=ttyS0" -nographic
