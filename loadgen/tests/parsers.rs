//! Parsers: good input gives the expected value, bad input a clear error
//! that names the option (and clap's exit status 2).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use obslab_loadgen::mix::{DEFAULT_MIX, MixError, parse_mix};
use obslab_loadgen::schedule::{Stage, parse_stages};
use obslab_loadgen::summary::{Errors, Latency, ModelKind, Summary};
use obslab_loadgen::threshold::{ThresholdError, parse_threshold};
use obslab_loadgen::{Model, Plan, scenario};
use rand::SeedableRng as _;
use rand::rngs::SmallRng;

#[test]
fn mix_parses_methods_paths_weights_and_queries() {
    let mix = parse_mix("GET /=60, post /login=5,GET /error?type=database_error=3").unwrap();
    let got: Vec<_> = mix
        .entries()
        .iter()
        .map(|e| (e.method.as_str(), e.path.as_str(), e.weight))
        .collect();
    assert_eq!(
        got,
        [
            ("GET", "/", 60),
            ("POST", "/login", 5),
            ("GET", "/error?type=database_error", 3)
        ]
    );
}

#[test]
fn mix_rejects_bad_entries_with_a_reason() {
    let cases = [
        ("", MixError::Empty),                               // nothing at all
        (" , ", MixError::Empty),                            // only separators
        ("GET /", MixError::Syntax("GET /".into())),         // no weight
        ("/=5", MixError::Syntax("/=5".into())),             // no method
        ("GET / x=5", MixError::Syntax("GET / x=5".into())), // space in the path
        ("GET /=0", MixError::Weight("GET /=0".into())),     // zero weight
        ("GET /=-1", MixError::Weight("GET /=-1".into())),   // negative weight
        ("GET /=1.5", MixError::Weight("GET /=1.5".into())), // fractional weight
        ("GET health=5", MixError::Path("health".into())),   // relative path
        ("G@T /=5", MixError::Method("G@T".into())),         // not a method token
    ];
    for (spec, want) in cases {
        assert_eq!(parse_mix(spec).unwrap_err(), want, "mix {spec:?}");
    }
}

#[test]
fn default_mix_exercises_every_obslab_server_route() {
    let mix = parse_mix(DEFAULT_MIX).unwrap();
    let paths: BTreeSet<_> = mix.entries().iter().map(|e| e.path.as_str()).collect();
    let routes = BTreeSet::from([
        "/", "/health", "/stats", "/metrics", "/error", "/slow", "/livez", "/readyz",
    ]);
    assert_eq!(paths, routes);
}

#[test]
fn mix_picks_follow_the_weights() {
    let mix = parse_mix("GET /a=90,GET /b=10").unwrap();
    let mut rng = SmallRng::seed_from_u64(1);
    let b = (0..10_000).filter(|_| mix.pick(&mut rng) == 1).count();
    assert!(
        (800..1200).contains(&b),
        "weight 10 of 100 drawn {b} times in 10,000"
    );
}

#[test]
fn stages_parse_and_reject() {
    let stages = parse_stages("30s:10, 2m:100,30s:0").unwrap();
    let secs = |s: u64| Duration::from_secs(s);
    assert_eq!(
        stages,
        [
            Stage {
                duration: secs(30),
                target: 10.0
            },
            Stage {
                duration: secs(120),
                target: 100.0
            },
            Stage {
                duration: secs(30),
                target: 0.0
            }
        ]
    );
    for bad in ["", "30s", "0s:10", "30s:-1", "x:10", "30s:ten"] {
        assert!(
            parse_stages(bad).is_err(),
            "stages {bad:?} should be refused"
        );
    }
}

fn summary(p95: f64, statuses: &[(&str, u64)], errors: u64) -> Summary {
    let status_codes: BTreeMap<String, u64> =
        statuses.iter().map(|(c, n)| (c.to_string(), *n)).collect();
    let responses = status_codes.values().sum();
    Summary {
        target: "http://x".into(),
        model: ModelKind::Open,
        seed: 0,
        duration_s: 10.0,
        requests: responses + errors,
        responses,
        dropped: 2,
        errors: Errors {
            timeout: errors,
            connect: 0,
            other: 0,
        },
        achieved_rps: 99.5,
        target_rps: 100.0,
        latency_ms: Latency {
            p95,
            ..Latency::default()
        },
        status_codes,
        endpoints: Vec::new(),
        protocol: None,
        thresholds: Vec::new(),
        schedule_lag_ms: None,
        warnings: Vec::new(),
        started_at: "2025-06-01T10:00:00Z".into(),
        ended_at: "2025-06-01T10:00:10Z".into(),
        latency_histogram: String::new(),
        schedule_lag_histogram: None,
        timeline: Vec::new(),
        shard: None,
        merged_reports: None,
        missing_shards: None,
        settings: Default::default(),
    }
}

