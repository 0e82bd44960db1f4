//! Finding the reports in what `merge` is given: files, or standard input
//! holding several reports one after the other, among other lines.
//!
//! `kubectl logs` of a sharded Job prints each pod's stderr (log lines,
//! the text summary) around its JSON report, and pods one after the other.
//! So a report is a JSON value that starts at the beginning of a line with
//! `{` and whose first key is `"target"` (the report's first field); the
//! JSON values are read by serde_json's `StreamDeserializer`, which also
//! says where each ends, and every other line is skipped, JSON log lines
//! included. A report cut short (the end of the input inside it) or broken
//! by other output is an error naming the file and line, never skipped: a
//! merge must not quietly leave a shard out.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::shard::Shard;
use crate::summary::{Errors, ModelKind, Settings};

/// A report as read back: the fields a merge needs. Histograms, window and
/// timeline are optional here so that their absence is named.
#[derive(Debug, Clone, Deserialize)]
pub struct Report {
    /// Base URL of the target.
    pub target: String,
    /// `open` or `closed`.
    pub model: ModelKind,
    /// Seed of the mix draws.
    pub seed: u64,
    /// Requests sent.
    pub requests: u64,
    /// Mean rate the schedule asked for over the window.
    pub target_rps: f64,
    /// One object per mix entry.
    pub endpoints: Vec<ReportEndpoint>,
    /// What the run warned about.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Start of the window (RFC 3339).
    pub started_at: Option<String>,
    /// End of the window (RFC 3339).
    pub ended_at: Option<String>,
    /// Every answered latency (`HISTF…`).
    pub latency_histogram: Option<String>,
    /// Open model: the schedule lag (`HISTF…`).
    pub schedule_lag_histogram: Option<String>,
    /// One entry a second.
    pub timeline: Option<Vec<ReportTick>>,
    /// Which shard of the run, if sharded.
    pub shard: Option<Shard>,
    /// `concurrency`, `connections`, `threads` (reports before them had
    /// none).
    #[serde(flatten)]
    pub settings: Settings,
}

/// One endpoint of a report read back.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportEndpoint {
    /// HTTP method.
    pub method: String,
    /// Path as written in the mix.
    pub path: String,
    /// Weight in the mix (reports before it had none).
    pub weight: Option<u32>,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered.
    pub responses: u64,
    /// Requests refused by the in-flight cap.
    pub dropped: u64,
    /// Requests without an answer, by kind.
    pub errors: Errors,
    /// Answers by status.
    pub status_codes: BTreeMap<String, u64>,
    /// Latencies (`HISTF…`).
    pub latency_histogram: Option<String>,
    /// The HTTP version of its answers (reports before it had none).
    pub protocol: Option<String>,
}

/// One second of a report's timeline, read back.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportTick {
    /// Seconds from `started_at`.
    pub t: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered.
    pub responses: u64,
    /// Requests without an answer.
    pub errors: u64,
    /// Latencies of the second's answers (`HISTF…`).
    pub latency_histogram: String,
}

/// A report and where it was found.
#[derive(Debug, Clone)]
pub struct Found {
    /// `FILE:LINE` of its first line (`stdin:LINE` for `-`).
    pub origin: String,
    /// The report.
    pub report: Report,
}

