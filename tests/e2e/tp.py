#!/usr/bin/env python3
"""The classroom guide (docs/tp/) on a live lab: the checks of
tests/e2e/tp.sh, which starts the lab (see its header for what runs).

  tp.py static ROOT PATH...
      read the Markdown of PATH (files or folders, relative to ROOT): print
      what will be evaluated, run and checked; fail on what is wrong without
      a lab (an unknown promql flag, a malformed check: comment, a checked
      program in a block the test does not read)
  tp.py compose ROOT server-env | loadgen-args --server URL --metrics ADDR
      what compose.yaml gives the server (KEY=VALUE lines, OBSLAB_LISTEN
      and the values left to the shell out) or the load generator (one
      argument a line, its target and metrics address pointed at the test's)
  tp.py run ROOT PATH... --bin DIR --work DIR --server URL --prometheus URL
          --alertmanager URL --inbox URL --token TOKEN [--expect FILE]
      on the live lab, after waiting until Prometheus holds the history the
      checks need: every PromQL query (parses; returns data unless its block
      is `promql empty-ok`), every check: comment, every command (run, or
      its flags checked against --help), `obslab reset` after each page's
      commands. Every failure is listed as FILE:LINE: what. With --expect,
      the failures must be exactly those the file lists (FILE:LINE: words of
      the message), the self-test of the fixtures.

Environment: TP_MAX_WINDOW (default 5m) caps the history waited for;
TP_MAX_DURATION (default 3s) the load generator's --duration and --stages;
TP_INTERRUPT_AFTER (default 15 s) is when a command still running gets
SIGINT, the student's Ctrl-C.
"""

import argparse
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure, compose, guide, links, promql  # noqa: E402  (tests/harness/)
from harness.procs import free_port, start, wait_until  # noqa: E402
from harness.prom import Prometheus, values_of  # noqa: E402

Found = namedtuple("Found", "path line message")


def env_seconds(name, default):
    text = os.environ.get(name, default)
    secs = guide.seconds(text)
    if secs is None:
        raise Failure(f"{name}={text!r} is not a duration")
    return secs


def read_pages(root, paths):
    """[(relative path, Page)] of the Markdown of paths, sorted."""
    root = Path(root).resolve()
    files = links.markdown_files(root, paths)
    return [(f.relative_to(root), guide.read_page(f.read_text(encoding="utf-8"))) for f in files]


def static_problems(pages):
    return sorted((Found(path, line, msg) for path, page in pages for line, msg in page.problems),
                  key=lambda f: (str(f.path), f.line))


def inventory(pages):
    q = sum(len(p.queries) for _, p in pages)
    empty = sum(q.empty_ok for _, p in pages for q in p.queries)
    checks = sum(len(p.checks) for _, p in pages)
    cmds = [c for _, p in pages for c in p.commands if isinstance(c, guide.Command)]
    helps = sum(1 for c in cmds if c.help_only)
    return (f"{len(pages)} page(s): {q} PromQL queries ({empty} may be empty), {checks} checks, "
            f"{len(cmds) - helps} commands to run, {helps} checked against --help")


def cmd_static(root, paths):
    pages = read_pages(root, paths)
    print(inventory(pages))
    problems = static_problems(pages)
    for f in problems:
        print(f"{f.path}:{f.line}: {f.message}")
    return 1 if problems else 0


# ----------------------------------------------------------------- compose ---

def cmd_compose(root, what, server, metrics):
    services = compose.services((Path(root) / "compose.yaml").read_text(encoding="utf-8"))
    if what == "server-env":
        for key, value in services["server"]["environment"].items():
            if value is not None and key != "OBSLAB_LISTEN":
                print(f"{key}={value}")
        return 0
    args, seen = [], set()
    for arg in services["loadgen"]["command"]:
        name = arg.split("=", 1)[0]
        if name == "--target":
            arg = f"--target={server}"
        elif name == "--metrics-listen":
            arg = f"--metrics-listen={metrics}"
        seen.add(name)
        args.append(arg)
    for needed in ("--target", "--metrics-listen"):
        if needed not in seen:
            raise Failure(f"compose.yaml: the loadgen's command has no {needed}=... to point here")
    print("\n".join(args))
    return 0


