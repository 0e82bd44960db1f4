#!/usr/bin/env python3
"""End-to-end proof of the incident drills of scenarios/ on a real Prometheus,
no containers, on a compressed timeline (tests/e2e/drills.sh runs it; the
lab is a harness Lab):
  1. every scenarios/*.yml loads: obslab-server --scenario FILE comes up and
     plays it (`obslab drill status --answers` shows its first phase and its
     answer key), and a broken copy exits 2 at once naming the culprit;
  2. the project's rules are rewritten with every `for:` and range window
     divided by DRILLS_SPEED (harness.rules.compress), and Prometheus scrapes
     and evaluates every second;
  3. one obslab-server (--admin-token, --scenario-speed DRILLS_SPEED) and one
     obslab-loadgen (default mix) per drill, all drills in parallel, one
     Prometheus scraping them all: alerts are told apart by instance;
  4. once a full (compressed) window of default traffic is in and no alert
     fires, each drill is started on its server with `obslab drill start`,
     and drill_run.py proves that every alert of its answer key starts
     firing during its phase, that all resolve by the end of the scenario,
     and that no alert outside the key fires; when ObslabServerDown has
     fired and resolved, every dashboard query, annotations included, is
     evaluated in drill mode (the last two minutes hold the outage and the
     phase changes);
  5. a table: drill, alert, expected phase, fired at, resolved at;
  6. alert delivery: Debian's Alertmanager runs the project's
     alertmanager.yml (receivers pointed at an `obslab inbox`, group_wait and
     group_interval divided by DRILLS_SPEED): every answer key's alert must
     reach the inbox firing, then resolved, through the receiver its
     severity routes to; in total-outage, ObslabClientErrorRatio fires in
     Prometheus, Alertmanager reports it inhibited, and the inbox never
     receives it (delivery.py); then the server dashboard's Notifications
     row and page annotation must show those pages and resolutions
     (bundle.py dashboards --paged);
  7. `obslab drill stop` on each server: `obslab drill status` then says no
     drill plays.
About 3 minutes once built, at the default speed of 10, on 2 cores.

Environment: OBSLAB_BIN_DIR (the binaries, else a cargo build), PROMETHEUS,
PROMTOOL, ALERTMANAGER (Debian's packages by default), DRILLS (drills to run,
by file name without .yml; default: all), DRILLS_SPEED (timeline compression,
10: a 5m window is 30s), DRILLS_RATE (req/s of each load generator, 100;
lower rates make the compressed windows noisier), DRILLS_SLACK (seconds an
alert may fire after its phase ended or resolve after the scenario ended, 5:
scrape and evaluation delays), DRILLS_ALLOW_EXTRA=1 (report alerts outside
the answer key, do not fail), E2E_KEEP=1 (keep the work directory).
"""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import delivery  # noqa: E402  (beside this file)
from drill_run import Drill, run_drills  # noqa: E402
from harness import Failure, rules  # noqa: E402  (tests/harness/)
from harness.lab import ROOT, Lab, binaries, bundle, main, require, say  # noqa: E402

TOKEN = "obslab-drills-token-0123456789"
NEVER = {"total-outage": "ObslabClientErrorRatio"}  # fires in Prometheus, muted by Alertmanager


def wanted():
    names = (os.environ["DRILLS"].split() if os.environ.get("DRILLS")
             else sorted(p.stem for p in (ROOT / "scenarios").glob("*.yml")))
    if not names:
        raise Failure("no drill in scenarios/")
    for name in names:
        if not (ROOT / "scenarios" / f"{name}.yml").is_file():
            raise Failure(f"no scenarios/{name}.yml")
    return names


