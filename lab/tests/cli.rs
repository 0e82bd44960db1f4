//! `obslab drill`, `faults` and `reset` against the real obslab-server (and
//! a real inbox), in-process on 127.0.0.1:0; usage errors through the binary.

use std::process::Command;

use crate::util::{TOKEN, TempDir, get, obslab, post, start_inbox, start_server};

/// `--server URL --admin-token TOKEN` plus `args`, the other pieces off.
fn with_server(url: &str, args: &[&'static str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "--server",
        url,
        "--admin-token",
        TOKEN,
        "--prometheus",
        "off",
        "--alertmanager",
        "off",
        "--inbox",
        "off",
        "--grafana",
        "off",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

async fn run(args: &[String]) -> (bool, String, Option<String>) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    obslab(&args).await
}

#[tokio::test]
async fn drill_list_shows_every_built_in_drill_without_a_server() {
    let (ok, out, err) = obslab(&["--server", "off", "drill", "list"]).await;
    assert!(ok, "{err:?}");
    for name in [
        "error-spike",
        "health-flapping",
        "latency-degradation",
        "slo-fast-burn",
        "slow-timeouts",
        "total-outage",
    ] {
        assert!(out.contains(name), "{out}");
    }
    assert!(
        out.contains("9m 0s"),
        "total-outage lasts 9 minutes:\n{out}"
    );
}

#[tokio::test]
async fn a_built_in_drill_starts_shows_its_countdowns_and_stops() {
    let server = start_server(&[]).await;
    let (ok, out, err) = run(&with_server(
        &server.url(),
        &["drill", "start", "error-spike"],
    ))
    .await;
    assert!(ok, "{err:?}");
    assert!(out.contains("started drill error-spike"), "{out}");
    assert!(out.contains("phase calm (1/3)"), "{out}");

    let (ok, out, _) = run(&with_server(
        &server.url(),
        &["drill", "status", "--answers"],
    ))
    .await;
    assert!(ok);
    assert!(out.contains("drill error-spike: phase calm"), "{out}");
    assert!(out.contains("left"), "{out}");
    assert!(out.contains("ObslabHighErrorRatio"), "{out}");
    assert!(out.contains("in bad-deploy"), "{out}");
    assert!(out.contains("due in"), "{out}");

    let (ok, out, _) = run(&with_server(&server.url(), &["drill", "stop"])).await;
    assert!(ok);
    assert!(out.contains("drill stopped"), "{out}");
    let (_, out, _) = run(&with_server(&server.url(), &["drill", "status"])).await;
    assert!(out.contains("no drill is playing"), "{out}");
}

#[tokio::test]
async fn a_drill_file_is_played_by_path() {
    let server = start_server(&[]).await;
    let dir = TempDir::new("drill");
    let path = dir.path().join("mine.yml");
    std::fs::write(
        &path,
        "name: mine\nphases:\n  - name: broken\n    duration: 1m\n    faults:\n      outage: true\n",
    )
    .unwrap();
    let path = path.to_str().unwrap().to_owned();
    let mut args = with_server(&server.url(), &["drill", "start"]);
    args.push(path);
    let (ok, out, err) = run(&args).await;
    assert!(ok, "{err:?}");
    assert!(out.contains("started drill mine"), "{out}");
    let (_, body) = get(&format!("{}/", server.url())).await;
    assert!(body.contains("outage"), "{body}");
}

#[tokio::test]
async fn wrong_token_unknown_drill_and_silent_server_are_one_line_errors() {
    let server = start_server(&[]).await;
    let (ok, _, err) = obslab(&[
        "--server",
        &server.url(),
        "--admin-token",
        "wrong",
        "drill",
        "status",
    ])
    .await;
    assert!(!ok);
    let err = err.unwrap();
    assert!(
        err.contains("refused the admin token (401)") && err.contains("OBSLAB_ADMIN_TOKEN"),
        "{err}"
    );

    let (ok, _, err) = run(&with_server(
        &server.url(),
        &["drill", "start", "no-such-drill"],
    ))
    .await;
    assert!(!ok);
    let err = err.unwrap();
    assert!(
        err.contains("unknown drill `no-such-drill`") && err.contains("error-spike"),
        "{err}"
    );

    // A port nobody listens on (bound, then released).
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (ok, _, err) = run(&with_server(&format!("http://{free}"), &["faults", "show"])).await;
    assert!(!ok);
    let err = err.unwrap();
    assert!(
        err.contains("does not answer") && err.contains(&free.to_string()),
        "{err}"
    );
    assert!(!err.contains('\n'), "one line: {err}");

    let (ok, _, err) = obslab(&["--server", &server.url(), "faults", "show"]).await;
    assert!(!ok);
    assert!(err.unwrap().contains("no admin token"));
}

#[tokio::test]
async fn faults_are_shown_set_refused_with_the_field_and_reset() {
    let server = start_server(&[]).await;
    let url = server.url();
    let (ok, out, err) = run(&with_server(&url, &["faults", "show"])).await;
    assert!(ok, "{err:?}");
    assert!(out.contains("/health") && out.contains("0.2"), "{out}");
    assert!(out.contains("outage: false"), "{out}");

    let (ok, out, err) = run(&with_server(
        &url,
        &["faults", "set", "/", "error_rate=0.5", "delay_max=50ms"],
    ))
    .await;
    assert!(ok, "{err:?}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("/ ") && l.contains("0.5") && l.contains("50ms")),
        "{out}"
    );

    let (ok, _, err) = run(&with_server(
        &url,
        &[
            "faults",
            "set",
            "weights",
            "database_error=3,timeout_error=1",
        ],
    ))
    .await;
    assert!(ok, "{err:?}");
    let (ok, out, _) = run(&with_server(&url, &["faults", "set", "outage=true"])).await;
    assert!(ok);
    assert!(out.contains("outage: true"), "{out}");

    let (ok, _, err) = run(&with_server(&url, &["faults", "set", "/", "error_rate=2"])).await;
    assert!(!ok);
    let err = err.unwrap();
    assert!(err.contains("400") && err.contains("error_rate"), "{err}");

    let (ok, out, _) = run(&with_server(&url, &["faults", "reset"])).await;
    assert!(ok);
    assert!(
        out.contains("outage: false") && out.contains("0.05"),
        "{out}"
    );
}

#[tokio::test]
async fn reset_stops_the_drill_resets_faults_and_empties_the_inbox() {
    let server = start_server(&[]).await;
    let inbox = start_inbox(&[]).await;
    post(
        &inbox.url("/webhook"),
        r#"{"version":"4","receiver":"pager","status":"firing","alerts":[]}"#,
    )
    .await;
    run(&with_server(
        &server.url(),
        &["drill", "start", "total-outage"],
    ))
    .await;
    let inbox_url = format!("http://{}", inbox.addr);
    let (ok, out, err) = obslab(&[
        "--server",
        &server.url(),
        "--admin-token",
        TOKEN,
        "--inbox",
        &inbox_url,
        "--alertmanager",
        "off",
        "reset",
    ])
    .await;
    assert!(ok, "{out} {err:?}");
    assert!(out.contains("✓ server: drill stopped"), "{out}");
    assert!(
        out.contains("✓ inbox: emptied (1 notifications removed)"),
        "{out}"
    );
    assert!(!out.contains("Alertmanager"), "off is skipped: {out}");
    let (_, status, _) = run(&with_server(&server.url(), &["drill", "status"])).await;
    assert!(status.contains("no drill is playing"), "{status}");
    assert_eq!(get(&inbox.url("/api/notifications")).await.1, "[]");

    // A piece that does not answer fails the reset, the others still run.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (ok, out, _) = obslab(&[
        "--server",
        &server.url(),
        "--admin-token",
        TOKEN,
        "--inbox",
        &inbox_url,
        "--alertmanager",
        &format!("http://{free}"),
        "reset",
    ])
    .await;
    assert!(!ok);
    assert!(
        out.contains("✓ server") && out.contains("✗ Alertmanager"),
        "{out}"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["faults", "set", "health", "error_rate=1"][..],
        &["--server", "localhost:5000", "drill", "list"][..],
        &["drill"][..],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_obslab"))
            .args(args)
            .env("OBSLAB_ADMIN_TOKEN", TOKEN)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
}
