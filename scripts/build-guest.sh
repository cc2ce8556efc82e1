#!/usr/bin/env bash
# Build the kemu demo/test guest from Debian's packages only.
#
# The kernel and busybox are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` (nothing is installed on the host). Outputs, cached in
#   ${KEMU_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu/guest}:
#   vmlinuz     Debian's bzImage (linux-image-<ver>, the -unsigned flavour if any)
#   vmlinux     the ELF kernel, decompressed from the bzImage payload
#   initrd.img  gzip'd newc cpio: static busybox, virtio modules, /init
#   version     the kernel release (`uname -r` inside the guest)
#   stamp       what the outputs were built from (package versions, recipe hash)
#   debs/       the downloaded .debs, so a rebuild needs no network
#
# Idempotent: when the outputs exist and match what apt-cache reports (or apt
# can't tell / can't be reached), it does nothing. Needs no network when the
# cache is complete. Reproducible: fixed file order, mtimes, owners, inodes.
#
# Guest behaviour: /init mounts proc/sys/devtmpfs, insmods the virtio drivers,
# prints "kemu-guest: init reached" and runs a shell on the console, or powers
# off right away when the kernel command line has `kemu.poweroff`.
set -euo pipefail
umask 022
export LC_ALL=C

OUT=${KEMU_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu/guest}
HOSTNAME_GUEST=kemu-guest
MARKER="kemu-guest: init reached"

# Kernel modules wanted in the guest, in the order given; each one's module
# dependencies are loaded before it. Built-in or absent ones are skipped.
MODULES=(
    virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev
    virtio_pci virtio_mmio virtio_blk
    failover net_failover virtio_net
    virtio_console
    rng_core virtio_rng
    # ext4 for the virtio-blk tests (tests/guest/test_virtio.py); its crc32c
    # checksums come through the crypto API, which would otherwise ask
    # modprobe for a module this initramfs has no alias for.
    crc32c_generic ext4
)

exec 3>&1  # log output, also from inside $(...)
log() { echo "build-guest: $*" >&3; }
die() { echo "build-guest: error: $*" >&2; exit 1; }