#[test]
fn thresholds_parse_and_judge_the_summary() {
    // 90 OK, 5 × 500 and 5 timeouts: error rate 10 %.
    let s = summary(480.0, &[("200", 90), ("500", 5)], 5);
    let cases = [
        ("p95<500ms", true, 480.0),
        ("p95 < 0.4s", false, 480.0),
        ("p95<=480", true, 480.0), // bare numbers are milliseconds
        ("p99<1s", true, 0.0),
        ("error_rate<5%", false, 10.0),
        ("error_rate <= 10 %", true, 10.0),
        ("achieved_rps>=95", true, 99.5),
        ("dropped<1", false, 2.0),
    ];
    for (expr, ok, value) in cases {
        let result = parse_threshold(expr).unwrap().evaluate(&s);
        assert_eq!((result.ok, result.value), (ok, value), "threshold {expr:?}");
        assert_eq!(result.expr, expr.trim());
    }
}

#[test]
fn thresholds_reject_bad_expressions() {
    assert!(matches!(
        parse_threshold("p95"),
        Err(ThresholdError::Syntax(_))
    ));
    assert!(matches!(
        parse_threshold("p95<"),
        Err(ThresholdError::Syntax(_))
    ));
    assert!(matches!(
        parse_threshold("<5"),
        Err(ThresholdError::Syntax(_))
    ));
    assert!(matches!(
        parse_threshold("p42<1s"),
        Err(ThresholdError::Metric(_))
    ));
    assert!(matches!(
        parse_threshold("p95<fast"),
        Err(ThresholdError::Value { .. })
    ));
    // A bare 5 would be ambiguous (5 % or 0.05?): the % is required.
    assert!(matches!(
        parse_threshold("error_rate<5"),
        Err(ThresholdError::Value { .. })
    ));
}

#[test]
fn bad_options_exit_2_naming_the_option() {
    let cases = [
        (&["--target", "localhost:5000"][..], "--target"),
        (&["--target", "ftp://x"], "--target"),
        (&["--mix", "GET /=0"], "--mix"),
        (&["--mix", ""], "--mix"),
        (&["--rate", "0"], "--rate"),
        (&["--stages", "10s"], "--stages"),
        (&["--threshold", "p95<soon"], "--threshold"),
        (&["--header", "no colon"], "--header"),
        (&["--duration", "0s"], "--duration"),
        (&["--concurrency", "0"], "--concurrency"),
        (&["--concurrency", "4", "--rate", "10"], "--concurrency"),
        (&["--http1", "--http2"], "--http"),
        (&["--connections", "0"], "--connections"),
        (&["--scenario", "/nonexistent.yaml"], "--scenario"),
        (&["--shard", "3/3"], "--shard"),
        (&["--shard", "0/0"], "--shard"),
        (&["--shard", "1"], "--shard"),
        (&["--start-at", "in a minute"], "--start-at"),
    ];
    for (words, option) in cases {
        // Through `resolve`: --http1 with --http2 is refused there (a twin
        // set to 0 must not conflict, which clap's `conflicts_with` would).
        let err = Plan::try_parse_from(["obslab-loadgen"].iter().chain(words)).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{words:?}");
        assert!(err.to_string().contains(option), "{words:?}: {err}");
    }
}

/// Closed-model workers share `--connections` only over HTTP/2; over
/// HTTP/1.1 each has its own, so asking for fewer is a usage error.
#[test]
fn closed_model_connections_need_http2() {
    for words in [
        &["--concurrency", "4", "--connections", "2"][..],
        &[
            "--concurrency",
            "4",
            "--connections",
            "2",
            "--http1",
            "--target",
            "https://x",
        ],
    ] {
        let err = Plan::try_parse_from(["obslab-loadgen"].iter().chain(words)).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{words:?}");
        let message = err.to_string();
        assert!(
            message.contains("--connections 2") && message.contains("HTTP/2"),
            "{message}"
        );
    }
    for words in [
        &["--concurrency", "4", "--connections", "2", "--http2"][..],
        &[
            "--concurrency",
            "4",
            "--connections",
            "2",
            "--target",
            "https://x",
        ],
    ] {
        let plan = Plan::try_parse_from(["obslab-loadgen"].iter().chain(words)).unwrap();
        assert!(
            matches!(
                plan.model,
                Model::Closed {
                    concurrency: 4,
                    connections: Some(2)
                }
            ),
            "{words:?}"
        );
    }
    let plan = Plan::try_parse_from(["obslab-loadgen", "--http2"]).unwrap();
    assert_eq!(plan.protocol, obslab_loadgen::client::Protocol::Http2);
}

