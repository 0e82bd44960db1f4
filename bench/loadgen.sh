#!/usr/bin/env bash
# Benchmarks obslab-loadgen against a bare warp hello-world built from this
# workspace (server/examples/hello_warp.rs), on this machine, in this run;
# prints figures and ratios. Not a test: nothing here passes or fails.
#
#   bench/loadgen.sh                 # short: ~2.5 minutes
#   LONG=1 bench/loadgen.sh          # adds RSS at minute 1 and 5 of a 1k req/s run
#   ROUNDS=5 SECS=20 CONNS=64 bench/loadgen.sh
#   THREADS=1 bench/loadgen.sh       # obslab-loadgen --threads (default: CPU count)
#   BEFORE=/path/to/old/obslab-loadgen bench/loadgen.sh
#                                    # also the old binary in the closed-model
#                                    # rounds, the open-model table and the CPU
#                                    # figure: both medians and the ratio
#                                    # new / before
#   OPEN_RATES="20000 25000" OPEN_SECS=8 bench/loadgen.sh
#                                    # the open model vs oha at full speed
#                                    # (OPEN_RATES= skips it)
#   OPEN_ONLY=1 bench/loadgen.sh     # only the open model (2.)
#   SHARD_ONLY=1 bench/loadgen.sh    # only the shards (5.)
#   SHARD_COUNTS="1 2 4" SHARD_RATE=10000 SHARD_SECS=10 bench/loadgen.sh
#                                    # (SHARD_COUNTS= skips 5.)
#   H2_ONLY=1 bench/loadgen.sh       # only HTTP/2 (6.)
#   H2_CONNS=4 bench/loadgen.sh      # (H2_CONNS= skips 6.)
#
# 1. Closed model, same connections and duration, alternating tools:
#    obslab-loadgen --concurrency C vs wrk -t1 -cC and oha -cC (ratios), and
#    vs the BEFORE binary when given (same options, alternating in each round).
#    Then CPU time (user + sys) per request of obslab-loadgen and oha for the
#    same fixed number of requests (/usr/bin/time).
# 2. Open model: achieved vs target rate at 1,000 and 10,000 req/s; then, at
#    each of OPEN_RATES, obslab-loadgen --rate R vs oha -q R -c OHA_CONNS
#    --latency-correction, ROUNDS rounds alternating who goes first: sent
#    rate, dropped, p99, CPU per request, schedule lag, medians and ratios.
#    oha's correction times from when its pacer woke, not from the intended
#    instant; a second oha run per round with --db-url (every request's
#    times in SQLite) gives its p99 from the intended instant (request i of
#    the pacer is due at i/R) and its pacer's lag, like for like.
# 3. Memory: RSS of a 1,000 req/s run at 10 s and 60 s (LONG=1: 1 and 5 min).
# 4. CPU per request, when valgrind is installed: instructions per request of
#    obslab-loadgen and oha under callgrind, the same for the same binary and
#    inputs whatever else the machine does, so a steadier ratio than 1.
#    Marginal cost: (instructions for 2N requests - for N) / N, which leaves
#    out start-up and shutdown. With BEFORE, the old binary's count too.
# 5. Shards: SHARD_RATE req/s in total for SHARD_SECS, from 1, 2 and 4
#    processes (--shard I/N, one --start-at, --threads THREADS/N each, at
#    least 1), their reports merged: the merge's achieved rate, dropped, p99
#    and schedule lag p99 vs one process (ratios). Then the cost of carrying
#    the histograms: the size of a report and of its histograms, and the
#    time to merge 100 reports (hyperfine when installed, else /usr/bin/time).
# 6. HTTP/2, closed model, one run each against the same target over h2c
#    (the warp hello serves HTTP/1.1 and h2c on one port): CONNS workers on
#    H2_CONNS connections (obslab-loadgen --http2 --concurrency CONNS
#    --connections H2_CONNS) vs oha --http2 -c H2_CONNS -p CONNS/H2_CONNS
#    (the same streams on the same connections), and vs obslab-loadgen over
#    HTTP/1.1 (CONNS workers, a connection each); the ratios.
#
# The warp hello listens on port 0 (PORT: a fixed port instead), the port
# read back from what it prints.
#
# Needs: wrk (Debian package), python3; oha is used when on PATH
# (`cargo install oha`). The figures the README promises: >= 1.0x oha,
# >= 0.85x wrk -t1, achieved rate within 1 % of target, RSS growth < 10 %.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-50}
PORT=${PORT:-0}
LONG=${LONG:-0}
OPEN_ONLY=${OPEN_ONLY:-0}
THREADS=${THREADS:-$(nproc)}
BEFORE=${BEFORE:-}
# shellcheck source=bench/lib.sh
. bench/lib.sh

