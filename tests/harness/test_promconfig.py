import unittest
from pathlib import Path

from harness import Failure
from harness.promconfig import local_config

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = """\
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]

scrape_configs:
  - job_name: one
    scrape_interval: 1s
    dns_sd_configs:
      - names: ["one"]
        type: A
        port: 9105
    metric_relabel_configs:
      - action: keep

  # a comment about two
  - job_name: two
    static_configs:
      - targets: ["two:1"]
  - job_name: alertmanager
    static_configs:
      - targets: ["alertmanager:9093"]
"""


class LocalConfig(unittest.TestCase):
    def test_a_dns_discovered_job_gets_the_static_address_and_keeps_its_options(self):
        out = local_config(SAMPLE, {"one": "127.0.0.1:7"})
        one = out.split("- job_name: one")[1].split("# a comment")[0]
        self.assertNotIn("dns_sd_configs", one)
        self.assertNotIn("names:", one)
        self.assertIn('static_configs:\n      - targets: ["127.0.0.1:7"]', one)
        self.assertIn("scrape_interval: 1s", one)
        self.assertIn("metric_relabel_configs:\n      - action: keep", one)
        self.assertIn('targets: ["two:1"]', out)
        self.assertIn("# a comment about two", out)

    def test_alertmanager_moves_everywhere_only_when_asked(self):
        self.assertEqual(local_config(SAMPLE, {}), SAMPLE)
        out = local_config(SAMPLE, {}, alertmanager="127.0.0.1:9")
        self.assertNotIn("alertmanager:9093", out)
        self.assertEqual(out.count('["127.0.0.1:9"]'), 2)

    def test_an_unknown_job_is_named(self):
        with self.assertRaisesRegex(Failure, "no job three"):
            local_config(SAMPLE, {"three": "127.0.0.1:1"})

    def test_the_project_file_runs_every_job_locally(self):
        text = (ROOT / "prometheus/prometheus.yml").read_text(encoding="utf-8")
        jobs = {j: f"127.0.0.1:{i}" for i, j in enumerate(
            ["prometheus", "obslab-server", "obslab-loadgen", "alertmanager", "obslab-inbox"], 1)}
        out = local_config(text, jobs, alertmanager="127.0.0.1:4")
        self.assertNotIn("_sd_configs", out)
        for addr in jobs.values():
            self.assertIn(f'["{addr}"]', out)


if __name__ == "__main__":
    unittest.main()
