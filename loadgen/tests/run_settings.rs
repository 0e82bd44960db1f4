//! What a run was set to: the scenario keys `protocol`, `ca_cert` and
//! `insecure` (the command line wins, a relative `ca_cert` is the
//! scenario file's neighbour), and the report's `concurrency`,
//! `connections` and `threads` in JSON, text and HTML, summed by `merge`.

use std::path::{Path, PathBuf};

use clap::Parser as _;
use obslab_loadgen::client::Protocol;
use obslab_loadgen::merge::{MergeArgs, merge};
use obslab_loadgen::{Plan, Summary, html, report};
use serde_json::Value;

#[cfg(feature = "tls")]
use crate::tls::TlsServer;
use crate::util::{app, run, text_report};

/// A fresh directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obslab-settings-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `yaml` to DIR/scenario.yaml and returns its path.
fn scenario(dir: &Path, yaml: &str) -> String {
    let file = dir.join("scenario.yaml");
    std::fs::write(&file, yaml).unwrap();
    file.display().to_string()
}

fn parse(words: &[&str]) -> Result<Plan, clap::Error> {
    Plan::try_parse_from(["obslab-loadgen"].iter().chain(words))
}

#[test]
fn scenario_files_set_the_protocol_and_the_command_line_wins() {
    let dir = scratch("protocol");
    for (value, protocol) in [
        ("http1", Protocol::Http1),
        ("http2", Protocol::Http2),
        ("auto", Protocol::Auto),
    ] {
        let file = scenario(&dir, &format!("protocol: {value}\n"));
        let plan = parse(&["--scenario", &file]).unwrap();
        assert_eq!(plan.protocol, protocol, "{value}");
    }
    let file = scenario(&dir, "protocol: http2\n");
    assert_eq!(
        parse(&["--scenario", &file, "--http1"]).unwrap().protocol,
        Protocol::Http1
    );
    let file = scenario(&dir, "protocol: http1\n");
    assert_eq!(
        parse(&["--scenario", &file, "--http2"]).unwrap().protocol,
        Protocol::Http2
    );
    // Bad values: exit 2 naming the key.
    for (yaml, key) in [
        ("protocol: h3\n", "protocol"),
        ("protocol: 2\n", "protocol"),
        ("insecure: maybe\n", "insecure"),
        ("ca_cert: missing.pem\n", "ca_cert"),
        ("ca_cert: [scenario.yaml]\n", "ca_cert"),
    ] {
        let file = scenario(&dir, yaml);
        let err = parse(&["--scenario", &file]).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{yaml:?}");
        let message = err.to_string();
        assert!(message.contains(key), "{yaml:?}: {message}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `ca_cert` relative to the scenario's directory (not the current one)
/// trusts the target's certificate; `insecure: true` checks none; a
/// `--ca-cert` on the command line replaces the file's.
#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_files_set_the_tls_options() {
    let server = TlsServer::start("settings-scenario").await;
    let dir = scratch("tls");
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    std::fs::copy(server.cert(), dir.join("certs/target.pem")).unwrap();
    let base = format!(
        "target: {}\nmix: [{{ path: / }}]\nrequests: 6\n",
        server.url
    );
    let file = scenario(&dir, &format!("{base}ca_cert: certs/target.pem\n"));
    let plan = parse(&["--scenario", &file]).unwrap();
    assert_eq!(plan.trust.ca_certs.len(), 1);
    assert_eq!(plan.trust.ca_certs[0].path, dir.join("certs/target.pem"));
    assert!(!plan.trust.insecure);
    let s = obslab_loadgen::run(plan, std::future::pending())
        .await
        .expect("trusted by the scenario's ca_cert");
    assert_eq!(s.responses, 6);

    // Another certificate on the command line replaces the file's.
    let other = TlsServer::start("settings-other").await;
    let plan = parse(&["--scenario", &file, "--ca-cert", &other.cert()]).unwrap();
    assert_eq!(plan.trust.ca_certs.len(), 1);
    assert!(
        obslab_loadgen::run(plan, std::future::pending())
            .await
            .is_err()
    );

    let file = scenario(&dir, &format!("{base}insecure: true\n"));
    let plan = parse(&["--scenario", &file]).unwrap();
    assert!(plan.trust.insecure);
    let s = obslab_loadgen::run(plan, std::future::pending())
        .await
        .unwrap();
    assert_eq!(s.responses, 6);
    // A flag cannot say "no", so --insecure only turns it on.
    let file = scenario(&dir, &format!("{base}insecure: false\n"));
    assert!(
        parse(&["--scenario", &file, "--insecure"])
            .unwrap()
            .trust
            .insecure
    );
    assert!(!parse(&["--scenario", &file]).unwrap().trust.insecure);
    assert_eq!(server.answered(), 12);
    std::fs::remove_dir_all(dir).unwrap();
}

fn settings(s: &Summary) -> [Value; 3] {
    let v = serde_json::to_value(s).unwrap();
    ["concurrency", "connections", "threads"].map(|k| v[k].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_says_how_wide_the_run_was() {
    let (target, _) = app().await;
    let common = ["--target", &target, "--mix", "GET /=1", "--requests", "12"];
    // Open model: the in-flight cap, the connections (at most the cap).
    let open = [
        "--rate",
        "500",
        "--max-in-flight",
        "50",
        "--connections",
        "7",
        "--threads",
        "2",
    ];
    let s = run(&[&common[..], &open].concat()).await;
    assert_eq!(settings(&s), [50, 7, 2].map(Value::from));
    let text = text_report(&s);
    assert!(
        text.contains("settings      concurrency 50 (--max-in-flight), connections 7, threads 2"),
        "{text}"
    );
    let mut page = Vec::new();
    html::render(&s, &mut page).unwrap();
    let page = String::from_utf8(page).unwrap();
    for row in [
        "<th class=\"l\">concurrency (in-flight cap)</th><td class=\"l\">50</td>",
        "<th class=\"l\">connections (at most)</th><td class=\"l\">7</td>",
        "<th class=\"l\">threads</th><td class=\"l\">2</td>",
    ] {
        assert!(page.contains(row), "no {row}");
    }

    // Closed model over HTTP/1.1: one connection per worker.
    let s = run(&[&common[..], &["--concurrency", "3", "--threads", "2"]].concat()).await;
    assert_eq!(settings(&s), [3, 3, 2].map(Value::from));
    assert!(text_report(&s).contains("settings      concurrency 3, connections 3, threads 2"));
}

/// Shards 0/2 and 1/2 of `--concurrency 5` run 3 and 2 workers; their
/// merge says 5, as one process would, and a report without the fields
/// (an older one) makes them null.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_sums_the_settings_of_its_reports() {
    let (target, _) = app().await;
    let dir = scratch("merge");
    let mut files = Vec::new();
    for (i, workers) in [(0, 3), (1, 2)] {
        let shard = format!("{i}/2");
        let s = run(&[
            "--target",
            &target,
            "--mix",
            "GET /=1",
            "--seed",
            "3",
            "--concurrency",
            "5",
            "--threads",
            "1",
            "--requests",
            "10",
            "--shard",
            &shard,
        ])
        .await;
        assert_eq!(settings(&s), [workers, workers, 1].map(Value::from));
        let file = dir.join(format!("shard-{i}.json"));
        let mut json = Vec::new();
        report::json(&s, &mut json).unwrap();
        std::fs::write(&file, json).unwrap();
        files.push(file.display().to_string());
    }
    let merged = |files: &[String]| {
        let args = MergeArgs::try_parse_from(
            ["merge"]
                .iter()
                .copied()
                .chain(files.iter().map(String::as_str)),
        )
        .unwrap();
        merge(&args).expect("the reports merge")
    };
    let m = merged(&files);
    assert_eq!(settings(&m), [5, 5, 2].map(Value::from));
    assert!(text_report(&m).contains("settings      concurrency 5, connections 5, threads 2"));

    let mut old: Value = serde_json::from_slice(&std::fs::read(&files[1]).unwrap()).unwrap();
    for key in ["concurrency", "connections", "threads"] {
        old.as_object_mut().unwrap().remove(key);
    }
    let old_file = dir.join("old.json");
    std::fs::write(&old_file, old.to_string()).unwrap();
    let m = merged(&[files[0].clone(), old_file.display().to_string()]);
    assert_eq!(settings(&m), [Value::Null, Value::Null, Value::Null]);
    assert!(!text_report(&m).contains("settings      "));
    std::fs::remove_dir_all(dir).unwrap();
}
