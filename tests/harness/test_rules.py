"""Rule files: alert names, and the drills' compression of their timeline."""

import tempfile
import unittest
from pathlib import Path

import yaml

from harness import Failure, rules

RULES = """groups:
  - name: obslab
    rules:
      - alert: Plain
        expr: sum(rate(x{path="/a[5m]"}[5m])) > 0  # [5m] in a comment stays
        for: 2m
      - alert: Block
        expr: |
          max_over_time(rate(y[1m])[10m:30s])
            > 1 # offset 1h stays
        for: "1m"  # quoted
        keep_firing_for: 30s
      - alert: Quoted
        expr: 'up{job="a"} offset 5m == 0'
        for: 1m
      - record: job:x:rate5m
        expr: rate(x[5m])
"""


def compress(text, speed=10, min_window_ms=4000):
    comp = rules.Compressor(speed, min_window_ms)
    return rules.compress_file(text, "t.yml", comp), comp


def rule(doc, name):
    return next(r for g in doc["groups"] for r in g["rules"]
                if name in (r.get("alert"), r.get("record")))


class Compression(unittest.TestCase):
    def test_every_span_divided_strings_and_comments_kept(self):
        (text, alerts, fors), comp = compress(RULES)
        self.assertEqual((alerts, fors), (3, 3))
        doc = yaml.safe_load(text)
        self.assertEqual(rule(doc, "Plain")["expr"], 'sum(rate(x{path="/a[5m]"}[30s])) > 0')
        self.assertEqual(rule(doc, "Plain")["for"], "12s")
        self.assertEqual(rule(doc, "Block")["expr"],
                         "max_over_time(rate(y[6s])[1m:3s])\n  > 1 # offset 1h stays\n")
        self.assertEqual(rule(doc, "Block")["for"], "6s")
        self.assertEqual(rule(doc, "Block")["keep_firing_for"], "3s")
        self.assertEqual(rule(doc, "Quoted")["expr"], 'up{job="a"} offset 30s == 0')
        self.assertEqual(rule(doc, "job:x:rate5m")["expr"], "rate(x[30s])")
        self.assertEqual(len(comp.changes), 10)
        self.assertIn(("t.yml: Block expr", "10m", "1m"), comp.changes)

    def test_windows_under_the_minimum_are_refused(self):
        with self.assertRaisesRegex(Failure, r"Block expr: \[1m\] / 20 = 3000 ms, under"):
            compress(RULES, speed=20)

    def test_double_quoted_exprs_are_read_as_yaml(self):
        (text, _, _), _ = compress('groups:\n  - name: g\n    rules:\n'
                                   '      - alert: A\n        expr: "rate(x[5m]) > 0"\n'
                                   '        for: 1m\n')
        self.assertEqual(rule(yaml.safe_load(text), "A")["expr"], "rate(x[30s]) > 0")

    def test_scanner_errors_name_the_rule(self):
        with self.assertRaisesRegex(Failure, r"^t.yml: A expr: unterminated string"):
            compress("groups:\n  - name: g\n    rules:\n"
                     "      - alert: A\n        expr: x{a='b} > 0\n        for: 1m\n")

    def test_what_is_not_a_rule_file_is_named(self):
        for bad in ("a: [1\n", "- alert: A\n"):
            with self.subTest(bad=bad), self.assertRaisesRegex(Failure, "^t.yml: not"):
                compress(bad)

    def test_files_and_alert_names(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = Path(d, "src"), Path(d, "dst")
            src.mkdir()
            (src / "a.yml").write_text(RULES)
            (src / "notes.txt").write_text("- alert: NotARule\n")
            self.assertEqual(rules.alert_names(src), {"Plain", "Block", "Quoted"})
            self.assertEqual(rules.severities(src), {"Plain": None, "Block": None, "Quoted": None})
            files, comp = rules.compress(src, dst, 10)
            self.assertEqual([f.name for f in files], ["a.yml"])
            self.assertIn("for: 12s", (dst / "a.yml").read_text())
            (Path(d) / "empty").mkdir()
            with self.assertRaisesRegex(Failure, "no rule file"):
                rules.compress(Path(d) / "empty", dst, 10)

    def test_recorded_names_once_each_alerts_left_out(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "a.yml").write_text(
                "groups:\n  - name: g\n    rules:\n"
                "      - record: job:x:rate5m\n        expr: rate(x[5m])\n"
                "      - record: job:x:rate5m\n        labels: {w: b}\n        expr: rate(x[1m])\n"
                "      - alert: A\n        expr: job:x:rate5m > 1\n"
                "  - name: empty\n    rules:\n")
            Path(d, "b.yml").write_text(
                "groups:\n  - name: h\n    rules:\n"
                "      - record: instance:y:ratio\n        expr: y / z\n")
            self.assertEqual(rules.recorded_names(d), ["instance:y:ratio", "job:x:rate5m"])


class Timeline(unittest.TestCase):
    SCENARIO = {"phases": [{"name": "calm", "duration": "1m", "duration_seconds": 60.0},
                           {"name": "burn", "duration": "5m 30s", "duration_seconds": 330.0}]}

    def test_timeline_reads_seconds_and_divides_by_speed(self):
        self.assertEqual(rules.timeline(self.SCENARIO, speed=10),
                         [("calm", 0.0, 6.0), ("burn", 6.0, 39.0)])
        self.assertEqual(rules.timeline(self.SCENARIO)[-1].end, 390.0)

    def test_the_projects_severities(self):
        sev = rules.severities(Path(__file__).resolve().parents[2] / "prometheus/rules")
        self.assertEqual(sev["ObslabServerDown"], "critical")
        self.assertTrue(set(sev.values()) <= {"critical", "warning"}, sev)


if __name__ == "__main__":
    unittest.main()
