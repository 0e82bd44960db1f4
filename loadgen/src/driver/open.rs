//! Open model: request `n` is due at `start + schedule.intended(n)`, whatever
//! the target does.
//!
//! The schedule is dealt over `--threads` senders, each an OS thread with
//! its own single-threaded runtime, its own keep-alive connections and its
//! own recorder accumulators: sender `k` of `T` sends the requests `n ≡ k (mod T)`
//! of the one absolute schedule. A process that is shard `I` of `N`
//! (`--shard`) deals its own requests `n = I + m·N` the same way: sender
//! `k` sends those with `m ≡ k (mod T)`. A sender sleeps until its next request is
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
//! (the most recently used) or opens one, and gives it back when answered:
//! no pool shared by the senders, whose checkout and connects under bursts
//! would cost more than the exchange. The senders together keep at
//! most `--connections` connections (or `--max-in-flight`, if lower), and
//! each opens at most [`CONNECTING`] at once: a burst that finds no idle
//! connection waits, holding its in-flight permit, for one to come back or
//! a connect to finish. Without that bound a stall snowballed: every
//! request due meanwhile opened a connection of its own, the connects and
//! accepts cost the target (on the same cores) more CPU, their SYNs
//! overflowed its accept queue (retransmitted a second later), and the run
//! ended in drops. A request leaves when it has a connection, so the time
//! it waited for one counts in the schedule lag (and its latency, as
//! always, from the intended instant): a generator short of connections
//! says so. The mix draw of request `n`
//! comes from an RNG seeded with `seed + n`, so a seed gives the same
//! requests whatever the number of threads or shards.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use rand::SeedableRng as _;
use rand::rngs::SmallRng;
use tokio::sync::{Notify, Semaphore, SemaphorePermit, mpsc, watch};
use tokio::time::{Instant, sleep_until};

use super::{Context, on_threads};
use crate::client::{Client, Connection, Shared};
use crate::schedule::Schedule;

/// New connections one sender may be opening at once.
pub(super) const CONNECTING: usize = 16;

/// HTTP/2 streams a sender puts on one connection before it opens the
/// next: the smallest `SETTINGS_MAX_CONCURRENT_STREAMS` RFC 9113 advises
/// (a target that allows fewer has hyper queue the rest).
pub(super) const STREAMS: usize = 100;

/// A sender's keep-alive connections: idle ones, and the right to open more.
/// Over HTTP/2 a "connection" here is a stream's handle: the `n`-th made
/// goes on shared connection `n / STREAMS`.
struct Connections {
    idle: Mutex<Vec<Connection>>,
    /// Connections made so far, at most `cap`.
    opened: AtomicUsize,
    cap: usize,
    /// Permits to open a connection (at most [`CONNECTING`] at once).
    connecting: Semaphore,
    /// Told when a connection comes back.
    returned: Notify,
    /// HTTP/2: the connections the streams share.
    shared: Vec<Arc<Shared>>,
}

impl Connections {
    /// Room for `cap` connections (at least one).
    fn new(cap: usize) -> Self {
        Self {
            idle: Mutex::default(),
            opened: AtomicUsize::new(0),
            cap: cap.max(1),
            connecting: Semaphore::new(CONNECTING),
            returned: Notify::new(),
            shared: Vec::new(),
        }
    }

    /// Room for `streams` streams over at most `connections` HTTP/2
    /// connections, [`STREAMS`] to a connection before the next is used.
    fn multiplexed(streams: usize, connections: usize) -> Self {
        let used = streams.div_ceil(STREAMS).clamp(1, connections.max(1));
        Self {
            connecting: Semaphore::new(Semaphore::MAX_PERMITS),
            shared: (0..used).map(|_| Arc::default()).collect(),
            ..Self::new(streams)
        }
    }

    /// The `n`-th connection made (counting from 0).
    fn make(&self, client: &Client, n: usize) -> Connection {
        match self.shared.len() {
            0 => client.connection(),
            len => client.stream(&self.shared[(n / STREAMS).min(len - 1)]),
        }
    }

