#!/usr/bin/env python3
"""Helpers of tests/e2e/containers.sh (standard library, tests/harness/).

  containers.py scrapes PROMETHEUS_URL --since EPOCH [--interval SECONDS]
      waits (90 s) until every target of the jobs prometheus, obslab-server
      and obslab-loadgen is up, prints when each was first scraped after
      EPOCH (`compose up`) and the worst of them; then waits (30 s) for a
      second scrape of each and fails unless it came INTERVAL (default 5)
      ± 1 s after the first, the interval Prometheus reports included

  containers.py generators PROMETHEUS_URL N
      waits (60 s) until Prometheus scrapes exactly N targets of job
      obslab-loadgen, all up (compose's --scale, found by DNS); prints them

  containers.py loadgen-report FILE
      FILE is `obslab-loadgen --output json`'s report: it must count
      responses; prints them with the p95 and the status codes

Faults (a Prometheus recreated, the server SIGKILLed, the inbox down):

  containers.py first-sample PROMETHEUS_URL SELECTOR
      prints the time (epoch seconds) of the earliest sample of SELECTOR in
      the last hour, then how many samples that hour holds

  containers.py connect-errors PROMETHEUS_URL
      prints the load generators' loadgen_errors_total{kind="connect"}, as
      last scraped (0 before any)

  containers.py carried-on PROMETHEUS_URL --back EPOCH --connect-errors N
      waits (60 s) until Prometheus has scraped the server up after EPOCH
      (when it was healthy again) and the load generator's connect errors
      are above N, then (30 s) until its answered requests, as scraped after
      EPOCH, increase again; prints the figures

  containers.py inbox-save INBOX_URL FILE
      saves the inbox's notifications (GET /api/notifications) to FILE;
      fails unless there is at least one

  containers.py post-alert ALERTMANAGER_URL ALERTNAME
      posts a firing alert ALERTNAME (severity warning: route ticket) to
      Alertmanager's /api/v2/alerts, as Prometheus would

  containers.py webhook-failures ALERTMANAGER_URL
      prints Alertmanager's failed webhook requests so far
      (alertmanager_notification_requests_failed_total{integration="webhook"})

  containers.py redelivered INBOX_URL ALERTNAME --kept FILE
      succeeds once ALERTNAME is in the inbox and every notification of FILE
      still is (same received_at and group); prints how it arrived
"""

import argparse
import json
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure  # noqa: E402  (tests/harness/)
from harness.procs import wait_until  # noqa: E402
from harness.prom import Prometheus, timestamp  # noqa: E402

JOBS = {"prometheus", "obslab-server", "obslab-loadgen", "alertmanager", "obslab-inbox"}


def targets_up(prom):
    """{job: target} once every job's target is up; fails (not yet) before."""
    targets = prom.targets()
    jobs = {t["labels"]["job"]: t for t in targets}
    if set(jobs) != JOBS:
        raise Failure(f"jobs {sorted(jobs)}")
    down = [(j, t["health"], t["lastError"]) for j, t in jobs.items() if t["health"] != "up"]
    if down:
        raise Failure(f"not up: {down}")
    return jobs


def cmd_scrapes(url, since, interval):
    prom = Prometheus(url, timeout=5)
    first = wait_until("every target up", lambda: targets_up(prom), 90)
    worst, want = 0.0, f"{interval:g}s"
    for job, t in sorted(first.items()):
        delay = timestamp(t["lastScrape"]) - since
        worst = max(worst, delay)
        every = t.get("scrapeInterval", "?")
        print(f"  {job:15} first successful scrape {delay:5.1f} s after up (interval {every})")
        if every not in (want, "?"):
            raise Failure(f"{job} is scraped every {every}, not {want}")
    print(f"  time from up to first scrape of every target: {worst:.1f} s")

    # Each job's gap is taken when its own next scrape is first seen: the
    # targets' phases differ, so by the time the last one has been scraped
    # again, the first may have been scraped twice.
    gaps = {}

    def scraped_again():
        for t in prom.targets():
            job = t["labels"]["job"]
            if job not in first or job in gaps:
                continue
            gap = timestamp(t["lastScrape"]) - timestamp(first[job]["lastScrape"])
            if gap != 0:
                gaps[job] = gap
        return gaps if set(gaps) == set(first) else None

    gaps = wait_until("a second scrape of every target", scraped_again, 30)
    for job, gap in sorted(gaps.items()):
        print(f"  {job:15} scraped again {gap:.2f} s later")
        if not interval - 1 <= gap <= interval + 1:
            raise Failure(f"{job}: {gap:.2f} s between scrapes, not {interval:g} s")


