# shellcheck shell=bash
# Shared harness of the end-to-end scripts (sourced, not run): messages, a
# work directory removed on exit, background processes killed on exit (their
# logs printed on failure), polling with deadlines, free loopback ports.
#
#   e2e_init NAME     creates $work (kept with E2E_KEEP=1) and the exit trap
#   start NAME CMD... runs CMD in the background, output to $work/NAME.log
#   stop_last         stops the process started last
#   wait_until SECONDS WHAT CMD...   polls CMD until it succeeds (E2E_POLL s)
#   free_port         a free TCP port on 127.0.0.1
#   find_binaries     sets $bin: OBSLAB_BIN_DIR, else a cargo build (OBSLAB_E2E_PROFILE)

say() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }
die() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

# require TOOL...: fails naming the first tool missing from PATH.
require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install prometheus curl python3)"
    done
}

e2e_init() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/obslab-$1.XXXXXX")
    pids=()
    names=()
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM
}

e2e_cleanup() {
    local status=$? pid log
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if ((status != 0)); then
        for log in "$work"/*.log; do
            [[ -f $log ]] || continue
            printf '\n---- last lines of %s\n' "${log##*/}" >&2
            tail -n 20 "$log" >&2
        done
    fi
    if [[ ${E2E_KEEP:-0} == 1 ]]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}

start() {
    local name=$1
    shift
    "$@" >"$work/$name.log" 2>&1 &
    pids+=("$!")
    names+=("$name")
}

stop_last() {
    local keys=("${!pids[@]}")
    local i=${keys[-1]}
    kill "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
    unset "pids[$i]" "names[$i]"
}

# Fails at once when a process started here has exited.
all_alive() {
    local i
    for i in "${!pids[@]}"; do
        kill -0 "${pids[$i]}" 2>/dev/null || die "${names[$i]} exited (see ${names[$i]}.log below)"
    done
}

wait_until() {
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        all_alive
        ((SECONDS < deadline)) || die "timed out waiting for $what"
        sleep "${E2E_POLL:-1}"
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Needs $root, the repository (set by the sourcing script).
find_binaries() {
    if [[ -n ${OBSLAB_BIN_DIR:-} ]]; then
        bin=$OBSLAB_BIN_DIR
    else
        local profile=${OBSLAB_E2E_PROFILE:-debug} flags=()
        say "building obslab-server and obslab-loadgen ($profile)"
        [[ $profile == release ]] && flags=(--release)
        (cd "${root:?}" && cargo build --quiet "${flags[@]}" -p obslab-server -p obslab-loadgen)
        bin=${CARGO_TARGET_DIR:-$root/target}/$profile
    fi
    [[ -x $bin/obslab-server && -x $bin/obslab-loadgen ]] || die "no binaries in $bin"
}
