#!/usr/bin/env python3
"""Boot the demo Linux guest (Debian kernel + busybox initramfs built by
scripts/build-guest.sh) on kemu and check what the guest prints.

    test_linux.py --kemu PATH --guest DIR --accel tcg [--kernel vmlinuz|vmlinux]

Cases: the bzImage with -smp 2 -m 512M (CPU count and MemTotal seen by the
guest, commands on the serial console, a static SSE2/x87 program through
glibc, poweroff ends kemu with status 0); the ELF vmlinux through PVH.
Exits 77 (skipped) when the guest has not been built or the accelerator
is missing, with the reason printed.
"""

import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Guest, HarnessError  # noqa: E402

SKIP = 77
PROMPT = r"~ # "

FPTEST = [
    r"fptest: double 0\.33333333333333331\r?\n",
    r"fptest: long double 0\.333333333333333333342\r?\n",
    r"fptest: float 0\.100000001 sum 1\.643934566681561\r?\n",
    r"fptest: strtod 0\.0025 sqrt2 1\.414213562373095\r?\n",
    r"fptest: exp1 2\.718281828459045 int 2500000000\r?\n",
    r"fptest: done\r?\n",
]


def run(cmd, g, expect, timeout):
    """Types a command at the prompt and waits for its output and the next prompt."""
    g.send(cmd + "\n")
    found = [g.expect(p, timeout) for p in expect]
    g.expect(PROMPT, timeout)
    return found


def case_full(args, kernel):
    """bzImage, 2 vCPUs, 512 MiB: the guest sees them; commands and FP work."""
    argv = [args.kemu, "-accel", args.accel, "-m", "512M", "-smp", "2",
            "-kernel", kernel, "-initrd", os.path.join(args.guest, "initrd.img"),
            "-append", "console=ttyS0 quiet", "-nographic"]
    t = args.timeout
    with Guest(argv) as g:
        start = time.monotonic()
        g.expect(r"kemu-guest: init reached", t)
        boot = time.monotonic() - start
        g.expect(PROMPT, t)
        run("echo hello-$((6*7))", g, [r"hello-42\r?\n"], t)
        m = run("grep -c ^processor /proc/cpuinfo", g, [r"\n(\d+)\r?\n"], t)[0]
        if m.group(1) != "2":
            g.fail("expected 2 CPUs in /proc/cpuinfo, got %s" % m.group(1))
        m = run("grep MemTotal /proc/meminfo", g, [r"MemTotal:\s+(\d+) kB"], t)[0]
        kb = int(m.group(1))
        # 512 MiB less what the kernel keeps for itself.
        if not 400 * 1024 <= kb <= 512 * 1024:
            g.fail("MemTotal %d kB does not match -m 512M" % kb)
        run("fptest", g, FPTEST, t)
        g.send("poweroff -f\n")
        g.expect_exit(0, t)
    return "booted to init in %.1fs; 2 CPUs, MemTotal %d kB, fptest ok, poweroff 0" % (boot, kb)


def case_elf(args, kernel):
    """The ELF vmlinux through its PVH entry, one vCPU, poweroff via the command line."""
    argv = [args.kemu, "-accel", args.accel, "-m", "256M",
            "-kernel", kernel, "-initrd", os.path.join(args.guest, "initrd.img"),
            "-append", "console=ttyS0 quiet kemu.poweroff", "-nographic"]
    with Guest(argv) as g:
        start = time.monotonic()
        g.expect(r"kemu-guest: init reached", args.timeout)
        boot = time.monotonic() - start
        g.expect_exit(0, args.timeout)
    return "booted to init in %.1fs, powered off" % boot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kemu", required=True)
    ap.add_argument("--guest", default=os.environ.get("KEMU_GUEST_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kemu", "guest"))
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--case", action="append", help="run only these cases")
    args = ap.parse_args()

    for f in ("vmlinuz", "vmlinux", "initrd.img"):
        if not os.path.exists(os.path.join(args.guest, f)):
            print("SKIP: guest not built (%s missing): run scripts/build-guest.sh"
                  % os.path.join(args.guest, f))
            return SKIP
    accels = subprocess.run([args.kemu, "-accel", "help"], capture_output=True, text=True).stdout
    if args.accel not in accels.split():
        print("SKIP: this kemu has no -accel %s" % args.accel)
        return SKIP
    if args.accel == "kvm" and os.path.exists("/sys/module/kvm_pvm"):
        print("SKIP: /dev/kvm here is PVM, which cannot run a Linux kernel at speed")
        return SKIP

    cases = [("bzimage-smp2", case_full, "vmlinuz"), ("vmlinux-pvh", case_elf, "vmlinux")]
    failed = 0
    for name, fn, kernel in cases:
        if args.case and name not in args.case:
            continue
        try:
            print("ok   %-14s %s" % (name, fn(args, os.path.join(args.guest, kernel))), flush=True)
        except HarnessError as e:
            failed += 1
            print("FAIL %-14s %s" % (name, e), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
