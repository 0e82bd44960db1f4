//! The one integration test binary of obslab-loadgen (one link step).
//!
//! Everything runs on real sockets on 127.0.0.1:0. Pacing is checked through
//! the pure schedule, and runs assert exact counts or generous statistical
//! bounds, never wall-clock timings.

mod docs_options;
/// The real binary: exit codes 0 / 1 / 2 and the JSON document on stdout.
mod exit_codes;
/// Against obslab-server: answered == increase of `flask_requests_total`.
mod honesty;
/// `--mix`, `--threshold`, `--stages`, scenario files and the CLI's exit 2.
mod parsers;
/// In-process runs against tiny warp apps: rate, tail, drops, errors, metrics.
mod runs;
/// The schedule's intended instants, as tables.
mod schedule;
/// Test apps and helpers.
mod util;