need wrk "apt-get install wrk"
PATH="$PATH:$HOME/.cargo/bin"
have_oha=0; command -v oha >/dev/null && have_oha=1
cargo build --release -q -p obslab-loadgen --bin obslab-loadgen
cargo build --release -q -p obslab-server --example hello_warp
LOADGEN=${CARGO_TARGET_DIR:-target}/release/obslab-loadgen
BARE=${CARGO_TARGET_DIR:-target}/release/examples/hello_warp
if [ -n "$BEFORE" ] && [ ! -x "$BEFORE" ]; then
  echo "BEFORE=$BEFORE is not an executable" >&2; exit 2
fi

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
json_field() { python3 -c "import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"; }

loadgen_rps() { # [binary] -> achieved req/s of a closed-model run
  RUST_LOG=warn "${1:-$LOADGEN}" --target "$URL" --mix "GET /=1" --concurrency "$CONNS" \
    --threads "$THREADS" --duration "${SECS}s" --progress off --output json 2>/dev/null | json_field achieved_rps
}
wrk_rps() { wrk -t1 -c"$CONNS" -d"${SECS}s" "$URL" | awk '/^Requests\/sec:/ {print $2}'; }
oha_rps() {
  oha -z "${SECS}s" -c "$CONNS" --no-tui --output-format json "$URL" 2>/dev/null \
    | json_field "round(summary['requestsPerSec'], 1)"
}

start_listening hello_warp "$BARE" "127.0.0.1:$PORT"
URL="http://127.0.0.1:$listening_port/"

