//! Open model: request `n` is due at `start + schedule.intended(n)`, whatever
//! the target does.
//!
//! The schedule is dealt over `--threads` senders, each an OS thread with
//! its own single-threaded runtime, its own keep-alive connections and its
//! own recorder shard: sender `k` of `T` sends the requests `n ≡ k (mod T)`
//! of the one absolute schedule. A sender sleeps until its next request is
//! due unless it is already late, in which case it sends at once and keeps
//! sending until it has caught up (a late timer must not lower the rate);
//! while catching up it spends tokio's cooperative budget, so a long burst
//! yields now and then to the requests it started. Each request carries its
//! intended instant: latency is measured from it, and how late it left is
//! recorded as the schedule lag, so a stalled target shows as latency and,
//! past `--max-in-flight`, as dropped requests — never as a quietly lower
//! rate — and a stalled generator shows as lag.
//!
//! The cap is one semaphore shared by the senders, taken with `try_acquire`:
//! nothing ever queues. A request takes an idle connection of its sender
//! (the most recently used) or opens one, and gives it back when answered;
//! hyper's shared pool, whose checkout and connect under bursts cost more
//! than the exchange, is not on this path. At most [`CONNECTING`] new
//! connections per sender are being opened at once: a burst that finds no
//! idle connection waits (holding its in-flight permit, its latency still
//! counting from its intended instant) for a connection to come back or a
//! connect to finish, instead of sending hundreds of SYNs that overflow the
//! target's accept queue and come back a second later. The mix draw of request `n`
//! comes from an RNG seeded with `seed + n`, so a seed gives the same
//! requests whatever the number of threads.

use std::sync::{Arc, Mutex, PoisonError};

use rand::SeedableRng as _;
use rand::rngs::SmallRng;
use tokio::sync::{Notify, Semaphore, SemaphorePermit, mpsc, watch};
use tokio::time::{Instant, sleep_until};

use super::{Context, on_threads};
use crate::client::{Client, Connection};
use crate::schedule::Schedule;

/// New connections one sender may be opening at once.
pub(super) const CONNECTING: usize = 16;

/// A sender's keep-alive connections: idle ones, and the right to open more.
struct Connections {
    idle: Mutex<Vec<Connection>>,
    /// Permits to open a connection (at most [`CONNECTING`] at once).
    connecting: Semaphore,
    /// Told when a connection comes back.
    returned: Notify,
}

impl Connections {
    fn new() -> Self {
        Self {
            idle: Mutex::default(),
            connecting: Semaphore::new(CONNECTING),
            returned: Notify::new(),
        }
    }

    fn pop(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// The most recently used idle connection, or a new one with the
    /// permit to open it (hold it until its first answer), whichever is
    /// first available.
    async fn take(&self, client: &Client) -> (Connection, Option<SemaphorePermit<'_>>) {
        loop {
            let returned = self.returned.notified();
            if let Some(connection) = self.pop() {
                return (connection, None);
            }
            tokio::select! {
                biased;
                () = returned => {}
                permit = self.connecting.acquire() => {
                    return (client.connection(), permit.ok());
                }
            }
        }
    }

    /// Gives `connection` back for the next request.
    fn give_back(&self, connection: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(connection);
        self.returned.notify_one();
    }
}

/// Which part of the schedule a sender sends: `n ≡ thread (mod threads)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lane {
    /// This sender's index, also its recorder shard.
    pub thread: usize,
    /// The number of senders.
    pub threads: usize,
}

/// Where a sender's window ended: the slot of its first request not sent,
/// and its last send.
pub(super) struct Ended {
    slot: Instant,
    last_send: Instant,
}

/// Runs the open model on `threads` senders until the schedule, the
/// deadline, the request count or `stop` ends it, then waits for requests
/// in flight; returns the end of the sending window.
pub(crate) async fn open(
    ctx: Arc<Context>,
    schedule: &Schedule,
    max_in_flight: usize,
    threads: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Instant> {
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let ended = on_threads(threads, |thread| {
        let lane = Lane { thread, threads };
        sender(
            ctx.clone(),
            schedule.clone(),
            lane,
            permits.clone(),
            stop.clone(),
        )
    })
    .await?;
    // The window closes at the first slot not used (the schedule is
    // monotonic, so the earliest of the senders'), or at the last send.
    let slot = ended.iter().map(|e| e.slot).min();
    let last = ended.iter().map(|e| e.last_send).max();
    Ok(slot.max(last).unwrap_or(ctx.start))
}

/// One sender: the requests of `lane`, each at its instant; returns once
/// they are all answered.
pub(super) async fn sender(
    ctx: Arc<Context>,
    schedule: Schedule,
    lane: Lane,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> Ended {
    let connections = Arc::new(Connections::new());
    // Every request holds a clone of `running`: when all are dropped, the
    // requests of this sender are done.
    let (running, mut done) = mpsc::channel::<()>(1);
    let limit = ctx.requests.unwrap_or(u64::MAX);
    let shard = ctx.recorder.shard(lane.thread);
    let mut last_send = ctx.start;
    let mut n = lane.thread as u64;
    let slot = loop {
        let due = schedule
            .intended(n)
            .and_then(|offset| ctx.start.checked_add(offset));
        let at = match due {
            Some(at) if n < limit && ctx.deadline.is_none_or(|d| at < d) => at,
            _ => {
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
            // started requests (and the timers) once the budget is spent;
            // then look at `stop`, which may have come meanwhile.
            tokio::task::coop::consume_budget().await;
            if *stop.borrow() {
                break Instant::now();
            }
        }
        let now = Instant::now();
        let idx = ctx
            .mix
            .pick(&mut SmallRng::seed_from_u64(ctx.seed.wrapping_add(n)));
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                shard.sent(idx, Some(now.saturating_duration_since(at)));
                let (ctx, connections) = (ctx.clone(), connections.clone());
                let running = running.clone();
                tokio::spawn(async move {
                    let (mut connection, opening) = connections.take(&ctx.client).await;
                    let outcome = connection.send(idx).await;
                    drop(opening);
                    connections.give_back(connection);
                    ctx.recorder.shard(lane.thread).finished(idx, at, &outcome);
                    drop((permit, running));
                });
            }
            Err(_) => shard.dropped(idx),
        }
        last_send = now;
        n += lane.threads as u64;
    };
    drop(running);
    let _ = done.recv().await;
    Ended {
        slot: slot.max(ctx.start),
        last_send,
    }
}
