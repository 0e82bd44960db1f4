"""Processes under test, deadlines and work directories.

    with workdir("ci-metrics") as work:
        server = start("server", [bin, "--listen", "127.0.0.1:0", "--log-format", "json"], work)
        try:
            addr = wait_until("the server's listen address",
                              lambda: listen_address(server.log()), 10, procs=[server])
        finally:
            server.stop()

A process writes stdout and stderr to WORK/NAME.log; `wait_until` polls a
check until it returns something true, failing at the deadline or as soon as
a watched process has exited (naming its log).
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import Failure


class Deadline:
    """A point `seconds` from now on `clock` (monotonic by default)."""

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.at = clock() + seconds

    def left(self):
        """Seconds left, 0 once passed."""
        return max(0.0, self.at - self.clock())

    def passed(self):
        return self.clock() >= self.at


def wait_until(what, check, timeout, poll=0.5, procs=(), clock=time.monotonic, sleep=time.sleep):
    """The first true value of check(), called every `poll` seconds. An
    exception of check() counts as "not yet" (the last one is shown on
    failure). Fails when `timeout` seconds pass or one of `procs` exits.
    check() runs at least once, even with a timeout of 0."""
    deadline = Deadline(timeout, clock)
    last_error = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 (any error means "not yet")
            last_error = e
        for proc in procs:
            if not proc.alive():
                raise Failure(f"{proc.name} exited with status {proc.returncode()} while "
                              f"waiting for {what}; last lines of {proc.log_path.name}:\n"
                              + proc.tail())
        if deadline.passed():
            because = f" (last error: {last_error})" if last_error else ""
            raise Failure(f"timed out after {timeout:g} s waiting for {what}{because}")
        sleep(poll)


class Proc:
    """A process started by `start`, its output in `log_path`."""

    def __init__(self, name, popen, log_path, session=False):
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self.session = session

    def alive(self):
        return self.popen.poll() is None

    def returncode(self):
        return self.popen.poll()

    def log(self):
        """Everything the process wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines=20):
        return "\n".join(self.log().splitlines()[-lines:])

    def signal(self, sig):
        """Sends sig to the process, or to its whole group when it was
        started in a session of its own (as a terminal's Ctrl-C does)."""
        if not self.alive():
            return
        if self.session:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
        else:
            self.popen.send_signal(sig)

    def wait(self, timeout=None):
        """The exit status, or None if still running after timeout seconds."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace=10):
        """SIGTERM, then SIGKILL after `grace` seconds; the exit status."""
        if self.alive():
            self.signal(signal.SIGTERM)
            if self.wait(grace) is None:
                self.signal(signal.SIGKILL)
        return self.popen.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(name, argv, work, env=None, cwd=None, session=False, inherit=True):
    """Starts argv with stdin closed and stdout + stderr in WORK/NAME.log.
    env adds to the environment (replaces it when not `inherit`); `session`
    puts the process and its children in a session (and process group) of
    their own, which Proc.signal then reaches as a whole."""
    log_path = Path(work) / f"{name}.log"
    if env is not None and inherit:
        env = {**os.environ, **env}
    with open(log_path, "wb") as log:
        popen = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                 start_new_session=session)
    return Proc(name, popen, log_path, session)


_LISTEN = re.compile(r'"listen"\s*:\s*"([^"]+)"|\blisten=(\S+)')


def listen_address(log_text):
    """The address in the first `"listen":"HOST:PORT"` (obslab-server's JSON
    log) or `listen=HOST:PORT` (a text log: `obslab inbox`) of a log: what
    the program bound, e.g. for `--listen 127.0.0.1:0`; or None."""
    m = _LISTEN.search(log_text)
    return (m.group(1) or m.group(2)) if m else None


def free_port():
    """A TCP port free on 127.0.0.1 now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def workdir(name, keep=None):
    """A fresh directory under $TMPDIR, removed on exit unless `keep` (by
    default: E2E_KEEP=1 in the environment), then printed."""
    path = Path(tempfile.mkdtemp(prefix=f"obslab-{name}."))
    keep = os.environ.get("E2E_KEEP") == "1" if keep is None else keep
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)
