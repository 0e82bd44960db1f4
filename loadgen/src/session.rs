//! One run's steps, which [`crate::LoadTest::run`] takes in order:
//! [`preflight`] (the target is there and can be trusted), [`drive`] (the
//! stop signal, the `--start-at` wait, the model's loops, the generator's
//! CPU), then [`run_info`], what the run knew beyond the recorded counts,
//! from which its summary is built once.

use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use crate::client::{self, Client, Seen};
use crate::driver::{self, Context};
use crate::exporter::Metrics;
use crate::limits::{self, Limits};
use crate::plan::{Model, Plan};
use crate::progress::Monitor;
use crate::recorder::Recorder;
use crate::shard::{self, Shard};
use crate::summary::{ModelKind, RunInfo, Settings, Tick};
use crate::time::rfc3339;

/// What driving measured beyond the recorder's counts.
pub(crate) struct Driven {
    /// The instant the schedule counted from.
    start: Instant,
    /// The same, on the wall clock.
    started_at: SystemTime,
    /// The end of the sending window.
    end: Instant,
    /// The generator's CPU and wall time, and the threads it could use.
    limits: Limits,
    /// How wide the run was (known once the client has settled its protocol).
    settings: Settings,
}

/// With `--wait-for-target`, waits for the target to accept connections;
/// then, unless `--insecure`, makes sure its certificate is trusted. Either
/// stops when `shutdown` resolves.
pub(crate) async fn preflight<F: Future<Output = ()>>(
    plan: &Plan,
    client: &Client,
    mut shutdown: Pin<&mut F>,
) -> anyhow::Result<()> {
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
            trusted = client.check_certificate(&plan.target) => trusted?,
            () = &mut shutdown => anyhow::bail!("stopped while connecting to the target"),
        }
    }
    Ok(())
}

/// Sends the plan's requests through `client` into `recorder` (and
/// `metrics`) until the plan ends or `shutdown` resolves, and waits for the
/// requests in flight.
pub(crate) async fn drive<F: Future<Output = ()> + Send + 'static>(
    plan: &Plan,
    mut client: Client,
    (recorder, metrics): (&Arc<Recorder>, Option<&Arc<Metrics>>),
    shutdown: Pin<Box<F>>,
) -> anyhow::Result<Driven> {
    let (stop_tx, stop) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        shutdown.await;
        tracing::info!("stopping: waiting for the requests in flight");
        let _ = stop_tx.send(true);
    });
    client.settle().await;
    let settings = Settings::of(plan, client.multiplexes());
    let cpu_before = limits::process_cpu_seconds();
    let (start, started_at) = start_instant(plan.start_at)?;
    recorder.start_at(start);
    let ctx = Arc::new(Context {
        client,
        mix: plan.mix.clone(),
        recorder: recorder.clone(),
        metrics: metrics.cloned(),
        start,
        // A duration past what the clock can hold means until stopped.
        deadline: plan.duration.and_then(|d| start.checked_add(d)),
        requests: plan.requests,
        seed: plan.seed,
        shard: plan.shard,
    });
    wait_for_start(plan.start_at, start, stop.clone()).await;
    // Stopped while waiting for --start-at: the drivers send nothing.
    if !*stop.borrow() {
        announce(plan);
    }
    let schedule = match &plan.model {
        Model::Open { schedule, .. } => Some(schedule.clone()),
        Model::Closed { .. } => None,
    };
    let watched = (recorder.clone(), metrics.cloned());
    let monitor = Monitor::start(
        plan.progress,
        watched,
        schedule,
        start,
        plan.shard.fraction(),
    );
    let threads = plan.worker_threads();
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
            driver::open(ctx, schedule, caps, threads, stop).await
        }
        Model::Closed {
            concurrency,
            connections,
        } => driver::closed(ctx, (*concurrency, *connections), threads, stop).await,
    };
    monitor.finish();
    stopper.abort();
    let end = end?;
    let wall_s = start.elapsed().as_secs_f64();
    let cpu_s = limits::process_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    if let Some(m) = metrics {
        m.set_target_rate(0.0);
    }
    Ok(Driven {
        start,
        started_at,
        end,
        limits: Limits {
            cpu_s,
            wall_s,
            threads: Limits::usable(threads),
        },
        settings,
    })
}

/// What the run knew beyond the counts in `recorder`: the window, the
/// schedule's rate over it, the lag, the timeline, the protocols `seen`.
pub(crate) fn run_info(plan: &Plan, recorder: &Recorder, seen: &Seen, driven: Driven) -> RunInfo {
    let window = driven.end.saturating_duration_since(driven.start);
    // A shard's target is its share of the schedule (the merge adds them).
    let target_rps = match &plan.model {
        Model::Open { schedule, .. } if !window.is_zero() => {
            schedule.hits(window) / window.as_secs_f64() * plan.shard.fraction()
        }
        _ => 0.0,
    };
    let mut timeline = Vec::new();
    recorder.timeline(|second| timeline.push(Tick::of(second)));
    RunInfo {
        target: target(plan),
        shard: sharded(plan),
        model: ModelKind::from(&plan.model),
        seed: plan.seed,
        window,
        target_rps,
        schedule_lag_us: matches!(plan.model, Model::Open { .. }).then(|| recorder.schedule_lag()),
        limits: driven.limits,
        started_at: driven.started_at,
        timeline,
        protocols: (0..plan.mix.entries().len())
            .map(|i| seen.report(i))
            .collect(),
        settings: driven.settings,
    }
}

/// The target as reports and logs name it: without a trailing `/`.
fn target(plan: &Plan) -> String {
    plan.target.as_str().trim_end_matches('/').to_owned()
}

/// The part of the run this process sends, when it is not the whole.
fn sharded(plan: &Plan) -> Option<Shard> {
    (plan.shard != Shard::WHOLE).then_some(plan.shard)
}

/// Logs the start of the model (and of which shard).
fn announce(plan: &Plan) {
    let (target, model) = (target(plan), ModelKind::from(&plan.model));
    match sharded(plan) {
        Some(shard) => tracing::info!(%target, seed = plan.seed, %shard,
            "starting {model} model, shard {shard}"),
        None => tracing::info!(%target, seed = plan.seed, "starting {model} model"),
    }
}

/// With `--start-at` still ahead, sleeps until `start` or until stopped.
async fn wait_for_start(
    start_at: Option<SystemTime>,
    start: Instant,
    mut stop: watch::Receiver<bool>,
) {
    let Some(at) = start_at.filter(|_| start > Instant::now()) else {
        return;
    };
    let wait = start - Instant::now();
    tracing::info!("waiting {wait:.1?} for --start-at {}", rfc3339(at));
    tokio::select! {
        () = sleep_until(start) => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
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
            rfc3339(at),
            past.duration(),
            shard::START_AT_SLACK
        ),
    }
}
