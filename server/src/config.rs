//! Command-line options (each with an `OBSLAB_` environment twin) and their
//! validation into a [`Config`].
//!
//! Option-local checks live in `value_parser` functions, so clap names the
//! flag and exits 2 by itself; the cross-field checks (min ≤ max) live in
//! [`Config::from_args`], which reports through clap too, with the same exit
//! status and style.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, error::ErrorKind};
use obslab_common::duration::parse as parse_duration;
use obslab_common::flag::Boolean;

use crate::limits::LimitArgs;
use crate::profile::{ErrorWeights, FaultProfile, RouteFaults};
use crate::scenario::Scenario;
use crate::values::{check_bounds, parse_rate};

/// obslab-server: an instrumented, fault-injecting demo web app.
///
/// Serves a small JSON API whose routes fail and stall at configurable rates,
/// and exports Prometheus metrics (`flask_*` by default, the names of the
/// Flask app it replaces) on /metrics. Every option has an environment twin
/// (a flag's: 1 or 0, true or false, yes or no).
#[derive(Debug, Parser)]
#[command(name = "obslab-server", version, about, long_about)]
pub struct Args {
    /// Address to listen on.
    #[arg(
        long,
        env = "OBSLAB_LISTEN",
        default_value = "0.0.0.0:5000",
        global = true
    )]
    pub listen: SocketAddr,

    /// Seed of the fault RNG: the same seed and the same request sequence give
    /// the same outcomes. Random when unset.
    #[arg(long, env = "OBSLAB_SEED")]
    pub seed: Option<u64>,

    /// Probability that `GET /` fails with 500 home_error.
    #[arg(long, env = "OBSLAB_HOME_ERROR_RATE", default_value = "0.05", value_parser = parse_rate)]
    pub home_error_rate: f64,

    /// Probability that `GET /health` fails with 503 health_check_failed.
    #[arg(long, env = "OBSLAB_HEALTH_ERROR_RATE", default_value = "0.2", value_parser = parse_rate)]
    pub health_error_rate: f64,

    /// Probability that `GET /slow` waits --slow-timeout and fails with 504 timeout.
    #[arg(long, env = "OBSLAB_SLOW_TIMEOUT_RATE", default_value = "0.3", value_parser = parse_rate)]
    pub slow_timeout_rate: f64,

    /// Shortest delay of a successful `GET /slow`.
    #[arg(long, env = "OBSLAB_SLOW_MIN", default_value = "200ms", value_parser = parse_duration)]
    pub slow_min: Duration,

    /// Longest delay of a successful `GET /slow`.
    #[arg(long, env = "OBSLAB_SLOW_MAX", default_value = "1500ms", value_parser = parse_duration)]
    pub slow_max: Duration,

    /// How long a timing-out `GET /slow` waits before answering 504.
    #[arg(long, env = "OBSLAB_SLOW_TIMEOUT", default_value = "3s", value_parser = parse_duration)]
    pub slow_timeout: Duration,

    /// Relative weights of the error types `GET /error` picks from, as
    /// `type=weight,...` (types: validation_error, permission_error,
    /// database_error, timeout_error; omitted types weigh 0).
    #[arg(
        long,
        env = "OBSLAB_ERROR_WEIGHTS",
        default_value = "validation_error=1,permission_error=1,database_error=1,timeout_error=1",
        value_parser = parse_error_weights
    )]
    pub error_weights: ErrorWeights,

    /// Prefix of the application metrics (`<namespace>_requests_total`, ...).
    #[arg(long, env = "OBSLAB_METRICS_NAMESPACE", default_value = "flask", value_parser = parse_namespace)]
    pub metrics_namespace: String,

    /// Log format.
    #[arg(long, env = "OBSLAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log one line per request (method, path, status, duration).
    #[arg(long, env = "OBSLAB_ACCESS_LOG", value_parser = Boolean)]
    pub access_log: bool,

    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish
    /// before the server exits anyway.
    #[arg(long, env = "OBSLAB_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// On SIGTERM/SIGINT, how long /readyz answers 503 while the server still
    /// accepts and serves, so that orchestrators and load balancers see it
    /// unready before its connections are refused; the drain of
    /// --shutdown-grace follows.
    #[arg(long, env = "OBSLAB_SHUTDOWN_DELAY", default_value = "0s", value_parser = parse_duration)]
    pub shutdown_delay: Duration,

    /// Bearer token that opens the admin API under /admin/ (change faults at
    /// runtime, run scenarios). The API is off when unset.
    #[arg(long, env = "OBSLAB_ADMIN_TOKEN", hide_env_values = true, value_parser = parse_token)]
    pub admin_token: Option<AdminToken>,

    /// Scenario file (YAML) to run from start: a timeline of fault changes.
    #[arg(long, env = "OBSLAB_SCENARIO")]
    pub scenario: Option<String>,

    /// Play scenarios this many times faster (for rehearsals and tests); empty
    /// means 1.
    #[arg(long, env = "OBSLAB_SCENARIO_SPEED", default_value = "1", value_parser = parse_speed)]
    pub scenario_speed: f64,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// A subcommand instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The admin API's bearer token; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

