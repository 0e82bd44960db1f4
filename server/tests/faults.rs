//! Fault injection seen from a client: rates within binomial bounds over a
//! few thousand requests, and reproducibility with `--seed`.

use std::collections::HashMap;

use futures_util::StreamExt;

use crate::util::{TestServer, assert_binomial};

/// Sends `n` `GET path` with 16 in flight; returns the statuses in the order
/// they were sent.
async fn statuses(server: &TestServer, path: &str, n: usize) -> Vec<u16> {
    let url = server.url(path);
    futures_util::stream::iter(0..n)
        .map(|_| {
            let request = server.client.get(&url).send();
            async move { request.await.unwrap().status().as_u16() }
        })
        .buffered(16)
        .collect()
        .await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn default_rates_hold_within_binomial_bounds() {
    let server = TestServer::start(&[
        "--seed=2024",
        "--slow-min=1ms",
        "--slow-max=2ms",
        "--slow-timeout=1ms",
    ])
    .await;
    let home = statuses(&server, "/", 4000).await;
    assert_binomial("GET / home_error", count(&home, 500), home.len(), 0.05);
    assert_eq!(count(&home, 200) + count(&home, 500), home.len());

    let health = statuses(&server, "/health", 3000).await;
    assert_binomial("GET /health 503", count(&health, 503), health.len(), 0.2);

    let slow = statuses(&server, "/slow", 2000).await;
    assert_binomial("GET /slow 504", count(&slow, 504), slow.len(), 0.3);
}

#[tokio::test]
async fn manual_errors_are_uniform_by_default_and_follow_weights() {
    let server = TestServer::start(&["--seed=9"]).await;
    let errors = statuses(&server, "/error", 4000).await;
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for s in &errors {
        *by_status.entry(*s).or_default() += 1;
    }
    // 500 is database_error only: home_error never comes from /error.
    for status in [400, 403, 500, 504] {
        assert_binomial(
            &format!("/error {status}"),
            by_status[&status],
            errors.len(),
            0.25,
        );
    }

    let weighted = TestServer::start(&["--seed=9", "--error-weights=permission_error=1"]).await;
    let only = statuses(&weighted, "/error", 200).await;
    assert_eq!(count(&only, 403), only.len());
}

#[tokio::test]
async fn the_same_seed_and_sequence_give_the_same_outcomes() {
    let sequence = async |seed: &str| {
        let server = TestServer::start(&[
            seed,
            "--slow-min=1ms",
            "--slow-max=1ms",
            "--slow-timeout=1ms",
        ])
        .await;
        let mut out = Vec::new();
        for path in ["/", "/health", "/error", "/slow"].iter().cycle().take(400) {
            out.push(server.status(path).await);
        }
        out
    };
    let first = sequence("--seed=77").await;
    assert_eq!(first, sequence("--seed=77").await);
    assert_ne!(first, sequence("--seed=78").await);
}
