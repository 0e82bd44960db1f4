"""Grafana as the checks see it: the datasources provisioned from
grafana/provisioning/datasources/, the JSON files of grafana/dashboards/ and
the datasources they name, what a panel shows when its queries return
nothing, the variables resolved through the Prometheus API and the queries
run the way Grafana runs them. Grafana itself cannot run on the test
machines: these follow its documented behaviour.
"""

import json
import re
import time
from pathlib import Path

import yaml

from . import Failure, promql

# The provisioned datasource every panel, query and annotation must name.
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}

# The lab's datasources, by uid, as grafana/provisioning/datasources/ must
# declare them: Grafana's documented fields (provisioning docs; the
# Alertmanager datasource's `jsonData.implementation` is one of mimir, cortex,
# prometheus), pointed at the compose services. A dotted key is nested.
PROVISIONED = {
    "prometheus": {"type": "prometheus", "access": "proxy", "url": "http://prometheus:9090",
                   "isDefault": True, "jsonData.timeInterval": "5s"},
    "alertmanager": {"type": "alertmanager", "access": "proxy", "url": "http://alertmanager:9093",
                     "isDefault": False, "jsonData.implementation": "prometheus",
                     "jsonData.handleGrafanaManagedAlerts": False},
}

# Datasource uids Grafana itself provides (annotations & alerts, mixed, a
# dashboard's own panels).
BUILTIN_DATASOURCES = {"-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana"}

# What Grafana shows in a panel whose queries all return nothing.
NO_DATA = "No data"

# Grafana's built-in variables, as a 5 s scrape and a short run give them.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}

_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*$", re.S)


def load_dashboards(root):
    """[(path, parsed JSON)] of ROOT/grafana/dashboards/*.json."""
    paths = sorted((Path(root) / "grafana" / "dashboards").glob("*.json"))
    if not paths:
        raise Failure("no dashboard in grafana/dashboards/")
    boards = []
    for path in paths:
        try:
            boards.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except json.JSONDecodeError as e:
            raise Failure(f"{path}: invalid JSON: {e}") from e
    return boards


def regex_escape(value):
    """A value as Grafana puts it in a multi-value regex: metacharacters
    escaped, and inside a PromQL string the backslash itself doubled."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", value)


def interpolate(text, variables):
    """text with `$name` and `${name}` (`${name:fmt}`) replaced from
    `variables`, then from Grafana's built-ins; an unknown one fails."""
    def sub(m):
        name = m.group(1) or m.group(2)
        if name in variables:
            return variables[name]
        if name in BUILTINS:
            return BUILTINS[name]
        raise Failure(f"unknown variable ${name} in {text!r}")
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", sub, text)


def resolve_variables(prom, board, echo=print):
    """{name: value} of the dashboard's variables as Grafana would set them
    with every value selected: `label_values(...)` queries through `prom`,
    custom and constant lists, intervals. Prints each with `echo`."""
    variables = {}
    for var in board.get("templating", {}).get("list", []):
        name = var["name"]
        if var.get("type") == "query":
            query = var.get("definition") or var.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            m = _LABEL_VALUES.match(interpolate(query, variables))
            if not m:
                raise Failure(f"variable {name}: unsupported query {query!r}")
            values = prom.label_values(m.group(2), m.group(1))
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
        echo(f"  ${name} = {variables[name]}")
    return variables


def evaluate(prom, expr, instant=True, step=10, window=120):
    """(instant data, range data) of expr as a panel runs it: now, and over
    the last `window` seconds every `step`; the instant data is None when not
    asked for (annotations are range queries only)."""
    now = time.time()
    instant = prom.query(expr, at=now) if instant else None
    return instant, prom.query_range(expr, now - window, now, step)


# -------------------------------------------------------------- datasources ---

def load_datasources(root):
    """{uid: datasource} of ROOT/grafana/provisioning/datasources/*.yml, as
    Grafana reads them (`apiVersion: 1`, a `datasources:` list); a uid or a
    name declared twice, or a datasource without either, fails."""
    paths = sorted((Path(root) / "grafana" / "provisioning" / "datasources").glob("*.y*ml"))
    if not paths:
        raise Failure("no datasource file in grafana/provisioning/datasources/")
    found, names = {}, set()
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise Failure(f"{path.name}: not YAML: {e}") from None
        if not isinstance(doc, dict) or doc.get("apiVersion") != 1:
            raise Failure(f"{path.name}: not a provisioning file of apiVersion 1")
        for ds in doc.get("datasources") or []:
            uid, name = ds.get("uid"), ds.get("name")
            if not uid or not name:
                raise Failure(f"{path.name}: a datasource without uid or name: {ds}")
            if uid in found or name in names:
                raise Failure(f"{path.name}: datasource uid {uid!r} or name {name!r} declared twice")
            found[uid], names = ds, names | {name}
    return found


