#!/usr/bin/env bash
# Static checks of the lab bundle, no server needed (seconds):
#   promtool check config / check rules / test rules on prometheus/, the
#   Grafana provisioning and dashboards (tests/bundle/bundle.py check), and
#   promtool unit tests of the panels that must say something in every case
#   (tests/bundle/panel_tests.py: the drill-phase stat, the pages stat); the
#   SLO rules with the SRE workbook's windows, on their tests' slower clock
#   (tests/bundle/slo_workbook.py).
# Needs promtool (Debian: apt-get install prometheus) and python3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
promtool=${PROMTOOL:-promtool}

if ! command -v "$promtool" >/dev/null; then
    echo "promtool not found (apt-get install prometheus, or set PROMTOOL)" >&2
    exit 1
fi

cd "$root"
"$promtool" check config prometheus/prometheus.yml
"$promtool" check rules prometheus/rules/*.yml
"$promtool" test rules prometheus/tests/*.test.yml
python3 tests/bundle/bundle.py check .
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tests/bundle/panel_tests.py . >"$tmp/panels.test.json"
"$promtool" test rules "$tmp/panels.test.json"
python3 tests/bundle/slo_workbook.py . "$tmp/workbook"
"$promtool" check rules "$tmp/workbook/rules/obslab.slo.yml"
"$promtool" test rules "$tmp/workbook/tests/obslab.slo.test.yml"
echo "bundle checks: ok"
