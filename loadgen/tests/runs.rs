//! Real runs, in-process, against the tiny app of `util`.

use std::sync::atomic::Ordering;

use obslab_loadgen::{LoadTest, report};

use crate::util::{app, closing_target, dead_target, get_text, plan, run, sum_samples};

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
    // The window is at least the asked duration; how much longer depends on
    // the machine, so the rate is checked as what it is, not against a clock.
    assert!(s.duration_s >= 1.0, "window {} s", s.duration_s);
    let implied = s.achieved_rps * s.duration_s; // both rounded to 3 decimals
    assert!(
        (implied - s.requests as f64).abs() < 1.0,
        "{implied} vs {}",
        s.requests
    );
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
    // The window is at least the asked duration; how much longer depends on
    // the machine, so the rate is checked as what it is, not against a clock.
    assert!(s.duration_s >= 2.0, "window {} s", s.duration_s);
    let implied = s.achieved_rps * s.duration_s; // both rounded to 3 decimals
    assert!(
        (implied - s.requests as f64).abs() < 1.0,
        "{implied} vs {}",
        s.requests
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_sends_back_to_back() {
    let (target, seen) = app().await;
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /=1",
        "--concurrency",
        "4",
        "--requests",
        "200",
    ])
    .await;
    assert_eq!((s.requests, s.responses), (200, 200));
    assert_eq!(seen.hits.load(Ordering::SeqCst), 200);
    assert_eq!(s.target_rps, 0.0);
    assert_eq!(serde_json::to_value(&s).unwrap()["model"], "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_counts_redirects_timeouts_and_connect_errors() {
    let (target, seen) = app().await;
    let closed = |mix: &'static str, requests: &'static str, timeout: &'static str| {
        let target = target.clone();
        async move {
            let words = ["--target", &target, "--mix", mix, "--concurrency", "2"];
            let more = ["--requests", requests, "--timeout", timeout];
            run(&[&words[..], &more[..]].concat()).await
        }
    };
    let s = closed("GET /moved=1", "6", "10s").await;
    assert_eq!(s.status_codes.get("302"), Some(&6));
    assert_eq!(
        seen.home.load(Ordering::SeqCst),
        0,
        "a redirect was followed"
    );

    // A timed-out request leaves its connection busy (HTTP/1 answers in
    // order), so each of the next ones goes on a new connection and does
    // reach the target: 4 timeouts are 4 requests seen, not 2 seen and 2
    // stuck behind them.
    let before = seen.hits.load(Ordering::SeqCst);
    let s = closed("GET /hang=1", "4", "100ms").await;
    assert_eq!((s.responses, s.errors.timeout), (0, 4));
    assert_eq!(seen.hits_reach(before + 4).await - before, 4);

    let (dead, _reserved) = dead_target();
    let words = ["--target", &dead, "--concurrency", "2", "--requests", "4"];
    let s = run(&words).await;
    assert_eq!((s.requests, s.responses, s.errors.connect), (4, 0, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_reconnects_when_the_target_closes_the_connection() {
    let (target, heads) = closing_target().await;
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /a?b=c=1",
        "--concurrency",
        "3",
        "--requests",
        "60",
    ])
    .await;
    // Each request finds its worker's connection closed by the target (hyper
    // has read `Connection: close`) and goes on a new one, once. (When a
    // request is handed to a connection that closes before writing it,
    // hyper gives it back and it is sent anew on another: that race is not
    // reproducible on demand, so it is not tested here.)
    assert_eq!((s.requests, s.responses), (60, 60), "{:?}", s.errors);
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 60, "the target saw each request once");
    let host = format!("host: {}\r\n", target.trim_start_matches("http://"));
    for head in heads.iter() {
        let head = head.to_ascii_lowercase();
        assert!(head.starts_with("get /a?b=c http/1.1\r\n"), "{head}");
        assert!(head.contains(&host), "{head}");
        assert!(head.contains("user-agent: obslab-loadgen/"), "{head}");
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_run_and_still_reports() {
    let (target, seen) = app().await;
    let plan = plan(&["--target", &target, "--mix", "GET /=1", "--rate", "500"]);
    let watcher = seen.clone();
    // Stop (as SIGINT would) once the target has seen 20 requests.
    let stop = async move {
        watcher.hits_reach(20).await;
    };
    let s = obslab_loadgen::run(plan, stop).await.unwrap();
    assert!(s.requests >= 20);
    assert_eq!(s.responses, s.requests, "requests in flight are awaited");
    assert_eq!(seen.hits.load(Ordering::SeqCst), s.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_report_has_every_field_of_the_spec() {
    let (target, _) = app().await;
    let s = run(&[
        "--target",
        &target,
        "--mix",
        "GET /=3,GET /fail=1",
        "--rate",
        "500",
        "--requests",
        "40",
        "--threshold",
        "p95<5s",
    ])
    .await;
    let v = serde_json::to_value(&s).unwrap();
    let counts = [
        "requests",
        "responses",
        "dropped",
        "errors",
        "latency_ms",
        "status_codes",
    ];
    for key in [
        "target",
        "duration_s",
        "achieved_rps",
        "target_rps",
        "endpoints",
        "thresholds",
    ]
    .iter()
    .chain(&counts)
    {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for kind in ["timeout", "connect", "other"] {
        assert!(v["errors"][kind].is_u64(), "errors.{kind}");
    }
    for stat in ["min", "mean", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(v["latency_ms"][stat].is_number(), "latency_ms.{stat}");
    }
    assert_eq!(
        v["status_codes"]["200"].as_u64().unwrap() + v["status_codes"]["500"].as_u64().unwrap(),
        40
    );
    let endpoints = v["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 2);
    for e in endpoints {
        for key in ["method", "path"].iter().chain(&counts) {
            assert!(e.get(key).is_some(), "missing endpoints[].{key}");
        }
    }
    let t = &v["thresholds"][0];
    assert_eq!(
        (t["expr"].as_str(), t["ok"].as_bool()),
        (Some("p95<5s"), Some(true))
    );
    assert!(t["value"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_mirror_the_report_and_pass_promtool() {
    let (target, _) = app().await;
    let words = [
        "--target",
        &target,
        "--mix",
        "GET /=3,GET /fail=1",
        "--rate",
        "500",
        "--requests",
        "60",
        "--metrics-listen",
        "127.0.0.1:0",
    ];
    let test = LoadTest::prepare(plan(&words)).await.unwrap();
    let addr = test.metrics_addr().unwrap();
    let s = test.run(std::future::pending()).await.unwrap();
    let text = get_text(&format!("http://{addr}/metrics")).await;

    let total = |labels: &[&str]| sum_samples(&text, "loadgen_requests_total", labels);
    assert_eq!(total(&[]), s.requests as f64);
    assert_eq!(
        total(&[r#"endpoint="/fail""#, r#"status="500""#]),
        s.endpoints[1].responses as f64
    );
    assert_eq!(
        sum_samples(&text, "loadgen_request_duration_seconds_count", &[]),
        s.responses as f64
    );
    for kind in ["timeout", "connect", "other"] {
        let line = format!("loadgen_errors_total{{kind=\"{kind}\"}} 0");
        assert!(text.contains(&line), "missing {line}");
    }
    assert!(text.contains(r#"loadgen_dropped_total{endpoint="/",method="GET"} 0"#));
    for name in [
        "loadgen_in_flight 0",
        "loadgen_target_rate 0",
        "loadgen_schedule_lag_seconds_count 60",
    ] {
        assert!(text.contains(name), "missing {name}");
    }
    promtool_accepts(&text);
}

/// `promtool check metrics` prints nothing for a clean exposition.
fn promtool_accepts(exposition: &str) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("promtool not installed: skipping the lint of the exposition");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.is_empty(), "promtool: {said}");
}
