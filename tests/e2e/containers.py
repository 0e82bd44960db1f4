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
"""

import argparse
import json
import sys
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

    def scraped_again():
        now = {t["labels"]["job"]: timestamp(t["lastScrape"]) for t in prom.targets()}
        gaps = {job: now[job] - timestamp(t["lastScrape"]) for job, t in first.items()}
        return None if any(g == 0 for g in gaps.values()) else gaps

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
    args = parser.parse_args(argv)
    try:
        if args.command == "scrapes":
            cmd_scrapes(args.prometheus, args.since, args.interval)
        elif args.command == "generators":
            cmd_generators(args.prometheus, args.count)
        else:
            cmd_loadgen_report(args.file)
    except (Failure, OSError, ValueError, KeyError) as e:
        print(f"FAILED: {type(e).__name__ if isinstance(e, KeyError) else ''}{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
