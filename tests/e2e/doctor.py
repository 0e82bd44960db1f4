#!/usr/bin/env python3
"""End-to-end proof of `obslab doctor` on the real pieces, no containers
(tests/e2e/doctor.sh runs it): in a harness Lab, obslab-server,
obslab-loadgen, the inbox, Debian's Alertmanager and Prometheus on
127.0.0.1, with the project's configurations (targets and the inbox URL
pointed at those ports). Then:
  1. a healthy lab: exit 0, every line ✓; the optional job student-service
     (séance 9's service, not started: no target) "not started (optional)";
  2. the server in outage (`obslab faults set outage=true`): exit 1, the line
     tells `obslab faults reset`; `obslab faults reset` brings it back;
  3. the load generator stopped: exit 1, the line names the target
     obslab-loadgen and the fix `docker compose up -d loadgen`;
  4. Prometheus stopped too: exit 1, the line names Prometheus.
Grafana's checks run against a stand-in in `cargo test -p obslab-lab` (no
Grafana on the test machines). About 40 seconds once built.

Environment: OBSLAB_BIN_DIR (the binaries, else a cargo build), PROMETHEUS,
ALERTMANAGER (default: prometheus and prometheus-alertmanager from PATH,
Debian's packages), E2E_KEEP=1 (keep the work directory).
"""

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure  # noqa: E402  (tests/harness/)
from harness.lab import Lab, binaries, main, require, say  # noqa: E402

TOKEN = "obslab-doctor-token-0123456789"


def run():
    require(os.environ.get("PROMETHEUS", "prometheus"),
            os.environ.get("ALERTMANAGER", "prometheus-alertmanager"))
    with Lab("doctor", binaries()) as lab:
        say("the lab on 127.0.0.1: server, inbox, Alertmanager, Prometheus, load generator")
        pieces = lab.whole(["--admin-token", TOKEN], loadgen_args=["--rate", "20",
                                                                   "--progress=off"])
        env = lab.obslab_env(**pieces, token=TOKEN)

        say("a healthy lab: exit 0")
        # Until every target has been scraped once.
        lab.wait_until("obslab doctor to pass", lambda: lab.obslab("doctor", env=env)[0] == 0,
                       60, poll=1)
        _, healthy = lab.obslab("doctor", env=env, check=True)
        print(healthy, end="")
        if "✗" in healthy:
            raise Failure("a ✗ line on a healthy lab")
        # Séance 9's service is not started (no target): optional, not a ✗.
        if not re.search(r"✓ Prometheus: .*student-service not started \(optional", healthy):
            raise Failure("no ✓ Prometheus line saying student-service is not started (optional)")

        say("the server in outage (obslab faults set outage=true): exit 1, then faults reset")
        lab.obslab("faults", "set", "outage=true", env=env, check=True)
        code, outage = lab.obslab("doctor", env=env)
        print(outage, end="")
        if code != 1 or not re.search(r"✗ server: .*obslab faults reset", outage):
            raise Failure(f"doctor exited {code}; no ✗ server line telling `obslab faults reset`")
        lab.obslab("faults", "reset", env=env, check=True)
        _, shown = lab.obslab("faults", "show", env=env, check=True)
        if re.search(r"outage\W+true", shown):
            raise Failure(f"obslab faults reset left the outage on:\n{shown}")
        lab.wait_until("obslab doctor to pass again",
                       lambda: lab.obslab("doctor", env=env)[0] == 0, 30, poll=1)

        say("the load generator stopped: exit 1 naming it")
        lab.stop(pieces["loadgen"].proc)
        found = lab.wait_until("Prometheus to see obslab-loadgen down",
                               lambda: (lambda r: r[0] != 0 and r[1])(lab.obslab("doctor", env=env)),
                               30, poll=1)
        print(found, end="")
        if not re.search(r"✗ Prometheus: target obslab-loadgen .* is down .*"
                         r"docker compose up -d loadgen", found):
            raise Failure("no line names the stopped load generator and its fix")

        say("Prometheus stopped too: exit 1 naming it")
        lab.stop(pieces["prometheus"].proc)
        code, found = lab.obslab("doctor", env=env)
        print(found, end="")
        if code != 1:
            raise Failure(f"doctor should exit 1, got {code}")
        if not re.search(r"✗ Prometheus: Prometheus at .* does not answer.*"
                         r"docker compose up -d prometheus", found):
            raise Failure("no line names the stopped Prometheus and its fix")
    say("doctor: ok")


if __name__ == "__main__":
    sys.exit(main(run))
