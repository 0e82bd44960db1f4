"""The one client of obslab-server's admin API (`/admin/...`).

Every request carries `Authorization: Bearer <token>`; answers are JSON.
Durations come as seconds beside their humantime spelling (a phase's
`duration_seconds`, an answer-key entry's `after_seconds`, a route's
`delay_min_seconds` / `delay_max_seconds` / `timeout_seconds`): the harness
reads the seconds and never parses humantime.

    admin = Admin("http://127.0.0.1:5000", token)
    status = admin.play(Path("scenarios/slow-burn.yml").read_bytes())
    timeline(status["scenario"], speed=10)   # [Phase(name, start, end)]
"""

import json
import urllib.error
import urllib.request
from collections import namedtuple

from . import Failure

Phase = namedtuple("Phase", "name start end")


class AdminError(Failure):
    """An answer other than 2xx; `status` is the HTTP code, `body` its text."""

    def __init__(self, method, path, status, body):
        super().__init__(f"{method} {path}: HTTP {status}: {body}")
        self.status = status
        self.body = body


class Admin:
    def __init__(self, url, token, timeout=10):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method, path, body=None):
        """The decoded JSON answer (None when empty). `body` is sent as is
        when bytes (a scenario file, YAML or JSON), as JSON otherwise."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, method=method, data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise AdminError(method, path, e.code, e.read().decode(errors="replace")) from e
        return json.loads(raw) if raw.strip() else None

    def faults(self):
        """GET /admin/faults: the fault profile in force."""
        return self.request("GET", "/admin/faults")

    def patch_faults(self, patch):
        """PATCH /admin/faults with a (partial) profile; the new profile."""
        return self.request("PATCH", "/admin/faults", patch)

    def reset_faults(self):
        """POST /admin/faults/reset: back to the configured profile."""
        return self.request("POST", "/admin/faults/reset")

    def scenario(self):
        """GET /admin/scenario: what is playing (running, name, phase,
        phase_index, speed, scenario)."""
        return self.request("GET", "/admin/scenario")

    def play(self, scenario_file_bytes):
        """POST /admin/scenario: play this scenario from now; the status."""
        return self.request("POST", "/admin/scenario", scenario_file_bytes)

    def stop_scenario(self):
        """DELETE /admin/scenario."""
        return self.request("DELETE", "/admin/scenario")


def timeline(scenario, speed=1.0):
    """[Phase(name, start, end)] of a scenario as the admin API shows it, in
    seconds from its start, on a timeline played `speed` times faster."""
    phases, start = [], 0.0
    for phase in scenario["phases"]:
        length = phase["duration_seconds"] / speed
        phases.append(Phase(phase["name"], start, start + length))
        start += length
    return phases
