//! `--html FILE`, the real binary against a real target: one self-contained
//! page with its charts and the JSON report's figures, for a run and for a
//! merge of shards; a path that cannot be written is exit 2 before any load,
//! and a run that fails leaves no file behind.

use std::path::Path;
use std::process::Output;
use std::sync::atomic::Ordering;

use obslab_loadgen::merge::{MergeArgs, merge};
use serde_json::Value;

use crate::util::{app, dead_target, loadgen_command, output, scratch};

/// The mix of these tests: a path with characters HTML must escape.
const MIX: &str = "GET /=3,GET /fail=1,GET /?q=<b>&x=\"1\"=1";
/// That path as the page must show it.
const ESCAPED_PATH: &str = "/?q=&lt;b&gt;&amp;x=&quot;1&quot;";

/// Runs the binary with `words` and `env` on a blocking thread.
async fn loadgen(words: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = loadgen_command(words);
    cmd.envs(env.iter().copied());
    output(cmd).await
}

/// The JSON report on stdout of a run that exited 0.
fn report(out: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {stderr}"))
}

/// Checks that `page` is one document that loads nothing, holds the three
/// charts, and shows the figures, endpoints and status codes of `report`.
fn assert_page_shows(page: &str, report: &Value) {
    assert!(page.starts_with("<!DOCTYPE html>"), "{page:.200}");
    assert_eq!(page.matches("<html").count(), 1);
    assert!(page.trim_end().ends_with("</html>"));
    for loader in [
        "<script", "<link", "<iframe", "<img", "src=", "@import", "url(",
    ] {
        assert!(!page.contains(loader), "the page loads something: {loader}");
    }
    // The target is text on the page; no other URL is there.
    let target = report["target"].as_str().unwrap();
    let elsewhere = page.replace(target, "");
    assert!(!elsewhere.contains("http://") && !elsewhere.contains("https://"));
    // One chart per section: spectrum, rates, latency over time.
    assert_eq!(page.matches("<svg").count(), 3, "three charts");
    for id in ["spectrum", "rates", "latency"] {
        let from = page.find(&format!("<section id=\"{id}\">")).expect(id);
        let section = &page[from..from + page[from..].find("</section>").unwrap()];
        assert_eq!(section.matches("<svg").count(), 1, "{id}");
        assert!(
            section.contains("<polyline") || section.contains("<path"),
            "{id}"
        );
    }
    let l = &report["latency_ms"];
    for stat in ["p50", "p99", "p999", "max"] {
        let ms = l[stat].as_f64().unwrap();
        assert!(page.contains(&format!("<b>{ms} ms</b>")), "{stat} {ms}");
    }
    for (code, n) in report["status_codes"].as_object().unwrap() {
        let row = format!("<td class=\"l\">HTTP {code}</td><td>{n}</td>");
        assert!(page.contains(&row), "{row}");
    }
    for e in report["endpoints"].as_array().unwrap() {
        let path = e["path"].as_str().unwrap().replace('&', "&amp;");
        let path = path
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        let l = &e["latency_ms"];
        let row = format!(
            "<td class=\"l\">GET</td><td class=\"l\">{path}</td><td>{}</td><td>{}</td><td>{}</td>",
            e["weight"], e["requests"], e["responses"]
        );
        assert!(page.contains(&row), "{row}");
        let p99 = format!("<td>{}</td>", l["p99"].as_f64().unwrap());
        assert!(page.contains(&p99), "{path} p99 {p99}");
        // The legend of the spectrum names every endpoint that answered.
        assert!(
            page.contains(&format!("GET {path}\n")),
            "{path} in a legend"
        );
    }
    assert!(page.contains(ESCAPED_PATH) && !page.contains("q=<b>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_writes_one_page_with_its_charts_and_figures() {
    let (target, _) = app().await;
    let dir = scratch("html-run");
    let file = dir.join("report.html");
    let words = [
        "--progress",
        "off",
        "--target",
        &target,
        "--mix",
        MIX,
        "--rate",
        "200",
        "--requests",
        "100",
        "--output",
        "json",
        "--threshold",
        "p99<10s",
    ];
    // The environment twin names the file.
    let out = loadgen(&words, &[("LOADGEN_HTML", &file)]).await;
    let report = report(&out);
    let page = std::fs::read_to_string(&file).expect("the page is written");
    assert_page_shows(&page, &report);
    assert!(page.contains("1 threshold(s) held"));
    assert!(page.contains("<td class=\"l\">p99&lt;10s</td>"));
    assert!(page.contains("schedule lag"), "the open model's lag");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_of_two_shards_writes_the_page_of_the_merge() {
    let (target, _) = app().await;
    let dir = scratch("html-merge");
    let mut files = Vec::new();
    for shard in ["0/2", "1/2"] {
        let words = [
            "--progress",
            "off",
            "--target",
            &target,
            "--mix",
            MIX,
            "--seed",
            "7",
            "--rate",
            "200",
            "--requests",
            "80",
            "--output",
            "json",
            "--shard",
            shard,
        ];
        let out = loadgen(&words, &[]).await;
        report(&out);
        let file = dir.join(format!("shard-{}.json", &shard[..1]));
        std::fs::write(&file, &out.stdout).unwrap();
        files.push(file.to_str().unwrap().to_owned());
    }
    let page_file = dir.join("merged.html");
    let page_path = page_file.to_str().unwrap();
    let words = [
        "merge", "--output", "json", "--html", page_path, &files[0], &files[1],
    ];
    let merged = report(&loadgen(&words, &[]).await);
    assert_eq!(merged["requests"], 80);
    let page = std::fs::read_to_string(&page_file).expect("the page is written");
    assert_page_shows(&page, &merged);
    assert!(page.contains("merge of 2 reports"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_cannot_be_written_is_exit_2_before_any_load() {
    let (target, seen) = app().await;
    let dir = scratch("html-unwritable");
    let missing_dir = dir.join("no-such-dir").join("report.html");
    let cases = [missing_dir.as_path(), dir.as_path()];
    for file in cases {
        let file = file.to_str().unwrap();
        let words = ["--progress", "off", "--target", &target, "--requests", "5"];
        let out = loadgen(&[&words[..], &["--html", file]].concat(), &[]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("--html {file}: cannot write it")),
            "{stderr}"
        );
        let out = loadgen(&["merge", "--html", file, "-"], &[]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(file), "{stderr}");
    }
    // Refused before the run: the target saw nothing.
    assert_eq!(seen.hits.load(Ordering::SeqCst), 0);

    // A run that fails leaves no page (nor an empty file) behind.
    let (dead, _reserved) = dead_target();
    let never = dir.join("never.html");
    let never_path = never.to_str().unwrap();
    let words = [
        "--progress",
        "off",
        "--target",
        &dead,
        "--wait-for-target",
        "200ms",
    ];
    let out = loadgen(&[&words[..], &["--html", never_path]].concat(), &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(!never.exists(), "{never_path} left behind");
}

/// The `<svg>…</svg>` elements of `page`, in order.
fn charts(page: &str) -> Vec<&str> {
    page.match_indices("<svg")
        .map(|(from, _)| &page[from..from + page[from..].find("</svg>").unwrap()])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_and_the_merge_of_its_report_draw_the_same_charts() {
    let (target, _) = app().await;
    let summary = crate::util::run(&[
        "--target",
        &target,
        "--mix",
        MIX,
        "--rate",
        "300",
        "--requests",
        "60",
    ])
    .await;
    let mut run_page = Vec::new();
    obslab_loadgen::html::render(&summary, &mut run_page).unwrap();
    let dir = scratch("html-same");
    let file = dir.join("run.json");
    let mut json = Vec::new();
    obslab_loadgen::report::json(&summary, &mut json).unwrap();
    std::fs::write(&file, json).unwrap();
    let args = <MergeArgs as clap::Parser>::parse_from(["merge", file.to_str().unwrap()]);
    let merged = merge(&args).unwrap();
    let mut merged_page = Vec::new();
    obslab_loadgen::html::render(&merged, &mut merged_page).unwrap();
    let (run_page, merged_page) = (
        String::from_utf8(run_page).unwrap(),
        String::from_utf8(merged_page).unwrap(),
    );
    assert_eq!(charts(&run_page).len(), 3);
    assert_eq!(charts(&run_page), charts(&merged_page));
    assert!(merged_page.contains("merge of 1 report<"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_markup_character_of_a_path_is_escaped_on_the_page() {
    let (target, _) = app().await;
    let mix = "GET /?q=<i>\"x\"&'y'</i>=1";
    let words = [
        "--target",
        &target,
        "--mix",
        mix,
        "--rate",
        "100",
        "--requests",
        "5",
    ];
    let summary = crate::util::run(&words).await;
    let mut page = Vec::new();
    obslab_loadgen::html::render(&summary, &mut page).unwrap();
    let page = String::from_utf8(page).unwrap();
    let escaped = "/?q=&lt;i&gt;&quot;x&quot;&amp;&#x27;y&#x27;&lt;/i&gt;";
    assert!(
        page.contains(&format!("<td class=\"l\">{escaped}</td>")),
        "the endpoint row:\n{page}"
    );
    assert!(!page.contains("<i>") && !page.contains("'y'"), "{page}");
}