# ---------------------------------------------------------------- the wait ---

def history_needed(expr, whole_window):
    """Seconds of samples expr needs before it means what it says: its
    largest offset, plus its largest range window when `whole_window`."""
    spans = {"range": [0], "offset": [0], "step": [0]}
    for kind, text in promql.durations(expr):
        try:
            spans[kind].append(promql.duration_ms(text) / 1000)
        except Failure:
            pass
    return max(spans["offset"]) + (max(spans["range"]) if whole_window else 0)


def wait_for_lab(prom, pages, cap):
    """Waits until every target is up, traffic flows, and Prometheus holds
    the history the checks (whole windows) and the queries (offsets) need,
    capped at `cap` seconds."""
    started = time.monotonic()
    wait_until("every Prometheus target up",
               lambda: prom.query("count(up == 1) == count(up) and count(up) >= 5")["result"],
               90, poll=1)
    for expr in ("sum(rate(flask_requests_total[1m])) > 0",
                 "sum(rate(loadgen_requests_total[1m])) > 0"):
        wait_until(expr, lambda e=expr: prom.query(e)["result"], 90, poll=1)
    needs = [(history_needed(c.expr, True), f"check {c.expr}")
             for _, p in pages for c in p.checks]
    needs += [(history_needed(q.expr, False), f"query {q.expr}")
              for _, p in pages for q in p.queries]
    need, why = max(needs, default=(0, ""))
    if need > cap:
        print(f"  {why} wants {need:g} s of history; waiting {cap:g} s (TP_MAX_WINDOW)")
        need = cap
    if need > 0:
        # A full window of samples of both targets: rate() over a window
        # that is not full yet extrapolates less and reads low. The load
        # generator starts last, so its series is the shorter one.
        interval = scrape_interval(prom)
        window = promql.format_ms(int(need * 1000))
        samples = math.floor(need / interval)
        print(f"  waiting for {window} of history ({samples} scrapes of the server and "
              "the load generator)")
        wait_until(f"{window} of samples", lambda: prom.query(
            f'min(count_over_time(up{{job=~"obslab-server|obslab-loadgen"}}[{window}])) '
            f'>= {samples}')["result"], need + 120, poll=2)
    print(f"  lab ready after {time.monotonic() - started:.0f} s")


def scrape_interval(prom):
    """The global scrape interval of the running Prometheus, in seconds."""
    config = prom.api("/api/v1/status/config")["data"]["yaml"]
    m = re.search(r"^\s*scrape_interval:\s*(\S+)", config, re.M)
    return promql.duration_ms(m.group(1)) / 1000 if m else 60


# ------------------------------------------------------- queries and checks ---

def check_query(prom, query):
    """None when the query passes, else why not."""
    try:
        data = prom.query(query.expr)
    except Failure as e:
        return f"Prometheus refuses the query: {e}"
    result = data["result"]
    if data["resultType"] in ("scalar", "string"):
        return None
    if not result:
        return None if query.empty_ok else \
            "returns nothing (a block whose queries may be empty is ```promql empty-ok)"
    if not query.empty_ok and not any(math.isfinite(v) for v in values_of(result)):
        return "returns only NaN or Inf"
    return None


def check_value(prom, check):
    """(value or None, None when the check passes else why not)."""
    try:
        data = prom.query(check.expr)
    except Failure as e:
        return None, f"Prometheus refuses the query: {e}"
    if data["resultType"] == "scalar":
        value = float(data["result"][1])
    elif data["resultType"] == "vector":
        if len(data["result"]) != 1:
            return None, (f"returns {len(data['result'])} series; a check needs exactly one "
                          "(aggregate it, e.g. sum(...))")
        value = float(data["result"][0]["value"][1])
    else:
        return None, f"returns a {data['resultType']}, not one number"
    if not math.isfinite(value):
        return value, f"is {value}"
    if abs(value - check.value) > check.tolerance:
        return value, (f"is {value:.6g} on the live lab, not {check.value:g} ± {check.tolerance:g} "
                       f"(off by {abs(value - check.value):.4g})")
    return value, None


# ---------------------------------------------------------------- commands ---

