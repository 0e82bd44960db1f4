#!/usr/bin/env python3
"""Checks of the lab's Grafana and Prometheus bundle (standard library only).

Static, without any server:
  bundle.py check ROOT
      dashboards are valid JSON with stable uids, every panel and query names
      the provisioned datasource uid, no import-time inputs, the seed README's
      four PromQL queries appear verbatim in a "TP queries" row, and the
      provisioning files point where compose mounts the dashboards.

Against a live Prometheus (used by tests/e2e/prometheus.sh):
  bundle.py query URL EXPR            exit 0 when EXPR returns data, 1 if not
  bundle.py dashboards ROOT URL [--quiet | --drill | --only-alerts]
      evaluate every dashboard expr, panels and Prometheus annotations,
      Grafana variables resolved through the API, panels as instant and range
      queries, annotations as range queries (as Grafana runs them); fail on an
      error, an empty result or a result with no finite value. Some queries
      only show incidents: ALERTS, the scenario phase and the annotations
      (fault changes, phases, failed scrapes, firing alerts). --quiet (alias
      --alerts-may-be-empty) lets all of those be empty, for a lab under
      default traffic; --drill lets only ALERTS panels be empty, for a lab in
      the middle of a drill (tests/e2e/drills.sh); --only-alerts evaluates the
      ALERTS queries alone, strictly
  bundle.py rules URL RULES_DIR      every rule group loaded and healthy, and
      the query under each alert's threshold returns data (prints the live
      value beside the threshold)
  bundle.py alerts URL               ALERTS now, one "name state" per line
  bundle.py firing URL ALERTNAME     the alert fires, with a severity and
      annotations rendered without template errors
"""

import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}

# The four queries of the original lab's README (seed/flask-app-README.fr.md,
# "Requêtes PromQL Utiles"): a contract with existing lab material.
SEED_QUERIES = [
    "sum(rate(flask_requests_total[5m]))",
    "flask_error_rate",
    "sum by (error_type) (flask_errors_total)",
    "histogram_quantile(0.95, rate(flask_request_duration_seconds_bucket[5m]))",
]

# Grafana's built-in variables, as a 5 s scrape and a short run give them.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}


class Failure(Exception):
    pass


# ------------------------------------------------------------------ static ---

def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def annotation_expr(ann):
    """The PromQL of a Prometheus annotation: Grafana 10+ keeps it in
    `target.expr`, older dashboards at the top level."""
    return (ann.get("target") or {}).get("expr") or ann.get("expr") or ""


def dashboard_queries(board):
    """(label, expr, kind) of every query of a dashboard; kind is "panel" or
    "annotation"."""
    for panel in walk_panels(board.get("panels", [])):
        for t in panel.get("targets", []):
            yield f"{board['uid']} / {panel.get('title')} / {t['refId']}", t["expr"], "panel"
    for ann in board.get("annotations", {}).get("list", []):
        if not ann.get("builtIn") and ann.get("datasource") == DATASOURCE:
            yield f"{board['uid']} / annotation {ann.get('name')}", annotation_expr(ann), "annotation"


def incident_only(expr, kind):
    """Why a query may show nothing while the lab is quiet, or None."""
    if kind == "annotation":
        return "annotation"
    if "ALERTS" in expr:
        return "alerts"
    if "obslab_scenario_phase" in expr:
        return "scenario"
    return None


# Which incident-only queries may be empty, per mode of `dashboards`.
MAY_BE_EMPTY = {
    "strict": set(),
    "quiet": {"annotation", "alerts", "scenario"},
    "drill": {"alerts"},
    "only-alerts": set(),
}


def load_dashboards(root):
    paths = sorted((root / "grafana" / "dashboards").glob("*.json"))
    if not paths:
        raise Failure("no dashboard in grafana/dashboards/")
    boards = []
    for path in paths:
        try:
            boards.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except json.JSONDecodeError as e:
            raise Failure(f"{path}: invalid JSON: {e}") from e
    return boards


def yaml_scalar(text, key):
    """The value of `key: value` in a small provisioning file (no YAML parser
    needed for these flat files; a second occurrence is an error)."""
    found = re.findall(rf"^\s*-?\s*{key}:\s*['\"]?([^'\"#\s]+)['\"]?\s*(?:#.*)?$", text, re.M)
    if len(found) != 1:
        raise Failure(f"expected one '{key}:' in provisioning file, found {len(found)}")
    return found[0]


