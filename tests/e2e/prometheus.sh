#!/usr/bin/env bash
# End-to-end proof of prometheus/ and grafana/ on a real Prometheus, no
# containers: obslab-server, obslab-loadgen (default mix) and the inbox
# (`obslab inbox`) on 127.0.0.1, Prometheus running the project's
# prometheus.yml (targets rewritten to those ports; Alertmanager left
# unresolvable, so nothing pages) and rules. Then, against real data:
#   1. every expr of every dashboard, Grafana variables resolved, returns data
#      (bundle.py dashboards --quiet): no panel would show "No data", the
#      drill-phase stat says "no drill", the Notifications row reads 0 (no
#      page yet); only the ALERTS tables may be empty (they say so in words)
#      and the annotations (fault changes, phases, failed scrapes, firing
#      alerts, pages), which tests/e2e/drills.sh proves during a drill;
#   2. every rule group is loaded and healthy, and the query under each
#      alert's threshold returns data (its live value is printed);
#   3. under the default traffic no alert fires, nor is pending at the end of
#      the observation window;
#   4. an incident (the load generator stopped) makes ObslabLoadgenDown fire,
#      with its labels and rendered annotations, and the alert panels show it.
# About 2.5 minutes once built.
#
# Environment:
#   OBSLAB_BIN_DIR       use the binaries there instead of building them
#   OBSLAB_E2E_PROFILE   cargo profile to build, debug (default) or release
#   PROMETHEUS, PROMTOOL Prometheus binaries (default: from PATH; Debian's
#                        `prometheus` package provides both)
#   E2E_RATE             load generator rate in req/s (default 50)
#   E2E_QUIET_SECONDS    observation window under default traffic (default 60)
#   E2E_KEEP=1           keep the temporary directory (logs, TSDB)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prometheus=${PROMETHEUS:-prometheus}
promtool=${PROMTOOL:-promtool}
rate=${E2E_RATE:-50}
quiet_seconds=${E2E_QUIET_SECONDS:-60}
bundle=(python3 "$root/tests/bundle/bundle.py")

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
require "$prometheus" "$promtool" python3 curl
e2e_init e2e

# Prometheus 3 refuses a scrape whose Content-Type is not a known exposition
# format (the pinned compose image is v3; Debian's 2.42 is lenient).
check_content_type() {
    local url=$1 type
    type=$(curl -fsS -o /dev/null -w '%{content_type}' "$url")
    case $type in
        "text/plain; version=0.0.4"* | "text/plain;version=0.0.4"* | application/openmetrics-text*) ;;
        *) die "$url answers Content-Type '$type': Prometheus 3 would refuse the scrape" ;;
    esac
}

say "static checks"
"${bundle[@]}" check "$root"

find_binaries obslab-server obslab-loadgen obslab

server_port=$(free_port)
loadgen_port=$(free_port)
inbox_port=$(free_port)
prom_port=$(free_port)
prom=http://127.0.0.1:$prom_port

say "obslab-server on 127.0.0.1:$server_port"
start server "$bin/obslab-server" --listen "127.0.0.1:$server_port"
wait_until 30 "obslab-server /readyz" curl -fsS "http://127.0.0.1:$server_port/readyz"
check_content_type "http://127.0.0.1:$server_port/metrics"

say "obslab-loadgen at $rate req/s, default mix, metrics on 127.0.0.1:$loadgen_port"
start loadgen "$bin/obslab-loadgen" --target "http://127.0.0.1:$server_port" \
    --rate "$rate" --metrics-listen "127.0.0.1:$loadgen_port"
loadgen=$((${#pids[@]} - 1))
wait_until 30 "obslab-loadgen /metrics" curl -fsS "http://127.0.0.1:$loadgen_port/metrics"
check_content_type "http://127.0.0.1:$loadgen_port/metrics"

say "the inbox (obslab inbox) on 127.0.0.1:$inbox_port"
start inbox "$bin/obslab" inbox --listen "127.0.0.1:$inbox_port"
wait_until 15 "obslab inbox /livez" curl -fsS "http://127.0.0.1:$inbox_port/livez"
check_content_type "http://127.0.0.1:$inbox_port/metrics"

say "Prometheus ($("$prometheus" --version 2>&1 | head -n 1)) on 127.0.0.1:$prom_port"
# The project's own configuration and rules, with only the targets rewritten.
mkdir -p "$work/prometheus"
cp -r "$root/prometheus/rules" "$work/prometheus/"
harness local-prometheus-config "$root/prometheus/prometheus.yml" "$work/prometheus/prometheus.yml" \
    prometheus="127.0.0.1:$prom_port" obslab-server="127.0.0.1:$server_port" \
    obslab-loadgen="127.0.0.1:$loadgen_port" obslab-inbox="127.0.0.1:$inbox_port"
"$promtool" check config "$work/prometheus/prometheus.yml" >/dev/null
start prometheus "$prometheus" \
    --config.file="$work/prometheus/prometheus.yml" \
    --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port"
wait_until 60 "Prometheus /-/ready" curl -fsS "$prom/-/ready"

say "waiting for data: four targets up, traffic and /slow timeouts scraped"
for expr in \
    'count(up{job=~"prometheus|obslab-server|obslab-loadgen|obslab-inbox"} == 1) == 4' \
    'sum(rate(flask_requests_total[1m])) > 0' \
    'sum(rate(loadgen_requests_total[1m])) > 0' \
    'sum(rate(flask_errors_total{error_type="timeout"}[1m])) > 0'; do
    wait_until 90 "$expr" "${bundle[@]}" query "$prom" "$expr"
done

say "every dashboard query on live data"
"${bundle[@]}" dashboards "$root" "$prom" --quiet

say "default traffic for ${quiet_seconds}s: no alert may fire"
deadline=$((SECONDS + quiet_seconds))
while :; do
    all_alive
    alerts=$("${bundle[@]}" alerts "$prom")
    if grep -q ' firing$' <<<"$alerts"; then
        die "alert firing under default traffic:"$'\n'"$alerts"
    fi
    [[ -n $alerts ]] && echo "  pending at ${SECONDS}s: $(tr '\n' ' ' <<<"$alerts")"
    ((SECONDS < deadline)) || break
    sleep 5
done
[[ -z $alerts ]] || die "alert condition still true after ${quiet_seconds}s of default traffic:"$'\n'"$alerts"
echo "  quiet: no alert firing or pending"

say "rule groups healthy; each alert's query against its threshold"
"${bundle[@]}" rules "$prom" "$root/prometheus/rules"

say "incident: load generator stopped, ObslabLoadgenDown must fire"
kill "${pids[$loadgen]}"
wait "${pids[$loadgen]}" || true
unset "pids[$loadgen]" "names[$loadgen]"
wait_until 150 "ObslabLoadgenDown firing" "${bundle[@]}" firing "$prom" ObslabLoadgenDown
"${bundle[@]}" firing "$prom" ObslabLoadgenDown
"${bundle[@]}" dashboards "$root" "$prom" --only-alerts

say "end to end: ok"
