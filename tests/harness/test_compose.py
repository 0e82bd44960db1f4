"""compose.yaml as the tests read it: services' commands, environments and
images, interpolated as compose does."""

import unittest
from pathlib import Path

import yaml

from harness import Failure, compose

SAMPLE = """\
x-build-args: &build-args
  RUST_IMAGE: ${RUST_IMAGE:-rust:1}

services:
  server:
    image: ${OBSLAB_SERVER_IMAGE:-ghcr.io/obslab/obslab-server:0.1.0}
    environment:
      OBSLAB_LISTEN: 0.0.0.0:5000
      OBSLAB_ADMIN_TOKEN: ${OBSLAB_ADMIN_TOKEN:-change-me}
      OBSLAB_SCENARIO:
      QUOTED: "a b"  # a comment
  loadgen:
    command:
      - --target=http://server:5000
      - --rate=${LOADGEN_RATE:-20}
      - "--mix=GET /=1"
    healthcheck:
      test:
        - CMD
  inbox:
    entrypoint: ["/usr/local/bin/obslab"]
    command: ["inbox"]
  optional:
    profiles: ["extra"]
    image: ${PYTHON_IMAGE:-python:3}

volumes:
  data:
"""


class Interpolation(unittest.TestCase):
    def test_forms(self):
        env = {"SET": "v", "EMPTY": ""}
        cases = [
            ("${SET:-d}", "v"), ("${EMPTY:-d}", "d"), ("${UNSET:-d}", "d"),
            ("${SET-d}", "v"), ("${EMPTY-d}", ""), ("${UNSET-d}", "d"),
            ("${SET}", "v"), ("$SET/x", "v/x"), ("${UNSET}", ""), ("$$SET", "$SET"),
            ("a${SET:-b}c${UNSET:-d}", "avcd"),
        ]
        for text, want in cases:
            with self.subTest(text=text):
                self.assertEqual(compose.interpolate(text, env), want)


class Services(unittest.TestCase):
    def test_commands_environments_and_images(self):
        s = compose.services(SAMPLE, env={"LOADGEN_RATE": "50"})
        self.assertEqual(set(s), {"server", "loadgen", "inbox", "optional"})
        self.assertEqual(s["optional"]["profiles"], ["extra"])
        self.assertEqual(s["server"]["profiles"], [])
        self.assertEqual(s["server"]["image"], "ghcr.io/obslab/obslab-server:0.1.0")
        self.assertEqual(s["server"]["environment"], {
            "OBSLAB_LISTEN": "0.0.0.0:5000", "OBSLAB_ADMIN_TOKEN": "change-me",
            "OBSLAB_SCENARIO": None, "QUOTED": "a b"})
        self.assertEqual(s["loadgen"]["command"],
                         ["--target=http://server:5000", "--rate=50", "--mix=GET /=1"])
        self.assertEqual(s["inbox"]["command"], ["inbox"])

    def test_shapes_it_does_not_read_are_refused(self):
        for bad in ["services:\n  a:\n    command: run --fast\n",
                    "services:\n  a:\n    environment:\n      - A=1\n",
                    "services:\n  a:\n    environment: [A=1]\n"]:
            with self.subTest(bad=bad), self.assertRaises(Failure):
                compose.services(bad, env={})

    def test_the_project_compose_file(self):
        root = Path(__file__).resolve().parents[2]
        s = compose.services((root / "compose.yaml").read_text(encoding="utf-8"), env={})
        self.assertTrue(any(a.startswith("--target=") for a in s["loadgen"]["command"]))
        self.assertTrue(s["server"]["environment"]["OBSLAB_ADMIN_TOKEN"])
        self.assertEqual(s["inbox"]["image"], s["server"]["image"])

    def test_the_instrumentation_profile(self):
        """Séance 9's service and its load generator start only with the
        profile; the service runs the official python image on the skeleton
        (its requirements pinned), published on 127.0.0.1; the load
        generator drives it with the lab's own image."""
        root = Path(__file__).resolve().parents[2]
        text = (root / "compose.yaml").read_text(encoding="utf-8")
        s = compose.services(text, env={})
        optional = {name for name, svc in s.items() if svc["profiles"]}
        self.assertEqual(optional, {"student-service", "student-loadgen"})
        for name in optional:
            self.assertEqual(s[name]["profiles"], ["instrumentation"])
        self.assertRegex(s["student-service"]["image"], r"^python:3\.\d+-slim$")
        self.assertEqual(compose.services(text, env={"PYTHON_IMAGE": "local/py:1"})
                         ["student-service"]["image"], "local/py:1")
        self.assertEqual(s["student-loadgen"]["image"], s["loadgen"]["image"])
        self.assertIn("--target=http://student-service:8000", s["student-loadgen"]["command"])
        raw = yaml.safe_load(text)["services"]["student-service"]
        self.assertEqual([compose.interpolate(p, {}) for p in raw["ports"]],
                         ["127.0.0.1:8000:8000"])
        mount = compose.interpolate(raw["volumes"][0], {})
        self.assertEqual(mount, "./docs/tp/fichiers/service:/service:ro")
        for folder in ("docs/tp/fichiers/service", "docs/tp/fichiers/corrige/service"):
            pins = (root / folder / "requirements.txt").read_text(encoding="utf-8").split()
            self.assertEqual([p for p in pins if "==" in p],
                             ["flask==3.1.3", "prometheus_client==0.26.0"], folder)
            self.assertTrue((root / folder / "app.py").is_file(), folder)


if __name__ == "__main__":
    unittest.main()