    fn pop(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// The most recently used idle connection, or, below the cap, a new
    /// one with the permit to open it (hold it until its first answer),
    /// whichever is first available.
    async fn take(&self, client: &Client) -> (Connection, Option<SemaphorePermit<'_>>) {
        loop {
            let returned = self.returned.notified();
            if let Some(connection) = self.pop() {
                return (connection, None);
            }
            if self.opened.load(Relaxed) >= self.cap {
                returned.await;
                continue;
            }
            tokio::select! {
                biased;
                () = returned => {}
                permit = self.connecting.acquire() => {
                    // Another request may have taken the last room meanwhile.
                    let n = self.opened.fetch_add(1, Relaxed);
                    if n < self.cap {
                        return (self.make(client, n), permit.ok());
                    }
                    self.opened.fetch_sub(1, Relaxed);
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

/// Which part of the process's requests a sender sends: its `m`-th
/// request (request `n` of the run, see [`crate::shard::Shard::nth`]) for
/// `m ≡ thread (mod threads)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lane {
    /// This sender's index, also the recorder accumulators it writes to.
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
    caps: Caps,
    threads: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Instant> {
    let permits = Arc::new(Semaphore::new(caps.in_flight));
    let ended = on_threads(threads, |thread| {
        let lane = Lane { thread, threads };
        let cap = (permits.clone(), caps);
        sender(ctx.clone(), schedule.clone(), lane, cap, stop.clone())
    })
    .await?;
    // The window closes at the first slot not used (the schedule is
    // monotonic, so the earliest of the senders'), or at the last send.
    let slot = ended.iter().map(|e| e.slot).min();
    let last = ended.iter().map(|e| e.last_send).max();
    Ok(slot.max(last).unwrap_or(ctx.start))
}

/// The open model's two bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    /// Requests in flight at most (`--max-in-flight`): beyond it, dropped.
    pub in_flight: usize,
    /// Connections kept at most by all senders together (`--connections`).
    pub connections: usize,
}

impl Caps {
    /// The connections one of `threads` senders may keep: its share of
    /// the connections, or of the in-flight cap if lower.
    fn connections_per_sender(self, threads: usize) -> usize {
        self.connections
            .min(self.in_flight)
            .div_ceil(threads.max(1))
    }
}

/// One sender: the requests of `lane`, each at its instant, under the
/// in-flight cap (`permits`), with its share of the connections of `caps`;
/// returns once they are all answered.
pub(super) async fn sender(
    ctx: Arc<Context>,
    schedule: Schedule,
    lane: Lane,
    (permits, caps): (Arc<Semaphore>, Caps),
    mut stop: watch::Receiver<bool>,
) -> Ended {
    let share = caps.connections_per_sender(lane.threads);
    let connections = Arc::new(if ctx.client.multiplexes() {
        Connections::multiplexed(caps.in_flight, share)
    } else {
        Connections::new(share)
    });
    // Every request holds a clone of `running`: when all are dropped, the
    // requests of this sender are done.
    let (running, mut done) = mpsc::channel::<()>(1);
    let limit = ctx.requests.unwrap_or(u64::MAX);
    let sink = ctx.sink(lane.thread);
    let mut last_send = ctx.start;
    let mut m = lane.thread as u64;
    let slot = loop {
        let n = ctx.shard.nth(m);
        let due = n
            .and_then(|n| schedule.intended(n))
            .and_then(|offset| ctx.start.checked_add(offset));
        let at = match (n, due) {
            (Some(n), Some(at)) if n < limit && ctx.deadline.is_none_or(|d| at < d) => at,
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
        let (now, n) = (Instant::now(), n.expect("a due request has a number"));
        let idx = ctx
            .mix
            .pick(&mut SmallRng::seed_from_u64(ctx.seed.wrapping_add(n)));
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let (ctx, connections) = (ctx.clone(), connections.clone());
                let running = running.clone();
                tokio::spawn(async move {
                    let (mut connection, opening) = connections.take(&ctx.client).await;
                    let sink = ctx.sink(lane.thread);
                    let now = Instant::now();
                    sink.sent_at(idx, Some(now.saturating_duration_since(at)), now);
                    let outcome = connection.send(idx).await;
                    drop(opening);
                    connections.give_back(connection);
                    sink.finished(idx, at, &outcome);
                    drop((permit, running));
                });
            }
            Err(_) => sink.dropped(idx),
        }
        last_send = now;
        m += lane.threads as u64;
    };
    drop(running);
    let _ = done.recv().await;
    Ended {
        slot: slot.max(ctx.start),
        last_send,
    }
}
