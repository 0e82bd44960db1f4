"""The project's prometheus/prometheus.yml and alertmanager/alertmanager.yml
made to run on 127.0.0.1, read and written with PyYAML.

The lab's configuration finds its targets by compose service name, the load
generator by DNS service discovery (every replica). A test that runs the
same file outside compose points chosen jobs at fixed addresses instead:

    text = local_config(text, {"obslab-server": "127.0.0.1:5001"},
                        alertmanager="127.0.0.1:9094")
    text = alertmanager_config(text, "http://127.0.0.1:9095", speed=10)

Each named job keeps its name, relabelling and options; only its target
discovery (static_configs, dns_sd_configs, ...) is replaced by one
static_configs of the address (or the list of addresses) given. Comments are
not kept: the copy is the test's.
"""

import yaml

from . import Failure, promql

INBOX_WEBHOOK = "http://inbox:9095/webhook"


def _load(text, what):
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise Failure(f"{what}: not YAML: {e}") from None
    if not isinstance(doc, dict):
        raise Failure(f"{what}: not a mapping")
    return doc


def _dump(doc):
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _move_alertmanager(static_configs, address):
    for block in static_configs or []:
        block["targets"] = [address if t == "alertmanager:9093" else t
                            for t in block.get("targets") or []]


def local_config(text, jobs, alertmanager=None, global_=None):
    """`text` with the jobs of `jobs` ({job name: host:port or [host:port]})
    scraping those addresses only; if `alertmanager` is given, every target
    alertmanager:9093 (the alerting block's and the job's) moved there; the
    keys of `global_` set in its `global:` block. Fails naming a job the file
    does not have."""
    doc = _load(text, "prometheus.yml")
    seen = set()
    for job in doc.get("scrape_configs") or []:
        name = job.get("job_name")
        if alertmanager:
            _move_alertmanager(job.get("static_configs"), alertmanager)
        if name not in jobs:
            continue
        for key in [k for k in job if k == "static_configs" or k.endswith("_sd_configs")]:
            del job[key]
        targets = jobs[name]
        job["static_configs"] = [{"targets": [targets] if isinstance(targets, str)
                                  else list(targets)}]
        seen.add(name)
    if alertmanager:
        for am in (doc.get("alerting") or {}).get("alertmanagers") or []:
            _move_alertmanager(am.get("static_configs"), alertmanager)
    if global_:
        doc.setdefault("global", {}).update(global_)
    missing = sorted(set(jobs) - seen)
    if missing:
        raise Failure(f"prometheus.yml has no job {', '.join(missing)}")
    return _dump(doc)


def alertmanager_config(text, inbox, speed=1):
    """alertmanager.yml with every webhook to the compose inbox pointed at
    `inbox` (a base URL), and the route's group_wait and group_interval
    divided by `speed` (1 s at least; repeat_interval is kept: no repeat may
    happen during a drill)."""
    doc = _load(text, "alertmanager.yml")
    moved = 0
    for receiver in doc.get("receivers") or []:
        for hook in receiver.get("webhook_configs") or []:
            if hook.get("url") == INBOX_WEBHOOK:
                hook["url"] = f"{inbox.rstrip('/')}/webhook"
                moved += 1
    if not moved:
        raise Failure(f"alertmanager.yml: no receiver posts to {INBOX_WEBHOOK}")
    route = doc.get("route") or {}
    for key in ("group_wait", "group_interval"):
        if key not in route:
            raise Failure(f"alertmanager.yml: the route has no {key}")
        ms = max(round(promql.duration_ms(str(route[key])) / speed), 1000)
        route[key] = promql.format_ms(ms)
    return _dump(doc)
