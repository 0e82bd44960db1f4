#!/usr/bin/env python3
"""Checks of the lab's Grafana and Prometheus bundle (standard library and PyYAML).

Static, without any server:
  bundle.py check ROOT
      the datasources provisioned as the lab needs them (Prometheus, the
      default, and Alertmanager, with Grafana's documented fields and fixed
      uids), dashboards are valid JSON with stable uids, every datasource a
      dashboard names is provisioned, every panel and query names the
      Prometheus uid, no import-time inputs, every query
      scans as PromQL and its range windows, subquery steps and offsets are
      durations or Grafana interval variables, the original lab README's
      four PromQL queries appear verbatim in a "TP queries" row, and the
      provisioning files point where compose mounts the dashboards.

Against a live Prometheus (used by tests/e2e/prometheus.sh):
  bundle.py query URL EXPR            exit 0 when EXPR returns data, 1 if not
  bundle.py dashboards ROOT URL [--quiet | --drill | --paged | --only-alerts]
      evaluate every dashboard expr, panels and Prometheus annotations,
      Grafana variables resolved through the API, panels as instant and range
      queries, annotations as range queries (as Grafana runs them); fail on an
      error, an empty result or a result with no finite value (strict, no
      flag). --quiet (alias --alerts-may-be-empty), for a lab under default
      traffic: a panel may be empty only where it says so in words (its
      noValue: the ALERTS tables), the annotations may be empty, and the
      inbox's queries (Notifications row, page annotation) must read 0;
      --drill, in the middle of a drill (tests/e2e/drills.sh): the same, but
      annotations must mark it; --paged, once pages and resolutions reached
      the inbox: each inbox query shows a positive value over the last hour;
      --only-alerts evaluates the ALERTS queries alone, strictly
  bundle.py rules URL RULES_DIR      every rule group loaded and healthy, the
      query under each alert's threshold returns data (prints the live
      value beside the threshold), and each recording rule's series hold a
      finite value
  bundle.py alerts URL               ALERTS now, one "name state" per line
  bundle.py firing URL ALERTNAME     the alert fires, with a severity and
      annotations rendered without template errors
"""

import json
import math
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure, grafana, promql, rules  # noqa: E402  (tests/harness/)
from harness.grafana import (BUILTINS, DATASOURCE, evaluate,  # noqa: E402
                             interpolate, load_dashboards, resolve_variables)
from harness.prom import Prometheus, values_of  # noqa: E402

# The four queries of the original lab's README ("Requêtes PromQL Utiles" of
# its seed README): a contract with existing lab material.
SEED_QUERIES = [
    "sum(rate(flask_requests_total[5m]))",
    "flask_error_rate",
    "sum by (error_type) (flask_errors_total)",
    "histogram_quantile(0.95, rate(flask_request_duration_seconds_bucket[5m]))",
]

# The uid of the Alertmanager datasource (Grafana's alerting pages).
ALERTMANAGER = "alertmanager"


# ------------------------------------------------------------------ static ---

def dashboard_queries(board):
    return promql.dashboard_queries(board, DATASOURCE)


def shows_alerts(expr):
    return bool({"ALERTS", "ALERTS_FOR_STATE"} & promql.names(expr))


def check_provisioning(root):
    """{uid: datasource} provisioned, once their files are as the lab needs
    them (grafana.PROVISIONED) and the dashboards provider reads the folder
    compose mounts."""
    provisioned = grafana.load_datasources(root)
    problems = grafana.datasource_problems(provisioned)
    am = urlsplit(provisioned.get(ALERTMANAGER, {}).get("url", "")).netloc
    prom_yml = yaml.safe_load((root / "prometheus/prometheus.yml").read_text(encoding="utf-8"))
    alertmanagers = {t for a in prom_yml["alerting"]["alertmanagers"]
                     for s in a.get("static_configs") or [] for t in s.get("targets") or []}
    if am and am not in alertmanagers:
        problems.append(f"the Alertmanager datasource's {am} is not Prometheus' Alertmanager "
                        "(prometheus/prometheus.yml)")
    prov = yaml.safe_load((root / "grafana/provisioning/dashboards/obslab.yml")
                          .read_text(encoding="utf-8"))
    providers = (prov or {}).get("providers") or [{}]
    if len(providers) != 1 or providers[0].get("type") != "file":
        problems.append("dashboards: expected one provider, of type file")
    elif (providers[0].get("options") or {}).get("path") != "/var/lib/grafana/dashboards":
        problems.append("dashboards provider path is not /var/lib/grafana/dashboards")
    if problems:
        raise Failure("grafana/provisioning/: " + "; ".join(problems))
    return provisioned


