#!/usr/bin/env python3
"""Helpers of tests/e2e/drills.sh (standard library only).

  drills.py compress-rules SRC DST --speed K [--min-window SECONDS]
      copy the rule files of SRC (a file or a folder of *.yml) into the folder
      DST with every time span divided by K: `for:` and `keep_firing_for:`,
      and in each `expr` the range windows `[5m]`, subquery ranges and steps
      `[5m:30s]` and `offset 5m` (tests/harness/rules.py: strings and
      comments are left alone, what cannot be rewritten safely is refused,
      e.g. a window under --min-window once divided); prints what changed.

  drills.py playing NAME SERVER_URL --token TOKEN
      exit 0 when the server's GET /admin/scenario shows scenario NAME
      playing its first phase, with an answer key; print a summary

  drills.py run --prometheus URL --speed K --token TOKEN [--root ROOT]
                [--slack SECONDS] [--allow-extra] [--dashboards-after ALERT]
                DRILL=SCENARIO_FILE,SERVER_URL,SERVER_INSTANCE,LOADGEN_INSTANCE ...
      post each scenario to its server (POST /admin/scenario), then poll
      Prometheus' /api/v1/alerts and prove, per drill, that every alert of
      its answer key starts firing during its phase (up to --slack seconds
      late, for scrape and evaluation delays), that all of them resolve by the
      end of the scenario (same slack), and that no other alert fires on that
      drill's server or load generator (unless --allow-extra). The phases and
      the answer key come from the server's answer (it parsed the file).
      When ALERT has fired and resolved (e.g. ObslabServerDown: the server is
      back, and the last two minutes hold the outage, the firing alert and
      the phase changes), the dashboards are checked in drill mode
      (bundle.py dashboards --drill): annotations and scenario panels must
      then show data. Prints a table; exit 1 on any failure.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from harness import Failure, rules  # noqa: E402  (tests/harness/)
from harness.admin import Admin, timeline  # noqa: E402
from harness.prom import Prometheus  # noqa: E402


def cmd_compress(src, dst, speed, min_window):
    files, comp = rules.compress(src, dst, speed, min_window)
    summary = {}
    for where, before, after in comp.changes:
        summary.setdefault(f"{before} → {after}", set()).add(where.split(": ", 1)[1].split()[0])
    print(f"compressed {len(files)} rule file(s) ÷ {speed:g}: {len(comp.changes)} spans")
    for change, names in sorted(summary.items()):
        print(f"  {change:18} in {len(names)} rule(s)")


# --------------------------------------------------------------------- run ---

class Drill:
    def __init__(self, spec, speed):
        name, rest = spec.split("=", 1)
        self.name = name
        self.file, self.server, self.instance, self.loadgen = rest.split(",")
        self.speed = speed
        self.fired = {}     # alertname -> seconds since start, first firing
        self.resolved = {}  # alertname -> seconds since start, last resolution
        self.firing = set()
        self.problems = []

    def start(self, token):
        body = Path(self.file).read_bytes()
        sent = time.monotonic()
        status = Admin(self.server, token).play(body)
        self.t0 = (sent + time.monotonic()) / 2
        scenario = status["scenario"]
        if not status.get("running") or status.get("name") != scenario["name"]:
            raise Failure(f"{self.name}: the server did not start the scenario: {status}")
        if status.get("speed") != self.speed:
            raise Failure(f"{self.name}: the server plays at speed {status.get('speed')}, "
                          f"not {self.speed:g} (--scenario-speed)")
        self.phases = timeline(scenario, self.speed)
        self.end = self.phases[-1].end if self.phases else 0.0
        self.expect = []
        for e in scenario["expect"]:
            window = next(p for p in self.phases if p.name == e["phase"])
            if e.get("after") and not e.get("after_seconds"):
                raise Failure(f"{self.name}: the hint after={e['after']!r} has no length")
            self.expect.append((e["alert"], e["phase"], window, e.get("after") or ""))
        if not self.expect:
            raise Failure(f"{self.name}: the scenario has no answer key (expect)")

    def observe(self, now, firing):
        t = now - self.t0
        for name in firing - self.firing:
            self.fired.setdefault(name, t)
            self.resolved.pop(name, None)
        for name in self.firing - firing:
            self.resolved[name] = t
        self.firing = firing

    def done(self, now):
        return now - self.t0 > self.end and not self.firing and all(
            alert in self.fired for alert, *_ in self.expect)

    def verdict(self, slack, allow_extra):
        rows = []
        expected = {alert for alert, *_ in self.expect}
        for alert, phase, (_, start, end), after in self.expect:
            fired, resolved = self.fired.get(alert), self.resolved.get(alert)
            ok = True
            if fired is None:
                ok = False
                self.problems.append(f"{alert} never fired (expected during {phase}, "
                                     f"{start:.0f}–{end:.0f} s)")
            elif not start <= fired <= end + slack:
                ok = False
                self.problems.append(f"{alert} fired at {fired:.1f} s, outside {phase} "
                                     f"({start:.1f}–{end:.1f} s, + {slack:g} s slack)")
            if fired is not None and alert in self.firing:
                ok = False
                self.problems.append(f"{alert} still firing")
            elif resolved is not None and resolved > self.end + slack:
                ok = False
                self.problems.append(f"{alert} resolved at {resolved:.1f} s, after the "
                                     f"scenario's end at {self.end:.1f} s (+ {slack:g} s)")
            rows.append((self.name, alert, f"{phase} {start:.0f}–{end:.0f}", after,
                         "-" if fired is None else f"{fired:.1f}",
                         "-" if fired is None else real_time((fired - start) * self.speed),
                         "-" if resolved is None or alert in self.firing else f"{resolved:.1f}",
                         "ok" if ok else "FAIL"))
        for alert in sorted(set(self.fired) - expected):
            fired = self.fired[alert]
            phase = next((p for p, s, e in self.phases if s <= fired < e), "after the end")
            if not allow_extra:
                self.problems.append(f"{alert} fired at {fired:.1f} s ({phase}) but is not "
                                     "in the answer key")
            rows.append((self.name, alert, f"(not in key: {phase})", "",
                         f"{fired:.1f}", "", "-" if alert in self.firing
                         else f"{self.resolved.get(alert, 0):.1f}",
                         "extra" if allow_extra else "FAIL"))
        return rows


def firing_by_instance(prom):
    out = {}
    for alert in prom.alerts():
        if alert["state"] == "firing":
            labels = alert["labels"]
            out.setdefault(labels.get("instance"), set()).add(labels["alertname"])
    return out


def real_time(seconds):
    """`3m17s`: a span in the drill's real-time terms."""
    m, s = divmod(round(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def print_table(rows, speed):
    head = ("drill", "alert", "expected phase (s)", "key: after", "fired at (s)",
            "= phase + (real)", "resolved at (s)", "")
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()
    print(f"\nseconds since each scenario was posted, on a timeline ÷ {speed:g}; "
          f"\"= phase + (real)\": when it fired after its phase began, × {speed:g}")
    print(line(head))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def cmd_run(args):
    drills = [Drill(spec, args.speed) for spec in args.drills]
    for d in drills:
        d.start(args.token)
        print(f"  {d.name}: posted {Path(d.file).name} to {d.server}; "
              f"{len(d.phases)} phases, {d.end:.0f} s: "
              + ", ".join(f"{p} {s:.0f}–{e:.0f}" for p, s, e in d.phases))
    prom = Prometheus(args.prometheus)
    t_start = min(d.t0 for d in drills)
    deadline = max(d.t0 + d.end for d in drills) + args.slack + 10
    dashboards, dashboards_started, dashboards_took = None, None, None
    last_report = 0.0
    while True:
        now = time.monotonic()
        firing = firing_by_instance(prom)
        for d in drills:
            d.observe(now, firing.get(d.instance, set()) | firing.get(d.loadgen, set()))
        if (args.dashboards_after and dashboards is None
                and any(args.dashboards_after in d.fired and args.dashboards_after
                        not in d.firing for d in drills)):
            dashboards_started = now
            dashboards = subprocess.Popen(
                [sys.executable, str(HERE.parent / "bundle" / "bundle.py"), "dashboards",
                 args.root, args.prometheus, "--drill"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if dashboards is not None and dashboards_took is None and dashboards.poll() is not None:
            dashboards_took = now - dashboards_started
        if now - last_report >= 10:
            last_report = now
            print(f"  t={now - t_start:5.1f} s  firing: "
                  + ("; ".join(f"{d.name}: {', '.join(sorted(d.firing))}"
                               for d in drills if d.firing) or "none"), flush=True)
        if all(d.done(now) for d in drills) or now > deadline:
            break
        time.sleep(0.5)

    rows, problems = [], []
    for d in drills:
        rows += d.verdict(args.slack, args.allow_extra)
        problems += [f"{d.name}: {p}" for p in d.problems]
    print_table(rows, args.speed)
    if args.dashboards_after:
        if dashboards is None:
            problems.append(f"dashboards: {args.dashboards_after} never fired and resolved, "
                            "the drill-mode dashboard check did not run")
        else:
            output, _ = dashboards.communicate(timeout=120)
            took = dashboards_took or time.monotonic() - dashboards_started
            tail = output.strip().splitlines()[-1] if output.strip() else ""
            print(f"\ndashboards in drill mode, from {dashboards_started - t_start:.1f} s, "
                  f"when {args.dashboards_after} resolved (took {took:.1f} s): {tail}")
            if dashboards.returncode != 0:
                problems.append("dashboards in drill mode:\n" + output)
    if problems:
        raise Failure("\n  ".join([f"{len(problems)} problem(s):"] + problems))
    print("ok: every drill fired its answer key in the expected phases and resolved")


def cmd_playing(name, server, token):
    status = Admin(server, token).scenario()
    scenario = status.get("scenario") or {}
    if not (status.get("running") and status.get("name") == name
            and status.get("phase_index") == 0):
        raise Failure(f"{name}: not playing its first phase: {status}")
    if not scenario.get("expect"):
        raise Failure(f"{name}: no answer key (expect)")
    key = ", ".join(e["alert"] for e in scenario["expect"])
    print(f"  {name}: {len(scenario['phases'])} phases, playing {status['phase']!r}; "
          f"answer key: {key}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compress-rules")
    c.add_argument("src")
    c.add_argument("dst")
    c.add_argument("--speed", type=float, required=True)
    c.add_argument("--min-window", type=float, default=4.0,
                   help="smallest range window allowed after division, in seconds "
                        "(default 4: four 1 s scrapes)")
    p = sub.add_parser("playing")
    p.add_argument("name")
    p.add_argument("server")
    p.add_argument("--token", required=True)
    r = sub.add_parser("run")
    r.add_argument("--prometheus", required=True)
    r.add_argument("--speed", type=float, required=True)
    r.add_argument("--token", required=True)
    r.add_argument("--root", default=str(HERE.parent.parent))
    r.add_argument("--slack", type=float, default=5.0)
    r.add_argument("--allow-extra", action="store_true")
    r.add_argument("--dashboards-after", default="")
    r.add_argument("drills", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "compress-rules":
            if args.speed < 1:
                raise Failure("--speed must be at least 1")
            cmd_compress(args.src, args.dst, args.speed, args.min_window)
        elif args.command == "playing":
            cmd_playing(args.name, args.server, args.token)
        else:
            cmd_run(args)
    except (Failure, OSError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