/// Every report in `text`, read from the source called `name`; an error
/// names `name`, the line and what is wrong. No report at all is an error.
pub fn reports_in(name: &str, text: &str) -> Result<Vec<Found>, String> {
    let mut found = Vec::new();
    let (mut offset, mut line) = (0, 1);
    while offset < text.len() {
        let rest = &text[offset..];
        let line_len = rest.find('\n').map_or(rest.len(), |i| i + 1);
        if rest.starts_with('{') {
            let origin = format!("{name}:{line}");
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
            let value = values.next();
            let consumed = values.byte_offset();
            match value {
                Some(Ok(value)) if is_report(&value) => {
                    let report = Report::deserialize(value)
                        .map_err(|e| format!("{origin}: not a report of obslab-loadgen: {e}"))?;
                    found.push(Found { origin, report });
                }
                // Another JSON value (a log line in JSON): skipped whole.
                Some(Ok(_)) => {}
                Some(Err(e)) if starts_like_a_report(rest) && e.is_eof() => {
                    return Err(format!(
                        "{origin}: truncated report: the input ends inside it ({e})"
                    ));
                }
                Some(Err(e)) if starts_like_a_report(rest) => {
                    return Err(format!(
                        "{origin}: broken report: {e} (is other output mixed into it?)"
                    ));
                }
                // A line that starts with `{` and is no JSON: skipped.
                Some(Err(_)) | None => {
                    (offset, line) = (offset + line_len, line + 1);
                    continue;
                }
            }
            line += rest[..consumed].matches('\n').count();
            offset += consumed;
            continue;
        }
        (offset, line) = (offset + line_len, line + 1);
    }
    if found.is_empty() {
        return Err(format!(
            "{name}: no report of obslab-loadgen in it (a JSON document from --output json, starting with `{{` on a line of its own)"
        ));
    }
    Ok(found)
}

/// A report is a JSON object with the report's keys (a JSON log line of
/// tracing has a `target` too, but no `endpoints`).
fn is_report(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        ["target", "requests", "endpoints"]
            .iter()
            .all(|key| o.contains_key(*key))
    })
}

/// Whether `text` (at a `{`) opens a report: its first key is `"target"`.
fn starts_like_a_report(text: &str) -> bool {
    text[1..].trim_start().starts_with("\"target\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{
  "target": "http://x",
  "model": "open",
  "seed": 1,
  "requests": 3,
  "target_rps": 10.0,
  "endpoints": [
    {"method": "GET", "path": "/", "requests": 3, "responses": 3, "dropped": 0,
     "errors": {"timeout": 0, "connect": 0, "other": 0}, "status_codes": {"200": 3}}
  ]
}
"#;

    #[test]
    fn reports_are_found_among_other_lines() {
        let noise = "2025-06-01T10:00:00Z INFO starting open model\n\
            {\"timestamp\":\"x\",\"level\":\"INFO\",\"target\":\"obslab_loadgen\"}\n\
            {not json at all\n  latency (ms)  min 1.00\n";
        let text = format!("{noise}{REPORT}{noise}{REPORT}{}", REPORT.trim_end());
        let found = reports_in("logs", &text).unwrap();
        let origins: Vec<&str> = found.iter().map(|f| f.origin.as_str()).collect();
        assert_eq!(origins, ["logs:5", "logs:20", "logs:31"]);
        assert!(found.iter().all(|f| f.report.requests == 3));
        assert!(found[0].report.latency_histogram.is_none());
    }

    #[test]
    fn a_cut_or_broken_report_or_none_is_an_error_naming_the_line() {
        let cut = &REPORT[..REPORT.len() / 2];
        let text = format!("log line\n{cut}");
        let err = reports_in("a.json", &text).unwrap_err();
        assert!(err.starts_with("a.json:2: truncated report"), "{err}");

        let broken = REPORT.replace("  \"seed\": 1,\n", "  \"seed\": 1,\nWARN a log line\n");
        let err = reports_in("b.json", &broken).unwrap_err();
        assert!(err.starts_with("b.json:1: broken report"), "{err}");

        let not_ours = REPORT.replace("\"model\": \"open\"", "\"model\": \"sideways\"");
        let err = reports_in("c.json", &not_ours).unwrap_err();
        assert!(err.starts_with("c.json:1: not a report"), "{err}");

        let err = reports_in("d.txt", "just\nsome text\n{\"a\": 1}\n").unwrap_err();
        assert!(err.starts_with("d.txt: no report"), "{err}");
        assert!(reports_in("e", "").is_err());
    }
}
