"""Alert delivery checks of tests/e2e/drills.py: Alertmanager and the inbox.

  InhibitedWatch(am_url, alertname, instances)   a thread noting the first
      time Alertmanager's /api/v2/alerts shows ALERTNAME of one of INSTANCES
      suppressed with a non-empty inhibitedBy (`.found`)
  expect(inbox_url, rules_dir, token, never, drills)   every answer key's
      alert firing, then resolved, in the inbox, through its receiver; the
      alerts of `never` ({alert: instances}) never there for those instances

Alertmanager's configuration (the inbox URL, group_wait and group_interval
divided by the speed) is harness.promconfig.alertmanager_config's.
"""
import json
import threading
import time
import urllib.request

from harness import Failure, rules


def get(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


class InhibitedWatch(threading.Thread):
    """Polls Alertmanager until `alertname` of one of `instances` shows as
    inhibited; `.found` then says how. A daemon thread: it ends with the
    test."""

    def __init__(self, am, alertname, instances):
        super().__init__(daemon=True)
        self.am, self.alertname, self.instances, self.found = am, alertname, instances, None
        self.start()

    def run(self):
        url = f"{self.am}/api/v2/alerts?filter=alertname%3D%22{self.alertname}%22"
        while self.found is None:
            try:
                for a in get(url):
                    st = a.get("status", {})
                    if a.get("labels", {}).get("instance") not in self.instances:
                        continue
                    if st.get("state") == "suppressed" and st.get("inhibitedBy"):
                        self.found = f"{self.alertname} suppressed, inhibitedBy {st['inhibitedBy']}"
            except OSError:
                pass
            time.sleep(0.5)


def expect(inbox, rules_dir, token, never, drills, timeout=60):
    """For each answer-key alert of each drill (drill_run.Drill: the
    scenario last played on its server, read from its admin API), the inbox
    must hold a firing and a resolved notification for that alert and the
    drill's server or load generator instance, through the receiver its
    severity routes to (critical: pager, else ticket); `never` maps an
    alert name to the instances (of the drills whose answer key has it
    firing in Prometheus only) for which it must not appear at all: the
    same alert of another drill pages as usual. Waits up to `timeout`
    seconds for late resolutions."""
    sev = rules.severities(rules_dir)
    wanted = []  # (drill, alert, instances, receiver)
    for drill in drills:
        name, sinst, linst = drill.name, drill.instance, drill.loadgen
        status = get(f"{drill.server}/admin/scenario", token)
        for e in status["scenario"]["expect"]:
            alert = e["alert"]
            if {sinst, linst} & never.get(alert, set()):
                continue  # in the answer key (Prometheus), muted by Alertmanager
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
        forbidden = sorted({f"{k[0]} {k[3]} ({k[1]})" for k in seen
                            if k[1] in never.get(k[0], set())})
        if forbidden:
            raise Failure("the inbox received what Alertmanager must inhibit: " + ", ".join(forbidden))
        if not missing:
            break
        if time.monotonic() > deadline:
            raise Failure("not in the inbox after the drills: " + "; ".join(missing))
        time.sleep(1)
    for drill, alert, instances, receiver in wanted:
        times = [seen.get((alert, i, receiver, s)) for s in ("firing", "resolved") for i in instances]
        times = [t for t in times if t]
        print(f"  {drill:<20} {alert:<28} {receiver:<7} firing and resolved in the inbox ({', '.join(times)})")
    for alert, instances in never.items():
        print(f"  {alert} of {', '.join(sorted(instances))}: never reached the inbox")
    print(f"ok: {len(notes)} notifications in the inbox, every answer key delivered")
