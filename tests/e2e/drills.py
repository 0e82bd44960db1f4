#!/usr/bin/env python3
"""Helpers of tests/e2e/drills.sh (standard library only).

  drills.py compress-rules SRC DST --speed K [--min-window SECONDS]
      copy the rule files of SRC (a file or a folder of *.yml) into the folder
      DST with every time span divided by K: `for:` and `keep_firing_for:`,
      and in each `expr` the range windows `[5m]`, subquery ranges and steps
      `[5m:30s]` and `offset 5m`. PromQL string literals and comments are left
      alone. Fails on what it cannot rewrite safely (an expr in a YAML
      double-quoted string, a window under --min-window once divided).
      Numbers of seconds written as plain numbers (`time() - x > 300`) cannot
      be told from other numbers and are not scaled: the project's rules have
      none, and the report lists what was rewritten.

  drills.py playing NAME STATUS_JSON
      exit 0 when STATUS_JSON (GET /admin/scenario) shows scenario NAME
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
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bundle"))
import bundle  # noqa: E402  (tests/bundle/bundle.py: the Prometheus API helper)


class Failure(Exception):
    pass


# --------------------------------------------------------------- durations ---

PROM_UNITS = [("y", 365 * 86400_000), ("w", 7 * 86400_000), ("d", 86400_000),
              ("h", 3600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
PROM_DURATION = re.compile(r"(?:\d+(?:y|w|d|h|ms|m|s))+")


def prom_ms(text):
    """Milliseconds of a Prometheus duration (`1h30m`, `250ms`)."""
    if not PROM_DURATION.fullmatch(text):
        raise Failure(f"not a Prometheus duration: {text!r}")
    units = dict(PROM_UNITS)
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|y|w|d|h|m|s)", text))


def prom_format(ms):
    """The shortest Prometheus spelling of a whole number of milliseconds."""
    if ms <= 0:
        raise Failure("a duration divided down to 0")
    out = ""
    for unit, size in PROM_UNITS:
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out


# ---------------------------------------------------------- compress-rules ---

class Compressor:
    def __init__(self, speed, min_window_ms):
        self.speed = speed
        self.min_window_ms = min_window_ms
        self.changes = []  # (where, before, after)

    def span(self, text, where, window=False):
        before = prom_ms(text)
        after = round(before / self.speed)
        if window and after < self.min_window_ms:
            raise Failure(f"{where}: [{text}] / {self.speed:g} = {after} ms, under the "
                          f"minimum window of {self.min_window_ms} ms (lower the speed)")
        new = prom_format(after)
        self.changes.append((where, text, new))
        return new

    def promql(self, expr, where):
        """expr with its range windows, subquery spans and offsets divided."""
        out, i, n = [], 0, len(expr)
        while i < n:
            c = expr[i]
            if c in "\"'`":  # a string literal: copied as is
                j = i + 1
                while j < n and expr[j] != c:
                    j += 2 if expr[j] == "\\" and c != "`" else 1
                if j >= n:
                    raise Failure(f"{where}: unterminated string in {expr!r}")
                out.append(expr[i:j + 1])
                i = j + 1
            elif c == "#":  # a comment, to the end of the line
                j = expr.find("\n", i)
                j = n if j < 0 else j
                out.append(expr[i:j])
                i = j
            elif c == "[":
                j = expr.find("]", i)
                if j < 0:
                    raise Failure(f"{where}: unbalanced [ in {expr!r}")
                m = re.fullmatch(r"\s*(\w+)\s*(?::\s*(\w+)?\s*)?", expr[i + 1:j])
                if not m:
                    raise Failure(f"{where}: cannot read the range {expr[i:j + 1]!r}")
                inner = self.span(m.group(1), where, window=True)
                if ":" in expr[i + 1:j]:
                    step = self.span(m.group(2), where) if m.group(2) else ""
                    inner += ":" + step
                out.append(f"[{inner}]")
                i = j + 1
            else:
                m = re.compile(r"\boffset(\s+-?)(\w+)").match(expr, i)
                if m and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] == "_")):
                    out.append(f"offset{m.group(1)}{self.span(m.group(2), where)}")
                    i = m.end()
                else:
                    out.append(c)
                    i += 1
        return "".join(out)


KEY = re.compile(r"^(?P<indent>\s*(?:-\s+)?)(?P<key>[A-Za-z_]+):(?P<rest>.*)$")


def compress_file(text, path, comp):
    """The rule file `text` with every time span divided (line-based: the
    rule files' YAML is plain, and anything unusual is refused)."""
    lines = text.split("\n")
    out, i, rule = [], 0, "?"
    alerts = fors = 0
    while i < len(lines):
        line = lines[i]
        m = KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            out.append(line)
            i += 1
            continue
        key, rest = m.group("key"), m.group("rest")
        if key in ("alert", "record"):
            rule = rest.strip()
            alerts += key == "alert"
        where = f"{path.name}: {rule}"
        if key in ("for", "keep_firing_for"):
            value, comment = (rest.split("#", 1) + [""])[:2]
            value = value.strip().strip("'\"")
            new = comp.span(value, f"{where} {key}")
            out.append(f"{m.group('indent')}{key}: {new}" + (f"  #{comment}" if comment else ""))
            fors += key == "for"
            i += 1
        elif key == "expr":
            value = rest.strip()
            if value[:1] in "|>":  # block scalar: the lines indented deeper
                indent = len(m.group("indent"))
                j = i + 1
                while j < len(lines) and (not lines[j].strip()
                                          or len(lines[j]) - len(lines[j].lstrip()) > indent):
                    j += 1
                block = "\n".join(lines[i + 1:j])
                out.append(line)
                out.extend(comp.promql(block, f"{where} expr").split("\n"))
                i = j
            elif value.startswith('"'):
                raise Failure(f"{where}: expr in a double-quoted YAML string; "
                              "write it plain, single-quoted or as a block (|)")
            elif value.startswith("'"):
                inner = value[1:-1] if value.endswith("'") and len(value) > 1 else None
                if inner is None:
                    raise Failure(f"{where}: multi-line single-quoted expr; use a block (|)")
                out.append(f"{m.group('indent')}expr: '{comp.promql(inner, where)}'")
                i += 1
            else:
                out.append(f"{m.group('indent')}expr: {comp.promql(value, where)}")
                i += 1
        else:
            out.append(line)
            i += 1
    return "\n".join(out), alerts, fors


def cmd_compress(src, dst, speed, min_window):
    src, dst = Path(src), Path(dst)
    files = sorted(src.glob("*.yml")) if src.is_dir() else [src]
    if not files:
        raise Failure(f"no rule file in {src}")
    dst.mkdir(parents=True, exist_ok=True)
    comp = Compressor(speed, int(min_window * 1000))
    for path in files:
        text, alerts, fors = compress_file(path.read_text(encoding="utf-8"), path, comp)
        if alerts and fors != alerts:
            raise Failure(f"{path.name}: {alerts} alerts but {fors} `for:` rewritten")
        (dst / path.name).write_text(text, encoding="utf-8")
    summary = {}
    for where, before, after in comp.changes:
        summary.setdefault(f"{before} → {after}", set()).add(where.split(": ", 1)[1].split()[0])
    print(f"compressed {len(files)} rule file(s) ÷ {speed:g}: {len(comp.changes)} spans")
    for change, rules in sorted(summary.items()):
        print(f"  {change:18} in {len(rules)} rule(s)")


# --------------------------------------------------------------------- run ---

def admin(url, method, path, token, body=None):
    req = urllib.request.Request(url.rstrip("/") + path, method=method, data=body,
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        raise Failure(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}") from e


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
        status = admin(self.server, "POST", "/admin/scenario", token, body)
        self.t0 = (sent + time.monotonic()) / 2
        scenario = status["scenario"]
        if not status.get("running") or status.get("name") != scenario["name"]:
            raise Failure(f"{self.name}: the server did not start the scenario: {status}")
        if status.get("speed") != self.speed:
            raise Failure(f"{self.name}: the server plays at speed {status.get('speed')}, "
                          f"not {self.speed:g} (--scenario-speed)")
        self.phases, start = [], 0.0
        for phase in scenario["phases"]:
            length = phase["duration_seconds"] / self.speed
            self.phases.append((phase["name"], start, start + length))
            start += length
        self.end = start
        self.expect = []
        for e in scenario["expect"]:
            window = next(p for p in self.phases if p[0] == e["phase"])
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
    for alert in bundle.api(prom, "/api/v1/alerts")["data"]["alerts"]:
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
    t_start = min(d.t0 for d in drills)
    deadline = max(d.t0 + d.end for d in drills) + args.slack + 10
    dashboards, dashboards_started, dashboards_took = None, None, None
    last_report = 0.0
    while True:
        now = time.monotonic()
        firing = firing_by_instance(args.prometheus)
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


def cmd_playing(name, status_json):
    status = json.loads(status_json)
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
    p.add_argument("status")
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
            cmd_playing(args.name, args.status)
        else:
            cmd_run(args)
    except (Failure, bundle.Failure, OSError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
