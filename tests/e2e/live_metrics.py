#!/usr/bin/env python3
"""A live obslab-server's /metrics through `promtool check metrics`.

  live_metrics.py BIN_DIR [--promtool PROMTOOL]

Starts BIN_DIR/obslab-server on 127.0.0.1:0 in a harness Lab (the address it
bound read back from its log; its log printed on failure), requests every endpoint once (/, /health,
/stats, /error, /slow and an unknown path) so that every family has samples,
then passes /metrics to promtool, which must not complain (its lint: units,
_total suffixes, help texts). Prints the number of flask_* samples checked.
E2E_KEEP=1 keeps the directory (server log, metrics.txt).
"""

import argparse
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure  # noqa: E402  (tests/harness/)
from harness.lab import Lab  # noqa: E402

PATHS = ["/", "/health", "/stats", "/error", "/slow", "/nope"]


def get(url, timeout=60):
    """(status, body) of GET url, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def check(bin_dir, promtool):
    with Lab("ci-metrics", bin_dir) as lab:
        server = lab.server()
        for path in PATHS:
            get(f"{server.url}{path}")
        status, metrics = get(f"{server.url}/metrics")
        if status != 200:
            raise Failure(f"GET /metrics answered {status}")
        (lab.work / "metrics.txt").write_bytes(metrics)
        lint = subprocess.run([promtool, "check", "metrics"], input=metrics,
                              capture_output=True)
        complaints = (lint.stdout + lint.stderr).decode(errors="replace").strip()
        if lint.returncode != 0 or complaints:
            raise Failure("promtool check metrics complained:\n" + complaints)
        samples = sum(1 for line in metrics.decode().splitlines() if line.startswith("flask_"))
        print(f"promtool check metrics: no complaint on {samples} flask_* samples")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bin_dir")
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args(argv)
    try:
        check(args.bin_dir, args.promtool)
    except (Failure, OSError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
