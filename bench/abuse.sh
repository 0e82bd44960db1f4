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
# Needs: wrk (Debian package), python3; raises `ulimit -n` to its hard
# limit, which must exceed IDLE + a few dozen.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SLOWLORIS=${SLOWLORIS:-1000}
IDLE=${IDLE:-10000}
HEADER_TIMEOUT=${HEADER_TIMEOUT:-10}
PROBE_SECS=${PROBE_SECS:-5}
PROBE_CONNS=${PROBE_CONNS:-2}
PORT=${PORT:-18090}
PROFILE=${PROFILE:-release}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
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

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on $PORT" >&2; exit 1
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
start_server() {
  RUST_LOG=warn "$BIN" --listen "127.0.0.1:$PORT" --home-error-rate 0 \
    --header-read-timeout "${HEADER_TIMEOUT}s" &
  server=$!; pids+=("$server")
  wait_port
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; }

# The probe: wrk on /livez; `parse_wrk` turns its report into "requests p99_ms".
PROBE=(wrk -t1 -c"$PROBE_CONNS" -d"${PROBE_SECS}s" --latency "http://127.0.0.1:$PORT/livez")
parse_wrk() {
  awk '/ requests in / { n = $1 }
       $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                     p = v * (u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1) }
       END { print n, p }'
}

# The attackers and the idle clients, in one asyncio program.
abuse_py=$(cat <<'PY'
import asyncio, os, resource, subprocess, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
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

async def idle(n, pid):
    sem = asyncio.Semaphore(256)
    async def one():
        async with sem:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /livez HTTP/1.1\r\nHost: bench\r\n\r\n")
            head = await r.readuntil(b"\r\n\r\n")
            length = int(next(l.split(b":")[1] for l in head.split(b"\r\n")
                              if l.lower().startswith(b"content-length")))
            await r.readexactly(length)
            return w
    writers = await asyncio.gather(*(one() for _ in range(n)))
    def rss():
        return int(next(l.split()[1] for l in open(f"/proc/{pid}/status")
                        if l.startswith("VmRSS:")))
    last = 0
    while abs(rss() - last) > last / 200:
        last = rss()
        await asyncio.sleep(0.5)
    print(f"{rss() / 1024:.1f}")
    for w in writers:
        w.close()

if mode == "slowloris":
    n, timeout = int(sys.argv[3]), float(sys.argv[4])
    asyncio.run(slowloris(n, timeout, sys.argv[5:]))
else:
    asyncio.run(idle(int(sys.argv[3]), sys.argv[4]))
PY
)

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $PROFILE build; ulimit -n $(ulimit -n)"
echo "probe: wrk -t1 -c$PROBE_CONNS -d${PROBE_SECS}s --latency /livez; $SLOWLORIS slowloris (1 header byte/s), --header-read-timeout ${HEADER_TIMEOUT}s; $IDLE idle keep-alive connections"
alone_n=(); alone_p99=(); under_n=(); under_p99=(); held=(); rss=(); rss0=()
for r in $(seq 1 "$ROUNDS"); do
  start_server
  read -r n p99 <<<"$("${PROBE[@]}" | parse_wrk)"
  alone_n+=("$n"); alone_p99+=("$p99")
  out=$(python3 -c "$abuse_py" slowloris "$PORT" "$SLOWLORIS" "$HEADER_TIMEOUT" "${PROBE[@]}")
  read -r at_probe after_probe still <<<"$(head -n 1 <<<"$out")"
  read -r n p99 <<<"$(tail -n +2 <<<"$out" | parse_wrk)"
  under_n+=("$n"); under_p99+=("$p99"); held+=("$still")
  rss0+=("$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$server/status")")
  rss+=("$(python3 -c "$abuse_py" idle "$PORT" "$IDLE" "$server")")
  stop_server
  echo "round $r: probe alone ${alone_n[-1]} req, p99 ${alone_p99[-1]} ms;" \
    "under $SLOWLORIS slowloris ${under_n[-1]} req, p99 ${under_p99[-1]} ms" \
    "(slowloris held: $at_probe before the probe, $after_probe after it);" \
    "held ${HEADER_TIMEOUT}+2 s after they began: ${held[-1]};" \
    "RSS ${rss0[-1]} MiB, with $IDLE idle connections ${rss[-1]} MiB"
done

m() { printf '%s\n' "$@" | median; }
echo
echo "median over $ROUNDS rounds:"
echo "  probe alone:                  $(m "${alone_n[@]}") requests in ${PROBE_SECS} s, p99 $(m "${alone_p99[@]}") ms"
echo "  probe under $SLOWLORIS slowloris:   $(m "${under_n[@]}") requests in ${PROBE_SECS} s, p99 $(m "${under_p99[@]}") ms"
echo "  slowloris held ${HEADER_TIMEOUT} s + 2 s after they began: $(m "${held[@]}") of $SLOWLORIS"
echo "  server RSS: $(m "${rss0[@]}") MiB after the slowloris, $(m "${rss[@]}") MiB with $IDLE idle connections open"
