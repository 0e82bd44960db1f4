//! Open model runs, in-process, against the tiny app of `util`: the
//! absolute schedule's counts, ramps, a slow target and the in-flight cap.

use std::sync::atomic::Ordering;

use obslab_loadgen::Summary;

use crate::util::{app, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_achieves_the_target_rate() {
    let (target, seen) = app().await;
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /=1",
        "--rate",
        "400",
        "--duration",
        "1s",
    ])
    .await;
    // The absolute schedule sends exactly rate × duration, even if late.
    assert_eq!(s.requests, 400);
    assert_eq!(s.responses, 400);
    assert_eq!(seen.hits.load(Ordering::SeqCst), 400);
    assert_eq!(s.target_rps, 400.0);
    rate_is_requests_over_the_window(&s, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_count_is_exact_and_waiting_for_the_target_sends_nothing() {
    let (target, seen) = app().await;
    let words = [
        "--target",
        &target,
        "--mix",
        "GET /=1",
        "--rate",
        "2000",
        "--requests",
        "37",
    ];
    let s = run(&[&words[..], &["--wait-for-target", "5s"]].concat()).await;
    assert_eq!((s.requests, s.responses, s.dropped), (37, 37, 0));
    // The wait is a TCP connect: the target counts exactly the run.
    assert_eq!(seen.hits.load(Ordering::SeqCst), 37);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_drive_the_open_model() {
    let (target, _) = app().await;
    // 0 → 200 req/s in 0.5 s (50 requests), then 0.5 s at 200 (100).
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /=1",
        "--stages",
        "500ms:200,500ms:200",
    ])
    .await;
    assert_eq!((s.requests, s.responses), (150, 150));
    // 150 over 1 s, unless the last send ran late and stretched the window.
    assert!(
        (140.0..=150.0).contains(&s.target_rps),
        "target {} req/s",
        s.target_rps
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_target_keeps_the_rate_and_shows_in_the_tail() {
    let (target, _) = app().await;
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /=90,GET /slow=10",
        "--rate",
        "200",
        "--duration",
        "2s",
        "--seed",
        "3",
    ])
    .await;
    // Slow answers do not slow the sender down...
    assert_eq!((s.requests, s.dropped), (400, 0));
    assert_eq!(s.responses, 400);
    rate_is_requests_over_the_window(&s, 2.0);
    // ...and show in the percentiles: 10 % of requests take 400 ms.
    assert!(s.latency_ms.p99 >= 400.0, "p99 {} ms", s.latency_ms.p99);
    assert!(s.latency_ms.p50 < 400.0, "p50 {} ms", s.latency_ms.p50);
    let slow = &s.endpoints[1];
    assert_eq!(slow.path, "/slow");
    assert!(
        slow.latency_ms.min >= 400.0,
        "/slow min {} ms",
        slow.latency_ms.min
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_flight_cap_drops_instead_of_queueing() {
    let (target, _) = app().await;
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /slow=1",
        "--rate",
        "200",
        "--duration",
        "1s",
        "--max-in-flight",
        "10",
    ])
    .await;
    // 200 arrivals; 10 slots of 400 ms serve at most ~30 of them in 1 s.
    assert_eq!(s.requests + s.dropped, 200);
    assert!(s.requests <= 40, "{} sent through a cap of 10", s.requests);
    assert_eq!(s.responses, s.requests);
}

/// The window is at least the asked `secs`; how much longer depends on the
/// machine, so the rate is checked as what it is, not against a clock.
fn rate_is_requests_over_the_window(s: &Summary, secs: f64) {
    assert!(s.duration_s >= secs, "window {} s", s.duration_s);
    let implied = s.achieved_rps * s.duration_s; // both rounded to 3 decimals
    assert!(
        (implied - s.requests as f64).abs() < 1.0,
        "{implied} vs {}",
        s.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_short_of_connections_wait_and_the_wait_shows_as_lag() {
    let (target, seen) = app().await;
    let words = [
        "--target",
        &target,
        "--mix",
        "GET /slow=1",
        "--rate",
        "20",
        "--requests",
        "12",
        "--threads",
        "1",
    ];
    // Two connections for 400 ms answers: 5 a second get through, so the
    // last of the 12 (due at 550 ms) leaves after 5 rounds, about 2 s.
    let short = run(&[&words[..], &["--connections", "2"]].concat()).await;
    assert_eq!(
        (short.requests, short.responses, short.dropped),
        (12, 12, 0)
    );
    let short_lag = short.schedule_lag_ms.expect("open model").max;
    assert!(
        short_lag >= 1000.0,
        "lag max {short_lag} ms with 2 connections"
    );
    assert!(
        short.latency_ms.max >= short_lag + 400.0,
        "latency counts from the intended send: max {} ms, lag {short_lag} ms",
        short.latency_ms.max,
    );
    // The default is enough for 20 a second: nothing waits for a connection.
    let enough = run(&words).await;
    assert_eq!(enough.responses, 12);
    let enough_lag = enough.schedule_lag_ms.expect("open model").max;
    assert!(
        enough_lag < short_lag / 2.0,
        "lag max {enough_lag} ms with the default, {short_lag} ms with 2"
    );
    assert_eq!(seen.hits.load(Ordering::SeqCst), 24);
}
