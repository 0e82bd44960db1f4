#!/usr/bin/env python3
"""promtool unit tests of dashboard panels whose query must say something in
every case, some of which a live lab rarely shows (standard library only).

  panel_tests.py ROOT > FILE && promtool test rules FILE

writes a `promtool test rules` file (JSON, which is YAML) in which each
panel's query, taken from grafana/dashboards/ itself with the Grafana
variables set as on the lab ($job = obslab-server, $instance = all,
$__range = 5m), is evaluated by Prometheus' own engine against made-up
series: the drill-phase stat says "no drill" when nothing plays, the drill
and phase while one plays, "server not scraped" during an outage (its phase
is then unknown); the pages stat reads 0 before the first page and counts it
after. tests/bundle/check.sh runs it.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure, promql  # noqa: E402  (tests/harness/)
from harness.grafana import interpolate, load_dashboards  # noqa: E402

VARIABLES = {"job": "obslab-server", "instance": ".+", "__range": "5m"}
SERVER = 'job="obslab-server", instance="server:5000"'
PHASE = f'obslab_scenario_phase{{{SERVER}, scenario="error-spike", phase="spike"}}'

# (dashboard uid, panel title, input series every 5 s, [(at, expected)]):
# `expected` maps each sample's labels to its value.
CASES = [
    ("obslab-server", "Scenario phase",
     # up: scraped for 60 s, then 30 s of outage (a failed scrape also marks
     # the server's series stale), then scraped again. A phase plays from
     # 20 s to 35 s.
     {f"up{{{SERVER}}}": "1x11 0x5 1x6",
      PHASE: "_x3 1x3 stale"},
     [("10s", {'{drill="no drill"}': 0}),
      ("25s", {f'{{__name__="obslab_scenario_phase", {SERVER}, scenario="error-spike", '
               'phase="spike", drill="error-spike · spike"}': 1}),
      ("70s", {'{drill="server not scraped"}': -1}),
      ("105s", {'{drill="no drill"}': 0})]),
    ("obslab-server", "Pages in the time range",
     # Exported at 0 from the inbox's start; one page at 100 s.
     {'obslab_inbox_alerts_total{alertname="ObslabServerDown", status="firing"}': "0x19 1x20",
      'obslab_inbox_alerts_total{alertname="ObslabServerDown", status="resolved"}': "0x39",
      'obslab_inbox_alerts_total{alertname="ObslabLoadgenDown", status="firing"}': "0x39"},
     [("60s", {"{}": 0}), ("150s", {"{}": 1})]),
]


def panel_expr(boards, uid, title):
    for _, board in boards:
        if board.get("uid") != uid:
            continue
        for panel in promql.walk_panels(board.get("panels", [])):
            if panel.get("title") == title:
                (target,) = panel["targets"]
                return interpolate(target["expr"], VARIABLES)
    raise Failure(f"{uid}: no panel {title!r} with one query")


def test_file(root):
    boards = load_dashboards(root)
    tests = []
    for uid, title, series, checks in CASES:
        expr = panel_expr(boards, uid, title)
        tests.append({
            "name": f"{uid} / {title}",
            "interval": "5s",
            "input_series": [{"series": s, "values": v} for s, v in series.items()],
            "promql_expr_test": [
                {"expr": expr, "eval_time": at,
                 "exp_samples": [{"labels": labels, "value": value}
                                 for labels, value in expected.items()]}
                for at, expected in checks],
        })
    return {"rule_files": [], "evaluation_interval": "5s", "tests": tests}


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(json.dumps(test_file(Path(argv[0]).resolve()), indent=2, ensure_ascii=False))
    except (Failure, OSError, ValueError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
