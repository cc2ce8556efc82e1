#!/usr/bin/env bash
# Install the Debian packages kemu needs to build and test, only the missing ones.
#
#   scripts/deps.sh           build + test dependencies
#   scripts/deps.sh --bench   also the optional reference/bench group (QEMU)
#
# A machine that already has everything runs no apt at all (fast, offline-safe).
# `apt-get update` runs at most once, and only when something must be installed.
# Meant for Debian 12 as root (or via sudo when not root).
set -euo pipefail

# Build and test dependencies. Add new packages here, one per line.
PACKAGES=(
    build-essential     # gcc, make, libc headers
    meson
    ninja-build
    pkg-config
    python3
    binutils
    cpio                # guest initramfs (scripts/build-guest.sh)
    gzip
    xz-utils
    zstd
    liblzma-dev         # kernel image decompression in the loader
    libzstd-dev
    zlib1g-dev
    liburing-dev        # io_uring block I/O engine
    busybox-static      # guest userland (build-guest.sh downloads its own copy too)
    e2fsprogs           # mkfs.ext4 for test disk images
    iproute2            # tap/bridge setup for network tests
    libslirp-dev        # -netdev user (its pkg-config file requires glib's)
    libglib2.0-dev
)

# Optional: reference implementation for comparisons and benchmarks.
BENCH_PACKAGES=(
    qemu-system-x86
    ipxe-qemu           # NIC option ROMs (QEMU's default NIC needs them)
    qemu-utils          # qemu-img
)

want=("${PACKAGES[@]}")
for arg in "$@"; do
    case "$arg" in
        --bench) want+=("${BENCH_PACKAGES[@]}") ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "deps: unknown option: $arg (use --bench)" >&2; exit 2 ;;
    esac
done

missing=()
for pkg in "${want[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

((${#missing[@]} == 0)) && exit 0

sudo=()
if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: installing: ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${sudo[@]}" apt-get update -q >"$log" 2>&1; then
    echo "deps: apt-get update failed: $(grep -E '^(E|Err):' "$log" | head -n1)" >&2
    exit 1
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    echo "deps: apt-get install failed: $(grep -E '^E:' "$log" | head -n1)" >&2
    exit 1
fi
echo "deps: done"
