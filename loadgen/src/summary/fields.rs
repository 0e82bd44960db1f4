//! The parts of the report: each object of the document, and how a
//! recorded [`Stats`] becomes one.

use std::collections::BTreeMap;
use std::fmt;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::hdr;
use crate::mix::Mix;
use crate::plan::Model;
use crate::recorder::{Second, Stats};
use crate::threshold::LatencyStat;

/// One second of the timeline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tick {
    /// Seconds from the start of the schedule (`started_at`).
    pub t: u64,
    /// Requests sent during that second.
    pub requests: u64,
    /// Requests answered (any status) during that second.
    pub responses: u64,
    /// Requests that finished without an answer during that second.
    pub errors: u64,
    /// Latencies of that second's answers, in microseconds (`HISTF…`).
    pub latency_histogram: String,
}

impl Tick {
    /// The report's form of a recorded second.
    pub fn of(second: &Second) -> Tick {
        Tick {
            t: second.t,
            requests: second.requests,
            responses: second.responses,
            errors: second.errors,
            latency_histogram: hdr::encode(&second.latency_us),
        }
    }
}

/// Schedule lag statistics in milliseconds (microsecond resolution).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Lag {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Latest send.
    pub max: f64,
}

/// Which model paced the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Arrival rate from a schedule.
    Open,
    /// Workers back to back.
    Closed,
}

impl From<&Model> for ModelKind {
    fn from(model: &Model) -> Self {
        match model {
            Model::Open { .. } => ModelKind::Open,
            Model::Closed { .. } => ModelKind::Closed,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModelKind::Open => "open",
            ModelKind::Closed => "closed",
        })
    }
}

/// Counts and latencies of one mix entry.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// HTTP method.
    pub method: String,
    /// Path as written in the mix (also the metrics' `endpoint` label).
    pub path: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered with any HTTP status.
    pub responses: u64,
    /// Scheduled requests refused by `--max-in-flight`.
    pub dropped: u64,
    /// Requests that got no answer, by kind.
    pub errors: Errors,
    /// Latency of answered requests.
    pub latency_ms: Latency,
    /// Answers by HTTP status code.
    pub status_codes: BTreeMap<String, u64>,
    /// Relative weight in the mix.
    pub weight: u32,
    /// Latencies of answered requests, in microseconds (`HISTF…`).
    pub latency_histogram: String,
    /// The HTTP version its answers came in (`HTTP/1.1`, `HTTP/2`), `mixed`
    /// when several, `null` when none was answered.
    pub protocol: Option<String>,
    /// Percentage of its finished requests that failed: no answer, or a
    /// status >= 400 (the unit of the `error_rate` threshold).
    pub error_rate: f64,
}

/// Transport failures by kind.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Errors {
    /// No response status before `--timeout`.
    pub timeout: u64,
    /// The connection could not be made.
    pub connect: u64,
    /// Any other failure.
    pub other: u64,
}

impl Errors {
    /// All kinds together.
    pub fn total(&self) -> u64 {
        self.timeout + self.connect + self.other
    }
}

/// Latency statistics in milliseconds (microsecond resolution).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Latency {
    /// Fastest answer.
    pub min: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest answer.
    pub max: f64,
}

/// What identifies an endpoint of the mix in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointId {
    /// HTTP method.
    pub method: String,
    /// Path as written in the mix.
    pub path: String,
    /// Weight in the mix.
    pub weight: u32,
}

impl EndpointId {
    /// The entries of `mix`, in order.
    pub fn of_mix(mix: &Mix) -> Vec<EndpointId> {
        mix.entries()
            .iter()
            .map(|e| EndpointId {
                method: e.method.to_string(),
                path: e.path.clone(),
                weight: e.weight,
            })
            .collect()
    }
}

impl Latency {
    /// One statistic, in milliseconds.
    pub fn get(&self, stat: LatencyStat) -> f64 {
        match stat {
            LatencyStat::Min => self.min,
            LatencyStat::Mean => self.mean,
            LatencyStat::P50 => self.p50,
            LatencyStat::P90 => self.p90,
            LatencyStat::P95 => self.p95,
            LatencyStat::P99 => self.p99,
            LatencyStat::P999 => self.p999,
            LatencyStat::Max => self.max,
        }
    }
}

pub(super) fn errors(s: &Stats) -> Errors {
    let [timeout, connect, other] = s.errors;
    Errors {
        timeout,
        connect,
        other,
    }
}

/// Percentage of finished requests that failed: no answer, or a status of
/// 400 and above (like the server's `flask_error_rate`); 0 when none
/// finished.
pub(super) fn error_rate(
    status_codes: &BTreeMap<String, u64>,
    responses: u64,
    errors: &Errors,
) -> f64 {
    let failed_answers: u64 = status_codes
        .iter()
        .filter(|(code, _)| code.parse::<u16>().is_ok_and(|c| c >= 400))
        .map(|(_, n)| n)
        .sum();
    let finished = responses + errors.total();
    if finished == 0 {
        return 0.0;
    }
    100.0 * (failed_answers + errors.total()) as f64 / finished as f64
}

pub(super) fn status_codes(s: &Stats) -> BTreeMap<String, u64> {
    s.status_codes
        .iter()
        .map(|(c, n)| (c.to_string(), *n))
        .collect()
}

pub(super) fn latency(s: &Stats) -> Latency {
    let h = &s.latency_us;
    if h.is_empty() {
        return Latency::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let q = |quantile: f64| ms(h.value_at_quantile(quantile));
    Latency {
        min: ms(h.min()),
        mean: round3(h.mean() / 1000.0),
        p50: q(0.50),
        p90: q(0.90),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
        max: ms(h.max()),
    }
}

pub(super) fn lag(h: &Histogram<u64>) -> Lag {
    if h.is_empty() {
        return Lag::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Lag {
        p50: ms(h.value_at_quantile(0.50)),
        p99: ms(h.value_at_quantile(0.99)),
        max: ms(h.max()),
    }
}

/// `x` rounded to 3 decimals (the report's precision for seconds, rates
/// and means).
pub(super) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
