#!/usr/bin/env bash
# Benchmarks obslab-server against a bare warp hello-world built from this
# workspace, on this machine, in this run; prints figures and ratios.
#
#   bench/server.sh            # 3 rounds of 10 s per wrk run
#   ROUNDS=5 SECS=20 bench/server.sh
#
# Needs: wrk (Debian package), python3. Targets: GET / >= 0.9x bare warp;
# /metrics >= 10,000 scrapes/s; RSS <= 12 MiB idle and <= 100 MiB with
# 10,000 pending /slow.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT_APP=${PORT_APP:-18080}
PORT_BARE=${PORT_BARE:-18081}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
cargo build --release -q -p obslab-server --bin obslab-server --example hello_warp
BIN=target/release/obslab-server
BARE=target/release/examples/hello_warp

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { # wait until something answers HTTP on $1
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on $1" >&2; exit 1
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
rps() { # wrk requests/s of: path port
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$2$1" | awk '/^Requests\/sec:/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# No injected failures on / so both servers answer 200 to every request.
OBSLAB_LOG_FORMAT=text RUST_LOG=warn "$BIN" --listen "127.0.0.1:$PORT_APP" --home-error-rate 0 &
pids+=($!); app=$!
"$BARE" "127.0.0.1:$PORT_BARE" & pids+=($!); bare_pid=$!
wait_port "$PORT_APP"; wait_port "$PORT_BARE"
idle_kib=$(rss_kib "$app")

echo "machine: $(nproc) cores; wrk -t$THREADS -c$CONNS -d${SECS}s, $ROUNDS rounds, alternating"
app_runs=(); bare_runs=(); metrics_runs=()
for r in $(seq 1 "$ROUNDS"); do
  bare_runs+=("$(rps / "$PORT_BARE")")
  app_runs+=("$(rps / "$PORT_APP")")
  metrics_runs+=("$(rps /metrics "$PORT_APP")")
  echo "round $r: bare warp / ${bare_runs[-1]} req/s, obslab-server / ${app_runs[-1]} req/s, /metrics ${metrics_runs[-1]} scrapes/s"
done
bare=$(printf '%s\n' "${bare_runs[@]}" | median)
app_med=$(printf '%s\n' "${app_runs[@]}" | median)
metrics=$(printf '%s\n' "${metrics_runs[@]}" | median)
busy_kib=$(rss_kib "$app")

# 10,000 pending /slow: a client holds them open while RSS is read, for
# obslab-server and, as the baseline, bare warp's own sleeping /slow.
kill "$app"; wait "$app" 2>/dev/null || true
RUST_LOG=warn "$BIN" --listen "127.0.0.1:$PORT_APP" --slow-timeout-rate 0 --slow-min 60s --slow-max 60s &
pids+=($!); slowapp=$!
wait_port "$PORT_APP"
pending_rss() { # port pid: MiB of RSS once 10,000 GET /slow are pending
python3 - "$1" "$2" <<'PY'
import asyncio, sys, resource
port, pid = int(sys.argv[1]), sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
def rss():
    return int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")))
async def one(sem):
    async with sem:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /slow HTTP/1.1\r\nHost: bench\r\n\r\n")
        await w.drain()
        return w
async def main():
    sem = asyncio.Semaphore(256)
    writers = await asyncio.gather(*(one(sem) for _ in range(10_000)))
    # Every request has been read once RSS stops growing (both servers
    # allocate per request as they parse it).
    last = 0
    while abs(rss() - last) > last / 200:
        last = rss()
        await asyncio.sleep(0.5)
    print(f"{rss() / 1024:.1f}")
    for w in writers:
        w.close()
asyncio.run(main())
PY
}
slow_app_mib=$(pending_rss "$PORT_APP" "$slowapp")
slow_bare_mib=$(pending_rss "$PORT_BARE" "$bare_pid")

awk -v a="$app_med" -v b="$bare" -v m="$metrics" -v i="$idle_kib" -v u="$busy_kib" -v sa="$slow_app_mib" -v sb="$slow_bare_mib" 'BEGIN {
  printf "\nmedian GET /: obslab-server %.0f req/s, bare warp %.0f req/s, ratio %.3f (target >= 0.9)\n", a, b, a/b
  printf "median GET /metrics: %.0f scrapes/s (target >= 10000)\n", m
  printf "RSS idle at start: %.1f MiB (target <= 12); after the wrk runs: %.1f MiB\n", i/1024, u/1024
  printf "RSS with 10,000 pending /slow: obslab-server %.1f MiB (target <= 100), bare warp %.1f MiB, ratio %.2f\n", sa, sb, sa/sb
}'
