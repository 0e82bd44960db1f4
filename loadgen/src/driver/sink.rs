//! Where a sending thread writes each request's fate: its recorder
//! [`Writer`] and, with `--metrics-listen`, the exporter's families, in one
//! call, so the report and `/metrics` cannot drift apart. The recorder and
//! the exporter know nothing of each other.

use std::time::Duration;

use tokio::time::Instant;

use super::Context;
use crate::client::Outcome;
use crate::exporter::Metrics;
use crate::recorder::Writer;

/// One thread's recorder writer, and the exporter if there is one.
pub(super) struct Sink<'a> {
    writer: Writer<'a>,
    metrics: Option<&'a Metrics>,
}

impl Context {
    /// Where thread `thread` writes (its recorder accumulators).
    pub(super) fn sink(&self, thread: usize) -> Sink<'_> {
        Sink {
            writer: self.recorder.writer(thread),
            metrics: self.metrics.as_deref(),
        }
    }
}

impl Sink<'_> {
    /// Entry `idx` leaves at `now`, `lag` after its intended time (open
    /// model).
    pub(super) fn sent_at(&self, idx: usize, lag: Option<Duration>, now: Instant) {
        self.writer.sent_at(idx, lag, now);
        if let Some(m) = self.metrics {
            m.sent(lag);
        }
    }

    /// Entry `idx` finished with `outcome`; latency counts from `since`.
    pub(super) fn finished(&self, idx: usize, since: Instant, outcome: &Outcome) {
        let latency = self.writer.finished(idx, since, outcome);
        if let Some(m) = self.metrics {
            m.finished(idx, latency, outcome);
        }
    }

    /// Entry `idx` was due but the in-flight cap refused it.
    pub(super) fn dropped(&self, idx: usize) {
        self.writer.dropped(idx);
        if let Some(m) = self.metrics {
            m.dropped(idx);
        }
    }
}
