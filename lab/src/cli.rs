//! The command line of `obslab`: one binary, verbs as subcommands, like
//! promtool and amtool. Exit status: 0 ok, 1 a check or request failed,
//! 2 usage.

use clap::{Parser, Subcommand};

use crate::inbox::InboxArgs;

/// obslab: the lab's companion CLI.
///
/// Receives Alertmanager's notifications (`inbox`).
#[derive(Debug, Parser)]
#[command(name = "obslab", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive Alertmanager's webhook notifications and show them on a page
    /// (GET /), as JSON (GET /api/notifications) and as metrics.
    Inbox(InboxArgs),
}
