# shellcheck shell=bash
# Shell helpers of the container, systemd and image-archive checks
# (containers.sh, lab-images.sh, systemd-unit.sh; sourced, not run): messages,
# a work directory removed on exit, background processes killed on exit (their
# logs printed on failure), polling with deadlines, free loopback ports. The
# labs on 127.0.0.1 of the other e2e checks are tests/harness/lab.py's `Lab`;
# what needs more than shell (HTTP APIs, PromQL, JSON) is in tests/harness/,
# reached with `harness ARGS` or the scripts beside this one.
#
#   say / die MESSAGE  a step heading / a failure (exit 1)
#   require TOOL...    fails naming the first tool missing from PATH
#   e2e_init NAME      creates $work (kept with E2E_KEEP=1) and the exit trap
#   on_exit FUNCTION   FUNCTION runs first on exit, $e2e_status set (0 = success)
#   start NAME CMD...  runs CMD in the background, output to $work/NAME.log
#   stop_last          stops the process started last
#   wait_until SECONDS WHAT CMD...   polls CMD until it succeeds (E2E_POLL s)
#   free_port          a free TCP port on 127.0.0.1
#   find_binaries [BIN...]   sets $bin: OBSLAB_BIN_DIR, else a cargo build
#                      (OBSLAB_E2E_PROFILE) of BIN... (default: server, loadgen;
#                      `obslab` builds the package obslab-lab)
#   elapsed_since T    seconds since $EPOCHREALTIME was T, one decimal
#   harness ARGS...    python3 -m harness ARGS (tests/harness/__main__.py)
#
# Environment: E2E_KEEP=1 keeps $work; E2E_POLL (default 1) is the polling
# period; E2E_LOG_LINES (default 20) the lines of each log shown on failure.

e2e_tests=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }
# To the script's stderr even from a check whose output wait_until hides.
die() { printf '\nFAILED: %s\n' "$*" >&"${e2e_stderr:-2}"; exit 1; }

require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install prometheus curl python3)"
    done
}

harness() {
    PYTHONPATH="$e2e_tests${PYTHONPATH:+:$PYTHONPATH}" python3 -m harness "$@"
}

e2e_init() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/obslab-$1.XXXXXX")
    pids=()
    names=()
    e2e_hooks=()
    # The script's own outputs, for messages from inside checks whose
    # output wait_until hides (and for the cleanup that follows them).
    exec {e2e_stdout}>&1 {e2e_stderr}>&2
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM
}

on_exit() {
    e2e_hooks+=("$1")
}

e2e_cleanup() {
    local status=$? pid log hook
    e2e_status=$status
    exec >&"$e2e_stdout" 2>&"$e2e_stderr"
    for hook in "${e2e_hooks[@]}"; do
        "$hook" || true
    done
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
            tail -n "${E2E_LOG_LINES:-20}" "$log" >&2
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
    local limit=$1 deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        all_alive
        ((SECONDS < deadline)) || die "timed out after $limit s waiting for $what"
        sleep "${E2E_POLL:-1}"
    done
}

free_port() {
    harness free-port
}

elapsed_since() {
    awk -v t0="$1" -v t1="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", t1 - t0 }'
}

# Needs $root, the repository (set by the sourcing script).
find_binaries() {
    local wanted=("$@") want
    ((${#wanted[@]})) || wanted=(obslab-server obslab-loadgen)
    if [[ -n ${OBSLAB_BIN_DIR:-} ]]; then
        bin=$OBSLAB_BIN_DIR
    else
        local profile=${OBSLAB_E2E_PROFILE:-debug} flags=()
        say "building ${wanted[*]} ($profile)"
        [[ $profile == release ]] && flags=(--release)
        for want in "${wanted[@]}"; do
            # `obslab` is the binary of the package obslab-lab.
            [[ $want == obslab ]] && want=obslab-lab
            flags+=(-p "$want")
        done
        (cd "${root:?}" && cargo build --quiet "${flags[@]}")
        bin=${CARGO_TARGET_DIR:-$root/target}/$profile
    fi
    for want in "${wanted[@]}"; do
        [[ -x $bin/$want ]] || die "no $want in $bin"
    done
}
