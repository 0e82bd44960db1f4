"""compose.yaml as the tests read it: services' commands, environments and
images, interpolated as compose does."""

import unittest
from pathlib import Path

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
        self.assertEqual(set(s), {"server", "loadgen", "inbox"})
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


if __name__ == "__main__":
    unittest.main()
