"""The end-to-end harness of obslab's tests (standard library only).

One copy of what the scripts of tests/e2e/ and tests/bundle/ share:

  promql   the PromQL scanner: strings, comments, range windows, subqueries,
           offsets; duration arithmetic; the thresholds of alert rules; the
           queries of dashboards and of ```promql blocks in Markdown
  prom     the Prometheus HTTP API (query, query_range, targets, rules, alerts)
  grafana  dashboards on disk, and their variables resolved as Grafana does
  rules    the project's rule files: alert names, the timeline compression
           of the drills
  admin    the obslab-server admin API client (bearer token, JSON)
  procs    processes with a log in a work directory, deadlines, polling,
           free ports, the server's listen address

The scripts put tests/ on sys.path and `from harness import ...`; shell scripts
reach the few helpers they need through `python3 -m harness` (tests/e2e/lib.sh).
"""


class Failure(Exception):
    """A check failed; the message says what and where. The scripts print it
    after `FAILED:` and exit 1."""
