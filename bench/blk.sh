#!/usr/bin/env bash
# virtio-blk benchmark: kemu -accel tcg against qemu-system-x86_64 -accel tcg
# -M pc, same Debian guest, same kind of disk, in the same run.
#
#   bench/blk.sh [KEMU [GUEST_DIR]]
#     KEMU       default build/kemu
#     GUEST_DIR  default ~/.cache/kemu/guest (scripts/build-guest.sh)
#   env: MIB (256)     MiB written and read sequentially per run
#        SECS (10)     seconds of 4 KiB random reads per run
#        RUNS (3)      blkbench runs per VMM, in one boot (median reported)
#        TIMEOUT (300) seconds allowed for the boot and for each run
#        QEMU (qemu-system-x86_64)
#
# Each VMM boots with a fresh 512 MiB sparse raw image on
#   -drive file=IMG,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0
# and runs tests/guest/progs/blkbench.c on /dev/vda, O_DIRECT inside the
# guest: sequential write then read, 1 MiB requests (MiB/s; the write
# includes the final flush), then 4 KiB random reads one at a time (IOPS).
# The image is a file on the host, so the host page cache is in the path for
# both VMMs alike. Ratios are kemu/qemu: > 1 means kemu is FASTER here (these
# are rates, not times). The last line is one JSON object. Exits 1 if a VMM
# fails to boot or blkbench fails.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

kemu=${1:-build/kemu}
gdir=${2:-${KEMU_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu/guest}}
qemu=${QEMU:-qemu-system-x86_64}

for f in "$kemu" "$gdir/vmlinuz" "$gdir/initrd.img"; do
    [[ -e $f ]] || { echo "blk.sh: missing $f (build kemu, then scripts/build-guest.sh)" >&2; exit 1; }
done
# The guest cache is shared: a build from a tree without blkbench.c lacks it.
if ! gzip -dc "$gdir/initrd.img" | cpio -t 2>/dev/null | grep -qx usr/local/bin/blkbench; then
    echo "blk.sh: $gdir/initrd.img has no blkbench (run scripts/build-guest.sh)" >&2; exit 1
fi

echo "kemu virtio-blk benchmark (-accel tcg)"
bench_machine
if command -v "$qemu" >/dev/null; then
    qemu=$(command -v "$qemu")
    echo "qemu     $qemu ($("$qemu" --version | head -n1))"
else
    echo "note     $qemu not found (scripts/deps.sh --bench installs it): kemu only"
    qemu=
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kemu-blk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "kemu     $kemu; ${RUNS:-3} runs per VMM of ${MIB:-256} MiB sequential +" \
     "${SECS:-10} s random; image in $tmp ($(df -T "$tmp" | awk 'NR == 2 { print $2 }'))"

PYTHONPATH="$(dirname "$0")/../tests/guest${PYTHONPATH:+:$PYTHONPATH}" \
python3 - "$kemu" "$qemu" "$gdir" "$tmp" "${MIB:-256}" "${SECS:-10}" "${RUNS:-3}" \
          "${TIMEOUT:-300}" <<'EOF'
import json, os, re, statistics, sys
from harness import Guest, HarnessError

kemu, qemu, gdir, tmp = sys.argv[1:5]
mib, secs, runs, timeout = int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
FIGS = [("seq_write", "MiB/s"), ("seq_read", "MiB/s"), ("rand_read_4k", "IOPS")]

vmms = {"kemu": [kemu, "-accel", "tcg"]}
if qemu:
    vmms["qemu"] = [qemu, "-accel", "tcg", "-M", "pc", "-nic", "none"]

def measure(vmm):
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:  # fresh and sparse: both VMMs start alike
        f.truncate(512 << 20)
    argv = vmms[vmm] + ["-m", "512M", "-smp", "1", "-no-reboot", "-nographic",
                        "-kernel", f"{gdir}/vmlinuz", "-initrd", f"{gdir}/initrd.img",
                        "-append", "console=ttyS0 quiet",
                        "-drive", f"file={img},format=raw,if=none,id=d0",
                        "-device", "virtio-blk-pci,drive=d0"]
    res = {k: [] for k, _ in FIGS}
    with Guest(argv) as g:
        g.expect(r"kemu-guest: init reached", timeout)
        g.expect(r"~ # ", 60)
        for i in range(runs):
            g.send(f"blkbench -w /dev/vda {mib} {secs:g}; echo blkbench-rc=$?\n")
            for k, unit in FIGS:
                m = g.expect(rf"blkbench: {k} ([\d.]+) {unit}|blkbench: .*(?:error|failed|short).*", timeout)
                if m.group(1) is None:
                    g.fail("blkbench: " + m.group(0))
                res[k].append(float(m.group(1)))
            g.expect(r"blkbench-rc=0", timeout)
            g.expect(r"~ # ", 60)
            print(f"  {vmm} run {i + 1}/{runs}: " + ", ".join(
                f"{k} {res[k][-1]:g} {u}" for k, u in FIGS), flush=True)
        g.send("poweroff -f\n")
        g.expect_exit(0, 60)
    return res

try:
    res = {vmm: measure(vmm) for vmm in vmms}
except HarnessError as e:
    sys.exit(f"blk.sh: {e}")

med = lambda xs: statistics.median(xs) if xs else None
print(f"\n{'':14} {'kemu median':>14}  {'qemu median':>14}  kemu/qemu")
out = {}
for k, unit in FIGS:
    kv, qv = med(res["kemu"][k]), med(res.get("qemu", {}).get(k))
    r = kv / qv if kv and qv else None
    cell = lambda v: f"{v:8.1f} {unit:5}" if v is not None else f"{'-':>14}"
    print(f"{k:14} {cell(kv)}  {cell(qv)}  {r:9.2f}" if r else f"{k:14} {cell(kv)}  {cell(qv)}  {'-':>9}")
    out[k] = {"unit": unit, "kemu": round(kv, 1), "qemu": qv and round(qv, 1),
              "ratio": r and round(r, 3), "kemu_runs": res["kemu"][k],
              "qemu_runs": res.get("qemu", {}).get(k)}
print(f"""
blkbench in the guest on /dev/vda (virtio-blk-pci, raw 512 MiB sparse
  image), O_DIRECT: {mib} MiB written then read in 1 MiB requests (the write
  ends with fdatasync), then 4 KiB random reads within those {mib} MiB for
  {secs:g} s, one at a time. Median of {runs} runs in one boot per VMM. Ratios
  are kemu/qemu of rates: > 1 means kemu is faster.""")
print(json.dumps({"bench": "blk", "mib": mib, "secs": secs, "runs": runs,
                  "qemu": bool(qemu), **out}))
EOF
