//! Where every request's fate is written down, in constant memory.
//!
//! Each mix entry has a handful of atomic counters and one HdrHistogram of
//! latencies (microseconds, 3 significant digits, up to an hour); the total
//! is their merge, computed when the report is built. Tasks record directly
//! here, so there is no channel that could grow: counting is an atomic add,
//! and only an answer takes the entry's lock (never held across an await) to
//! record its status and latency. The `--metrics-listen` families are
//! updated by the same calls, so the two views cannot drift.
//!
//! The accumulators come in shards, one per closed-model worker thread, so
//! those threads share no recorder counter and no lock on the hot path: a
//! thread writes only to its own [`Shard`], whose locks only the (rare)
//! readers contend for. Readers merge: [`Recorder::progress`] sums the
//! counters of every shard for the live display, [`Recorder::snapshot`]
//! adds the histograms up (HdrHistograms merge exactly). The open model's
//! sender threads each record into their own shard too.
//!
//! Each shard also keeps the open model's schedule lag: how late each
//! request left after its intended instant, in an HdrHistogram with the
//! latencies' unit and bounds, so the generator's own delays are measured
//! rather than silently added to the target's latency.
//!
//! And each shard keeps its own timeline, one entry a second from the start
//! of the schedule: requests sent, and requests that finished (answered or
//! not) that second with the latencies of the answers. A shard is written
//! by one thread, whose clock only goes forward, so the current second's
//! counts are atomics beside the totals and its latencies go into one more
//! histogram under the lock the answer takes anyway. When the thread's first
//! event of a later second comes, it closes the current one (once a second,
//! not per request): the counts are taken, the histogram packed into its
//! small V2 form and cleared. [`Recorder::timeline`] adds the shards' seconds
//! up when the report is built.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::client::RequestError;
use crate::exporter::Metrics;
pub use crate::hdr::histogram_us;

mod shard;
mod timeline;

pub use self::shard::Shard;
use self::shard::ShardData;
pub use self::timeline::Second;

/// Counts and latencies of one mix entry (or of the whole run, merged).
#[derive(Debug, Clone)]
pub struct Stats {
    /// Requests sent.
    pub requests: u64,
    /// Requests answered with any HTTP status.
    pub responses: u64,
    /// Scheduled requests refused by the in-flight cap.
    pub dropped: u64,
    /// Requests without an answer, by kind (in [`crate::client::ErrorKind::ALL`] order).
    pub errors: [u64; 3],
    /// Answers by HTTP status.
    pub status_codes: BTreeMap<u16, u64>,
    /// Latencies of answered requests, in microseconds.
    pub latency_us: Histogram<u64>,
}

impl Stats {
    /// Adds `other` into `self` (used for the run's total).
    pub fn merge(&mut self, other: &Stats) {
        self.requests += other.requests;
        self.responses += other.responses;
        self.dropped += other.dropped;
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
        for (code, n) in &other.status_codes {
            *self.status_codes.entry(*code).or_default() += n;
        }
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms share their bounds");
    }
}

/// Running totals cheap enough to read for every progress tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Requests sent.
    pub requests: u64,
    /// Requests answered with any HTTP status.
    pub responses: u64,
    /// Requests without an answer.
    pub errors: u64,
    /// Requests refused by the in-flight cap.
    pub dropped: u64,
}

/// The shared accumulator of a run: one shard of accumulators per writing
/// thread.
pub struct Recorder {
    /// `shards[s].entries[idx]`: mix entry `idx` as thread `s` saw it.
    shards: Box<[ShardData]>,
    /// The instant the timeline counts from (the schedule's start).
    start: OnceLock<Instant>,
    warned: [AtomicBool; 3],
    metrics: Option<Arc<Metrics>>,
}

