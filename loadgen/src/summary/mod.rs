//! The end-of-run result: one stable document for text, JSON and thresholds.
//!
//! Field names are a contract with users' scripts: `target`, `duration_s`,
//! `requests`, `responses`, `dropped`, `errors{timeout,connect,other}`,
//! `achieved_rps`, `target_rps`, `latency_ms{min,mean,p50,p90,p95,p99,p999,max}`,
//! `status_codes`, `endpoints[]` and `thresholds[]`, then (added later)
//! `schedule_lag_ms{p50,p99,max}` (open model only) and `warnings[]`, then
//! for scale-out `started_at`, `ended_at`, `latency_histogram`,
//! `schedule_lag_histogram`, `timeline[]`, `shard`, and in each endpoint
//! `weight` and `latency_histogram`, then `protocol` (top level and in each
//! endpoint), then each endpoint's `error_rate` and the run's
//! `concurrency`, `connections` and `threads`. CI scripts read them with `jq`, so
//! they are renamed never, and only ever added to.
//!
//! The histograms make a report complete: every figure in it can be
//! recomputed exactly from them and the counts, so reports of shards add up
//! to one (see the `merge` module).
//!
//! The warnings say when the figures are limited by the load generator
//! rather than by the target (see [`limits`]).
//!
//! The summary measures what thresholds ask for ([`Measure`]) and carries
//! their results as data: a run and a merge each build theirs once, then
//! judge it once ([`Summary::judged`]).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::client;
use crate::hdr;
use crate::limits::{self, Limits};
use crate::mix::Mix;
use crate::recorder::Stats;
use crate::shard::Shard;
use crate::threshold::{Measure, Metric, Threshold, ThresholdResult};
use crate::time::rfc3339;

mod fields;
mod settings;

pub use self::fields::{Endpoint, EndpointId, Errors, Lag, Latency, ModelKind, Tick};
use self::fields::{error_rate, errors, lag, latency, round3, status_codes};
pub use self::settings::Settings;

/// The whole report of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Base URL of the target.
    pub target: String,
    /// `open` (arrival rate) or `closed` (back-to-back workers).
    pub model: ModelKind,
    /// RNG seed of the mix draws; pass it to `--seed` to replay the order.
    pub seed: u64,
    /// Length of the sending window in seconds (the drain of requests still
    /// in flight afterwards is not counted).
    pub duration_s: f64,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered with any HTTP status.
    pub responses: u64,
    /// Scheduled requests refused by `--max-in-flight`.
    pub dropped: u64,
    /// Requests that got no answer, by kind.
    pub errors: Errors,
    /// `requests / duration_s`.
    pub achieved_rps: f64,
    /// Mean rate the schedule asked for over the window; 0 in the closed model.
    pub target_rps: f64,
    /// Latency of answered requests, from their intended send time (open
    /// model) or actual send time (closed model).
    pub latency_ms: Latency,
    /// Answers by HTTP status code.
    pub status_codes: BTreeMap<String, u64>,
    /// One object per mix entry, in mix order.
    pub endpoints: Vec<Endpoint>,
    /// The HTTP version the answers came in (`HTTP/1.1`, `HTTP/2`),
    /// `mixed` when several, `null` when none was answered.
    pub protocol: Option<String>,
    /// Outcome of each `--threshold`.
    pub thresholds: Vec<ThresholdResult>,
    /// Open model: how late the requests left after their intended send
    /// time (absent in the closed model, which has no schedule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_lag_ms: Option<Lag>,
    /// Why the figures may be the load generator's limits rather than the
    /// target's; empty when there is no such sign.
    pub warnings: Vec<String>,
    /// When the schedule started (RFC 3339, UTC, nanoseconds).
    pub started_at: String,
    /// `started_at` plus the sending window (`duration_s`, unrounded).
    pub ended_at: String,
    /// Latencies of answered requests, in microseconds: HdrHistogram V2
    /// compressed, base64 (`HISTF…`).
    pub latency_histogram: String,
    /// Open model: the schedule lag, in microseconds, in the same form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_lag_histogram: Option<String>,
    /// One entry a second from the start of the schedule.
    pub timeline: Vec<Tick>,
    /// `--shard I/N`: which part of the run this report covers (absent
    /// for a whole run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// `merge`: how many reports this one adds up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_reports: Option<usize>,
    /// `merge` of shards: the shards of the run that were not among the
    /// reports (empty when all were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_shards: Option<Vec<u64>>,
    /// `concurrency`, `connections` and `threads`: this process's (a
    /// merge's: their sums).
    #[serde(flatten)]
    pub settings: Settings,
}