/// Example tokens that obslab's docs and compose.yaml publish: whoever reads
/// them can use them.
const PUBLISHED_TOKENS: [&str; 1] = ["obslab-admin-token-change-me"];

impl AdminToken {
    /// The token's bytes, for a constant-time comparison.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Whether this is one of the example tokens the docs publish.
    pub fn is_published(&self) -> bool {
        PUBLISHED_TOKENS.contains(&self.0.as_str())
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Subcommands; without one, the server runs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe `GET /livez` of the server at --listen (0.0.0.0 means
    /// 127.0.0.1); exit 0 when it answers 200, 1 otherwise. For container
    /// health checks: no shell or curl needed.
    Healthcheck {
        /// Give up after this long.
        #[arg(long, default_value = "2s", value_parser = parse_duration)]
        timeout: Duration,
    },
}

/// How log lines are written (`--log-format`): obslab_common's, shared with
/// the other binaries' logging.
pub use obslab_common::logging::LogFormat;

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--seed`; `None` seeds the fault RNG from the OS.
    pub seed: Option<u64>,
    /// The profile built from the fault options, put in force at start and
    /// restored by a reset or at the end of a scenario.
    pub faults: FaultProfile,
    /// `--metrics-namespace`.
    pub metrics_namespace: String,
    /// `--log-format`.
    pub log_format: LogFormat,
    /// `--access-log`.
    pub access_log: bool,
    /// `--shutdown-grace`: how long the drain may last.
    pub shutdown_grace: Duration,
    /// `--shutdown-delay`: how long the server stays up, unready, after the
    /// signal.
    pub shutdown_delay: Duration,
    /// `--admin-token`; `None` keeps the admin API off.
    pub admin_token: Option<AdminToken>,
    /// `--scenario`, loaded and checked against `faults`.
    pub scenario: Option<Scenario>,
    /// `--scenario-speed`.
    pub scenario_speed: f64,
    /// The connection limits (`--header-read-timeout`, `--max-connections`...).
    pub limits: obslab_serve::Limits,
}

impl Config {
    /// Parses and validates command-line arguments, as `main` does; for tests
    /// and embedding. Errors are clap errors (exit status 2).
    pub fn try_parse_from<I, T>(args: I) -> Result<Config, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Config::from_args(Args::try_parse_from(args)?)
    }

    /// Validates what the option parsers cannot check alone.
    pub fn from_args(args: Args) -> Result<Config, clap::Error> {
        check_bounds(("--slow-min", args.slow_min), ("--slow-max", args.slow_max))
            .map_err(|e| Args::command().error(ErrorKind::ArgumentConflict, e))?;
        let faults = FaultProfile {
            home: RouteFaults::instant(args.home_error_rate),
            health: RouteFaults::instant(args.health_error_rate),
            slow: RouteFaults {
                error_rate: args.slow_timeout_rate,
                delay_min: args.slow_min,
                delay_max: args.slow_max,
            },
            slow_timeout: args.slow_timeout,
            error_weights: args.error_weights,
            outage: false,
        };
        // An empty OBSLAB_SCENARIO (a blank line in compose's .env) means none.
        let scenario = match args.scenario.as_deref().filter(|p| !p.trim().is_empty()) {
            None => None,
            Some(path) => {
                let path = std::path::Path::new(path);
                let invalid = |e: &dyn std::fmt::Display| {
                    Args::command().error(
                        ErrorKind::ValueValidation,
                        format!("--scenario {}: {e}", path.display()),
                    )
                };
                let scenario = Scenario::load(path).map_err(|e| invalid(&format!("{e:#}")))?;
                scenario.check_faults(&faults).map_err(|e| invalid(&e))?;
                Some(scenario)
            }
        };
        Ok(Config {
            listen: args.listen,
            seed: args.seed,
            faults,
            metrics_namespace: args.metrics_namespace,
            log_format: args.log_format,
            access_log: args.access_log,
            shutdown_grace: args.shutdown_grace,
            shutdown_delay: args.shutdown_delay,
            admin_token: args.admin_token,
            scenario,
            scenario_speed: args.scenario_speed,
            limits: args.limits.limits(),
        })
    }
}

/// `type=weight,...` over the four manual error types.
pub fn parse_error_weights(s: &str) -> Result<ErrorWeights, String> {
    let mut named = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not of the form type=weight"))?;
        let weight: f64 = weight.trim().parse().map_err(|_| {
            format!(
                "weight `{}` of {} is not a number",
                weight.trim(),
                name.trim()
            )
        })?;
        named.push((name.trim(), weight));
    }
    ErrorWeights::from_named(named).map_err(|e| e.to_string())
}

/// A bearer token: printable ASCII, no spaces, at least 16 characters.
fn parse_token(s: &str) -> Result<AdminToken, String> {
    if s.len() < 16 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "the token must be at least 16 printable ASCII characters without spaces".to_string(),
        );
    }
    Ok(AdminToken(s.to_string()))
}

/// A positive, finite speed-up factor.
fn parse_speed(s: &str) -> Result<f64, String> {
    if s.trim().is_empty() {
        return Ok(1.0);
    }
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!(
            "`{s}` is not a positive number (1 = real time, 10 = ten times faster)"
        )),
    }
}

/// A Prometheus metric-name prefix.
fn parse_namespace(s: &str) -> Result<String, String> {
    let mut chars = s.chars();
    let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a valid metric name prefix ([a-zA-Z_][a-zA-Z0-9_]*)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_weights_name_the_culprit() {
        let w = parse_error_weights("database_error=3, timeout_error=1").unwrap();
        assert_eq!(w.as_array(), [0.0, 0.0, 3.0, 1.0]);
        assert!(
            parse_error_weights("bogus=1")
                .unwrap_err()
                .contains("bogus")
        );
        assert!(
            parse_error_weights("database_error=-1")
                .unwrap_err()
                .contains("database_error")
        );
        assert!(parse_error_weights("database_error").is_err());
        assert!(parse_error_weights("database_error=0").is_err());
    }

    #[test]
    fn min_above_max_is_a_usage_error_naming_both_options() {
        let err = Config::try_parse_from(["obslab-server", "--slow-min", "2s", "--slow-max", "1s"])
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(
            text.contains("--slow-min") && text.contains("--slow-max"),
            "{text}"
        );
    }

    #[test]
    fn the_admin_token_never_shows_in_debug_output() {
        let c = Config::try_parse_from(["obslab-server", "--admin-token", "s3cret-s3cret-s3cret"])
            .unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(Config::try_parse_from(["obslab-server", "--admin-token", "short"]).is_err());
    }

    #[test]
    fn the_documented_example_token_is_known_as_published() {
        let token = |t: &str| {
            Config::try_parse_from(["obslab-server", "--admin-token", t])
                .unwrap()
                .admin_token
                .unwrap()
        };
        assert!(token("obslab-admin-token-change-me").is_published());
        assert!(!token("a-secret-of-my-own-0123").is_published());
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::try_parse_from(["obslab-server"]).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:5000");
        assert_eq!(c.faults.home.error_rate, 0.05);
        assert_eq!(c.faults.health.error_rate, 0.2);
        assert_eq!(c.faults.slow.error_rate, 0.3);
        assert_eq!(c.faults.slow.delay_min, Duration::from_millis(200));
        assert_eq!(c.faults.slow.delay_max, Duration::from_millis(1500));
        assert!(c.admin_token.is_none(), "the admin API is off by default");
        assert_eq!(c.faults.slow_timeout, Duration::from_secs(3));
        assert_eq!(c.metrics_namespace, "flask");
        assert_eq!(c.shutdown_grace, Duration::from_secs(10));
        assert_eq!(c.shutdown_delay, Duration::ZERO);
    }
}