def check_dashboard(path, board):
    problems = []
    raw = path.read_text(encoding="utf-8")
    if "__inputs" in board or "${DS_" in raw or "$DS_" in raw:
        problems.append("carries import-time inputs (__inputs / ${DS_...})")
    uid = board.get("uid")
    if not isinstance(uid, str) or not re.fullmatch(r"[a-z0-9-]{1,40}", uid):
        problems.append(f"uid {uid!r} is not a stable slug")
    if not board.get("title"):
        problems.append("no title")
    if board.get("id") not in (None,):
        problems.append("carries a database id (drop 'id' so provisioning assigns one)")
    for ann in board.get("annotations", {}).get("list", []):
        name = f"annotation {ann.get('name')!r}"
        if ann.get("builtIn"):
            continue
        if ann.get("datasource") != DATASOURCE:
            problems.append(f"{name}: datasource {ann.get('datasource')!r}")
        if not promql.annotation_expr(ann).strip():
            problems.append(f"{name}: empty expr")
        if not ann.get("titleFormat"):
            problems.append(f"{name}: no titleFormat")
    ids = []
    for panel in promql.walk_panels(board.get("panels", [])):
        name = f"panel {panel.get('id')} {panel.get('title')!r}"
        ids.append(panel.get("id"))
        if panel.get("datasource") != DATASOURCE:
            problems.append(f"{name}: datasource {panel.get('datasource')!r}")
        if "gridPos" not in panel:
            problems.append(f"{name}: no gridPos")
        for t in panel.get("targets", []):
            if t.get("datasource") != DATASOURCE:
                problems.append(f"{name} query {t.get('refId')}: datasource {t.get('datasource')!r}")
            if not t.get("expr", "").strip():
                problems.append(f"{name} query {t.get('refId')}: empty expr")
        if panel.get("type") not in ("row", "text") and not panel.get("targets"):
            problems.append(f"{name}: no query")
    if len(ids) != len(set(ids)) or None in ids:
        problems.append("panel ids are missing or not unique")
    variables = set()
    for var in board.get("templating", {}).get("list", []):
        variables.add(var.get("name"))
        if var.get("type") == "query" and var.get("datasource") != DATASOURCE:
            problems.append(f"variable {var.get('name')}: datasource {var.get('datasource')!r}")
    for label, expr, _ in dashboard_queries(board):
        problems += [f"{label}: {p}" for p in check_durations(expr, variables)]
    return problems


def check_durations(expr, variables):
    """Problems of the range windows, subquery steps and offsets of a
    dashboard query: each is a Prometheus duration or an interval variable
    (Grafana's `$__rate_interval`... or one of the dashboard's)."""
    try:
        found = promql.durations(expr)
    except Failure as e:
        return [str(e)]
    problems = []
    for kind, text in found:
        if text.startswith("$"):
            name = text.strip("${}").split(":")[0]
            if name not in BUILTINS and name not in variables:
                problems.append(f"{kind} {text}: unknown variable")
            continue
        try:
            promql.duration_ms(text)
        except Failure as e:
            problems.append(f"{kind}: {e}")
    return problems


