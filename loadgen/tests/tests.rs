//! The one integration test binary of obslab-loadgen (one link step).
//!
//! Everything runs on real sockets on 127.0.0.1:0. Pacing is checked through
//! the pure schedule, and runs assert exact counts or generous statistical
//! bounds, never wall-clock timings.

/// `https://`: HTTP/2 or HTTP/1.1 by ALPN, or as forced.
#[cfg(feature = "tls")]
mod alpn;
/// Closed-model runs: back to back, one connection per worker, reconnects.
mod closed_model;
/// The options table of docs/loadgen.md against `--help`.
mod docs_options;
/// Each endpoint's error rate: JSON, text, HTML, merge.
mod error_rates;
/// The real binary: exit codes 0 / 1 / 2 and the JSON document on stdout.
mod exit_codes;
/// Open-model runs without an honest answer: TLS, dead target, redirects, timeouts.
mod failures;
/// Against obslab-server: answered == increase of `flask_requests_total`,
/// over HTTP/1.1 and h2c.
mod honesty;
/// `--html`: one self-contained page for a run and a merge; exit 2 when it
/// cannot be written, before any load.
mod html;
/// HTTP/2: versions per request, shared connections, reset streams and a
/// GOAWAY above a stream.
mod http2;
/// Idle keep-alive connections replaced before the target closes them.
mod idle;
/// `merge`: shards add up to the server's count, one report to itself, bad
/// inputs exit 2 naming the file.
mod merge;
/// Open-model runs against tiny warp apps: rate, ramps, tail, drops.
mod open_model;
/// `--mix`, `--threshold`, `--stages`, scenario files and the CLI's exit 2.
mod parsers;
/// What a run hands back: report after shutdown, JSON fields, metrics.
mod reports;
/// Scenario keys protocol, ca_cert, insecure; the report's concurrency,
/// connections and threads.
mod run_settings;
/// The schedule's intended instants, as tables.
mod schedule;
/// obslab-server in-process and hand-made targets counting what they saw.
mod servers;
/// Against obslab-server: N shards with one seed send what one process sends.
mod shards;
/// HTTPS with a self-signed certificate: --ca-cert, --insecure, refused.
#[cfg(feature = "tls")]
mod tls;
/// `--ca-cert` as curl's `--cacert`: the certificate presented as itself.
#[cfg(feature = "tls")]
mod tls_given;
/// Test apps, in-process runs, the binary, helpers.
mod util;
