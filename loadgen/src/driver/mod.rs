//! The two loops that send requests: open (arrival rate, [`open`]) and
//! closed (workers, [`closed`]).
//!
//! Both run on `--threads` OS threads, each with its own single-threaded
//! runtime, so a request, its connection and its recorder accumulators
//! never leave their thread: no work stealing, no cross-thread wake-ups,
//! which is what a client's CPU per request (and its stalls under load) are
//! mostly made of when client and target share a few cores.

mod closed;
mod open;
mod sink;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::time::Instant;

use crate::client::Client;
use crate::exporter::Metrics;
use crate::mix::Mix;
use crate::recorder::Recorder;
use crate::shard::Shard;

pub(crate) use self::closed::closed;
pub(crate) use self::open::{Caps, open};

/// What both loops share.
pub(crate) struct Context {
    /// Sends the requests.
    pub client: Client,
    /// What to send, drawn per request.
    pub mix: Mix,
    /// Where every request's fate goes.
    pub recorder: Arc<Recorder>,
    /// `--metrics-listen`: the same fates, as `loadgen_*` families.
    pub metrics: Option<Arc<Metrics>>,
    /// The instant the schedule counts from.
    pub start: Instant,
    /// No request leaves at or after it (`--duration`).
    pub deadline: Option<Instant>,
    /// At most this many scheduled requests (`--requests`).
    pub requests: Option<u64>,
    /// Seed of the mix draws.
    pub seed: u64,
    /// The part of the run this process sends.
    pub shard: Shard,
}

/// Runs `work(t)` for each thread `t` of `threads`, each on its own OS
/// thread with a single-threaded runtime, and returns their results in
/// thread order once all are done (a panic in one is resumed here).
async fn on_threads<W, F, T>(threads: usize, work: W) -> anyhow::Result<Vec<T>>
where
    W: Fn(usize) -> F,
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut handles = Vec::with_capacity(threads);
    for thread in 0..threads {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a worker runtime")?;
        let future = work(thread);
        let handle = std::thread::Builder::new()
            .name(format!("loadgen-worker-{thread}"))
            .spawn(move || runtime.block_on(future))
            .context("cannot start a worker thread")?;
        handles.push(handle);
    }
    let joined = tokio::task::spawn_blocking(move || {
        let results: Vec<T> = handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
            .collect();
        results
    })
    .await;
    match joined {
        Ok(results) => Ok(results),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(e).context("the worker threads were cancelled"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::header::HeaderMap;
    use tokio::net::TcpSocket;
    use url::Url;

    use std::sync::Arc;

    use tokio::sync::{Semaphore, watch};
    use tokio::time::Instant;

    use super::*;
    use crate::client::{Client, IDLE_LIMIT, Protocol, Trust};
    use crate::mix::Mix;
    use crate::recorder::Recorder;
    use crate::schedule::Schedule;

    /// A client for a port that refuses every connection at once.
    fn refused_client() -> (Client, Mix) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let target = Url::parse(&format!("http://{}", socket.local_addr().unwrap())).unwrap();
        let mix = crate::mix::parse_mix("GET /=1").unwrap();
        let timeout = Duration::from_secs(1);
        let limits = (timeout, IDLE_LIMIT);
        let trust = Trust::default();
        let client = Client::new(
            &target,
            &mix,
            &HeaderMap::new(),
            limits,
            Protocol::Auto,
            &trust,
        )
        .unwrap();
        // Bound, never listening: the port stays refused while `socket` lives.
        std::mem::forget(socket);
        (client, mix)
    }

    /// A generator whose runtime was blocked for 50 ms before its loop
    /// could run (the schedule started 50 ms ago) sends every request late:
    /// it measures that lag and the summary says the figures are its own.
    #[tokio::test]
    async fn a_starved_generator_reports_its_lag_and_warns() {
        let (client, mix) = refused_client();
        let recorder = Arc::new(Recorder::new(1, 1));
        // Blocked: request n was due at n ms, the loop first runs at 50 ms
        // or later, so each leaves at least 50 - n ms late.
        let start = Instant::now() - Duration::from_millis(50);
        let ctx = Arc::new(Context {
            client,
            mix: mix.clone(),
            recorder: recorder.clone(),
            metrics: None,
            start,
            deadline: None,
            requests: Some(10),
            seed: 1,
            shard: Shard::WHOLE,
        });
        let (_stop, stop) = watch::channel(false);
        let caps = Caps {
            in_flight: 100,
            connections: 256,
        };
        open(ctx, &Schedule::constant(1000.0), caps, 1, stop)
            .await
            .unwrap();

        let lag = recorder.schedule_lag();
        assert_eq!(lag.len(), 10);
        assert!(lag.min() >= 41_000 && lag.max() >= 50_000, "{lag:?}");
        let info = crate::summary::RunInfo {
            target: "t".into(),
            shard: None,
            model: crate::summary::ModelKind::Open,
            seed: 1,
            window: Duration::from_millis(10),
            target_rps: 1000.0,
            schedule_lag_us: Some(lag),
            limits: crate::limits::Limits {
                cpu_s: None,
                wall_s: 0.05,
                threads: 1,
            },
            started_at: std::time::SystemTime::now(),
            timeline: Vec::new(),
            protocols: Vec::new(),
            settings: Default::default(),
        };
        let summary = crate::summary::Summary::build(info, &mix, &recorder.snapshot());
        assert!(summary.schedule_lag_ms.is_some_and(|l| l.p50 >= 41.0));
        assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
        assert!(summary.warnings[0].contains("sent late"));
    }

    /// On its one-thread runtime another task runs during a sender's loop
    /// only if the loop yields: it must, while issuing a burst of due
    /// requests.
    #[tokio::test]
    async fn a_catch_up_burst_yields_to_other_tasks() {
        let (client, mix) = refused_client();
        let recorder = Arc::new(Recorder::new(1, 1));
        let ctx = Arc::new(Context {
            client,
            mix,
            recorder: recorder.clone(),
            metrics: None,
            start: Instant::now(),
            deadline: None,
            requests: Some(1000),
            seed: 1,
            shard: Shard::WHOLE,
        });
        let observer = tokio::spawn(async move {
            let p = recorder.progress();
            p.requests + p.dropped
        });
        // A billion a second: every request is already due, one burst.
        let schedule = Schedule::constant(1e9);
        let (_stop, stop) = watch::channel(false);
        let lane = open::Lane {
            thread: 0,
            threads: 1,
        };
        let caps = Caps {
            in_flight: 1,
            connections: 1,
        };
        let cap = (Arc::new(Semaphore::new(1)), caps);
        open::sender(ctx, schedule, lane, cap, stop).await;
        let issued_when_observed = observer.await.unwrap();
        assert!(
            issued_when_observed < 1000,
            "the loop issued all {issued_when_observed} requests before yielding"
        );
    }
}