/// What the run knew beyond the recorded counts.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Base URL of the target.
    pub target: String,
    /// The part of the run sent, when sharded.
    pub shard: Option<Shard>,
    /// `open` or `closed`.
    pub model: ModelKind,
    /// Seed of the mix draws.
    pub seed: u64,
    /// The sending window.
    pub window: Duration,
    /// Mean scheduled rate over the window (0 in the closed model).
    pub target_rps: f64,
    /// Open model: the schedule lag, in microseconds.
    pub schedule_lag_us: Option<Histogram<u64>>,
    /// The generator's own CPU use and the threads it could use.
    pub limits: Limits,
    /// When the schedule started.
    pub started_at: SystemTime,
    /// One entry a second.
    pub timeline: Vec<Tick>,
    /// The HTTP version each endpoint's answers came in (`mixed` when
    /// several, `None` when none was answered), in endpoint order.
    pub protocols: Vec<Option<String>>,
    /// How wide the run was.
    pub settings: Settings,
}

impl Summary {
    /// Builds the report from per-entry stats (in mix order); thresholds are
    /// judged afterwards, on this document ([`Summary::judged`]).
    pub fn build(info: RunInfo, mix: &Mix, stats: &[Stats]) -> Summary {
        Summary::assemble(info, &EndpointId::of_mix(mix), stats)
    }

    /// Builds the report from the stats of each endpoint of `ids` (the same
    /// order); what a run and a merge share.
    pub fn assemble(info: RunInfo, ids: &[EndpointId], stats: &[Stats]) -> Summary {
        let mut total = stats.first().cloned().expect("a mix has entries");
        for s in &stats[1..] {
            total.merge(s);
        }
        let duration_s = info.window.as_secs_f64();
        let achieved_rps = if duration_s > 0.0 {
            total.requests as f64 / duration_s
        } else {
            0.0
        };
        let mut protocols = info.protocols.into_iter();
        let endpoints: Vec<Endpoint> = ids
            .iter()
            .zip(stats)
            .map(|(id, s)| {
                let (errors, status_codes) = (errors(s), status_codes(s));
                Endpoint {
                    method: id.method.clone(),
                    path: id.path.clone(),
                    requests: s.requests,
                    responses: s.responses,
                    dropped: s.dropped,
                    errors,
                    latency_ms: latency(s),
                    error_rate: round3(error_rate(&status_codes, s.responses, &errors)),
                    status_codes,
                    weight: id.weight,
                    latency_histogram: hdr::encode(&s.latency_us),
                    protocol: protocols.next().flatten(),
                }
            })
            .collect();
        let protocol = client::combine(endpoints.iter().filter_map(|e| e.protocol.clone()));
        let latency_ms = latency(&total);
        let schedule_lag_ms = info.schedule_lag_us.as_ref().map(lag);
        let ended_at = info.started_at.checked_add(info.window);
        let warnings =
            limits::warnings(schedule_lag_ms.map(|l| l.p99), latency_ms.p99, &info.limits);
        Summary {
            target: info.target,
            model: info.model,
            seed: info.seed,
            duration_s: round3(duration_s),
            requests: total.requests,
            responses: total.responses,
            dropped: total.dropped,
            errors: errors(&total),
            achieved_rps: round3(achieved_rps),
            target_rps: round3(info.target_rps),
            latency_ms,
            status_codes: status_codes(&total),
            endpoints,
            protocol,
            thresholds: Vec::new(),
            schedule_lag_ms,
            warnings,
            started_at: rfc3339(info.started_at),
            ended_at: rfc3339(ended_at.unwrap_or(info.started_at)),
            latency_histogram: hdr::encode(&total.latency_us),
            schedule_lag_histogram: info.schedule_lag_us.as_ref().map(hdr::encode),
            timeline: info.timeline,
            shard: info.shard,
            merged_reports: None,
            missing_shards: None,
            settings: info.settings,
        }
    }

    /// The summary with `thresholds` judged on it, each one's result in
    /// `thresholds` (in the order given): what a run and a merge do last.
    #[must_use]
    pub fn judged(mut self, thresholds: &[Threshold]) -> Summary {
        self.thresholds = thresholds.iter().map(|t| t.evaluate(&self)).collect();
        self
    }

    /// Percentage of finished requests that failed: no answer, or a status
    /// of 400 and above (like the server's `flask_error_rate`).
    pub fn error_rate(&self) -> f64 {
        error_rate(&self.status_codes, self.responses, &self.errors)
    }

    /// True when every threshold held.
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.ok)
    }
}

impl Measure for Summary {
    fn measure(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Latency(stat) => self.latency_ms.get(stat),
            Metric::ErrorRate => self.error_rate(),
            Metric::AchievedRps => self.achieved_rps,
            Metric::Dropped => self.dropped as f64,
        }
    }
}
