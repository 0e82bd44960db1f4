//! The two loops that send requests: open (arrival rate) and closed (workers).
//!
//! Open model: request `n` is due at `start + schedule.intended(n)`; the loop
//! sleeps until then unless it is already late, in which case it sends at
//! once and keeps sending until it has caught up (a late timer must not lower
//! the rate). Each request carries its intended instant, and latency is
//! measured from it, so a stalled target shows as latency and, past
//! `--max-in-flight`, as dropped requests — never as a quietly lower rate.
//! The cap is a semaphore taken with `try_acquire`: nothing ever queues.
//! While catching up the loop spends tokio's cooperative budget, so a long
//! burst of due requests yields now and then to the tasks it spawns; the
//! instants stay those of the schedule.
//!
//! Closed model: N workers, each on its own keep-alive connection, send back
//! to back; latency counts from the actual send, which is what such a
//! benchmark measures (and why it is not the default). Each worker thread
//! records into its own shard of the recorder.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use anyhow::Context as _;
use rand::SeedableRng as _;
use rand::rngs::SmallRng;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use crate::client::Client;
use crate::mix::Mix;
use crate::recorder::Recorder;
use crate::schedule::Schedule;

/// What both loops share.
pub(crate) struct Context {
    /// Sends the requests.
    pub client: Client,
    /// What to send, drawn per request.
    pub mix: Mix,
    /// Where every request's fate goes.
    pub recorder: Arc<Recorder>,
    /// The instant the schedule counts from.
    pub start: Instant,
    /// No request leaves at or after it (`--duration`).
    pub deadline: Option<Instant>,
    /// At most this many scheduled requests (`--requests`).
    pub requests: Option<u64>,
    /// Seed of the mix draws.
    pub seed: u64,
}

/// Runs the open model until the schedule, the deadline, the request count
/// or `stop` ends it, then waits for requests in flight; returns the end of
/// the sending window.
pub(crate) async fn open(
    ctx: Arc<Context>,
    schedule: &Schedule,
    max_in_flight: usize,
    mut stop: watch::Receiver<bool>,
) -> Instant {
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let mut rng = SmallRng::seed_from_u64(ctx.seed);
    let limit = ctx.requests.unwrap_or(u64::MAX);
    let mut last_send = ctx.start;
    let mut n = 0;
    let end = loop {
        let due = schedule
            .intended(n)
            .and_then(|offset| ctx.start.checked_add(offset));
        let at = match due {
            Some(at) if n < limit && ctx.deadline.is_none_or(|d| at < d) => at,
            _ => {
                // The window closes at the slot that will not be used.
                let slot = due
                    .or_else(|| schedule.length().map(|len| ctx.start + len))
                    .unwrap_or(last_send);
                break ctx.deadline.map_or(slot, |d| slot.min(d));
            }
        };
        if at > Instant::now() {
            tokio::select! {
                () = sleep_until(at) => {}
                _ = stop.wait_for(|stopped| *stopped) => break Instant::now(),
            }
        } else {
            // Behind schedule: send at once, but let the runtime run the
            // spawned requests (and the timers) once the budget is spent;
            // then look at `stop`, which may have come meanwhile.
            tokio::task::coop::consume_budget().await;
            if *stop.borrow() {
                break Instant::now();
            }
        }
        let now = Instant::now();
        let idx = ctx.mix.pick(&mut rng);
        let shard = ctx.recorder.shard(0);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                shard.sent(idx, Some(now.saturating_duration_since(at)));
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let outcome = ctx.client.send(idx).await;
                    ctx.recorder.shard(0).finished(idx, at, &outcome);
                    drop(permit);
                });
            }
            Err(_) => shard.dropped(idx),
        }
        last_send = now;
        n += 1;
    };
    // Every request in flight holds a permit: taking them all is the drain.
    let all = u32::try_from(max_in_flight).expect("the cap is clamped to u32");
    let _drained = permits.acquire_many(all).await;
    end.max(last_send)
}

