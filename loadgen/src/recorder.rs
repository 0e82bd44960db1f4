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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::client::{Outcome, RequestError};
use crate::exporter::Metrics;

/// Highest latency kept exactly: one hour, in microseconds.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// An empty histogram of microseconds, 1 µs to an hour, 3 significant
/// digits: the bounds of every latency and lag histogram, so any two merge.
pub fn histogram_us() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("static histogram bounds are valid")
}

/// Records `d` in microseconds (at least 1, at most the histogram's top).
fn record_us(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    h.saturating_record(us.max(1));
}

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

/// One mix entry's accumulators in one shard; aligned so that two shards
/// (written by two threads) never share a cache line.
#[repr(align(128))]
struct Entry {
    requests: AtomicU64,
    responses: AtomicU64,
    dropped: AtomicU64,
    errors: [AtomicU64; 3],
    /// Statuses and latencies of answers: the only part behind a lock.
    answers: Mutex<(BTreeMap<u16, u64>, Histogram<u64>)>,
}

impl Entry {
    fn new() -> Self {
        let latency = histogram_us();
        Self {
            requests: AtomicU64::new(0),
            responses: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            errors: Default::default(),
            answers: Mutex::new((BTreeMap::new(), latency)),
        }
    }

    fn stats(&self) -> Stats {
        let answers = self.answers();
        Stats {
            requests: self.requests.load(Relaxed),
            responses: self.responses.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            errors: self.errors.each_ref().map(|n| n.load(Relaxed)),
            status_codes: answers.0.clone(),
            latency_us: answers.1.clone(),
        }
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, (BTreeMap<u16, u64>, Histogram<u64>)> {
        // A panic while holding the lock cannot leave the map or histogram
        // half-updated in a way that matters for counting: ignore poisoning.
        self.answers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What one thread writes: its mix entries and its schedule lag.
struct ShardData {
    entries: Box<[Entry]>,
    /// Open model: how late this thread's sends left, in microseconds.
    lag: Mutex<Histogram<u64>>,
}

impl ShardData {
    fn lag(&self) -> std::sync::MutexGuard<'_, Histogram<u64>> {
        self.lag.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The shared accumulator of a run: one shard of accumulators per writing
/// thread.
pub struct Recorder {
    /// `shards[s].entries[idx]`: mix entry `idx` as thread `s` saw it.
    shards: Box<[ShardData]>,
    warned: [AtomicBool; 3],
    metrics: Option<Arc<Metrics>>,
}

impl Recorder {
    /// A recorder for `entries` mix entries written by `shards` threads (at
    /// least one), mirroring into `metrics`.
    pub fn new(entries: usize, shards: usize, metrics: Option<Arc<Metrics>>) -> Self {
        let shard = || ShardData {
            entries: (0..entries).map(|_| Entry::new()).collect(),
            lag: Mutex::new(histogram_us()),
        };
        Self {
            shards: (0..shards.max(1)).map(|_| shard()).collect(),
            warned: Default::default(),
            metrics,
        }
    }

    /// The accumulators thread `index` writes to (taken modulo the number
    /// of shards).
    pub fn shard(&self, index: usize) -> Shard<'_> {
        Shard {
            data: &self.shards[index % self.shards.len()],
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
        let mut stats: Vec<Stats> = first.entries.iter().map(Entry::stats).collect();
        for shard in rest {
            for (total, entry) in stats.iter_mut().zip(shard.entries.iter()) {
                total.merge(&entry.stats());
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

/// One thread's view of the recorder: where it writes its requests.
pub struct Shard<'a> {
    data: &'a ShardData,
    recorder: &'a Recorder,
}

impl Shard<'_> {
    /// Entry `idx` is being sent, `lag` after its intended time (open
    /// model: recorded in the schedule lag).
    pub fn sent(&self, idx: usize, lag: Option<Duration>) {
        self.data.entries[idx].requests.fetch_add(1, Relaxed);
        if let Some(lag) = lag {
            record_us(&mut self.data.lag(), lag);
        }
        if let Some(m) = &self.recorder.metrics {
            m.sent(lag);
        }
    }

    /// Entry `idx` finished with `outcome`; latency counts from `since`.
    pub fn finished(&self, idx: usize, since: Instant, outcome: &Outcome) {
        let latency = since.elapsed();
        let entry = &self.data.entries[idx];
        let outcome = match outcome {
            Ok(status) => {
                let mut answers = entry.answers();
                *answers.0.entry(*status).or_default() += 1;
                record_us(&mut answers.1, latency);
                drop(answers);
                entry.responses.fetch_add(1, Relaxed);
                Ok(*status)
            }
            Err(e) => {
                self.recorder.warn_once(e);
                entry.errors[e.kind().index()].fetch_add(1, Relaxed);
                Err(e.kind())
            }
        };
        if let Some(m) = &self.recorder.metrics {
            m.finished(idx, latency, outcome);
        }
    }

    /// Entry `idx` was due but the in-flight cap refused it.
    pub fn dropped(&self, idx: usize) {
        self.data.entries[idx].dropped.fetch_add(1, Relaxed);
        if let Some(m) = &self.recorder.metrics {
            m.dropped(idx);
        }
    }
}

#[cfg(test)]
mod tests {
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
}
