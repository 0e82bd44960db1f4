//! `obslab-loadgen merge`, the real binary on real reports: shards of one
//! run against obslab-server add up to what the server counted; one report
//! merges into itself; inputs that do not belong together exit 2 naming
//! the file; a missing shard is a warning.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use obslab_loadgen::time::rfc3339;
use serde_json::Value;

use crate::servers::short_slow_server;
use crate::util::{get_text, loadgen_command, output, scratch, sum_samples};

/// Runs the binary with `words` on a blocking thread.
async fn loadgen(words: Vec<String>) -> Output {
    output(loadgen_command(&words)).await
}

/// `merge` with `words`; the exit code, stdout and stderr.
async fn merge(words: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["merge".to_owned()];
    all.extend(words.iter().map(|w| w.to_string()));
    let out = loadgen(all).await;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Runs shards `shards` of `of` of one run at `target` concurrently, from
/// one --start-at instant, each writing its JSON report to DIR/shard-I.json.
async fn run_shards(target: &str, dir: &Path, shards: &[u64], of: u64) -> Vec<PathBuf> {
    let at = rfc3339(SystemTime::now() + Duration::from_millis(1500));
    let mut runs = Vec::new();
    for i in shards {
        let words = [
            "--progress",
            "off",
            "--target",
            target,
            "--seed",
            "5",
            "--threads",
            "1",
            "--rate",
            "300",
            "--requests",
            "240",
            "--output",
            "json",
            "--start-at",
            &at,
            "--shard",
            &format!("{i}/{of}"),
        ];
        let words = words.iter().map(|w| w.to_string()).collect();
        runs.push(tokio::spawn(loadgen(words)));
    }
    let mut files = Vec::new();
    for (i, run) in shards.iter().zip(runs) {
        let out = run.await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "shard {i}: {stderr}");
        let file = dir.join(format!("shard-{i}.json"));
        std::fs::write(&file, &out.stdout).unwrap();
        files.push(file);
    }
    files
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not one JSON document ({e}): {text}"))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_shards_add_up_to_what_the_server_counted() {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let dir = scratch("merge-server");
    let before = get_text(&format!("{base}/metrics")).await;
    let files = run_shards(&base, &dir, &[0, 1, 2], 3).await;
    let after = get_text(&format!("{base}/metrics")).await;
    let files: Vec<&str> = files.iter().map(|f| path(f)).collect();

    let (code, stdout, stderr) = merge(&[&["--output", "json"], &files[..]].concat()).await;
    assert_eq!(code, Some(0), "{stderr}");
    let merged = json(&stdout);
    // The server counted every answered request once, plus our own scrape
    // of /metrics before the run.
    let counted = sum_samples(&after, "flask_requests_total", &[])
        - sum_samples(&before, "flask_requests_total", &[])
        - 1.0;
    assert_eq!(merged["requests"], 240);
    assert_eq!(merged["responses"].as_f64(), Some(counted));
    assert_eq!(merged["merged_reports"], 3);
    assert_eq!(merged["missing_shards"], serde_json::json!([]));
    assert!(merged.get("shard").is_none());
    // 3 shards at 100 req/s each from one instant: 300 req/s together.
    let target_rps = merged["target_rps"].as_f64().unwrap();
    assert!((target_rps - 300.0).abs() < 3.0, "{target_rps}");
    // The merged timeline adds up to the totals.
    let timeline = merged["timeline"].as_array().unwrap();
    let sum = |key: &str| {
        timeline
            .iter()
            .map(|t| t[key].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("requests"), 240);
    assert_eq!(sum("responses") + sum("errors"), 240);
    // The merged p99 is the p99 of the shards' histograms added up.
    let mut added = obslab_loadgen::hdr::histogram_us();
    for file in &files {
        let shard = json(&std::fs::read_to_string(file).unwrap());
        let h = obslab_loadgen::hdr::decode(shard["latency_histogram"].as_str().unwrap());
        added.add(h.unwrap()).unwrap();
    }
    let p99 = added.value_at_quantile(0.99) as f64 / 1000.0;
    assert_eq!(merged["latency_ms"]["p99"].as_f64(), Some(p99));

    // Thresholds are judged on the merge: 0, or 1 when one fails.
    let (code, stdout, _) =
        merge(&[&["--threshold", "error_rate<100%"], &files[..]].concat()).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("merged        3 report(s) (every shard)"),
        "{stdout}"
    );
    let (code, stdout, _) = merge(&[&["--threshold", "p99<1us"], &files[..]].concat()).await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("FAILED p99<1us"), "{stdout}");

    // The same reports, concatenated among log lines on standard input.
    let mut logs = String::new();
    for file in &files {
        logs.push_str("2025-06-01T10:00:00Z INFO starting open model, shard x/3\n");
        logs.push_str(&std::fs::read_to_string(file).unwrap());
        logs.push_str("  latency (ms)  min 1.00  mean 2.00\n");
    }
    let stdin = dir.join("logs.txt");
    std::fs::write(&stdin, logs).unwrap();
    let piped = Command::new(env!("CARGO_BIN_EXE_obslab-loadgen"))
        .args(["merge", "-", "--output", "json"])
        .stdin(std::fs::File::open(&stdin).unwrap())
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(0));
    let mut from_stdin = json(&String::from_utf8_lossy(&piped.stdout));
    // The shards' own warnings (a busy machine) name their file and line.
    let mut merged = merged;
    for doc in [&mut from_stdin, &mut merged] {
        doc.as_object_mut().unwrap().remove("warnings");
    }
    assert_eq!(
        from_stdin, merged,
        "merge - of the logs vs merge of the files"
    );

    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_shard_is_merged_with_a_warning_and_listed() {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let dir = scratch("merge-missing");
    let files = run_shards(&base, &dir, &[0, 2], 3).await;
    let (code, stdout, stderr) =
        merge(&["--output", "json", path(&files[0]), path(&files[1])]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("warning: missing shards 1/3"), "{stderr}");
    let merged = json(&stdout);
    assert_eq!(merged["missing_shards"], serde_json::json!([1]));
    assert_eq!(merged["requests"], 160);
    assert!(
        merged["warnings"][0]
            .as_str()
            .unwrap()
            .contains("missing shards 1/3")
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Every figure of one report comes back from its merge: counts,
/// percentiles, rates, window, histograms and timeline; its protocol too,
/// and merged with a report in another protocol, `mixed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_one_report_reproduces_it() {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let dir = scratch("merge-one");
    let out = loadgen(
        [
            "--progress",
            "off",
            "--target",
            &base,
            "--seed",
            "3",
            "--rate",
            "200",
            "--duration",
            "1500ms",
            "--output",
            "json",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let file = dir.join("run.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let original = json(&String::from_utf8_lossy(&out.stdout));
    let (code, stdout, stderr) = merge(&["--output", "json", path(&file)]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let mut merged = json(&stdout);
    assert_eq!(merged["merged_reports"], 1);
    // What a merge adds; the rest must be the report as it was.
    merged.as_object_mut().unwrap().remove("merged_reports");
    assert_eq!(merged, original);

    // Two reports (say, two replicas of compose) in one protocol keep it;
    // in two protocols the merge says `mixed`, endpoint by endpoint.
    assert_eq!(original["protocol"], "HTTP/1.1");
    let mut other = original.clone();
    other["protocol"] = "HTTP/2".into();
    for endpoint in other["endpoints"].as_array_mut().unwrap() {
        endpoint["protocol"] = "HTTP/2".into();
    }
    let twin = dir.join("twin.json");
    std::fs::write(&twin, serde_json::to_string(&other).unwrap()).unwrap();
    let (code, stdout, stderr) = merge(&["--output", "json", path(&file), path(&file)]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json(&stdout)["protocol"], "HTTP/1.1");
    let (code, stdout, stderr) = merge(&["--output", "json", path(&file), path(&twin)]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let mixed = json(&stdout);
    assert_eq!(mixed["protocol"], "mixed");
    assert!(
        mixed["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["responses"] == 0 || e["protocol"] == "mixed"),
        "{mixed}"
    );
    let (_, text, _) = merge(&[path(&file), path(&twin)]).await;
    assert!(text.contains("protocol      mixed: GET / mixed"), "{text}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_that_do_not_add_up_exit_2_naming_the_file() {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let dir = scratch("merge-bad");
    let files = run_shards(&base, &dir, &[0, 1], 2).await;
    let (a, b) = (path(&files[0]), path(&files[1]));
    let report = json(&std::fs::read_to_string(a).unwrap());
    let write = |name: &str, text: String| {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        file.to_str().unwrap().to_owned()
    };
    let edited = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut doc = report.clone();
        edit(&mut doc);
        write(name, serde_json::to_string_pretty(&doc).unwrap())
    };
    let text = std::fs::read_to_string(a).unwrap();
    let not_a_report = write("notes.txt", "a shopping list\n{\"milk\": 2}\n".into());
    let truncated = write("cut.json", text[..text.len() / 2].to_owned());
    let no_histograms = edited("old.json", &|d| {
        d.as_object_mut().unwrap().remove("latency_histogram");
    });
    let other_target = edited("target.json", &|d| {
        d["target"] = "http://elsewhere:5000".into();
        d["shard"]["index"] = 1.into();
    });
    let other_mix = edited("mix.json", &|d| {
        d["endpoints"][0]["weight"] = 99.into();
        d["shard"]["index"] = 1.into();
    });
    let other_count = edited("count.json", &|d| d["shard"]["count"] = 4.into());
    // (inputs, the file named, what the message says)
    let cases: [(Vec<&str>, &str, &str); 7] = [
        (vec![a, &not_a_report], "notes.txt", "no report"),
        (vec![a, &truncated], "cut.json:1", "truncated"),
        (vec![&no_histograms, b], "old.json:1", "without histograms"),
        (vec![a, &other_target], "target.json:1", "different targets"),
        (vec![a, &other_mix], "mix.json:1", "different mixes"),
        (
            vec![a, b, a],
            "shard-0.json:1",
            "a second report of shard 0/2",
        ),
        (
            vec![a, &other_count],
            "count.json:1",
            "not one of the 2 shards",
        ),
    ];
    for (inputs, file, message) in cases {
        let (code, _, stderr) = merge(&inputs).await;
        assert_eq!(code, Some(2), "{inputs:?}: {stderr}");
        assert!(
            stderr.contains(file) && stderr.contains(message),
            "{inputs:?}: {stderr}"
        );
    }
    let (code, _, stderr) = merge(&[b, "/nonexistent/r.json"]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("/nonexistent/r.json"), "{stderr}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_shard_values_exit_2_naming_the_option() {
    // (value, what the message says)
    let cases = [
        ("3/3", "below N"),
        ("0/0", "at least 1"),
        ("one/3", "not `I/N`"),
    ];
    for (value, message) in cases {
        let words = ["--shard", value, "--requests", "1"]
            .map(String::from)
            .to_vec();
        let out = loadgen(words).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(
            stderr.contains("--shard") && stderr.contains(message),
            "{value}: {stderr}"
        );
    }
    let words = ["--concurrency", "2", "--shard", "1/3"]
        .map(String::from)
        .to_vec();
    let out = loadgen(words).await;
    assert_eq!(out.status.code(), Some(2));
    let past = ["--start-at", "2020-01-01T00:00:00Z", "--requests", "1"];
    let out = loadgen(past.map(String::from).to_vec()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--start-at 2020-01-01T00:00:00"),
        "{stderr}"
    );
}
