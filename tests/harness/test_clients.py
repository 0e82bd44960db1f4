"""The Prometheus client against a fake server on 127.0.0.1:0."""

import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from harness import Failure
from harness.prom import Prometheus, timestamp, values_of


class Fake(BaseHTTPRequestHandler):
    """Answers from `routes`: (method, path) -> (status, JSON); records what
    it was sent in `seen`."""

    routes = {}
    seen = []

    def answer(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        Fake.seen.append({"method": self.command, "path": url.path,
                          "query": parse_qs(url.query),
                          "auth": self.headers.get("Authorization"),
                          "type": self.headers.get("Content-Type"),
                          "body": self.rfile.read(length)})
        status, body = Fake.routes.get((self.command, url.path), (404, {"error": "no route"}))
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PATCH = do_DELETE = answer

    def log_message(self, *args):
        pass


class WithServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        Fake.routes, Fake.seen = {}, []


class PrometheusClient(WithServer):
    def test_query_sends_time_and_returns_data(self):
        data = {"resultType": "vector", "result": [{"metric": {}, "value": [1, "2.5"]}]}
        Fake.routes[("GET", "/api/v1/query")] = (200, {"status": "success", "data": data})
        self.assertEqual(Prometheus(self.url).query("up", at=1700000000.25), data)
        self.assertEqual(Fake.seen[0]["query"], {"query": ["up"], "time": ["1700000000.250"]})

    def test_errors_name_prometheus_error_type(self):
        Fake.routes[("GET", "/api/v1/query")] = (
            400, {"status": "error", "errorType": "bad_data", "error": "parse error"})
        with self.assertRaises(Failure) as caught:
            Prometheus(self.url).query("sum(")
        self.assertEqual(str(caught.exception), "bad_data: parse error")

    def test_warnings_reach_the_callback(self):
        Fake.routes[("GET", "/api/v1/query_range")] = (200, {
            "status": "success", "warnings": ["PromQL info: x"],
            "data": {"resultType": "matrix", "result": []}})
        said = []
        Prometheus(self.url, on_warning=said.append).query_range("x", 10, 130, 10)
        self.assertEqual(said, ["PromQL info: x"])
        self.assertEqual(Fake.seen[0]["query"]["step"], ["10"])

    def test_label_values_with_and_without_a_matcher(self):
        Fake.routes[("GET", "/api/v1/label/job/values")] = (
            200, {"status": "success", "data": ["a", "b"]})
        prom = Prometheus(self.url)
        self.assertEqual(prom.label_values("job", 'up{x="1"}'), ["a", "b"])
        self.assertEqual(prom.label_values("job"), ["a", "b"])
        self.assertEqual([s["query"] for s in Fake.seen], [{"match[]": ['up{x="1"}']}, {}])

    def test_ready_is_false_when_nothing_answers(self):
        self.assertFalse(Prometheus(self.url).ready())  # the fake answers 404
        Fake.routes[("GET", "/-/ready")] = (200, {})
        self.assertTrue(Prometheus(self.url).ready())

    def test_values_and_timestamps(self):
        result = [{"value": [1, "0.5"]}, {"values": [[1, "1"], [2, "NaN"]]}]
        self.assertEqual(list(values_of(result))[:2], [0.5, 1.0])
        self.assertEqual(timestamp("2024-05-01T10:00:00.123456789Z"), 1714557600.123456)


if __name__ == "__main__":
    unittest.main()
