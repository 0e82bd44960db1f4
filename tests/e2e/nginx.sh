#!/usr/bin/env bash
# Entry point of the end-to-end check of obslab-loadgen against Debian's
# nginx: tests/e2e/nginx.py says what it proves; its cases are the tables
# SERVERS, CASES and REFUSED there.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/nginx.py" "$@"
