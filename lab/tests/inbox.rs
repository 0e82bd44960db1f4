//! `obslab inbox` on a real socket: Alertmanager's webhook payloads
//! (version 4, in the format of its `webhook_config` documentation), bad
//! input, the bounds, the data file.

use std::process::Command;

use serde_json::{Value, json};

use crate::util::{TempDir, get, post, start_inbox};

/// A notification as Alertmanager sends it: every documented field.
fn payload(receiver: &str, status: &str, alertname: &str) -> Value {
    let ends_at = if status == "firing" {
        "0001-01-01T00:00:00Z"
    } else {
        "2026-11-30T10:05:00.123456789Z"
    };
    json!({
        "version": "4",
        "groupKey": format!("{{}}/{{severity=\"critical\"}}:{{alertname=\"{alertname}\", instance=\"server:5000\"}}"),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": {"alertname": alertname, "instance": "server:5000"},
        "commonLabels": {"alertname": alertname, "instance": "server:5000", "job": "obslab-server", "severity": "critical"},
        "commonAnnotations": {"summary": "obslab-server server:5000 is down"},
        "externalURL": "http://localhost:9093",
        "alerts": [{
            "status": status,
            "labels": {"alertname": alertname, "instance": "server:5000", "job": "obslab-server", "severity": "critical"},
            "annotations": {
                "summary": "obslab-server server:5000 is down",
                "description": "Prometheus has not been able to scrape <server:5000> & more"
            },
            "startsAt": "2026-11-30T10:00:00.5+01:00",
            "endsAt": ends_at,
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
            "fingerprint": "c6ea1ba4b7d1d9f6"
        }]
    })
}

async fn notifications(url: &str) -> Vec<Value> {
    let (status, body) = get(url).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Vec<Value>>(&body).expect("a JSON array")
}

#[tokio::test]
async fn a_firing_then_a_resolved_notification_are_listed_newest_first_as_received() {
    let inbox = start_inbox(&[]).await;
    let firing = payload("pager", "firing", "ObslabServerDown");
    let (status, body) = post(&inbox.url("/webhook"), firing.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let resolved = payload("pager", "resolved", "ObslabServerDown");
    assert_eq!(
        post(&inbox.url("/webhook"), resolved.to_string()).await.0,
        200
    );

    let list = notifications(&inbox.url("/api/notifications")).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["status"], "resolved", "newest first");
    assert_eq!(list[1]["status"], "firing");
    // As received, unknown-to-the-inbox fields included, plus received_at.
    let mut got = list[1].as_object().unwrap().clone();
    let received_at = got.remove("received_at").expect("received_at");
    chrono::DateTime::parse_from_rfc3339(received_at.as_str().unwrap()).expect("RFC 3339");
    assert_eq!(Value::Object(got), firing);
}

#[tokio::test]
async fn the_page_shows_receiver_labels_annotations_and_status_colours() {
    let inbox = start_inbox(&[]).await;
    let (_, empty) = get(&inbox.url("/")).await;
    assert!(empty.contains("Nothing yet"), "{empty}");
    post(
        &inbox.url("/webhook"),
        payload("pager", "firing", "ObslabServerDown").to_string(),
    )
    .await;
    post(
        &inbox.url("/webhook"),
        payload("ticket", "resolved", "ObslabLoadgenDown").to_string(),
    )
    .await;

    let r = reqwest::get(inbox.url("/")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("http-equiv=\"refresh\""), "refreshes itself");
    let resolved = page
        .find("class=\"n resolved\"")
        .expect("a resolved notification");
    let firing = page
        .find("class=\"n firing\"")
        .expect("a firing notification");
    assert!(resolved < firing, "newest first");
    for text in [
        "receiver <b>pager</b>",
        "receiver <b>ticket</b>",
        "<b>ObslabServerDown</b> firing",
        "obslab-server server:5000 is down",
        "severity=critical",
        "alertname=ObslabLoadgenDown",
        "started 2026-11-30T09:00:00Z",
        "ended 2026-11-30T10:05:00Z",
        "after it started",
        "after it ended",
        // Payload text is escaped, never markup.
        "&lt;server:5000&gt; &amp; more",
    ] {
        assert!(page.contains(text), "the page lacks {text:?}:\n{page}");
    }
}

