"""The Prometheus HTTP API, as the checks use it (GET, JSON, /api/v1).

    prom = Prometheus("http://127.0.0.1:9090")
    prom.query("up")["result"]          # the `data` of the answer
    prom.alerts(); prom.rules(); prom.targets()

Every answer that is not `"status": "success"` raises Failure with
Prometheus' errorType and error; warnings go to `on_warning` when given.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

from . import Failure


class Prometheus:
    def __init__(self, url, timeout=30, on_warning=None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.on_warning = on_warning

    def api(self, path, **params):
        """The whole JSON answer of GET `path` with `params` (lists repeat
        the parameter, as `match[]` needs)."""
        query = urllib.parse.urlencode(params, doseq=True)
        req = urllib.request.Request(self.url + path + ("?" + query if query else ""))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
            except json.JSONDecodeError:
                raise Failure(f"{path}: HTTP {e.code}") from e
        if body.get("status") != "success":
            raise Failure(f"{body.get('errorType')}: {body.get('error')}")
        for warning in body.get("warnings", []):
            if self.on_warning:
                self.on_warning(warning)
        return body

    def query(self, expr, at=None):
        """`data` of an instant query ({resultType, result}), now or at the
        epoch second `at`."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.api("/api/v1/query", **params)["data"]

    def query_range(self, expr, start, end, step):
        """`data` of a range query from `start` to `end` (epoch seconds) every
        `step` seconds."""
        return self.api("/api/v1/query_range", query=expr, start=f"{start:.3f}",
                        end=f"{end:.3f}", step=str(step))["data"]

    def targets(self, state="active"):
        """The active targets (their labels, health, lastScrape, ...)."""
        return self.api("/api/v1/targets", state=state)["data"]["activeTargets"]

    def rules(self):
        """The rule groups, with each rule's health and lastError."""
        return self.api("/api/v1/rules")["data"]["groups"]

    def alerts(self):
        """The alerts pending or firing now, with labels and annotations."""
        return self.api("/api/v1/alerts")["data"]["alerts"]

    def label_values(self, label, match=None):
        """The values of `label`, of the series matching `match` when given."""
        params = {"match[]": match} if match else {}
        return self.api(f"/api/v1/label/{label}/values", **params)["data"]

    def ready(self):
        """Whether /-/ready answers 200."""
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=self.timeout):
                return True
        except OSError:
            return False


def values_of(result):
    """Every sample value of a query result, instant or range, as floats."""
    for series in result:
        if "value" in series:
            yield float(series["value"][1])
        for _, v in series.get("values", []):
            yield float(v)


def timestamp(rfc3339):
    """Epoch seconds of an RFC 3339 time as the API writes it
    (`2024-05-01T10:00:00.123456789Z`: nanoseconds cut to microseconds)."""
    text = re.sub(r"(\.\d{6})\d*", r"\1", rfc3339).replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()
