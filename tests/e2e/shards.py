#!/usr/bin/env python3
"""Three load generator shards, merged, checked by another implementation.

  shards.py BIN_DIR

Starts, in a harness Lab, BIN_DIR/obslab-server on 127.0.0.1:0 and three BIN_DIR/obslab-loadgen
shards of one run (--shard I/3, one --seed, one --start-at, --requests so
the run is deterministic), each logging stdout and stderr together as a pod
does. Their logs, concatenated, go to `obslab-loadgen merge -` like
`kubectl logs` output. Then, with the PyPI package `hdrhistogram` (not our
Rust code), it decodes the shards' HISTF… histograms, adds them, and checks
that every percentile of the merge (total and per endpoint) is the one of
the added histograms, that their counts are the merge's answers, and that
those equal the increase of the server's flask_requests_total.

Percentiles follow the report's definition (the Rust hdrhistogram crate's):
the highest equivalent value of the recorded value of rank ceil(q * n).
The package's own get_value_at_percentile rounds the rank half up instead;
its p99 is printed beside, and must agree whenever both ranks are equal.
Needs `pip install hdrhistogram`. E2E_KEEP=1 keeps the work directory.
"""

import argparse
import json
import math
import re
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure  # noqa: E402  (tests/harness/)
from harness import procs  # noqa: E402
from harness.lab import Lab  # noqa: E402

try:
    from hdrh.histogram import HdrHistogram
except ImportError:  # pragma: no cover
    print("FAILED: the PyPI package hdrhistogram is missing: pip install hdrhistogram",
          file=sys.stderr)
    sys.exit(1)

SHARDS = 3
REQUESTS = 900
QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p999": 0.999}


def flask_requests_total(addr):
    """Sum of every flask_requests_total sample of the server at addr."""
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if re.match(r"flask_requests_total[{ ]", line))


def reports_in(text):
    """The JSON reports in a log: documents opening with `{` on a line of
    their own followed by the "target" key (our reports' first field)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    for m in re.finditer(r'(?m)^\{\s*"target"', text):
        if m.start() < at:
            continue
        doc, at = decoder.raw_decode(text, m.start())
        found.append(doc)
    return found


def added(histograms):
    """The package's decoding of each HISTF… string, added up."""
    total = None
    for text in histograms:
        h = HdrHistogram.decode(text)
        if total is None:
            total = h
        else:
            total.add(h)
    return total


def value_at_quantile(h, q):
    """The report's percentile: rank ceil(q * n), highest equivalent value."""
    n = h.get_total_count()
    if n == 0:
        return 0
    rank = max(1, math.ceil(q * n))
    seen = 0
    for index in range(h.counts_len):
        seen += h.get_count_at_index(index)
        if seen >= rank:
            return h.get_highest_equivalent_value(h.get_value_from_index(index))
    return 0


def check_percentiles(name, h, latency_ms):
    """Every percentile of latency_ms (ms) is that of h (µs)."""
    for stat, q in QUANTILES.items():
        want = value_at_quantile(h, q) / 1000
        if latency_ms[stat] != want:
            raise Failure(f"{name}: merged {stat} {latency_ms[stat]} ms, but the shards' "
                          f"histograms added by hdrhistogram give {want} ms")
    top = h.get_highest_equivalent_value(h.get_max_value()) / 1000 if h.get_total_count() else 0
    if latency_ms["max"] != top:
        raise Failure(f"{name}: merged max {latency_ms['max']} ms, hdrhistogram {top} ms")


def run(bin_dir):
    bin_dir = Path(bin_dir)
    with Lab("shards", bin_dir) as lab:
        addr = lab.server(args=["--slow-min", "5ms", "--slow-max", "20ms",
                                "--slow-timeout", "50ms"]).addr
        before = flask_requests_total(addr)
        at = (datetime.now(timezone.utc) + timedelta(seconds=3)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        shards = [lab.start(f"shard-{i}", [
            bin_dir / "obslab-loadgen", "--target", f"http://{addr}", "--seed", "9",
            "--rate", "300", "--requests", str(REQUESTS), "--threads", "1",
            "--progress", "off", "--output", "json",
            "--shard", f"{i}/{SHARDS}", "--start-at", at])
            for i in range(SHARDS)]
        # The shards' exits are what is awaited: only the server must stay up.
        procs.wait_until("the shards to finish", lambda: not any(s.alive() for s in shards),
                         60, poll=0.2, procs=lab.procs[:1])
        for s in shards:
            if s.returncode() != 0:
                raise Failure(f"{s.name} exited with {s.returncode()}:\n{s.tail()}")
        counted = flask_requests_total(addr) - before - 1  # our own scrape

        # The pods' logs one after the other, as `kubectl logs -l ...`.
        logs = "".join(s.log() for s in shards)
        merged = subprocess.run([bin_dir / "obslab-loadgen", "merge", "-", "--output",
                                 "json"], input=logs.encode(), capture_output=True)
        if merged.returncode != 0:
            raise Failure(f"merge exited with {merged.returncode}: "
                          + merged.stderr.decode(errors="replace"))
        merged = json.loads(merged.stdout)
        reports = [r for s in shards for r in reports_in(s.log())]
        if sorted(r["shard"]["index"] for r in reports) != list(range(SHARDS)):
            raise Failure(f"expected one report per shard, found {len(reports)}")

        total = added(r["latency_histogram"] for r in reports)
        if total.get_total_count() != merged["responses"]:
            raise Failure(f"hdrhistogram counts {total.get_total_count()} latencies, "
                          f"the merge {merged['responses']} answers")
        if merged["requests"] != REQUESTS or merged["responses"] != counted:
            raise Failure(f"merged requests {merged['requests']} (want {REQUESTS}), "
                          f"responses {merged['responses']}, server counted {counted:g}")
        check_percentiles("total", total, merged["latency_ms"])
        for i, endpoint in enumerate(merged["endpoints"]):
            h = added(r["endpoints"][i]["latency_histogram"] for r in reports)
            check_percentiles(f"{endpoint['method']} {endpoint['path']}", h,
                              endpoint["latency_ms"])

        p99 = value_at_quantile(total, 0.99) / 1000
        package = total.get_value_at_percentile(99) / 1000
        n = total.get_total_count()
        same_rank = math.ceil(0.99 * n) == max(1, int(99 * n / 100 + 0.5))
        if same_rank and package != p99:
            raise Failure(f"hdrhistogram's own p99 {package} ms differs from {p99} ms")
        print(f"shards: {SHARDS} shards, {merged['requests']} requests, "
              f"{merged['responses']} answered = flask_requests_total +{counted:g}; "
              f"merged p99 {merged['latency_ms']['p99']} ms = hdrhistogram's "
              f"{p99} ms (its get_value_at_percentile(99): {package} ms), "
              f"and every other percentile, total and per endpoint")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bin_dir")
    args = parser.parse_args(argv)
    try:
        run(args.bin_dir)
    except (Failure, OSError, ValueError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
