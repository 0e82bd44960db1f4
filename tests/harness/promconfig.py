"""The project's prometheus/prometheus.yml made to run on 127.0.0.1.

The lab's configuration finds its targets by compose service name, the load
generator by DNS service discovery (every replica). A test that runs the
same file outside compose points chosen jobs at fixed addresses instead:

    text = local_config(text, {"obslab-server": "127.0.0.1:5001"},
                        alertmanager="127.0.0.1:9094")

Each named job keeps its name, relabelling and options; only its target
discovery (static_configs, dns_sd_configs, ...) is replaced by one
static_configs of the address given. Line based, standard library only: the
file is ours and keeps the layout it has (jobs as `  - job_name:` items).
"""

import re

from . import Failure

_JOB = re.compile(r"^(\s*)- job_name:\s*(\S+)\s*$")
_DISCOVERY = re.compile(r"^\s*(\w+_sd_configs|static_configs):\s*$")
_ALERTMANAGER = re.compile(r'^(\s*- targets:\s*)\["alertmanager:9093"\]\s*$')


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _replace_discovery(body, key_indent, address):
    """The lines of one job's body with its discovery blocks replaced."""
    out, skipping = [], False
    for line in body:
        if skipping and (not line.strip() or _indent(line) > key_indent):
            continue
        skipping = False
        if _DISCOVERY.match(line) and _indent(line) == key_indent:
            skipping = True
            continue
        out.append(line)
    pad = " " * key_indent
    return out + [f"{pad}static_configs:", f'{pad}  - targets: ["{address}"]']


def local_config(text, jobs, alertmanager=None):
    """`text` with the jobs of `jobs` ({job name: host:port}) scraping their
    address only, and, if `alertmanager` is given, every target
    alertmanager:9093 (the alerting block's and the job's) moved there.
    Fails naming a job the file does not have."""
    lines = text.splitlines()
    out, i, seen = [], 0, set()
    while i < len(lines):
        line = lines[i]
        m = _JOB.match(line)
        if alertmanager and _ALERTMANAGER.match(line):
            out.append(_ALERTMANAGER.sub(rf'\g<1>["{alertmanager}"]', line))
            i += 1
            continue
        if not m or m.group(2) not in jobs:
            out.append(line)
            i += 1
            continue
        item = len(m.group(1))
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > item):
            j += 1
        # Trailing blank lines belong between jobs, not to this one.
        while j > i + 1 and not lines[j - 1].strip():
            j -= 1
        out.append(line)
        out += _replace_discovery(lines[i + 1 : j], item + 2, jobs[m.group(2)])
        seen.add(m.group(2))
        i = j
    missing = sorted(set(jobs) - seen)
    if missing:
        raise Failure(f"prometheus.yml has no job {', '.join(missing)}")
    return "\n".join(out) + "\n"
