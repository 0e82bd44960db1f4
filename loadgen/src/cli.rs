//! Command line and environment (`LOADGEN_*`) → a validated [`Plan`].
//!
//! Parse, then resolve: every option-local check lives in a `value_parser`
//! function, so clap names the faulty option and exits with status 2 by
//! itself; [`Args::resolve`] then merges flags over the scenario file over
//! the built-in defaults. Nothing after this module re-validates input.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser};
use http::header::{HeaderName, HeaderValue};
use obslab_common::duration::parse_nonzero;
use obslab_common::flag::Boolean;
use url::Url;

use crate::client::{self, CaCert, IDLE_LIMIT, Protocol, Trust};
use crate::mix::{self, Mix};
use crate::plan::{Model, Output, Plan, ProgressMode};
use crate::scenario::{self, Scenario};
use crate::schedule::{self, Schedule, Stage};
use crate::shard::{self, Shard};
use crate::threshold::{self, Threshold};
use crate::value::{parse_count, parse_header, parse_target};

/// Target used when neither `--target` nor the scenario names one.
pub const DEFAULT_TARGET: &str = "http://localhost:5000";
/// Open-model rate (req/s) when no rate, stages or concurrency is given.
pub const DEFAULT_RATE: f64 = 10.0;
/// Default cap on requests in flight in the open model.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1000;

/// Open model: the connections all senders keep at most, unless
/// `--connections` says otherwise. Enough for 25k req/s to a target that
/// answers within 10 ms; a slower target needs more (it shows as schedule
/// lag and says so).
pub const DEFAULT_CONNECTIONS: usize = 256;
/// Default per-request timeout: above obslab-server's slowest path (the 3 s
/// `/slow` timeout) with a wide margin, so no answer the server counts is
/// reported as a timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Weighted, open-model, honest HTTP load generator.
///
/// Sends a weighted mix of requests at a constant arrival rate (or ramps, or
/// back to back with --concurrency) and reports latency from each request's
/// intended send time, so a slow target cannot hide behind a slower client.
/// Every option can also be set through the environment variable shown (a
/// flag's: 1 or 0, true or false, yes or no).
#[derive(Debug, Parser)]
#[command(name = "obslab-loadgen", version, about, long_about = None,
          after_help = "Example: 50 req/s for 2 minutes, the report also as a page to open in a browser:\n  obslab-loadgen --target http://localhost:5000 --rate 50 --duration 2m --html report.html\n\nTo add up reports (the shards of one run): obslab-loadgen merge FILE... | -\n(see obslab-loadgen merge --help)")]
pub struct Args {
    /// Base URL of the target; mix paths are appended to it
    /// [default: http://localhost:5000]
    #[arg(long, env = "LOADGEN_TARGET", value_name = "URL", value_parser = parse_target)]
    pub target: Option<Url>,

    /// Weighted requests "METHOD PATH=WEIGHT,..." [default: every route of obslab-server: "GET /=60,GET /health=20,GET /stats=10,GET /error=5,GET /slow=5,GET /metrics=1,GET /livez=1,GET /readyz=1"]
    #[arg(long, env = "LOADGEN_MIX", value_name = "MIX", value_parser = mix::parse_mix)]
    pub mix: Option<Mix>,

    /// YAML scenario file (target, mix with headers and bodies, stages,
    /// thresholds...); flags and environment override it
    #[arg(long, env = "LOADGEN_SCENARIO", value_name = "FILE", value_parser = scenario::load)]
    pub scenario: Option<Scenario>,

    /// Open model: arrival rate in requests per second [default: 10]; with
    /// --stages, the rate the first stage starts from [default: 0]
    #[arg(long, env = "LOADGEN_RATE", value_name = "REQ_PER_S", value_parser = schedule::parse_rate)]
    pub rate: Option<f64>,

    /// Open model with linear ramps "DURATION:RATE,...", e.g.
    /// "30s:10,2m:100,30s:0"; the run ends with the last stage
    #[arg(long, env = "LOADGEN_STAGES", value_name = "STAGES", value_parser = parse_stages)]
    pub stages: Option<Stages>,

