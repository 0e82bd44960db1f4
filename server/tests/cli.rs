//! The binary's command line: usage errors exit 2 naming the option, --help
//! documents defaults and environment twins, the healthcheck exits 0/1.

use std::process::{Command, Output};

use crate::util::{TestServer, start_binary};

fn server(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_obslab-server"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn assert_usage_error(out: &Output, names: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for name in names {
        assert!(stderr.contains(name), "`{name}` not named in: {stderr}");
    }
}

#[test]
fn invalid_options_exit_2_naming_the_option() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--home-error-rate", "1.5"], &["--home-error-rate", "1.5"]),
        (&["--health-error-rate=-0.1"], &["--health-error-rate"]),
        (
            &["--slow-timeout-rate", "lots"],
            &["--slow-timeout-rate", "lots"],
        ),
        (
            &["--slow-min", "2s", "--slow-max", "1s"],
            &["--slow-min", "--slow-max"],
        ),
        (&["--slow-timeout", "abc"], &["--slow-timeout", "abc"]),
        (&["--shutdown-grace", "5"], &["--shutdown-grace"]),
        (
            &["--error-weights", "bogus=1"],
            &["--error-weights", "bogus"],
        ),
        (&["--metrics-namespace", "9lives"], &["--metrics-namespace"]),
        (&["--listen", "nowhere"], &["--listen"]),
        (&["--log-format", "xml"], &["--log-format"]),
        (
            &["--scenario", "/nonexistent/drill.yml"],
            &["--scenario", "/nonexistent/drill.yml"],
        ),
        (&["--scenario-speed", "0"], &["--scenario-speed"]),
        (&["--admin-token", "short"], &["--admin-token"]),
    ];
    for (args, names) in cases {
        assert_usage_error(&server(args, &[]), names);
    }
}

#[test]
fn a_scenario_with_an_invalid_fault_names_phase_and_field() {
    let dir = std::env::temp_dir().join(format!("obslab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yml");
    let text = "name: bad\nphases:\n  - name: p\n    duration: 1m\n    faults: { routes: { /health: { error_rate: 3 } } }\n";
    std::fs::write(&file, text).unwrap();
    let out = server(&["--scenario", file.to_str().unwrap()], &[]);
    assert_usage_error(
        &out,
        &["--scenario", "phases[0].faults.routes./health.error_rate"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn environment_twins_are_validated_like_flags() {
    let out = server(&[], &[("OBSLAB_SLOW_MAX", "soon")]);
    assert_usage_error(&out, &["--slow-max", "soon"]);
    let out = server(&[], &[("OBSLAB_SLOW_MIN", "2s"), ("OBSLAB_SLOW_MAX", "1s")]);
    assert_usage_error(&out, &["--slow-min"]);
}

#[test]
fn help_documents_defaults_and_environment_twins() {
    let out = server(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "--listen",
        "OBSLAB_LISTEN",
        "0.0.0.0:5000",
        "--slow-max",
        "OBSLAB_SLOW_MAX",
        "1500ms",
        "--metrics-namespace",
        "flask",
        "--shutdown-grace",
        "--shutdown-delay",
        "OBSLAB_SHUTDOWN_DELAY",
        "--header-read-timeout",
        "OBSLAB_HEADER_READ_TIMEOUT",
        "--idle-timeout",
        "OBSLAB_IDLE_TIMEOUT",
        "--max-connections",
        "OBSLAB_MAX_CONNECTIONS",
        "16384",
        "healthcheck",
    ] {
        assert!(
            help.contains(expected),
            "`{expected}` missing from --help:\n{help}"
        );
    }
}

#[test]
fn a_busy_port_is_a_clear_runtime_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = server(&["--listen", &addr], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}

#[tokio::test]
async fn healthcheck_exits_0_when_live_and_1_when_not() {
    let server_under_test = TestServer::start(&[]).await;
    let addr = server_under_test.addr.to_string();
    let live =
        tokio::task::spawn_blocking(move || server(&["healthcheck", "--listen", &addr], &[]));
    assert_eq!(live.await.unwrap().status.code(), Some(0));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = server(&["healthcheck", "--listen", &closed.to_string()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"));
}

/// Starts the binary with `env`, waits for its ready line, stops it with
/// SIGTERM and checks it exits 0; the log lines up to the ready one.
fn assert_starts(env: &[(&str, &str)]) -> Vec<String> {
    let mut started = start_binary(&[], env);
    assert!(
        started.listen.is_some(),
        "{env:?}: the server did not start: {:?}",
        started.child.wait()
    );
    started.sigterm();
    assert_eq!(started.child.wait().unwrap().code(), Some(0), "{env:?}");
    started.logs
}

#[test]
fn the_published_example_token_is_warned_about_at_start() {
    let warned = |logs: &[String]| {
        logs.iter()
            .any(|l| l.contains("\"WARN\"") && l.contains("example token"))
    };
    let logs = assert_starts(&[("OBSLAB_ADMIN_TOKEN", "obslab-admin-token-change-me")]);
    assert!(warned(&logs), "{logs:#?}");
    let logs = assert_starts(&[("OBSLAB_ADMIN_TOKEN", "a-secret-of-our-own-0123")]);
    assert!(!warned(&logs), "{logs:#?}");
}

#[test]
fn boolean_twins_accept_the_usual_spellings() {
    for value in ["1", "true", "yes", "on", "0", "false"] {
        assert_starts(&[("OBSLAB_ACCESS_LOG", value)]);
    }
}

#[test]
fn empty_scenario_variables_mean_unset() {
    // A blank `OBSLAB_SCENARIO=` line in compose's .env must not stop the server.
    assert_starts(&[("OBSLAB_SCENARIO", ""), ("OBSLAB_SCENARIO_SPEED", "")]);
}