def compress_rules(dst, speed):
    files, comp = rules.compress(ROOT / "prometheus/rules", dst, speed, 4.0)
    summary = {}
    for where, before, after in comp.changes:
        summary.setdefault(f"{before} → {after}", set()).add(where.split(": ", 1)[1].split()[0])
    print(f"compressed {len(files)} rule file(s) ÷ {speed:g}: {len(comp.changes)} spans")
    for change, names in sorted(summary.items()):
        print(f"  {change:18} in {len(names)} rule(s)")
    check = subprocess.run([os.environ.get("PROMTOOL", "promtool"), "check", "rules",
                            *map(str, sorted(Path(dst).glob("*.yml")))],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise Failure(f"promtool check rules refused the compressed rules:\n{check.stdout}"
                      f"{check.stderr}")


def every_scenario_loads(lab, first):
    for file in sorted((ROOT / "scenarios").glob("*.yml")):
        server = lab.server(f"load-{file.stem}", ["--admin-token", TOKEN, "--scenario", file])
        env = lab.obslab_env(server, token=TOKEN)
        _, status = lab.obslab("drill", "status", "--answers", env=env, check=True)
        head = status.splitlines()[0] if status else ""
        if not head.startswith(f"drill {file.stem}: phase ") or " (1/" not in head:
            raise Failure(f"{file.stem}: not playing its first phase: {status}")
        key = [line.split()[0] for line in status.split("answer key:\n", 1)[-1].splitlines()]
        if not key or key == ["(no"]:
            raise Failure(f"{file.stem}: no answer key (expect): {status}")
        print(f"  {head}; answer key: {', '.join(key)}")
        lab.stop(server.proc)
    broken = lab.work / "broken.yml"
    broken.write_text((ROOT / "scenarios" / f"{first}.yml").read_text()
                      .replace("\nphases:", "\nphasez:"))
    try:
        done = subprocess.run([lab.exe("obslab-server"), "--listen", "127.0.0.1:0",
                               "--scenario", broken], capture_output=True, text=True,
                              timeout=10)
    except subprocess.TimeoutExpired:
        raise Failure("a broken scenario should exit 2 at once, it still ran after 10 s") from None
    if done.returncode != 2:
        raise Failure(f"a broken scenario should exit 2, got {done.returncode}")
    if "phasez" not in done.stderr + done.stdout:
        raise Failure("the broken scenario's error does not name the culprit")
    print(f"  a broken scenario exits 2: {(done.stderr or done.stdout).strip()[:120]}")


def run():
    speed = os.environ.get("DRILLS_SPEED", "10")
    if not speed.isdigit() or int(speed) < 1:
        raise Failure("DRILLS_SPEED must be a whole number ≥ 1")
    speed, rate = int(speed), os.environ.get("DRILLS_RATE", "100")
    slack = float(os.environ.get("DRILLS_SLACK", "5"))
    require(os.environ.get("PROMETHEUS", "prometheus"), os.environ.get("PROMTOOL", "promtool"),
            os.environ.get("ALERTMANAGER", "prometheus-alertmanager"))
    names = wanted()
    with Lab("drills", binaries()) as lab:
        say(f"static checks: dashboards, compressed rules (÷ {speed})")
        bundle("check", ROOT)
        compressed = lab.work / "rules"
        compress_rules(compressed, speed)

        say("every scenario file loads with --scenario and plays")
        every_scenario_loads(lab, names[0])

        say(f"{len(names)} servers and load generators ({rate} req/s each, default mix)")
        drills = []
        for name in names:
            server = lab.server(f"server-{name}", ["--admin-token", TOKEN,
                                                   "--scenario-speed", str(speed)])
            loadgen = lab.loadgen(server.url, ["--rate", rate], name=f"loadgen-{name}")
            drills.append(Drill(name, ROOT / "scenarios" / f"{name}.yml", server, loadgen,
                                speed))
            print(f"  {name}: server {server.addr}, load generator metrics {loadgen.addr}")

        say("the inbox, Alertmanager (group_wait and group_interval ÷ speed), Prometheus "
            "(1 s scrape and evaluation)")
        inbox = lab.inbox()
        am = lab.alertmanager(inbox, speed)
        # The jobs keep the project's names: the rules select on them (up{job=...}).
        prom = lab.prometheus({"obslab-server": [d.instance for d in drills],
                               "obslab-loadgen": [d.loadgen for d in drills],
                               "obslab-inbox": inbox.addr}, alertmanager=am, rules=compressed,
                              global_={"scrape_interval": "1s", "scrape_timeout": "1s",
                                       "evaluation_interval": "1s"}).url

        # The compressed 5 m window, in seconds: a full one of default traffic
        # must be in before the drills start, as in a lab running for a while.
        window = 300 // speed
        targets = 3 + 2 * len(names)
        say(f"waiting for data: {targets} targets up, every alert's query answering, "
            f"a full {window}s window")

        def holds(*args):
            return bundle(*args, check=False)[0] == 0

        lab.wait_until("all targets up", lambda: holds("query", prom, f"count(up == 1) == "
                                                       f"{targets}"), 60)
        lab.wait_until("every alert's query to return data",
                       lambda: holds("rules", prom, compressed), 60)
        lab.wait_until("a full window of samples", lambda: holds(
            "query", prom, f'min(count_over_time(up{{job="obslab-server"}}[{window}s])) '
            f'>= {window * 9 // 10}'), window + 60)
        alerts = bundle("alerts", prom, check=False)[1]
        if any(line.endswith(" firing") for line in alerts.splitlines()):
            raise Failure(f"an alert fires before any drill started:\n{alerts}")
        print("  no alert firing")

        say(f"drills: {' '.join(names)}")
        # {alert: the instances of the drills in which Alertmanager mutes it}
        never = {}
        for d in drills:
            if d.name in NEVER:
                never.setdefault(NEVER[d.name], set()).update({d.instance, d.loadgen})
        watches = [delivery.InhibitedWatch(am.url, alert, instances)
                   for alert, instances in never.items()]
        run_drills(lab, drills, SimpleNamespace(
            prometheus=prom, speed=speed, token=TOKEN, slack=slack,
            allow_extra=os.environ.get("DRILLS_ALLOW_EXTRA") == "1",
            dashboards_after="ObslabServerDown" if "total-outage" in names else ""))

        say("alert delivery: each answer key's alert firing, then resolved, in the inbox")
        delivery.expect(inbox.url, compressed, TOKEN, never, drills, timeout=60)
        for watch in watches:
            if watch.found is None:
                raise Failure(f"Alertmanager never reported {watch.alertname} as inhibited")
            print(f"  Alertmanager: {watch.found}")

        say("dashboards: the Notifications row and the page annotation count what the "
            "inbox received")
        bundle("dashboards", ROOT, prom, "--paged")

        say("obslab drill stop on each server")
        for d in drills:
            env = lab.obslab_env(token=TOKEN) | {"OBSLAB_URL": d.server}
            lab.obslab("drill", "stop", env=env, check=True)
            _, status = lab.obslab("drill", "status", env=env, check=True)
            if "finished or stopped" not in status and "no drill" not in status:
                raise Failure(f"{d.name}: after `obslab drill stop`, status says {status!r}")
        print(f"  {len(drills)} drills stopped: {status.strip()}")
    say("drills: ok")


if __name__ == "__main__":
    sys.exit(main(run))
