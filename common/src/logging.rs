//! Logging of every binary: tracing on stderr, `RUST_LOG` over a default.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// How log lines are written (the server's `--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber: lines on stderr (coloured when it is a
/// terminal), filtered by `RUST_LOG` when it is set and valid, by `default`
/// (e.g. `info`) otherwise. A closed stderr loses the lines but stops
/// nothing: tracing-subscriber would report the failed write with
/// `eprintln!`, which panics.
pub fn init(format: LogFormat, default: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