    /// Closed model: N workers sending back to back, one connection each
    /// (over HTTP/2 one stream each, sharing --connections) (maximum
    /// throughput; latency then counts from the actual send)
    #[arg(long, env = "LOADGEN_CONCURRENCY", value_name = "N", value_parser = parse_count,
          conflicts_with_all = ["rate", "stages", "max_in_flight"])]
    pub concurrency: Option<u64>,

    /// Stop sending after this long (e.g. 30s, 5m) [default: until stopped]
    #[arg(long, env = "LOADGEN_DURATION", value_parser = parse_nonzero)]
    pub duration: Option<Duration>,

    /// Stop after N scheduled requests (sent + dropped)
    #[arg(long, env = "LOADGEN_REQUESTS", value_name = "N", value_parser = parse_count)]
    pub requests: Option<u64>,

    /// Open model: cap on requests in flight; requests due beyond it are
    /// dropped and counted, never queued [default: 1000]
    #[arg(long, env = "LOADGEN_MAX_IN_FLIGHT", value_name = "N", value_parser = parse_count)]
    pub max_in_flight: Option<u64>,

    /// Open model: keep-alive connections all senders together keep at most
    /// (like oha's -c); a request due while every one is busy waits for one,
    /// holding its in-flight place, and the wait shows as schedule lag
    /// (at most --max-in-flight are used). Over HTTP/2: the connections the
    /// streams share at most, opened as they need them; with --concurrency
    /// (HTTP/2 only), the workers' connections, one per thread unless given
    /// [default: 256]
    #[arg(long, env = "LOADGEN_CONNECTIONS", value_name = "N", value_parser = parse_count)]
    pub connections: Option<u64>,

    /// Speak HTTP/2 only: by ALPN on https://, with prior knowledge (h2c)
    /// on http://. Without it or --http1, https:// negotiates HTTP/2 or
    /// HTTP/1.1 by ALPN and http:// speaks HTTP/1.1
    #[arg(long, env = "LOADGEN_HTTP2", value_parser = Boolean)]
    pub http2: bool,

    /// Speak HTTP/1.1 only, even to an https:// target that offers HTTP/2
    #[arg(long, env = "LOADGEN_HTTP1", value_parser = Boolean)]
    pub http1: bool,

    /// Sending threads, each running its own single-threaded runtime: the
    /// open model deals the schedule over them, the closed model its workers
    /// (one connection each) [default: CPU count]
    #[arg(long, env = "LOADGEN_THREADS", value_name = "N", value_parser = parse_count)]
    pub threads: Option<u64>,

    /// Per-request timeout, from send to the end of the body; a request with
    /// no status by then counts as a timeout [default: 10s]
    #[arg(long, env = "LOADGEN_TIMEOUT", value_parser = parse_nonzero)]
    pub timeout: Option<Duration>,

    /// A kept-alive connection idle for longer is closed and the next request
    /// goes on a new one: keep it under the target's idle timeout
    /// (obslab-server and nginx 75s, many load balancers 60s) [default: 30s]
    #[arg(long, env = "LOADGEN_IDLE_LIMIT", value_name = "DURATION", value_parser = parse_nonzero)]
    pub idle_limit: Option<Duration>,

    /// Before starting, wait up to this long for the target to accept
    /// connections (containers that start together); exit 2 if it never does
    #[arg(long, env = "LOADGEN_WAIT_FOR_TARGET", value_name = "DEADLINE",
          value_parser = parse_nonzero)]
    pub wait_for_target: Option<Duration>,

    /// Report format on stdout (with json, the text summary goes to stderr)
    #[arg(long, env = "LOADGEN_OUTPUT", value_enum, default_value_t = Output::Text)]
    pub output: Output,

    /// Also write the report as one HTML page, self-contained (charts
    /// inline, nothing loaded from the network): latency by percentile,
    /// rate and latency over time, status codes, endpoints, settings
    #[arg(long, env = "LOADGEN_HTML", value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Fail (exit 1) unless METRIC OP VALUE holds, e.g. "p95<500ms",
    /// "error_rate<5%", "achieved_rps>=95", "dropped<1"; repeatable, and
    /// comma separated in the environment
    #[arg(long = "threshold", env = "LOADGEN_THRESHOLD", value_name = "EXPR",
          value_delimiter = ',', value_parser = threshold::parse_threshold)]
    pub thresholds: Vec<Threshold>,

    /// PEM file of certificates to trust as roots for an https:// target,
    /// besides the system's, each also trusted when the server presents it
    /// as itself, as curl --cacert does (self-signed, even CA:TRUE; name and
    /// dates still checked); repeatable, and comma separated in the
    /// environment
    #[arg(long = "ca-cert", env = "LOADGEN_CA_CERT", value_name = "FILE",
          value_delimiter = ',', value_parser = client::parse_ca_cert)]
    pub ca_certs: Vec<CaCert>,

    /// Do not verify the target's TLS certificate (a self-signed staging
    /// target); said on stderr at start
    #[arg(long, env = "LOADGEN_INSECURE", value_parser = Boolean)]
    pub insecure: bool,

    /// Extra request header "Name: value"; repeatable (one in the environment)
    #[arg(long = "header", env = "LOADGEN_HEADER", value_name = "HEADER", value_parser = parse_header)]
    pub headers: Vec<(HeaderName, HeaderValue)>,

    /// Serve the client's Prometheus metrics (loadgen_*) at http://ADDR/metrics
    #[arg(long, env = "LOADGEN_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Seed of the mix draws, to replay the same request order [default: random]
    #[arg(long, env = "LOADGEN_SEED")]
    pub seed: Option<u64>,

    /// Live progress: a bar on a terminal, a log line every 10s otherwise
    #[arg(long, env = "LOADGEN_PROGRESS", value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,

    /// Send only shard I of N of the run (0 <= I < N): the requests whose
    /// number is I modulo N, or in the closed model concurrency / N workers
    /// (the first concurrency % N shards one more); with one --seed, the N
    /// shards send exactly what one process would [default: the whole run]
    #[arg(long, env = "LOADGEN_SHARD", value_name = "I/N", value_parser = shard::parse_shard)]
    pub shard: Option<Shard>,

    /// Start the schedule at this RFC 3339 instant (e.g.
    /// 2025-06-01T10:00:00Z), so that shards started at different times run
    /// one schedule; up to 1s in the past is accepted (requests already due
    /// leave at once), later is exit 2 [default: at launch]
    #[arg(long, env = "LOADGEN_START_AT", value_name = "TIME", value_parser = shard::parse_start_at)]
    pub start_at: Option<SystemTime>,
}

