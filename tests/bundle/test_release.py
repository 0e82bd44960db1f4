"""The release and what names it agree: compose.yaml and the Kubernetes
manifests name the images .github/workflows/release.yml publishes for the
workspace's version (never `latest`), the workflow builds the Dockerfile's
targets, the same ones compose (and so tests/e2e/containers.sh) builds, and
its version step accepts the workspace's tag and refuses any other."""

import os
import re
import subprocess
import sys
import tempfile
import tomllib
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from harness import compose  # noqa: E402

WORKFLOW = ROOT / ".github/workflows/release.yml"
RUNNERS = {"linux/amd64": "ubuntu-24.04", "linux/arm64": "ubuntu-24.04-arm"}
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def workspace():
    """(version, GHCR namespace) from Cargo.toml's workspace.package."""
    package = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))["workspace"]["package"]
    owner = re.fullmatch(r"https://github\.com/([^/]+)/[^/]+", package["repository"]).group(1)
    return package["version"], f"ghcr.io/{owner.lower()}"


def dockerfile_targets(text):
    """The stages no other stage builds on: one per image."""
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I)
    used = set(re.findall(r"--from=(\S+)", text)) | set(re.findall(r"^FROM\s+(\S+)", text, re.M | re.I))
    return {s for s in stages if s not in used}


def compose_file():
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]


def workflow():
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


def builds(doc):
    """(job, step) of every docker/build-push-action step."""
    return [(job, step) for job in doc["jobs"].values() for step in job["steps"]
            if step.get("uses", "").startswith("docker/build-push-action@")]


class Images(unittest.TestCase):
    def test_compose_names_the_release_of_the_workspace_version(self):
        version, registry = workspace()
        services = compose_file()
        # Every service that runs one of our images (student-loadgen too,
        # which has no build: of its own).
        ours = {name: svc for name, svc in services.items()
                if "OBSLAB_SERVER_IMAGE" in svc.get("image", "")
                or "OBSLAB_LOADGEN_IMAGE" in svc.get("image", "")}
        self.assertLessEqual({"server", "loadgen", "inbox", "student-loadgen"}, set(ours))
        for name, svc in ours.items():
            with self.subTest(service=name):
                target = "server" if "OBSLAB_SERVER_IMAGE" in svc["image"] else "loadgen"
                if "build" in svc:
                    self.assertEqual(svc["build"]["target"], target)
                image = compose.interpolate(services[name]["image"], {})
                self.assertEqual(image, f"{registry}/obslab-{target}:{version}")
                self.assertNotRegex(image, r":latest$|^[^:]*$")
                self.assertEqual(compose.interpolate(services[name]["image"],
                                                     {"OBSLAB_SERVER_IMAGE": "mine/s:1",
                                                      "OBSLAB_LOADGEN_IMAGE": "mine/l:1"}),
                                 f"mine/{target[0]}:1")

    def test_kubernetes_manifests_name_the_same_release(self):
        version, registry = workspace()
        images = set()
        for path in sorted((ROOT / "deploy/kubernetes").glob("*.yaml")):
            images |= set(re.findall(r"^\s*image:\s*(\S+)", path.read_text(encoding="utf-8"), re.M))
        self.assertEqual(images, {f"{registry}/obslab-server:{version}",
                                  f"{registry}/obslab-loadgen:{version}"})

    def test_the_containers_e2e_never_tags_a_published_name(self):
        script = (ROOT / "tests/e2e/containers.sh").read_text(encoding="utf-8")
        for var in ("OBSLAB_SERVER_IMAGE", "OBSLAB_LOADGEN_IMAGE"):
            self.assertRegex(script, rf"(?m)^export {var}=obslab-e2e/")
        for path in sorted((ROOT / "tests/e2e").iterdir()) + [ROOT / ".ci/images.sh"]:
            with self.subTest(file=path.name):
                self.assertNotIn("ghcr.io", path.read_text(encoding="utf-8"))


class Workflow(unittest.TestCase):
    def test_it_builds_the_dockerfiles_targets_as_compose_does(self):
        targets = dockerfile_targets((ROOT / "Dockerfile").read_text(encoding="utf-8"))
        self.assertEqual(targets, {"server", "loadgen"})
        services = compose_file()
        for name in ("server", "loadgen", "inbox"):
            build = services[name]["build"]
            self.assertEqual((build["context"], build.get("dockerfile", "Dockerfile")), (".", "Dockerfile"))
            self.assertIn(build["target"], targets)
        steps = builds(workflow())
        self.assertEqual(sorted(s["with"]["target"] for _, s in steps), sorted(targets))
        for job, step in steps:
            with self.subTest(target=step["with"]["target"]):
                self.assertEqual((step["with"]["context"], step["with"]["file"]), (".", "Dockerfile"))
                self.assertEqual(step["with"]["platforms"], "${{ matrix.platform }}")
                output = step["with"]["outputs"]
                self.assertIn(f"name=${{{{ env.REGISTRY }}}}/obslab-{step['with']['target']},", output)
                self.assertIn("push-by-digest=true", output)
                self.assertEqual(job["runs-on"], "${{ matrix.runner }}")
                self.assertEqual({m["platform"]: m["runner"] for m in job["strategy"]["matrix"]["include"]},
                                 RUNNERS)

    def test_trigger_permissions_and_pinned_actions(self):
        doc = workflow()
        self.assertEqual(doc["on"], {"push": {"tags": ["v*"]}})
        self.assertEqual(doc["permissions"], {"contents": "read", "packages": "write"})
        uses = [s["uses"] for job in doc["jobs"].values() for s in job["steps"] if "uses" in s]
        self.assertTrue(uses)
        for action in uses:
            self.assertRegex(action, PINNED)
        self.assertNotIn(":latest", WORKFLOW.read_text(encoding="utf-8"))

    def run_version_step(self, tag, owner="ObsLab"):
        step = next(s for s in workflow()["jobs"]["version"]["steps"] if s.get("id") == "version")
        with tempfile.NamedTemporaryFile("r", suffix=".out") as out:
            env = {**os.environ, "TAG": tag, "OWNER": owner, "GITHUB_OUTPUT": out.name}
            run = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=30)
            return run, dict(line.split("=", 1) for line in out.read().split())

    def test_the_version_step_takes_the_workspace_tag_and_refuses_others(self):
        version, registry = workspace()
        run, outputs = self.run_version_step(f"v{version}")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(outputs, {"version": version, "registry": registry})
        run, outputs = self.run_version_step("v99.0.0")
        self.assertEqual(run.returncode, 1)
        self.assertIn(f"tag v99.0.0 is version 99.0.0, but Cargo.toml's workspace version is {version}",
                      run.stdout)
        self.assertEqual(outputs, {})


if __name__ == "__main__":
    unittest.main()
