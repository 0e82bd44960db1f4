//! The HTML around the charts: key figures, tables and settings, one
//! self-contained document.
//!
//! The page loads nothing: its style is inline, the charts are inline SVG,
//! and it has no script, so it reads the same offline, from a CI artefact
//! or an e-mail. Every text that comes from the user (target, paths,
//! methods, thresholds, warnings) goes through [`escape`] (html-escape's
//! `encode_quoted_attribute`: `&`, `<`, `>`, `"` and `'` become entities).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use html_escape::encode_quoted_attribute as escape;

use crate::summary::{Endpoint, Errors, Latency, ModelKind, Summary};

/// The charts, as `<svg>` elements, in the order the page shows them.
pub struct Charts {
    /// Latency by percentile, total and per endpoint.
    pub spectrum: String,
    /// Requests per second over the run.
    pub rates: String,
    /// p50 and p99 over the run.
    pub latencies: String,
}

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d232a;
 background:#f4f6f8;margin:0;padding:24px}
main{max-width:1100px;margin:auto}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 10px}
.sub{color:#5b6673;margin:0 0 16px}
section{background:#fff;border:1px solid #dde3e9;border-radius:8px;padding:16px 20px;margin:0 0 18px}
.cards{margin:0 0 18px;display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{background:#fff;border:1px solid #dde3e9;border-radius:8px;padding:10px 14px}
.card b{display:block;font-size:20px}.card span{color:#5b6673;font-size:13px}
svg{width:100%;height:auto;display:block}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
th,td{padding:4px 7px;border-bottom:1px solid #e6eaee;text-align:right;white-space:nowrap;font-size:14px}
th{background:#f0f3f6;font-weight:600}
td.l,th.l{text-align:left}table.kv{width:auto;min-width:50%}
.bar{background:#4e79a7;height:10px;border-radius:2px;min-width:1px}
.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;font-size:13px}
.badge.ok{background:#dcf5e3}.badge.bad{background:#fde2e1}
.note{color:#5b6673;font-size:14px;max-width:80ch}
.warn{background:#fff4d6;border-color:#f0d27a}
footer{color:#5b6673;font-size:13px;text-align:center}
";

/// The whole document.
pub fn document(s: &Summary, charts: &Charts) -> String {
    let mut out = String::new();
    write_document(&mut out, s, charts).expect("writing into a String cannot fail");
    out
}

fn write_document(w: &mut String, s: &Summary, charts: &Charts) -> fmt::Result {
    let target = escape(&s.target);
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>obslab-loadgen: {target}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    )?;
    writeln!(w, "<h1>Load test of {target} {}</h1>", verdict(s))?;
    writeln!(
        w,
        "<p class=\"sub\">{} model, {} s from {} to {}{}</p>",
        s.model,
        s.duration_s,
        escape(&s.started_at),
        escape(&s.ended_at),
        part_of_run(s)
    )?;
    cards(w, s)?;
    for warning in &s.warnings {
        writeln!(
            w,
            "<section class=\"warn\">Warning: {}</section>",
            escape(warning)
        )?;
    }
    write!(
        w,
        "<section id=\"spectrum\"><h2>Latency by percentile</h2>\n{}\n\
         <p class=\"note\">Each line gives, for a percentile on the horizontal axis, the latency \
         that share of the answers stayed under: at 99% the p99, at 99.9% the p99.9. The axis counts \
         nines, so each step to the right is a ten times rarer request, and the latency axis is \
         logarithmic. A flat line is a steady service; a line that rises steeply on the right \
         is a tail a few users feel on every page that makes many requests. The bold line is \
         every request, the others one endpoint each.</p></section>\n",
        charts.spectrum
    )?;
    write!(
        w,
        "<section id=\"rates\"><h2>Requests per second</h2>\n{}\n\
         <p class=\"note\">Sent: requests that left in that second; answered and no answer: \
         requests that finished in it.</p></section>\n",
        charts.rates
    )?;
    write!(
        w,
        "<section id=\"latency\"><h2>Latency over time (p50, p99)</h2>\n{}\n\
         <p class=\"note\">The median and 99th percentile of the answers of each second.</p>\
         </section>\n",
        charts.latencies
    )?;
    statuses(w, s)?;
    endpoints(w, &s.endpoints)?;
    settings(w, s)?;
    writeln!(
        w,
        "<footer>obslab-loadgen {}: the same report as <code>--output json</code></footer>\n\
         </main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    )
}

/// The thresholds' verdict, as a badge (nothing without thresholds).
fn verdict(s: &Summary) -> String {
    let failed = s.thresholds.iter().filter(|t| !t.ok).count();
    match (s.thresholds.len(), failed) {
        (0, _) => String::new(),
        (n, 0) => format!("<span class=\"badge ok\">{n} threshold(s) held</span>"),
        (n, f) => format!("<span class=\"badge bad\">{f} of {n} threshold(s) FAILED</span>"),
    }
}

/// ", shard 1/3" or ", merge of 3 reports" (nothing for a whole run).
fn part_of_run(s: &Summary) -> String {
    match (s.shard, s.merged_reports) {
        (Some(shard), _) => format!(", shard {shard}"),
        (None, Some(1)) => ", merge of 1 report".to_owned(),
        (None, Some(n)) => format!(", merge of {n} reports"),
        (None, None) => String::new(),
    }
}

fn cards(w: &mut String, s: &Summary) -> fmt::Result {
    let l = &s.latency_ms;
    let rate = match s.model {
        ModelKind::Open => format!("rate (target {} req/s)", s.target_rps),
        ModelKind::Closed => "rate".to_owned(),
    };
    let figures = [
        ("sent", s.requests.to_string()),
        ("answered", s.responses.to_string()),
        ("no answer", s.errors.total().to_string()),
        ("dropped", s.dropped.to_string()),
        (rate.as_str(), format!("{} req/s", s.achieved_rps)),
        ("error rate", format!("{:.2} %", s.error_rate())),
        ("p50", format!("{} ms", l.p50)),
        ("p99", format!("{} ms", l.p99)),
        ("p99.9", format!("{} ms", l.p999)),
        ("max", format!("{} ms", l.max)),
    ];
    w.push_str("<div class=\"cards\" id=\"figures\">\n");
    for (name, value) in figures {
        writeln!(
            w,
            "<div class=\"card\"><b>{value}</b><span>{name}</span></div>"
        )?;
    }
    w.push_str("</div>\n");
    Ok(())
}

/// Answers by status, then the requests without one, with their share of
/// the finished requests as a bar.
fn statuses(w: &mut String, s: &Summary) -> fmt::Result {
    let finished = (s.responses + s.errors.total()).max(1) as f64;
    w.push_str(
        "<section id=\"statuses\"><h2>Status codes and errors</h2>\n<table>\n\
         <tr><th class=\"l\">outcome</th><th>requests</th><th>share</th>\
         <th class=\"l\" style=\"width:40%\"></th></tr>\n",
    );
    let Errors {
        timeout,
        connect,
        other,
    } = s.errors;
    let rows = s
        .status_codes
        .iter()
        .map(|(code, n)| (format!("HTTP {}", escape(code)), *n))
        .chain([
            ("no answer: timeout".to_owned(), timeout),
            ("no answer: connect".to_owned(), connect),
            ("no answer: other".to_owned(), other),
        ]);
    for (outcome, n) in rows {
        let share = 100.0 * n as f64 / finished;
        writeln!(
            w,
            "<tr><td class=\"l\">{outcome}</td><td>{n}</td><td>{share:.2} %</td>\
             <td class=\"l\"><div class=\"bar\" style=\"width:{share:.2}%\"></div></td></tr>"
        )?;
    }
    writeln!(
        w,
        "</table>\n<p class=\"note\">Shares of the {} finished requests. {} more were dropped \
         by --max-in-flight, never sent.</p></section>",
        s.responses + s.errors.total(),
        s.dropped
    )
}

fn endpoints(w: &mut String, endpoints: &[Endpoint]) -> fmt::Result {
    w.push_str(
        "<section id=\"endpoints\"><h2>Endpoints</h2>\n<div class=\"scroll\"><table>\n<tr><th class=\"l\">method</th>\
         <th class=\"l\">path</th><th>weight</th><th>sent</th><th>answered</th><th>no answer</th>\
         <th>dropped</th><th title=\"no answer, or status >= 400\">error %</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th>\
         <th>max ms</th><th class=\"l\">status codes</th></tr>\n",
    );
    for e in endpoints {
        let Latency {
            p50,
            p90,
            p99,
            p999,
            max,
            ..
        } = e.latency_ms;
        writeln!(
            w,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{p50}</td><td>{p90}</td><td>{p99}</td>\
             <td>{p999}</td><td>{max}</td><td class=\"l\">{}</td></tr>",
            escape(&e.method),
            escape(&e.path),
            e.weight,
            e.requests,
            e.responses,
            e.errors.total(),
            e.dropped,
            e.error_rate,
            codes(&e.status_codes)
        )?;
    }
    w.push_str("</table></div></section>\n");
    Ok(())
}

fn codes(codes: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = codes
        .iter()
        .map(|(code, n)| format!("{}: {n}", escape(code)))
        .collect();
    parts.join("<br>")
}

/// The run's settings and the thresholds' results.
fn settings(w: &mut String, s: &Summary) -> fmt::Result {
    let mut rows: Vec<(&str, String)> = vec![
        ("target", escape(&s.target).into_owned()),
        ("model", s.model.to_string()),
        ("seed", s.seed.to_string()),
        ("duration", format!("{} s", s.duration_s)),
        ("started at", escape(&s.started_at).into_owned()),
        ("ended at", escape(&s.ended_at).into_owned()),
        ("rate achieved", format!("{} req/s", s.achieved_rps)),
    ];
    if s.model == ModelKind::Open {
        rows.push(("rate asked (mean)", format!("{} req/s", s.target_rps)));
    }
    let settings = &s.settings;
    let concurrency = match s.model {
        ModelKind::Open => "concurrency (in-flight cap)",
        ModelKind::Closed => "concurrency (workers)",
    };
    for (name, value) in [
        (concurrency, settings.concurrency),
        ("connections (at most)", settings.connections),
        ("threads", settings.threads),
    ] {
        if let Some(n) = value {
            rows.push((name, n.to_string()));
        }
    }
    if let Some(shard) = s.shard {
        rows.push(("shard", shard.to_string()));
    }
    if let Some(n) = s.merged_reports {
        rows.push(("merged reports", n.to_string()));
    }
    if let Some(missing) = &s.missing_shards {
        let list: Vec<String> = missing.iter().map(u64::to_string).collect();
        let missing = if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        };
        rows.push(("missing shards", missing));
    }
    if let Some(lag) = &s.schedule_lag_ms {
        let lag = format!("p50 {} ms, p99 {} ms, max {} ms", lag.p50, lag.p99, lag.max);
        rows.push(("schedule lag", lag));
    }
    w.push_str("<section id=\"settings\"><h2>Settings</h2>\n<table class=\"kv\">\n");
    for (name, value) in rows {
        writeln!(
            w,
            "<tr><th class=\"l\">{name}</th><td class=\"l\">{value}</td></tr>"
        )?;
    }
    w.push_str("</table>\n");
    if !s.thresholds.is_empty() {
        w.push_str(
            "<h2 style=\"margin-top:16px\">Thresholds</h2>\n<table>\n<tr><th class=\"l\">threshold\
             </th><th>measured</th><th class=\"l\">result</th></tr>\n",
        );
        for t in &s.thresholds {
            let (class, result) = if t.ok {
                ("ok", "held")
            } else {
                ("bad", "FAILED")
            };
            writeln!(
                w,
                "<tr><td class=\"l\">{}</td><td>{}</td><td class=\"l {class}\">{result}</td></tr>",
                escape(&t.expr),
                t.value
            )?;
        }
        w.push_str("</table>\n");
    }
    w.push_str("</section>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup_and_keeps_the_text() {
        // (user text, escaped)
        let table = [
            ("/plain/path?a=1", "/plain/path?a=1"),
            ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
            ("a&b", "a&amp;b"),
            (
                "\"quoted\" 'single'",
                "&quot;quoted&quot; &#x27;single&#x27;",
            ),
            ("&amp;", "&amp;amp;"),
            ("é ünïcode ✓", "é ünïcode ✓"),
        ];
        for (text, escaped) in table {
            assert_eq!(escape(text), escaped, "{text}");
        }
    }
}
