#!/usr/bin/env python3
"""End-to-end proof of prometheus/ and grafana/ on a real Prometheus, no
containers (tests/e2e/prometheus.sh runs it): in a harness Lab,
obslab-server, obslab-loadgen (default mix) and the inbox (`obslab inbox`)
on 127.0.0.1, Prometheus running the project's prometheus.yml (targets
pointed at those ports; Alertmanager left unresolvable, so nothing pages)
and rules. Then, against real data:
  1. every expr of every dashboard, Grafana variables resolved, returns data
     (bundle.py dashboards --quiet): no panel would show "No data", the
     drill-phase stat says "no drill", the Notifications row reads 0 (no
     page yet); only the ALERTS tables may be empty (they say so in words)
     and the annotations (fault changes, phases, failed scrapes, firing
     alerts, pages), which tests/e2e/drills.py proves during a drill;
  2. every rule group is loaded and healthy, and the query under each
     alert's threshold returns data (its live value is printed);
  3. under the default traffic no alert fires, nor is pending at the end of
     the observation window;
  4. an incident (the load generator stopped) makes ObslabLoadgenDown fire,
     with its labels and rendered annotations, and the alert panels show it.
The three targets' /metrics answer a Content-Type Prometheus 3 accepts.
About 2.5 minutes once built.

Environment: OBSLAB_BIN_DIR (the binaries, else a cargo build of
OBSLAB_E2E_PROFILE), PROMETHEUS, PROMTOOL (default: from PATH, Debian's
`prometheus` package), E2E_RATE (load generator req/s, 50),
E2E_QUIET_SECONDS (observation window under default traffic, 60), E2E_KEEP=1
(keep the work directory: logs, TSDB).
"""

import os
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure, rules  # noqa: E402  (tests/harness/)
from harness.lab import ROOT, Lab, binaries, bundle, main, require, say  # noqa: E402

ACCEPTED = ("text/plain; version=0.0.4", "text/plain;version=0.0.4", "application/openmetrics-text")


def check_content_type(url):
    """Prometheus 3 refuses a scrape whose Content-Type is not a known
    exposition format (the pinned compose image is v3; Debian's 2.42 is
    lenient)."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        kind = resp.headers.get("Content-Type", "")
    if not kind.startswith(ACCEPTED):
        raise Failure(f"{url} answers Content-Type '{kind}': Prometheus 3 would refuse the scrape")


def run():
    rate = os.environ.get("E2E_RATE", "50")
    quiet = int(os.environ.get("E2E_QUIET_SECONDS", "60"))
    require(os.environ.get("PROMETHEUS", "prometheus"), os.environ.get("PROMTOOL", "promtool"))
    say("static checks")
    bundle("check", ROOT)
    with Lab("e2e", binaries()) as lab:
        say(f"obslab-server, obslab-loadgen at {rate} req/s (default mix), the inbox")
        server = lab.server()
        check_content_type(server.url + "/metrics")
        loadgen = lab.loadgen(server.url, ["--rate", rate])
        check_content_type(loadgen.url + "/metrics")
        inbox = lab.inbox()
        check_content_type(inbox.url + "/metrics")
        print(f"  server {server.addr}, load generator metrics {loadgen.addr}, inbox {inbox.addr}")

        say("Prometheus: the project's configuration and rules, targets on 127.0.0.1")
        prom = lab.prometheus({"obslab-server": server.addr, "obslab-loadgen": loadgen.addr,
                               "obslab-inbox": inbox.addr}).url

        say("waiting for data: four targets up and scraped twice, traffic and /slow "
            "timeouts scraped")
        # Twice: a panel's rate() or increase() needs two samples of a series
        # (the inbox's counters, at 0 from start, are otherwise empty).
        for expr in ['count(up{job=~"prometheus|obslab-server|obslab-loadgen|obslab-inbox"} '
                     '== 1) == 4',
                     'min(count_over_time(up[1m])) >= 2',
                     'sum(rate(flask_requests_total[1m])) > 0',
                     'sum(rate(loadgen_requests_total[1m])) > 0',
                     'sum(rate(flask_errors_total{error_type="timeout"}[1m])) > 0',
                     # Panels read recorded series (the SLO row): every
                     # recording rule has been evaluated on that data.
                     *(f"count({name}) > 0"
                       for name in rules.recorded_names(ROOT / "prometheus/rules"))]:
            lab.wait_until(expr, lambda e=expr: bundle("query", prom, e, check=False)[0] == 0,
                           90, poll=1)

        say("every dashboard query on live data")
        bundle("dashboards", ROOT, prom, "--quiet")

        say(f"default traffic for {quiet}s: no alert may fire")
        deadline = time.monotonic() + quiet
        while True:
            lab.alive()
            alerts = bundle("alerts", prom, check=False)[1].strip()
            if any(line.endswith(" firing") for line in alerts.splitlines()):
                raise Failure(f"alert firing under default traffic:\n{alerts}")
            if alerts:
                print(f"  pending: {' '.join(alerts.splitlines())}")
            if time.monotonic() >= deadline:
                break
            time.sleep(5)
        if alerts:
            raise Failure(f"alert condition still true after {quiet}s of default traffic:\n"
                          + alerts)
        print("  quiet: no alert firing or pending")

        say("rule groups healthy; each alert's query against its threshold")
        bundle("rules", prom, ROOT / "prometheus/rules")

        say("incident: load generator stopped, ObslabLoadgenDown must fire")
        lab.stop(loadgen.proc)
        lab.wait_until("ObslabLoadgenDown firing",
                       lambda: bundle("firing", prom, "ObslabLoadgenDown", check=False)[0] == 0,
                       150, poll=1)
        bundle("firing", prom, "ObslabLoadgenDown")
        bundle("dashboards", ROOT, prom, "--only-alerts")
    say("end to end: ok")


if __name__ == "__main__":
    sys.exit(main(run))
