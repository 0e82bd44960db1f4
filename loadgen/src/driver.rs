//! The two loops that send requests: open (arrival rate) and closed (workers).
//!
//! Open model: request `n` is due at `start + schedule.intended(n)`; the loop
//! sleeps until then unless it is already late, in which case it sends at
//! once and keeps sending until it has caught up (a late timer must not lower
//! the rate). Each request carries its intended instant, and latency is
//! measured from it, so a stalled target shows as latency and, past
//! `--max-in-flight`, as dropped requests — never as a quietly lower rate.
//! The cap is a semaphore taken with `try_acquire`: nothing ever queues.
//!
//! Closed model: N workers send back to back; latency counts from the actual
//! send, which is what such a benchmark measures (and why it is not the
//! default).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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
    pub client: Client,
    pub mix: Mix,
    pub recorder: Arc<Recorder>,
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub requests: Option<u64>,
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
        let due = schedule.intended(n).map(|offset| ctx.start + offset);
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
        } else if *stop.borrow() {
            break Instant::now();
        }
        let now = Instant::now();
        let idx = ctx.mix.pick(&mut rng);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                ctx.recorder
                    .sent(idx, Some(now.saturating_duration_since(at)));
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let outcome = ctx.client.send(idx).await;
                    ctx.recorder.finished(idx, at, &outcome);
                    drop(permit);
                });
            }
            Err(_) => ctx.recorder.dropped(idx),
        }
        last_send = now;
        n += 1;
    };
    // Every request in flight holds a permit: taking them all is the drain.
    let all = u32::try_from(max_in_flight).expect("the cap is clamped to u32");
    let _drained = permits.acquire_many(all).await;
    end.max(last_send)
}

/// Runs `concurrency` workers back to back until the deadline, the request
/// count or `stop`; returns the end of the sending window.
pub(crate) async fn closed(
    ctx: Arc<Context>,
    concurrency: usize,
    stop: watch::Receiver<bool>,
) -> Instant {
    let issued = Arc::new(AtomicU64::new(0));
    let limit = ctx.requests.unwrap_or(u64::MAX);
    let mut workers = JoinSet::new();
    for worker in 0..concurrency as u64 {
        let (ctx, stop, issued) = (ctx.clone(), stop.clone(), issued.clone());
        workers.spawn(async move {
            // One RNG per worker: deterministic with --seed, no shared lock.
            let mut rng = SmallRng::seed_from_u64(ctx.seed.wrapping_add(worker));
            loop {
                let late = ctx.deadline.is_some_and(|d| Instant::now() >= d);
                if late || *stop.borrow() || issued.fetch_add(1, Relaxed) >= limit {
                    break;
                }
                let idx = ctx.mix.pick(&mut rng);
                let sent_at = Instant::now();
                ctx.recorder.sent(idx, None);
                let outcome = ctx.client.send(idx).await;
                ctx.recorder.finished(idx, sent_at, &outcome);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let now = Instant::now();
    ctx.deadline.map_or(now, |d| now.min(d))
}
