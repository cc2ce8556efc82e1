#!/usr/bin/env python3
"""Virtio devices seen from the Debian test guest, on the software CPU.

    test_virtio.py --kemu PATH [--guest DIR] [--accel tcg] [--case NAME]...
    test_virtio.py --vmm qemu [--qemu BIN] ...     (reference run: the same
                                                    guest steps on QEMU -M pc)

Each boot of the guest (scripts/build-guest.sh: busybox, virtio modules,
ext4) takes half a minute or more on a software CPU, so one boot serves
several cases:

  pc, block:   blk-rw   ext4 image from the host (-drive if=virtio): mount,
                        sha256 of a known file, write a file, umount; after
                        poweroff the host finds the file (debugfs) and
                        e2fsck -fn is clean.
               blk-ro   a second drive, readonly=on (virtio-blk-pci): ro in
                        sysfs, reads match, a write fails, host file intact.
  pc, network: rng      virtio-rng-pci: rng_current is virtio_rng, 64 bytes
                        from /dev/hwrng, not all zero.
               net-user -netdev user: DHCP, wget from an HTTP server on the
                        host's 127.0.0.1, hostfwd to busybox httpd in the
                        guest.
  pc, hvc:     hvc      the test's terminal is a virtconsole (hvc0) and the
                        serial port a file: a shell on hvc0 answers.
  pc, tap:     net-tap  -netdev tap, kemu run inside a network namespace the
                        test creates (SKIP without /dev/net/tun or netns).
  microvm:     microvm  virtio-blk-device on virtio-mmio: mount, sha256.

Every case prints one line, ok / FAIL / SKIP with the reason. Exit status 1
if any case failed, 77 if all were skipped (or the guest is not built).
"""

import argparse
import functools
import hashlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Guest, HarnessError  # noqa: E402

SKIP = 77
PROMPT = r"~ # "
MARKER = r"kemu-guest: init reached"
# Guest kernel trouble that can still leave a shell answering.
KERNEL_TROUBLE = re.compile(r"Kernel panic|BUG: |Oops|Call Trace:|I/O error", re.M)


class Skip(Exception):
    """The case cannot run here; the message says why."""


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sh(g, cmd, expect=(), timeout=120.0):
    """Types cmd at the shell prompt; waits for each pattern, then the prompt."""
    g.send(cmd + "\n")
    found = [g.expect(p, timeout) for p in expect]
    g.expect(PROMPT, timeout)
    return found


def run(g, cmd, timeout=120.0):
    """Types cmd; it must exit with status 0. Returns what it printed."""
    start = len(g.output)
    m = sh(g, cmd + "; echo rc-$?", [r"rc-(\d+)\r?\n"], timeout)[0]
    out = g.output[start:]
    assert m.group(1) == "0", "`%s` failed, status %s:\n%s" % (cmd, m.group(1), out)
    return out