/// `--stages` as parsed (a newtype so clap sees one value, not a list).
#[derive(Debug, Clone, PartialEq)]
pub struct Stages(pub Vec<Stage>);

impl Plan {
    /// Parses command-line words (and `LOADGEN_*`) into a plan; the error is
    /// clap's, so `exit()` on it prints the message and exits 2.
    pub fn try_parse_from<I, T>(words: I) -> Result<Plan, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Args::try_parse_from(words)?.resolve()
    }
}

impl Args {
    /// Merges flags over the scenario file over the defaults, then checks
    /// what involves several options (clap's error: exit 2).
    pub fn resolve(self) -> Result<Plan, clap::Error> {
        let scn = self.scenario.unwrap_or_default();
        // The pacing options travel together: any of them on the command
        // line replaces all of the scenario's.
        let flags_pace = self.rate.is_some() || self.stages.is_some() || self.concurrency.is_some();
        let (rate, stages, concurrency) = if flags_pace {
            (self.rate, self.stages.map(|s| s.0), self.concurrency)
        } else {
            (scn.rate, scn.stages, scn.concurrency)
        };
        // Not clap's `conflicts_with`: a twin set to 0 is present to clap.
        if self.http1 && self.http2 {
            let message = "--http2 and --http1 exclude each other (or their twins LOADGEN_HTTP2 and LOADGEN_HTTP1)";
            return Err(Args::command().error(ErrorKind::ArgumentConflict, message));
        }
        let protocol = match (self.http1, self.http2) {
            (true, _) => Protocol::Http1,
            (_, true) => Protocol::Http2,
            _ => scn.protocol.unwrap_or_default(),
        };
        let connections = self.connections.or(scn.connections).map(to_usize);
        let target = self
            .target
            .or(scn.target)
            .unwrap_or_else(|| Url::parse(DEFAULT_TARGET).expect("the default target is a URL"));
        // Over HTTP/1.1 each closed-model worker has its own connection.
        let http1 = protocol == Protocol::Http1
            || (protocol == Protocol::Auto && target.scheme() == "http");
        if let (Some(n), Some(_), true) = (self.connections, concurrency, http1) {
            let message = format!(
                "--connections {n} with --concurrency: over HTTP/1.1 each worker has its own connection; only HTTP/2 workers share connections (--http2, or an https:// target that negotiates it)"
            );
            return Err(Args::command().error(ErrorKind::ArgumentConflict, message));
        }
        let model = match concurrency {
            Some(n) => Model::Closed {
                concurrency: to_usize(n),
                // A scenario's `connections` (for its open model) is ignored.
                connections: connections.filter(|_| !http1),
            },
            None => Model::Open {
                schedule: match stages {
                    Some(stages) => Schedule::ramping(rate.unwrap_or(0.0), &stages),
                    None => Schedule::constant(rate.unwrap_or(DEFAULT_RATE)),
                },
                max_in_flight: self
                    .max_in_flight
                    .or(scn.max_in_flight)
                    // The drain at the end takes every permit in one u32 call.
                    .map_or(DEFAULT_MAX_IN_FLIGHT, |n| to_usize(n.min(u32::MAX.into()))),
                connections: connections.unwrap_or(DEFAULT_CONNECTIONS),
            },
        };
        // A flag's header replaces the scenario's of the same name.
        let mut headers = scn.headers;
        for (name, _) in &self.headers {
            headers.remove(name);
        }
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        let mut thresholds = scn.thresholds;
        thresholds.extend(self.thresholds);
        let shard = self.shard.unwrap_or(Shard::WHOLE);
        if let Model::Closed { concurrency, .. } = model {
            if (concurrency as u64) < shard.count {
                let message = format!(
                    "--concurrency {concurrency} is below the number of shards of --shard {shard}: each shard needs at least one worker"
                );
                return Err(Args::command().error(ErrorKind::ArgumentConflict, message));
            }
        }
        Ok(Plan {
            target,
            protocol,
            mix: self.mix.or(scn.mix).unwrap_or_else(|| {
                mix::parse_mix(mix::DEFAULT_MIX).expect("the default mix parses")
            }),
            model,
            duration: self.duration.or(scn.duration),
            requests: self.requests.or(scn.requests),
            timeout: self.timeout.or(scn.timeout).unwrap_or(DEFAULT_TIMEOUT),
            idle_limit: self.idle_limit.unwrap_or(IDLE_LIMIT),
            wait_for_target: self.wait_for_target,
            headers,
            // Any --ca-cert replaces the scenario's `ca_cert`; --insecure
            // (a flag that cannot say "no") turns `insecure` on.
            trust: Trust {
                ca_certs: if self.ca_certs.is_empty() {
                    scn.ca_certs
                } else {
                    self.ca_certs
                },
                insecure: self.insecure || scn.insecure.unwrap_or(false),
            },
            thresholds,
            metrics_listen: self.metrics_listen,
            seed: self.seed.unwrap_or_else(random_seed),
            threads: self.threads.map_or_else(
                || std::thread::available_parallelism().map_or(1, usize::from),
                to_usize,
            ),
            progress: self.progress,
            output: self.output,
            html: self.html,
            shard,
            start_at: self.start_at,
        })
    }
}

fn parse_stages(s: &str) -> Result<Stages, String> {
    schedule::parse_stages(s).map(Stages)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn random_seed() -> u64 {
    use rand::{RngCore as _, SeedableRng as _};
    rand::rngs::SmallRng::from_os_rng().next_u64()
}
