"""The harness helpers shell scripts call (tests/e2e/lib.sh), with tests/ on
PYTHONPATH:

  python3 -m harness free-port     a TCP port free on 127.0.0.1 now
"""

import sys

from .procs import free_port


def main(argv):
    match argv:
        case ["free-port"]:
            print(free_port())
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
