//! Pass/fail criteria for CI: `--threshold "p95<500ms"`.
//!
//! A threshold is `METRIC OP VALUE` with OP one of `<`, `<=`, `>`, `>=`.
//! Metrics: the latency statistics `min`, `mean`, `p50`, `p90`, `p95`,
//! `p99`, `p999`, `max` (value a duration such as `500ms`, `2s`, or a bare
//! number of milliseconds); `error_rate` (a percentage, `5%`: no answer or a
//! status >= 400); `achieved_rps` (req/s); `dropped` (a count). The parser
//! is clap's value parser, so a typo exits 2 naming `--threshold`; thresholds
//! are evaluated on the [`Summary`], and one failure makes the exit code 1.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::summary::{Latency, Summary};

/// A parsed threshold.
#[derive(Debug, Clone)]
pub struct Threshold {
    expr: String,
    metric: Metric,
    op: Op,
    limit: f64,
}

#[derive(Debug, Clone, Copy)]
enum Metric {
    Latency(fn(&Latency) -> f64),
    ErrorRate,
    AchievedRps,
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// The outcome of one threshold, as it appears in the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ThresholdResult {
    /// The threshold as written.
    pub expr: String,
    /// Whether it held.
    pub ok: bool,
    /// The measured value (ms, %, req/s or a count, as the metric).
    pub value: f64,
}

/// Why a threshold was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// No operator.
    #[error("`{0}` is not `METRIC OP VALUE` (e.g. `p95<500ms`, `error_rate<5%`)")]
    Syntax(String),
    /// Unknown metric name.
    #[error(
        "unknown metric `{0}`: use min, mean, p50, p90, p95, p99, p999, max, error_rate, achieved_rps or dropped"
    )]
    Metric(String),
    /// The value does not fit the metric.
    #[error("`{value}` is not a valid value for {metric}: {hint}")]
    Value {
        /// The metric name.
        metric: String,
        /// The value as written.
        value: String,
        /// What was expected.
        hint: &'static str,
    },
}

impl FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(expr: &str) -> Result<Self, Self::Err> {
        let syntax = || ThresholdError::Syntax(expr.to_owned());
        let at = expr.find(['<', '>']).ok_or_else(syntax)?;
        let (name, rest) = expr.split_at(at);
        let (op, value) = match (rest.as_bytes()[0], rest.as_bytes().get(1)) {
            (b'<', Some(b'=')) => (Op::Le, &rest[2..]),
            (b'>', Some(b'=')) => (Op::Ge, &rest[2..]),
            (b'<', _) => (Op::Lt, &rest[1..]),
            _ => (Op::Gt, &rest[1..]),
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || value.is_empty() {
            return Err(syntax());
        }
        let metric = metric(name)?;
        let bad = |hint| ThresholdError::Value {
            metric: name.to_owned(),
            value: value.to_owned(),
            hint,
        };
        let limit = match metric {
            Metric::Latency(_) => latency_ms(value)
                .ok_or_else(|| bad("a duration like 500ms, 2s, or milliseconds"))?,
            Metric::ErrorRate => value
                .strip_suffix('%')
                .and_then(|v| number(v.trim()))
                .ok_or_else(|| bad("a percentage like 5%"))?,
            Metric::AchievedRps | Metric::Dropped => {
                number(value).ok_or_else(|| bad("a number"))?
            }
        };
        Ok(Threshold {
            expr: expr.trim().to_owned(),
            metric,
            op,
            limit,
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// clap value parser for `--threshold`.
pub fn parse_threshold(s: &str) -> Result<Threshold, ThresholdError> {
    s.parse()
}

impl Threshold {
    /// Measures the metric on `summary` and compares it with the limit.
    pub fn evaluate(&self, summary: &Summary) -> ThresholdResult {
        let value = match self.metric {
            Metric::Latency(stat) => stat(&summary.latency_ms),
            Metric::ErrorRate => summary.error_rate(),
            Metric::AchievedRps => summary.achieved_rps,
            Metric::Dropped => summary.dropped as f64,
        };
        let ok = match self.op {
            Op::Lt => value < self.limit,
            Op::Le => value <= self.limit,
            Op::Gt => value > self.limit,
            Op::Ge => value >= self.limit,
        };
        let value = (value * 1000.0).round() / 1000.0;
        ThresholdResult {
            expr: self.expr.clone(),
            ok,
            value,
        }
    }
}

fn metric(name: &str) -> Result<Metric, ThresholdError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "min" => Metric::Latency(|l| l.min),
        "mean" | "avg" => Metric::Latency(|l| l.mean),
        "p50" | "med" => Metric::Latency(|l| l.p50),
        "p90" => Metric::Latency(|l| l.p90),
        "p95" => Metric::Latency(|l| l.p95),
        "p99" => Metric::Latency(|l| l.p99),
        "p999" | "p99.9" => Metric::Latency(|l| l.p999),
        "max" => Metric::Latency(|l| l.max),
        "error_rate" => Metric::ErrorRate,
        "achieved_rps" | "rps" => Metric::AchievedRps,
        "dropped" => Metric::Dropped,
        _ => return Err(ThresholdError::Metric(name.to_owned())),
    })
}

fn number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
}

fn latency_ms(s: &str) -> Option<f64> {
    number(s).or_else(|| {
        humantime::parse_duration(s)
            .ok()
            .map(|d| d.as_secs_f64() * 1000.0)
    })
}
