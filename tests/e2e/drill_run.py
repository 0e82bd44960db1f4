"""The drills of tests/e2e/drills.py, played and watched.

  Drill(name, file, server, loadgen, speed)   one drill on its server
  run_drills(lab, drills, args)   plays each with `obslab drill start`, then
      polls Prometheus' /api/v1/alerts and proves, per drill, that every
      alert of its answer key starts firing during its phase (up to
      args.slack seconds late, for scrape and evaluation delays), that all of
      them resolve by the end of the scenario (same slack), and that no other
      alert fires on that drill's server or load generator (unless
      args.allow_extra). The phases and the answer key come from the
      server's answer (it parsed the file). When args.dashboards_after has
      fired and resolved (e.g. ObslabServerDown: the server is back, and the
      last two minutes hold the outage, the firing alert and the phase
      changes), the dashboards are checked in drill mode (bundle.py
      dashboards --drill): annotations and scenario panels must then show
      data. Prints a table.
"""

import subprocess
import sys
import time
from pathlib import Path

from delivery import get
from harness import Failure
from harness.rules import timeline
from harness.lab import ROOT
from harness.prom import Prometheus

def scenario_status(server, token):
    """GET /admin/scenario: what the server plays (running, name, phase,
    phase_index, speed, elapsed_seconds, scenario)."""
    return get(f"{server}/admin/scenario", token)


class Drill:
    """One drill: its scenario file, its server (a harness Service) and load
    generator, what fired and resolved when."""

    def __init__(self, name, file, server, loadgen, speed):
        self.name = name
        self.file = str(file)
        self.server = server.url
        self.instance = server.addr
        self.loadgen = loadgen.addr
        self.speed = speed
        self.fired = {}     # alertname -> seconds since start, first firing
        self.resolved = {}  # alertname -> seconds since start, last resolution
        self.firing = set()
        self.problems = []

    def start(self, lab, token):
        """Plays the drill with the real CLI (`obslab drill start FILE`),
        then reads what the server plays from its admin API: the phases and
        answer key in seconds, and the time since it started."""
        env = lab.obslab_env(token=token) | {"OBSLAB_URL": self.server}
        _, said = lab.obslab("drill", "start", self.file, env=env, check=True)
        if f"started drill {self.name} on {self.server}" not in said:
            raise Failure(f"{self.name}: `obslab drill start` says {said!r}")
        sent = time.monotonic()
        status = scenario_status(self.server, token)
        self.t0 = (sent + time.monotonic()) / 2 - status["elapsed_seconds"]
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


def run_drills(lab, drills, args):
    """Plays every drill, watches Prometheus' alerts until each is done, and
    fails on any problem of any drill (after printing the table)."""
    for d in drills:
        d.start(lab, args.token)
        print(f"  {d.name}: obslab drill start {Path(d.file).name} on {d.server}; "
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
                [sys.executable, str(ROOT / "tests/bundle/bundle.py"), "dashboards",
                 str(ROOT), args.prometheus, "--drill"],
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
        lab.alive()
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
