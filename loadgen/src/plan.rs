//! The run plan: everything a run needs, validated, whatever it came from.
//!
//! The command line and the scenario file are two ways of writing a plan;
//! the driver, the progress display and the report only read one. Keeping
//! the types here, below both readers, means nothing that runs or reports
//! a load test depends on how its options were spelt.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::ValueEnum;
use http::header::HeaderMap;
use url::Url;

use crate::client::{Protocol, Trust};
use crate::mix::Mix;
use crate::schedule::Schedule;
use crate::shard::Shard;
use crate::threshold::Threshold;

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Base URL of the target.
    pub target: Url,
    /// The HTTP version asked for (`--http1`, `--http2`, or by ALPN).
    pub protocol: Protocol,
    /// The weighted requests.
    pub mix: Mix,
    /// Open or closed model.
    pub model: Model,
    /// Stop sending after this long.
    pub duration: Option<Duration>,
    /// Stop after this many scheduled requests.
    pub requests: Option<u64>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// A kept-alive connection idle for longer is not used again.
    pub idle_limit: Duration,
    /// Wait for the target to answer first, up to this long.
    pub wait_for_target: Option<Duration>,
    /// Headers added to every request.
    pub headers: HeaderMap,
    /// Which TLS certificates are trusted.
    pub trust: Trust,
    /// Pass/fail criteria.
    pub thresholds: Vec<Threshold>,
    /// Where to serve `loadgen_*` metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// Seed of the mix draws.
    pub seed: u64,
    /// Sending threads (one runtime each): the open model's senders, the
    /// closed model's worker threads.
    pub threads: usize,
    /// Progress display.
    pub progress: ProgressMode,
    /// Report format.
    pub output: Output,
    /// Where to write the report as an HTML page, if anywhere.
    pub html: Option<PathBuf>,
    /// This process's part of the run ([`Shard::WHOLE`] unless sharded).
    pub shard: Shard,
    /// When the schedule starts (`None`: at launch).
    pub start_at: Option<SystemTime>,
}

/// How requests are paced.
#[derive(Debug, Clone)]
pub enum Model {
    /// Arrivals follow `schedule` whatever the target does; at most
    /// `max_in_flight` requests wait for answers, the rest are dropped.
    Open {
        /// When each request is due.
        schedule: Schedule,
        /// The in-flight cap.
        max_in_flight: usize,
        /// The keep-alive connections all senders keep at most (at most
        /// `max_in_flight` are ever used).
        connections: usize,
    },
    /// `concurrency` workers send back to back.
    Closed {
        /// Number of workers.
        concurrency: usize,
        /// HTTP/2: the connections the workers share (`None`: one per
        /// thread); over HTTP/1 each worker has its own.
        connections: Option<usize>,
    },
}

impl Plan {
    /// How many OS threads send: the open model's senders (at least one),
    /// or the threads the closed model's workers are spread over (at least
    /// one, at most one per worker of this shard).
    pub fn worker_threads(&self) -> usize {
        match self.model {
            Model::Open { .. } => self.threads.max(1),
            Model::Closed {
                concurrency,
                connections,
            } => {
                // Over HTTP/2, a thread without a connection would idle.
                let workers = self.shard.share(concurrency as u64);
                let most = usize::try_from(workers).unwrap_or(usize::MAX);
                let most = connections.map_or(most, |c| most.min(c));
                self.threads.clamp(1, most.max(1))
            }
        }
    }
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable summary on stdout.
    Text,
    /// One JSON document on stdout; the text summary goes to stderr.
    Json,
}

/// How progress is shown while the run goes on (always on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// `bar` on a terminal, `log` otherwise.
    Auto,
    /// A live indicatif line.
    Bar,
    /// A tracing log line every 10 seconds.
    Log,
    /// Nothing.
    Off,
}