/// Runs `concurrency` workers back to back over `threads` threads (at
/// most one per worker: see [`crate::plan::Plan::worker_threads`]) until the
/// deadline, the request count or `stop`; returns the end of the sending
/// window.
///
/// Each worker owns one keep-alive connection, as in wrk and oha, so
/// `concurrency` is also the number of connections. The workers are dealt
/// round-robin over `threads` OS threads, each with a single-threaded
/// runtime, so a request and its connection never leave their thread: no
/// work stealing, no cross-thread wake-ups, which is what the client's CPU
/// per request is mostly made of when client and target share a few cores.
/// Thread `t` records into the recorder's shard `t`, merged when read, so
/// the counts are the same as with one runtime.
pub(crate) async fn closed(
    ctx: Arc<Context>,
    concurrency: usize,
    threads: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Instant> {
    let issued = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::with_capacity(threads);
    for thread in 0..threads {
        let group = ctx.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a worker runtime")?;
        let workers: Vec<u64> = (thread as u64..concurrency as u64)
            .step_by(threads)
            .collect();
        let (stop, issued) = (stop.clone(), issued.clone());
        let handle = std::thread::Builder::new()
            .name(format!("loadgen-worker-{thread}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let mut set = JoinSet::new();
                    for id in workers {
                        let worker =
                            worker(group.clone(), thread, id, stop.clone(), issued.clone());
                        set.spawn(worker);
                    }
                    while set.join_next().await.is_some() {}
                });
            })
            .context("cannot start a worker thread")?;
        handles.push(handle);
    }
    let joined = tokio::task::spawn_blocking(move || {
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    })
    .await;
    if let Err(e) = joined {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
    let now = Instant::now();
    Ok(ctx.deadline.map_or(now, |d| now.min(d)))
}

/// One closed-model worker of thread `thread`: the next request as soon as
/// the last is done.
async fn worker(
    ctx: Arc<Context>,
    thread: usize,
    id: u64,
    stop: watch::Receiver<bool>,
    issued: Arc<AtomicU64>,
) {
    // One RNG per worker: deterministic with --seed, no shared lock.
    let mut rng = SmallRng::seed_from_u64(ctx.seed.wrapping_add(id));
    let mut connection = ctx.client.connection();
    let recorder = ctx.recorder.shard(thread);
    loop {
        let late = ctx.deadline.is_some_and(|d| Instant::now() >= d);
        let counted = ctx
            .requests
            .is_some_and(|limit| issued.fetch_add(1, Relaxed) >= limit);
        if late || *stop.borrow() || counted {
            break;
        }
        let idx = ctx.mix.pick(&mut rng);
        let sent_at = Instant::now();
        recorder.sent(idx, None);
        let outcome = connection.send(idx).await;
        recorder.finished(idx, sent_at, &outcome);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::header::HeaderMap;
    use tokio::net::TcpSocket;
    use url::Url;

    use super::*;
    use crate::mix::Mix;

    /// A client for a port that refuses every connection at once.
    fn refused_client() -> (Client, Mix) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let target = Url::parse(&format!("http://{}", socket.local_addr().unwrap())).unwrap();
        let mix = crate::mix::parse_mix("GET /=1").unwrap();
        let timeout = Duration::from_secs(1);
        let client = Client::new(&target, &mix, &HeaderMap::new(), timeout).unwrap();
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
        let recorder = Arc::new(Recorder::new(1, 1, None));
        // Blocked: request n was due at n ms, the loop first runs at 50 ms
        // or later, so each leaves at least 50 - n ms late.
        let start = Instant::now() - Duration::from_millis(50);
        let ctx = Arc::new(Context {
            client,
            mix: mix.clone(),
            recorder: recorder.clone(),
            start,
            deadline: None,
            requests: Some(10),
            seed: 1,
        });
        let (_stop, stop) = watch::channel(false);
        open(ctx, &Schedule::constant(1000.0), 100, stop).await;

        let lag = recorder.schedule_lag();
        assert_eq!(lag.len(), 10);
        assert!(lag.min() >= 41_000 && lag.max() >= 50_000, "{lag:?}");
        let info = crate::summary::RunInfo {
            target: "t".into(),
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
        };
        let summary = crate::summary::Summary::build(info, &mix, &recorder.snapshot());
        assert!(summary.schedule_lag_ms.is_some_and(|l| l.p50 >= 41.0));
        assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
        assert!(summary.warnings[0].contains("sent late"));
    }

    /// On a one-thread runtime another task runs during the open loop only
    /// if the loop yields: it must, while issuing a burst of due requests.
    #[tokio::test]
    async fn a_catch_up_burst_yields_to_other_tasks() {
        let (client, mix) = refused_client();
        let recorder = Arc::new(Recorder::new(1, 1, None));
        let ctx = Arc::new(Context {
            client,
            mix,
            recorder: recorder.clone(),
            start: Instant::now(),
            deadline: None,
            requests: Some(1000),
            seed: 1,
        });
        let observer = tokio::spawn(async move {
            let p = recorder.progress();
            p.requests + p.dropped
        });
        // A billion a second: every request is already due, one burst.
        let schedule = Schedule::constant(1e9);
        let (_stop, stop) = watch::channel(false);
        open(ctx, &schedule, 1, stop).await;
        let issued_when_observed = observer.await.unwrap();
        assert!(
            issued_when_observed < 1000,
            "the loop issued all {issued_when_observed} requests before yielding"
        );
    }
}
