//! Honesty: what the report says was answered is what obslab-server counted.
//!
//! For each endpoint of the default mix, the report's `responses` equals
//! the increase of the server's `flask_requests_total{endpoint=...}` over
//! the run: nothing lost (a slow answer is not a timeout), nothing invented
//! (no retries, no followed redirects). Both models, since they send
//! differently (connections lent to one request at a time; one per
//! worker), over HTTP/1.1 and over h2c.

use std::collections::BTreeMap;

use crate::servers::short_slow_server;
use crate::util::{get_text, run, sum_samples};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_answers_equal_the_servers_count_per_endpoint() {
    answers_equal_the_servers_count(&["--rate", "300", "--duration", "1s"], 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_answers_equal_the_servers_count_per_endpoint() {
    let s =
        answers_equal_the_servers_count(&["--concurrency", "8", "--requests", "1000"], 1000).await;
    assert_eq!(s.protocol.as_deref(), Some("HTTP/1.1"));
}

/// obslab-server answers h2c (prior knowledge) on its one port: the open
/// model's streams, multiplexed, are counted as HTTP/1's requests are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_over_h2c_answers_equal_the_servers_count_per_endpoint() {
    let words = ["--http2", "--rate", "300", "--duration", "1s"];
    let s = answers_equal_the_servers_count(&words, 300).await;
    assert_eq!(s.protocol.as_deref(), Some("HTTP/2"));
    assert!(
        s.endpoints
            .iter()
            .all(|e| e.protocol.as_deref() == Some("HTTP/2"))
    );
}

/// The closed model's eight workers share two h2c connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_over_h2c_answers_equal_the_servers_count_per_endpoint() {
    let words = [
        "--http2",
        "--concurrency",
        "8",
        "--connections",
        "2",
        "--requests",
        "1000",
    ];
    let s = answers_equal_the_servers_count(&words, 1000).await;
    assert_eq!(s.protocol.as_deref(), Some("HTTP/2"));
}

/// Runs the default mix with `model` options against obslab-server, which
/// must send `sent` requests, and compares the report with the server's
/// counters, endpoint by endpoint; returns the report.
async fn answers_equal_the_servers_count(model: &[&str], sent: u64) -> obslab_loadgen::Summary {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let before = get_text(&format!("{base}/metrics")).await;
    let mut words = vec!["--target", &base, "--seed", "11"];
    words.extend_from_slice(model);
    let s = run(&words).await;
    let after = get_text(&format!("{base}/metrics")).await;

    assert_eq!(s.requests, sent);
    assert_eq!(s.responses, sent, "every request answered: {:?}", s.errors);
    let count = |text: &str, endpoint: &str| {
        sum_samples(
            text,
            "flask_requests_total",
            &[&format!("endpoint=\"{endpoint}\"")],
        ) as u64
    };
    let mut report = BTreeMap::new();
    let mut server_side = BTreeMap::new();
    for e in &s.endpoints {
        // Our own scrape before the run is one more answered /metrics.
        let ours = u64::from(e.path == "/metrics");
        report.insert(e.path.clone(), e.responses);
        server_side.insert(
            e.path.clone(),
            count(&after, &e.path) - count(&before, &e.path) - ours,
        );
    }
    assert_eq!(
        report, server_side,
        "report (left) vs flask_requests_total increase (right)"
    );
    assert!(
        s.endpoints.iter().all(|e| e.responses > 0),
        "every route was exercised: {report:?}"
    );

    server.stop().await;
    s
}
