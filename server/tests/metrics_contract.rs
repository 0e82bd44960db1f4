//! The metrics contract with existing lab material: names, types, label sets,
//! bounded cardinality, agreement with /stats, and promtool's approval.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{TestServer, samples, sum};

const ERROR_TYPES: [&str; 11] = [
    "home_error",
    "health_check_failed",
    "validation_error",
    "permission_error",
    "database_error",
    "timeout_error",
    "timeout",
    "not_found",
    "method_not_allowed",
    "unauthorized",
    "outage",
];

/// `# TYPE name type` lines as a map.
fn types(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

fn label_names(exposition: &str, name: &str) -> BTreeSet<Vec<String>> {
    samples(exposition)
        .into_iter()
        .filter(|s| s.name == name)
        .map(|s| s.labels.into_keys().collect())
        .collect()
}

fn series(exposition: &str, name: &str) -> BTreeSet<Vec<(String, String)>> {
    samples(exposition)
        .into_iter()
        .filter(|s| s.name == name)
        .map(|s| s.labels.into_iter().collect())
        .collect()
}

#[tokio::test]
async fn families_have_the_contracted_names_types_and_labels() {
    let server = TestServer::start(&["--slow-min=1ms", "--slow-max=1ms"]).await;
    for path in ["/", "/health", "/error", "/slow", "/nope"] {
        server.get(path).await;
    }
    let text = server.scrape().await;
    let types = types(&text);
    for (name, kind) in [
        ("flask_requests_total", "counter"),
        ("flask_errors_total", "counter"),
        ("flask_error_rate", "gauge"),
        ("flask_uptime_seconds", "gauge"),
        ("flask_request_duration_seconds", "histogram"),
        ("obslab_build_info", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
    ] {
        assert_eq!(types.get(name).map(String::as_str), Some(kind), "{name}");
    }
    let set = |names: &[&str]| BTreeSet::from([names.iter().map(|s| s.to_string()).collect()]);
    assert_eq!(
        label_names(&text, "flask_requests_total"),
        set(&["endpoint", "method", "status"])
    );
    assert_eq!(
        label_names(&text, "flask_errors_total"),
        set(&["error_type"])
    );
    assert_eq!(
        label_names(&text, "flask_request_duration_seconds_bucket"),
        set(&["endpoint", "le", "method"])
    );
    let bounds: BTreeSet<String> = samples(&text)
        .into_iter()
        .filter(|s| s.name == "flask_request_duration_seconds_bucket")
        .map(|s| s.labels["le"].clone())
        .collect();
    for le in ["0.001", "10", "+Inf"] {
        assert!(bounds.contains(le), "bucket {le} in {bounds:?}");
    }
    assert_eq!(
        sum(
            &text,
            "flask_requests_total",
            &[("endpoint", "unmatched"), ("status", "404")]
        ),
        1.0
    );
}

#[tokio::test]
async fn every_error_type_is_exported_at_zero_from_the_start() {
    let server = TestServer::start(&[]).await;
    let text = server.scrape().await;
    for error_type in ERROR_TYPES {
        let got = samples(&text)
            .into_iter()
            .find(|s| s.name == "flask_errors_total" && s.labels["error_type"] == error_type);
        assert_eq!(got.map(|s| s.value), Some(0.0), "{error_type}");
    }
    assert_eq!(series(&text, "flask_errors_total").len(), ERROR_TYPES.len());
}

/// The `flask_requests_total` series the alert rules divide or compare
/// exist at 0 from the first scrape (so `rate()` sees the first failure),
/// and no other: only what a route can answer with, for `GET`.
#[tokio::test]
async fn the_series_alerts_use_are_exported_at_zero_from_the_start() {
    let server = TestServer::start(&[]).await;
    let text = server.scrape().await;
    let want: BTreeSet<(&str, &str)> = [
        ("/", "200"),
        ("/", "500"),
        ("/", "503"),
        ("/health", "200"),
        ("/health", "503"),
        ("/stats", "200"),
        ("/stats", "503"),
        ("/metrics", "200"),
        ("/metrics", "503"),
        ("/slow", "200"),
        ("/slow", "503"),
        ("/slow", "504"),
        ("/livez", "200"),
        ("/readyz", "200"),
        ("/readyz", "503"),
    ]
    .into_iter()
    .collect();
    let got: Vec<_> = samples(&text)
        .into_iter()
        .filter(|s| s.name == "flask_requests_total")
        .collect();
    assert!(
        got.iter()
            .all(|s| s.value == 0.0 && s.labels["method"] == "GET")
    );
    let got: BTreeSet<(&str, &str)> = got
        .iter()
        .map(|s| (s.labels["endpoint"].as_str(), s.labels["status"].as_str()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(sum(&text, "flask_requests_total", &[]), 0.0);
}

#[tokio::test]
async fn a_thousand_random_paths_add_no_series() {
    let server = TestServer::start(&["--seed=1"]).await;
    server.get("/nope").await;
    server.scrape().await; // so that /metrics has its own series before counting
    let before = series(&server.scrape().await, "flask_requests_total");
    for i in 0..1000u32 {
        let path = format!("/scan/{i}/{:x}?q={i}", i.wrapping_mul(2_654_435_761));
        let response = server.client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404);
        let method = if i % 2 == 0 { "PURGE" } else { "DELETE" };
        let odd = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        server
            .client
            .request(odd, server.url(&path))
            .send()
            .await
            .unwrap();
    }
    let text = server.scrape().await;
    let after = series(&text, "flask_requests_total");
    let added: Vec<_> = after.difference(&before).collect();
    // Only the two clamped methods of the one `unmatched` endpoint are new.
    assert_eq!(added.len(), 2, "{added:?}");
    assert_eq!(
        sum(&text, "flask_requests_total", &[("endpoint", "unmatched")]),
        2001.0
    );
    assert!(after.len() <= before.len() + 2);
}

#[tokio::test]
async fn stats_agree_with_the_counters() {
    let server = TestServer::start(&[
        "--seed=5",
        "--slow-min=1ms",
        "--slow-max=1ms",
        "--slow-timeout=1ms",
    ])
    .await;
    for path in ["/", "/health", "/error", "/slow", "/nope", "/stats"]
        .iter()
        .cycle()
        .take(600)
    {
        server.client.get(server.url(path)).send().await.unwrap();
    }
    let text = server.scrape().await;
    let (_, stats) = server.get("/stats").await;
    let requests = sum(&text, "flask_requests_total", &[]);
    let errors = sum(&text, "flask_errors_total", &[]);
    // /stats was asked after the scrape, which it counts.
    assert_eq!(stats["total_requests"].as_f64().unwrap(), requests + 1.0);
    assert_eq!(stats["error_count"].as_f64().unwrap(), errors);
    let gauge = sum(&text, "flask_error_rate", &[]);
    assert!(
        (gauge - errors * 100.0 / requests).abs() < 1e-9,
        "gauge {gauge}"
    );
    let rate = stats["error_rate"].as_f64().unwrap();
    assert!(
        (rate - errors * 100.0 / (requests + 1.0)).abs() < 1e-9,
        "stats {rate}"
    );
    assert!(errors > 100.0, "the mix produced errors: {errors}");
}

#[tokio::test]
async fn durations_include_injected_delays() {
    let server = TestServer::start(&[
        "--slow-timeout-rate=0",
        "--slow-min=300ms",
        "--slow-max=300ms",
    ])
    .await;
    server.get("/slow").await;
    let text = server.scrape().await;
    let bucket = |le| {
        sum(
            &text,
            "flask_request_duration_seconds_bucket",
            &[("endpoint", "/slow"), ("le", le)],
        )
    };
    assert_eq!((bucket("0.25"), bucket("0.5")), (0.0, 1.0));
}

#[tokio::test]
async fn the_namespace_option_renames_app_metrics_only() {
    let server = TestServer::start(&["--metrics-namespace=demo"]).await;
    server.get("/livez").await;
    let text = server.scrape().await;
    let types = types(&text);
    assert!(types.contains_key("demo_requests_total"));
    assert!(types.contains_key("demo_errors_total"));
    assert!(
        types.contains_key("process_cpu_seconds_total"),
        "process_* stays unprefixed"
    );
    assert!(!types.keys().any(|n| n.starts_with("flask_")), "{types:?}");
}

#[tokio::test]
async fn promtool_accepts_the_exposition() {
    let server = TestServer::start(&["--slow-min=1ms", "--slow-max=1ms"]).await;
    for path in ["/", "/health", "/error", "/slow", "/nope", "/stats"] {
        server.get(path).await;
    }
    let text = server.scrape().await;
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPED: promtool not runnable ({e}); install Debian's `prometheus` package"
            );
            return;
        }
        Err(e) => panic!("promtool is required under CI: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let complaints =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && complaints.trim().is_empty(),
        "promtool: {complaints}"
    );
}
