//! Adding reports up into one, exactly.
//!
//! Counts are added; histograms are added (`Histogram::add`: their buckets
//! line up, so the sum is the histogram one process would have recorded)
//! and every percentile is computed again from the sum; rates are taken
//! over the union of the windows, `min(started_at)..max(ended_at)`; the
//! settings `concurrency`, `connections` and `threads` are summed, the
//! reports being of processes that ran side by side. Before
//! anything is added, the reports must be parts of one run: one target, one
//! mix (method, path and weight of every entry), one model, and, for
//! shards, one shard count and no shard twice.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset};
use hdrhistogram::Histogram;

use super::read::{Found, Report, ReportEndpoint};
use crate::client;
use crate::hdr::{self, histogram_us};
use crate::limits::Limits;
use crate::recorder::Stats;
use crate::summary::{EndpointId, RunInfo, Settings, Summary, Tick};

/// One report checked and ready to add: its window and histograms read.
struct Part {
    origin: String,
    report: Report,
    started: DateTime<FixedOffset>,
    window: Duration,
    latency: Vec<Histogram<u64>>,
    lag: Option<Histogram<u64>>,
}

/// Adds `found` up into one summary (thresholds not judged yet); an error
/// names the report (`FILE:LINE`) and what keeps it out.
pub fn combine(found: Vec<Found>) -> Result<Summary, String> {
    let parts = found.into_iter().map(part).collect::<Result<Vec<_>, _>>()?;
    let first = parts.first().ok_or("no report to merge")?;
    let ids = endpoint_ids(&first.report);
    for part in &parts[1..] {
        same_run(first, part, &ids)?;
    }
    let (missing_shards, mut warnings) = shards(&parts)?;

    let started = parts.iter().map(|p| p.started).min().expect("one report");
    let ended = parts
        .iter()
        .map(|p| p.started + p.window)
        .max()
        .expect("one report");
    let window = (ended - started).to_std().unwrap_or_default();
    let stats = (0..ids.len())
        .map(|i| endpoint_stats(&parts, i))
        .collect::<Vec<_>>();
    // The schedule's requests of every report over the union window.
    let scheduled: f64 = parts
        .iter()
        .map(|p| p.report.target_rps * p.window.as_secs_f64())
        .sum();
    let lag = first.lag.is_some().then(|| {
        let mut lag = histogram_us();
        for p in &parts {
            lag.add(p.lag.as_ref().expect("checked: same model"))
                .expect("histograms share their bounds");
        }
        lag
    });
    let info = RunInfo {
        target: first.report.target.clone(),
        shard: None,
        model: first.report.model,
        seed: first.report.seed,
        window,
        target_rps: if window.is_zero() {
            0.0
        } else {
            scheduled / window.as_secs_f64()
        },
        schedule_lag_us: lag,
        limits: Limits {
            cpu_s: None,
            wall_s: 0.0,
            threads: 1,
        },
        started_at: SystemTime::from(started),
        timeline: timeline(&parts, started)?,
        // One version kept, several said `mixed`.
        protocols: (0..ids.len())
            .map(|i| {
                client::combine(
                    parts
                        .iter()
                        .filter_map(|p| p.report.endpoints[i].protocol.clone()),
                )
            })
            .collect(),
        // Processes side by side: their workers, connections and threads add up.
        settings: Settings::sum(parts.iter().map(|p| &p.report.settings)),
    };
    let mut summary = Summary::assemble(info, &ids, &stats);
    // The reports' own warnings, said by whom when there are several.
    let many = parts.len() > 1;
    for p in &parts {
        for w in &p.report.warnings {
            warnings.push(if many {
                format!("{}: {w}", p.origin)
            } else {
                w.clone()
            });
        }
    }
    summary.warnings = warnings;
    summary.merged_reports = Some(parts.len());
    summary.missing_shards = missing_shards;
    Ok(summary)
}

