//! Each endpoint's error rate (no answer, or a status >= 400), in the JSON
//! report, the text table and the HTML page, for a run and for a merge
//! (computed again from the merged counts, never averaged); a route that
//! answers only 500s never shows 0 under a heading about failures.

use clap::Parser as _;
use obslab_loadgen::merge::{MergeArgs, merge};
use obslab_loadgen::{Summary, html, report};

use crate::util::{app, run, text_report};

/// The mix of the run, and its seed.
const MIX: [&str; 4] = ["--mix", "GET /=3,GET /fail=1", "--seed", "7"];

/// The text report's row of the endpoint named `name`, split in columns
/// after the name; panics naming the table when it is not there.
fn text_row(text: &str, name: &str) -> Vec<String> {
    let row = text
        .lines()
        .find_map(|l| {
            let rest = l.trim_start().strip_prefix(name)?;
            rest.starts_with(' ').then_some(rest)
        })
        .unwrap_or_else(|| panic!("no row {name}: {text}"));
    row.split_whitespace().map(str::to_owned).collect()
}

/// The heading of the per-endpoint table, column by column (a heading of
/// two words kept as one).
fn text_headings(text: &str) -> Vec<String> {
    let heading = text
        .lines()
        .find(|l| l.trim_start().starts_with("endpoint "))
        .unwrap_or_else(|| panic!("no endpoint table: {text}"));
    heading
        .trim_start()
        .split("  ")
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_endpoint_says_its_error_rate_in_json_text_and_html() {
    let (target, _) = app().await;
    let target = ["--target", target.as_str()];
    let s = run(&[&target[..], &["--requests", "60", "--rate", "500"], &MIX].concat()).await;
    let v = serde_json::to_value(&s).unwrap();
    let [home, fail] = [&v["endpoints"][0], &v["endpoints"][1]];
    assert!(fail["requests"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(fail["status_codes"]["500"], fail["responses"], "{fail}");
    // Percent, like the `error_rate` threshold's value and the text.
    assert_eq!(fail["error_rate"], 100.0, "{fail}");
    assert_eq!(home["error_rate"], 0.0, "{home}");
    // The run's rate is the share of /fail; each endpoint's is its own.
    let share = 100.0 * fail["requests"].as_f64().unwrap() / 60.0;
    assert!((s.error_rate() - share).abs() < 1e-9, "{}", s.error_rate());

    let text = text_report(&s);
    let headings = text_headings(&text);
    let column = |name: &str| {
        headings
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name:?} in {headings:?}"))
            - 1 // the row's columns start after the endpoint's name
    };
    // No column is headed "errors": transport failures are "no answer".
    assert!(!headings.iter().any(|h| h == "errors"), "{headings:?}");
    let row = text_row(&text, "GET /fail");
    assert_eq!(row[column("no answer")], "0", "{text}");
    assert_eq!(row[column("error %")], "100.00", "{text}");
    assert_eq!(text_row(&text, "GET /")[column("error %")], "0.00");

    let mut page = Vec::new();
    html::render(&s, &mut page).unwrap();
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains(">error %</th>"), "no error % column");
    let fail_row = page
        .lines()
        .find(|l| l.contains("<td class=\"l\">/fail</td>"))
        .expect("a row for /fail");
    assert!(fail_row.contains("<td>100.00</td>"), "{fail_row}");
}

/// Two reports of one target and mix, one whose requests all timed out
/// (4 of them) and one whose requests were all answered 200 (12): the
/// merge's rate is 4 of 16, 25 %, not the mean of 100 % and 0 %.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_computes_each_endpoints_error_rate_from_the_merged_counts() {
    let (target, _) = app().await;
    let base = ["--target", &target, "--mix", "GET /slow=1", "--rate", "100"];
    let timed_out = run(&[&base[..], &["--requests", "4", "--timeout", "100ms"]].concat()).await;
    let answered = run(&[&base[..], &["--requests", "12"]].concat()).await;
    let rate = |s: &Summary| serde_json::to_value(s).unwrap()["endpoints"][0]["error_rate"].clone();
    assert_eq!(rate(&timed_out), 100.0);
    assert_eq!(rate(&answered), 0.0);

    let dir = std::env::temp_dir().join(format!("obslab-error-rates-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, s) in [("timed-out", &timed_out), ("answered", &answered)] {
        let file = dir.join(format!("{name}.json"));
        let mut json = Vec::new();
        report::json(s, &mut json).unwrap();
        std::fs::write(&file, json).unwrap();
        files.push(file.display().to_string());
    }
    let args = MergeArgs::try_parse_from(["merge", &files[0], &files[1]]).unwrap();
    let merged = merge(&args).expect("the reports merge");
    let _ = std::fs::remove_dir_all(&dir);
    let e = &merged.endpoints[0];
    assert_eq!((e.requests, e.responses, e.errors.timeout), (16, 12, 4));
    assert_eq!(rate(&merged), 25.0);
    assert_eq!(
        text_row(&text_report(&merged), "GET /slow")[4],
        "25.00",
        "requests, answered, no answer, dropped, error %"
    );
}
