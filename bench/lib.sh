# shellcheck shell=bash
# Shared helpers for kemu benchmarks. Source it: . "$(dirname "$0")/lib.sh"
# bash + python3 stdlib only, so a benchmark runs on a bare Debian box.

# The machine a result came from: a number without it is not comparable.
bench_machine() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
    echo "machine  ${cpu:-unknown CPU}, $(nproc) CPUs, $(uname -sr)," \
         "load $(cut -d' ' -f1-3 /proc/loadavg)"  # other work skews timings
    echo "date     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
}

# bench_measure -n RUNS -s STATUS [-m MARKER] [-r REJECT] -- CMD...
# Runs CMD once for peak RSS (also the warm-up that fills the page cache),
# then RUNS timed runs, and prints one JSON object:
#   {"ms": [...], "marker_ms": [...] or null, "peak_rss_kib": N}
#   ms         exec to reap (perf_counter_ns around posix_spawn .. wait4)
#   marker_ms  exec to the arrival of MARKER's first byte on CMD's stdout,
#              for output the VMM writes unbuffered (a guest's serial line)
#   peak_rss   VmHWM of the exec'd image, read at its ptrace exit stop.
#              Not ru_maxrss: that keeps the high-water mark of the image
#              exec replaced, so a child of this python starts at ~10-14 MiB
#              (even /bin/true) and a small VMM cannot be measured with it.
# stdin is /dev/null (a VMM on a tty would switch it to raw mode); stdout
# and stderr go to one pipe that is drained as output arrives.
# A run fails the measurement (exit 1, output tail on stderr) if its exit
# status is not STATUS, MARKER is missing, or regex REJECT matches a line:
# isa-debug-exit's status 1 is also many VMMs' generic error status.
bench_measure() {
    python3 - "$@" <<'EOF'
import argparse, ctypes, json, os, re, sys, tempfile, time

ap = argparse.ArgumentParser(prog="bench_measure")
ap.add_argument("-n", type=int, required=True)
ap.add_argument("-s", type=int, required=True)
ap.add_argument("-m", default="")
ap.add_argument("-r", default="")
ap.add_argument("cmd", nargs="+")
a = ap.parse_args()
marker = a.m.encode()

def check(rc, out):
    why = (f"exit {rc}, expected {a.s}" if rc != a.s else
           f"no {a.m!r} in the output" if marker not in out else
           f"output matches {a.r!r}" if a.r and re.search(a.r, out.decode(
               errors="replace"), re.M) else None)
    if why:
        sys.exit(f"bench: {' '.join(a.cmd)}\n  {why}; output tail:\n"
                 + out[-2000:].decode(errors="replace"))

def timed_run():
    r, w = os.pipe()
    fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
          (os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_DUP2, w, 2),
          (os.POSIX_SPAWN_CLOSE, r), (os.POSIX_SPAWN_CLOSE, w)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(a.cmd[0], a.cmd, os.environ, file_actions=fa)
    os.close(w)
    out, arrivals = b"", []  # arrivals: (offset where a chunk starts, time)
    while chunk := os.read(r, 65536):
        arrivals.append((len(out), time.perf_counter_ns()))
        out += chunk
    _, status, _ = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    os.close(r)
    check(os.waitstatus_to_exitcode(status), out)
    mark = None
    if marker:  # time of the chunk holding the marker's first byte
        at = out.find(marker)
        mark = max(t for off, t in arrivals if off <= at)
        mark = (mark - t0) / 1e6
    return (t1 - t0) / 1e6, mark

# Raw ptrace through libc: requests and options from <sys/ptrace.h>.
TRACEME, CONT, SETOPTIONS = 0, 7, 0x4200
O_TRACEEXIT, O_EXITKILL, EVENT_EXIT = 0x40, 0x100000, 6
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long] * 4

def rss_run():
    with tempfile.TemporaryFile() as out:
        pid = os.fork()
        if pid == 0:
            fd = os.open("/dev/null", os.O_RDONLY)
            os.dup2(fd, 0); os.dup2(out.fileno(), 1); os.dup2(out.fileno(), 2)
            libc.ptrace(TRACEME, 0, 0, 0)  # stop at exec, then trace
            try:
                os.execvp(a.cmd[0], a.cmd)
            finally:
                os._exit(127)
        _, status = os.waitpid(pid, 0)  # the exec stop, if tracing works
        libc.ptrace(SETOPTIONS, pid, 0, O_TRACEEXIT | O_EXITKILL)
        sig, hwm = 0, None  # None: ptrace refused (e.g. seccomp), no figure
        while os.WIFSTOPPED(status):
            libc.ptrace(CONT, pid, 0, sig)
            _, status = os.waitpid(pid, 0)
            sig = os.WSTOPSIG(status) if os.WIFSTOPPED(status) else 0
            if status >> 16 == EVENT_EXIT:  # exiting, mm still there
                with open(f"/proc/{pid}/status") as f:
                    hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read())[1])
                sig = 0
        out.seek(0)
        check(os.waitstatus_to_exitcode(status), out.read())
        return hwm

peak = rss_run()
runs = [timed_run() for _ in range(a.n)]
print(json.dumps({"ms": [round(r[0], 3) for r in runs],
                  "marker_ms": [round(r[1], 3) for r in runs] if marker else None,
                  "peak_rss_kib": peak}))
EOF
}
