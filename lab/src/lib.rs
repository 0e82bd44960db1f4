//! obslab-lab: `obslab`, the lab's companion CLI.
//!
//! [`run`] does what the command line asks, writing to `out`, and returns
//! the exit status; `main` only parses and prints errors, so tests drive the
//! real commands in-process. Modules: `cli` (the options), `http` (calls to
//! the pieces of the lab), `drills`, `faults`, `reset` and `doctor` (the
//! teacher's verbs), `inbox` (the webhook receiver and its page).

pub mod cli;
pub mod doctor;
pub mod drills;
pub mod faults;
pub mod http;
pub mod inbox;
pub mod prometheus_checks;
pub mod reset;

use std::fmt;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::{Cli, Command};
use crate::inbox::{Inbox, InboxArgs, InboxCommand};

/// A command line that parses but makes no sense (exit 2, like clap's).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit status of an error: 2 for a usage error, else 1.
pub fn exit_code_of(e: &anyhow::Error) -> ExitCode {
    if e.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the command of `cli`; the exit status carries its verdict.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if let Command::Inbox(args) = cli.command {
        return inbox_command(args);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_client(cli, out))
}

/// The commands that are clients of the lab.
pub async fn run_client(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let lab = &cli.lab;
    match cli.command {
        Command::Drill(command) => drills::run(lab, command, out).await?,
        Command::Faults(command) => faults::run(lab, command, out).await?,
        Command::Doctor => {
            if !doctor::run(lab, out).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Reset => {
            if !reset::run(lab, out).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Inbox(_) => unreachable!("served by run"),
    }
    Ok(ExitCode::SUCCESS)
}

fn inbox_command(args: InboxArgs) -> anyhow::Result<ExitCode> {
    if let Some(InboxCommand::Healthcheck { timeout }) = args.command {
        obslab_server::healthcheck::probe(args.listen, timeout)?;
        return Ok(ExitCode::SUCCESS);
    }
    obslab_common::logging::init(obslab_common::logging::LogFormat::Text, "info");
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let signal = obslab_common::shutdown::signal();
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
