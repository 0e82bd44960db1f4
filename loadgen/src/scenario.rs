//! Scenario files: the same plan as the flags, written down in YAML.
//!
//! A scenario can say what flags cannot: per-request headers and bodies.
//! Every field is optional and flags override it (a mix entry's `method`
//! defaults to GET and its `weight` to 1); unknown fields are errors
//! (with line and column) because a misspelt `wieght` silently ignored would
//! change the test. YAML is read with `serde_norway`, a maintained fork of
//! the archived `serde_yaml`.
//!
//! ```yaml
//! target: http://localhost:5000
//! rate: 50                 # or stages, or concurrency
//! stages:
//!   - { duration: 30s, target: 100 }
//!   - { duration: 1m, target: 100 }
//! duration: 2m
//! headers: { Authorization: "Bearer demo" }
//! mix:
//!   - { method: GET, path: /, weight: 60 }
//!   - method: POST
//!     path: /login
//!     weight: 5
//!     headers: { Content-Type: application/json }
//!     body: '{"user": "demo"}'
//! thresholds: ["p95<500ms", "error_rate<5%"]
//! protocol: auto           # or http1, http2 (--http1, --http2)
//! ca_cert: certs/ca.pem    # or a list; relative to this file's directory
//! insecure: false
//! ```
//!
//! `protocol`, `ca_cert` and `insecure` are the scenario's `--http1` /
//! `--http2`, `--ca-cert` and `--insecure`: `--http1` or `--http2` on the
//! command line replaces `protocol`, any `--ca-cert` replaces `ca_cert`
//! (as `--mix` replaces `mix`), and `--insecure` turns it on whatever the
//! file says. A relative `ca_cert` path is taken from the scenario file's
//! directory, so a scenario and its certificate move together; the file is
//! read when the scenario is, and a bad one is named with the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::header::HeaderMap;
use obslab_common::duration::parse_nonzero;
use serde::Deserialize;
use url::Url;

use crate::client::{CaCert, Protocol, parse_ca_cert};
use crate::mix::{Mix, MixEntry};
use crate::schedule::Stage;
use crate::threshold::{Threshold, parse_threshold};
use crate::value::{parse_header, parse_target};

/// A loaded, validated scenario; `None` fields fall back to flags' defaults.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    /// Base URL.
    pub target: Option<Url>,
    /// Weighted requests with their headers and bodies.
    pub mix: Option<Mix>,
    /// Open-model rate (req/s), or the start rate of `stages`.
    pub rate: Option<f64>,
    /// Ramps.
    pub stages: Option<Vec<Stage>>,
    /// Closed-model workers.
    pub concurrency: Option<u64>,
    /// Sending time.
    pub duration: Option<Duration>,
    /// Scheduled requests.
    pub requests: Option<u64>,
    /// In-flight cap.
    pub max_in_flight: Option<u64>,
    /// Open model's connections.
    pub connections: Option<u64>,
    /// Per-request timeout.
    pub timeout: Option<Duration>,
    /// Headers for every request.
    pub headers: HeaderMap,
    /// Pass/fail criteria.
    pub thresholds: Vec<Threshold>,
    /// The HTTP version asked for (`protocol`).
    pub protocol: Option<Protocol>,
    /// Certificates trusted beside the system's (`ca_cert`), read.
    pub ca_certs: Vec<CaCert>,
    /// Whether no certificate is checked (`insecure`).
    pub insecure: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    target: Option<String>,
    mix: Option<Vec<FileEntry>>,
    rate: Option<f64>,
    stages: Option<Vec<FileStage>>,
    concurrency: Option<u64>,
    duration: Option<String>,
    requests: Option<u64>,
    max_in_flight: Option<u64>,
    connections: Option<u64>,
    timeout: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    thresholds: Vec<String>,
    protocol: Option<String>,
    ca_cert: Option<OneOrMany>,
    insecure: Option<bool>,
}

/// `ca_cert: a.pem` or `ca_cert: [a.pem, b.pem]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    #[serde(default = "get")]
    method: String,
    path: String,
    #[serde(default = "one")]
    weight: u32,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStage {
    duration: String,
    target: f64,
}

fn get() -> String {
    "GET".into()
}

fn one() -> u32 {
    1
}

/// Reads and validates a scenario file; the clap value parser of `--scenario`.
pub fn load(path: &str) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(Path::new(path))
        .map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let dir = Path::new(path).parent().unwrap_or(Path::new(""));
    parse_in(&text, dir).map_err(|e| format!("`{path}`: {e}"))
}