impl Recorder {
    /// A recorder for `entries` mix entries written by `shards` threads (at
    /// least one), mirroring into `metrics`.
    pub fn new(entries: usize, shards: usize, metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            shards: (0..shards.max(1))
                .map(|_| ShardData::new(entries))
                .collect(),
            start: OnceLock::new(),
            warned: Default::default(),
            metrics,
        }
    }

    /// Sets the instant the timeline counts from, before any request (at
    /// the first request otherwise); later calls change nothing.
    pub fn start_at(&self, start: Instant) {
        let _ = self.start.set(start);
    }

    /// The accumulators thread `index` writes to (taken modulo the number
    /// of shards). One thread writes to a shard.
    pub fn shard(&self, index: usize) -> Shard<'_> {
        Shard {
            data: &self.shards[index % self.shards.len()],
            start: *self.start.get_or_init(Instant::now),
            recorder: self,
        }
    }

    /// Publishes the schedule's current rate to the metrics, if exported.
    pub fn target_rate(&self, rate: f64) {
        if let Some(m) = &self.metrics {
            m.set_target_rate(rate);
        }
    }

    /// Running totals for the progress display: a few atomic loads per
    /// mix entry and shard.
    pub fn progress(&self) -> Progress {
        let mut p = Progress::default();
        for e in self.shards.iter().flat_map(|shard| shard.entries.iter()) {
            p.requests += e.requests.load(Relaxed);
            p.responses += e.responses.load(Relaxed);
            p.errors += e.errors.iter().map(|n| n.load(Relaxed)).sum::<u64>();
            p.dropped += e.dropped.load(Relaxed);
        }
        p
    }

    /// A copy of every entry's stats, shards merged, in mix order.
    pub fn snapshot(&self) -> Vec<Stats> {
        let (first, rest) = self.shards.split_first().expect("at least one shard");
        let answers = first.answers();
        let mut stats: Vec<Stats> = (0..first.entries.len())
            .map(|idx| first.stats(&answers, idx))
            .collect();
        drop(answers);
        for shard in rest {
            let answers = shard.answers();
            for (idx, total) in stats.iter_mut().enumerate() {
                total.merge(&shard.stats(&answers, idx));
            }
        }
        stats
    }

    /// How late the sends left after their intended instants (open model),
    /// in microseconds, shards merged.
    pub fn schedule_lag(&self) -> Histogram<u64> {
        let mut lag = histogram_us();
        for shard in &self.shards {
            lag.add(&*shard.lag())
                .expect("histograms share their bounds");
        }
        lag
    }

    /// Calls `each` with every second from the start to the last one
    /// anything happened in, in order, shards added up (a second without
    /// events has zero counts).
    pub fn timeline(&self, each: impl FnMut(&Second)) {
        let guards: Vec<_> = self.shards.iter().map(|s| (s, s.answers())).collect();
        timeline::add_up(guards.iter().map(|(s, a)| (&s.clock, &a.book)), each);
    }

    /// Logs the first error of each kind, with its cause chain.
    fn warn_once(&self, error: &RequestError) {
        let warned = &self.warned[error.kind().index()];
        // Read before writing, so an error storm does not bounce the flag's
        // cache line between threads.
        if !warned.load(Relaxed) && !warned.swap(true, Relaxed) {
            tracing::warn!("first {} error: {}", error.kind().as_str(), error.chain());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn shards_add_up_in_the_progress_and_the_snapshot() {
        let recorder = Recorder::new(2, 3, None);
        let start = Instant::now();
        let timeout = || Err(RequestError::Timeout(Duration::from_secs(1)));
        for index in 0..3 {
            let shard = recorder.shard(index);
            shard.sent(0, Some(Duration::from_millis(index as u64)));
            shard.finished(0, start, &Ok(200));
            shard.sent(1, None);
            shard.finished(1, start, &timeout());
            shard.dropped(1);
        }
        // Index 4 of 3 shards is shard 1.
        recorder.shard(4).sent(0, None);
        recorder.shard(4).finished(0, start, &Ok(500));

        let progress = Progress {
            requests: 7,
            responses: 4,
            errors: 3,
            dropped: 3,
        };
        assert_eq!(recorder.progress(), progress);
        let stats = recorder.snapshot();
        assert_eq!(stats[0].requests, 4);
        assert_eq!(stats[0].status_codes, BTreeMap::from([(200, 3), (500, 1)]));
        assert_eq!(stats[0].latency_us.len(), 4);
        assert_eq!((stats[1].requests, stats[1].dropped), (3, 3));
        assert_eq!(stats[1].errors, [3, 0, 0]);
        assert!(stats[1].latency_us.is_empty());
        // Only sends with a lag count in it: 0, 1 and 2 ms.
        let lag = recorder.schedule_lag();
        assert_eq!((lag.len(), lag.max() / 1000), (3, 2));
    }

    #[test]
    fn the_timeline_adds_the_shards_seconds_up() {
        let recorder = Recorder::new(2, 2, None);
        let start = Instant::now();
        recorder.start_at(start);
        let at = |ms: u64| start + Duration::from_millis(ms);
        let timeout = || Err(RequestError::Timeout(Duration::from_secs(1)));
        // Shard 0: one request a second for 3 s, each answered in 100 ms.
        let zero = recorder.shard(0);
        for s in 0..3 {
            zero.sent_at(0, None, at(1000 * s));
            zero.finished_at(0, at(1000 * s), &Ok(200), at(1000 * s + 100));
        }
        // Shard 1: sent in second 0, one answered in 2 s (second 2), one
        // timed out in second 5; nothing in seconds 3 and 4.
        let one = recorder.shard(1);
        one.sent_at(1, None, at(10));
        one.sent_at(1, None, at(20));
        one.finished_at(1, at(10), &Ok(500), at(2010));
        one.finished_at(1, at(20), &timeout(), at(5020));

        let (mut rows, mut timeline) = (Vec::new(), Vec::new());
        recorder.timeline(|s| {
            rows.push((s.t, s.requests, s.responses, s.errors, s.latency_us.len()));
            timeline.push(s.clone());
        });
        assert_eq!(
            rows,
            [
                (0, 3, 1, 0, 1),
                (1, 1, 1, 0, 1),
                (2, 1, 2, 0, 2),
                (3, 0, 0, 0, 0),
                (4, 0, 0, 0, 0),
                (5, 0, 0, 1, 0),
            ]
        );
        assert_eq!(timeline[2].latency_us.max() / 1000, 2000);
        // The seconds add up to the totals.
        let stats = recorder.snapshot();
        let responses: u64 = stats.iter().map(|s| s.responses).sum();
        assert_eq!(timeline.iter().map(|s| s.responses).sum::<u64>(), responses);
        let mut latency = histogram_us();
        for s in &timeline {
            latency.add(&s.latency_us).unwrap();
        }
        let mut total = stats[0].latency_us.clone();
        total.add(&stats[1].latency_us).unwrap();
        assert_eq!(latency, total);
    }
}
