//! Rendering a [`Summary`] for people (text) and programs (JSON).
//!
//! Renderers write into any `impl Write`, so tests render into a `Vec<u8>`
//! and `main` picks the streams: with `--output json` the JSON document is
//! alone on stdout (pipe it to `jq`) and the text summary goes to stderr.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::plan::Output;
use crate::summary::{Errors, Latency, ModelKind, Settings, Summary};

/// Writes the report to stdout (and stderr for JSON), as `output` says.
/// A closed pipe (`| head`) is not an error.
pub fn emit(summary: &Summary, output: Output) -> io::Result<()> {
    let result = match output {
        Output::Text => text(summary, &mut io::stdout().lock()),
        Output::Json => text(summary, &mut io::stderr().lock())
            .and_then(|()| json(summary, &mut io::stdout().lock())),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The JSON document, pretty-printed, with a final newline.
pub fn json<W: Write>(summary: &Summary, w: &mut W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, summary)?;
    writeln!(w)
}

/// The human-readable summary.
pub fn text<W: Write>(s: &Summary, w: &mut W) -> io::Result<()> {
    let shard = s
        .shard
        .map(|shard| format!(", shard {shard}"))
        .unwrap_or_default();
    writeln!(
        w,
        "obslab-loadgen: {} model against {} (seed {}{shard})",
        s.model, s.target, s.seed
    )?;
    if let Some(n) = s.merged_reports {
        let missing = match &s.missing_shards {
            Some(missing) if !missing.is_empty() => {
                let list: Vec<String> = missing.iter().map(u64::to_string).collect();
                format!(" (shards missing: {})", list.join(", "))
            }
            Some(_) => " (every shard)".to_owned(),
            None => String::new(),
        };
        writeln!(w, "  merged        {n} report(s){missing}")?;
    }
    if let Some(protocol) = &s.protocol {
        writeln!(w, "  protocol      {}", protocol_line(s, protocol))?;
    }
    if let Some(line) = settings_line(s) {
        writeln!(w, "  settings      {line}")?;
    }
    writeln!(w, "  duration      {:.3} s", s.duration_s)?;
    writeln!(
        w,
        "  requests      {} sent, {} answered, {} without answer ({}), {} dropped",
        s.requests,
        s.responses,
        s.errors.total(),
        error_kinds(&s.errors),
        s.dropped
    )?;
    if s.model == ModelKind::Open {
        writeln!(
            w,
            "  rate          {:.1} req/s achieved, {:.1} req/s target",
            s.achieved_rps, s.target_rps
        )?;
    } else {
        writeln!(w, "  rate          {:.1} req/s achieved", s.achieved_rps)?;
    }
    writeln!(
        w,
        "  error rate    {:.2} % (no answer, or status >= 400)",
        s.error_rate()
    )?;
    writeln!(w, "  latency (ms)  {}", latency_line(&s.latency_ms))?;
    if let Some(lag) = &s.schedule_lag_ms {
        writeln!(
            w,
            "  sched. lag    p50 {:.2}  p99 {:.2}  max {:.2} ms (how late requests left)",
            lag.p50, lag.p99, lag.max
        )?;
    }
    writeln!(w, "  status codes  {}", status_line(&s.status_codes))?;
    writeln!(w)?;
    writeln!(
        w,
        "  {:<24} {:>9} {:>9} {:>10} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "endpoint",
        "requests",
        "answered",
        "no answer",
        "dropped",
        "error %",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms"
    )?;
    for e in &s.endpoints {
        let name = format!("{} {}", e.method, e.path);
        let l = &e.latency_ms;
        writeln!(
            w,
            "  {:<24} {:>9} {:>9} {:>10} {:>8} {:>8.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            name,
            e.requests,
            e.responses,
            e.errors.total(),
            e.dropped,
            e.error_rate,
            l.p50,
            l.p95,
            l.p99,
            l.max
        )?;
    }
    for warning in &s.warnings {
        writeln!(w)?;
        writeln!(w, "  WARNING: {warning}")?;
    }
    if !s.thresholds.is_empty() {
        writeln!(w)?;
        writeln!(w, "  thresholds")?;
        for t in &s.thresholds {
            let verdict = if t.ok { "ok    " } else { "FAILED" };
            writeln!(w, "    {verdict} {} (measured {})", t.expr, t.value)?;
        }
    }
    Ok(())
}

/// `concurrency N, connections N, threads N`, the figures known; in the
/// open model `concurrency` is the in-flight cap.
fn settings_line(s: &Summary) -> Option<String> {
    let Settings {
        concurrency,
        connections,
        threads,
    } = s.settings;
    let cap = if s.model == ModelKind::Open {
        " (--max-in-flight)"
    } else {
        ""
    };
    let parts: Vec<String> = [
        concurrency.map(|n| format!("concurrency {n}{cap}")),
        connections.map(|n| format!("connections {n}")),
        threads.map(|n| format!("threads {n}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn error_kinds(e: &Errors) -> String {
    format!(
        "timeout {}, connect {}, other {}",
        e.timeout, e.connect, e.other
    )
}

fn latency_line(l: &Latency) -> String {
    format!(
        "min {:.2}  mean {:.2}  p50 {:.2}  p90 {:.2}  p95 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.p999, l.max
    )
}

fn status_line(codes: &BTreeMap<String, u64>) -> String {
    if codes.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> = codes
        .iter()
        .map(|(code, n)| format!("{code}: {n}"))
        .collect();
    parts.join(", ")
}

/// The run's HTTP version; when mixed, each endpoint's.
fn protocol_line(s: &Summary, protocol: &str) -> String {
    if protocol != crate::client::MIXED {
        return protocol.to_owned();
    }
    let each: Vec<String> = s
        .endpoints
        .iter()
        .filter_map(|e| {
            Some(format!(
                "{} {} {}",
                e.method,
                e.path,
                e.protocol.as_deref()?
            ))
        })
        .collect();
    format!("{protocol}: {}", each.join(", "))
}
