//! Where every request's fate is written down, in constant memory.
//!
//! Each mix entry has one HdrHistogram of latencies (microseconds, 3
//! significant digits, up to an hour) and a handful of counters; the total
//! is their merge, computed when the report is built. Tasks record directly
//! here (a short, uncontended lock per entry, never held across an await),
//! so there is no channel that could grow, and the `--metrics-listen`
//! families are updated by the same calls, so the two views cannot drift.

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
    fn new() -> Self {
        Self {
            requests: 0,
            responses: 0,
            dropped: 0,
            errors: [0; 3],
            status_codes: BTreeMap::new(),
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("static histogram bounds are valid"),
        }
    }

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

/// The shared accumulator of a run.
pub struct Recorder {
    entries: Vec<Mutex<Stats>>,
    requests: AtomicU64,
    responses: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
    warned: [AtomicBool; 3],
    metrics: Option<Arc<Metrics>>,
}

impl Recorder {
    /// A recorder for `entries` mix entries, mirroring into `metrics`.
    pub fn new(entries: usize, metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            entries: (0..entries).map(|_| Mutex::new(Stats::new())).collect(),
            requests: AtomicU64::new(0),
            responses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            warned: Default::default(),
            metrics,
        }
    }

    /// Entry `idx` is being sent, `lag` after its intended time (open model).
    pub fn sent(&self, idx: usize, lag: Option<Duration>) {
        self.requests.fetch_add(1, Relaxed);
        self.lock(idx).requests += 1;
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
        {
            let mut stats = self.lock(idx);
            match outcome {
                Ok(status) => {
                    stats.responses += 1;
                    *stats.status_codes.entry(status).or_default() += 1;
                    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                    stats.latency_us.saturating_record(us.max(1));
                }
                Err(kind) => stats.errors[kind.index()] += 1,
            }
        }
        match outcome {
            Ok(_) => self.responses.fetch_add(1, Relaxed),
            Err(_) => self.errors.fetch_add(1, Relaxed),
        };
        if let Some(m) = &self.metrics {
            m.finished(idx, latency, outcome);
        }
    }

    /// Entry `idx` was due but the in-flight cap refused it.
    pub fn dropped(&self, idx: usize) {
        self.dropped.fetch_add(1, Relaxed);
        self.lock(idx).dropped += 1;
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

    /// Running totals for the progress display.
    pub fn progress(&self) -> Progress {
        Progress {
            requests: self.requests.load(Relaxed),
            responses: self.responses.load(Relaxed),
            errors: self.errors.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
        }
    }

    /// A copy of every entry's stats, in mix order.
    pub fn snapshot(&self) -> Vec<Stats> {
        (0..self.entries.len())
            .map(|i| self.lock(i).clone())
            .collect()
    }

    fn lock(&self, idx: usize) -> std::sync::MutexGuard<'_, Stats> {
        // A panic while holding the lock cannot leave Stats half-updated in
        // a way that matters for counting, so poisoning is ignored.
        self.entries[idx].lock().unwrap_or_else(|p| p.into_inner())
    }
}
