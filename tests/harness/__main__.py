"""The harness helpers shell scripts and CI call, with tests/ on PYTHONPATH:

  python3 -m harness free-port          a TCP port free on 127.0.0.1 now
  python3 -m harness links ROOT [PATH...]
      every relative link of the Markdown files of PATH (default: README.md
      and docs/, relative to ROOT) resolves, #anchors included; one line per
      broken link, exit 1 if any
  python3 -m harness tplint DIR
      the classroom guide's lints (harness.tplint): each séance's sections
      fit its stated length, the glossary's retired words do not come back,
      the French pages' no-break spaces; one line per problem, exit 1 if any
  python3 -m harness tptypo FILE...
      puts the no-break spaces of French typography into each page (the
      rules tplint checks, harness.tplint); says what it changed and what
      it cannot fix (a line starting with `:`), exit 1 if something is left
"""

import sys

from . import links, tplint
from .procs import free_port


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
        case ["tptypo", *paths] if paths:
            return tplint.typeset_files(paths)
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
