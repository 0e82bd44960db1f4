#!/usr/bin/env bash
# Entry point of the end-to-end check of prometheus/ and grafana/ on a real
# Prometheus: tests/e2e/prometheus.py says what it proves and reads.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/prometheus.py" "$@"
