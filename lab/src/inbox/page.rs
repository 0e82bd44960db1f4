//! `GET /`: the notifications as a page readable on a projector.
//!
//! Newest first, refreshing itself every 5 s; a firing notification in red,
//! a resolved one in green; for each: the receiver (the route it took), the
//! group labels, and per alert its labels, summary, description, start and
//! end, when the inbox received it and how long after the alert started (or
//! ended, for a resolution) that was. Everything that came from a payload is
//! HTML-escaped (html-escape's `encode_quoted_attribute`: `&`, `<`, `>`,
//! `"` and `'` become entities).

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use html_escape::encode_quoted_attribute as escape;

use super::payload::{Alert, Status};
use super::store::Entry;

/// Seconds between two refreshes of the page.
pub const REFRESH_SECONDS: u32 = 5;

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:1.5rem;font-size:1.15rem;background:#fafafa;color:#222}
h1{font-size:1.6rem;margin:0 0 .3rem}
.note{color:#555;margin:0 0 1rem}
.n{border-left:.6rem solid;padding:.6rem 1rem;margin:0 0 1rem;background:#fff;box-shadow:0 1px 3px #0002}
.firing{border-color:#c62828}.resolved{border-color:#2e7d32}
.head{display:flex;flex-wrap:wrap;gap:1rem;align-items:baseline}
.status{font-weight:700;text-transform:uppercase}
.firing .status,.a.firing .astatus{color:#c62828}.resolved .status,.a.resolved .astatus{color:#2e7d32}
.a{margin:.5rem 0 0 .5rem;padding:.3rem 0 .3rem .7rem;border-left:.25rem solid}
.label{display:inline-block;background:#eee;border-radius:.3rem;padding:0 .35rem;margin:.1rem;font-family:monospace;font-size:.95rem}
.times{color:#444;font-size:1rem}.desc{color:#333}
";

/// Renders the page of `entries` (newest first) at `now`.
pub fn render(entries: &[Arc<Entry>], now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(2048 + entries.len() * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <title>obslab inbox ({n})</title><style>{STYLE}</style></head><body>\n\
         <h1>obslab inbox</h1><p class=\"note\">{n} notification{s} from Alertmanager, \
         newest first; this page refreshes every {REFRESH_SECONDS} s ({now}).</p>\n",
        n = entries.len(),
        s = if entries.len() == 1 { "" } else { "s" },
        now = now.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    if entries.is_empty() {
        out.push_str(
            "<p>Nothing yet. Alertmanager posts here when an alert fires \
             (Prometheus → Alertmanager → receiver <b>pager</b> or <b>ticket</b> → \
             this inbox).</p>\n",
        );
    }
    for entry in entries {
        notification(&mut out, entry);
    }
    out.push_str("</body></html>\n");
    out
}

fn notification(out: &mut String, entry: &Entry) {
    let n = &entry.notification;
    let status = n.status.as_str();
    let _ = write!(
        out,
        "<div class=\"n {status}\"><div class=\"head\"><span class=\"status\">{status}</span>\
         <span>receiver <b>{receiver}</b></span><span>{count} alert{s}</span>\
         <span class=\"times\">received {received}</span></div>\n<div>group: {group}</div>\n",
        receiver = escape(&n.receiver),
        count = n.alerts.len(),
        s = if n.alerts.len() == 1 { "" } else { "s" },
        received = entry.received_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        group = labels(n.group_labels.iter()),
    );
    for alert in &n.alerts {
        alert_block(out, alert, entry.received_at);
    }
    if n.truncated_alerts > 0 {
        let _ = writeln!(
            out,
            "<div>… and {} more alerts left out by Alertmanager (max_alerts).</div>",
            n.truncated_alerts
        );
    }
    out.push_str("</div>\n");
}

fn alert_block(out: &mut String, alert: &Alert, received_at: DateTime<Utc>) {
    let status = alert.status.as_str();
    let name = escape(alert.name());
    let summary = alert.annotations.get("summary").map(|s| escape(s));
    let description = alert.annotations.get("description").map(|s| escape(s));
    let started = alert.starts_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (ended, delay) = match (alert.status, alert.ended()) {
        (Status::Resolved, Some(end)) => (
            format!(", ended {}", end.to_rfc3339_opts(SecondsFormat::Secs, true)),
            format!("arrived {} after it ended", human(received_at - end)),
        ),
        _ => (
            String::new(),
            format!(
                "arrived {} after it started",
                human(received_at - alert.starts_at)
            ),
        ),
    };
    let _ = write!(
        out,
        "<div class=\"a {status}\"><span class=\"astatus\"><b>{name}</b> {status}</span>",
    );
    if let Some(summary) = summary {
        let _ = write!(out, " — {summary}");
    }
    let _ = write!(
        out,
        "<div>{}</div>",
        labels(alert.labels.iter().filter(|(k, _)| *k != "alertname"))
    );
    if let Some(description) = description {
        let _ = write!(out, "<div class=\"desc\">{description}</div>");
    }
    let _ = writeln!(
        out,
        "<div class=\"times\">started {started}{ended}; {delay}</div></div>"
    );
}

fn labels<'a>(labels: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let mut out = String::new();
    for (k, v) in labels {
        let _ = write!(
            out,
            "<span class=\"label\">{}={}</span> ",
            escape(k),
            escape(v)
        );
    }
    if out.is_empty() {
        out.push_str("(none)");
    }
    out
}

/// A delay as `1m 23s`, `4s`, or `-2s` when the clocks disagree.
fn human(d: chrono::TimeDelta) -> String {
    let secs = d.num_seconds();
    let (sign, secs) = if secs < 0 { ("-", -secs) } else { ("", secs) };
    match secs {
        s if s < 60 => format!("{sign}{s}s"),
        s if s < 3600 => format!("{sign}{}m {}s", s / 60, s % 60),
        s => format!("{sign}{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_read_as_minutes_and_seconds() {
        assert_eq!(human(chrono::TimeDelta::seconds(4)), "4s");
        assert_eq!(human(chrono::TimeDelta::seconds(83)), "1m 23s");
        assert_eq!(human(chrono::TimeDelta::seconds(7260)), "2h 1m");
        assert_eq!(human(chrono::TimeDelta::seconds(-2)), "-2s");
    }

    #[test]
    fn markup_from_a_payload_is_escaped() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#x27;y&#x27;&lt;/script&gt;"
        );
    }
}
