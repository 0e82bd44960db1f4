//! Requests without an honest answer, in the open model: TLS against a
//! plain port, a dead target, redirects (never followed) and timeouts.

use std::sync::atomic::Ordering;

use obslab_loadgen::report;

use crate::util::{app, dead_target, run};

/// `https://` goes through TLS: against a plain-HTTP port the handshake
/// fails, so every request is a connect error and none reaches a route
/// (a client that quietly spoke plain HTTP would get 200s).
#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_targets_are_spoken_to_over_tls() {
    let (target, seen) = app().await;
    let https = target.replace("http://", "https://");
    for model in [["--rate", "100"], ["--concurrency", "2"]] {
        let words = ["--target", &https, "--mix", "GET /=1", "--requests", "4"];
        let s = run(&[&words[..], &model[..]].concat()).await;
        assert_eq!((s.responses, s.errors.connect), (0, 4), "{model:?}");
    }
    assert_eq!(seen.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_target_gives_connect_errors_and_still_a_report() {
    let (target, _reserved) = dead_target();
    let s = run(&["--target", &target, "--rate", "200", "--requests", "20"]).await;
    assert_eq!((s.requests, s.responses, s.errors.connect), (20, 0, 20));
    assert_eq!(s.error_rate(), 100.0);
    let mut text = Vec::new();
    report::text(&s, &mut text).unwrap();
    assert!(String::from_utf8(text).unwrap().contains("connect 20"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed_and_timeouts_are_counted() {
    let (target, seen) = app().await;
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /moved=1",
        "--rate",
        "500",
        "--requests",
        "10",
    ])
    .await;
    assert_eq!(s.status_codes.get("302"), Some(&10));
    assert_eq!(
        seen.home.load(Ordering::SeqCst),
        0,
        "a redirect was followed"
    );

    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /hang=1",
        "--rate",
        "500",
        "--requests",
        "5",
        "--timeout",
        "100ms",
    ])
    .await;
    assert_eq!((s.responses, s.errors.timeout), (0, 5));
}
