import unittest
from pathlib import Path

import yaml

from harness import Failure
from harness.promconfig import alertmanager_config, local_config

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


def job(doc, name):
    return next(j for j in doc["scrape_configs"] if j["job_name"] == name)


class LocalConfig(unittest.TestCase):
    def test_a_dns_discovered_job_gets_the_static_address_and_keeps_its_options(self):
        doc = yaml.safe_load(local_config(SAMPLE, {"one": "127.0.0.1:7"}))
        one = job(doc, "one")
        self.assertNotIn("dns_sd_configs", one)
        self.assertEqual(one["static_configs"], [{"targets": ["127.0.0.1:7"]}])
        self.assertEqual(one["scrape_interval"], "1s")
        self.assertEqual(one["metric_relabel_configs"], [{"action": "keep"}])
        self.assertEqual(job(doc, "two")["static_configs"], [{"targets": ["two:1"]}])

    def test_several_addresses_and_global_settings(self):
        doc = yaml.safe_load(local_config(SAMPLE, {"two": ["127.0.0.1:1", "127.0.0.1:2"]},
                                          global_={"scrape_interval": "1s"}))
        self.assertEqual(job(doc, "two")["static_configs"],
                         [{"targets": ["127.0.0.1:1", "127.0.0.1:2"]}])
        self.assertEqual(doc["global"], {"scrape_interval": "1s"})

    def test_alertmanager_moves_everywhere_only_when_asked(self):
        self.assertEqual(yaml.safe_load(local_config(SAMPLE, {})), yaml.safe_load(SAMPLE))
        out = local_config(SAMPLE, {}, alertmanager="127.0.0.1:9")
        self.assertNotIn("alertmanager:9093", out)
        self.assertEqual(out.count("127.0.0.1:9"), 2)

    def test_an_empty_list_leaves_the_job_without_target(self):
        doc = yaml.safe_load(local_config(SAMPLE, {"one": []}))
        self.assertEqual(job(doc, "one")["static_configs"], [{"targets": []}])
        self.assertNotIn("dns_sd_configs", job(doc, "one"))

    def test_an_unknown_job_is_named(self):
        with self.assertRaisesRegex(Failure, "no job three"):
            local_config(SAMPLE, {"three": "127.0.0.1:1"})

    def test_the_project_file_runs_every_job_locally(self):
        text = (ROOT / "prometheus/prometheus.yml").read_text(encoding="utf-8")
        jobs = {j: f"127.0.0.1:{i}" for i, j in enumerate(
            ["prometheus", "obslab-server", "obslab-loadgen", "alertmanager", "obslab-inbox",
             "student-service"], 1)}
        out = local_config(text, jobs, alertmanager="127.0.0.1:4")
        self.assertNotIn("_sd_configs", out)
        doc = yaml.safe_load(out)
        for name, addr in jobs.items():
            self.assertEqual(job(doc, name)["static_configs"], [{"targets": [addr]}])
        self.assertEqual(doc["alerting"]["alertmanagers"][0]["static_configs"],
                         [{"targets": ["127.0.0.1:4"]}])


class AlertmanagerConfig(unittest.TestCase):
    def test_the_project_file_posts_to_the_inbox_on_a_faster_timeline(self):
        text = (ROOT / "alertmanager/alertmanager.yml").read_text(encoding="utf-8")
        doc = yaml.safe_load(alertmanager_config(text, "http://127.0.0.1:7/", speed=10))
        urls = [h["url"] for r in doc["receivers"] for h in r.get("webhook_configs", [])]
        self.assertTrue(urls)
        self.assertEqual(set(urls), {"http://127.0.0.1:7/webhook"})
        route = yaml.safe_load(text)["route"]
        self.assertEqual((route["group_wait"], route["group_interval"]), ("10s", "1m"))
        self.assertEqual((doc["route"]["group_wait"], doc["route"]["group_interval"]),
                         ("1s", "6s"))
        self.assertEqual(doc["route"]["repeat_interval"], route["repeat_interval"])
        same = yaml.safe_load(alertmanager_config(text, "http://127.0.0.1:7"))
        self.assertEqual(same["route"], route)

    def test_a_file_without_the_inbox_or_the_timings_is_refused(self):
        with self.assertRaisesRegex(Failure, "no receiver posts"):
            alertmanager_config("route: {}\nreceivers: []\n", "http://x")
        with self.assertRaisesRegex(Failure, "no group_interval"):
            alertmanager_config("route: {group_wait: 1s}\nreceivers:\n  - name: a\n"
                                "    webhook_configs: [{url: 'http://inbox:9095/webhook'}]\n",
                                "http://x")


if __name__ == "__main__":
    unittest.main()