def check_provisioning(root):
    ds = (root / "grafana/provisioning/datasources/prometheus.yml").read_text(encoding="utf-8")
    if yaml_scalar(ds, "uid") != DATASOURCE["uid"]:
        raise Failure(f"datasource uid is not {DATASOURCE['uid']!r}")
    if yaml_scalar(ds, "type") != "prometheus":
        raise Failure("datasource type is not prometheus")
    if yaml_scalar(ds, "url") != "http://prometheus:9090":
        raise Failure("datasource url is not http://prometheus:9090")
    if yaml_scalar(ds, "isDefault") != "true":
        raise Failure("the Prometheus datasource is not the default one")
    prov = (root / "grafana/provisioning/dashboards/obslab.yml").read_text(encoding="utf-8")
    if yaml_scalar(prov, "type") != "file":
        raise Failure("dashboards provider is not of type file")
    if yaml_scalar(prov, "path") != "/var/lib/grafana/dashboards":
        raise Failure("dashboards provider path is not /var/lib/grafana/dashboards")


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
        if not annotation_expr(ann).strip():
            problems.append(f"{name}: empty expr")
        if not ann.get("titleFormat"):
            problems.append(f"{name}: no titleFormat")
    ids = []
    for panel in walk_panels(board.get("panels", [])):
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
    for var in board.get("templating", {}).get("list", []):
        if var.get("type") == "query" and var.get("datasource") != DATASOURCE:
            problems.append(f"variable {var.get('name')}: datasource {var.get('datasource')!r}")
    return problems


def seed_queries_in(root):
    """The seed README's queries, when shared/ sits beside the repository."""
    seed = root.parent / "shared" / "seed" / "flask-app-README.fr.md"
    if not seed.exists():
        return None
    block = re.search(r"```promql\n(.*?)```", seed.read_text(encoding="utf-8"), re.S)
    if not block:
        raise Failure(f"{seed}: no promql block")
    return [line.strip() for line in block.group(1).splitlines()
            if line.strip() and not line.strip().startswith("#")]


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
    check_provisioning(root)
    boards = load_dashboards(root)
    uids = [b.get("uid") for _, b in boards]
    if len(uids) != len(set(uids)):
        raise Failure(f"dashboard uids are not unique: {uids}")
    problems = []
    for path, board in boards:
        problems += [f"{path.name}: {p}" for p in check_dashboard(path, board)]
    if problems:
        raise Failure("\n".join(problems))
    seed = seed_queries_in(root)
    if seed is not None and seed != SEED_QUERIES:
        raise Failure(f"the seed README's queries changed: {seed}")
    where = check_tp_row(boards)
    n = sum(1 for _, b in boards for _ in dashboard_queries(b))
    print(f"ok: {len(boards)} dashboards ({', '.join(uids)}), {n} queries, datasource uid "
          f"{DATASOURCE['uid']!r} everywhere, seed queries verbatim in {where}"
          + ("" if seed is not None else " (seed README not found beside the repository)"))


# -------------------------------------------------------------------- live ---

def api(url, path, **params):
    query = urllib.parse.urlencode(params, doseq=True)
    req = urllib.request.Request(url.rstrip("/") + path + ("?" + query if query else ""))
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except json.JSONDecodeError:
            raise Failure(f"{path}: HTTP {e.code}") from e
    if body.get("status") != "success":
        raise Failure(f"{body.get('errorType')}: {body.get('error')}")
    return body


def values_of(result):
    for series in result:
        if "value" in series:
            yield float(series["value"][1])
        for _, v in series.get("values", []):
            yield float(v)


def regex_escape(value):
    # Grafana escapes regex metacharacters in multi-value selections; inside a
    # PromQL string the backslash itself is doubled.
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", value)


LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*$", re.S)


def interpolate(text, variables):
    def sub(m):
        name = m.group(1) or m.group(2)
        if name in variables:
            return variables[name]
        if name in BUILTINS:
            return BUILTINS[name]
        raise Failure(f"unknown variable ${name} in {text!r}")
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", sub, text)


def resolve_variables(url, board):
    variables = {}
    for var in board.get("templating", {}).get("list", []):
        name = var["name"]
        if var.get("type") == "query":
            query = var.get("definition") or var.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            m = LABEL_VALUES.match(interpolate(query, variables))
            if not m:
                raise Failure(f"variable {name}: unsupported query {query!r}")
            params = {"match[]": m.group(1)} if m.group(1) else {}
            values = api(url, f"/api/v1/label/{m.group(2)}/values", **params)["data"]
            if not values:
                raise Failure(f"variable ${name}: {query!r} found no value")
        elif var.get("type") in ("custom", "constant"):
            values = [v.strip() for v in str(var.get("query", "")).split(",") if v.strip()]
        elif var.get("type") == "interval":
            values = [BUILTINS["__interval"]]
        else:
            raise Failure(f"variable {name}: unsupported type {var.get('type')!r}")
        if var.get("includeAll") and var.get("allValue"):
            variables[name] = var["allValue"]
        elif var.get("includeAll") or var.get("multi"):
            variables[name] = "(" + "|".join(regex_escape(v) for v in values) + ")"
        else:
            variables[name] = values[0]
        print(f"  ${name} = {variables[name]}")
    return variables


