//! Where every request's fate is written down, in constant memory.
//!
//! Each mix entry has a handful of atomic counters and one HdrHistogram of
//! latencies (microseconds, 3 significant digits, up to an hour); the total
//! is their merge, computed when the report is built. Tasks record directly
//! here, so there is no channel that could grow: counting is an atomic add,
//! and only an answer takes the entry's lock (never held across an await) to
//! record its status and latency. The `--metrics-listen` families are
//! updated by the same calls, so the two views cannot drift.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::client::Outcome;
use crate::exporter::Metrics;

/// Highest latency kept exactly: one hour, in microseconds.
const MAX_LATENCY_US: u64 = 3_600_000_000;

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

/// One mix entry's accumulators.
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
        let latency = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .expect("static histogram bounds are valid");
        Self {
            requests: AtomicU64::new(0),
            responses: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            errors: Default::default(),
            answers: Mutex::new((BTreeMap::new(), latency)),
        }
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, (BTreeMap<u16, u64>, Histogram<u64>)> {
        // A panic while holding the lock cannot leave the map or histogram
        // half-updated in a way that matters for counting: ignore poisoning.
        self.answers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The shared accumulator of a run.
pub struct Recorder {
    entries: Vec<Entry>,
    warned: [AtomicBool; 3],
    metrics: Option<Arc<Metrics>>,
}

impl Recorder {
    /// A recorder for `entries` mix entries, mirroring into `metrics`.
    pub fn new(entries: usize, metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            entries: (0..entries).map(|_| Entry::new()).collect(),
            warned: Default::default(),
            metrics,
        }
    }

    /// Entry `idx` is being sent, `lag` after its intended time (open model).
    pub fn sent(&self, idx: usize, lag: Option<Duration>) {
        self.entries[idx].requests.fetch_add(1, Relaxed);
        if let Some(m) = &self.metrics {
            m.sent(lag);
        }
    }

    /// Entry `idx` finished with `outcome`; latency counts from `since`.
    pub fn finished(&self, idx: usize, since: Instant, outcome: &Outcome) {
        let latency = since.elapsed();
        let outcome = match outcome {
            Ok(status) => Ok(*status),
            Err(e) => {
                let kind = e.kind();
                if !self.warned[kind.index()].swap(true, Relaxed) {
                    tracing::warn!("first {} error: {}", kind.as_str(), e.chain());
                }
                Err(kind)
            }
        };
        let entry = &self.entries[idx];
        match outcome {
            Ok(status) => {
                let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                let mut answers = entry.answers();
                *answers.0.entry(status).or_default() += 1;
                answers.1.saturating_record(us.max(1));
                drop(answers);
                entry.responses.fetch_add(1, Relaxed);
            }
            Err(kind) => {
                entry.errors[kind.index()].fetch_add(1, Relaxed);
            }
        }
        if let Some(m) = &self.metrics {
            m.finished(idx, latency, outcome);
        }
    }

    /// Entry `idx` was due but the in-flight cap refused it.
    pub fn dropped(&self, idx: usize) {
        self.entries[idx].dropped.fetch_add(1, Relaxed);
        if let Some(m) = &self.metrics {
            m.dropped(idx);
        }
    }

    /// Publishes the schedule's current rate to the metrics, if exported.
    pub fn target_rate(&self, rate: f64) {
        if let Some(m) = &self.metrics {
            m.set_target_rate(rate);
        }
    }

    /// Running totals for the progress display: a few atomic loads per
    /// mix entry.
    pub fn progress(&self) -> Progress {
        let mut p = Progress::default();
        for e in &self.entries {
            p.requests += e.requests.load(Relaxed);
            p.responses += e.responses.load(Relaxed);
            p.errors += e.errors.iter().map(|n| n.load(Relaxed)).sum::<u64>();
            p.dropped += e.dropped.load(Relaxed);
        }
        p
    }

    /// A copy of every entry's stats, in mix order.
    pub fn snapshot(&self) -> Vec<Stats> {
        self.entries
            .iter()
            .map(|e| {
                let answers = e.answers();
                Stats {
                    requests: e.requests.load(Relaxed),
                    responses: e.responses.load(Relaxed),
                    dropped: e.dropped.load(Relaxed),
                    errors: e.errors.each_ref().map(|n| n.load(Relaxed)),
                    status_codes: answers.0.clone(),
                    latency_us: answers.1.clone(),
                }
            })
            .collect()
    }
}
