"""The project's Prometheus rule files (prometheus/rules/*.yml).

  alert_names(folder)           the alerts the files declare
  compress(src, dst, speed)     copies of the files on a timeline `speed`
                                times faster, for the drills
  severities(src)               {alert: its severity label}
  timeline(scenario, speed)     the phases of a scenario (as the admin API
                                shows it) on that faster timeline

Compression divides every time span: `for:` and `keep_firing_for:`, and in
each `expr` the range windows `[5m]`, subquery ranges and steps `[5m:30s]` and
`offset 5m` (found by the PromQL scanner, which leaves strings and comments
alone). It refuses what it cannot rewrite safely: a window under the minimum
once divided. Seconds written as plain numbers (`time() - x > 300`) cannot be
told from other numbers and are not scaled: the project's rules have none, and
the report lists what was rewritten. The files are read with PyYAML.
"""

from collections import namedtuple
from pathlib import Path

import yaml

from . import Failure, promql

Phase = namedtuple("Phase", "name start end")


def rule_files(src):
    """The *.yml files of a folder, or [src] for a file."""
    src = Path(src)
    return sorted(src.glob("*.yml")) if src.is_dir() else [src]


def load_rules(text, name):
    """The document of a rule file: a mapping with a `groups` list."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise Failure(f"{name}: not YAML: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise Failure(f"{name}: not a rule file (no `groups:` list)")
    return doc


def recorded_names(src):
    """The series names the recording rules of `src` (a folder or a file)
    write, sorted, each once."""
    names = set()
    for path in rule_files(src):
        doc = load_rules(path.read_text(encoding="utf-8"), path.name)
        names.update(rule["record"] for group in doc["groups"]
                     for rule in group.get("rules") or [] if "record" in rule)
    return sorted(names)


def alert_rules(src):
    """{alert name: its rule (a dict)} of the rule files of `src`."""
    found = {}
    for path in rule_files(src):
        for group in load_rules(path.read_text(encoding="utf-8"), path.name)["groups"]:
            for rule in group.get("rules") or []:
                if "alert" in rule:
                    found[rule["alert"]] = rule
    return found


def alert_names(src):
    """The names of the alerts declared in the rule files of `src`."""
    return set(alert_rules(src))


def severities(src):
    """{alert name: its `severity` label} of the rule files of `src`."""
    return {name: (rule.get("labels") or {}).get("severity")
            for name, rule in alert_rules(src).items()}


class Compressor:
    """Divides Prometheus durations by `speed`, remembering each change."""

    def __init__(self, speed, min_window_ms):
        self.speed = speed
        self.min_window_ms = min_window_ms
        self.changes = []  # (where, before, after)

    def span(self, text, where, window=False):
        before = promql.duration_ms(text)
        after = round(before / self.speed)
        if window and after < self.min_window_ms:
            raise Failure(f"{where}: [{text}] / {self.speed:g} = {after} ms, under the "
                          f"minimum window of {self.min_window_ms} ms (lower the speed)")
        if after <= 0:
            raise Failure(f"{where}: {text} / {self.speed:g} is 0")
        new = promql.format_ms(after)
        self.changes.append((where, text, new))
        return new

    def promql(self, expr, where):
        """expr with its range windows, subquery steps and offsets divided."""
        try:
            return promql.rewrite_durations(
                expr, lambda kind, text: self.span(text, where, window=kind == "range"))
        except Failure as e:
            if str(e).startswith(where):
                raise
            raise Failure(f"{where}: {e}") from None


def compress_file(text, name, comp):
    """(text, alerts, fors): the rule file `text` with every time span divided
    by `comp`, the number of alerts and of `for:` rewritten. The file is read
    and written with PyYAML (comments are not kept: the copy is the test's)."""
    doc = load_rules(text, name)
    alerts = fors = 0
    for group in doc["groups"]:
        for rule in group.get("rules") or []:
            where = f"{name}: {rule.get('alert') or rule.get('record') or '?'}"
            alerts += "alert" in rule
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = comp.span(str(rule[key]), f"{where} {key}")
                    fors += key == "for"
            if "expr" in rule:
                rule["expr"] = comp.promql(str(rule["expr"]), f"{where} expr")
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), alerts, fors


def compress(src, dst, speed, min_window_seconds=4.0):
    """Writes the rule files of `src` into the folder `dst`, every time span
    divided by `speed`; returns (files, the Compressor with its changes)."""
    files = rule_files(src)
    if not files:
        raise Failure(f"no rule file in {src}")
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    comp = Compressor(speed, int(min_window_seconds * 1000))
    for path in files:
        text, alerts, fors = compress_file(path.read_text(encoding="utf-8"), path.name, comp)
        if alerts and fors != alerts:
            raise Failure(f"{path.name}: {alerts} alerts but {fors} `for:` rewritten")
        (dst / path.name).write_text(text, encoding="utf-8")
    return files, comp


def timeline(scenario, speed=1.0):
    """[Phase(name, start, end)] of a scenario as the admin API shows it, in
    seconds from its start, on a timeline played `speed` times faster. The
    durations are read in seconds (`duration_seconds`), never parsed."""
    phases, start = [], 0.0
    for phase in scenario["phases"]:
        length = phase["duration_seconds"] / speed
        phases.append(Phase(phase["name"], start, start + length))
        start += length
    return phases