def cmd_generators(url, count):
    prom = Prometheus(url, timeout=5)

    def generators():
        found = [t for t in prom.targets() if t["labels"]["job"] == "obslab-loadgen"]
        up = sorted(t["labels"]["instance"] for t in found if t["health"] == "up")
        if len(found) != count or len(up) != count:
            raise Failure(f"{len(found)} obslab-loadgen targets, {len(up)} up: {up}")
        return up

    up = wait_until(f"{count} load generators scraped", generators, 60)
    print(f"  ok: {count} obslab-loadgen targets up: {', '.join(up)}")


def cmd_loadgen_report(path):
    report = json.loads(Path(path).read_text(encoding="utf-8"))
    if not report.get("responses"):
        raise Failure(f"the load generator's report counts no response: {report}")
    print(f"  ok: {report['responses']} responses from {report['target']}, "
          f"p95 {report['latency_ms']['p95']} ms, status codes {report['status_codes']}")


def scalar(prom, expr):
    """The value of a one-series (or empty: 0) instant query."""
    result = prom.query(expr)["result"]
    return float(result[0]["value"][1]) if result else 0.0


def cmd_first_sample(url, selector):
    prom = Prometheus(url, timeout=5)
    series = prom.query(f"{selector}[1h]")["result"]
    stamps = [float(t) for s in series for t, _ in s["values"]]
    if not stamps:
        raise Failure(f"no sample of {selector} in the last hour")
    print(f"{min(stamps):.3f} {len(stamps)}")


CONNECT_ERRORS = 'sum(loadgen_errors_total{kind="connect"})'
ANSWERED = 'sum(loadgen_requests_total{status!="error"})'


def cmd_connect_errors(url):
    print(f"{scalar(Prometheus(url, timeout=5), CONNECT_ERRORS):g}")


def cmd_carried_on(url, back, connect_before):
    prom = Prometheus(url, timeout=5)

    def scraped_after(job):
        for t in prom.targets():
            if t["labels"]["job"] == job and t["health"] == "up" and timestamp(t["lastScrape"]) > back:
                return t
        return None

    wait_until("Prometheus to scrape the restarted server up", lambda: scraped_after("obslab-server"), 60)
    print("  Prometheus scrapes the restarted server: up")

    def counted():
        return scalar(prom, CONNECT_ERRORS) > connect_before and scalar(prom, CONNECT_ERRORS)

    errors = wait_until("the load generator to count connect errors", counted, 30)
    print(f"  loadgen_errors_total{{kind=\"connect\"}}: {connect_before:g} before the kill, {errors:g} after")
    wait_until("a scrape of the load generator after the server came back",
               lambda: scraped_after("obslab-loadgen"), 30)
    first = scalar(prom, ANSWERED)

    def more():
        now = scalar(prom, ANSWERED)
        return now > first and now

    later = wait_until("the load generator's answered requests to increase", more, 30)
    print(f"  answered requests after the server came back: {first:g}, then {later:g}")


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def cmd_inbox_save(url, path):
    notifications = get_json(url.rstrip("/") + "/api/notifications")
    if not notifications:
        raise Failure("the inbox holds no notification")
    Path(path).write_text(json.dumps(notifications), encoding="utf-8")
    print(f"  the inbox holds {len(notifications)} notification(s)")


