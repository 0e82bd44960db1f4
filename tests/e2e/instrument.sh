#!/usr/bin/env bash
# Entry point of the end-to-end check of séance 9's service (the skeleton
# students instrument and its solution): tests/e2e/instrument.py says what
# it proves and reads.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/instrument.py" "$@"