self=$(readlink -f "${BASH_SOURCE[0]}")
# Static test programs that go into the guest's /usr/local/bin.
PROGS=$(dirname "$self")/../tests/guest/progs
RECIPE=$(cat "$self" "$PROGS"/*.c | sha256sum | cut -d' ' -f1)
OUTPUTS=(vmlinuz vmlinux initrd.img version stamp)

for tool in python3 dpkg-deb cpio gzip sha256sum flock; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (run scripts/deps.sh)"
done

# ---------------------------------------------------------------- versions --

# Sets KVER (uname -r), KDEB_VER (kernel package version), BB_VER and KPKGS
# (the kernel packages to try, preferred first). One apt-cache call where it
# can: without a package cache (Docker's apt config) each call costs ~1.5 s.
resolve() {
    local info dep
    info=$(apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null |
        awk '/^Package:/ { p = $2 }
             p == "busybox-static" && /^Version:/ { print "bb", $2 }
             p == "linux-image-amd64" && /^Depends:/ {
                 if (match($0, /linux-image-[0-9][^ ,]*-amd64( \(= [^)]*\))?/)) {
                     s = substr($0, RSTART, RLENGTH); gsub(/[()=]/, "", s); print "dep", s
                 }
             }')
    dep=$(awk '$1 == "dep" { print $2 }' <<<"$info")
    KDEB_VER=$(awk '$1 == "dep" { print $3 }' <<<"$info")
    BB_VER=$(awk '$1 == "bb" { print $2 }' <<<"$info")
    [[ -n "$dep" && -n "$BB_VER" ]] || return 1
    if [[ -z "$KDEB_VER" ]]; then  # unversioned Depends: ask for the candidate
        KDEB_VER=$(apt-cache show --no-all-versions "$dep" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
        [[ -n "$KDEB_VER" ]] || return 1
    fi
    KVER=${dep#linux-image-}
    # The -unsigned build is the same kernel without the signature wrapper;
    # same source, same version. If it isn't available the download falls back.
    KPKGS=("$dep-unsigned" "$dep")
    KPKG=${KPKGS[0]}
}

# What the outputs depend on. The package flavour (signed/unsigned) is left
# out: both carry the same kernel.
stamp_key() {
    printf 'kernel_version=%s\nkernel_release=%s\nbusybox_version=%s\nrecipe=%s\n' \
        "$KDEB_VER" "$KVER" "$BB_VER" "$RECIPE"
}
stamp_text() { printf 'kernel_package=%s\n' "$KPKG"; stamp_key; }

stamp_get() { sed -n "s/^$1=//p" "$OUT/stamp" 2>/dev/null; }

complete() {
    local f
    for f in "${OUTPUTS[@]}"; do [[ -s "$OUT/$f" ]] || return 1; done
}

# apt-get's name for a downloaded .deb (epoch colon escaped).
deb_name() { echo "${1}_${2//:/%3a}_amd64.deb"; }

updated=0
apt_update() {
    ((updated == 0)) || return 1
    updated=1
    ((EUID == 0)) || return 1
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >"$OUT/.apt.log" 2>&1
}

mkdir -p "$OUT" || die "cannot create $OUT"
# One build at a time per cache dir (parallel test runners may all call this).
exec 9>"$OUT/.lock"
flock 9 || die "cannot lock $OUT/.lock"

if ! resolve; then
    # No usable package lists: fall back to what the last build recorded.
    if [[ -s "$OUT/stamp" ]]; then
        KPKG=$(stamp_get kernel_package) KDEB_VER=$(stamp_get kernel_version)
        KVER=$(stamp_get kernel_release) BB_VER=$(stamp_get busybox_version)
        KPKGS=("$KPKG")
    fi
    if [[ -z "${KPKG:-}" || ! -s "$OUT/debs/$(deb_name "$KPKG" "$KDEB_VER")" ||
        ! -s "$OUT/debs/$(deb_name busybox-static "$BB_VER")" ]]; then
        if complete; then
            log "apt-cache can't resolve the kernel; keeping the cached guest ($(cat "$OUT/version"))"
            exit 0
        fi
        { apt_update && resolve; } ||
            die "apt-cache can't resolve linux-image-amd64 / busybox-static (apt-get update failed or not root)"
    fi
fi

if complete && [[ "$(stamp_key)" == "$(grep -v '^kernel_package=' "$OUT/stamp")" ]]; then
    log "up to date: $KVER ($(stamp_get kernel_package) $KDEB_VER, busybox $BB_VER) in $OUT"
    exit 0
fi

# --------------------------------------------------------------- download --

# Download the .debs not in $OUT/debs yet; sets KPKG to the kernel package
# used (the first of KPKGS that is cached or downloads). 1 on failure.
download() {
    local pkg
    mkdir -p "$OUT/debs"
    : >"$OUT/.apt.log"
    if [[ ! -s "$OUT/debs/$(deb_name busybox-static "$BB_VER")" ]]; then
        log "downloading busybox-static $BB_VER"
        (cd "$OUT/debs" && apt-get download -q "busybox-static=$BB_VER") >>"$OUT/.apt.log" 2>&1 || return 1
    fi
    for pkg in "${KPKGS[@]}"; do
        KPKG=$pkg
        [[ -s "$OUT/debs/$(deb_name "$pkg" "$KDEB_VER")" ]] && return 0
    done
    for pkg in "${KPKGS[@]}"; do
        KPKG=$pkg
        log "downloading $pkg $KDEB_VER"
        (cd "$OUT/debs" && apt-get download -q "$pkg=$KDEB_VER") >>"$OUT/.apt.log" 2>&1 && return 0
    done
    return 1
}

if ! download; then
    if complete; then
        log "warning: cannot download kernel $KDEB_VER / busybox $BB_VER; keeping the cached guest ($(cat "$OUT/version"))"
        exit 0
    fi
    # Stale package lists (superseded security versions vanish): refresh once.
    if apt_update && resolve && download; then
        :
    else
        die "apt-get download of linux-image-$KVER $KDEB_VER / busybox-static $BB_VER failed: $(grep -E '^(E|Err):' "$OUT/.apt.log" 2>/dev/null | head -n1)"
    fi
fi
KDEB=$OUT/debs/$(deb_name "$KPKG" "$KDEB_VER")
BBDEB=$OUT/debs/$(deb_name busybox-static "$BB_VER")
# Drop .debs of other versions.
for f in "$OUT"/debs/*.deb; do
    [[ "$f" == "$KDEB" || "$f" == "$BBDEB" ]] || rm -f "$f"
done
rm -f "$OUT/.apt.log"

# ------------------------------------------------------------------ build --

log "building guest: kernel $KVER ($KPKG $KDEB_VER), busybox $BB_VER"
WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "unpacking $(basename "$KDEB")"
dpkg-deb -x "$KDEB" "$WORK/kernel" || die "dpkg-deb -x $(basename "$KDEB") failed"
dpkg-deb -x "$BBDEB" "$WORK/busybox" || die "dpkg-deb -x $(basename "$BBDEB") failed"

MODDIR=$WORK/kernel/lib/modules/$KVER
[[ -s "$WORK/kernel/boot/vmlinuz-$KVER" ]] || die "no boot/vmlinuz-$KVER in $(basename "$KDEB")"
[[ -d "$MODDIR" ]] || die "no lib/modules/$KVER in $(basename "$KDEB")"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"

# bzImage -> ELF vmlinux. The compressed payload is located through the boot
# protocol setup header: setup_sects (0x1f1) gives where the protected-mode
# part starts, payload_offset/payload_length (0x248/0x24c) where the payload is
# inside it. The compression is recognised by its magic.
python3 - "$WORK/vmlinuz" "$WORK/vmlinux" <<'PY' || die "extracting vmlinux from the bzImage failed"
import bz2, lzma, struct, subprocess, sys, zlib

src, dst = sys.argv[1], sys.argv[2]
d = open(src, "rb").read()
if d[0x202:0x206] != b"HdrS":
    sys.exit("not a bzImage (no HdrS)")
proto = struct.unpack_from("<H", d, 0x206)[0]
if proto < 0x208:
    sys.exit("boot protocol %#x has no payload fields" % proto)
setup_sects = d[0x1F1] or 4
pm_start = (setup_sects + 1) * 512
off, length = struct.unpack_from("<II", d, 0x248)
p = d[pm_start + off : pm_start + off + length]
if len(p) != length:
    sys.exit("payload runs past the end of the file")

def cli(*cmd):
    # kbuild appends the 4-byte uncompressed size after the stream; drop it.
    r = subprocess.run(cmd, input=p[:-4], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode or not r.stdout:
        sys.exit("%s: %s" % (" ".join(cmd), r.stderr.decode(errors="replace").strip()))
    return r.stdout

formats = [
    (b"\x1f\x8b", "gzip", lambda: zlib.decompressobj(31).decompress(p)),
    (b"\xfd7zXZ\x00", "xz", lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(p)),
    (b"\x5d\x00\x00", "lzma", lambda: lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(p)),
    (b"BZh", "bzip2", lambda: bz2.BZ2Decompressor().decompress(p)),
    (b"\x28\xb5\x2f\xfd", "zstd", lambda: cli("zstd", "-dcq")),
    (b"\x02\x21\x4c\x18", "lz4", lambda: cli("lz4", "-dcq")),
    (b"\x89LZO", "lzo", lambda: cli("lzop", "-dcq")),
]
for magic, name, fn in formats:
    if p.startswith(magic):
        out = fn()
        break
else:
    sys.exit("unknown payload compression, magic %s" % p[:6].hex())
if out[:4] != b"\x7fELF" or out[4] != 2 or struct.unpack_from("<H", out, 18)[0] != 62:
    sys.exit("decompressed %s payload is not an x86-64 ELF" % name)
size = struct.unpack_from("<I", p, len(p) - 4)[0]
if size != len(out):
    sys.exit("%s payload: %d bytes out, trailer says %d" % (name, len(out), size))
open(dst, "wb").write(out)
print("build-guest: vmlinux: %s payload, %d -> %d bytes" % (name, length, len(out)))
PY

# ---------------------------------------------------------------- rootfs --
R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,run,tmp,root,mnt} \
    "$R/lib/modules/$KVER"
chmod 1777 "$R/tmp"

for src in "$PROGS"/*.c; do
    prog=$(basename "$src" .c)
    gcc -static -O2 -o "$R/usr/local/bin/$prog" "$src" -lm || die "cannot build $prog"
done

BB=$WORK/busybox/bin/busybox
[[ -x "$BB" ]] || die "no bin/busybox in $(basename "$BBDEB")"
install -m 0755 "$BB" "$R/bin/busybox"
applets=$("$BB" --list-full) || die "cannot run $BB --list-full"
n=0
while read -r path; do
    [[ -n "$path" && ! -e "$R/$path" && ! -L "$R/$path" ]] || continue
    mkdir -p "$R/$(dirname "$path")"
    ln -s /bin/busybox "$R/$path"
    n=$((n + 1))
done <<<"$applets"
log "busybox: $n applet links"

# Modules: resolve the load order from each module's .modinfo `depends=`
# (Debian's package ships no modules.dep: depmod runs at install time), copy
# them decompressed (busybox insmod can't read .ko.xz/.ko.zst), write a
# modules.dep for them, and print their paths in load order.
LOAD=$(python3 - "$MODDIR" "$R/lib/modules/$KVER" "${MODULES[@]}" <<'PY'
import gzip, lzma, os, shutil, struct, subprocess, sys

src, dst, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
log = os.fdopen(3, "w")  # the script's stdout; this one's is captured
norm = lambda n: n.replace("-", "_")
def modname(path):
    b = os.path.basename(path)
    return norm(b[: b.index(".ko")])

files = {}  # name -> path relative to src
for dirpath, _, names in os.walk(os.path.join(src, "kernel")):
    for f in names:
        if f.endswith((".ko", ".ko.xz", ".ko.zst", ".ko.gz")):
            rel = os.path.relpath(os.path.join(dirpath, f), src)
            files[modname(rel)] = rel
builtin = set()
if os.path.exists(os.path.join(src, "modules.builtin")):
    builtin = {modname(l.strip()) for l in open(os.path.join(src, "modules.builtin")) if l.strip()}

def load(rel):
    data = open(os.path.join(src, rel), "rb").read()
    if rel.endswith(".xz"):
        return lzma.decompress(data)
    if rel.endswith(".gz"):
        return gzip.decompress(data)
    if rel.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE, check=True).stdout
    return data

def modinfo(elf):
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise SystemExit("not an ELF64 module")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sec = lambda i: struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
    stroff = sec(shstrndx)[4]
    for i in range(shnum):
        name, _, _, _, off, size = sec(i)
        if elf[stroff + name : elf.index(b"\0", stroff + name)] == b".modinfo":
            info = {}
            for kv in elf[off : off + size].split(b"\0"):
                if b"=" in kv:
                    k, v = kv.decode(errors="replace").split("=", 1)
                    info.setdefault(k, v)
            return info
    return {}

order, deps, absent, done = [], {}, [], set()
def visit(name, stack=()):
    if name in done:
        return
    done.add(name)
    if name not in files:
        if name not in builtin:
            absent.append(name)
        return
    elf = load(files[name])
    deps[name] = [norm(d) for d in modinfo(elf).get("depends", "").split(",") if d]
    for d in deps[name]:
        visit(d)
    rel = files[name].rsplit(".ko", 1)[0] + ".ko"
    os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
    with open(os.path.join(dst, rel), "wb") as f:
        f.write(elf)
    order.append(name)

for w in wanted:
    visit(norm(w))
rel = lambda n: files[n].rsplit(".ko", 1)[0] + ".ko"
def closure(n, acc):
    for d in deps[n]:
        if d in deps and d not in acc:
            acc.add(d)
            closure(d, acc)
    return acc
with open(os.path.join(dst, "modules.dep"), "w") as f:
    for n in order:  # depmod's format: the last dependency is loaded first
        c = closure(n, set())
        f.write("%s: %s\n" % (rel(n), " ".join(rel(d) for d in reversed(order) if d in c)))
log.write("build-guest: modules: %s\n" % " ".join(order))
log.write("build-guest: built-in: %s\n" % (" ".join(sorted(n for n in map(norm, wanted) if n in builtin and n not in files)) or "none"))
if absent:
    log.write("build-guest: not in this kernel (skipped): %s\n" % " ".join(absent))
for n in order:
    print(rel(n))
PY
) || die "resolving kernel modules failed"

# /etc
cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
EOF
echo "$HOSTNAME_GUEST" >"$R/etc/hostname"
cat >"$R/etc/profile" <<'EOF'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export PS1='~ # '
EOF

# udhcpc runs this script on lease events (busybox looks for it at
# /etc/udhcpc/default.script; Debian's documented path is linked to it), so
# `udhcpc -i eth0 -n -q` leaves the interface configured: address, default
# route and resolver from the lease.
mkdir -p "$R/etc/udhcpc" "$R/usr/share/udhcpc"
cat >"$R/etc/udhcpc/default.script" <<'SCRIPT'
#!/bin/sh
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound | renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    for r in $router; do
        ip route replace default via "$r" dev "$interface"
        break
    done
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    echo "udhcpc: $interface $ip/${mask:-24} router ${router:-none}"
    ;;
esac
exit 0
SCRIPT
chmod 0755 "$R/etc/udhcpc/default.script"
ln -s /etc/udhcpc/default.script "$R/usr/share/udhcpc/default.script"

# /init
{
    cat <<EOF
#!/bin/sh
# kemu test guest init, generated by scripts/build-guest.sh. Kernel $KVER.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=linux PS1='~ # '
KVER=$KVER
EOF
    cat <<'EOF'

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
hostname -F /etc/hostname

load() { insmod "/lib/modules/$KVER/$1" || echo "kemu-guest: insmod $1 failed"; }
EOF
    while read -r m; do
        [[ -n "$m" ]] && echo "load $m"
    done <<<"$LOAD"
    cat <<EOF

echo "$MARKER"
EOF
    cat <<'EOF'
case " $(cat /proc/cmdline) " in
*" kemu.poweroff "* | *" kemu.poweroff="*)
    sync
    poweroff -f
    ;;
esac

cd "$HOME"
# kemu.hvc: a second shell on the virtio console (hvc0), in the background,
# while the serial console keeps its own. Not through cttyhack: it picks
# "the console" from /sys/class/tty/console/active (ttyS0 here), not from
# stdin. A session leader without a controlling tty that opens hvc0 gets it
# as its controlling tty, which job control and Ctrl-C need.
case " $(cat /proc/cmdline) " in
*" kemu.hvc "*)
    (
        # The port appears once virtio_console has probed the device.
        i=0
        while [ ! -c /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        while :; do
            setsid sh -c 'exec <>/dev/hvc0 >&0 2>&0; echo "kemu-guest: hvc0 shell"; exec sh -l'
            sleep 1  # no busy loop if hvc0 is missing or broken
        done
    ) &
    ;;
esac
while :; do
    setsid cttyhack sh -l
done
EOF
} >"$R/init"
chmod 0755 "$R/init"

# /dev/console must exist before /init runs (the kernel opens it for init's
# stdio); devtmpfs is mounted only by /init. It is appended as a second newc
# archive written here, so no mknod (and no root) is needed.
log "packing initrd.img"
find "$R" -exec touch -h -d @0 {} +
(
    cd "$R"
    find . -mindepth 1 -print0 | sort -z |
        cpio --null --create --format=newc --owner=0:0 --reproducible --quiet
    python3 - <<'PY'
import sys
def entry(name, mode, rmajor=0, rminor=0, ino=0):
    name = name.encode() + b"\0"
    hdr = b"070701" + b"".join(b"%08X" % v for v in (
        ino, mode, 0, 0, 1, 0, 0, 0, 0, rmajor, rminor, len(name), 0))
    out = hdr + name
    return out + b"\0" * (-len(out) % 4)
sys.stdout.buffer.write(entry("dev/console", 0o020600, 5, 1, 0x7fff0001) + entry("TRAILER!!!", 0))
PY
) | gzip -9 -n >"$WORK/initrd.img" || die "packing the initramfs failed"

echo "$KVER" >"$WORK/version"
stamp_text >"$WORK/stamp"
# Install; the stamp goes last so an interrupted run is never taken as complete.
rm -f "$OUT/stamp"
for f in vmlinuz vmlinux initrd.img version stamp; do
    mv -f "$WORK/$f" "$OUT/$f"
done
log "done: $OUT/{vmlinuz,vmlinux,initrd.img,version} ($KVER, initrd $(du -k "$OUT/initrd.img" | cut -f1) KiB)"
