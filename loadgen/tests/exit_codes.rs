//! The real binary: exit codes for CI and the JSON document on stdout.

use std::process::{Command, Output};

use crate::util::{app, dead_target, loadgen_command, output};

/// Runs the binary with `words` (progress off) on a blocking thread.
async fn loadgen(words: &[&str]) -> Output {
    output(loadgen_command(&[&["--progress", "off"], words].concat())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_decide_between_0_and_1() {
    let (target, _) = app().await;
    let base = [
        "--target",
        &target,
        "--mix",
        "GET /=1,GET /fail=1",
        "--rate",
        "500",
        "--requests",
        "20",
    ];
    let ok = loadgen(&[&base[..], &["--threshold", "p95<10s"]].concat()).await;
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let failed = loadgen(
        &[
            &base[..],
            &["--threshold", "p95<10s", "--threshold", "error_rate<1%"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stdout).contains("FAILED error_rate<1%"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_setup_errors_exit_2_with_a_message() {
    let cases: [(&[&str], &str); 4] = [
        (&["--mix", "GET /=0"], "--mix"),
        (&["--mix", "GET /=-3"], "--mix"),
        (&["--target", "not a url"], "--target"),
        (&["--metrics-listen", "256.0.0.1:1"], "--metrics-listen"),
    ];
    for (words, needle) in cases {
        let out = loadgen(words).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{words:?}: {stderr}");
        assert!(stderr.contains(needle), "{words:?}: {stderr}");
    }
    let (target, _reserved) = dead_target();
    let words = [
        "--target",
        &target,
        "--wait-for-target",
        "300ms",
        "--requests",
        "1",
    ];
    let out = loadgen(&words).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not answer within 300ms"));

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = loadgen(&[
        "--target",
        &target,
        "--metrics-listen",
        &addr,
        "--requests",
        "1",
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--metrics-listen"));
}

/// CA certificates are read for an `https://` target only: with none on
/// the machine (`SSL_CERT_FILE` pointing at an empty file), a plain-HTTP run
/// still works and an HTTPS run stops at once with exit 2, naming why.
#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_needed_for_https_targets_only() {
    let (target, _seen) = app().await;
    let no_certs = |words: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_obslab-loadgen"));
        cmd.args(["--progress", "off", "--mix", "GET /=1", "--requests", "3"])
            .args(words)
            .env("SSL_CERT_FILE", "/dev/null")
            .env_remove("SSL_CERT_DIR")
            .env("RUST_LOG", "warn");
        tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
    };
    let out = no_certs(&["--target", &target]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let https = target.replace("http://", "https://");
    let out = no_certs(&["--target", &https]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CA certificates"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_goes_alone_to_stdout_and_the_summary_to_stderr() {
    let (target, _) = app().await;
    let out = loadgen(&[
        "--target",
        &target,
        "--mix",
        "GET /=1",
        "--rate",
        "500",
        "--requests",
        "10",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["responses"], 10);
    assert!(String::from_utf8_lossy(&out.stderr).contains("latency (ms)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_run_and_still_prints_the_report() {
    use std::process::Stdio;

    let (target, seen) = app().await;
    let child = Command::new(env!("CARGO_BIN_EXE_obslab-loadgen"))
        .args([
            "--progress",
            "off",
            "--target",
            &target,
            "--mix",
            "GET /=1",
            "--rate",
            "200",
        ])
        .args(["--output", "json"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // Signal once the target has seen 10 requests: the run is under way.
    seen.hits_reach(10).await;
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(kill.expect("kill runs").success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert!(doc["requests"].as_u64().unwrap() >= 10);
    assert_eq!(doc["requests"], doc["responses"]);
}

/// `LOADGEN_HTTP2` and `LOADGEN_HTTP1` are the flags' twins: one picks the
/// protocol, both together are a usage error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_flags_have_environment_twins() {
    let (target, _seen) = app().await;
    let with_env = |vars: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_obslab-loadgen"));
        cmd.args(["--progress", "off", "--output", "json", "--target", &target])
            .args(["--mix", "GET /=1", "--requests", "5"])
            .envs(vars.iter().copied())
            .env("RUST_LOG", "warn");
        tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
    };
    let out = with_env(&[("LOADGEN_HTTP2", "true")]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["protocol"], "HTTP/2", "{report}");

    let both = [("LOADGEN_HTTP2", "true"), ("LOADGEN_HTTP1", "true")];
    let out = with_env(&both).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--http1") && stderr.contains("--http2"),
        "{stderr}"
    );

    // As the docs write them: `=1` turns a twin on, `=0` leaves it off (and
    // an off twin does not conflict with the other one).
    for (vars, protocol) in [
        (&[("LOADGEN_HTTP2", "1")][..], "HTTP/2"),
        (&[("LOADGEN_HTTP2", "yes")], "HTTP/2"),
        (
            &[("LOADGEN_HTTP1", "1"), ("LOADGEN_HTTP2", "0")],
            "HTTP/1.1",
        ),
        (&[("LOADGEN_HTTP2", "no")], "HTTP/1.1"),
    ] {
        let out = with_env(vars).await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{vars:?}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["protocol"], protocol, "{vars:?}: {report}");
    }
    let both = [("LOADGEN_HTTP2", "1"), ("LOADGEN_HTTP1", "1")];
    let out = with_env(&both).await.unwrap();
    assert_eq!(out.status.code(), Some(2));

    // A word that is not a boolean is a usage error naming the flag, not
    // a silent `true`.
    let out = with_env(&[("LOADGEN_HTTP2", "ture")]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'ture' for '--http2'") && stderr.contains("1, true, yes or on"),
        "{stderr}"
    );
}
