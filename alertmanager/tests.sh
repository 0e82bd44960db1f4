#!/usr/bin/env bash
# Unit tests of alertmanager/alertmanager.yml, no Alertmanager running
# (seconds): `amtool check-config`, then `amtool config routes test` for each
# alert of prometheus/rules/ with the labels its rule gives it, asserting the
# receiver it reaches. An alert of the rules without a case here fails, so a
# new rule cannot ship unrouted by accident. (The inhibition needs a running
# Alertmanager: tests/e2e/drills.sh proves it in the total-outage drill.)
# Needs amtool (Debian: apt-get install prometheus-alertmanager).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
amtool=${AMTOOL:-amtool}
config=$root/alertmanager/alertmanager.yml

if ! command -v "$amtool" >/dev/null; then
    echo "amtool not found (apt-get install prometheus-alertmanager, or set AMTOOL)" >&2
    exit 1
fi

"$amtool" check-config "$config" >/dev/null
echo "amtool check-config: ok"

failures=0
tested=()
# route RECEIVER SENTENCE LABEL=VALUE...: the alert with these labels reaches
# RECEIVER (and only it).
route() {
    local want=$1 sentence=$2
    shift 2
    local got
    # stdout only: amtool warns on stderr that --config.file overrides
    # --alertmanager.url.
    got=$("$amtool" config routes test --config.file="$config" "$@" 2>/dev/null) || true
    if [[ $got == "$want" ]]; then
        echo "  ok    $sentence"
    else
        echo "  FAIL  $sentence: reaches '$got', expected '$want'"
        failures=$((failures + 1))
    fi
    local label name="" severity=""
    for label in "$@"; do
        case $label in
            alertname=*) name=${label#alertname=} ;;
            severity=*) severity=${label#severity=} ;;
        esac
    done
    tested+=("$name:$severity")
    return 0
}

echo "routing:"
route pager "ObslabServerDown (critical) pages" \
    alertname=ObslabServerDown severity=critical job=obslab-server instance=server:5000
route pager "ObslabHighErrorRatio (critical) pages" \
    alertname=ObslabHighErrorRatio severity=critical job=obslab-server instance=server:5000
route pager "ObslabClientErrorRatio (critical) pages" \
    alertname=ObslabClientErrorRatio severity=critical job=obslab-loadgen instance=loadgen:9105
route ticket "ObslabHealthChecksFailing (warning) opens a ticket" \
    alertname=ObslabHealthChecksFailing severity=warning job=obslab-server instance=server:5000
route ticket "ObslabFastRoutesSlow (warning) opens a ticket" \
    alertname=ObslabFastRoutesSlow severity=warning job=obslab-server instance=server:5000
route ticket "ObslabSlowRouteTooSlow (warning) opens a ticket" \
    alertname=ObslabSlowRouteTooSlow severity=warning job=obslab-server instance=server:5000
route ticket "ObslabSlowTimeouts (warning) opens a ticket" \
    alertname=ObslabSlowTimeouts severity=warning job=obslab-server instance=server:5000
route ticket "ObslabLoadgenDown (warning) opens a ticket" \
    alertname=ObslabLoadgenDown severity=warning job=obslab-loadgen instance=loadgen:9105
route ticket "ObslabLoadgenDroppingRequests (warning) opens a ticket" \
    alertname=ObslabLoadgenDroppingRequests severity=warning job=obslab-loadgen instance=loadgen:9105
route pager "ObslabErrorBudgetBurningFast (critical, slo) pages" \
    alertname=ObslabErrorBudgetBurningFast severity=critical slo=home-availability factor=14.4 \
    job=obslab-server instance=server:5000
route ticket "ObslabErrorBudgetBurningSlowly (warning, slo) opens a ticket" \
    alertname=ObslabErrorBudgetBurningSlowly severity=warning slo=home-availability factor=1 \
    job=obslab-server instance=server:5000
route ticket "an SLO alert without a severity falls back to a ticket" \
    alertname=SomethingNew slo=home-latency
route ticket "an alert without a severity falls back to a ticket" \
    alertname=SomethingNew
route ticket "an unknown severity falls back to a ticket" \
    alertname=SomethingNew severity=info

# Every alert of the rules has a case above, with the severity its rule gives.
while read -r name severity; do
    if [[ " ${tested[*]} " != *" $name:$severity "* ]]; then
        echo "  FAIL  $name (severity $severity in prometheus/rules/) has no routing case here"
        failures=$((failures + 1))
    fi
done < <(awk '/^ *- alert:/ { name = $3 } /^ *severity:/ && name { print name, $2; name = "" }' \
    "$root"/prometheus/rules/*.yml)

if ((failures)); then
    echo "alertmanager routing: $failures failure(s)" >&2
    exit 1
fi
echo "alertmanager routing: ok"
