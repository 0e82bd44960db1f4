#!/usr/bin/env python3
"""Offline checks of deploy/kubernetes/ (no cluster can run here).

  kubernetes.py DIR [--bin BIN_DIR]

1. Every manifest against the Kubernetes schemas, strictly (unknown fields
   are errors): the PyPI package kubernetes-validate, `--strict`.
2. The Prometheus Operator's PodMonitor, for which that package has no
   schema, against the fields of its API reference (monitoring.coreos.com/v1)
   and against the pods it must find: its selector selects pods of a
   Deployment or Job of DIR, its port is one of their named ports, its
   jobLabel one of their labels.
3. What the docs promise of the manifests: the server's probes on /livez and
   /readyz, a termination grace above --shutdown-delay + --shutdown-grace;
   the load as an Indexed Job whose N in LOADGEN_SHARD=$(INDEX)/N matches
   its completions and parallelism, INDEX read from the completion index,
   no --threshold in a shard; with --bin, every flag and OBSLAB_/LOADGEN_
   variable a manifest uses appears in the `--help` of its binary.

Needs PyYAML (installed with kubernetes-validate).
"""

import re
import subprocess
import sys
from pathlib import Path

import yaml

# From the Prometheus Operator's API reference (PodMonitorSpec,
# PodMetricsEndpoint): the fields this project may use.
PODMONITOR_SPEC = {"jobLabel", "podTargetLabels", "podMetricsEndpoints", "selector",
                   "namespaceSelector", "sampleLimit", "targetLimit", "attachMetadata"}
PODMETRICS_ENDPOINT = {"port", "portNumber", "targetPort", "path", "scheme", "params",
                       "interval", "scrapeTimeout", "honorLabels", "honorTimestamps",
                       "relabelings", "metricRelabelings", "enableHttp2", "followRedirects",
                       "filterRunning", "proxyUrl", "bearerTokenSecret", "basicAuth",
                       "tlsConfig", "oauth2", "authorization", "trackTimestampsStaleness"}
# monitoring.coreos.com/v1 Duration.
DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?"
                      r"(([0-9]+)s)?(([0-9]+)ms)?)$")
COMPLETION_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']"


class Problem(Exception):
    pass


def load(directory):
    """[(file name, document)] of every YAML document of DIR."""
    docs = []
    for path in sorted(Path(directory).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def pod_templates(docs):
    """[(name, pod template)] of the Deployments and Jobs."""
    return [(d["metadata"]["name"], d["spec"]["template"])
            for _, d in docs if d["kind"] in ("Deployment", "Job")]


def seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m)", str(text))
    if not m:
        raise Problem(f"cannot read the duration {text!r}")
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def check_podmonitor(name, doc, templates):
    spec = doc.get("spec", {})
    if doc.get("apiVersion") != "monitoring.coreos.com/v1":
        raise Problem(f"PodMonitor {name}: apiVersion {doc.get('apiVersion')!r}")
    if unknown := set(spec) - PODMONITOR_SPEC:
        raise Problem(f"PodMonitor {name}: unknown spec fields {sorted(unknown)}")
    wanted = spec.get("selector", {}).get("matchLabels", {})
    pods = [t for _, t in templates
            if wanted and wanted.items() <= t["metadata"].get("labels", {}).items()]
    if not pods:
        raise Problem(f"PodMonitor {name}: selector {wanted} selects no pod of these manifests")
    ports = {p["name"] for t in pods for c in t["spec"]["containers"] for p in c.get("ports", [])}
    labels = set().union(*(t["metadata"]["labels"] for t in pods))
    if spec.get("jobLabel") and spec["jobLabel"] not in labels:
        raise Problem(f"PodMonitor {name}: jobLabel {spec['jobLabel']} is not a label of its pods")
    endpoints = spec.get("podMetricsEndpoints") or []
    if not endpoints:
        raise Problem(f"PodMonitor {name}: no podMetricsEndpoints")
    for ep in endpoints:
        if unknown := set(ep) - PODMETRICS_ENDPOINT:
            raise Problem(f"PodMonitor {name}: unknown endpoint fields {sorted(unknown)}")
        if ep.get("port") not in ports:
            raise Problem(f"PodMonitor {name}: port {ep.get('port')!r} is not a named port "
                          f"of its pods ({sorted(ports)})")
        for key in ("interval", "scrapeTimeout"):
            if key in ep and not DURATION.match(ep[key]):
                raise Problem(f"PodMonitor {name}: {key} {ep[key]!r} is not a duration")


