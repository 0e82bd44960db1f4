//! What a run hands back: the report after a shutdown, every JSON field,
//! and the `--metrics-listen` exposition mirroring the report.

use std::sync::atomic::Ordering;

use obslab_loadgen::LoadTest;

use crate::util::{app, get_text, plan, run, sum_samples};

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
        "protocol",
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
    // Added later: the open model's own lag, and warnings (a list).
    for stat in ["p50", "p99", "max"] {
        assert!(
            v["schedule_lag_ms"][stat].is_number(),
            "schedule_lag_ms.{stat}"
        );
    }
    assert!(v["warnings"].is_array());
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
    // Added for scale-out: histograms, timeline, window.
    let decoded = |h: &serde_json::Value| {
        let text = h.as_str().expect("a histogram is a string");
        assert!(text.starts_with("HISTF"), "{text}");
        obslab_loadgen::hdr::decode(text).expect("HdrHistogram V2")
    };
    assert_eq!(decoded(&v["latency_histogram"]).len(), 40);
    assert_eq!(decoded(&v["schedule_lag_histogram"]).len(), 40);
    for (e, weight) in endpoints.iter().zip([3, 1]) {
        assert_eq!(e["weight"], weight);
        assert_eq!(decoded(&e["latency_histogram"]).len(), e["responses"]);
    }
    let timeline = v["timeline"].as_array().unwrap();
    assert!(!timeline.is_empty());
    let sum = |key: &str| {
        timeline
            .iter()
            .map(|s| s[key].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(
        (sum("requests"), sum("responses"), sum("errors")),
        (40, 40, 0)
    );
    for (t, second) in timeline.iter().enumerate() {
        assert_eq!(second["t"], t as u64);
        assert_eq!(
            decoded(&second["latency_histogram"]).len(),
            second["responses"]
        );
    }
    let time = |key: &str| {
        chrono::DateTime::parse_from_rfc3339(v[key].as_str().unwrap()).expect("RFC 3339")
    };
    let window = (time("ended_at") - time("started_at")).as_seconds_f64();
    assert!(
        (window - s.duration_s).abs() < 0.001,
        "{window} vs {}",
        s.duration_s
    );
    assert!(v.get("shard").is_none() && v.get("missing_shards").is_none());
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
        r#"loadgen_protocol_info{endpoint="/",method="GET",protocol="HTTP/1.1"} 1"#,
        r#"loadgen_protocol_info{endpoint="/fail",method="GET",protocol="HTTP/1.1"} 1"#,
    ] {
        assert!(text.contains(name), "missing {name}");
    }
    assert!(!text.contains(r#"protocol="HTTP/2""#), "{text}");
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