class Runner:
    """Runs the guide's commands against the test's lab."""

    def __init__(self, args, rewriter, repo):
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
        self.interrupt_after = env_seconds("TP_INTERRUPT_AFTER", "15s")
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


def cmd_run(args):
    root = Path(args.root).resolve()
    pages = read_pages(root, args.paths)
    print(inventory(pages))
    found = static_problems(pages)
    prom = Prometheus(args.prometheus)
    urls = {"server": args.server, "prometheus": args.prometheus,
            "alertmanager": args.alertmanager, "inbox": args.inbox}
    rewriter = guide.Rewriter(urls, env_seconds("TP_MAX_DURATION", "3s"))

    print("\n== waiting for the lab")
    wait_for_lab(prom, pages, env_seconds("TP_MAX_WINDOW", "5m"))

    print("\n== PromQL queries and check: comments, on the calm lab")
    for path, page in pages:
        for q in page.queries:
            why = check_query(prom, q)
            tag = " (empty-ok)" if q.empty_ok else ""
            print(f"  {'ok  ' if not why else 'FAIL'} {path}:{q.line}{tag}  {short(q.expr, 80)}")
            if why:
                found.append(Found(path, q.line, f"{why}: {short(q.expr)}"))
        for c in page.checks:
            value, why = check_value(prom, c)
            shown = "no value" if value is None else f"{value:.6g}"
            print(f"  {'ok  ' if not why else 'FAIL'} {path}:{c.line}  {short(c.expr, 60)} = "
                  f"{shown} (≈ {c.value:g} ± {c.tolerance:g})")
            if why:
                found.append(Found(path, c.line, f"check: {short(c.expr)} {why}"))

    print("\n== commands (`obslab reset` after each page's)")
    runner = Runner(args, rewriter, copy_repo(root, Path(args.work) / "repo"))
    for path, page in pages:
        run_commands(runner, path, page, found)
    return verdict(found, args.expect, root)


def read_expectations(path, root):
    """[(path, line, words)] of an --expect file: `FILE:LINE: words`."""
    out = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        m = re.fullmatch(r"([^:]+):(\d+):\s*(.+)", raw)
        if not m:
            raise Failure(f"{path}:{n}: expected `FILE:LINE: words`")
        out.append((Path(m.group(1)), int(m.group(2)), m.group(3)))
    return out


def verdict(found, expect, root):
    found = sorted(found, key=lambda f: (str(f.path), f.line))
    if not expect:
        if found:
            print(f"\nFAILED: {len(found)} problem(s) in the guide:")
            for f in found:
                print(f"  {f.path}:{f.line}: {f.message}")
            return 1
        print("\nok: every query, check and command of the guide holds on the live lab")
        return 0
    expected = read_expectations(expect, root)
    unexpected = [f for f in found if not any(
        f.path == p and f.line == n and w in f.message for p, n, w in expected)]
    missing = [(p, n, w) for p, n, w in expected if not any(
        f.path == p and f.line == n and w in f.message for f in found)]
    print(f"\n{len(found)} failure(s) found, {len(expected)} expected ({expect}):")
    for f in found:
        print(f"  {'expected  ' if f not in unexpected else 'UNEXPECTED'} "
              f"{f.path}:{f.line}: {f.message.splitlines()[0]}")
    for p, n, w in missing:
        print(f"  MISSING    {p}:{n}: no failure saying {w!r}")
    if unexpected or missing:
        print("FAILED: the failures are not the expected ones")
        return 1
    print("ok: exactly the expected failures")
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("static")
    p.add_argument("root")
    p.add_argument("paths", nargs="+")
    p = sub.add_parser("compose")
    p.add_argument("root")
    p.add_argument("what", choices=["server-env", "loadgen-args"])
    p.add_argument("--server", default="")
    p.add_argument("--metrics", default="")
    p = sub.add_parser("run")
    p.add_argument("root")
    p.add_argument("paths", nargs="+")
    for name in ("bin", "work", "server", "prometheus", "alertmanager", "inbox", "token"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--expect")
    args = parser.parse_args(argv)
    try:
        if args.verb == "static":
            return cmd_static(args.root, args.paths)
        if args.verb == "compose":
            return cmd_compose(args.root, args.what, args.server, args.metrics)
        return cmd_run(args)
    except (Failure, OSError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
