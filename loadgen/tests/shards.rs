//! Scale-out against obslab-server: N shards with one seed send what one
//! process sends, endpoint by endpoint, in both models.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use obslab_loadgen::Summary;
use obslab_loadgen::time::rfc3339;

use crate::servers::short_slow_server;
use crate::util::run;

/// Requests sent per endpoint, added over `reports`.
fn sent_per_endpoint<'a>(reports: impl IntoIterator<Item = &'a Summary>) -> BTreeMap<String, u64> {
    let mut sent = BTreeMap::new();
    for report in reports {
        for e in &report.endpoints {
            *sent.entry(format!("{} {}", e.method, e.path)).or_default() += e.requests;
        }
    }
    sent
}

/// Runs `words` whole, then as shards 0/3, 1/3 and 2/3, and compares.
async fn three_shards_send_what_one_process_sends(words: &[&str], total: u64) {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let common = [
        &["--target", &base, "--seed", "42", "--threads", "1"][..],
        words,
    ]
    .concat();
    let whole = run(&common).await;
    assert_eq!(whole.requests, total);
    let mut shards = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let s = run(&[&common[..], &["--shard", shard]].concat()).await;
        let index = shard[..1].parse::<u64>().unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["shard"]["index"], index);
        assert_eq!(json["shard"]["count"], 3);
        shards.push(s);
    }
    // Shard I of 3 sends the numbers I, I+3, ...: 34, 33, 33 of 100.
    let counts: Vec<u64> = shards.iter().map(|s| s.requests).collect();
    assert_eq!(counts.iter().sum::<u64>(), total, "{counts:?}");
    assert!(
        counts.iter().all(|c| c.abs_diff(total / 3) <= 1),
        "{counts:?}"
    );
    assert_eq!(
        sent_per_endpoint(&shards),
        sent_per_endpoint([&whole]),
        "3 shards (left) vs one process (right)"
    );
    assert!(serde_json::to_value(&whole).unwrap().get("shard").is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_shards_send_what_one_process_sends_per_endpoint() {
    let words = ["--rate", "400", "--requests", "100"];
    three_shards_send_what_one_process_sends(&words, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_shards_send_what_one_process_sends_per_endpoint() {
    let words = ["--concurrency", "5", "--requests", "100"];
    three_shards_send_what_one_process_sends(&words, 100).await;
}

/// A shard's target rate is its share of the schedule, and `--start-at`
/// holds every shard until one instant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_share_the_rate_and_start_together() {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let at = rfc3339(SystemTime::now() + Duration::from_millis(700));
    let shard = |i: &'static str| {
        let (base, at) = (base.clone(), at.clone());
        tokio::spawn(async move {
            let words = ["--target", &base, "--mix", "GET /livez=1", "--threads", "1"];
            let more = ["--rate", "200", "--duration", "1s", "--start-at", &at];
            run(&[&words[..], &more[..], &["--shard", i]].concat()).await
        })
    };
    let (a, b) = (shard("0/2"), shard("1/2"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    for s in [&a, &b] {
        // Half of 200 req/s for 1 s each, from the same instant.
        assert_eq!(s.requests, 100, "{s:?}");
        assert!((s.target_rps - 100.0).abs() < 1.0, "{}", s.target_rps);
        assert_eq!(s.started_at, at);
    }
    server.stop().await;
}

/// A shard stopped while it waits for `--start-at` sends nothing and still
/// reports, its window at the start instant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_stopped_before_its_start_reports_nothing_sent() {
    let server = short_slow_server().await;
    let base = server.base.clone();
    let at = rfc3339(SystemTime::now() + Duration::from_secs(30));
    let words = [
        "--target",
        &base,
        "--rate",
        "100",
        "--start-at",
        &at,
        "--shard",
        "0/2",
    ];
    let plan = crate::util::plan(&words);
    let shutdown = tokio::time::sleep(Duration::from_millis(200));
    let s = obslab_loadgen::run(plan, shutdown).await.unwrap();
    assert_eq!((s.requests, s.duration_s), (0, 0.0));
    assert_eq!(
        (s.started_at.as_str(), s.ended_at.as_str()),
        (at.as_str(), at.as_str())
    );
    server.stop().await;
}