def datasource_problems(provisioned, expected=PROVISIONED):
    """What differs between the provisioned datasources and `expected`
    ({uid: {field or dotted.field: value}}), plus more than one default."""
    problems = []
    for uid, fields in expected.items():
        ds = provisioned.get(uid)
        if ds is None:
            problems.append(f"no datasource of uid {uid!r} is provisioned")
            continue
        for key, want in fields.items():
            have = ds
            for part in key.split("."):
                have = have.get(part) if isinstance(have, dict) else None
            if have != want and not (want is False and have is None):
                problems.append(f"datasource {uid!r}: {key} is {have!r}, not {want!r}")
    defaults = [uid for uid, ds in provisioned.items() if ds.get("isDefault") is True]
    if len(defaults) > 1:
        problems.append(f"several default datasources: {defaults}")
    return problems


def datasource_refs(node, where):
    """(where, reference) of every `datasource` under `node` (a dashboard's
    panels, targets, annotations or variables), at any depth."""
    if isinstance(node, dict):
        name = node.get("title") or node.get("name") or node.get("refId")
        here = f"{where} / {name}" if isinstance(name, str) and name else where
        for key, value in node.items():
            if key != "datasource":
                yield from datasource_refs(value, here)
            elif value is not None:
                yield here, value
    elif isinstance(node, list):
        for item in node:
            yield from datasource_refs(item, where)


def unprovisioned_refs(board, provisioned):
    """Problems of the datasources a dashboard names: by name or variable
    instead of a fixed uid, or a uid (or type) no provisioning file declares."""
    problems = []
    refs = [r for key in ("panels", "annotations", "templating")
            for r in datasource_refs(board.get(key), f"{board.get('uid')} {key}")]
    for where, ref in refs:
        if not isinstance(ref, dict) or not isinstance(ref.get("uid"), str):
            problems.append(f"{where}: datasource {ref!r} is not a {{type, uid}} reference")
            continue
        uid = ref["uid"]
        if uid in BUILTIN_DATASOURCES:
            continue
        if uid.startswith("$"):
            problems.append(f"{where}: datasource uid {uid} is a variable, not a provisioned uid")
        elif uid not in provisioned:
            problems.append(f"{where}: datasource uid {uid!r} is not provisioned")
        elif ref.get("type") not in (None, provisioned[uid].get("type")):
            problems.append(f"{where}: datasource {uid!r} has type "
                            f"{provisioned[uid].get('type')!r}, not {ref.get('type')!r}")
    return problems


# ------------------------------------------------------------------ panels ---

def when_empty(panel):
    """What Grafana shows in `panel` when its queries return nothing: the
    field option `noValue` (standard options, "No value"), else "No data". A
    stat showing names only (`textMode: name`) shows the name of its
    no-value field, which is "No data" whatever `noValue` says."""
    if panel.get("type") == "stat" and (panel.get("options") or {}).get("textMode") == "name":
        return NO_DATA
    text = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("noValue")
    return text if isinstance(text, str) and text.strip() else NO_DATA


def panels_by_query(board):
    """{label: panel} of every panel query, labelled as
    promql.dashboard_queries labels them."""
    return {f"{board['uid']} / {panel.get('title')} / {t['refId']}": panel
            for panel in promql.walk_panels(board.get("panels", []))
            for t in panel.get("targets", [])}


# ------------------------------------------------------------ live verdict ---

# What `bundle.py dashboards` expects, per mode:
#   strict        every query returns data;
#   quiet         a lab under default traffic, no alert ever fired: a panel
#                 may be empty only where it says so in words (when_empty),
#                 annotations may be empty (they mark incidents), and the
#                 inbox's queries all read 0 (no page yet, yet not "No data");
#   drill         a lab in a drill: panels as in quiet, annotations must mark
#                 the drill, the inbox's queries return data;
#   paged         after pages and resolutions reached the inbox: each of the
#                 inbox's queries shows a positive value;
#   only-alerts   the ALERTS queries, strictly.
MODES = ("strict", "quiet", "drill", "paged", "only-alerts")


def reads_inbox(expr):
    """The query reads the inbox's metrics (the Notifications row, the
    page annotation)."""
    return any(name.startswith("obslab_inbox_") for name in promql.names(expr))


def judge(mode, kind, expr, words, finite, empty):
    """(ok, note) for one dashboard query's live result in `mode`: `kind` is
    "panel" or "annotation", `words` what its panel shows when empty
    (when_empty; None for an annotation), `finite` the finite values of its
    instant and range results, `empty` whether both were empty."""
    inbox = reads_inbox(expr)
    if empty:
        if kind == "annotation" and mode == "quiet":
            return True, "empty: an annotation marks incidents only"
        if kind == "panel" and not inbox and mode in ("quiet", "drill") and words != NO_DATA:
            return True, f"empty: the panel says {words!r}"
        shown = f" (Grafana would show {words!r})" if kind == "panel" else ""
        return False, f"empty result{shown}"
    if not finite:
        return False, "no finite value (only NaN/Inf)"
    if inbox and mode == "quiet" and any(v != 0 for v in finite):
        return False, f"a page counted before any alert fired: {sorted(set(finite))[-3:]}"
    if inbox and mode == "paged" and not any(v > 0 for v in finite):
        return False, "still 0 after pages and resolutions reached the inbox"
    return True, ""
