#!/usr/bin/env bash
# Entry point of the end-to-end check of the incident drills on a real
# Prometheus and Alertmanager: tests/e2e/drills.py says what it proves and
# reads.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/drills.py" "$@"