/// Reads the window and histograms of one report.
fn part(found: Found) -> Result<Part, String> {
    let Found { origin, report } = found;
    let no_histograms = |field: &str| {
        format!(
            "{origin}: a report without histograms (no `{field}`): merge needs reports of obslab-loadgen with latency_histogram, timeline, started_at and ended_at"
        )
    };
    let time = |field: &str, value: &Option<String>| {
        let value = value.as_deref().ok_or_else(|| no_histograms(field))?;
        DateTime::parse_from_rfc3339(value)
            .map_err(|e| format!("{origin}: `{field}` {value:?} is not an RFC 3339 time ({e})"))
    };
    let started = time("started_at", &report.started_at)?;
    let ended = time("ended_at", &report.ended_at)?;
    let window = (ended - started)
        .to_std()
        .map_err(|_| format!("{origin}: ended_at is before started_at"))?;
    let decode = |field: String, text: Option<&String>| {
        let text = text.ok_or_else(|| no_histograms(&field))?;
        hdr::decode(text).map_err(|e| format!("{origin}: `{field}`: {e}"))
    };
    decode(
        "latency_histogram".into(),
        report.latency_histogram.as_ref(),
    )?;
    if report.timeline.is_none() {
        return Err(no_histograms("timeline"));
    }
    let latency = report
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = format!("endpoints[{i}].latency_histogram");
            decode(field, e.latency_histogram.as_ref())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let lag = match report.model {
        crate::summary::ModelKind::Open => Some(decode(
            "schedule_lag_histogram".into(),
            report.schedule_lag_histogram.as_ref(),
        )?),
        crate::summary::ModelKind::Closed => None,
    };
    for (i, e) in report.endpoints.iter().enumerate() {
        if let Some(code) = e.status_codes.keys().find(|c| c.parse::<u16>().is_err()) {
            return Err(format!(
                "{origin}: endpoints[{i}].status_codes: `{code}` is not an HTTP status"
            ));
        }
    }
    if let Some(shard) = report.shard.filter(|s| s.count == 0 || s.index >= s.count) {
        return Err(format!(
            "{origin}: shard {shard} is not I/N with 0 <= I < N"
        ));
    }
    Ok(Part {
        origin,
        report,
        started,
        window,
        latency,
        lag,
    })
}

fn endpoint_ids(report: &Report) -> Vec<EndpointId> {
    let id = |e: &ReportEndpoint| EndpointId {
        method: e.method.clone(),
        path: e.path.clone(),
        weight: e.weight.unwrap_or(0),
    };
    report.endpoints.iter().map(id).collect()
}

fn mix_text(ids: &[EndpointId]) -> String {
    let entries: Vec<String> = ids
        .iter()
        .map(|e| format!("{} {}={}", e.method, e.path, e.weight))
        .collect();
    entries.join(",")
}

/// Checks that `part` is of the same run as `first`.
fn same_run(first: &Part, part: &Part, ids: &[EndpointId]) -> Result<(), String> {
    let (a, b) = (&first.report, &part.report);
    let (origin, theirs) = (&part.origin, &first.origin);
    if a.target.trim_end_matches('/') != b.target.trim_end_matches('/') {
        return Err(format!(
            "{origin}: a report of target {} while {theirs} is of {}: reports of different targets do not add up",
            b.target, a.target
        ));
    }
    // Matched by method and path (and weight): the same entries, any order
    // would do, but a mix is a list and shards of one run keep its order.
    let mine = endpoint_ids(b);
    let key = |ids: &[EndpointId]| {
        ids.iter()
            .map(|e| (e.method.clone(), e.path.clone(), e.weight))
            .collect::<BTreeSet<_>>()
    };
    if key(&mine) != key(ids) || mine.len() != ids.len() {
        return Err(format!(
            "{origin}: its mix \"{}\" is not the mix \"{}\" of {theirs}: reports of different mixes do not add up",
            mix_text(&mine),
            mix_text(ids)
        ));
    }
    if a.model != b.model {
        return Err(format!(
            "{origin}: a {} model report while {theirs} is {}",
            b.model, a.model
        ));
    }
    Ok(())
}