#[test]
fn shards_need_a_worker_each_in_the_closed_model() {
    let words = ["obslab-loadgen", "--concurrency", "2", "--shard", "0/3"];
    let err = Plan::try_parse_from(words).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let message = err.to_string();
    assert!(
        message.contains("--concurrency 2") && message.contains("--shard 0/3"),
        "{message}"
    );
    // Three workers for three shards: one each; the default is the whole run.
    let plan = Plan::try_parse_from(["obslab-loadgen", "--concurrency", "3", "--shard", "2/3"]);
    assert_eq!(plan.unwrap().worker_threads(), 1);
    let whole = Plan::try_parse_from(["obslab-loadgen"]).unwrap();
    assert_eq!((whole.shard.index, whole.shard.count), (0, 1));
}

#[test]
fn threshold_env_twin_is_comma_separated() {
    // Parsed through clap's env support without touching the process
    // environment: the same delimiter applies to the flag's values.
    let plan =
        Plan::try_parse_from(["obslab-loadgen", "--threshold", "p95<1s,error_rate<5%"]).unwrap();
    assert_eq!(plan.thresholds.len(), 2);
}

const SCENARIO: &str = r#"
target: http://127.0.0.1:9999/api
stages:
  - { duration: 10s, target: 20 }
  - { duration: 5s, target: 20 }
duration: 1m
headers: { X-Lab: "1" }
mix:
  - { path: /, weight: 3 }
  - method: post
    path: /login
    headers: { Content-Type: application/json }
    body: '{"user": "demo"}'
thresholds: ["p95<500ms", "error_rate<5%"]
"#;

#[test]
fn scenario_file_gives_the_same_plan_as_flags() {
    let scn = scenario::parse(SCENARIO).unwrap();
    let mix = scn.mix.as_ref().unwrap();
    assert_eq!(mix.entries()[0].method, "GET"); // method defaults to GET
    assert_eq!(mix.entries()[1].weight, 1); // weight defaults to 1
    assert_eq!(
        mix.entries()[1].body.as_deref(),
        Some(r#"{"user": "demo"}"#)
    );
    assert_eq!(mix.entries()[1].headers["content-type"], "application/json");

    let dir = std::env::temp_dir().join(format!("loadgen-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scenario.yaml");
    std::fs::write(&file, SCENARIO).unwrap();
    let path = file.to_str().unwrap();
    let from_file = Plan::try_parse_from(["obslab-loadgen", "--scenario", path]).unwrap();
    let from_flags = Plan::try_parse_from([
        "obslab-loadgen",
        "--target",
        "http://127.0.0.1:9999/api",
        "--stages",
        "10s:20,5s:20",
        "--duration",
        "1m",
        "--threshold",
        "p95<500ms,error_rate<5%",
    ])
    .unwrap();
    let schedule = |p: &Plan| match &p.model {
        Model::Open { schedule, .. } => schedule.clone(),
        Model::Closed { .. } => panic!("open model expected"),
    };
    assert_eq!(from_file.target, from_flags.target);
    assert_eq!(schedule(&from_file), schedule(&from_flags));
    assert_eq!(from_file.duration, from_flags.duration);
    assert_eq!(from_file.thresholds.len(), from_flags.thresholds.len());
    assert_eq!(from_file.headers["x-lab"], "1");

    // Flags override the file; pacing flags replace the file's pacing.
    let overridden =
        Plan::try_parse_from(["obslab-loadgen", "--scenario", path, "--concurrency", "3"]).unwrap();
    assert!(matches!(
        overridden.model,
        Model::Closed {
            concurrency: 3,
            connections: None
        }
    ));
    // A header flag replaces the file's header of the same name.
    let header =
        Plan::try_parse_from(["obslab-loadgen", "--scenario", path, "--header", "X-Lab: 2"])
            .unwrap();
    let values: Vec<_> = header.headers.get_all("x-lab").iter().collect();
    assert_eq!(values, ["2"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn scenario_rejects_unknown_fields_and_bad_values() {
    let cases = [
        ("mix:\n  - { path: /, wieght: 3 }\n", "wieght"),
        ("tagret: http://x\n", "tagret"),
        ("mix:\n  - { path: /, weight: 0 }\n", "mix[0]"),
        ("mix:\n  - { path: /, weight: -2 }\n", "weight"),
        ("mix: []\n", "empty"),
        ("rate: 5\nconcurrency: 2\n", "concurrency"),
        ("stages:\n  - { duration: soon, target: 5 }\n", "stages[0]"),
        ("target: localhost\n", "target"),
        ("thresholds: [p95]\n", "thresholds"),
    ];
    for (yaml, needle) in cases {
        let err = scenario::parse(yaml).unwrap_err();
        assert!(err.contains(needle), "{yaml:?}: {err}");
    }
}
