//! The timeline: one entry a second, per thread, added up when read.
//!
//! A thread's accumulators are written by that thread only, whose clock
//! only goes forward. The current second's counts are atomics ([`Clock`])
//! beside the thread's totals, and its latencies go into one histogram
//! ([`Book`]) kept under the lock an answer takes anyway. When the thread's first event of a later
//! second comes, it closes the current one: the counts are swapped out, the
//! histogram packed into the plain V2 form (a few hundred bytes instead of
//! the ~190 KB of counts) and cleared. That is once a second per thread,
//! never per request. [`add_up`] adds the threads' seconds up for the
//! report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hdrhistogram::Histogram;

use crate::hdr::{self, histogram_us};

/// Positions in the counts of a second.
pub(super) const SENT: usize = 0;
pub(super) const ANSWERED: usize = 1;
pub(super) const FAILED: usize = 2;

/// One second of the run: what was sent, what finished, how fast.
#[derive(Debug, Clone)]
pub struct Second {
    /// Seconds from the start of the schedule.
    pub t: u64,
    /// Requests sent during it.
    pub requests: u64,
    /// Requests answered (any status) during it.
    pub responses: u64,
    /// Requests that finished without an answer during it.
    pub errors: u64,
    /// Latencies of its answers, in microseconds.
    pub latency_us: Histogram<u64>,
}

/// A thread's current second and its counts (sent, answered, failed).
#[derive(Default)]
pub(super) struct Clock {
    second: AtomicU64,
    counts: [AtomicU64; 3],
}

/// A thread's latencies of the current second, and its closed seconds;
/// kept under the thread's lock.
pub(super) struct Book {
    pub(super) latency: Histogram<u64>,
    closed: Vec<Closed>,
}

/// A closed second of one thread, its histogram packed.
struct Closed {
    t: u64,
    counts: [u64; 3],
    latency: Vec<u8>,
}

impl Book {
    pub(super) fn new() -> Self {
        Self {
            latency: histogram_us(),
            closed: Vec::new(),
        }
    }
}

impl Clock {
    /// One more event of kind `what` (`SENT`, `ANSWERED`, `FAILED`) in the
    /// current second.
    pub(super) fn count(&self, what: usize) {
        self.counts[what].fetch_add(1, Relaxed);
    }

    /// Whether `second` is later than the current one (then close it).
    pub(super) fn is_past(&self, second: u64) -> bool {
        second > self.second.load(Relaxed)
    }

    /// Closes the current second (kept if anything happened in it) and
    /// makes `second` the current one, unless it is not later.
    pub(super) fn close_until(&self, book: &mut Book, second: u64) {
        let t = self.second.load(Relaxed);
        if second <= t {
            return;
        }
        let counts = self.counts.each_ref().map(|n| n.swap(0, Relaxed));
        if counts != [0; 3] || !book.latency.is_empty() {
            let latency = hdr::pack(&book.latency);
            book.latency.reset();
            book.closed.push(Closed { t, counts, latency });
        }
        self.second.store(second, Relaxed);
    }
}

/// Calls `each` with every second from 0 to the last one anything happened
/// in, in order, the `threads` added up (a second without events has zero
/// counts). One histogram is reused for all seconds.
pub(super) fn add_up<'a>(
    threads: impl IntoIterator<Item = (&'a Clock, &'a Book)>,
    mut each: impl FnMut(&Second),
) {
    enum Latency<'a> {
        Packed(&'a [u8]),
        Live(&'a Histogram<u64>),
    }
    let mut by_second: BTreeMap<u64, Vec<([u64; 3], Latency<'_>)>> = BTreeMap::new();
    for (clock, book) in threads {
        for closed in &book.closed {
            let latency = Latency::Packed(&closed.latency);
            let at = by_second.entry(closed.t).or_default();
            at.push((closed.counts, latency));
        }
        let counts = clock.counts.each_ref().map(|n| n.load(Relaxed));
        if counts != [0; 3] || !book.latency.is_empty() {
            let at = by_second.entry(clock.second.load(Relaxed)).or_default();
            at.push((counts, Latency::Live(&book.latency)));
        }
    }
    let Some(&last) = by_second.keys().next_back() else {
        return;
    };
    let mut second = Second {
        t: 0,
        requests: 0,
        responses: 0,
        errors: 0,
        latency_us: histogram_us(),
    };
    for t in 0..=last {
        second.t = t;
        (second.requests, second.responses, second.errors) = (0, 0, 0);
        second.latency_us.reset();
        for (counts, latency) in by_second.get(&t).into_iter().flatten() {
            second.requests += counts[SENT];
            second.responses += counts[ANSWERED];
            second.errors += counts[FAILED];
            let added = match latency {
                Latency::Packed(bytes) => {
                    let h = hdr::unpack(bytes).expect("packed by this recorder");
                    second.latency_us.add(&h)
                }
                Latency::Live(h) => second.latency_us.add(*h),
            };
            added.expect("histograms share their bounds");
        }
        each(&second);
    }
}