/// Checks the shards: all or none sharded, one count, none twice. Returns
/// the missing ones (`None` when not sharded) and the warnings they deserve.
fn shards(parts: &[Part]) -> Result<(Option<Vec<u64>>, Vec<String>), String> {
    let first = &parts[0];
    let Some(count) = first.report.shard.map(|s| s.count) else {
        if let Some(p) = parts.iter().find(|p| p.report.shard.is_some()) {
            return Err(format!(
                "{}: a shard's report, while {} is a whole run's: shards of a run merge with one another only",
                p.origin, first.origin
            ));
        }
        return Ok((None, Vec::new()));
    };
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for p in parts {
        let Some(shard) = p.report.shard else {
            return Err(format!(
                "{}: a whole run's report, while {} is shard {}: shards of a run merge with one another only",
                p.origin,
                first.origin,
                first.report.shard.expect("sharded")
            ));
        };
        if shard.count != count {
            return Err(format!(
                "{}: shard {shard} is not one of the {count} shards of {}",
                p.origin, first.origin
            ));
        }
        if let Some(other) = seen.insert(shard.index, &p.origin) {
            return Err(format!(
                "{}: a second report of shard {shard} (the first is {other})",
                p.origin
            ));
        }
    }
    let missing: Vec<u64> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    let mut warnings = Vec::new();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|i| format!("{i}/{count}")).collect();
        warnings.push(format!(
            "missing shards {}: this merge covers {} of the {count} shards of the run, so its counts and rates are those of a part",
            list.join(", "),
            seen.len()
        ));
    }
    let seeds: BTreeSet<u64> = parts.iter().map(|p| p.report.seed).collect();
    if seeds.len() > 1 {
        warnings.push(format!(
            "the shards have different seeds ({seeds:?}): together they do not send the requests of one run"
        ));
    }
    Ok((Some(missing), warnings))
}

/// Endpoint `i` of every part, added up (the parts' endpoints are matched
/// by method and path).
fn endpoint_stats(parts: &[Part], i: usize) -> Stats {
    let want = &parts[0].report.endpoints[i];
    let mut total = Stats {
        requests: 0,
        responses: 0,
        dropped: 0,
        errors: [0; 3],
        status_codes: BTreeMap::new(),
        latency_us: histogram_us(),
    };
    for p in parts {
        let (j, e) = p
            .report
            .endpoints
            .iter()
            .enumerate()
            .find(|(_, e)| e.method == want.method && e.path == want.path)
            .expect("checked: same mix");
        let status_codes = e
            .status_codes
            .iter()
            .map(|(code, n)| (code.parse::<u16>().expect("checked: a status"), *n))
            .collect();
        total.merge(&Stats {
            requests: e.requests,
            responses: e.responses,
            dropped: e.dropped,
            errors: [e.errors.timeout, e.errors.connect, e.errors.other],
            status_codes,
            latency_us: p.latency[j].clone(),
        });
    }
    total
}

/// The parts' timelines on one clock: a second `t` of a part that started
/// `d` after the earliest goes to second `⌊d + t⌋` (exact when the shards
/// share `--start-at`). One histogram at a time is decoded and added.
fn timeline(parts: &[Part], started: DateTime<FixedOffset>) -> Result<Vec<Tick>, String> {
    let mut rows: BTreeMap<u64, Vec<(&Part, usize)>> = BTreeMap::new();
    for p in parts {
        let offset = (p.started - started).to_std().unwrap_or_default();
        for (k, tick) in p.report.timeline.iter().flatten().enumerate() {
            let at = offset + Duration::from_secs(tick.t);
            rows.entry(at.as_secs()).or_default().push((p, k));
        }
    }
    let last = rows.keys().next_back().copied();
    let mut latency = histogram_us();
    let mut ticks = Vec::new();
    for t in last.map_or(0..0, |last| 0..last + 1) {
        let mut tick = Tick {
            t,
            requests: 0,
            responses: 0,
            errors: 0,
            latency_histogram: String::new(),
        };
        latency.reset();
        for (p, k) in rows.get(&t).into_iter().flatten() {
            let theirs = &p.report.timeline.as_ref().expect("checked: a timeline")[*k];
            tick.requests += theirs.requests;
            tick.responses += theirs.responses;
            tick.errors += theirs.errors;
            let h = hdr::decode(&theirs.latency_histogram)
                .map_err(|e| format!("{}: timeline[{k}].latency_histogram: {e}", p.origin))?;
            latency.add(&h).expect("histograms share their bounds");
        }
        tick.latency_histogram = hdr::encode(&latency);
        ticks.push(tick);
    }
    Ok(ticks)
}