#[tokio::test]
async fn every_markup_character_of_a_payload_is_escaped_on_the_page() {
    let inbox = start_inbox(&[]).await;
    let markup = "<i>\"x\" & 'y'</i>";
    let mut sent = payload("pager", "firing", "X");
    sent["alerts"][0]["labels"]["instance"] = json!(markup);
    sent["alerts"][0]["annotations"]["summary"] = json!(markup);
    sent["alerts"][0]["annotations"]["description"] = json!(markup);
    assert_eq!(post(&inbox.url("/webhook"), sent.to_string()).await.0, 200);
    let (_, page) = get(&inbox.url("/")).await;
    let escaped = "&lt;i&gt;&quot;x&quot; &amp; &#x27;y&#x27;&lt;/i&gt;";
    assert!(
        page.contains(&format!("instance={escaped}")),
        "the label value:\n{page}"
    );
    assert!(page.contains(&format!("— {escaped}")), "the summary");
    assert!(
        page.contains(&format!("<div class=\"desc\">{escaped}</div>")),
        "the description"
    );
    assert!(!page.contains("<i>") && !page.contains("'y'"), "{page}");
}

#[tokio::test]
async fn metrics_count_notifications_per_receiver_and_alerts_per_name() {
    let inbox = start_inbox(&[]).await;
    let (_, before) = get(&inbox.url("/metrics")).await;
    assert!(
        before.contains("obslab_inbox_notifications_total{receiver=\"pager\",status=\"firing\"} 0"),
        "the lab's receivers start at zero:\n{before}"
    );
    post(
        &inbox.url("/webhook"),
        payload("pager", "firing", "ObslabServerDown").to_string(),
    )
    .await;
    post(
        &inbox.url("/webhook"),
        payload("pager", "resolved", "ObslabServerDown").to_string(),
    )
    .await;
    let (status, text) = get(&inbox.url("/metrics")).await;
    assert_eq!(status, 200);
    for line in [
        "obslab_inbox_notifications_total{receiver=\"pager\",status=\"firing\"} 1",
        "obslab_inbox_notifications_total{receiver=\"pager\",status=\"resolved\"} 1",
        "obslab_inbox_notifications_total{receiver=\"ticket\",status=\"firing\"} 0",
        "obslab_inbox_alerts_total{alertname=\"ObslabServerDown\",status=\"firing\"} 1",
        "obslab_inbox_alerts_total{alertname=\"ObslabServerDown\",status=\"resolved\"} 1",
    ] {
        assert!(text.contains(line), "/metrics lacks {line}:\n{text}");
    }
}

#[tokio::test]
async fn receivers_beyond_the_label_bound_count_as_other() {
    let inbox = start_inbox(&[]).await;
    for i in 0..60 {
        post(
            &inbox.url("/webhook"),
            payload(&format!("r{i}"), "firing", "X").to_string(),
        )
        .await;
    }
    let (_, text) = get(&inbox.url("/metrics")).await;
    let series = text
        .lines()
        .filter(|l| l.starts_with("obslab_inbox_notifications_total{"))
        .count();
    // 50 distinct receivers (pager and ticket among them) × 2 statuses, at most.
    assert!(series <= 100, "{series} series:\n{text}");
    assert!(text.contains("receiver=\"other\""), "{text}");
}

