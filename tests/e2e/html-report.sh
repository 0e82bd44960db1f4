#!/usr/bin/env bash
# Entry point of the end-to-end check of obslab-loadgen's HTML report in
# headless Chromium: tests/e2e/html_report.py says what it proves and reads.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/html_report.py" "$@"