def disks(g):
    """{size in MiB: name} of the guest's virtio disks. By size, because the
    order in which drives become vda, vdb is up to the VMM."""
    out = run(g, 'for d in /sys/block/vd*; do echo "disk ${d##*/} $(cat $d/size)"; done')
    return {int(n) // 2048: d for d, n in re.findall(r"disk (vd\w+) (\d+)", out)}


def free_port():
    """A TCP port free on 127.0.0.1 right now (small race, fine for tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ VMMs --

def vmm_argv(a, machine="pc", serial_stdio=True, append=""):
    """The VMM, the guest kernel and initramfs; devices are added by the caller."""
    if a.vmm == "kemu":
        v = [a.kemu, "-accel", a.accel] + (["-M", machine] if machine != "pc" else [])
        v += ["-nographic"] if serial_stdio else []
    else:
        # No default NIC; without -nographic QEMU's monitor would claim stdio,
        # which the virtconsole needs.
        v = [a.qemu, "-accel", a.accel, "-M", machine, "-nic", "none"]
        v += ["-nographic"] if serial_stdio else ["-display", "none", "-monitor", "none"]
        if machine == "microvm":
            # QEMU's microvm under TCG offers the kernel nothing to calibrate
            # the TSC against, and boot hangs in the delay loop calibration.
            append += " tsc_early_khz=2000000 lpj=4000000"
    return v + ["-m", "256M", "-no-reboot",
                "-kernel", os.path.join(a.guest, "vmlinuz"),
                "-initrd", os.path.join(a.guest, "initrd.img"),
                "-append", ("console=ttyS0 quiet " + append).strip()]


def session(a, argv, parts, env=None, log=None):
    """Boots argv and runs parts, [(name, fn(g))], in order at the shell.

    fn returns a detail string, or a function called after the VM has
    exited (for checks on host files) that returns it. A failing part is
    reported and the next ones still run if the shell answers again. After
    the parts, `poweroff -f` must end the VMM with status 0, or every part
    fails. Returns [(name, ok, detail)].
    """
    results, post = [], {}
    extra = lambda: ("\n--- serial log (%s) ---\n%s" % (log, tail_file(log))) if log else ""
    with Guest(argv, env=env) as g:
        try:
            g.expect(r"kemu-guest: (init reached|hvc0 shell)", a.timeout)
            boot = time.monotonic() - g.started
            g.expect(PROMPT, a.timeout)
        except HarnessError as e:
            return [(n, False, "no shell: %s%s" % (e, extra())) for n, _ in parts]
        stuck = None
        for name, fn in parts:
            if stuck:
                results.append((name, False, "not run: the shell did not answer after %s failed" % stuck))
                continue
            try:
                r = fn(g)
                if callable(r):
                    post[name] = r
                results.append((name, True, r))
            except (HarnessError, AssertionError) as e:
                results.append((name, False, str(e) + extra()))
                # Ctrl-C, then see whether the shell is back.
                g.send("\x03\n")
                try:
                    sh(g, "echo shell-$((20+1))", [r"shell-21\r?\n"], 30)
                except HarnessError:
                    stuck = name
        try:
            g.send("poweroff -f\n")
            g.expect_exit(0, 120)
            off = None
        except HarnessError as e:
            off = str(e)
        trouble = KERNEL_TROUBLE.search(g.output + tail_file(log))
    out = []
    for name, ok, detail in results:
        if ok and off:
            ok, detail = False, "the checks passed, but poweroff -f: " + off
        elif ok and trouble:
            ok, detail = False, "the checks passed, but the guest printed %r:\n%s" % (
                trouble.group(0), g.tail())
        elif ok and name in post:
            try:
                detail = post[name]()
            except AssertionError as e:
                ok, detail = False, str(e)
        out.append((name, ok, detail if not ok else "%s (boot %.0f s)" % (detail, boot)))
    return out


def tail_file(path, n=2000):
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read()[-n:]


# ----------------------------------------------------------------- block --

def make_ext4(a, tmp, name, files):
    """A 64 MiB ext4 image holding files {name: bytes}, made on the host."""
    d = os.path.join(tmp, name + ".d")
    os.mkdir(d)
    for f, data in files.items():
        with open(os.path.join(d, f), "wb") as fh:
            fh.write(data)
    img = os.path.join(tmp, name)
    r = subprocess.run(["mkfs.ext4", "-q", "-F", "-d", d, img, "64M"], capture_output=True, text=True)
    if r.returncode:
        raise Skip("mkfs.ext4 -d failed: %s" % r.stderr.strip())
    return img


def need_e2fsprogs():
    for tool in ("mkfs.ext4", "debugfs", "e2fsck"):
        if not shutil.which(tool):
            raise Skip("%s not found (e2fsprogs)" % tool)


def boot_block(a, tmp):
    need_e2fsprogs()
    data = os.urandom(1 << 20)
    img = make_ext4(a, tmp, "rw.img", {"file": data})
    ro = os.path.join(tmp, "ro.img")
    ro_data = os.urandom(4 << 20)
    with open(ro, "wb") as f:
        f.write(ro_data)
    # Written by the guest: `seq 1 100000`, 589 kB, so the write spans many requests.
    seq = "".join("%d\n" % i for i in range(1, 100001)).encode()

    def rw(g):
        d = disks(g)
        assert 64 in d, "no 64 MiB disk in the guest: %s" % d
        run(g, "mount /dev/%s /mnt" % d[64])
        m = sh(g, "sha256sum /mnt/file", [r"([0-9a-f]{64})  /mnt/file"])[0]
        assert m.group(1) == sha256(data), "sha256 of /mnt/file in the guest %s, expected %s" % (
            m.group(1), sha256(data))
        run(g, "seq 1 100000 >/mnt/seq && sync && umount /mnt")

        def host():
            r = subprocess.run(["debugfs", "-R", "cat /seq", img], capture_output=True)
            assert r.stdout == seq, "/seq on the host image: %d bytes, sha256 %s; expected %d bytes (%s)" % (
                len(r.stdout), sha256(r.stdout), len(seq), r.stderr.decode(errors="replace").strip())
            r = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
            assert r.returncode == 0, "e2fsck -fn: status %d\n%s%s" % (r.returncode, r.stdout, r.stderr)
            return "mount, sha256 of a 1 MiB file, 589 kB written and found by debugfs, e2fsck clean"
        return host

    def readonly(g):
        d = disks(g)
        assert 4 in d, "no 4 MiB disk in the guest: %s" % d
        vd = d[4]
        m = sh(g, "cat /sys/block/%s/ro" % vd, [r"\n([01])\r?\n"])[0]
        assert m.group(1) == "1", "/sys/block/%s/ro is %s" % (vd, m.group(1))
        m = sh(g, "sha256sum /dev/" + vd, [r"([0-9a-f]{64})  /dev/"])[0]
        assert m.group(1) == sha256(ro_data), "sha256 of /dev/%s %s, expected %s" % (
            vd, m.group(1), sha256(ro_data))
        m = sh(g, "dd if=/dev/zero of=/dev/%s bs=512 count=1 oflag=direct; echo dd-rc=$?" % vd,
               [r"dd-rc=(\d+)"])[0]
        assert m.group(1) != "0", "dd to the read-only /dev/%s succeeded" % vd

        def host():
            with open(ro, "rb") as f:
                assert f.read() == ro_data, "ro.img changed on the host"
            return "ro in sysfs, reads match, dd write fails (status %s), image unchanged" % m.group(1)
        return host

    argv = vmm_argv(a) + [
        "-drive", "file=%s,format=raw,if=virtio" % img,
        "-drive", "file=%s,format=raw,if=none,id=d1,readonly=on" % ro,
        "-device", "virtio-blk-pci,drive=d1"]
    return session(a, argv, [("blk-rw", rw), ("blk-ro", readonly)])


def boot_microvm(a, tmp):
    need_e2fsprogs()
    data = os.urandom(1 << 20)
    img = make_ext4(a, tmp, "mmio.img", {"file": data})

    def mmio(g):
        run(g, "mount /dev/vda /mnt")
        m = sh(g, "sha256sum /mnt/file", [r"([0-9a-f]{64})  /mnt/file"])[0]
        assert m.group(1) == sha256(data), "sha256 of /mnt/file %s, expected %s" % (m.group(1), sha256(data))
        run(g, "umount /mnt")
        return "virtio-blk-device (virtio-mmio): mount, sha256 of a 1 MiB file"

    argv = vmm_argv(a, machine="microvm") + [
        "-drive", "file=%s,format=raw,if=none,id=d0" % img,
        "-device", "virtio-blk-device,drive=d0"]
    return session(a, argv, [("microvm", mmio)])


# --------------------------------------------------------------- network --

class HTTPServer:
    """python's http.server on a thread, serving directory d."""

    def __init__(self, d, addr=("127.0.0.1", 0)):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass
        self.srv = http.server.ThreadingHTTPServer(addr, functools.partial(Quiet, directory=d))
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def boot_network(a, tmp):
    www = os.path.join(tmp, "www")
    os.mkdir(www)
    data = os.urandom(1 << 20)
    with open(os.path.join(www, "file"), "wb") as f:
        f.write(data)
    srv = HTTPServer(www)
    hport = free_port()

    def rng(g):
        cur = sh(g, "cat /sys/class/misc/hw_random/rng_current", [r"\n(\S+)\r?\n"])[0].group(1)
        assert cur.startswith("virtio_rng"), "rng_current is %r, not virtio_rng" % cur
        # head -c loops over short reads (dd bs=64 count=1 might return fewer).
        m = sh(g, 'echo "rng<$(head -c 64 /dev/hwrng | od -A n -t x1 | tr -d "\\n")>"',
               [r"rng<([0-9a-f ]*)>"])[0]
        b = bytes.fromhex(m.group(1))
        assert len(b) == 64, "read %d bytes from /dev/hwrng, not 64" % len(b)
        assert any(b), "64 zero bytes from /dev/hwrng"
        return "rng_current %s, 64 bytes from /dev/hwrng: %s..." % (cur, b[:8].hex())

    def user(g):
        out = run(g, "udhcpc -i eth0 -n -q")
        assert re.search(r"udhcpc: eth0 10\.0\.2\.15/", out), "no lease 10.0.2.15:\n" + out
        m = sh(g, "wget -q -O - http://10.0.2.2:%d/file | sha256sum" % srv.port,
               [r"([0-9a-f]{64})  -"])[0]
        assert m.group(1) == sha256(data), "wget from the host: sha256 %s, expected %s" % (
            m.group(1), sha256(data))
        # Guest -> host through hostfwd: busybox httpd (it daemonizes).
        # 1.3 MB: sendfile makes TSO frames, which slirp takes whole, over
        # many windows.
        run(g, "mkdir -p /www && seq 1 200000 >/www/seq && httpd -p 8080 -h /www")
        want = "".join("%d\n" % i for i in range(1, 200001)).encode()
        got, err = None, None
        for _ in range(10):  # slirp accepts before the guest answers; retry resets
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/seq" % hport, timeout=60) as r:
                    got = r.read()
                break
            except OSError as e:
                err = e
                time.sleep(2)
        assert got == want, "hostfwd 127.0.0.1:%d -> guest :8080: %s" % (
            hport, "%s" % err if got is None else "%d bytes, expected %d" % (len(got), len(want)))
        return "DHCP 10.0.2.15, wget 1 MiB from the host ok, hostfwd :%d -> httpd :8080 (1.3 MB) ok" % hport

    argv = vmm_argv(a) + [
        "-device", "virtio-rng-pci",
        "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080" % hport,
        "-device", "virtio-net-pci,netdev=n0"]
    try:
        return session(a, argv, [("rng", rng), ("net-user", user)])
    finally:
        srv.close()


def boot_tap(a, tmp):
    if not os.path.exists("/dev/net/tun"):
        raise Skip("no /dev/net/tun")
    if not shutil.which("ip"):
        raise Skip("no ip (iproute2)")
    ns = "kemu-test-%d" % os.getpid()
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if r.returncode:
        raise Skip("ip netns add failed: %s" % r.stderr.strip())
    srv = None
    try:
        nsx = ["ip", "netns", "exec", ns]
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "tuntap", "add", "dev", "ktap0", "mode", "tap"],
                    ["ip", "addr", "add", "192.168.77.1/24", "dev", "ktap0"],
                    ["ip", "link", "set", "ktap0", "up"]):
            r = subprocess.run(nsx + cmd, capture_output=True, text=True)
            if r.returncode:
                raise Skip("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        www = os.path.join(tmp, "www-tap")
        os.mkdir(www)
        data = os.urandom(1 << 20)
        with open(os.path.join(www, "file"), "wb") as f:
            f.write(data)
        # The server must live in the namespace too: a new process there.
        srv = subprocess.Popen(nsx + [sys.executable, "-u", "-m", "http.server", "--bind",
                                      "192.168.77.1", "--directory", www, "8000"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if "Serving HTTP" not in srv.stdout.readline():
            raise Skip("the HTTP server in the namespace did not start")

        def tap(g):
            run(g, "ip addr add 192.168.77.2/24 dev eth0 && ip link set eth0 up")
            m = sh(g, "wget -q -O - http://192.168.77.1:8000/file | sha256sum",
                   [r"([0-9a-f]{64})  -"])[0]
            assert m.group(1) == sha256(data), "wget over tap: sha256 %s, expected %s" % (
                m.group(1), sha256(data))
            return "wget 1 MiB from 192.168.77.1 over ktap0 in netns %s ok" % ns

        argv = nsx + vmm_argv(a) + [
            "-netdev", "tap,id=n0,ifname=ktap0,script=no,downscript=no",
            "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56"]
        return session(a, argv, [("net-tap", tap)])
    finally:
        if srv:
            srv.kill()
            srv.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# ------------------------------------------------------------------- hvc --

def boot_hvc(a, tmp):
    log = os.path.join(tmp, "serial.log")

    def hvc(g):
        sh(g, "echo hvc-$((40+2))", [r"hvc-42\r?\n"])
        m = sh(g, "tty", [r"\n(/dev/\S+)\r?\n"])[0]
        assert m.group(1) == "/dev/hvc0", "the shell's tty is %s" % m.group(1)
        with open(log, errors="replace") as f:
            assert "kemu-guest: init reached" in f.read(), "no init marker in the serial log"
        return "shell on hvc0 answers; serial console went to -serial file"

    argv = vmm_argv(a, serial_stdio=False, append="kemu.hvc") + [
        "-serial", "file:" + log,
        "-chardev", "stdio,id=c0", "-device", "virtio-serial-pci",
        "-device", "virtconsole,chardev=c0"]
    return session(a, argv, [("hvc", hvc)], log=log)


# ------------------------------------------------------------------ main --

BOOTS = [  # (cases it reports, function)
    (("blk-rw", "blk-ro"), boot_block),
    (("rng", "net-user"), boot_network),
    (("hvc",), boot_hvc),
    (("net-tap",), boot_tap),
    (("microvm",), boot_microvm),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmm", choices=("kemu", "qemu"), default="kemu")
    ap.add_argument("--kemu", help="kemu binary (--vmm kemu)")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--guest", default=os.environ.get("KEMU_GUEST_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kemu", "guest"))
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds to boot")
    ap.add_argument("--case", action="append", help="run only these cases (and their boot-mates)")
    a = ap.parse_args()

    for f in ("vmlinuz", "initrd.img"):
        if not os.path.exists(os.path.join(a.guest, f)):
            print("SKIP: guest not built (%s missing): run scripts/build-guest.sh"
                  % os.path.join(a.guest, f))
            return SKIP
    # A guest cache built from an older recipe has no ext4 or udhcpc script.
    r = subprocess.run("gzip -dc %s | cpio -t 2>/dev/null" % os.path.join(a.guest, "initrd.img"),
                       shell=True, capture_output=True, text=True)
    if "etc/udhcpc/default.script" not in r.stdout.split():
        print("SKIP: %s predates the virtio tests: run scripts/build-guest.sh" % a.guest)
        return SKIP
    if a.vmm == "kemu":
        if not a.kemu:
            ap.error("--kemu PATH is required with --vmm kemu")
        accels = subprocess.run([a.kemu, "-accel", "help"], capture_output=True, text=True).stdout
        if a.accel not in accels.split():
            print("SKIP: this kemu has no -accel %s" % a.accel)
            return SKIP
    elif not shutil.which(a.qemu):
        print("SKIP: %s not found" % a.qemu)
        return SKIP

    failed = ran = 0
    for names, fn in BOOTS:
        if a.case and not set(names) & set(a.case):
            continue
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="kemu-virtio-") as tmp:
            try:
                results = fn(a, tmp)
            except Skip as e:
                for n in names:
                    print("SKIP %-9s %s" % (n, e), flush=True)
                continue
            except Exception as e:  # a broken host step: report it, go on
                results = [(n, False, "%s: %s" % (type(e).__name__, e)) for n in names]
        for name, ok, detail in results:
            ran += 1
            failed += not ok
            print("%s %-9s %s" % ("ok  " if ok else "FAIL", name, detail), flush=True)
        print("     (%s: %.0f s)" % ("+".join(names), time.monotonic() - t0), flush=True)
    return 1 if failed else 0 if ran else SKIP


if __name__ == "__main__":
    sys.exit(main())
