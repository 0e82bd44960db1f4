//! The writers' side of the recorder: a [`Writer`] is where one thread
//! writes its requests' fates, into its own [`PerThread`] accumulators
//! (counters on their own cache lines, one lock for answers and the
//! timeline's second).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::timeline::{ANSWERED, Book, Clock, FAILED, SENT};
use super::{Recorder, Stats};
use crate::client::Outcome;
use crate::hdr::{histogram_us, record_us};

/// One mix entry's counters of one thread; aligned so that two threads'
/// counters never share a cache line.
#[repr(align(128))]
#[derive(Default)]
pub(super) struct Entry {
    pub(super) requests: AtomicU64,
    pub(super) responses: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) errors: [AtomicU64; 3],
}

/// One mix entry's answers by status, and their latencies.
pub(super) type Answered = (BTreeMap<u16, u64>, Histogram<u64>);

/// What a thread's accumulators guard with their one lock: statuses and latencies of the
/// answers, and the seconds of its timeline.
pub(super) struct Answers {
    /// Per mix entry: answers by status, latencies.
    pub(super) entries: Box<[Answered]>,
    /// The timeline's latencies.
    pub(super) book: Book,
}

/// What one thread writes: its mix entries, its schedule lag, its timeline.
pub(super) struct PerThread {
    pub(super) entries: Box<[Entry]>,
    answers: Mutex<Answers>,
    /// The timeline's current second and its counts.
    pub(super) clock: Clock,
    /// Open model: how late this thread's sends left, in microseconds.
    lag: Mutex<Histogram<u64>>,
}

impl PerThread {
    pub(super) fn new(entries: usize) -> Self {
        Self {
            entries: (0..entries).map(|_| Entry::default()).collect(),
            answers: Mutex::new(Answers {
                entries: (0..entries)
                    .map(|_| (BTreeMap::new(), histogram_us()))
                    .collect(),
                book: Book::new(),
            }),
            clock: Clock::default(),
            lag: Mutex::new(histogram_us()),
        }
    }

    pub(super) fn stats(&self, answers: &Answers, idx: usize) -> Stats {
        let e = &self.entries[idx];
        let (status_codes, latency_us) = &answers.entries[idx];
        Stats {
            requests: e.requests.load(Relaxed),
            responses: e.responses.load(Relaxed),
            dropped: e.dropped.load(Relaxed),
            errors: e.errors.each_ref().map(|n| n.load(Relaxed)),
            status_codes: status_codes.clone(),
            latency_us: latency_us.clone(),
        }
    }

    pub(super) fn answers(&self) -> MutexGuard<'_, Answers> {
        // A panic while holding the lock cannot leave the maps or histograms
        // half-updated in a way that matters for counting: ignore poisoning.
        self.answers.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn lag(&self) -> MutexGuard<'_, Histogram<u64>> {
        self.lag.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `second` the timeline's current one, closing the current one
    /// first if it is earlier: a compare per event, the closing (and the
    /// lock) once a second.
    fn tick(&self, second: u64) {
        if self.clock.is_past(second) {
            self.clock.close_until(&mut self.answers().book, second);
        }
    }
}

/// One thread's view of the recorder: where it writes its requests.
pub struct Writer<'a> {
    pub(super) data: &'a PerThread,
    pub(super) start: Instant,
    pub(super) recorder: &'a Recorder,
}

impl Writer<'_> {
    /// The second of the timeline `now` falls in.
    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs()
    }

    /// Entry `idx` is being sent, `lag` after its intended time (open
    /// model: recorded in the schedule lag).
    pub fn sent(&self, idx: usize, lag: Option<Duration>) {
        self.sent_at(idx, lag, Instant::now());
    }

    /// [`Writer::sent`] at `now`, for a caller that has just read the clock
    /// (one clock read per request, not two).
    pub fn sent_at(&self, idx: usize, lag: Option<Duration>, now: Instant) {
        let data = self.data;
        data.tick(self.second(now));
        data.entries[idx].requests.fetch_add(1, Relaxed);
        data.clock.count(SENT);
        if let Some(lag) = lag {
            record_us(&mut data.lag(), lag);
        }
    }

    /// Entry `idx` finished with `outcome`; latency counts from `since`.
    /// Returns that latency.
    pub fn finished(&self, idx: usize, since: Instant, outcome: &Outcome) -> Duration {
        self.finished_at(idx, since, outcome, Instant::now())
    }

    pub(super) fn finished_at(
        &self,
        idx: usize,
        since: Instant,
        outcome: &Outcome,
        now: Instant,
    ) -> Duration {
        let latency = now.saturating_duration_since(since);
        let (data, second) = (self.data, self.second(now));
        let entry = &data.entries[idx];
        match outcome {
            Ok(status) => {
                let mut answers = data.answers();
                let Answers { entries, book } = &mut *answers;
                data.clock.close_until(book, second);
                let (statuses, histogram) = &mut entries[idx];
                *statuses.entry(*status).or_default() += 1;
                record_us(histogram, latency);
                record_us(&mut book.latency, latency);
                drop(answers);
                entry.responses.fetch_add(1, Relaxed);
                data.clock.count(ANSWERED);
            }
            Err(e) => {
                self.recorder.warn_once(e);
                data.tick(second);
                entry.errors[e.kind().index()].fetch_add(1, Relaxed);
                data.clock.count(FAILED);
            }
        }
        latency
    }

    /// Entry `idx` was due but the in-flight cap refused it.
    pub fn dropped(&self, idx: usize) {
        self.data.entries[idx].dropped.fetch_add(1, Relaxed);
    }
}
