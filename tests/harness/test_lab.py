"""The Lab context manager: processes stopped on exit, logs shown on failure."""

import contextlib
import io
import sys
import unittest

from harness import Failure
from harness.lab import Lab

SLEEPER = [sys.executable, "-c", "import time; print('hello from the sleeper', flush=True); "
           "time.sleep(60)"]


class LabContext(unittest.TestCase):
    def test_processes_stop_and_the_work_directory_goes(self):
        with Lab("unit", keep_env=False) as lab:
            proc = lab.start("sleeper", SLEEPER)
            work = lab.work
            self.assertTrue(proc.alive())
        self.assertFalse(proc.alive())
        self.assertFalse(work.exists())

    def test_a_failure_prints_every_log_and_a_dead_process_is_named(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), self.assertRaisesRegex(Failure, "quitter exited"):
            with Lab("unit", keep_env=False) as lab:
                sleeper = lab.start("sleeper", SLEEPER)
                # Its line must be in its log before the failure shows it.
                lab.wait_until("the sleeper's greeting",
                               lambda: "hello" in sleeper.log_path.read_text(), 10, poll=0.05)
                quitter = lab.start("quitter", [sys.executable, "-c", "print('bye')"])
                quitter.wait(10)
                lab.wait_until("never", lambda: False, 5)
        self.assertIn("---- last lines of quitter.log\nbye", err.getvalue())
        self.assertIn("hello from the sleeper", err.getvalue())


if __name__ == "__main__":
    unittest.main()