def check_tp_row(boards):
    for _, board in boards:
        row_title, found = None, set()
        for panel in board.get("panels", []):
            if panel.get("type") == "row":
                row_title = panel.get("title", "")
                continue
            if row_title and row_title.startswith("TP queries"):
                found.update(t.get("expr") for t in panel.get("targets", []))
        if found:
            missing = [q for q in SEED_QUERIES if q not in found]
            if missing:
                raise Failure(f"{board['uid']}: TP queries row lacks {missing}")
            return board["uid"]
    raise Failure("no dashboard has a 'TP queries' row")


def cmd_check(root):
    root = Path(root).resolve()
    provisioned = check_provisioning(root)
    boards = load_dashboards(root)
    uids = [b.get("uid") for _, b in boards]
    if len(uids) != len(set(uids)):
        raise Failure(f"dashboard uids are not unique: {uids}")
    problems = []
    for path, board in boards:
        problems += [f"{path.name}: {p}" for p in check_dashboard(path, board)]
        problems += [f"{path.name}: {p}" for p in grafana.unprovisioned_refs(board, provisioned)]
    if problems:
        raise Failure("\n".join(problems))
    where = check_tp_row(boards)
    n = sum(1 for _, b in boards for _ in dashboard_queries(b))
    print(f"ok: datasources {', '.join(sorted(provisioned))} provisioned as the lab needs them; "
          f"{len(boards)} dashboards ({', '.join(uids)}), {n} queries, datasource uid "
          f"{DATASOURCE['uid']!r} everywhere, seed queries verbatim in {where}")


# -------------------------------------------------------------------- live ---

def cmd_query(url, expr):
    data = Prometheus(url).query(expr)
    print(json.dumps(data["result"])[:500])
    return 0 if data["result"] else 1


# The time range `paged` evaluates over: the pages of a whole drills run.
PAGED_RANGE_S = 3600


def shown(instant, ranged):
    """A result in a few words: its series count, and the labels and value
    of a lone instant series (what a stat shows)."""
    result = (instant or ranged)["result"]
    text = f"{len(result)} series{', range' if instant is None else ''}"
    if instant is not None and len(result) == 1:
        labels = ", ".join(f'{k}="{v}"' for k, v in result[0]["metric"].items())
        text += f": {{{labels}}} {result[0]['value'][1]}"
    return text


def cmd_dashboards(root, url, mode):
    prom = Prometheus(url, on_warning=lambda w: print(f"    warning: {w}"))
    failures, checked = [], 0
    for path, board in load_dashboards(Path(root).resolve()):
        print(f"{board['uid']} ({path.name}):")
        variables = resolve_variables(prom, board)
        if mode == "paged":
            variables.update(__range=f"{PAGED_RANGE_S}s", __range_s=str(PAGED_RANGE_S),
                             __range_ms=str(PAGED_RANGE_S * 1000))
        panels = grafana.panels_by_query(board)
        for label, raw, kind in dashboard_queries(board):
            if mode == "only-alerts" and not shows_alerts(raw):
                continue
            if mode == "paged" and not grafana.reads_inbox(raw):
                continue
            expr = interpolate(raw, variables)
            checked += 1
            try:
                # A drill's events are short on a compressed timeline: a fine
                # step does not miss them.
                instant, ranged = evaluate(
                    prom, expr, instant=kind == "panel", step=1 if mode == "drill" else 10,
                    window=PAGED_RANGE_S if mode == "paged" else 120)
            except Failure as e:
                failures.append(f"{label}: {e}\n      {expr}")
                continue
            results = [r["result"] for r in (instant, ranged) if r is not None]
            finite = [v for r in results for v in values_of(r) if math.isfinite(v)]
            words = grafana.when_empty(panels[label]) if kind == "panel" else None
            ok, note = grafana.judge(mode, kind, raw, words, finite,
                                     empty=not any(results))
            if not ok:
                failures.append(f"{label}: {note}\n      {expr}")
                continue
            print(f"  ok ({note or shown(instant, ranged)})  {label}")
    if failures:
        raise Failure(f"{len(failures)} of {checked} dashboard queries failed:\n  "
                      + "\n  ".join(failures))
    print(f"ok: {checked} dashboard queries answered as a {mode} lab should")


