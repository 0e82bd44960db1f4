//! The verdicts `obslab doctor` reads from Prometheus' HTTP API: every
//! scrape job has live targets (but the optional [`OPTIONAL_JOBS`]), every
//! rule group is healthy, and an
//! Alertmanager is discovered. Each check is one request and one verdict,
//! so the doctor's report stays a list of lines.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::http::{Service, one_line};

/// One check's verdict: the line after ✓ or ✗.
pub type Verdict = Result<String, String>;

/// The compose service behind a scrape job, for the fix.
fn service_of(job: &str) -> &str {
    match job {
        "obslab-server" => "server",
        "obslab-loadgen" => "loadgen",
        "obslab-inbox" => "inbox",
        other => other,
    }
}

/// The jobs of the lab's prometheus.yml that may have no live target: the
/// service of séance 9 of the TP, started only with the compose profile
/// `instrumentation`. SPEC §6's rule that a job with no target fails has
/// this one documented exception.
pub const OPTIONAL_JOBS: &[&str] = &["student-service"];

/// Every job of the configuration has targets, all up, scraped recently.
pub async fn targets(prom: &Service) -> Verdict {
    let targets = prom
        .get_json("/api/v1/targets?state=active")
        .await
        .map_err(|e| format!("{e:#}"))?;
    let config = prom
        .get_json("/api/v1/status/config")
        .await
        .map_err(|e| format!("{e:#}"))?;
    let yaml = config["data"]["yaml"].as_str().unwrap_or("");
    let active = targets["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    targets_verdict(yaml, &active, Utc::now())
}

/// The verdict of [`targets`] on what Prometheus answered: the YAML of
/// `/api/v1/status/config` and the `activeTargets` of `/api/v1/targets`,
/// at `now`. A job of [`OPTIONAL_JOBS`] with no target, or none up, is
/// "not started (optional)", not a problem; once one of its targets is up,
/// it is checked like the others.
pub fn targets_verdict(yaml: &str, active: &[serde_json::Value], now: DateTime<Utc>) -> Verdict {
    let mut jobs: BTreeMap<String, (usize, usize)> = yaml
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("job_name:"))
        .map(|j| {
            (
                j.trim().trim_matches('"').trim_matches('\'').to_owned(),
                (0, 0),
            )
        })
        .collect();
    for t in active {
        let job = t["labels"]["job"].as_str().unwrap_or("?").to_owned();
        let entry = jobs.entry(job).or_default();
        entry.0 += 1;
        entry.1 += usize::from(t["health"].as_str() == Some("up"));
    }
    let not_started: Vec<&str> = OPTIONAL_JOBS
        .iter()
        .copied()
        .filter(|job| jobs.get(*job).is_some_and(|&(_, up)| up == 0))
        .collect();
    let mut problems = Vec::new();
    let mut checked = 0;
    for t in active {
        let job = t["labels"]["job"].as_str().unwrap_or("?").to_owned();
        if not_started.contains(&job.as_str()) {
            continue;
        }
        checked += 1;
        let instance = t["labels"]["instance"].as_str().unwrap_or("?");
        let service = service_of(&job);
        if t["health"].as_str() != Some("up") {
            let error = t["lastError"].as_str().unwrap_or("");
            problems.push(format!(
                "target {job} ({instance}) is down ({}): docker compose up -d {service}",
                one_line(error)
            ));
            continue;
        }
        let interval = t["scrapeInterval"]
            .as_str()
            .and_then(|s| obslab_common::duration::parse(s).ok())
            .map_or(15.0, |d| d.as_secs_f64());
        let last = t["lastScrape"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        if let Some(last) = last {
            let age = (now - last.with_timezone(&Utc)).num_milliseconds() as f64 / 1000.0;
            if age > 3.0 * interval {
                problems.push(format!(
                    "target {job} ({instance}) was last scraped {age:.0}s ago (interval {interval}s): \
                     is Prometheus overloaded or its clock off? docker compose restart prometheus"
                ));
            }
        }
    }
    for (job, (n, _)) in &jobs {
        if *n == 0 && !not_started.contains(&job.as_str()) {
            problems.push(format!(
                "job {job} has no target at all: check its static_configs in prometheus/prometheus.yml"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let mut line = format!(
        "{checked} targets up in {} jobs, scraped recently",
        jobs.len() - not_started.len()
    );
    for job in not_started {
        line.push_str(&format!(
            "; {job} not started (optional: docker compose --profile instrumentation up -d)"
        ));
    }
    Ok(line)
}

pub async fn rules(prom: &Service) -> Verdict {
    let rules = prom
        .get_json("/api/v1/rules")
        .await
        .map_err(|e| format!("{e:#}"))?;
    let groups = rules["data"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if groups.is_empty() {
        return Err(
            "no rule group loaded: is prometheus/rules/ mounted? docker compose logs prometheus"
                .to_owned(),
        );
    }
    let mut problems = Vec::new();
    let mut count = 0;
    for g in &groups {
        for r in g["rules"].as_array().map(Vec::as_slice).unwrap_or_default() {
            count += 1;
            if r["health"].as_str().unwrap_or("ok") != "ok" {
                problems.push(format!(
                    "rule {} of group {} is {}: {}",
                    r["name"].as_str().unwrap_or("?"),
                    g["name"].as_str().unwrap_or("?"),
                    r["health"].as_str().unwrap_or("?"),
                    r["lastError"].as_str().unwrap_or("")
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} rule groups loaded, {count} rules healthy",
            groups.len()
        ))
    } else {
        Err(problems.join("; "))
    }
}

pub async fn alertmanagers(prom: &Service) -> Verdict {
    let v = prom
        .get_json("/api/v1/alertmanagers")
        .await
        .map_err(|e| format!("{e:#}"))?;
    let active = v["data"]["activeAlertmanagers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if active.is_empty() {
        return Err(
            "no Alertmanager discovered: alerts go nowhere; check the alerting: block of \
             prometheus/prometheus.yml"
                .to_owned(),
        );
    }
    let urls: Vec<&str> = active.iter().filter_map(|a| a["url"].as_str()).collect();
    Ok(format!("sends alerts to {}", urls.join(", ")))
}
