#!/usr/bin/env python3
"""Alert delivery checks of tests/e2e/drills.sh: Alertmanager and the inbox.

  delivery.py alertmanager-config SRC DST --inbox URL --speed K
      alertmanager/alertmanager.yml with the receivers' URL pointed at the
      inbox and group_wait / group_interval divided by K (repeat_interval
      kept: no repeat may happen during a drill).
  delivery.py watch-inhibited AM_URL ALERTNAME OUT
      polls Alertmanager's /api/v2/alerts; writes to OUT the first time
      ALERTNAME shows as suppressed with a non-empty inhibitedBy, then
      idles until killed.
  delivery.py expect INBOX_URL RULES_DIR --token T [--timeout S] [--never A] SPEC...
      SPEC = NAME=[FILE,]SERVER_URL,SERVER_INSTANCE,LOADGEN_INSTANCE (drills.py's).
      For each answer-key alert of the drill last played on SERVER_URL (its
      admin API), the inbox must hold a firing and a resolved notification
      for that alert and instance, through the receiver its severity routes
      to (critical: pager, else ticket); alerts named by --never must not
      appear at all (in the answer key, they fire in Prometheus only). Waits up to --timeout seconds for late resolutions.
"""
import argparse
import json
import re
import sys
import time
import urllib.request
from pathlib import Path


def get(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", text.strip())
    if not m:
        raise SystemExit(f"cannot read the duration {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def cmd_config(src, dst, inbox, speed):
    text = Path(src).read_text(encoding="utf-8")
    text, n = re.subn(r"url: http://inbox:9095/webhook", f"url: {inbox}/webhook", text)
    if n == 0:
        raise SystemExit("no receiver posts to http://inbox:9095/webhook")

    def scale(m):
        s = max(seconds(m.group(2)) / speed, 1)
        return f"{m.group(1)}{s:g}s"

    text, k = re.subn(r"^(\s*group_(?:wait|interval):\s*)(\S+)", scale, text, flags=re.M)
    if k != 2:
        raise SystemExit(f"expected group_wait and group_interval once each, found {k}")
    Path(dst).write_text(text, encoding="utf-8")


def cmd_watch(am, alertname, out):
    while True:
        try:
            for a in get(f"{am}/api/v2/alerts?filter=alertname%3D%22{alertname}%22"):
                st = a.get("status", {})
                if st.get("state") == "suppressed" and st.get("inhibitedBy"):
                    Path(out).write_text(f"{alertname} suppressed, inhibitedBy {st['inhibitedBy']}\n")
                    while True:  # until killed: the harness treats an exit as a crash
                        time.sleep(60)
        except OSError:
            pass
        time.sleep(0.5)


def severities(rules_dir):
    sev, name = {}, None
    for path in sorted(Path(rules_dir).glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*- alert:\s*(\w+)", line)
            if m:
                name = m.group(1)
            m = re.match(r"\s*severity:\s*(\w+)", line)
            if m and name:
                sev[name], name = m.group(1), None
    return sev


def cmd_expect(inbox, rules_dir, token, timeout, never, specs):
    sev = severities(rules_dir)
    wanted = []  # (drill, alert, instances, receiver)
    for spec in specs:
        name, rest = spec.split("=", 1)
        server, sinst, linst = rest.split(",")[-3:]
        status = get(f"{server}/admin/scenario", token)
        for e in status["scenario"]["expect"]:
            alert = e["alert"]
            if alert in never:  # in the answer key (Prometheus), muted by Alertmanager
                continue
            receiver = "pager" if sev.get(alert) == "critical" else "ticket"
            wanted.append((name, alert, {sinst, linst}, receiver))
    deadline = time.monotonic() + timeout
    while True:
        seen = {}  # (alert, instance, receiver, status) -> received_at
        notes = get(f"{inbox}/api/notifications")
        for n in notes:
            for a in n["alerts"]:
                key = (a["labels"].get("alertname"), a["labels"].get("instance"), n["receiver"], a["status"])
                seen.setdefault(key, n["received_at"])
        missing = []
        for drill, alert, instances, receiver in wanted:
            for status in ("firing", "resolved"):
                if not any((alert, i, receiver, status) in seen for i in instances):
                    missing.append(f"{drill}: {alert} {status} through {receiver}")
        forbidden = sorted({f"{k[0]} {k[3]} ({k[1]})" for k in seen if k[0] in never})
        if forbidden:
            raise SystemExit("the inbox received what Alertmanager must inhibit: " + ", ".join(forbidden))
        if not missing:
            break
        if time.monotonic() > deadline:
            raise SystemExit("not in the inbox after the drills: " + "; ".join(missing))
        time.sleep(1)
    for drill, alert, instances, receiver in wanted:
        times = [seen.get((alert, i, receiver, s)) for s in ("firing", "resolved") for i in instances]
        times = [t for t in times if t]
        print(f"  {drill:<20} {alert:<28} {receiver:<7} firing and resolved in the inbox ({', '.join(times)})")
    for alert in never:
        print(f"  {alert}: never reached the inbox")
    print(f"ok: {len(notes)} notifications in the inbox, every answer key delivered")


def main(argv):
    p = argparse.ArgumentParser(prog="delivery.py")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("alertmanager-config")
    c.add_argument("src"); c.add_argument("dst")
    c.add_argument("--inbox", required=True); c.add_argument("--speed", type=float, required=True)
    w = sub.add_parser("watch-inhibited")
    w.add_argument("am"); w.add_argument("alertname"); w.add_argument("out")
    e = sub.add_parser("expect")
    e.add_argument("inbox"); e.add_argument("rules_dir")
    e.add_argument("--token", required=True); e.add_argument("--timeout", type=float, default=60)
    e.add_argument("--never", action="append", default=[])
    e.add_argument("specs", nargs="+")
    a = p.parse_args(argv)
    if a.command == "alertmanager-config":
        cmd_config(a.src, a.dst, a.inbox, a.speed)
    elif a.command == "watch-inhibited":
        cmd_watch(a.am, a.alertname, a.out)
    else:
        cmd_expect(a.inbox, a.rules_dir, a.token, a.timeout, a.never, a.specs)


if __name__ == "__main__":
    main(sys.argv[1:])
