"""The checks of kubernetes.py fail on the mistakes they are there for:
each test breaks one thing in a copy of deploy/kubernetes/."""

import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kubernetes  # noqa: E402

DEPLOY = Path(__file__).resolve().parents[2] / "deploy/kubernetes"


class Manifests(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        for f in DEPLOY.glob("*.yaml"):
            shutil.copy(f, self.dir)

    def edit(self, name, old, new):
        path = self.dir / name
        text = path.read_text(encoding="utf-8")
        self.assertIn(old, text)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def fails(self, pattern):
        with self.assertRaisesRegex(kubernetes.Problem, pattern):
            kubernetes.check(self.dir)

    def test_the_project_manifests_pass(self):
        kinds = kubernetes.check(self.dir)
        self.assertEqual(kinds["Job"], ["obslab-load"])
        self.assertEqual(sorted(kinds["PodMonitor"]), ["obslab-loadgen", "obslab-server"])

    def test_a_podmonitor_port_that_no_pod_names(self):
        self.edit("podmonitor.yaml", "- port: http", "- port: web")
        self.fails("port 'web' is not a named port")

    def test_a_podmonitor_selecting_nothing(self):
        self.edit("podmonitor.yaml", "app.kubernetes.io/name: obslab-server",
                  "app.kubernetes.io/name: server")
        self.fails("selects no pod")

    def test_a_podmonitor_field_the_operator_does_not_have(self):
        self.edit("podmonitor.yaml", "      interval: 5s", "      intervall: 5s")
        self.fails("unknown endpoint fields")

    def test_a_podmonitor_interval_that_is_no_duration(self):
        self.edit("podmonitor.yaml", "interval: 5s", "interval: 5 seconds")
        self.fails("not a duration")

    def test_a_probe_on_the_wrong_path(self):
        self.edit("server.yaml", "path: /readyz", "path: /health")
        self.fails("probes")

    def test_a_termination_grace_shorter_than_the_drain(self):
        self.edit("server.yaml", "terminationGracePeriodSeconds: 20",
                  "terminationGracePeriodSeconds: 10")
        self.fails("terminationGracePeriodSeconds 10")

    def test_shard_count_and_completions_disagree(self):
        self.edit("loadgen-job.yaml", "completions: 3", "completions: 4")
        self.fails("completions 4")

    def test_a_threshold_in_a_shard(self):
        self.edit("loadgen-job.yaml", "- --progress=off", "- --threshold=p99<1s")
        self.fails("thresholds belong to the merge")

    def test_the_index_must_be_declared_first(self):
        self.edit("loadgen-job.yaml", "- name: SHARD_INDEX", "- name: SHARD_INDEXX")
        self.fails("SHARD_INDEX must come before LOADGEN_SHARD")


if __name__ == "__main__":
    unittest.main()
