"""The commands of the classroom guide's ```sh blocks, run against the lab of
tests/e2e/tp.py: in a copy of the repository, with the compose URLs pointed at
that lab (harness.guide.Rewriter), a home of their own for amtool's config;
`obslab reset` after each page's commands.
"""

import os
import shutil
import signal
import subprocess
from collections import namedtuple
from pathlib import Path

from harness import Failure, guide
from harness.procs import free_port, start

Found = namedtuple("Found", "path line message")

class Runner:
    """Runs the guide's commands against the test's lab. `args` has bin,
    work, server, prometheus, alertmanager, inbox (URLs) and token; `found`
    collects the failures (Found)."""

    def __init__(self, args, rewriter, repo, interrupt_after):
        # amtool's --alertmanager.url defaults to the compose lab's
        # http://localhost:9093: its config file in a home of our own points
        # the default at this lab instead (Debian's amtool 0.25 reads
        # ~/.config/prometheus/amtool.yml, later ones ~/.config/amtool/config.yml).
        home = Path(args.work) / "home"
        for config in (".config/prometheus/amtool.yml", ".config/amtool/config.yml"):
            (home / config).parent.mkdir(parents=True, exist_ok=True)
            (home / config).write_text(f"alertmanager.url: {args.alertmanager}\n",
                                       encoding="utf-8")
        self.args = args
        self.rewriter = rewriter
        self.repo = repo
        self.count = 0
        self.interrupt_after = interrupt_after
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("OBSLAB_", "LOADGEN_", "ALERTMANAGER_"))}
        base.update({
            "PATH": f"{Path(args.bin).resolve()}{os.pathsep}{os.environ.get('PATH', '')}",
            "OBSLAB_URL": args.server, "OBSLAB_PROMETHEUS_URL": args.prometheus,
            "OBSLAB_ALERTMANAGER_URL": args.alertmanager, "OBSLAB_INBOX_URL": args.inbox,
            "OBSLAB_GRAFANA_URL": "off", "OBSLAB_ADMIN_TOKEN": args.token,
            # An `obslab inbox` of the guide must not take a port in use.
            "OBSLAB_INBOX_LISTEN": f"127.0.0.1:{free_port()}",
            # A load generator run without --duration ends too (the flag,
            # when given, is capped by the Rewriter).
            "LOADGEN_DURATION": guide.format_seconds(rewriter.max_seconds),
            "HOME": str(home),
        })
        self.base_env = base
        self.env = dict(base)

    def new_page(self):
        self.env = dict(self.base_env)

    def export(self, item):
        for assignment in item.assignments:
            name, _, value = assignment.partition("=")
            self.env[name] = self.rewriter.urls(value)

    def run(self, cmd):
        """(exit status, what it printed, note) of a command run in the copy of
        the repository."""
        self.count += 1
        text = self.rewriter.command(cmd)
        proc = start(f"cmd-{self.count:03}", ["bash", "-c", text], self.args.work,
                     env=self.env, cwd=self.repo, session=True, inherit=False)
        note = ""
        status = proc.wait(self.interrupt_after)
        if status is None:
            proc.signal(signal.SIGINT)
            note = f"interrupted (SIGINT) after {self.interrupt_after:g} s"
            status = proc.wait(15)
            if status is None:
                proc.signal(signal.SIGKILL)
                status = proc.wait()
                note += ", killed 15 s later"
        return status, proc.log(), text, note

    def help_text(self, program, words):
        if program == "curl":
            words, flag = [], ["--help", "all"]
        else:
            flag = ["--help"]
        exe = shutil.which(program, path=self.env["PATH"]) or program
        try:
            done = subprocess.run([exe, *words, *flag], capture_output=True, text=True,
                                  env=self.env, timeout=30, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise Failure(f"{program} not found on PATH") from None
        return done.returncode, done.stdout + done.stderr

    def check_help(self, cmd):
        """None when every flag is in the (sub)command's --help, else why."""
        path, missing = guide.check_flags(cmd.argv, lambda w: self.help_text(cmd.program, w))
        if missing:
            where = " ".join([cmd.program, *path])
            return f"`{where} --help` does not list {', '.join(missing)}"
        return None

    def reset(self):
        done = subprocess.run(["obslab", "reset"], capture_output=True, text=True,
                              env=self.base_env, timeout=60, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise Failure(f"obslab reset exited {done.returncode}: {done.stdout}{done.stderr}")


def tail(text, lines=8):
    return "\n".join("      | " + line for line in text.rstrip().splitlines()[-lines:])


def short(text, width=100):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def copy_repo(root, dest):
    """A copy of the repository for the commands to run in (and write to)."""
    ignore = shutil.ignore_patterns(".git", "target", "cache", "__pycache__", "*.tar.gz")
    shutil.copytree(root, dest, ignore=ignore, symlinks=True)
    return dest


def run_commands(runner, path, page, found):
    ran = False
    runner.new_page()
    for item in page.commands:
        if isinstance(item, guide.Export):
            runner.export(item)
            continue
        where = f"{path}:{item.line}"
        try:
            if item.help_only:
                why = runner.check_help(item)
                print(f"  {'ok  ' if not why else 'FAIL'} {where} --help only ({item.help_only}): "
                      f"{short(item.text, 70)}")
                if why:
                    found.append(Found(path, item.line, why))
                continue
            ran = True
            status, output, text, note = runner.run(item)
        except Failure as e:
            found.append(Found(path, item.line, str(e)))
            print(f"  FAIL {where}: {e}")
            continue
        allowed = {0, 1} if item.status_shown else {0}
        verdict = "ok  " if status in allowed else "FAIL"
        print(f"  {verdict} {where} exit {status}{' ' + note if note else ''}: {short(text, 80)}")
        if status not in allowed:
            because = " (the next line shows $?, so 1 would do)" if item.status_shown else ""
            note = f", {note}" if note else ""
            found.append(Found(path, item.line, f"exits {status}{because}{note}: {short(text)}\n"
                               + tail(output)))
    if ran:
        runner.reset()