SHARD_COUNTS=${SHARD_COUNTS-"1 2 4"}
SHARD_RATE=${SHARD_RATE:-10000}
SHARD_SECS=${SHARD_SECS:-10}
shard_mode() {
  [ -n "$SHARD_COUNTS" ] || return 0
  local tmp n i threads at one_rps='' one_p99='' line
  tmp=$(mktemp -d)
  echo "shards: $SHARD_RATE req/s in total for ${SHARD_SECS}s from N processes (--shard I/N, one --start-at, --threads max(1, $THREADS/N)), reports merged (load average $(cut -d' ' -f1 /proc/loadavg))"
  for n in $SHARD_COUNTS; do
    threads=$((THREADS / n)); ((threads >= 1)) || threads=1
    at=$(date -u -d '+2 sec' +%FT%T.%NZ)
    local runs=()
    for i in $(seq 0 $((n - 1))); do
      local shard=(); ((n > 1)) && shard=(--shard "$i/$n")
      RUST_LOG=error "$LOADGEN" --target "$URL" --mix "GET /=1" --rate "$SHARD_RATE" \
        --duration "${SHARD_SECS}s" --threads "$threads" --seed 1 "${shard[@]}" --start-at "$at" \
        --progress off --output json >"$tmp/$n-$i.json" 2>/dev/null & runs+=($!)
    done
    wait "${runs[@]}"
    "$LOADGEN" merge --output json "$tmp/$n-"*.json >"$tmp/merged-$n.json" 2>/dev/null
    line=$(json_field "f\"{achieved_rps:.1f} {100 * achieved_rps / target_rps:.2f} {dropped} {latency_ms['p99']} {schedule_lag_ms['p99']}\"" <"$tmp/merged-$n.json")
    # shellcheck disable=SC2086 # the words of the line
    set -- $line
    echo "  $n shard(s): achieved $1 req/s ($2 % of target), dropped $3, p99 $4 ms, schedule lag p99 $5 ms"
    if [ -z "$one_rps" ]; then one_rps=$1; one_p99=$4; else
      echo "    vs one process: achieved $(ratio "$1" "$one_rps")x, p99 $(ratio "$4" "$one_p99")x"
    fi
  done
  python3 - "$tmp/1-0.json" <<'PY'
import json, os, sys
path = sys.argv[1]
d = json.load(open(path))
hist = [d["latency_histogram"], d.get("schedule_lag_histogram") or ""]
hist += [e["latency_histogram"] for e in d["endpoints"]]
ticks = [t["latency_histogram"] for t in d["timeline"]]
size = os.path.getsize(path)
print(f"  report of one process: {size} bytes, of which histograms {sum(map(len, hist))} bytes "
      f"(totals) + {sum(map(len, ticks))} bytes (timeline, {len(ticks)} seconds, "
      f"{sum(map(len, ticks)) / max(len(ticks), 1):.0f} bytes a second)")
PY
  mkdir "$tmp/hundred"
  for i in $(seq 1 100); do cp "$tmp/1-0.json" "$tmp/hundred/$i.json"; done
  if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs 10 --export-json "$tmp/merge.json" \
      "$LOADGEN merge --output json $tmp/hundred/*.json" >/dev/null 2>&1
    json_field "f\"  merge of 100 reports: {results[0]['mean'] * 1000:.0f} ms (hyperfine, 10 runs, sd {results[0]['stddev'] * 1000:.0f} ms)\"" <"$tmp/merge.json"
  else
    # The merge's own warnings (one a report) are not the figure.
    /usr/bin/time -f "  merge of 100 reports: %e s (/usr/bin/time; hyperfine not found)" \
      -o "$tmp/merge.time" "$LOADGEN" merge --output json "$tmp"/hundred/*.json >/dev/null 2>&1
    cat "$tmp/merge.time"
  fi
  rm -rf "$tmp"
}
H2_CONNS=${H2_CONNS-$THREADS}
h2_mode() {
  [ -n "$H2_CONNS" ] || return 0
  local streams=$((CONNS / H2_CONNS)) lg_h2 oha_h2 lg_h1
  echo "HTTP/2 (h2c), closed model: $CONNS workers on $H2_CONNS connections, ${SECS}s, one run each (load average $(cut -d' ' -f1 /proc/loadavg))"
  lg_h2=$(RUST_LOG=warn "$LOADGEN" --target "$URL" --mix "GET /=1" --http2 --concurrency "$CONNS" \
    --connections "$H2_CONNS" --threads "$THREADS" --duration "${SECS}s" --progress off \
    --output json 2>/dev/null | json_field "f\"{achieved_rps} {protocol}\"")
  echo "  obslab-loadgen --http2 --concurrency $CONNS --connections $H2_CONNS: ${lg_h2% *} req/s (${lg_h2#* })"
  lg_h2=${lg_h2% *}
  lg_h1=$(loadgen_rps)
  echo "  obslab-loadgen over HTTP/1.1, --concurrency $CONNS ($CONNS connections): $lg_h1 req/s"
  echo "  ratio HTTP/2 / HTTP/1.1 (obslab-loadgen): $(ratio "$lg_h2" "$lg_h1")x"
  if [ "$have_oha" = 1 ]; then
    oha_h2=$(oha -z "${SECS}s" --http2 -c "$H2_CONNS" -p "$streams" --no-tui --output-format json "$URL" 2>/dev/null \
      | json_field "round(summary['requestsPerSec'], 1)")
    echo "  oha --http2 -c $H2_CONNS -p $streams: $oha_h2 req/s"
    echo "  ratio obslab-loadgen / oha over HTTP/2: $(ratio "$lg_h2" "$oha_h2")x"
  else
    echo "  oha not found: cargo install oha, then run again for the oha ratio"
  fi
}
if [ "${H2_ONLY:-0}" = 1 ]; then
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  h2_mode
  exit 0
fi
if [ "${SHARD_ONLY:-0}" = 1 ]; then
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  shard_mode
  exit 0
fi

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$OPEN_ONLY" != 1 ]; then
echo "closed model: $CONNS connections, ${SECS}s per run, $ROUNDS rounds, alternating; obslab-loadgen --threads $THREADS"
if [ -n "$BEFORE" ]; then echo "before: $BEFORE (goes first in even rounds)"; fi
lg_runs=(); before_runs=(); wrk_runs=(); oha_runs=()
for r in $(seq 1 "$ROUNDS"); do
  if [ -n "$BEFORE" ] && [ $((r % 2)) = 0 ]; then
    before_runs+=("$(loadgen_rps "$BEFORE")")
    lg_runs+=("$(loadgen_rps)")
  else
    lg_runs+=("$(loadgen_rps)")
    if [ -n "$BEFORE" ]; then before_runs+=("$(loadgen_rps "$BEFORE")"); fi
  fi
  line="round $r: obslab-loadgen ${lg_runs[-1]} req/s"
  if [ -n "$BEFORE" ]; then line="$line, before ${before_runs[-1]} req/s"; fi
  wrk_runs+=("$(wrk_rps)")
  line="$line, wrk -t1 ${wrk_runs[-1]} req/s"
  if [ "$have_oha" = 1 ]; then
    oha_runs+=("$(oha_rps)")
    line="$line, oha ${oha_runs[-1]} req/s"
  fi
  echo "$line"
done
# CPU time (user + sys, kernel networking included) for the same fixed
# number of requests: what each tool takes from a machine it shares.
if [ -x /usr/bin/time ]; then
  CPU_REQUESTS=${CPU_REQUESTS:-300000}
  cpu_us() { # command... -> microseconds of CPU per request
    /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 \
      | awk -v n="$CPU_REQUESTS" '{printf "%.2f", ($1 + $2) * 1e6 / n}'
  }
  loadgen_cpu() { # binary -> microseconds of CPU per request
    RUST_LOG=warn cpu_us "$1" --target "$URL" --mix "GET /=1" --concurrency "$CONNS" \
      --threads "$THREADS" --requests "$CPU_REQUESTS" --progress off --output json
  }
  lg_cpu=$(loadgen_cpu "$LOADGEN")
  line="CPU per request ($CPU_REQUESTS requests, $CONNS connections): obslab-loadgen $lg_cpu us"
  if [ -n "$BEFORE" ]; then
    before_cpu=$(loadgen_cpu "$BEFORE")
    line="$line, before $before_cpu us; ratio new / before $(ratio "$lg_cpu" "$before_cpu")x (below 1: less CPU)"
  fi
  if [ "$have_oha" = 1 ]; then
    oha_cpu=$(cpu_us oha -n "$CPU_REQUESTS" -c "$CONNS" --no-tui "$URL")
    line="$line, oha $oha_cpu us; ratio oha / obslab-loadgen $(ratio "$oha_cpu" "$lg_cpu")x"
  fi
  echo "$line"
fi
lg=$(median_of "${lg_runs[@]}")
wrk_med=$(median_of "${wrk_runs[@]}")
echo "closed model (medians): obslab-loadgen $lg req/s; wrk -t1 $wrk_med req/s; ratio vs wrk -t1 $(ratio "$lg" "$wrk_med")x (target >= 0.85x)"
if [ -n "$BEFORE" ]; then
  before_med=$(median_of "${before_runs[@]}")
  echo "closed model (medians): obslab-loadgen $lg req/s; before $before_med req/s; ratio new / before $(ratio "$lg" "$before_med")x"
fi
if [ "$have_oha" = 1 ]; then
  oha_med=$(median_of "${oha_runs[@]}")
  echo "closed model (medians): oha $oha_med req/s; ratio vs oha $(ratio "$lg" "$oha_med")x (target >= 1.0x)"
else
  echo "oha not found: cargo install oha, then run again for the oha ratio"
fi

fi

for rate in 1000 10000; do
  RUST_LOG=warn "$LOADGEN" --target "$URL" --mix "GET /=1" --rate "$rate" --duration "${SECS}s" \
    --progress off --output json 2>/dev/null >"$bench_tmp/open.json"
  json_field "f\"open model at $rate req/s: achieved {achieved_rps:.1f} req/s ({100 * achieved_rps / target_rps:.2f} % of target), sent {requests}, dropped {dropped}, no answer {sum(errors.values())}, p50 {latency_ms['p50']} ms, p99 {latency_ms['p99']} ms, max {latency_ms['max']} ms\"" \
    <"$bench_tmp/open.json"
done

# The open model at full speed, vs oha timing from the intended send too.
OPEN_RATES=${OPEN_RATES-"20000 25000"}
OPEN_SECS=${OPEN_SECS:-8}
OHA_CONNS=${OHA_CONNS:-200}
open_tmp=$(mktemp -d)
open_run() { # tool rate -> "sent_% dropped p99_ms cpu_us_per_request lag_p99_ms p99_from_intended_ms"
  local tool=$1 rate=$2 out="$open_tmp/out.json" cpu="$open_tmp/cpu" db="$open_tmp/oha.db"
  if [ "$tool" = oha ]; then
    /usr/bin/time -f "%U %S" -o "$cpu" oha -z "${OPEN_SECS}s" -q "$rate" -c "$OHA_CONNS" \
      --latency-correction --no-tui --output-format json "$URL" >"$out" 2>/dev/null
    # Again with every request stored (its CPU is not counted: storing
    # costs oha after the run): the times its p99 leaves out.
    rm -f "$db"
    oha -z "${OPEN_SECS}s" -q "$rate" -c "$OHA_CONNS" --latency-correction --no-tui \
      --output-format json --db-url "$db" "$URL" >"$out.db.json" 2>/dev/null
  else
    RUST_LOG=error /usr/bin/time -f "%U %S" -o "$cpu" "$tool" --target "$URL" --mix "GET /=1" \
      --rate "$rate" --duration "${OPEN_SECS}s" --threads "$THREADS" --progress off \
      --output json >"$out" 2>/dev/null
  fi
  python3 - "$tool" "$rate" "$OPEN_SECS" "$out" "$cpu" "$db" <<'PY'
import json, sqlite3, sys
tool, rate, secs, out, cpu, db = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), *sys.argv[4:]
d = json.load(open(out))
user, system = map(float, open(cpu).read().split()[-2:])
def pct(values, q):
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]
if tool == "oha":
    sent = sum(d["statusCodeDistribution"].values()) + sum(d["errorDistribution"].values())
    pct_sent, dropped, p99 = 100 * sent / (rate * secs), 0, 1000 * d["latencyPercentiles"]["p99"]
    # Request i of the pacer was due at start + i/R; its stamp is when the
    # pacer woke for it. Only answered requests are stored: an error would
    # make the numbering slip, so then there is no figure; but the few
    # requests oha cuts at the deadline ("aborted due to deadline") are the
    # last ones, after every stored request but a millisecond's worth.
    stored = json.load(open(out + ".db.json"))
    rows = sqlite3.connect(db).execute(
        "SELECT start_latency_correction, end FROM oha ORDER BY start_latency_correction").fetchall()
    errors = {k: v for k, v in stored["errorDistribution"].items() if k != "aborted due to deadline"}
    if rows and not errors:
        lag = f"{pct([s - i / rate for i, (s, _) in enumerate(rows)], 0.99):.3f}"
        intended = f"{pct([e - i / rate for i, (_, e) in enumerate(rows)], 0.99):.3f}"
    else:
        lag = intended = "-"
else:
    sent, pct_sent, dropped = d["requests"], 100 * d["achieved_rps"] / d["target_rps"], d["dropped"]
    p99, lag = d["latency_ms"]["p99"], d.get("schedule_lag_ms", {}).get("p99", "-")
    intended = f"{p99:.3f}"
print(f"{pct_sent:.2f} {dropped} {p99:.3f} {(user + system) * 1e6 / max(sent, 1):.2f} {lag} {intended}")
PY
}
open_line() { # label "sent_% dropped p99 cpu lag p99_from_intended"
  # shellcheck disable=SC2086 # the words of the line
  set -- "$1" $2
  echo "    $1: sent $2 %, dropped $3, p99 $4 ms, CPU $5 us/request, schedule lag p99 $6 ms, p99 from the intended instant $7 ms"
}
col() { cut -d' ' -f"$1" | median; }
for rate in $OPEN_RATES; do
  [ "$have_oha" = 1 ] || { echo "oha not found: no open-model table"; break; }
  echo "open model vs oha -q $rate -c $OHA_CONNS --latency-correction, ${OPEN_SECS}s, $ROUNDS rounds alternating (load average $(cut -d' ' -f1 /proc/loadavg))"
  lg=(); oh=(); bf=()
  for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
      lg+=("$(open_run "$LOADGEN" "$rate")"); oh+=("$(open_run oha "$rate")")
    else
      oh+=("$(open_run oha "$rate")"); lg+=("$(open_run "$LOADGEN" "$rate")")
    fi
    if [ -n "$BEFORE" ]; then bf+=("$(open_run "$BEFORE" "$rate")"); fi
    echo "  round $r:"
    open_line obslab-loadgen "${lg[-1]}"
    if [ -n "$BEFORE" ]; then open_line before "${bf[-1]}"; fi
    open_line oha "${oh[-1]}"
  done
  # Medians of the numeric columns; a column with "-" takes its middle value.
  med() {
    local i
    for i in 1 2 3 4 5 6; do
      if printf '%s\n' "$@" | cut -d' ' -f"$i" | grep -q -- '^-$'; then
        printf '%s ' "$(printf '%s\n' "$@" | cut -d' ' -f"$i" | sort -n | sed -n "$(( ($# + 1) / 2 ))p")"
      else
        printf '%s ' "$(printf '%s\n' "$@" | col "$i")"
      fi
    done
    echo
  }
  lgm=$(med "${lg[@]}"); ohm=$(med "${oh[@]}")
  echo "  medians at $rate req/s:"
  open_line obslab-loadgen "$lgm"
  if [ -n "$BEFORE" ]; then open_line before "$(med "${bf[@]}")"; fi
  open_line oha "$ohm"
  # shellcheck disable=SC2086 # the columns of the medians
  set -- $lgm; lg_p99=$3; lg_cpu=$4; lg_int=$6
  # shellcheck disable=SC2086
  set -- $ohm
  echo "  ratios obslab-loadgen / oha: p99 as each reports it $(ratio "$lg_p99" "$3")x (target <= 1.5x), CPU per request $(ratio "$lg_cpu" "$4")x (target <= 1.0x)"
  if [ "$6" != - ]; then
    echo "  like for like, p99 from the intended instant: $(ratio "$lg_int" "$6")x"
  fi
done
rm -rf "$open_tmp"
[ "$OPEN_ONLY" = 1 ] && exit 0
shard_mode
h2_mode

if [ "$LONG" = 1 ]; then early=60; late=300; else early=10; late=60; fi
RUST_LOG=warn "$LOADGEN" --target "$URL" --mix "GET /=1" --rate 1000 --duration "$((late + 5))s" \
  --progress off >/dev/null 2>&1 &
lgpid=$!; pids+=("$lgpid")
sleep "$early"; rss_early=$(rss_kib "$lgpid")
sleep "$((late - early))"; rss_late=$(rss_kib "$lgpid")
wait "$lgpid" || true
growth=$(python3 -c "import sys; a, b = map(int, sys.argv[1:]); print(f'{100 * (b - a) / a:+.1f}')" "$rss_early" "$rss_late")
echo "memory at 1000 req/s: RSS ${rss_early} KiB at ${early}s, ${rss_late} KiB at ${late}s (${growth} %, target < 10 %)"

if ! command -v valgrind >/dev/null; then
  echo "valgrind not found: apt-get install valgrind, then run again for instructions per request"
  exit 0
fi
N=${CALLGRIND_REQUESTS:-20000}
instructions() { # command... -> total instructions executed
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
    | awk '/Collected :/ {print $NF}'
}
per_request() { # command for N requests, command for 2N requests
  local one two
  one=$(eval "instructions $1"); two=$(eval "instructions $2")
  python3 -c "import sys; print(round((int(sys.argv[2]) - int(sys.argv[1])) / int(sys.argv[3])))" "$one" "$two" "$N"
}
lg_cmd() { echo "${2:-$LOADGEN} --target $URL --mix 'GET /=1' --concurrency 10 --threads 1 --requests $1 --progress off --output json"; }
lg_ipr=$(per_request "$(lg_cmd "$N")" "$(lg_cmd "$((2 * N))")")
line="instructions per request (callgrind, 10 connections, marginal over $N requests): obslab-loadgen $lg_ipr"
if [ -n "$BEFORE" ]; then
  before_ipr=$(per_request "$(lg_cmd "$N" "$BEFORE")" "$(lg_cmd "$((2 * N))" "$BEFORE")")
  line="$line, before $before_ipr; ratio new / before $(ratio "$lg_ipr" "$before_ipr")x (below 1: fewer)"
fi
if [ "$have_oha" = 1 ]; then
  oha_cmd() { echo "oha -n $1 -c 10 --no-tui $URL"; }
  oha_ipr=$(per_request "$(oha_cmd "$N")" "$(oha_cmd "$((2 * N))")")
  line="$line, oha $oha_ipr; ratio oha / obslab-loadgen $(ratio "$oha_ipr" "$lg_ipr")x (above 1: less CPU than oha)"
fi
echo "$line"
