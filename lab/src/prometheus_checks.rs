//! The verdicts `obslab doctor` reads from Prometheus' HTTP API: every
//! scrape job has live targets, every rule group is healthy, and an
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
    let mut jobs: BTreeMap<String, usize> = yaml
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("job_name:"))
        .map(|j| (j.trim().trim_matches('"').trim_matches('\'').to_owned(), 0))
        .collect();
    let now = Utc::now();
    let mut problems = Vec::new();
    let active = targets["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for t in &active {
        let job = t["labels"]["job"].as_str().unwrap_or("?").to_owned();
        let instance = t["labels"]["instance"].as_str().unwrap_or("?");
        *jobs.entry(job.clone()).or_default() += 1;
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
    for (job, n) in &jobs {
        if *n == 0 {
            problems.push(format!(
                "job {job} has no target at all: check its static_configs in prometheus/prometheus.yml"
            ));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} targets up in {} jobs, scraped recently",
            active.len(),
            jobs.len()
        ))
    } else {
        Err(problems.join("; "))
    }
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