def cmd_post_alert(url, alertname):
    now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    alert = [{"labels": {"alertname": alertname, "severity": "warning", "instance": "e2e"},
              "annotations": {"summary": "posted by tests/e2e/containers.sh"},
              "startsAt": now}]
    req = urllib.request.Request(url.rstrip("/") + "/api/v2/alerts", data=json.dumps(alert).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        if resp.status != 200:
            raise Failure(f"Alertmanager answered {resp.status} to the alert")
    print(f"  posted {alertname} at {now}")


def cmd_webhook_failures(url):
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    total = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("alertmanager_notification_requests_failed_total{")
                and 'integration="webhook"' in line)
    print(int(total))


def cmd_redelivered(url, alertname, kept_path):
    notifications = get_json(url.rstrip("/") + "/api/notifications")
    have = {(n["received_at"], n.get("groupKey")) for n in notifications}
    kept = json.loads(Path(kept_path).read_text(encoding="utf-8"))
    lost = [n["received_at"] for n in kept if (n["received_at"], n.get("groupKey")) not in have]
    if lost:
        raise Failure(f"the inbox lost the notifications received at {lost}")
    for n in notifications:
        if any(a["labels"].get("alertname") == alertname for a in n["alerts"]):
            print(f"  {alertname} received at {n['received_at']} through {n['receiver']}; "
                  f"the {len(kept)} notification(s) from before the restart kept")
            return
    raise Failure(f"no notification about {alertname} yet ({len(notifications)} in the inbox)")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("scrapes")
    s.add_argument("prometheus")
    s.add_argument("--since", type=float, required=True)
    s.add_argument("--interval", type=float, default=5.0)
    g = sub.add_parser("generators")
    g.add_argument("prometheus")
    g.add_argument("count", type=int)
    r = sub.add_parser("loadgen-report")
    r.add_argument("file")
    f = sub.add_parser("first-sample")
    f.add_argument("prometheus")
    f.add_argument("selector")
    sub.add_parser("connect-errors").add_argument("prometheus")
    c = sub.add_parser("carried-on")
    c.add_argument("prometheus")
    c.add_argument("--back", type=float, required=True)
    c.add_argument("--connect-errors", type=float, required=True)
    i = sub.add_parser("inbox-save")
    i.add_argument("inbox")
    i.add_argument("file")
    a = sub.add_parser("post-alert")
    a.add_argument("alertmanager")
    a.add_argument("alertname")
    sub.add_parser("webhook-failures").add_argument("alertmanager")
    d = sub.add_parser("redelivered")
    d.add_argument("inbox")
    d.add_argument("alertname")
    d.add_argument("--kept", required=True)
    args = parser.parse_args(argv)
    commands = {
        "scrapes": lambda: cmd_scrapes(args.prometheus, args.since, args.interval),
        "generators": lambda: cmd_generators(args.prometheus, args.count),
        "loadgen-report": lambda: cmd_loadgen_report(args.file),
        "first-sample": lambda: cmd_first_sample(args.prometheus, args.selector),
        "connect-errors": lambda: cmd_connect_errors(args.prometheus),
        "carried-on": lambda: cmd_carried_on(args.prometheus, args.back, args.connect_errors),
        "inbox-save": lambda: cmd_inbox_save(args.inbox, args.file),
        "post-alert": lambda: cmd_post_alert(args.alertmanager, args.alertname),
        "webhook-failures": lambda: cmd_webhook_failures(args.alertmanager),
        "redelivered": lambda: cmd_redelivered(args.inbox, args.alertname, args.kept),
    }
    try:
        commands[args.command]()
    except (Failure, OSError, ValueError, KeyError) as e:
        print(f"FAILED: {type(e).__name__ if isinstance(e, KeyError) else ''}{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
