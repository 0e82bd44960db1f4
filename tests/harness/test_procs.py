"""Deadlines and polling on a fake clock; real (short) processes."""

import contextlib
import io
import os
import signal
import sys
import unittest
from pathlib import Path

from harness import Failure, procs


class FakeClock:
    """A clock that only moves when slept on."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class Deadline(unittest.TestCase):
    def test_left_counts_down_to_zero(self):
        clock = FakeClock()
        d = procs.Deadline(3, clock)
        self.assertEqual(d.left(), 3)
        self.assertFalse(d.passed())
        clock.now += 2.5
        self.assertEqual(d.left(), 0.5)
        clock.now += 1
        self.assertEqual(d.left(), 0)
        self.assertTrue(d.passed())


class WaitUntil(unittest.TestCase):
    def test_returns_the_first_true_value(self):
        clock, answers = FakeClock(), iter([None, 0, "", "127.0.0.1:5000", "late"])
        got = procs.wait_until("x", lambda: next(answers), 10, poll=0.5,
                               clock=clock, sleep=clock.sleep)
        self.assertEqual(got, "127.0.0.1:5000")
        self.assertEqual(clock.slept, [0.5, 0.5, 0.5])

    def test_errors_mean_not_yet_and_the_last_one_is_told(self):
        clock, calls = FakeClock(), []

        def check():
            calls.append(clock.now)
            raise ConnectionRefusedError(f"refused #{len(calls)}")

        with self.assertRaises(Failure) as caught:
            procs.wait_until("the server", check, 2, poll=0.5, clock=clock, sleep=clock.sleep)
        self.assertEqual(str(caught.exception),
                         "timed out after 2 s waiting for the server (last error: refused #5)")
        self.assertEqual(calls, [100.0, 100.5, 101.0, 101.5, 102.0])  # the deadline included

    def test_checks_once_even_without_time(self):
        clock = FakeClock()
        self.assertTrue(procs.wait_until("x", lambda: True, 0, clock=clock, sleep=clock.sleep))
        self.assertEqual(clock.slept, [])

    def test_a_dead_process_fails_at_once_naming_its_log(self):
        with procs.workdir("test", keep=False) as work:
            proc = procs.start("quitter", [sys.executable, "-c", "print('bye'); raise SystemExit(3)"],
                               work)
            proc.popen.wait()
            with self.assertRaises(Failure) as caught:
                procs.wait_until("a port", lambda: False, 60, procs=[proc])
        message = str(caught.exception)
        self.assertIn("quitter exited with status 3 while waiting for a port", message)
        self.assertIn("quitter.log", message)
        self.assertTrue(message.endswith("bye"))


class Processes(unittest.TestCase):
    def test_listen_address_of_the_json_log(self):
        log = ('{"level":"INFO","fields":{"message":"starting"}}\n'
               '{"level":"INFO","fields":{"message":"listening","listen":"127.0.0.1:41234"}}\n'
               '{"listen":"ignored:1"}\n')
        self.assertEqual(procs.listen_address(log), "127.0.0.1:41234")
        self.assertIsNone(procs.listen_address('{"message":"no address yet"}'))

    def test_listen_address_of_a_text_log(self):
        log = ("2026-12-06T21:03:50Z  INFO obslab_lab: obslab inbox ready "
               "listen=127.0.0.1:46697 keep=500\n")
        self.assertEqual(procs.listen_address(log), "127.0.0.1:46697")

    def test_start_logs_and_stop_terminates(self):
        code = ("import signal, sys, time\n"
                "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
                "print('{\"listen\":\"127.0.0.1:9\"}', flush=True)\n"
                "time.sleep(60)\n")
        with procs.workdir("test", keep=False) as work:
            proc = procs.start("sleeper", [sys.executable, "-c", code], work)
            addr = procs.wait_until("the address", lambda: procs.listen_address(proc.log()), 10,
                                    poll=0.05, procs=[proc])
            self.assertEqual(addr, "127.0.0.1:9")
            self.assertEqual(proc.log_path, work / "sleeper.log")
            self.assertEqual(proc.stop(grace=5), 0)
            self.assertFalse(proc.alive())

    def test_a_session_gets_ctrl_c_as_a_whole_in_its_own_directory(self):
        # bash waits for its child; SIGINT to the group reaches the child,
        # which ends cleanly (status 0), as a terminal's Ctrl-C would.
        child = ("import signal, sys, time, os\n"
                 "signal.signal(signal.SIGINT, lambda *a: sys.exit(0))\n"
                 "print(os.getcwd(), os.environ.get('ONLY'), os.environ.get('HOME'), flush=True)\n"
                 "time.sleep(60)\n")
        with procs.workdir("test", keep=False) as work:
            proc = procs.start("shell", ["bash", "-c", f"{sys.executable} -c \"$CODE\""], work,
                               env={"CODE": child, "ONLY": "yes", "PATH": os.environ["PATH"]},
                               cwd=work, session=True, inherit=False)
            procs.wait_until("the child's line", lambda: proc.log().strip(), 10, poll=0.05)
            self.assertIsNone(proc.wait(0.1))
            proc.signal(signal.SIGINT)
            self.assertEqual(proc.wait(10), 0)
            self.assertEqual(proc.log().split(), [str(work), "yes", "None"])

    def test_free_port_is_bindable(self):
        import socket
        port = procs.free_port()
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))

    def test_workdir_is_removed_unless_kept(self):
        with procs.workdir("test", keep=False) as work:
            (work / "a.log").write_text("x")
        self.assertFalse(work.exists())
        os.environ["E2E_KEEP"] = "1"
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said), procs.workdir("test") as kept:
                pass
            self.assertTrue(kept.exists())
            self.assertEqual(said.getvalue(), f"kept {kept}\n")
        finally:
            del os.environ["E2E_KEEP"]
            kept.rmdir()
        self.assertTrue(Path(kept).name.startswith("obslab-test."))


if __name__ == "__main__":
    unittest.main()
