#!/usr/bin/env bash
# End-to-end proof of the classroom guide (docs/tp/): the whole lab on
# 127.0.0.1, as compose runs it, and every query, number and command of the
# guide's Markdown on it (tests/e2e/tp.py; the conventions are in
# tests/harness/guide.py and docs/testing.md):
#   1. without a lab: the Markdown reads (promql block flags, check:
#      comments, checked programs only in ```sh blocks);
#   2. obslab-server with compose.yaml's environment (its admin token), the
#      inbox, Debian's Alertmanager and Prometheus with the project's
#      configurations and rules (compose's addresses rewritten to free
#      ports), and obslab-loadgen with compose.yaml's arguments (its rate,
#      the default mix);
#   3. waits (polling) until every target is up and Prometheus holds the
#      history the check: comments need (their largest window, at most
#      TP_MAX_WINDOW, 5m by default);
#   4. every ```promql query parses and returns data (unless its block is
#      `promql empty-ok`); every <!-- check: QUERY ≈ VALUE ± TOL --> holds;
#   5. every obslab, obslab-loadgen, promtool, amtool and curl line of a
#      ```sh block runs in a copy of the repository with the compose URLs
#      pointed at this lab and the load generator's durations capped
#      (TP_MAX_DURATION, 3s), and must exit 0; a line that needs Grafana or
#      the compose network is checked against its --help instead; `obslab
#      reset` after each page.
# Every failure is listed as FILE:LINE. By default the guide (docs/tp, when
# it exists) and the fixtures of tests/harness/fixtures/tp, whose failures
# must be exactly those listed in their expected-failures.txt, run on the
# same lab: the checks prove they fail when they should.
#
#   tp.sh                 docs/tp and the fixtures' self-test
#   tp.sh PATH...         those Markdown files or folders only (relative to
#                         the repository), every failure fatal
#
# About 2 minutes once built for the fixtures alone; a guide whose check:
# comments use 5m windows waits 5 minutes for its data, then runs its
# commands (a few seconds each).
#
# Environment:
#   OBSLAB_BIN_DIR       use the binaries there instead of building them
#   PROMETHEUS, PROMTOOL, ALERTMANAGER   binaries (default: prometheus,
#                        promtool, prometheus-alertmanager; Debian's packages)
#   TP_MAX_WINDOW        longest history waited for (default 5m)
#   TP_MAX_DURATION      cap of obslab-loadgen's --duration and --stages (3s)
#   TP_INTERRUPT_AFTER   a command still running then gets SIGINT (15s)
#   E2E_KEEP=1           keep the temporary directory (logs, TSDB, each
#                        command's output in cmd-NNN.log)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prometheus=${PROMETHEUS:-prometheus}
promtool=${PROMTOOL:-promtool}
alertmanager=${ALERTMANAGER:-prometheus-alertmanager}
fixtures=tests/harness/fixtures/tp
tp_py=(python3 "$root/tests/e2e/tp.py")

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
require "$prometheus" "$promtool" "$alertmanager" amtool python3 curl
e2e_init tp

paths=("$@")
expect=()
if ((${#paths[@]} == 0)); then
    if [[ -d $root/docs/tp ]]; then
        paths+=(docs/tp)
    else
        echo "docs/tp/ does not exist yet: only the fixtures' self-test runs"
    fi
    paths+=("$fixtures")
    expect=(--expect "$root/$fixtures/expected-failures.txt")
fi
for path in "${paths[@]}"; do
    [[ -e $root/$path ]] || die "no $path in $root"
done

say "the guide's Markdown, without a lab: ${paths[*]}"
if ! "${tp_py[@]}" static "$root" "${paths[@]}" >"$work/static.txt"; then
    # The fixtures' static mistakes are expected: tp.py run judges them.
    ((${#expect[@]})) || { cat "$work/static.txt"; die "the guide's Markdown has problems"; }
fi
head -n 1 "$work/static.txt"

find_binaries
if [[ ! -x $bin/obslab ]]; then
    [[ -z ${OBSLAB_BIN_DIR:-} ]] || die "no obslab in $bin"
    (cd "$root" && cargo build --quiet -p obslab-lab)
fi

lab_ports
say "the lab on 127.0.0.1: server :$sport, inbox :$iport, Alertmanager :$aport, Prometheus :$pport"
mapfile -t server_env < <("${tp_py[@]}" compose "$root" server-env)
echo "  server environment from compose.yaml: ${server_env[*]%%=*}"
start_lab "${server_env[@]}"
wait_until 30 "obslab-server /readyz" curl -fsS "$OBSLAB_URL/readyz"
wait_until 30 "the inbox /livez" curl -fsS "$OBSLAB_INBOX_URL/livez"
wait_until 30 "Alertmanager /-/ready" curl -fsS "$OBSLAB_ALERTMANAGER_URL/-/ready"
wait_until 60 "Prometheus /-/ready" curl -fsS "$OBSLAB_PROMETHEUS_URL/-/ready"
mapfile -t loadgen_args < <("${tp_py[@]}" compose "$root" loadgen-args \
    --server "$OBSLAB_URL" --metrics "127.0.0.1:$lport")
echo "  obslab-loadgen ${loadgen_args[*]} (compose.yaml's command)"
start loadgen "$bin/obslab-loadgen" "${loadgen_args[@]}"

say "the guide on the live lab"
token=$(printf '%s\n' "${server_env[@]}" | sed -n 's/^OBSLAB_ADMIN_TOKEN=//p')
[[ -n $token ]] || die "compose.yaml gives the server no OBSLAB_ADMIN_TOKEN"
"${tp_py[@]}" run "$root" "${paths[@]}" "${expect[@]}" --bin "$bin" --work "$work" \
    --server "$OBSLAB_URL" --prometheus "$OBSLAB_PROMETHEUS_URL" \
    --alertmanager "$OBSLAB_ALERTMANAGER_URL" --inbox "$OBSLAB_INBOX_URL" --token "$token" ||
    die "the guide does not hold on the live lab (FILE:LINE above)"
all_alive

say "guide: ok"
