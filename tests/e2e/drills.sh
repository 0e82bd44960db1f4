#!/usr/bin/env bash
# End-to-end proof of the incident drills of scenarios/ on a real Prometheus,
# no containers, on a compressed timeline:
#   1. every scenarios/*.yml loads: obslab-server --scenario FILE comes up and
#      plays it, and a broken copy exits 2 at once;
#   2. the project's rules are rewritten with every `for:` and range window
#      divided by DRILLS_SPEED (tests/e2e/drills.py compress-rules), and
#      Prometheus scrapes and evaluates every second;
#   3. one obslab-server (--admin-token, --scenario-speed DRILLS_SPEED) and one
#      obslab-loadgen (default mix) per drill, all drills in parallel, one
#      Prometheus scraping them all: alerts are told apart by instance;
#   4. once a full (compressed) window of default traffic is in and no alert
#      fires, each drill is posted to its server (POST /admin/scenario), and
#      drills.py proves that every alert of its answer key starts firing
#      during its phase, that all resolve by the end of the scenario, and that
#      no alert outside the key fires; when ObslabServerDown has fired and
#      resolved, every dashboard query, annotations included, is evaluated in
#      drill mode (the last two minutes hold the outage and the phase changes);
#   5. a table: drill, alert, expected phase, fired at, resolved at;
#   6. alert delivery: Debian's Alertmanager runs the project's
#      alertmanager.yml (receivers pointed at an `obslab inbox`, group_wait and
#      group_interval divided by DRILLS_SPEED): every answer key's alert must
#      reach the inbox firing, then resolved, through the receiver its
#      severity routes to; in total-outage, ObslabClientErrorRatio fires in
#      Prometheus, Alertmanager reports it inhibited, and the inbox never
#      receives it (tests/e2e/delivery.py); then the server dashboard's
#      Notifications row and page annotation must show those pages and
#      resolutions (bundle.py dashboards --paged).
# About 3 minutes once built, at the default speed of 10, on 2 cores.
#
# Environment:
#   OBSLAB_BIN_DIR       use the binaries there instead of building them
#   OBSLAB_E2E_PROFILE   cargo profile to build, debug (default) or release
#   PROMETHEUS, PROMTOOL Prometheus binaries (default: from PATH; Debian's
#                        `prometheus` package provides both)
#   ALERTMANAGER         Alertmanager binary (default: prometheus-alertmanager,
#                        Debian's package)
#   DRILLS               drills to run, by file name without .yml (default: all)
#   DRILLS_SPEED         timeline compression (default 10: a 5m window is 30s)
#   DRILLS_RATE          req/s of each load generator (default 100; lower
#                        rates make the compressed windows noisier)
#   DRILLS_SLACK         seconds an alert may fire after its phase ended or
#                        resolve after the scenario ended (default 5: scrape
#                        and evaluation delays)
#   DRILLS_ALLOW_EXTRA=1 report alerts outside the answer key, do not fail
#   E2E_KEEP=1           keep the temporary directory (logs, TSDB)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prometheus=${PROMETHEUS:-prometheus}
alertmanager=${ALERTMANAGER:-prometheus-alertmanager}
promtool=${PROMTOOL:-promtool}
speed=${DRILLS_SPEED:-10}
rate=${DRILLS_RATE:-100}
slack=${DRILLS_SLACK:-5}
token=obslab-drills-token-0123456789
bundle=(python3 "$root/tests/bundle/bundle.py")
drills_py=(python3 "$root/tests/e2e/drills.py")
delivery_py=(python3 "$root/tests/e2e/delivery.py")

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
require "$prometheus" "$promtool" "$alertmanager" python3 curl
E2E_POLL=0.5
if ! [[ $speed =~ ^[1-9][0-9]*$ ]]; then
    die "DRILLS_SPEED must be a whole number ≥ 1"
fi

if [[ -n ${DRILLS:-} ]]; then
    read -r -a names_wanted <<<"$DRILLS"
