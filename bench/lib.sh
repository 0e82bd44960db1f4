# shellcheck shell=bash
# What the benchmark scripts share; sourced by bench/*.sh after `cd` to the
# repository's root. Not a script of its own.
#
# Every process a script starts joins `pids` and is stopped on exit, with
# the temporary directory `bench_tmp` (the servers' logs). Servers listen on
# the port their script's option gives, by default 0: `start_listening`
# reads the port the system picked back from the line the server logs once
# bound. `listening_port` and `HOLD` are for the scripts that source this.
# shellcheck disable=SC2034

pids=()
bench_tmp=$(mktemp -d)
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$bench_tmp"
}
trap cleanup EXIT

# need COMMAND HOW: exit 2 naming how to install COMMAND when it is missing.
need() {
  command -v "$1" >/dev/null || { echo "$1 is missing: $2" >&2; exit 2; }
}

# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The median of the arguments.
median_of() { printf '%s\n' "$@" | median; }

# rss_kib PID, rss_mib PID: the resident memory of PID now.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# start_listening NAME COMMAND...: starts COMMAND in the background, its
# stdout and stderr to $bench_tmp/NAME.log, and waits (10 s at most) for
# the address it says it listens on: obslab-server's ready line
# (`listen=127.0.0.1:PORT`, text log format) or hello_warp's (`listening on
# 127.0.0.1:PORT`). Sets `listening_pid` and `listening_port`; exits 1 with
# the log when the process ends or says nothing by then.
start_listening() {
  local name=$1 log="$bench_tmp/$1.log" addr=
  shift
  "$@" >"$log" 2>&1 &
  listening_pid=$!
  pids+=("$listening_pid")
  for _ in $(seq 1 200); do
    addr=$(sed -nE 's/.*(listen=|listening on )(127\.0\.0\.1:[0-9]+).*/\2/p' "$log" | head -n 1)
    if [ -n "$addr" ]; then listening_port=${addr##*:}; return 0; fi
    kill -0 "$listening_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not say where it listens; its log:" >&2
  cat "$log" >&2
  exit 1
}

# stop_process PID: stops PID, waits for it and drops it from `pids`.
stop_process() {
  local p kept=()
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  pids=("${kept[@]}")
}

# The command that holds connections open and prints a server's RSS.
HOLD=(python3 bench/hold.py)
