#!/usr/bin/env bash
# virtio-net benchmark: TCP throughput guest -> host, kemu -accel tcg against
# qemu-system-x86_64 -accel tcg -M pc, same Debian guest, in the same run.
#
#   bench/net.sh [KEMU [GUEST_DIR]]
#     KEMU       default build/kemu
#     GUEST_DIR  default ~/.cache/kemu/guest (scripts/build-guest.sh)
#   env: MIB (64)      MiB per httpd transfer
#        NC_MIB (16)   MiB per nc transfer (nc is slow, see below)
#        RUNS (3)      transfers per VMM and back end, in one boot (median)
#        TIMEOUT (300) seconds allowed for the boot and for each transfer
#        QEMU (qemu-system-x86_64)
#
# Back ends, each with -device virtio-net-pci:
#   user  -netdev user (libslirp in kemu, slirp in QEMU); the sink listens
#         on the host's 127.0.0.1, the guest sends to 10.0.2.2.
#   tap   -netdev tap,ifname=ktap0,script=no inside a network namespace this
#         script creates (and deletes): the tap has 192.168.77.1/24, the
#         guest 192.168.77.2, the sink and the VMM run in the namespace.
#         Skipped, with the reason, without /dev/net/tun or `ip netns`.
# Two senders in the guest, both timed on the host from the first byte
# received to the last (boot, DHCP and connection set-up not counted):
#   nc     `dd if=/dev/zero bs=64k | nc HOST PORT` to a sink on the host.
#          busybox nc copies through a ~1 KiB buffer, so this is mostly
#          guest CPU (a syscall and a segment per KiB on a software CPU).
#   httpd  the host fetches a MIB MiB file from busybox httpd in the guest
#          (tmpfs, sendfile: large segments); through hostfwd for user.
# Ratios are kemu/qemu: > 1 means kemu is
# FASTER (rates). The last line is one JSON object. Exits 1 if a VMM fails
# to boot or a transfer comes up short.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

kemu=${1:-build/kemu}
gdir=${2:-${KEMU_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu/guest}}
qemu=${QEMU:-qemu-system-x86_64}

for f in "$kemu" "$gdir/vmlinuz" "$gdir/initrd.img"; do
    [[ -e $f ]] || { echo "net.sh: missing $f (build kemu, then scripts/build-guest.sh)" >&2; exit 1; }
done

echo "kemu virtio-net benchmark (-accel tcg)"
bench_machine
if command -v "$qemu" >/dev/null; then
    qemu=$(command -v "$qemu")
    echo "qemu     $qemu ($("$qemu" --version | head -n1))"
else
    echo "note     $qemu not found (scripts/deps.sh --bench installs it): kemu only"
    qemu=
fi

# The namespace for the TAP runs: a tap device with an address, no route
# out. Deleted on exit, whatever happens.
ns=kemu-bench-$$
tap_skip=
if [[ ! -c /dev/net/tun ]]; then
    tap_skip="no /dev/net/tun"
elif ! ip netns add "$ns" 2>/dev/null; then
    tap_skip="ip netns add failed (not root?)"
else
    trap 'ip netns del "$ns" 2>/dev/null' EXIT
    if ! { ip netns exec "$ns" ip link set lo up &&
           ip netns exec "$ns" ip tuntap add dev ktap0 mode tap &&
           ip netns exec "$ns" ip addr add 192.168.77.1/24 dev ktap0 &&
           ip netns exec "$ns" ip link set ktap0 up; } 2>/dev/null; then
        tap_skip="cannot set up ktap0 in the namespace"
    fi
fi
echo "kemu     $kemu; ${RUNS:-3} transfers per VMM, back end and sender" \
     "${tap_skip:+(tap skipped: $tap_skip)}"

PYTHONPATH="$(dirname "$0")/../tests/guest${PYTHONPATH:+:$PYTHONPATH}" \
python3 - "$kemu" "$qemu" "$gdir" "${MIB:-64}" "${NC_MIB:-16}" "${RUNS:-3}" \
          "${TIMEOUT:-300}" "$ns" "$tap_skip" <<'EOF'
import json, socket, statistics, subprocess, sys
from harness import Guest, HarnessError

kemu, qemu, gdir = sys.argv[1:4]
mib, nc_mib, runs = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
timeout, ns, tap_skip = float(sys.argv[7]), sys.argv[8], sys.argv[9]

# Host side, as separate processes so that they can run inside the
# namespace for the tap back end. Both print {"bytes", "secs"}, secs from
# the first byte received to EOF.
# SINK ADDR: listens (prints its port first), one line per connection.
SINK = r"""
import json, socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    n, t0, t1 = 0, None, None
    while data := c.recv(1 << 20):
        t1 = time.perf_counter()
        t0 = t0 or t1
        n += len(data)
    c.close()
    print(json.dumps({"bytes": n, "secs": (t1 - t0) if n else 0}), flush=True)
"""
# FETCH HOST PORT PATH: one HTTP/1.0 GET, headers included in the count
# (a few dozen bytes), so no HTTP library sits between the socket and the clock.
FETCH = r"""
import json, socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=300)
c.sendall(b"GET %s HTTP/1.0\r\n\r\n" % sys.argv[3].encode())
n, t0, t1 = 0, None, None
while data := c.recv(1 << 20):
    t1 = time.perf_counter()
    t0 = t0 or t1
    n += len(data)
print(json.dumps({"bytes": n, "secs": (t1 - t0) if n else 0}))
"""

