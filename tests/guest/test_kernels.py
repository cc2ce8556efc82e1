#!/usr/bin/env python3
"""Boot each bare test kernel (tests/kernels) and check serial output and exit status.

    test_kernels.py --kemu PATH --kernels DIR --accel kvm|tcg
    test_kernels.py --vmm qemu --kernels DIR --accel tcg    (reference run)

The reference run on qemu-system-x86_64 proves the kernels themselves are
right, so that a failure on kemu points at kemu. Prints one line per case;
exits 0 if all pass, 1 if any fails, 77 (meson's "skipped") when the
accelerator or the VMM is not available here.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Guest, HarnessError  # noqa: E402

SKIP = 77

# isa-debug-exit makes the VMM exit with (value << 1) | 1; the kernels
# write 0 on success, and 1 (status 3) after printing "FAIL: ...".
EXIT_OK = 1


class Case:
    def __init__(self, name, kernel, args=(), expect=(), status=EXIT_OK,
                 reboots=0, vmms=("kemu", "qemu"), accels=("kvm", "tcg"), timeout=20.0):
        self.name = name
        self.kernel = kernel
        self.args = list(args)
        self.expect = list(expect)    # regexes, in order of appearance
        self.status = status          # expected exit status
        self.reboots = reboots        # >0: expect[0] must appear this many times, then kill
        self.vmms = vmms
        self.accels = accels
        self.timeout = timeout


CASES = [
    Case("hello", "hello", ["-append", "foo bar"],
         [r"kemu-test: hello\n", r"cmdline: [^\n]*foo bar\n"]),
    Case("hello-no-append", "hello", [],
         [r"kemu-test: hello\n", r"cmdline: [^\n]*\n"]),
    Case("exit0", "exit0"),
    Case("fwcfg", "fwcfg", ["-smp", "2", "-m", "256"],
         [r"fwcfg: sig=QEMU cpus=2 ram=0x10000000\n"]),
    Case("fwcfg-default", "fwcfg", ["-smp", "1", "-m", "128"],
         [r"fwcfg: sig=QEMU cpus=1 ram=0x8000000\n"]),
    Case("exceptions", "exceptions", [],
         [r"exc: vector=0 err=0x0\n", r"exc: vector=6 err=0x0\n",
          r"exc: vector=13 err=0x80\n", r"exceptions: ok\n"]),
    # Paravirtual KVM (PVM, this project's KVM host) allows paging only in
    # long mode, so 32-bit paging is tested on the software CPU only.
    Case("exceptions-pf32", "exceptions", ["-append", "pf32"],
         [r"exc: vector=0 err=0x0\n", r"exc: vector=6 err=0x0\n",
          r"exc: vector=13 err=0x80\n", r"exc: vector=14 err=0x2 cr2=0x3ff010\n",
          r"exceptions: ok\n"], accels=("tcg",)),
    Case("smp-2", "smp", ["-smp", "2"], [r"smp: cpu 1 up\n", r"smp: 2 cpus\n"]),
    Case("smp-1", "smp", ["-smp", "1"], [r"smp: 1 cpus\n"]),
    Case("reset-no-reboot", "reset", ["-no-reboot"], [r"reset: booting\n"], status=0),
    Case("reset-reboot", "reset", [], [r"reset: booting\n"], reboots=2),
    Case("shutdown", "shutdown", [], [r"shutdown: powering off\n"], status=0),
    Case("long64", "long64", [], [r"long64: #PF err=0x2 cr2=0x3ff010\n", r"long64: ok\n"]),
    # MSI-X of a virtio device into the local APIC: under KVM through a GSI
    # route and irqfd, on the software CPU through the user-space LAPIC.
    Case("msix", "msix", ["-device", "virtio-rng-pci"],
         [r"msix: vector 0x41 delivered, 16 bytes\n", r"msix: masked, pending\n",
          r"msix: unmasked, delivered\n"]),
]


def vmm_argv(opts, kernel, case):
    if opts.vmm == "kemu":
        base = [opts.kemu, "-accel", opts.accel, "-M", "pc", "-nographic",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4"]
    else:
        # -nic none: no iPXE option ROM to wait for.
        base = [opts.qemu, "-accel", opts.accel, "-M", "pc", "-nographic", "-nic", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    return base + ["-kernel", kernel] + case.args


def run_case(opts, case):
    """Returns None on success, or a failure message."""
    kernel = os.path.join(opts.kernels, case.kernel + ".elf")
    if not os.path.isfile(kernel):
        return "kernel %s not found (build it first)" % kernel
    timeout = case.timeout * opts.timeout_scale
    with Guest(vmm_argv(opts, kernel, case)) as g:
        try:
            if case.reboots:
                g.expect_count(case.expect[0], case.reboots, timeout)
            else:
                for pattern in case.expect:
                    g.expect(pattern, timeout)
                g.expect_exit(case.status, timeout)
            if "FAIL" in g.output:
                g.fail("the guest reported a failure")
        except HarnessError as e:
            return str(e)
        finally:
            if opts.verbose:
                sys.stdout.write("--- %s output ---\n%s\n" % (case.name, g.output))
    return None


def kvm_unavailable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return "%s: %s" % (e.filename or "/dev/kvm", e.strerror)
    os.close(fd)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", choices=("kemu", "qemu"), default="kemu")
    ap.add_argument("--kemu", help="path of the kemu binary (--vmm kemu)")
    ap.add_argument("--qemu", default="qemu-system-x86_64",
                    help="QEMU binary for --vmm qemu (default: %(default)s)")
    ap.add_argument("--kernels", required=True, help="directory holding the *.elf test kernels")
    ap.add_argument("--accel", choices=("kvm", "tcg"), required=True)
    ap.add_argument("--case", action="append", default=[],
                    help="run only this case (repeatable)")
    ap.add_argument("--timeout-scale", type=float, default=1.0,
                    help="multiply every timeout (slow hosts)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each guest's output")
    opts = ap.parse_args()

    if opts.vmm == "kemu":
        if not opts.kemu:
            ap.error("--kemu PATH is required with --vmm kemu")
        if not os.access(opts.kemu, os.X_OK):
            print("FAIL: kemu binary %s is missing or not executable" % opts.kemu)
            return 1
    else:
        path = shutil.which(opts.qemu)
        if not path:
            print("SKIP: %s not found" % opts.qemu)
            return SKIP
        opts.qemu = path
    if opts.vmm == "kemu":
        have = subprocess.run([opts.kemu, "-accel", "help"], capture_output=True,
                              text=True).stdout.split()
        if opts.accel not in have:
            print("SKIP: this kemu has no -accel %s" % opts.accel)
            return SKIP
    if opts.accel == "kvm":
        why = kvm_unavailable()
        if why:
            print("SKIP: /dev/kvm not available (%s)" % why)
            return SKIP

    cases = [c for c in CASES if opts.vmm in c.vmms and opts.accel in c.accels]
    if opts.case:
        unknown = set(opts.case) - {c.name for c in cases}
        if unknown:
            ap.error("unknown case(s): %s" % ", ".join(sorted(unknown)))
        cases = [c for c in cases if c.name in opts.case]

    failed = 0
    for case in cases:
        start = time.monotonic()
        err = run_case(opts, case)
        took = time.monotonic() - start
        if err is None:
            print("PASS %-16s %6.2fs" % (case.name, took))
        else:
            failed += 1
            print("FAIL %-16s %6.2fs" % (case.name, took))
            print("    " + err.replace("\n", "\n    "))
        sys.stdout.flush()
    print("%d/%d cases passed (%s, -accel %s)" % (len(cases) - failed, len(cases),
                                                  opts.vmm, opts.accel))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
