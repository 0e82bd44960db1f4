"""Grafana as the checks see it: provisioning files read without a YAML
library, datasource references, what an empty panel shows, and the verdict
on a dashboard query's live result."""

import copy
import tempfile
import unittest
from pathlib import Path

import yaml

from harness import Failure, grafana, promql

ROOT = Path(__file__).resolve().parents[2]

PROVISIONING = """\
# a comment
apiVersion: 1

datasources:
  - name: Prometheus   # trailing comment
    uid: prometheus
    type: prometheus
    url: "http://prometheus:9090"
    isDefault: true
    jsonData:
      timeInterval: '5s'
  -   name: Other
      uid: other
      port: 9093
      ratio: 0.5
      empty:
      tags:
      - a # first
      - "b # not a comment"
"""


def board(*panels, annotations=(), variables=()):
    return {"uid": "b", "panels": list(panels), "annotations": {"list": list(annotations)},
            "templating": {"list": list(variables)}}


def panel(title, *exprs, ds=None, **extra):
    ds = ds or {"type": "prometheus", "uid": "prometheus"}
    return {"id": title, "title": title, "type": "timeseries", "datasource": ds,
            "targets": [{"refId": chr(65 + i), "datasource": ds, "expr": e}
                        for i, e in enumerate(exprs)], **extra}


class Provisioning(unittest.TestCase):
    def test_the_projects_provisioning_files_are_apiversion_1(self):
        for path in (ROOT / "grafana" / "provisioning").rglob("*.yml"):
            self.assertEqual(yaml.safe_load(path.read_text(encoding="utf-8"))["apiVersion"], 1, path)

    def test_a_file_that_is_not_yaml_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d, "grafana/provisioning/datasources")
            folder.mkdir(parents=True)
            (folder / "bad.yml").write_text("a: [1\n")
            with self.assertRaisesRegex(Failure, "bad.yml: not YAML"):
                grafana.load_datasources(d)


class Datasources(unittest.TestCase):
    def write(self, files):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        folder = Path(tmp.name) / "grafana" / "provisioning" / "datasources"
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return tmp.name

    def test_the_lab_provisions_prometheus_and_alertmanager_as_documented(self):
        provisioned = grafana.load_datasources(ROOT)
        self.assertEqual(grafana.datasource_problems(provisioned), [])
        am = provisioned["alertmanager"]
        self.assertEqual((am["type"], am["url"], am["jsonData"]["implementation"]),
                         ("alertmanager", "http://alertmanager:9093", "prometheus"))

    def test_a_uid_declared_in_two_files_fails(self):
        root = self.write({"a.yml": PROVISIONING, "b.yaml": PROVISIONING.replace("Other", "O2")})
        with self.assertRaisesRegex(Failure, "declared twice"):
            grafana.load_datasources(root)

    def test_differences_from_the_expected_fields_are_named(self):
        provisioned = copy.deepcopy(grafana.load_datasources(ROOT))
        provisioned["alertmanager"]["jsonData"]["implementation"] = "mimir"
        provisioned["alertmanager"]["isDefault"] = True
        problems = grafana.datasource_problems(provisioned)
        self.assertIn("datasource 'alertmanager': jsonData.implementation is 'mimir', "
                      "not 'prometheus'", problems)
        self.assertTrue(any("several default datasources" in p for p in problems), problems)
        del provisioned["alertmanager"]
        self.assertIn("no datasource of uid 'alertmanager' is provisioned",
                      grafana.datasource_problems(provisioned))

    def test_every_reference_of_a_dashboard_must_be_provisioned(self):
        provisioned = {"prometheus": {"type": "prometheus"},
                       "alertmanager": {"type": "alertmanager"}}
        good = board(panel("ok", "up"),
                     annotations=[{"name": "builtin", "builtIn": 1,
                                   "datasource": {"type": "grafana", "uid": "-- Grafana --"}}])
        self.assertEqual(grafana.unprovisioned_refs(good, provisioned), [])
        bad = board(panel("p", "up", ds={"type": "prometheus", "uid": "nope"}),
                    panel("q", "up", ds={"type": "prometheus", "uid": "${DS_PROMETHEUS}"}),
                    panel("r", "up", ds={"type": "prometheus", "uid": "alertmanager"}),
                    annotations=[{"name": "by name", "datasource": "Prometheus"}],
                    variables=[{"name": "v", "datasource": {"uid": "gone"}}])
        problems = grafana.unprovisioned_refs(bad, provisioned)
        for expected in ["b panels / p: datasource uid 'nope' is not provisioned",
                         "b panels / p / A: datasource uid 'nope' is not provisioned",
                         "b panels / q: datasource uid ${DS_PROMETHEUS} is a variable",
                         "b panels / r: datasource 'alertmanager' has type 'alertmanager', "
                         "not 'prometheus'",
                         "b annotations / by name: datasource 'Prometheus' is not a {type, uid}",
                         "b templating / v: datasource uid 'gone' is not provisioned"]:
            self.assertTrue(any(p.startswith(expected) for p in problems),
                            f"{expected!r} not in {problems}")

    def test_the_lab_dashboards_name_only_provisioned_datasources(self):
        provisioned = grafana.load_datasources(ROOT)
        for _, b in grafana.load_dashboards(ROOT):
            self.assertEqual(grafana.unprovisioned_refs(b, provisioned), [])


