//! obslab-loadgen: weighted, open-model, honest HTTP load generation.
//!
//! The library is the whole tool, so tests drive real runs in-process; the
//! binary only parses, runs and maps the result to an exit code. This file
//! wires the pieces and nothing else. The modules are layered, every import
//! pointing down:
//!
//! - values, which know nothing of a run: [`value`] (option parsers),
//!   [`hdr`] (histograms and their encodings), [`mix`], [`schedule`] (pure pacing), [`shard`] (which requests of a
//!   run are this process's), [`threshold`], [`limits`] (when the generator
//!   limits the figures);
//! - the run [`plan`], which [`cli`] and [`scenario`] both produce, and the
//!   [`client`] that sends (with its outcome taxonomy);
//! - the run itself: the private `driver` paces, [`recorder`] accumulates
//!   (mirrored by [`exporter`]), the private `progress` shows it live;
//! - [`summary`], which measures what the thresholds ask for, and
//!   [`report`], which renders it (and [`html`], as a page);
//! - [`merge`], which reads reports back and adds them up into one.

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
pub mod shard;
pub mod summary;
pub mod threshold;
pub mod value;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

pub use cli::Args;
pub use plan::{Model, Output, Plan, ProgressMode};
pub use summary::Summary;

use crate::client::Client;
use crate::driver::Context;
use crate::exporter::Metrics;
use crate::limits::Limits;
use crate::progress::Monitor;
use crate::recorder::Recorder;
use crate::shard::Shard;
use crate::summary::{ModelKind, RunInfo, Settings, Tick};

/// A prepared run: client built, metrics listener bound.
pub struct LoadTest {
    plan: Plan,
    client: Client,
    recorder: Arc<Recorder>,
    metrics_addr: Option<SocketAddr>,
    exporter: Option<JoinHandle<()>>,
}

impl LoadTest {
    /// Builds the client and, with `--metrics-listen`, starts serving
    /// `loadgen_*` metrics (so a failure to bind is reported before any load).
    pub async fn prepare(plan: Plan) -> anyhow::Result<Self> {
        let client = Client::new(
            &plan.target,
            &plan.mix,
            &plan.headers,
            (plan.timeout, plan.idle_limit),
            plan.protocol,
            &plan.trust,
        )?;
        let (metrics, metrics_addr, exporter) = match plan.metrics_listen {
            Some(addr) => {
                let metrics = Arc::new(Metrics::new(&plan.mix, client.seen().clone())?);
                let listener = exporter::bind(addr).await?;
                let local = listener.local_addr()?;
                let task = tokio::spawn(exporter::serve(metrics.clone(), listener));
                (Some(metrics), Some(local), Some(task))
            }
            None => (None, None, None),
        };
        let shards = plan.worker_threads();
        let recorder = Arc::new(Recorder::new(plan.mix.entries().len(), shards, metrics));
        Ok(Self {
            plan,
            client,
            recorder,
            metrics_addr,
            exporter,
        })
    }

