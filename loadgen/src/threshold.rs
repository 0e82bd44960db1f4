//! Pass/fail criteria for CI: `--threshold "p95<500ms"`.
//!
//! A threshold is `METRIC OP VALUE` with OP one of `<`, `<=`, `>`, `>=`.
//! Metrics: the latency statistics `min`, `mean`, `p50`, `p90`, `p95`,
//! `p99`, `p999`, `max` (value a duration such as `500ms`, `2s`, or a bare
//! number of milliseconds); `error_rate` (a percentage, `5%`: no answer or a
//! status >= 400); `achieved_rps` (req/s); `dropped` (a count). The parser
//! is clap's value parser, so a typo exits 2 naming `--threshold`; one
//! failure makes the exit code 1.
//!
//! A threshold is a value of the plan, so this module sits below it and
//! knows no report: it is judged on anything that can [`Measure`] its
//! metric, which the run's summary does.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A parsed threshold.
#[derive(Debug, Clone)]
pub struct Threshold {
    expr: String,
    metric: Metric,
    op: Op,
    limit: f64,
}

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// A latency statistic, in milliseconds.
    Latency(LatencyStat),
    /// Failed requests (no answer, or status >= 400), in percent.
    ErrorRate,
    /// Requests sent per second.
    AchievedRps,
    /// Requests refused by the in-flight cap.
    Dropped,
}

/// One statistic of the latency distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyStat {
    /// Fastest answer.
    Min,
    /// Arithmetic mean.
    Mean,
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
    /// Slowest answer.
    Max,
}

/// What thresholds are judged on: the value of each [`Metric`].
pub trait Measure {
    /// The measured value, in the metric's unit (ms, %, req/s, a count).
    fn measure(&self, metric: Metric) -> f64;
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
    /// Measures the metric on `run` (a run's summary) and compares it with
    /// the limit.
    pub fn evaluate(&self, run: &impl Measure) -> ThresholdResult {
        let value = run.measure(self.metric);
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
        "min" => Metric::Latency(LatencyStat::Min),
        "mean" | "avg" => Metric::Latency(LatencyStat::Mean),
        "p50" | "med" => Metric::Latency(LatencyStat::P50),
        "p90" => Metric::Latency(LatencyStat::P90),
        "p95" => Metric::Latency(LatencyStat::P95),
        "p99" => Metric::Latency(LatencyStat::P99),
        "p999" | "p99.9" => Metric::Latency(LatencyStat::P999),
        "max" => Metric::Latency(LatencyStat::Max),
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
