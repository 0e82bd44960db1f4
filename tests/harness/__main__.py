"""The harness helpers shell scripts and CI call, with tests/ on PYTHONPATH:

  python3 -m harness free-port          a TCP port free on 127.0.0.1 now
  python3 -m harness links ROOT [PATH...]
      every relative link of the Markdown files of PATH (default: README.md
      and docs/, relative to ROOT) resolves, #anchors included; one line per
      broken link, exit 1 if any
  python3 -m harness tplint DIR
      the classroom guide's lints (harness.tplint): each séance's sections
      fit its stated length, the glossary's retired words do not come back;
      one line per problem, exit 1 if any
  python3 -m harness local-prometheus-config SRC DST JOB=ADDR... [--alertmanager ADDR]
      prometheus.yml with those jobs scraping ADDR instead of what they
      discover (harness.promconfig)
"""

import sys

from . import Failure, links, tplint
from .procs import free_port
from .promconfig import local_config


def main(argv):
    match argv:
        case ["free-port"]:
            print(free_port())
        case ["links", root]:
            return links.main(root, ["README.md", "docs"])
        case ["links", root, *paths]:
            return links.main(root, paths)
        case ["tplint", root]:
            return tplint.main(root)
        case ["local-prometheus-config", src, dst, *rest]:
            return local_prometheus_config(src, dst, rest)
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


def local_prometheus_config(src, dst, args):
    jobs, alertmanager = {}, None
    while args:
        arg, *args = args
        if arg == "--alertmanager" and args:
            alertmanager, *args = args
        elif "=" in arg:
            job, addr = arg.split("=", 1)
            jobs[job] = addr
        else:
            print(f"local-prometheus-config: expected JOB=ADDR, got {arg!r}", file=sys.stderr)
            return 2
    with open(src, encoding="utf-8") as f:
        text = f.read()
    try:
        text = local_config(text, jobs, alertmanager)
    except Failure as e:
        print(f"FAILED: {src}: {e}", file=sys.stderr)
        return 1
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
