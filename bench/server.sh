#!/usr/bin/env bash
# Benchmarks obslab-server against a bare warp hello-world built from this
# workspace, on this machine, in this run; prints figures and ratios.
#
#   bench/server.sh            # 3 rounds of 10 s per wrk run
#   ROUNDS=5 SECS=20 bench/server.sh
#   ROUNDS=1 SECS=1 bench/server.sh   # a smoke run
#
# Both servers listen on port 0 (PORT_APP, PORT_BARE: fixed ports instead),
# the ports read back from their logs.
#
# Needs: wrk (Debian package), python3 (bench/hold.py). Targets: GET / >=
# 0.9x bare warp; /metrics >= 10,000 scrapes/s; RSS <= 12 MiB idle and
# <= 100 MiB with 10,000 pending /slow.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT_APP=${PORT_APP:-0}
PORT_BARE=${PORT_BARE:-0}
# shellcheck source=bench/lib.sh
. bench/lib.sh

need wrk "apt-get install wrk"
cargo build --release -q -p obslab-server --bin obslab-server --example hello_warp
BIN=target/release/obslab-server
BARE=target/release/examples/hello_warp

rps() { # wrk requests/s of: path port
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$2$1" | awk '/^Requests\/sec:/ {print $2}'
}

# No injected failures on / so both servers answer 200 to every request.
# RUST_LOG keeps the server's ready line (its address), nothing per request.
start_listening obslab-server env RUST_LOG=warn,obslab_server=info "$BIN" --log-format text \
  --listen "127.0.0.1:$PORT_APP" --home-error-rate 0
app=$listening_pid; port_app=$listening_port
start_listening hello_warp "$BARE" "127.0.0.1:$PORT_BARE"
bare_pid=$listening_pid; port_bare=$listening_port
idle_kib=$(rss_kib "$app")

echo "machine: $(nproc) cores; wrk -t$THREADS -c$CONNS -d${SECS}s, $ROUNDS rounds, alternating"
app_runs=(); bare_runs=(); metrics_runs=()
for r in $(seq 1 "$ROUNDS"); do
  bare_runs+=("$(rps / "$port_bare")")
  app_runs+=("$(rps / "$port_app")")
  metrics_runs+=("$(rps /metrics "$port_app")")
  echo "round $r: bare warp / ${bare_runs[-1]} req/s, obslab-server / ${app_runs[-1]} req/s, /metrics ${metrics_runs[-1]} scrapes/s"
done
bare=$(median_of "${bare_runs[@]}")
app_med=$(median_of "${app_runs[@]}")
metrics=$(median_of "${metrics_runs[@]}")
busy_kib=$(rss_kib "$app")

# 10,000 pending /slow: a client holds them open while RSS is read, for
# obslab-server and, as the baseline, bare warp's own sleeping /slow.
stop_process "$app"
start_listening obslab-server-slow env RUST_LOG=warn,obslab_server=info "$BIN" --log-format text \
  --listen "127.0.0.1:$PORT_APP" --slow-timeout-rate 0 --slow-min 60s --slow-max 60s
slowapp=$listening_pid; port_slow=$listening_port
slow_app_mib=$("${HOLD[@]}" "$port_slow" "$slowapp" 10000 /slow)
slow_bare_mib=$("${HOLD[@]}" "$port_bare" "$bare_pid" 10000 /slow)

awk -v a="$app_med" -v b="$bare" -v m="$metrics" -v i="$idle_kib" -v u="$busy_kib" -v sa="$slow_app_mib" -v sb="$slow_bare_mib" 'BEGIN {
  printf "\nmedian GET /: obslab-server %.0f req/s, bare warp %.0f req/s, ratio %.3f (target >= 0.9)\n", a, b, a/b
  printf "median GET /metrics: %.0f scrapes/s (target >= 10000)\n", m
  printf "RSS idle at start: %.1f MiB (target <= 12); after the wrk runs: %.1f MiB\n", i/1024, u/1024
  printf "RSS with 10,000 pending /slow: obslab-server %.1f MiB (target <= 100), bare warp %.1f MiB, ratio %.2f\n", sa, sb, sa/sb
}'