#[tokio::test]
async fn bad_input_gets_400_with_the_reason_and_is_not_kept() {
    let inbox = start_inbox(&[]).await;
    let url = inbox.url("/webhook");
    let (status, body) = post(&url, "{not json").await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid JSON"), "{body}");

    let (status, body) = post(&url, "[1, 2]").await;
    assert_eq!(status, 400);
    assert!(body.contains("JSON object"), "{body}");

    let mut missing = payload("pager", "firing", "X");
    missing.as_object_mut().unwrap().remove("receiver");
    let (status, body) = post(&url, missing.to_string()).await;
    assert_eq!(status, 400);
    assert!(body.contains("receiver"), "{body}");

    let mut old = payload("pager", "firing", "X");
    old["version"] = json!("3");
    let (status, body) = post(&url, old.to_string()).await;
    assert_eq!(status, 400);
    assert!(body.contains("version"), "{body}");

    let mut bad_time = payload("pager", "firing", "X");
    bad_time["alerts"][0]["startsAt"] = json!("yesterday");
    let (status, body) = post(&url, bad_time.to_string()).await;
    assert_eq!(status, 400);
    assert!(body.contains("yesterday"), "{body}");

    let mut bad_status = payload("pager", "firing", "X");
    bad_status["status"] = json!("exploded");
    assert_eq!(post(&url, bad_status.to_string()).await.0, 400);

    assert!(
        notifications(&inbox.url("/api/notifications"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_body_over_one_mebibyte_gets_413() {
    let inbox = start_inbox(&[]).await;
    let mut big = payload("pager", "firing", "X");
    big["commonAnnotations"]["padding"] = json!("x".repeat(1024 * 1024));
    let (status, body) = post(&inbox.url("/webhook"), big.to_string()).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        notifications(&inbox.url("/api/notifications"))
            .await
            .is_empty()
    );
    // Just under the limit is fine.
    let mut fits = payload("pager", "firing", "X");
    fits["commonAnnotations"]["padding"] = json!("x".repeat(1000 * 1000));
    assert_eq!(post(&inbox.url("/webhook"), fits.to_string()).await.0, 200);
}

#[tokio::test]
async fn only_the_last_keep_notifications_are_kept() {
    let inbox = start_inbox(&["--keep", "3"]).await;
    for i in 0..5 {
        post(
            &inbox.url("/webhook"),
            payload("pager", "firing", &format!("A{i}")).to_string(),
        )
        .await;
    }
    let names: Vec<String> = notifications(&inbox.url("/api/notifications"))
        .await
        .iter()
        .map(|n| n["groupLabels"]["alertname"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["A4", "A3", "A2"]);
    assert_eq!(inbox.inbox.store.len(), 3);
}

#[tokio::test]
async fn the_data_file_brings_back_the_last_keep_after_a_restart() {
    let dir = TempDir::new("reload");
    let data = dir.path().join("inbox.jsonl");
    let data = data.to_str().unwrap();
    {
        let inbox = start_inbox(&["--data", data]).await;
        for i in 0..4 {
            post(
                &inbox.url("/webhook"),
                payload("pager", "firing", &format!("A{i}")).to_string(),
            )
            .await;
        }
    }
    // A write cut short by a crash: skipped at start, not fatal.
    let mut text = std::fs::read_to_string(data).unwrap();
    text.push_str("{\"version\": \"4\", \"recei\n");
    std::fs::write(data, text).unwrap();

    let inbox = start_inbox(&["--data", data, "--keep", "2"]).await;
    let list = notifications(&inbox.url("/api/notifications")).await;
    let names: Vec<&str> = list
        .iter()
        .map(|n| n["groupLabels"]["alertname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A3", "A2"]);
    assert!(list[0]["received_at"].is_string());
    // The file now holds only what is kept, and grows from there.
    post(
        &inbox.url("/webhook"),
        payload("ticket", "resolved", "A4").to_string(),
    )
    .await;
    let lines = std::fs::read_to_string(data).unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
}

#[tokio::test]
async fn delete_empties_the_inbox_and_its_data_file() {
    let dir = TempDir::new("clear");
    let data = dir.path().join("inbox.jsonl");
    let inbox = start_inbox(&["--data", data.to_str().unwrap()]).await;
    post(
        &inbox.url("/webhook"),
        payload("pager", "firing", "X").to_string(),
    )
    .await;
    let r = reqwest::Client::new()
        .delete(inbox.url("/api/notifications"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), r#"{"removed":1}"#);
    assert!(
        notifications(&inbox.url("/api/notifications"))
            .await
            .is_empty()
    );
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "");
}

#[tokio::test]
async fn livez_answers_and_other_requests_get_json_errors() {
    let inbox = start_inbox(&[]).await;
    assert_eq!(get(&inbox.url("/livez")).await.0, 200);
    let (status, body) = get(&inbox.url("/nope")).await;
    assert_eq!((status, body.as_str()), (404, r#"{"error":"not found"}"#));
    assert_eq!(get(&inbox.url("/webhook")).await.0, 405);
}

// Multi-threaded: the blocking probe below must not stall the inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_healthcheck_probes_the_inbox_listen_address_not_the_servers() {
    let inbox = start_inbox(&[]).await;
    let status = Command::new(env!("CARGO_BIN_EXE_obslab"))
        .args(["inbox", "healthcheck"])
        .env("OBSLAB_INBOX_LISTEN", inbox.addr.to_string())
        .env("OBSLAB_LISTEN", "127.0.0.1:1")
        .status()
        .unwrap();
    assert!(status.success());
    let status = Command::new(env!("CARGO_BIN_EXE_obslab"))
        .args(["inbox", "healthcheck"])
        .env("OBSLAB_INBOX_LISTEN", "127.0.0.1:1")
        .env("OBSLAB_LISTEN", inbox.addr.to_string())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}