    /// The address `/metrics` is served on (with its actual port).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Runs the plan until it ends or `shutdown` resolves, waits for the
    /// requests in flight, and returns the summary with thresholds judged.
    /// Call it once: counts accumulate, and `/metrics` keeps serving them
    /// until the `LoadTest` is dropped.
    pub async fn run(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<Summary> {
        let plan = &self.plan;
        let mut shutdown = Box::pin(shutdown);
        if let Some(within) = plan.wait_for_target {
            tokio::select! {
                ready = client::wait_for(&plan.target, within) => ready?,
                () = &mut shutdown => anyhow::bail!("stopped while waiting for the target"),
            }
        }
        if plan.trust.insecure && plan.target.scheme() == "https" {
            tracing::warn!("--insecure: the target's TLS certificate is not verified");
        } else {
            tokio::select! {
                trusted = self.client.check_certificate(&plan.target) => trusted?,
                () = &mut shutdown => anyhow::bail!("stopped while connecting to the target"),
            }
        }
        let (stop_tx, stop) = watch::channel(false);
        let stopper = tokio::spawn(async move {
            shutdown.await;
            tracing::info!("stopping: waiting for the requests in flight");
            let _ = stop_tx.send(true);
        });
        let mut client = self.client.clone();
        client.settle().await;
        let settings = Settings::of(plan, client.multiplexes());
        let cpu_before = limits::process_cpu_seconds();
        let (start, started_at) = start_instant(plan.start_at)?;
        self.recorder.start_at(start);
        let ctx = Arc::new(Context {
            client,
            mix: plan.mix.clone(),
            recorder: self.recorder.clone(),
            start,
            // A duration past what the clock can hold means until stopped.
            deadline: plan.duration.and_then(|d| start.checked_add(d)),
            requests: plan.requests,
            seed: plan.seed,
            shard: plan.shard,
        });
        let schedule = match &plan.model {
            Model::Open { schedule, .. } => Some(schedule.clone()),
            Model::Closed { .. } => None,
        };
        let target = plan.target.as_str().trim_end_matches('/').to_owned();
        let shard = (plan.shard != Shard::WHOLE).then_some(plan.shard);
        if let Some(at) = plan.start_at.filter(|_| start > Instant::now()) {
            let wait = start - Instant::now();
            tracing::info!("waiting {wait:.1?} for --start-at {}", shard::rfc3339(at));
            let mut stop = stop.clone();
            tokio::select! {
                () = sleep_until(start) => {}
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
        }
        match shard {
            // Stopped while waiting for --start-at: the drivers send nothing.
            _ if *stop.borrow() => {}
            Some(shard) => tracing::info!(%target, seed = plan.seed, %shard,
                "starting {} model, shard {shard}", ModelKind::from(&plan.model)),
            None => tracing::info!(%target, seed = plan.seed,
                "starting {} model", ModelKind::from(&plan.model)),
        }
        let share = 1.0 / plan.shard.count as f64;
        let monitor = Monitor::start(plan.progress, self.recorder.clone(), schedule, start, share);
        let end = match &plan.model {
            Model::Open {
                schedule,
                max_in_flight,
                connections,
            } => {
                let caps = driver::Caps {
                    in_flight: *max_in_flight,
                    connections: *connections,
                };
                driver::open(ctx, schedule, caps, plan.worker_threads(), stop).await
            }
            Model::Closed {
                concurrency,
                connections,
            } => {
                let workers = (*concurrency, *connections);
                driver::closed(ctx, workers, plan.worker_threads(), stop).await
            }
        };
        monitor.finish();
        stopper.abort();
        let end = end?;
        let wall_s = start.elapsed().as_secs_f64();
        let cpu_s = limits::process_cpu_seconds()
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        self.recorder.target_rate(0.0);

        let window = end.saturating_duration_since(start);
        // A shard's target is its share of the schedule (the merge adds them).
        let target_rps = match &plan.model {
            Model::Open { schedule, .. } if !window.is_zero() => {
                schedule.hits(window) / window.as_secs_f64() * share
            }
            _ => 0.0,
        };
        let mut timeline = Vec::new();
        self.recorder
            .timeline(|second| timeline.push(Tick::of(second)));
        let info = RunInfo {
            target,
            shard,
            model: ModelKind::from(&plan.model),
            seed: plan.seed,
            window,
            target_rps,
            schedule_lag_us: matches!(plan.model, Model::Open { .. })
                .then(|| self.recorder.schedule_lag()),
            limits: Limits {
                cpu_s,
                wall_s,
                threads: Limits::usable(plan.worker_threads()),
            },
            started_at,
            timeline,
            settings,
        };
        let mut summary = Summary::build(info, &plan.mix, &self.recorder.snapshot());
        let seen = self.client.seen();
        summary.set_protocols((0..plan.mix.entries().len()).map(|i| seen.report(i)));
        summary.thresholds = plan
            .thresholds
            .iter()
            .map(|t| t.evaluate(&summary))
            .collect();
        for warning in &summary.warnings {
            tracing::warn!("{warning}");
        }
        Ok(summary)
    }
}

/// The instant the schedule counts from: now, or `--start-at` (at most
/// [`shard::START_AT_SLACK`] in the past), with its wall-clock time.
fn start_instant(start_at: Option<SystemTime>) -> anyhow::Result<(Instant, SystemTime)> {
    let (now, wall) = (Instant::now(), SystemTime::now());
    let Some(at) = start_at else {
        return Ok((now, wall));
    };
    match at.duration_since(wall) {
        Ok(ahead) => Ok((now + ahead, at)),
        Err(past) if past.duration() <= shard::START_AT_SLACK => {
            Ok((now.checked_sub(past.duration()).unwrap_or(now), at))
        }
        Err(past) => anyhow::bail!(
            "--start-at {}: that instant passed {:.1?} ago (more than {:?}): give a time still ahead when every shard has started, e.g. `date -u -d '+1 min' +%FT%TZ`",
            shard::rfc3339(at),
            past.duration(),
            shard::START_AT_SLACK
        ),
    }
}

impl Drop for LoadTest {
    fn drop(&mut self) {
        if let Some(task) = &self.exporter {
            task.abort();
        }
    }
}

/// Prepares and runs `plan` in one call.
pub async fn run(
    plan: Plan,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Summary> {
    LoadTest::prepare(plan).await?.run(shutdown).await
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM; call it inside the
/// tokio runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    // The handlers are installed now, not at the first poll, so a signal
    // sent right after start still stops the run with its report.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let recv = |signal: std::io::Result<tokio::signal::unix::Signal>| async move {
                match signal {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(_) => std::future::pending().await,
                }
            };
            tokio::select! {
                () = recv(interrupt) => {}
                () = recv(terminate) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
