//! obslab-loadgen: weighted, open-model, honest HTTP load generation.
//!
//! The library is the whole tool, so tests drive real runs in-process; the
//! binary only parses, runs and maps the result to an exit code. This file
//! wires the pieces: [`LoadTest::run`] reads as a run's steps, which the
//! private `session` module holds. The modules are layered, every import
//! pointing down:
//!
//! - values, which know nothing of a run: [`value`] (option parsers),
//!   [`hdr`] (histograms and their encodings), [`mix`], [`schedule`] (pure
//!   pacing), [`shard`] (which requests of a run are this process's),
//!   [`time`] (instants as reports write them), [`threshold`], [`limits`]
//!   (when the generator limits the figures);
//! - the run [`plan`], which [`cli`] and [`scenario`] both produce, and the
//!   [`client`] that sends (with its outcome taxonomy);
//! - the run's accounts, side by side: [`recorder`] accumulates, [`exporter`]
//!   mirrors the same events as Prometheus metrics;
//! - the run itself: the private `driver` paces and hands every event to
//!   both, the private `progress` shows it live;
//! - [`summary`], which measures what the thresholds ask for, and
//!   [`report`], which renders it (and [`html`], as a page);
//! - [`merge`], which reads reports back and adds them up into one; the
//!   private `session`, a run's steps from pre-flight to what its summary is
//!   built from.

pub mod cli;
pub mod client;
mod driver;
pub mod exporter;
pub mod hdr;
pub mod html;
pub mod limits;
pub mod merge;
pub mod mix;
pub mod plan;
mod progress;
pub mod recorder;
pub mod report;
pub mod scenario;
pub mod schedule;
mod session;
pub mod shard;
pub mod summary;
pub mod threshold;
pub mod time;
pub mod value;

use std::net::SocketAddr;
use std::sync::Arc;

pub use cli::Args;
pub use plan::{Model, Output, Plan, ProgressMode};
pub use summary::Summary;

use crate::client::Client;
use crate::exporter::Metrics;
use crate::recorder::Recorder;

/// A prepared run: client built, metrics listener bound.
pub struct LoadTest {
    plan: Plan,
    client: Client,
    /// Where every request's fate is written down.
    recorder: Arc<Recorder>,
    /// Beside it, `--metrics-listen`'s view of the same fates.
    metrics: Option<Arc<Metrics>>,
    metrics_addr: Option<SocketAddr>,
}

impl LoadTest {
    /// Builds the client and, with `--metrics-listen`, starts serving
    /// `loadgen_*` metrics (so a failure to bind is reported before any
    /// load). They are served until the tokio runtime that called this
    /// shuts down, the final counts included once the run is over.
    pub async fn prepare(plan: Plan) -> anyhow::Result<Self> {
        let client = Client::new(
            &plan.target,
            &plan.mix,
            &plan.headers,
            (plan.timeout, plan.idle_limit),
            plan.protocol,
            &plan.trust,
        )?;
        let (metrics, metrics_addr) = match plan.metrics_listen {
            Some(addr) => {
                let metrics = Arc::new(Metrics::new(&plan.mix, client.seen().clone())?);
                let listener = exporter::bind(addr).await?;
                let local = listener.local_addr()?;
                tokio::spawn(exporter::serve(metrics.clone(), listener));
                (Some(metrics), Some(local))
            }
            None => (None, None),
        };
        let threads = plan.worker_threads();
        let recorder = Arc::new(Recorder::new(plan.mix.entries().len(), threads));
        Ok(Self {
            plan,
            client,
            recorder,
            metrics,
            metrics_addr,
        })
    }

    /// The address `/metrics` is served on (with its actual port).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Runs the plan until it ends or `shutdown` resolves, waits for the
    /// requests in flight, and returns the summary with thresholds judged.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<Summary> {
        let LoadTest {
            plan,
            client,
            recorder,
            metrics,
            ..
        } = self;
        let mut shutdown = Box::pin(shutdown);
        session::preflight(&plan, &client, shutdown.as_mut()).await?;
        let seen = client.seen().clone();
        let driven = session::drive(&plan, client, (&recorder, metrics.as_ref()), shutdown).await?;
        let info = session::run_info(&plan, &recorder, &seen, driven);
        let summary = Summary::build(info, &plan.mix, &recorder.snapshot());
        for warning in &summary.warnings {
            tracing::warn!("{warning}");
        }
        Ok(summary.judged(&plan.thresholds))
    }
}

/// Prepares and runs `plan` in one call.
pub async fn run(
    plan: Plan,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Summary> {
    LoadTest::prepare(plan).await?.run(shutdown).await
}
