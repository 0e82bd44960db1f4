//! The command line of `obslab`: one binary, verbs as subcommands, like
//! promtool and amtool. Exit status: 0 ok, 1 a check or request failed,
//! 2 usage.
//!
//! Where each piece of the lab answers comes from global options with
//! environment twins; each accepts `off` for a piece the lab does not run.
//! The defaults are the host's published ports of the compose lab.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::inbox::InboxArgs;

/// obslab: the lab's companion CLI.
///
/// Plays incident drills and changes faults over the server's admin API,
/// puts the lab back between two groups of students, checks every piece of
/// the lab, and receives Alertmanager's notifications (`inbox`).
#[derive(Debug, Parser)]
#[command(
    name = "obslab",
    version,
    about,
    long_about,
    after_help = "Examples:
  export OBSLAB_ADMIN_TOKEN=obslab-admin-token-change-me
  obslab drill list
  obslab drill start error-spike
  obslab drill status --answers
  obslab faults set / error_rate=0.5
  obslab reset
  obslab doctor"
)]
pub struct Cli {
    #[command(flatten)]
    pub lab: LabArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Where the pieces of the lab answer, and the admin token.
#[derive(Debug, Clone, Args)]
pub struct LabArgs {
    /// obslab-server's base URL, or `off`.
    #[arg(long, env = "OBSLAB_URL", default_value = "http://localhost:5000", value_parser = parse_target, global = true)]
    pub server: Target,

    /// Prometheus' base URL, or `off`.
    #[arg(long, env = "OBSLAB_PROMETHEUS_URL", default_value = "http://localhost:9090", value_parser = parse_target, global = true)]
    pub prometheus: Target,

    /// Alertmanager's base URL, or `off`.
    #[arg(long, env = "OBSLAB_ALERTMANAGER_URL", default_value = "http://localhost:9093", value_parser = parse_target, global = true)]
    pub alertmanager: Target,

    /// The inbox's base URL (`obslab inbox`), or `off`.
    #[arg(long, env = "OBSLAB_INBOX_URL", default_value = "http://localhost:9095", value_parser = parse_target, global = true)]
    pub inbox: Target,

    /// Grafana's base URL, or `off`.
    #[arg(long, env = "OBSLAB_GRAFANA_URL", default_value = "http://localhost:3000", value_parser = parse_target, global = true)]
    pub grafana: Target,

    /// The server's admin token (its --admin-token); prefer the variable,
    /// which stays out of the process list.
    #[arg(
        long,
        env = "OBSLAB_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub admin_token: Option<String>,

    /// Grafana user for `doctor` (unset: the anonymous viewer).
    #[arg(long, env = "OBSLAB_GRAFANA_USER", global = true)]
    pub grafana_user: Option<String>,

    /// That user's password.
    #[arg(
        long,
        env = "OBSLAB_GRAFANA_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub grafana_password: Option<String>,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play, watch and stop the incident drills (built in: those of
    /// scenarios/).
    #[command(subcommand)]
    Drill(DrillCommand),

    /// Show and change the server's faults.
    #[command(subcommand)]
    Faults(FaultsCommand),

    /// Put the lab back between two groups: drill stopped, faults reset,
    /// inbox emptied, Alertmanager's silences expired.
    Reset,

    /// Check the lab piece by piece: one line per check, ✓ or ✗ with the
    /// fix. Exit 0 when all pass, 1 otherwise.
    #[command(after_help = "Examples:
  obslab doctor
  obslab doctor --grafana off
  OBSLAB_GRAFANA_USER=admin OBSLAB_GRAFANA_PASSWORD=admin obslab doctor")]
    Doctor,

    /// Receive Alertmanager's webhook notifications and show them on a page
    /// (GET /), as JSON (GET /api/notifications) and as metrics.
    Inbox(InboxArgs),
}

/// `obslab drill ...`
#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// The drills built into obslab: name, length, what happens.
    List,

    /// Play a drill from now, replacing any: a built-in name or a file.
    #[command(after_help = "Examples:
  obslab drill start error-spike
  obslab drill start ./my-drill.yml")]
    Start {
        /// A name of `obslab drill list`, or the path of a scenario file.
        drill: String,
    },

    /// The drill being played: phase, time elapsed and left.
    Status {
        /// Also the answer key, with how long until each alert is due.
        #[arg(long)]
        answers: bool,
    },

    /// Stop the drill; the configured faults come back at once.
    Stop,
}

/// `obslab faults ...`
#[derive(Debug, Subcommand)]
pub enum FaultsCommand {
    /// The fault profile in force.
    Show,

    /// Change part of the profile.
    #[command(after_help = "Examples:
  obslab faults set / error_rate=0.5
  obslab faults set /slow error_rate=0.6 timeout=5s
  obslab faults set /health delay_min=100ms delay_max=400ms
  obslab faults set weights validation_error=1,database_error=3
  obslab faults set outage=true")]
    Set {
        /// `ROUTE KEY=VALUE...` (routes /, /health, /slow; keys error_rate,
        /// delay_min, delay_max, timeout), `weights TYPE=W,...`, or
        /// `outage=true|false`.
        #[arg(required = true, num_args = 1..)]
        change: Vec<String>,
    },

    /// Back to the configured profile (stops any drill).
    Reset,
}

/// A piece of the lab: its base URL, or `off`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The lab does not run it: its checks and steps are skipped.
    Off,
    /// Its base URL, without a trailing slash.
    Url(String),
}

impl Target {
    /// The URL, unless off.
    pub fn url(&self) -> Option<&str> {
        match self {
            Target::Off => None,
            Target::Url(url) => Some(url),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Off => f.write_str("off"),
            Target::Url(url) => f.write_str(url),
        }
    }
}

fn parse_target(s: &str) -> Result<Target, String> {
    if s == "off" {
        return Ok(Target::Off);
    }
    if !(s.starts_with("http://") || s.starts_with("https://")) || s.len() < "http://x".len() {
        return Err(format!("{s:?} is neither an http:// URL nor `off`"));
    }
    Ok(Target::Url(s.trim_end_matches('/').to_owned()))
}

/// A drill given on the command line: a built-in name or a file.
pub fn drill_path(drill: &str) -> Option<PathBuf> {
    let path = PathBuf::from(drill);
    (drill.contains('/') || drill.ends_with(".yml") || drill.ends_with(".yaml") || path.exists())
        .then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_urls_or_off() {
        assert_eq!(parse_target("off"), Ok(Target::Off));
        assert_eq!(
            parse_target("http://localhost:5000/"),
            Ok(Target::Url("http://localhost:5000".into()))
        );
        assert!(parse_target("localhost:5000").is_err());
    }
}
