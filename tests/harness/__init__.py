"""The end-to-end harness of obslab's tests (standard library and PyYAML).

One copy of what the scripts of tests/e2e/ and tests/bundle/ share:

  promql   the PromQL scanner: strings, comments, range windows, subqueries,
           offsets; duration arithmetic; the thresholds of alert rules; the
           queries of dashboards and of ```promql blocks in Markdown
  prom     the Prometheus HTTP API (query, query_range, targets, rules, alerts)
  grafana  dashboards on disk, and their variables resolved as Grafana does
  rules    the project's rule files: alert names, the timeline compression
           of the drills
  procs    processes with a log in a work directory, deadlines, polling,
           free ports, the address a program logs it bound
  promconfig  the project's prometheus.yml and alertmanager.yml pointed at
           127.0.0.1
  lab      the one orchestrator of the e2e checks: `Lab`, a lab on 127.0.0.1
           (server, load generator, inbox, Alertmanager, Prometheus, nginx)
           started, driven with the real `obslab` CLI, stopped

The scripts put tests/ on sys.path and `from harness import ...`; the shell
scripts of the container and systemd checks reach the few helpers they need
through `python3 -m harness` (tests/e2e/lib.sh).
"""


class Failure(Exception):
    """A check failed; the message says what and where. The scripts print it
    after `FAILED:` and exit 1."""