def evaluate(url, expr, instant=True, step=10):
    """(instant result, range result) of expr over the last two minutes at
    `step` seconds; the instant result is None when not asked for."""
    now = time.time()
    instant = api(url, "/api/v1/query", query=expr, time=f"{now:.3f}") if instant else None
    ranged = api(url, "/api/v1/query_range", query=expr, start=f"{now - 120:.3f}",
                 end=f"{now:.3f}", step=str(step))
    for body in (instant, ranged):
        for w in (body or {}).get("warnings", []):
            print(f"    warning: {w}")
    return instant and instant["data"], ranged["data"]


def cmd_query(url, expr):
    data = api(url, "/api/v1/query", query=expr)["data"]
    print(json.dumps(data["result"])[:500])
    return 0 if data["result"] else 1


def cmd_dashboards(root, url, mode):
    failures, checked = [], 0
    for path, board in load_dashboards(Path(root).resolve()):
        print(f"{board['uid']} ({path.name}):")
        variables = resolve_variables(url, board)
        for label, raw, kind in dashboard_queries(board):
            if mode == "only-alerts" and "ALERTS" not in raw:
                continue
            expr = interpolate(raw, variables)
            checked += 1
            try:
                # A drill's events are short on a compressed timeline: a fine
                # step does not miss them.
                instant, ranged = evaluate(url, expr, instant=kind == "panel",
                                           step=1 if mode == "drill" else 10)
            except Failure as e:
                failures.append(f"{label}: {e}\n      {expr}")
                continue
            why = incident_only(raw, kind)
            if (instant is not None and not instant["result"]) or not ranged["result"]:
                if why in MAY_BE_EMPTY[mode]:
                    print(f"  ok (empty: {why}, shows incidents only)  {label}")
                    continue
                failures.append(f"{label}: empty result\n      {expr}")
                continue
            result = (instant or ranged)["result"]
            finite = [v for v in values_of(result) if math.isfinite(v)]
            if not finite:
                failures.append(f"{label}: no finite value (only NaN/Inf)\n      {expr}")
                continue
            print(f"  ok ({len(result)} series{', range' if instant is None else ''})  {label}")
    if failures:
        raise Failure(f"{len(failures)} of {checked} dashboard queries failed:\n  "
                      + "\n  ".join(failures))
    print(f"ok: {checked} dashboard queries returned data")


COMPARISONS = re.compile(r"==|!=|>=|<=|>|<")


def split_threshold(expr):
    """(query, 'op threshold') at the last top-level comparison of expr."""
    depth, i, last = 0, 0, None
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < len(expr) and expr[j] != c:
                j += 2 if expr[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            m = COMPARISONS.match(expr, i)
            if m:
                last = (i, m.end())
                i = m.end()
                continue
        i += 1
    if last is None:
        return expr, ""
    return expr[:last[0]].strip(), expr[last[0]:].strip()


def cmd_rules(url, rules_dir):
    expected = set()
    for path in Path(rules_dir).glob("*.yml"):
        expected.update(re.findall(r"^\s*-\s*alert:\s*(\S+)", path.read_text(), re.M))
    groups = api(url, "/api/v1/rules")["data"]["groups"]
    problems, seen = [], set()
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("name")
            seen.add(name)
            if rule.get("health") != "ok" or rule.get("lastError"):
                problems.append(f"{group['name']}/{name}: health {rule.get('health')!r} "
                                f"{rule.get('lastError', '')}")
            if rule.get("type") != "alerting":
                continue
            query, threshold = split_threshold(rule["query"])
            try:
                result = api(url, "/api/v1/query", query=query)["data"]["result"]
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
    for series in api(url, "/api/v1/query", query="ALERTS")["data"]["result"]:
        m = series["metric"]
        print(m.get("alertname"), m.get("alertstate"))
    return 0


def cmd_firing(url, alertname):
    for alert in api(url, "/api/v1/alerts")["data"]["alerts"]:
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
            case ["dashboards", root, url, "--only-alerts"]:
                cmd_dashboards(root, url, "only-alerts")
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
