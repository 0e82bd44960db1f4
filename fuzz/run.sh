#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS (default 20) from the committed
# corpus, prints the executions of each, and exits 1 on a crash, printing
# the input that crashed.
#
#   fuzz/run.sh [SECONDS]          every target
#   TARGETS="mix merge" fuzz/run.sh 60
#
# The targets are libFuzzer binaries built with the flags that
# `cargo fuzz build --sanitizer none` uses. Those flags are stable rustc
# options (-Cpasses=sancov-module, -Cllvm-args=...), so plain cargo on the
# machine's one stable toolchain builds them, without nightly and without
# installing cargo-fuzz (which takes minutes to build from source). No
# sanitizer: the workspace forbids unsafe code, so what is looked for is
# panics (failed contract assertions, overflows, slicing, unwraps).
# `cargo fuzz run --sanitizer none TARGET` runs the same targets by hand.
#
# Each run works on a copy of the corpus in a temporary directory, so what
# the fuzzer learns does not grow the repository; a crash's input is kept
# under fuzz/artifacts/TARGET/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
triple=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
bin_dir=$target_dir/$triple/release
targets=${TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | tail -n +2)}

echo "building the fuzz targets ($(rustc --version))"
RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Cllvm-args=-sanitizer-coverage-stack-depth \
-Cdebug-assertions" \
    CARGO_TARGET_DIR=$target_dir \
    cargo build --release --locked --target "$triple" \
    --config 'profile.release.debug="line-tables-only"' --bins

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for t in $targets; do
    mkdir -p "$work/$t" "artifacts/$t"
    cp -r "corpus/$t/." "$work/$t/"
    log=$work/$t.log
    status=0
    "$bin_dir/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        "$work/$t" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    printf '%-18s %10s executions in %ss\n' "$t" "${execs:-?}" "$seconds"
    if ((status != 0)); then
        failed+=("$t")
        grep -E 'panicked at|^==[0-9]+== ERROR|Test unit written to' "$log" >&2 || tail -n 30 "$log" >&2
        echo "$t: crash; input: $(sed -n 's/.*Test unit written to //p' "$log")" >&2
    fi
done
if ((${#failed[@]})); then
    echo "fuzz: ${#failed[@]} target(s) crashed: ${failed[*]}" >&2
    exit 1
fi
