#!/usr/bin/env python3
"""End-to-end proof of séance 9's service (docs/tp/fr/09-instrumenter.md),
no containers (tests/e2e/instrument.sh runs it). Needs Flask and
prometheus_client (pip install -r docs/tp/fichiers/service/requirements.txt),
Debian's Prometheus, promtool and Alertmanager.
  1. the skeleton (docs/tp/fichiers/service) serves its routes and no
     metric at all: /metrics is a 404 and no bibliotheque_ name anywhere,
     so the exercise is real;
  2. the solution (docs/tp/fichiers/corrige/service) in the whole harness
     lab (Lab.whole with compose.yaml's student-loadgen arguments): its
     /metrics passes `promtool check metrics` and holds the counter, the
     histogram with the chosen bounds and the gauge; a real Prometheus
     scrapes it under the job student-service;
  3. the route label is the template: three book ids and an unknown path
     make one series per route template, six series in all;
  4. `obslab doctor` passes with the service's target up and counted, then,
     the service stopped (its target down), still passes and says
     "student-service not started (optional)".
The séance's queries and checked figures run in tests/e2e/tp.sh, on the
same solution. About 40 seconds once built.

Environment: OBSLAB_BIN_DIR, PROMETHEUS, PROMTOOL, ALERTMANAGER, E2E_KEEP as
for the other e2e checks.
"""

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure  # noqa: E402  (tests/harness/)
from harness.lab import (ROOT, STUDENT_SKELETON, Lab, binaries, flask_installed,  # noqa: E402
                         main, require, say)
from harness.prom import Prometheus  # noqa: E402
from tp import compose_student_loadgen_args  # noqa: E402  (tests/e2e/tp.py)

TOKEN = "obslab-instrument-token-0123456789"
BOUNDS = ["0.005", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "+Inf"]


def get(url):
    """(status, body) of GET url, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def skeleton(lab):
    say("the skeleton: its routes answer, and it has no metric")
    svc = lab.student_service(STUDENT_SKELETON, name="skeleton")
    for path, want in [("/", {200}), ("/livres/7", {200}), ("/livres/101", {404}),
                       ("/recherche?q=x", {200, 500}), ("/metrics", {404})]:
        status, body = get(svc.url + path)
        print(f"  GET {path}: {status}")
        if status not in want:
            raise Failure(f"the skeleton answers GET {path} {status}, not {sorted(want)}")
        if "bibliotheque_" in body:
            raise Failure(f"the skeleton's GET {path} already shows a bibliotheque_ metric")
    lab.stop(svc.proc)


def metrics_page(url):
    status, text = get(url + "/metrics")
    if status != 200:
        raise Failure(f"the solution's /metrics answers {status}")
    check = subprocess.run([os.environ.get("PROMTOOL", "promtool"), "check", "metrics"],
                           input=text, capture_output=True, text=True)
    if check.returncode != 0 or check.stdout.strip() or check.stderr.strip():
        raise Failure(f"promtool check metrics on the solution:\n{check.stdout}{check.stderr}")
    for name, kind in [("bibliotheque_http_requests_total", "counter"),
                       ("bibliotheque_http_request_duration_seconds", "histogram"),
                       ("bibliotheque_http_requests_in_progress", "gauge")]:
        if not re.search(rf"^# TYPE {name} {kind}$", text, re.M):
            raise Failure(f"no `# TYPE {name} {kind}` in the solution's /metrics")
    bounds = re.findall(r'^bibliotheque_http_request_duration_seconds_bucket\{le="([^"]+)",'
                        r'route="/"\}', text, re.M)
    if bounds != BOUNDS:
        raise Failure(f"the histogram's bounds are {bounds}, not {BOUNDS}")
    print("  promtool check metrics: clean; counter, histogram (bounds "
          f"{', '.join(BOUNDS)}) and gauge exposed")


def run():
    require(os.environ.get("PROMETHEUS", "prometheus"), os.environ.get("PROMTOOL", "promtool"),
            os.environ.get("ALERTMANAGER", "prometheus-alertmanager"))
    if not flask_installed():
        raise Failure("Flask or prometheus_client does not import: "
                      "pip install -r docs/tp/fichiers/service/requirements.txt")
    with Lab("instrument", binaries()) as lab:
        skeleton(lab)

        say("the solution in the whole lab, driven by compose.yaml's student-loadgen")
        args = compose_student_loadgen_args(ROOT)
        pieces = lab.whole(["--admin-token", TOKEN],
                           loadgen_args=["--rate", "20", "--progress=off"],
                           student_loadgen_args=args)
        print(f"  student-service {pieces['student-service'].addr}, "
              f"student-loadgen {' '.join(args)}")
        metrics_page(pieces["student-service"].url)
        prom = Prometheus(pieces["prometheus"].url)
        lab.wait_until("Prometheus scraping student-service up", lambda: prom.query(
            'up{job="student-service"} == 1')["result"], 60, poll=1)

        say("one series per route template and status: six in all")
        for rare in ("/inconnue", "/livres/101"):  # 1 % and 4 % of the mix: once for sure
            get(pieces["student-service"].url + rare)
        series = lab.wait_until("six series of bibliotheque_http_requests_total", lambda: (
            r := prom.query("bibliotheque_http_requests_total")["result"]) and len(r) >= 6 and r,
            60, poll=1)
        found = sorted((s["metric"]["route"], s["metric"]["status"]) for s in series)
        want = [("/", "200"), ("/livres/<int:livre_id>", "200"), ("/livres/<int:livre_id>", "404"),
                ("/recherche", "200"), ("/recherche", "500"), ("<inconnue>", "404")]
        print("  " + ", ".join(f"{r} {s}" for r, s in found))
        if found != want:
            raise Failure(f"series (route, status) {found}, not {want}")

        say("obslab doctor: the service up and counted, then stopped and optional")
        env = lab.obslab_env(**pieces, token=TOKEN)
        lab.wait_until("obslab doctor to pass", lambda: lab.obslab("doctor", env=env)[0] == 0,
                       60, poll=1)
        _, up = lab.obslab("doctor", env=env, check=True)
        line = next((x for x in up.splitlines() if "targets up in" in x), "")
        print(f"  {line.strip()}")
        if not re.search(r"✓ Prometheus: \d+ targets up in 6 jobs, scraped recently$", line):
            raise Failure("the doctor does not count student-service's target among 6 jobs")
        lab.stop(pieces["student-loadgen"].proc)
        lab.stop(pieces["student-service"].proc)
        lab.wait_until("student-service's target down", lambda: prom.query(
            'up{job="student-service"} == 0')["result"], 30, poll=1)
        code, down = lab.obslab("doctor", env=env)
        line = next((x for x in down.splitlines() if "targets up in" in x), "")
        print(f"  exit {code}: {line.strip()}")
        if code != 0 or "student-service not started (optional" not in line:
            raise Failure(f"doctor exited {code}, no 'student-service not started (optional' "
                          f"line with the service stopped:\n{down}")
        lab.alive()
    say("séance 9's service: ok")


if __name__ == "__main__":
    sys.exit(main(run))
