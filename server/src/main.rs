//! The obslab-server binary: parse options, set up logging, serve.
//!
//! Everything else lives in the library (`obslab_server::run`), so that
//! tests run the very server this binary runs, in-process.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use obslab_server::config::{Args, Command, Config};
use obslab_server::healthcheck;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::Healthcheck { timeout }) = args.command {
        return match healthcheck::probe(args.listen, timeout) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let config = Config::from_args(args).unwrap_or_else(|e| e.exit());
    // A client that hangs up mid-request is logged at debug level only
    // (obslab_serve): load generators do that by the thousand.
    obslab_common::logging::init(config.log_format, "info");
    match serve(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    // Before the ready line: a SIGTERM right after it must drain, not kill.
    let signal = obslab_common::shutdown::signal();
    if config
        .admin_token
        .as_ref()
        .is_some_and(|t| t.is_published())
    {
        tracing::warn!(
            "the admin API is open with the example token that obslab's docs and compose.yaml \
             publish: whoever reaches this port can change the faults; set OBSLAB_ADMIN_TOKEN \
             (or --admin-token) to a secret of your own"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", config.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        version = env!("CARGO_PKG_VERSION"),
        "obslab-server ready"
    );
    obslab_server::run(config, listener, signal).await
}
