#!/usr/bin/env python3
"""The SLO rules and their promtool tests with the SRE workbook's windows.

  slo_workbook.py ROOT OUT     writes OUT/rules/obslab.slo.yml and
                               OUT/tests/obslab.slo.test.yml

prometheus/rules/obslab.slo.yml runs the workbook's multi-window,
multi-burn-rate alerts on a clock 6 times faster (a 5-day period, windows of
10m/50s, 1h/5m, 4h/20m, 12h/1h). This writes the same rules with every span
6 times longer, as the workbook gives them (30 days; 1h/5m, 6h/30m, 1d/2h,
3d/6h; `for:` and `offset` too, and the `window` labels that name them), and
prometheus/tests/obslab.slo.test.yml with its clock 6 times slower (sample
interval, evaluation interval, every eval_time) on the same series: the
ratios, and so every value, label and annotation expected, stay the same.
`promtool test rules OUT/tests/obslab.slo.test.yml` then proves the
workbook's windows; tests/bundle/check.sh runs it. Generated rather than
kept beside the lab's rules, so the two cannot drift apart.
"""

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import promql, rules  # noqa: E402  (tests/harness/)

FACTOR = 6
RULES = "prometheus/rules/obslab.slo.yml"
TESTS = "prometheus/tests/obslab.slo.test.yml"
# window="10m", window=~"10m|50s" in expressions and label strings.
WINDOW = re.compile(r'(window\s*=~?\s*")([^"]*)(")')


def days(ms):
    """The spelling of a duration in days at most (30d, not 4w2d)."""
    out = ""
    for unit, size in promql.UNITS:
        if unit in ("y", "w"):
            continue
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out


def longer(text):
    """A duration FACTOR times longer."""
    return days(promql.duration_ms(text) * FACTOR)


def windows(text):
    """`text` with the durations its window labels name made longer."""
    text = WINDOW.sub(lambda m: m[1] + "|".join(map(longer, m[2].split("|"))) + m[3], text)
    return re.sub(r"\[(\d+w[\w]*)\]", lambda m: f"[{days(promql.duration_ms(m[1]))}]", text)


def literal(dumper, text):
    """Multi-line strings (expressions, descriptions) as YAML blocks."""
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


yaml.SafeDumper.add_representer(str, literal)


def workbook_rules(text):
    comp = rules.Compressor(1 / FACTOR, 0)
    out, _, _ = rules.compress_file(text, RULES, comp)
    doc = yaml.safe_load(out)
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule["expr"] = windows(rule["expr"])
            labels = rule.get("labels") or {}
            if "window" in labels:
                labels["window"] = longer(labels["window"])
    return doc


def workbook_tests(text):
    doc = yaml.safe_load(text)
    doc["evaluation_interval"] = longer(doc["evaluation_interval"])
    for test in doc["tests"]:
        test["name"] += " (workbook windows)"
        test["interval"] = longer(test["interval"])
        for case in test.get("alert_rule_test") or []:
            case["eval_time"] = longer(case["eval_time"])
        for case in test.get("promql_expr_test") or []:
            case["eval_time"] = longer(case["eval_time"])
            case["expr"] = windows(case["expr"])
            for sample in case.get("exp_samples") or []:
                sample["labels"] = windows(sample["labels"])
    return doc


def main(root, out):
    root, out = Path(root), Path(out)
    for sub, doc in (("rules", workbook_rules((root / RULES).read_text(encoding="utf-8"))),
                     ("tests", workbook_tests((root / TESTS).read_text(encoding="utf-8")))):
        (out / sub).mkdir(parents=True, exist_ok=True)
        (out / sub / "obslab.slo.yml" if sub == "rules" else out / sub / "obslab.slo.test.yml"
         ).write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: slo_workbook.py ROOT OUT")
    main(*sys.argv[1:])
