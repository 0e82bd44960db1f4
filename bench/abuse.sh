#!/usr/bin/env bash
# Tries obslab-server as an attacker would, on this machine, in this run;
# prints figures (medians of ROUNDS rounds), never pass/fail.
#
#   bench/abuse.sh                     # 3 rounds, 1,000 slowloris, 10,000 idle
#   ROUNDS=5 SLOWLORIS=2000 bench/abuse.sh
#   PROFILE=debug ROUNDS=1 SLOWLORIS=50 IDLE=500 bench/abuse.sh   # a smoke run
#
# Each round, on a fresh server with the default limits:
#   1. a probe (wrk, PROBE_CONNS keep-alive connections, PROBE_SECS) alone:
#      requests served and p99;
#   2. SLOWLORIS connections each send a request line, then one header byte
#      a second, never the end of the head; while they are all open, the
#      same probe again;
#   3. HEADER_TIMEOUT + 2 s after the last one began: how many are still
#      held (the client's view: no end of file or reset seen);
#   4. IDLE connections each send one request, read the answer and stay
#      open, idle (keep-alive): the server's RSS then.
#
# The server listens on port 0 (PORT: a fixed port instead), the port read
# back from its log.
#
# Needs: wrk (Debian package), python3 (bench/hold.py); raises `ulimit -n` to its hard
# limit, which must exceed IDLE + a few dozen.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SLOWLORIS=${SLOWLORIS:-1000}
IDLE=${IDLE:-10000}
HEADER_TIMEOUT=${HEADER_TIMEOUT:-10}
PROBE_SECS=${PROBE_SECS:-5}
PROBE_CONNS=${PROBE_CONNS:-2}
PORT=${PORT:-0}
PROFILE=${PROFILE:-release}
# shellcheck source=bench/lib.sh
. bench/lib.sh

need wrk "apt-get install wrk"
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < IDLE + 64 )); then
  echo "ulimit -n is $(ulimit -n): too low for $IDLE idle connections" >&2; exit 2
fi
if [[ $PROFILE == release ]]; then
  cargo build --release -q -p obslab-server --bin obslab-server
else
  cargo build -q -p obslab-server --bin obslab-server
fi
BIN=${CARGO_TARGET_DIR:-target}/$PROFILE/obslab-server

# A fresh server each round, on PORT (by default one the system picks:
# `port` is the one it got); RUST_LOG keeps its ready line, nothing per
# request.
start_server() {
  start_listening obslab-server env RUST_LOG=warn,obslab_server=info "$BIN" --log-format text \
    --listen "127.0.0.1:$PORT" --home-error-rate 0 --header-read-timeout "${HEADER_TIMEOUT}s"
  server=$listening_pid; port=$listening_port
  PROBE=(wrk -t1 -c"$PROBE_CONNS" -d"${PROBE_SECS}s" --latency "http://127.0.0.1:$port/livez")
}

# The probe, PROBE: wrk on /livez; `parse_wrk` turns its report into
# "requests p99_ms".
parse_wrk() {
  awk '/ requests in / { n = $1 }
       $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                     p = v * (u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1) }
       END { print n, p }'
}

# The attackers, in one asyncio program (bench/hold.py holds the idle
# clients).
abuse_py=$(cat <<'PY'
import asyncio, resource, subprocess, sys, time
port = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

async def connect(sem):
    async with sem:
        return await asyncio.open_connection("127.0.0.1", port)

async def slowloris(n, timeout, probe):
    sem = asyncio.Semaphore(256)
    conns = await asyncio.gather(*(connect(sem) for _ in range(n)))
    for _, w in conns:
        w.write(b"GET / HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
    begun = time.monotonic()
    closed = [False] * n
    async def watch(i, r):
        try:
            await r.read()          # end of file: the server closed it
        except OSError:
            pass
        closed[i] = True
    watchers = [asyncio.create_task(watch(i, r)) for i, (r, _) in enumerate(conns)]
    async def dribble():
        while True:
            await asyncio.sleep(1)
            for i, (_, w) in enumerate(conns):
                if not closed[i]:
                    try:
                        w.write(b"a")
                    except OSError:
                        pass
    dribbler = asyncio.create_task(dribble())
    # The probe runs in its own process, while every attacker is held.
    held_at_probe = n - sum(closed)
    out = await asyncio.create_subprocess_exec(*probe, stdout=subprocess.PIPE)
    report = (await out.communicate())[0].decode()
    held_after_probe = n - sum(closed)
    await asyncio.sleep(max(0.0, begun + timeout + 2 - time.monotonic()))
    held = n - sum(closed)
    dribbler.cancel()
    for w in watchers:
        w.cancel()
    print(held_at_probe, held_after_probe, held)
    print(report)

n, timeout = int(sys.argv[2]), float(sys.argv[3])
asyncio.run(slowloris(n, timeout, sys.argv[4:]))
PY
)

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $PROFILE build; ulimit -n $(ulimit -n)"
echo "probe: wrk -t1 -c$PROBE_CONNS -d${PROBE_SECS}s --latency /livez; $SLOWLORIS slowloris (1 header byte/s), --header-read-timeout ${HEADER_TIMEOUT}s; $IDLE idle keep-alive connections"
alone_n=(); alone_p99=(); under_n=(); under_p99=(); held=(); rss=(); rss0=()
for r in $(seq 1 "$ROUNDS"); do
  start_server
  read -r n p99 <<<"$("${PROBE[@]}" | parse_wrk)"
  alone_n+=("$n"); alone_p99+=("$p99")
  out=$(python3 -c "$abuse_py" "$port" "$SLOWLORIS" "$HEADER_TIMEOUT" "${PROBE[@]}")
  read -r at_probe after_probe still <<<"$(head -n 1 <<<"$out")"
  read -r n p99 <<<"$(tail -n +2 <<<"$out" | parse_wrk)"
  under_n+=("$n"); under_p99+=("$p99"); held+=("$still")
  rss0+=("$(rss_mib "$server")")
  rss+=("$("${HOLD[@]}" "$port" "$server" "$IDLE" /livez --answered)")
  stop_process "$server"
  echo "round $r: probe alone ${alone_n[-1]} req, p99 ${alone_p99[-1]} ms;" \
    "under $SLOWLORIS slowloris ${under_n[-1]} req, p99 ${under_p99[-1]} ms" \
    "(slowloris held: $at_probe before the probe, $after_probe after it);" \
    "held ${HEADER_TIMEOUT}+2 s after they began: ${held[-1]};" \
    "RSS ${rss0[-1]} MiB, with $IDLE idle connections ${rss[-1]} MiB"
done

m() { median_of "$@"; }
echo
echo "median over $ROUNDS rounds:"
echo "  probe alone:                  $(m "${alone_n[@]}") requests in ${PROBE_SECS} s, p99 $(m "${alone_p99[@]}") ms"
echo "  probe under $SLOWLORIS slowloris:   $(m "${under_n[@]}") requests in ${PROBE_SECS} s, p99 $(m "${under_p99[@]}") ms"
echo "  slowloris held ${HEADER_TIMEOUT} s + 2 s after they began: $(m "${held[@]}") of $SLOWLORIS"
echo "  server RSS: $(m "${rss0[@]}") MiB after the slowloris, $(m "${rss[@]}") MiB with $IDLE idle connections open"
