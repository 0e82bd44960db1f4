//! obslab-lab: `obslab`, the lab's companion CLI.
//!
//! [`run`] does what the command line asks and returns the exit status;
//! `main` only parses and prints, so tests drive the real commands
//! in-process. Modules: `cli` (the options), `inbox` (the webhook receiver
//! and its page).

pub mod cli;
pub mod inbox;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::{Cli, Command};
use crate::inbox::{Inbox, InboxArgs, InboxCommand};

/// Runs the command of `cli`; the exit status carries its verdict.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Inbox(args) => inbox_command(args),
    }
}

fn inbox_command(args: InboxArgs) -> anyhow::Result<ExitCode> {
    if let Some(InboxCommand::Healthcheck { timeout }) = args.command {
        obslab_server::healthcheck::probe(args.listen, timeout)?;
        return Ok(ExitCode::SUCCESS);
    }
    init_logging();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let signal = obslab_server::shutdown::signal();
        let inbox = Arc::new(Inbox::open(&args)?);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
        tracing::info!(
            listen = %listener.local_addr()?,
            keep = args.keep,
            version = env!("CARGO_PKG_VERSION"),
            "obslab inbox ready"
        );
        inbox::serve(inbox, listener, signal).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Logs to stderr; `RUST_LOG` refines the level (default `info`); warp's
/// reports of clients hanging up are silenced unless `RUST_LOG` names warp.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    let mut filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    if !directives.contains("warp") {
        filter = filter.add_directive("warp::server=off".parse().expect("valid directive"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .log_internal_errors(false)
        .with_writer(std::io::stderr)
        .init();
}