/// Parses scenario YAML text, its relative `ca_cert` paths taken from the
/// current directory.
pub fn parse(text: &str) -> Result<Scenario, String> {
    parse_in(text, Path::new(""))
}

/// Parses scenario YAML text, its relative `ca_cert` paths taken from `dir`
/// (the scenario file's directory).
pub fn parse_in(text: &str, dir: &Path) -> Result<Scenario, String> {
    let file: File = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    if file.concurrency.is_some() && (file.rate.is_some() || file.stages.is_some()) {
        return Err(
            "`concurrency` (closed model) cannot be combined with `rate` or `stages`".into(),
        );
    }
    let mix = file
        .mix
        .map(|entries| {
            let entries = entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| entry(e).map_err(|msg| format!("mix[{i}]: {msg}")))
                .collect::<Result<Vec<_>, _>>()?;
            Mix::new(entries).map_err(|e| format!("mix: {e}"))
        })
        .transpose()?;
    let stages = file
        .stages
        .map(|stages| {
            stages
                .into_iter()
                .enumerate()
                .map(|(i, s)| stage(s).map_err(|msg| format!("stages[{i}]: {msg}")))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let positive = |field: &str, n: Option<u64>| match n {
        Some(0) => Err(format!("{field}: must be at least 1")),
        n => Ok(n),
    };
    Ok(Scenario {
        target: file
            .target
            .as_deref()
            .map(parse_target)
            .transpose()
            .map_err(|e| format!("target: {e}"))?,
        mix,
        rate: match file.rate {
            Some(r) if !(r.is_finite() && r > 0.0) => {
                return Err(format!("rate: `{r}` must be above zero"));
            }
            rate => rate,
        },
        stages,
        concurrency: positive("concurrency", file.concurrency)?,
        duration: duration("duration", file.duration.as_deref())?,
        requests: positive("requests", file.requests)?,
        max_in_flight: positive("max_in_flight", file.max_in_flight)?,
        connections: positive("connections", file.connections)?,
        timeout: duration("timeout", file.timeout.as_deref())?,
        headers: headers(&file.headers).map_err(|e| format!("headers: {e}"))?,
        thresholds: file
            .thresholds
            .iter()
            .map(|t| parse_threshold(t).map_err(|e| format!("thresholds: {e}")))
            .collect::<Result<_, _>>()?,
        protocol: file.protocol.as_deref().map(protocol).transpose()?,
        ca_certs: ca_certs(file.ca_cert, dir)?,
        insecure: file.insecure,
    })
}

fn protocol(value: &str) -> Result<Protocol, String> {
    match value {
        "auto" => Ok(Protocol::Auto),
        "http1" => Ok(Protocol::Http1),
        "http2" => Ok(Protocol::Http2),
        other => Err(format!(
            "protocol: `{other}` is not one of http1, http2, auto"
        )),
    }
}

fn ca_certs(value: Option<OneOrMany>, dir: &Path) -> Result<Vec<CaCert>, String> {
    let paths = match value {
        None => Vec::new(),
        Some(OneOrMany::One(path)) => vec![path],
        Some(OneOrMany::Many(paths)) => paths,
    };
    paths
        .iter()
        .map(|path| {
            let path: PathBuf = dir.join(path);
            parse_ca_cert(&path.to_string_lossy()).map_err(|e| format!("ca_cert: {e}"))
        })
        .collect()
}

fn entry(e: FileEntry) -> Result<MixEntry, String> {
    let mut entry = MixEntry::new(&e.method, &e.path, e.weight).map_err(|e| e.to_string())?;
    entry.headers = headers(&e.headers)?;
    entry.body = e.body;
    Ok(entry)
}

fn stage(s: FileStage) -> Result<Stage, String> {
    let duration = parse_nonzero(&s.duration)?;
    if !(s.target.is_finite() && s.target >= 0.0) {
        return Err(format!("target `{}` must be a rate >= 0", s.target));
    }
    Ok(Stage {
        duration,
        target: s.target,
    })
}

fn duration(field: &str, value: Option<&str>) -> Result<Option<Duration>, String> {
    value
        .map(parse_nonzero)
        .transpose()
        .map_err(|e| format!("{field}: {e}"))
}

fn headers(map: &BTreeMap<String, String>) -> Result<HeaderMap, String> {
    map.iter()
        .map(|(name, value)| parse_header(&format!("{name}: {value}")))
        .collect()
}
