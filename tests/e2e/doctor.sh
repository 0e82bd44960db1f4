#!/usr/bin/env bash
# End-to-end proof of `obslab doctor` on the real pieces, no containers:
# obslab-server, obslab-loadgen, the inbox, Debian's Alertmanager and
# Prometheus on 127.0.0.1, with the project's configurations (targets and
# the inbox URL rewritten to those ports). Then:
#   1. a healthy lab: exit 0, every line ✓;
#   2. the load generator stopped: exit 1, the line names the target
#      obslab-loadgen and the fix `docker compose up -d loadgen`;
#   3. Prometheus stopped too: exit 1, the line names Prometheus.
# Grafana's checks run against a stand-in in `cargo test -p obslab-lab`
# (no Grafana on the test machines). About 40 seconds once built.
#
# Environment:
#   OBSLAB_BIN_DIR        use the binaries there instead of building them
#   PROMETHEUS, ALERTMANAGER   binaries (default: prometheus and
#                         prometheus-alertmanager from PATH, Debian's packages)
#   E2E_KEEP=1            keep the temporary directory
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prometheus=${PROMETHEUS:-prometheus}
alertmanager=${ALERTMANAGER:-prometheus-alertmanager}

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
require "$prometheus" "$alertmanager" python3 curl
e2e_init doctor

find_binaries
if [[ ! -x $bin/obslab ]]; then
    [[ -z ${OBSLAB_BIN_DIR:-} ]] || die "no obslab in $bin"
    (cd "$root" && cargo build --quiet -p obslab-lab)
fi

sport=$(free_port) lport=$(free_port) iport=$(free_port) aport=$(free_port) pport=$(free_port)
export OBSLAB_URL=http://127.0.0.1:$sport OBSLAB_PROMETHEUS_URL=http://127.0.0.1:$pport \
    OBSLAB_ALERTMANAGER_URL=http://127.0.0.1:$aport OBSLAB_INBOX_URL=http://127.0.0.1:$iport \
    OBSLAB_GRAFANA_URL=off

say "the lab on 127.0.0.1: server, inbox, Alertmanager, Prometheus, load generator"
start server "$bin/obslab-server" --listen "127.0.0.1:$sport"
start inbox "$bin/obslab" inbox --listen "127.0.0.1:$iport"
sed "s#http://inbox:9095/webhook#http://127.0.0.1:$iport/webhook#" \
    "$root/alertmanager/alertmanager.yml" >"$work/alertmanager.yml"
start alertmanager "$alertmanager" --config.file="$work/alertmanager.yml" \
    --storage.path="$work/am" --web.listen-address="127.0.0.1:$aport" --cluster.listen-address=
mkdir -p "$work/prometheus"
cp -r "$root/prometheus/rules" "$work/prometheus/"
harness local-prometheus-config "$root/prometheus/prometheus.yml" "$work/prometheus/prometheus.yml" \
    prometheus="127.0.0.1:$pport" obslab-server="127.0.0.1:$sport" obslab-loadgen="127.0.0.1:$lport" \
    obslab-inbox="127.0.0.1:$iport" --alertmanager "127.0.0.1:$aport"
start prometheus "$prometheus" --config.file="$work/prometheus/prometheus.yml" \
    --storage.tsdb.path="$work/tsdb" --web.listen-address="127.0.0.1:$pport"
# Last, so that stop_last stops it first.
start loadgen "$bin/obslab-loadgen" --target "$OBSLAB_URL" --rate 20 \
    --metrics-listen "127.0.0.1:$lport" --progress=off

say "a healthy lab: exit 0"
# Until every target has been scraped once.
wait_until 60 "obslab doctor to pass" "$bin/obslab" doctor
"$bin/obslab" doctor | tee "$work/healthy.txt"
grep -q '✗' "$work/healthy.txt" && die "a ✗ line on a healthy lab"

say "the load generator stopped: exit 1 naming it"
stop_last
wait_until 30 "Prometheus to see obslab-loadgen down" \
    bash -c "! '$bin/obslab' doctor >'$work/loadgen.txt'"
cat "$work/loadgen.txt"
grep -q '✗ Prometheus: target obslab-loadgen .* is down .*docker compose up -d loadgen' "$work/loadgen.txt" \
    || die "no line names the stopped load generator and its fix"

say "Prometheus stopped too: exit 1 naming it"
stop_last
set +e
"$bin/obslab" doctor >"$work/prometheus.txt"
code=$?
set -e
cat "$work/prometheus.txt"
((code == 1)) || die "doctor should exit 1, got $code"
grep -q '✗ Prometheus: Prometheus at .* does not answer.*docker compose up -d prometheus' "$work/prometheus.txt" \
    || die "no line names the stopped Prometheus and its fix"

say "doctor: ok"