class Panels(unittest.TestCase):
    def test_what_an_empty_panel_shows(self):
        words = {"fieldConfig": {"defaults": {"noValue": "No alert firing"}}}
        self.assertEqual(grafana.when_empty({"type": "table", **words}), "No alert firing")
        self.assertEqual(grafana.when_empty({"type": "stat", **words}), "No alert firing")
        self.assertEqual(grafana.when_empty({"type": "table"}), grafana.NO_DATA)
        # A stat showing names shows its no-value field's name: "No data".
        named = {"type": "stat", "options": {"textMode": "name"}, **words}
        self.assertEqual(grafana.when_empty(named), grafana.NO_DATA)

    def test_panels_by_query_uses_the_labels_of_dashboard_queries(self):
        row = {"id": 9, "type": "row", "title": "row", "panels": [panel("inner", "b")]}
        b = board(panel("outer", "a", "c"), row)
        labels = [label for label, _, kind in promql.dashboard_queries(
            b, grafana.DATASOURCE) if kind == "panel"]
        by_query = grafana.panels_by_query(b)
        self.assertEqual(sorted(by_query), sorted(labels))
        self.assertEqual(by_query["b / inner / A"]["title"], "inner")

    def test_the_lab_dashboards_alert_tables_say_so_in_words(self):
        for _, b in grafana.load_dashboards(ROOT):
            for p in promql.walk_panels(b["panels"]):
                if p.get("type") == "table" and any(
                        "ALERTS" in promql.names(t["expr"]) for t in p["targets"]):
                    self.assertNotEqual(grafana.when_empty(p), grafana.NO_DATA, p["title"])


class Judge(unittest.TestCase):
    INBOX = 'sum(round(increase(obslab_inbox_alerts_total{status="firing"}[5m])))'

    def test_empty_results_per_mode(self):
        j = grafana.judge
        self.assertEqual(j("quiet", "annotation", "up", None, [], True)[0], True)
        self.assertEqual(j("drill", "annotation", "up", None, [], True)[0], False)
        self.assertEqual(j("quiet", "panel", "ALERTS", "No alert", [], True),
                         (True, "empty: the panel says 'No alert'"))
        self.assertEqual(j("drill", "panel", "ALERTS", "No alert", [], True)[0], True)
        self.assertEqual(j("strict", "panel", "ALERTS", "No alert", [], True)[0], False)
        self.assertEqual(j("only-alerts", "panel", "ALERTS", "No alert", [], True)[0], False)
        self.assertEqual(j("quiet", "panel", "up", grafana.NO_DATA, [], True),
                         (False, "empty result (Grafana would show 'No data')"))
        self.assertEqual(j("quiet", "panel", "up", "x", [], False),
                         (False, "no finite value (only NaN/Inf)"))

    def test_the_inbox_reads_zero_before_a_page_and_more_after(self):
        j = grafana.judge
        # Its words ("is the inbox scraped?") do not excuse an empty result.
        self.assertEqual(j("quiet", "panel", self.INBOX, "no data from the inbox", [], True)[0],
                         False)
        self.assertEqual(j("quiet", "panel", self.INBOX, "w", [0.0, 0.0], False), (True, ""))
        ok, note = j("quiet", "panel", self.INBOX, "w", [0.0, 1.0], False)
        self.assertFalse(ok)
        self.assertIn("before any alert fired", note)
        self.assertEqual(j("quiet", "annotation", self.INBOX + " > 0", None, [], True)[0], True)
        self.assertEqual(j("drill", "panel", self.INBOX, "w", [0.0], False)[0], True)
        self.assertEqual(j("paged", "panel", self.INBOX, "w", [0.0, 2.0], False)[0], True)
        self.assertEqual(j("paged", "panel", self.INBOX, "w", [0.0], False),
                         (False, "still 0 after pages and resolutions reached the inbox"))
        self.assertEqual(j("paged", "annotation", self.INBOX, None, [], True)[0], False)


if __name__ == "__main__":
    unittest.main()
