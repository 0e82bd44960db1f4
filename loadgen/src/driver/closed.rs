//! Closed model: N workers, each on its own keep-alive connection, send back
//! to back; latency counts from the actual send, which is what such a
//! benchmark measures (and why it is not the default). Each worker thread
//! records into its own accumulators of the recorder.
//!
//! What a seed makes reproducible. With `--requests R` the requests are
//! numbered as workers claim them, `0..R` for the whole run (shard `I` of
//! `N` claims `I, I+N, ...`), and the mix draw of request `n` comes from
//! `seed + n`: one seed sends the same requests per endpoint however many
//! workers, threads or shards, and `N` shards together send exactly what
//! one process sends. Which worker sends which number, and in what order,
//! depends on the target's timing. Without `--requests` (a duration, or
//! until stopped) how many requests a worker gets through is timing too,
//! so only each worker's sequence of draws is fixed: worker `w` of the run
//! (shard `w mod N`'s) draws from `seed + w`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use rand::SeedableRng as _;
use rand::rngs::SmallRng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Context, on_threads};
use crate::client::{Connection, Shared};

/// Runs `concurrency` workers back to back over `threads` threads (at
/// most one per worker: see [`crate::plan::Plan::worker_threads`]) until the
/// deadline, the request count or `stop`; returns the end of the sending
/// window.
///
/// Over HTTP/1 each worker owns one keep-alive connection, as in wrk and
/// oha, so `concurrency` is also the number of connections. Over HTTP/2
/// the workers of a thread share its part of `connections` (one per thread
/// when `None`), one stream each, worker `i` of the thread on connection
/// `i mod k`: fewer connections than workers. The workers are dealt
/// round-robin over `threads` OS threads, each with a single-threaded
/// runtime, so a request and its connection never leave their thread: no
/// work stealing, no cross-thread wake-ups, which is what the client's CPU
/// per request is mostly made of when client and target share a few cores.
/// Thread `t` records into the recorder's accumulators `t`, merged when
/// read, so the counts are the same as with one runtime.
pub(crate) async fn closed(
    ctx: Arc<Context>,
    (concurrency, connections): (usize, Option<usize>),
    threads: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Instant> {
    let issued = Arc::new(AtomicU64::new(0));
    let own: Vec<u64> = ctx.shard.workers(concurrency as u64).collect();
    let connections = connections.unwrap_or(threads);
    on_threads(threads, |thread| {
        let group = ctx.clone();
        let workers: Vec<u64> = own.iter().copied().skip(thread).step_by(threads).collect();
        // This thread's share of the HTTP/2 connections (at least one).
        let share = (connections + threads - 1 - thread) / threads;
        let shared: Vec<Arc<Shared>> = (0..share.max(1)).map(|_| Arc::default()).collect();
        let (stop, issued) = (stop.clone(), issued.clone());
        async move {
            let mut set = JoinSet::new();
            for (i, id) in workers.into_iter().enumerate() {
                let connection = if group.client.multiplexes() {
                    group.client.stream(&shared[i % shared.len()])
                } else {
                    group.client.connection()
                };
                let worker = worker(
                    group.clone(),
                    (thread, id),
                    connection,
                    stop.clone(),
                    issued.clone(),
                );
                set.spawn(worker);
            }
            while set.join_next().await.is_some() {}
        }
    })
    .await?;
    let now = Instant::now();
    Ok(ctx.deadline.map_or(now, |d| now.min(d)))
}

/// One closed-model worker of thread `thread` (`id`: its number in the
/// whole run), on `connection`: the next request as soon as the last is
/// done.
async fn worker(
    ctx: Arc<Context>,
    (thread, id): (usize, u64),
    mut connection: Connection,
    stop: watch::Receiver<bool>,
    issued: Arc<AtomicU64>,
) {
    // Without a count, one RNG per worker: deterministic with --seed, no
    // shared lock.
    let mut rng = SmallRng::seed_from_u64(ctx.seed.wrapping_add(id));
    let sink = ctx.sink(thread);
    loop {
        let late = ctx.deadline.is_some_and(|d| Instant::now() >= d);
        // With a count, the next number of this shard, drawn from seed + n.
        let numbered = ctx.requests.map(|limit| {
            let m = issued.fetch_add(1, Relaxed);
            ctx.shard.nth(m).filter(|n| *n < limit)
        });
        if late || *stop.borrow() || numbered.is_some_and(|n| n.is_none()) {
            break;
        }
        let idx = match numbered.flatten() {
            Some(n) => ctx
                .mix
                .pick(&mut SmallRng::seed_from_u64(ctx.seed.wrapping_add(n))),
            None => ctx.mix.pick(&mut rng),
        };
        let sent_at = Instant::now();
        sink.sent_at(idx, None, sent_at);
        let outcome = connection.send(idx).await;
        sink.finished(idx, sent_at, &outcome);
    }
}
