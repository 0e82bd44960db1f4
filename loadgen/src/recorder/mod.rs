//! Where every request's fate is written down, in constant memory.
//!
//! Each mix entry has a handful of atomic counters and one HdrHistogram of
//! latencies (microseconds, 3 significant digits, up to an hour); the total
//! is their merge, computed when the report is built. Tasks record directly
//! here, so there is no channel that could grow: counting is an atomic add,
//! and the locks are the writing thread's own (never held across an
//! await): an answer takes one to record its status and latency (the first
//! event of a new second takes it too, to close the last), an open-model
//! send another to record its schedule lag; only readers ever wait for
//! them. The `--metrics-listen` families are not kept here:
//! the driver hands each event to a [`Writer`] and to the exporter in one
//! call, so the two views cannot drift.
//!
//! The accumulators come one set per sending thread (the open model's
//! senders, the closed model's worker threads), so those threads share no
//! recorder counter and no lock on the hot path: a thread writes only to
//! its own through its [`Writer`], whose locks only the (rare) readers
//! contend for. Readers merge: [`Recorder::progress`] sums the counters of
//! every thread for the live display, [`Recorder::snapshot`] adds the
//! histograms up (HdrHistograms merge exactly).
//!
//! Each thread's set also keeps the open model's schedule lag: how late
//! each request left after its intended instant, in an HdrHistogram with
//! the latencies' unit and bounds, so the generator's own delays are
//! measured rather than silently added to the target's latency.
//!
//! And each keeps its own timeline, one entry a second from the start of
//! the schedule: requests sent, and requests that finished (answered or
//! not) that second with the latencies of the answers. A set is written by
//! one thread, whose clock only goes forward, so the current second's
//! counts are atomics beside the totals and its latencies go into one more
//! histogram under the lock the answer takes anyway. When the thread's first
//! event of a later second comes, it closes the current one (once a second,
//! not per request): the counts are taken, the histogram packed into its
//! small V2 form and cleared. [`Recorder::timeline`] adds the threads'
//! seconds up when the report is built.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::client::RequestError;
pub use crate::hdr::histogram_us;

mod timeline;
mod writer;

pub use self::timeline::Second;
use self::writer::PerThread;
pub use self::writer::Writer;

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

/// The shared accumulator of a run: one set of accumulators per writing
/// thread.
pub struct Recorder {
    /// `threads[t].entries[idx]`: mix entry `idx` as thread `t` saw it.
    threads: Box<[PerThread]>,
    /// The instant the timeline counts from (the schedule's start).
    start: OnceLock<Instant>,
    warned: [AtomicBool; 3],
}

impl Recorder {
    /// A recorder for `entries` mix entries written by `threads` threads
    /// (at least one).
    pub fn new(entries: usize, threads: usize) -> Self {
        Self {
            threads: (0..threads.max(1))
                .map(|_| PerThread::new(entries))
                .collect(),
            start: OnceLock::new(),
            warned: Default::default(),
        }
    }

    /// Sets the instant the timeline counts from, before any request (at
    /// the first request otherwise); later calls change nothing.
    pub fn start_at(&self, start: Instant) {
        let _ = self.start.set(start);
    }

    /// Where thread `index` writes (its accumulators, taken modulo the
    /// number of threads). One thread writes to a set.
    pub fn writer(&self, index: usize) -> Writer<'_> {
        Writer {
            data: &self.threads[index % self.threads.len()],
            start: *self.start.get_or_init(Instant::now),
            recorder: self,
        }
    }

    /// Running totals for the progress display: a few atomic loads per
    /// mix entry and thread.
    pub fn progress(&self) -> Progress {
        let mut p = Progress::default();
        for e in self.threads.iter().flat_map(|data| data.entries.iter()) {
            p.requests += e.requests.load(Relaxed);
            p.responses += e.responses.load(Relaxed);
            p.errors += e.errors.iter().map(|n| n.load(Relaxed)).sum::<u64>();
            p.dropped += e.dropped.load(Relaxed);
        }
        p
    }

    /// A copy of every entry's stats, threads merged, in mix order.
    pub fn snapshot(&self) -> Vec<Stats> {
        let (first, rest) = self.threads.split_first().expect("at least one thread");
        let answers = first.answers();
        let mut stats: Vec<Stats> = (0..first.entries.len())
            .map(|idx| first.stats(&answers, idx))
            .collect();
        drop(answers);
        for data in rest {
            let answers = data.answers();
            for (idx, total) in stats.iter_mut().enumerate() {
                total.merge(&data.stats(&answers, idx));
            }
        }
        stats
    }

    /// How late the sends left after their intended instants (open model),
    /// in microseconds, threads merged.
    pub fn schedule_lag(&self) -> Histogram<u64> {
        let mut lag = histogram_us();
        for data in &self.threads {
            lag.add(&*data.lag())
                .expect("histograms share their bounds");
        }
        lag
    }

    /// Calls `each` with every second from the start to the last one
    /// anything happened in, in order, threads added up (a second without
    /// events has zero counts).
    pub fn timeline(&self, each: impl FnMut(&Second)) {
        let guards: Vec<_> = self.threads.iter().map(|t| (t, t.answers())).collect();
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
    fn threads_add_up_in_the_progress_and_the_snapshot() {
        let recorder = Recorder::new(2, 3);
        let start = Instant::now();
        let timeout = || Err(RequestError::Timeout(Duration::from_secs(1)));
        for index in 0..3 {
            let writer = recorder.writer(index);
            writer.sent(0, Some(Duration::from_millis(index as u64)));
            writer.finished(0, start, &Ok(200));
            writer.sent(1, None);
            writer.finished(1, start, &timeout());
            writer.dropped(1);
        }
        // Index 4 of 3 threads is thread 1.
        recorder.writer(4).sent(0, None);
        recorder.writer(4).finished(0, start, &Ok(500));

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
    fn the_timeline_adds_the_threads_seconds_up() {
        let recorder = Recorder::new(2, 2);
        let start = Instant::now();
        recorder.start_at(start);
        let at = |ms: u64| start + Duration::from_millis(ms);
        let timeout = || Err(RequestError::Timeout(Duration::from_secs(1)));
        // Thread 0: one request a second for 3 s, each answered in 100 ms.
        let zero = recorder.writer(0);
        for s in 0..3 {
            zero.sent_at(0, None, at(1000 * s));
            zero.finished_at(0, at(1000 * s), &Ok(200), at(1000 * s + 100));
        }
        // Thread 1: sent in second 0, one answered in 2 s (second 2), one
        // timed out in second 5; nothing in seconds 3 and 4.
        let one = recorder.writer(1);
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