vmms = {"kemu": [kemu, "-accel", "tcg"]}
if qemu:
    vmms["qemu"] = [qemu, "-accel", "tcg", "-M", "pc", "-nic", "none"]
with socket.socket() as s:  # a free port for hostfwd
    s.bind(("127.0.0.1", 0))
    hport = s.getsockname()[1]
nsx = ["ip", "netns", "exec", ns]
backends = {
    # netdev, guest set-up, host address, guest's name for the host,
    # (address, port) the host fetches from, command prefix
    "user": (f"user,id=n0,hostfwd=tcp:127.0.0.1:{hport}-:8080",
             "udhcpc -i eth0 -n -q >/dev/null", "127.0.0.1", "10.0.2.2",
             ("127.0.0.1", hport), []),
    "tap": ("tap,id=n0,ifname=ktap0,script=no,downscript=no",
            "ip addr add 192.168.77.2/24 dev eth0 && ip link set eth0 up",
            "192.168.77.1", "192.168.77.1", ("192.168.77.2", 8080), nsx),
}
if tap_skip:
    del backends["tap"]

def measure(vmm, backend):
    """{"nc": [MiB/s...], "httpd": [...]} for one boot."""
    netdev, setup, bind, dest, (faddr, fport), prefix = backends[backend]
    sink = subprocess.Popen(prefix + [sys.executable, "-c", SINK, bind],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(sink.stdout.readline())
        argv = prefix + vmms[vmm] + [
            "-m", "512M", "-smp", "1", "-no-reboot", "-nographic",
            "-kernel", f"{gdir}/vmlinuz", "-initrd", f"{gdir}/initrd.img",
            "-append", "console=ttyS0 quiet",
            "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"]
        rates = {"nc": [], "httpd": []}
        with Guest(argv) as g:
            g.expect(r"kemu-guest: init reached", timeout)
            g.expect(r"~ # ", 60)
            g.send(f"{setup} && mkdir /www && dd if=/dev/zero of=/www/z bs=1M count={mib}"
                   " 2>/dev/null && httpd -p 8080 -h /www; echo setup-rc=$?\n")
            g.expect(r"setup-rc=0", 120)
            g.expect(r"~ # ", 60)
            for i in range(runs):
                g.send(f"dd if=/dev/zero bs=64k count={nc_mib * 16} 2>/dev/null"
                       f" | nc {dest} {port}; echo nc-rc=$?\n")
                g.expect(r"nc-rc=\d+", timeout)
                g.expect(r"~ # ", 60)
                r = json.loads(sink.stdout.readline())
                if r["bytes"] != nc_mib << 20:
                    g.fail(f"the sink got {r['bytes']} bytes, not {nc_mib << 20}")
                rates["nc"].append(nc_mib / r["secs"])
                f = subprocess.run(prefix + [sys.executable, "-c", FETCH, faddr, str(fport), "/z"],
                                   capture_output=True, text=True, timeout=timeout)
                r = json.loads(f.stdout or '{"bytes": 0}')
                if r["bytes"] < mib << 20:
                    g.fail(f"fetched {r['bytes']} bytes from httpd, not {mib << 20}: {f.stderr}")
                rates["httpd"].append(mib / r["secs"])
                print(f"  {vmm} {backend} run {i + 1}/{runs}: nc {rates['nc'][-1]:.1f} MiB/s,"
                      f" httpd {rates['httpd'][-1]:.1f} MiB/s", flush=True)
            g.send("poweroff -f\n")
            g.expect_exit(0, 60)
        return rates
    finally:
        sink.kill()
        sink.wait()

try:
    res = {(vmm, b): measure(vmm, b) for b in backends for vmm in vmms}
except (HarnessError, subprocess.TimeoutExpired) as e:
    sys.exit(f"net.sh: {e}")

print(f"\n{'MiB/s':12} {'kemu median':>12}  {'qemu median':>12}  kemu/qemu")
out = {}
for b in ("user", "tap"):
    for how in ("nc", "httpd"):
        key = f"{b}_{how}"
        if b not in backends:
            print(f"{key:12} skipped: {tap_skip}")
            out[key] = None
            continue
        ks = res[("kemu", b)][how]
        qs = qemu and res[("qemu", b)][how]
        k, q = statistics.median(ks), qs and statistics.median(qs)
        print(f"{key:12} {k:12.1f}  " + (f"{q:12.1f}  {k / q:9.2f}" if q else f"{'-':>12}  {'-':>9}"))
        out[key] = {"kemu": round(k, 1), "qemu": q and round(q, 1), "ratio": q and round(k / q, 3),
                    "kemu_runs": [round(x, 1) for x in ks],
                    "qemu_runs": qs and [round(x, 1) for x in qs]}
print(f"""
TCP guest -> host over virtio-net-pci, timed by the host from the first
  byte to EOF. nc: {nc_mib} MiB from busybox dd | nc to a host sink (busybox nc
  writes ~1 KiB at a time: mostly guest CPU). httpd: the host fetches {mib} MiB
  from busybox httpd in the guest. user: slirp, host side on 127.0.0.1;
  tap: a tap device in a private network namespace. Median of {runs}
  transfers in one boot per VMM and back end. Ratios are kemu/qemu of
  rates: > 1 means kemu is faster.""")
print(json.dumps({"bench": "net", "mib": mib, "nc_mib": nc_mib, "runs": runs,
                  "qemu": bool(qemu), **out}))
EOF