else
    names_wanted=()
    for f in "$root"/scenarios/*.yml; do
        names_wanted+=("$(basename "$f" .yml)")
    done
fi
((${#names_wanted[@]})) || die "no drill in scenarios/"
for name in "${names_wanted[@]}"; do
    [[ -f $root/scenarios/$name.yml ]] || die "no scenarios/$name.yml"
done

e2e_init drills

say "static checks: dashboards, compressed rules (÷ $speed)"
"${bundle[@]}" check "$root"
mkdir -p "$work/prometheus"
"${drills_py[@]}" compress-rules "$root/prometheus/rules" "$work/prometheus/rules" --speed "$speed"
"$promtool" check rules "$work"/prometheus/rules/*.yml >/dev/null

find_binaries
if [[ ! -x $bin/obslab ]]; then
    [[ -z ${OBSLAB_BIN_DIR:-} ]] || die "no obslab in $bin"
    (cd "$root" && cargo build --quiet -p obslab-lab)
fi

say "every scenario file loads with --scenario and plays"
for file in "$root"/scenarios/*.yml; do
    name=$(basename "$file" .yml)
    port=$(free_port)
    start "load-$name" "$bin/obslab-server" --listen "127.0.0.1:$port" \
        --admin-token "$token" --scenario "$file"
    wait_until 15 "obslab-server --scenario $name" curl -fsS "http://127.0.0.1:$port/readyz"
    "${drills_py[@]}" playing "$name" "http://127.0.0.1:$port" --token "$token"
    stop_last
done
broken="$work/broken.yml"
sed 's/^phases:/phasez:/' "$root/scenarios/${names_wanted[0]}.yml" >"$broken"
set +e
timeout 10 "$bin/obslab-server" --listen 127.0.0.1:0 --scenario "$broken" >"$work/broken.log" 2>&1
code=$?
set -e
((code == 2)) || die "a broken scenario should exit 2, got $code"
grep -q "phasez" "$work/broken.log" || die "the broken scenario's error does not name the culprit"
echo "  a broken scenario exits 2: $(grep -m1 -o 'unknown field .phasez.' "$work/broken.log" || head -c 120 "$work/broken.log")"

say "${#names_wanted[@]} servers and load generators (${rate} req/s each, default mix)"
server_targets=()
loadgen_targets=()
specs=()
for name in "${names_wanted[@]}"; do
    sport=$(free_port)
    lport=$(free_port)
    start "server-$name" "$bin/obslab-server" --listen "127.0.0.1:$sport" \
        --admin-token "$token" --scenario-speed "$speed"
    wait_until 15 "obslab-server for $name" curl -fsS "http://127.0.0.1:$sport/readyz"
    start "loadgen-$name" "$bin/obslab-loadgen" --target "http://127.0.0.1:$sport" \
        --rate "$rate" --metrics-listen "127.0.0.1:$lport"
    wait_until 15 "obslab-loadgen for $name" curl -fsS "http://127.0.0.1:$lport/metrics"
    server_targets+=("\"127.0.0.1:$sport\"")
    loadgen_targets+=("\"127.0.0.1:$lport\"")
    specs+=("$name=$root/scenarios/$name.yml,http://127.0.0.1:$sport,127.0.0.1:$sport,127.0.0.1:$lport")
    echo "  $name: server 127.0.0.1:$sport, load generator metrics 127.0.0.1:$lport"
done

inbox_port=$(free_port)
inbox=http://127.0.0.1:$inbox_port
am_port=$(free_port)
am=http://127.0.0.1:$am_port
say "the inbox on 127.0.0.1:$inbox_port, Alertmanager ($("$alertmanager" --version 2>&1 | head -n 1)) on 127.0.0.1:$am_port"
start inbox "$bin/obslab" inbox --listen "127.0.0.1:$inbox_port"
wait_until 15 "obslab inbox /livez" curl -fsS "$inbox/livez"
# The project's configuration: receivers pointed at this inbox, group_wait
# and group_interval divided by the speed like the rules.
"${delivery_py[@]}" alertmanager-config "$root/alertmanager/alertmanager.yml" \
    "$work/alertmanager.yml" --inbox "$inbox" --speed "$speed"
start alertmanager "$alertmanager" --config.file="$work/alertmanager.yml" \
    --storage.path="$work/alertmanager" --web.listen-address="127.0.0.1:$am_port" \
    --cluster.listen-address=
wait_until 30 "Alertmanager /-/ready" curl -fsS "$am/-/ready"

prom_port=$(free_port)
prom=http://127.0.0.1:$prom_port
say "Prometheus ($("$prometheus" --version 2>&1 | head -n 1)) on 127.0.0.1:$prom_port, 1 s scrape and evaluation"
join() { local IFS=,; echo "$*"; }
# The jobs keep the project's names: the rules select on them (up{job=...}).
cat >"$work/prometheus/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - rules/*.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$am_port"]
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$prom_port"]
  - job_name: obslab-server
    static_configs:
      - targets: [$(join "${server_targets[@]}")]
  - job_name: obslab-loadgen
    static_configs:
      - targets: [$(join "${loadgen_targets[@]}")]
  - job_name: alertmanager
    static_configs:
      - targets: ["127.0.0.1:$am_port"]
  - job_name: obslab-inbox
    static_configs:
      - targets: ["127.0.0.1:$inbox_port"]
EOF
"$promtool" check config "$work/prometheus/prometheus.yml" >/dev/null
start prometheus "$prometheus" \
    --config.file="$work/prometheus/prometheus.yml" \
    --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port"
wait_until 60 "Prometheus /-/ready" curl -fsS "$prom/-/ready"

# The compressed 5 m window, in seconds: a full one of default traffic must be
# in before the drills start, as in a lab that has been running for a while.
window=$((300 / speed))
targets=$((3 + 2 * ${#names_wanted[@]}))
say "waiting for data: $targets targets up, every alert's query answering, a full ${window}s window"
wait_until 60 "all targets up" "${bundle[@]}" query "$prom" "count(up == 1) == $targets"
wait_until 60 "every alert's query to return data" "${bundle[@]}" rules "$prom" "$work/prometheus/rules"
wait_until $((window + 60)) "a full window of samples" "${bundle[@]}" query "$prom" \
    "min(count_over_time(up{job=\"obslab-server\"}[${window}s])) >= $((window * 9 / 10))"
alerts=$("${bundle[@]}" alerts "$prom")
if grep -q ' firing$' <<<"$alerts"; then
    die "an alert fires before any drill started:"$'\n'"$alerts"
fi
echo "  no alert firing"

say "drills: ${names_wanted[*]}"
run=(--prometheus "$prom" --speed "$speed" --token "$token" --root "$root" --slack "$slack")
[[ ${DRILLS_ALLOW_EXTRA:-0} == 1 ]] && run+=(--allow-extra)
[[ " ${names_wanted[*]} " == *" total-outage "* ]] && run+=(--dashboards-after ObslabServerDown)
never=()
if [[ " ${names_wanted[*]} " == *" total-outage "* ]]; then
    # Fires in Prometheus during the outage; Alertmanager must mute it.
    start inhibited-watch "${delivery_py[@]}" watch-inhibited "$am" ObslabClientErrorRatio "$work/inhibited.txt"
    never=(--never ObslabClientErrorRatio)
fi
all_alive
"${drills_py[@]}" run "${run[@]}" "${specs[@]}"
all_alive

say "alert delivery: each answer key's alert firing, then resolved, in the inbox"
"${delivery_py[@]}" expect "$inbox" "$work/prometheus/rules" --token "$token" --timeout 60 \
    "${never[@]}" "${specs[@]}"
if ((${#never[@]})); then
    [[ -s $work/inhibited.txt ]] || die "Alertmanager never reported ObslabClientErrorRatio as inhibited"
    echo "  Alertmanager: $(cat "$work/inhibited.txt")"
fi

say "dashboards: the Notifications row and the page annotation count what the inbox received"
"${bundle[@]}" dashboards "$root" "$prom" --paged

say "drills: ok"