def recorded_problems(prom, name):
    """[] when the series a recording rule writes hold a finite value, and
    prints it; else the problem."""
    try:
        finite = [v for v in values_of(prom.query(name)["result"]) if math.isfinite(v)]
    except Failure as e:
        return [f"{name}: {e}"]
    if not finite:
        return [f"{name}: the recording rule has written no finite value yet"]
    shown = ", ".join(f"{v:.4g}" for v in finite[:4]) + (" ..." if len(finite) > 4 else "")
    print(f"  {name:32} now {shown}")
    return []


def cmd_rules(url, rules_dir):
    prom = Prometheus(url)
    expected = rules.alert_names(rules_dir)
    groups = prom.rules()
    problems, seen = [], set()
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("name")
            seen.add(name)
            if rule.get("health") != "ok" or rule.get("lastError"):
                problems.append(f"{group['name']}/{name}: health {rule.get('health')!r} "
                                f"{rule.get('lastError', '')}")
            if rule.get("type") == "recording":
                problems += recorded_problems(prom, name)
                continue
            if rule.get("type") != "alerting":
                continue
            query, threshold = promql.split_threshold(rule["query"])
            try:
                result = prom.query(query)["result"]
            except Failure as e:
                problems.append(f"{name}: {e}")
                continue
            finite = [v for v in values_of(result) if math.isfinite(v)]
            if not finite:
                problems.append(f"{name}: the query under its threshold returns no data: {query}")
                continue
            shown = ", ".join(f"{v:.4g}" for v in finite)
            print(f"  {name:32} now {shown:>14}   fires when {threshold}")
    missing = expected - seen
    if missing:
        problems.append(f"rules not loaded: {sorted(missing)}")
    if problems:
        raise Failure("\n".join(problems))
    print(f"ok: {len(groups)} rule groups, {len(seen)} rules loaded, all healthy")


def cmd_alerts(url):
    for series in Prometheus(url).query("ALERTS")["result"]:
        m = series["metric"]
        print(m.get("alertname"), m.get("alertstate"))
    return 0


def cmd_firing(url, alertname):
    for alert in Prometheus(url).alerts():
        labels = alert["labels"]
        if labels.get("alertname") != alertname or alert["state"] != "firing":
            continue
        problems = []
        if not labels.get("severity"):
            problems.append("no severity label")
        for key in ("summary", "description"):
            text = alert.get("annotations", {}).get(key, "")
            if not text or "<no value>" in text or "error expanding" in text or "%!" in text:
                problems.append(f"annotation {key} badly rendered: {text!r}")
        if problems:
            raise Failure(f"{alertname}: " + "; ".join(problems))
        print(f"ok: {alertname} firing {json.dumps(labels, sort_keys=True)}")
        print(f"    summary: {alert['annotations']['summary']}")
        return 0
    return 1


def main(argv):
    try:
        match argv:
            case ["check", root]:
                cmd_check(root)
            case ["query", url, expr]:
                return cmd_query(url, expr)
            case ["dashboards", root, url]:
                cmd_dashboards(root, url, "strict")
            case ["dashboards", root, url, "--quiet" | "--alerts-may-be-empty"]:
                cmd_dashboards(root, url, "quiet")
            case ["dashboards", root, url, "--drill"]:
                cmd_dashboards(root, url, "drill")
            case ["dashboards", root, url, "--only-alerts" | "--paged" as flag]:
                cmd_dashboards(root, url, flag[2:])
            case ["rules", url, rules_dir]:
                cmd_rules(url, rules_dir)
            case ["alerts", url]:
                return cmd_alerts(url)
            case ["firing", url, alertname]:
                return cmd_firing(url, alertname)
            case _:
                print(__doc__, file=sys.stderr)
                return 2
    except (Failure, OSError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
