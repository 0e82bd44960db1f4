"""The project's Prometheus rule files (prometheus/rules/*.yml).

  alert_names(folder)           the alerts the files declare
  compress(src, dst, speed)     copies of the files on a timeline `speed`
                                times faster, for the drills

Compression divides every time span: `for:` and `keep_firing_for:`, and in
each `expr` the range windows `[5m]`, subquery ranges and steps `[5m:30s]` and
`offset 5m` (found by the PromQL scanner, which leaves strings and comments
alone). It refuses what it cannot rewrite safely: an expr in a YAML
double-quoted string, a window under the minimum once divided. Seconds written
as plain numbers (`time() - x > 300`) cannot be told from other numbers and
are not scaled: the project's rules have none, and the report lists what was
rewritten. The YAML is read line by line (the rule files are plain YAML, and
anything unusual is refused), so no YAML library is needed.
"""

import re
from pathlib import Path

from . import Failure, promql


def rule_files(src):
    """The *.yml files of a folder, or [src] for a file."""
    src = Path(src)
    return sorted(src.glob("*.yml")) if src.is_dir() else [src]


def alert_names(src):
    """The names of the alerts declared in the rule files of `src`."""
    names = set()
    for path in rule_files(src):
        names.update(re.findall(r"^\s*-\s*alert:\s*(\S+)", path.read_text(encoding="utf-8"), re.M))
    return names


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


_KEY = re.compile(r"^(?P<indent>\s*(?:-\s+)?)(?P<key>[A-Za-z_]+):(?P<rest>.*)$")


def compress_file(text, name, comp):
    """(text, alerts, fors): the rule file `text` with every time span divided
    by `comp`, the number of alerts and of `for:` rewritten."""
    lines = text.split("\n")
    out, i, rule = [], 0, "?"
    alerts = fors = 0
    while i < len(lines):
        line = lines[i]
        m = _KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            out.append(line)
            i += 1
            continue
        key, rest = m.group("key"), m.group("rest")
        if key in ("alert", "record"):
            rule = rest.strip()
            alerts += key == "alert"
        where = f"{name}: {rule}"
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
