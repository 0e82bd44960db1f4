#!/usr/bin/env bash
# Entry point of the end-to-end check of `obslab doctor` on the real pieces:
# tests/e2e/doctor.py says what it proves and reads.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/doctor.py" "$@"