def check_server(doc):
    pod = doc["spec"]["template"]["spec"]
    c = pod["containers"][0]
    probes = {k: c.get(k, {}).get("httpGet", {}).get("path")
              for k in ("livenessProbe", "readinessProbe")}
    if probes != {"livenessProbe": "/livez", "readinessProbe": "/readyz"}:
        raise Problem(f"Deployment {doc['metadata']['name']}: probes {probes}")
    env = env_of(c)
    needed = seconds(env.get("OBSLAB_SHUTDOWN_DELAY", "0s")) + \
        seconds(env.get("OBSLAB_SHUTDOWN_GRACE", "10s"))
    if pod.get("terminationGracePeriodSeconds", 30) <= needed:
        raise Problem(f"Deployment {doc['metadata']['name']}: terminationGracePeriodSeconds "
                      f"{pod.get('terminationGracePeriodSeconds', 30)} <= {needed:g} s of "
                      "shutdown delay + grace")


def check_job(doc):
    name, spec = doc["metadata"]["name"], doc["spec"]
    c = spec["template"]["spec"]["containers"][0]
    env = c.get("env", [])
    names = [e["name"] for e in env]
    shard = env_of(c).get("LOADGEN_SHARD") or ""
    m = re.fullmatch(r"\$\((\w+)\)/(\d+)", shard)
    if spec.get("completionMode") != "Indexed" or not m:
        raise Problem(f"Job {name}: not an Indexed Job with LOADGEN_SHARD=$(INDEX)/N ({shard!r})")
    index, n = m.group(1), int(m.group(2))
    if (spec.get("completions"), spec.get("parallelism")) != (n, n):
        raise Problem(f"Job {name}: completions {spec.get('completions')} and parallelism "
                      f"{spec.get('parallelism')} must both be the {n} of LOADGEN_SHARD")
    source = next((e for e in env if e["name"] == index), None)
    if (not source or names.index(index) > names.index("LOADGEN_SHARD")
            or source.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != COMPLETION_INDEX):
        raise Problem(f"Job {name}: {index} must come before LOADGEN_SHARD, from the "
                      "completion index annotation")
    if any(a.startswith("--threshold") for a in c.get("args", [])):
        raise Problem(f"Job {name}: thresholds belong to the merge, not to a shard")


def check_against_help(docs, bin_dir):
    """Every flag and variable the manifests give a binary, in its --help."""
    # The release's repositories (ghcr.io/OWNER/obslab-server) or a copy.
    binaries = {"obslab-server": "obslab-server", "obslab-loadgen": "obslab-loadgen"}
    for _, template in pod_templates(docs):
        for c in template["spec"]["containers"]:
            binary = binaries.get(c["image"].split(":")[0].rsplit("/", 1)[-1])
            if not binary:
                raise Problem(f"container {c['name']}: unknown image {c['image']}")
            helptext = subprocess.run([str(Path(bin_dir) / binary), "--help"], check=True,
                                      capture_output=True, text=True).stdout
            used = [a.split("=")[0] for a in c.get("args", [])]
            used += [e["name"] for e in c.get("env", []) if e["name"].startswith(("OBSLAB_", "LOADGEN_"))]
            for word in used:
                if not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", helptext):
                    raise Problem(f"container {c['name']}: {word} is not in `{binary} --help`")


def check(directory, bin_dir=None):
    docs = load(directory)
    templates = pod_templates(docs)
    kinds = {}
    for file, doc in docs:
        kinds.setdefault(doc["kind"], []).append(doc["metadata"]["name"])
        if doc["kind"] == "PodMonitor":
            check_podmonitor(doc["metadata"]["name"], doc, templates)
        elif doc["kind"] == "Deployment":
            check_server(doc)
        elif doc["kind"] == "Job":
            check_job(doc)
    if bin_dir:
        check_against_help(docs, bin_dir)
    return kinds


def validate(directory):
    files = sorted(str(p) for p in Path(directory).glob("*.yaml"))
    run = subprocess.run(["kubernetes-validate", "--strict", "--quiet", *files],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise Problem("kubernetes-validate --strict:\n" + run.stdout + run.stderr)


def main(argv):
    if not argv or argv[0].startswith("-") or (len(argv) > 1 and argv[1:2] != ["--bin"]):
        print(__doc__, file=sys.stderr)
        return 2
    directory, bin_dir = argv[0], (argv[2] if len(argv) > 2 else None)
    try:
        validate(directory)
        kinds = check(directory, bin_dir)
    except (Problem, OSError, KeyError, subprocess.CalledProcessError) as e:
        print(f"FAILED: {directory}: {e}", file=sys.stderr)
        return 1
    print("ok: " + ", ".join(f"{k} {'/'.join(v)}" for k, v in sorted(kinds.items()))
          + " valid (strict schemas; PodMonitor against its API reference"
          + (", flags against --help)" if bin_dir else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
