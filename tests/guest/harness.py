"""Drive a VMM process through a pseudo-terminal, for guest integration tests.

The guest's serial console is the VMM's stdio (-nographic), so the harness
gives the process a pty as stdin, stdout and stderr, exactly as a user's
terminal would be, collects everything it prints on a reader thread, and
lets tests wait for patterns, type input, and check the exit status.
Python 3 standard library only.
"""

import codecs
import ctypes
import errno
import os
import pty
import re
import signal
import subprocess
import threading
import time


class HarnessError(Exception):
    """A test expectation failed; the message carries the recent output."""


def _die_with_parent():
    """In the child: SIGKILL when the test process dies (PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class Guest:
    """A running command attached to a pty.

    Output is kept whole; expect() consumes it from a cursor so that
    successive expectations must appear in order.
    """

    TAIL = 2000  # characters of output quoted in failure messages

    def __init__(self, argv, env=None, cwd=None):
        self.argv = list(argv)
        master, slave = pty.openpty()
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=slave, stdout=slave, stderr=slave,
                env=env, cwd=cwd, close_fds=True,
                # Own session and controlling terminal, so that raw mode,
                # Ctrl-C handling and kill() do not involve our terminal.
                start_new_session=True,
                # A test killed by its timeout must not leave kemu running.
                preexec_fn=_die_with_parent)
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        os.close(slave)  # the child holds it; EOF arrives when it exits
        self._master = master
        self._buf = ""
        self._cursor = 0
        self._eof = False
        # Incremental, so a UTF-8 sequence split between reads survives.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.started = time.monotonic()

    def _read_loop(self):
        while True:
            try:
                data = os.read(self._master, 4096)
            except OSError as e:
                # Linux reports the last close of the slave side as EIO.
                if e.errno not in (errno.EIO, errno.EBADF):
                    raise
                data = b""
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                # Serial output may use \r\n or \n; tests see plain \n.
                text = self._decoder.decode(data)
                if text.startswith("\n") and self._buf.endswith("\r"):
                    self._buf = self._buf[:-1]  # a \r\n split by read()
                    self._cursor = min(self._cursor, len(self._buf))
                self._buf += text.replace("\r\n", "\n")
                self._cond.notify_all()

    @property
    def output(self):
        """Everything printed so far (\\r\\n normalised to \\n)."""
        with self._cond:
            return self._buf

    def tail(self, n=TAIL):
        out = self.output
        return out[-n:] if len(out) > n else out

    def fail(self, what):
        """Raises HarnessError with what, the process state and the recent output."""
        status = self.proc.poll()
        state = "still running" if status is None else "exited with status %d" % status
        raise HarnessError("%s\ncommand: %s\nprocess %s\n--- last %d chars of output ---\n%s\n---"
                           % (what, " ".join(self.argv), state, self.TAIL, self.tail()))

    def expect(self, pattern, timeout=10.0):
        """Waits for regex pattern after the previous match; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._buf, self._cursor)
                if m:
                    self._cursor = m.end()
                    return m
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    break
                self._cond.wait(left)
        self.fail("expected %r within %.1fs%s" % (
            pattern, timeout, ", but output ended" if self._eof else ""))

    def expect_count(self, pattern, count, timeout=10.0):
        """Waits until pattern has appeared count times in all output."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                n = len(rx.findall(self._buf))
                if n >= count:
                    return n
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    break
                self._cond.wait(left)
        self.fail("expected %r %d times within %.1fs, saw it %d times"
                   % (pattern, count, timeout, n))

    def send(self, text):
        """Types text (str or bytes) on the terminal."""
        data = text.encode() if isinstance(text, str) else text
        while data:
            data = data[os.write(self._master, data):]

    def wait(self, timeout=10.0):
        """Waits for exit; returns the status (negative: killed by that signal)."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail("did not exit within %.1fs" % timeout)
        self._reader.join(2.0)  # let the last output arrive
        return status

    def expect_exit(self, status, timeout=10.0):
        got = self.wait(timeout)
        if got != status:
            self.fail("expected exit status %d, got %d" % (status, got))

    def kill(self):
        """Ends the process (SIGKILL) if it still runs, and reaps it."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._reader.join(2.0)

    def close(self):
        self.kill()
        if self._master >= 0:
            os.close(self._master)
            self._master = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
