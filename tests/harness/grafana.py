"""Grafana dashboards as the checks see them: the JSON files of
grafana/dashboards/, their variables resolved through the Prometheus API and
their queries run the way Grafana runs them.
"""

import json
import re
import time
from pathlib import Path

from . import Failure

# The provisioned datasource every panel, query and annotation must name.
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}

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
