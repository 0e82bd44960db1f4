//! The admin API and scenarios: authentication, validation that changes
//! nothing, effect on outcomes (statistical), and the fault metrics.

use serde_json::{Value, json};

use crate::util::{TestServer, assert_binomial, sum};

const TOKEN: &str = "drill-token-0123456789";

async fn admin(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = server
        .client
        .request(method, server.url(path))
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

async fn patch(server: &TestServer, body: Value) -> (u16, Value) {
    admin(
        server,
        reqwest::Method::PATCH,
        "/admin/faults",
        Some(&body.to_string()),
    )
    .await
}

async fn statuses(server: &TestServer, path: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(server.status(path).await);
    }
    out
}

#[tokio::test]
async fn the_admin_api_is_off_without_a_token() {
    let server = TestServer::start(&[]).await;
    let response = server
        .client
        .get(server.url("/admin/faults"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(body["error"].as_str().unwrap().contains("--admin-token"));
}

#[tokio::test]
async fn requests_without_the_right_token_get_401() {
    let server = TestServer::start(&["--admin-token", TOKEN]).await;
    let url = server.url("/admin/faults");
    for request in [
        server.client.get(&url),
        server
            .client
            .get(&url)
            .bearer_auth("drill-token-0123456788"),
        server.client.get(&url).bearer_auth(&TOKEN[..10]),
        server.client.get(&url).header("authorization", TOKEN),
        server.client.patch(&url).body(r#"{"outage": true}"#),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(body["error_type"], "unauthorized");
    }
    assert!(
        !server.faults().await["outage"].as_bool().unwrap(),
        "the unauthorized PATCH changed nothing"
    );
    let (status, _) = admin(&server, reqwest::Method::GET, "/admin/faults", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn invalid_patches_name_the_field_and_change_nothing() {
    let server = TestServer::start(&["--admin-token", TOKEN]).await;
    let before = server.faults().await;
    let cases = [
        (
            json!({"routes": {"/": {"error_rate": 0.9}, "/health": {"error_rate": 7}}}),
            "routes./health.error_rate",
        ),
        (
            json!({"routes": {"/slow": {"delay_min": "9s"}}}),
            "routes./slow.delay_min",
        ),
        (
            json!({"routes": {"/nope": {"error_rate": 0.1}}}),
            "routes./nope",
        ),
        (
            json!({"error_weights": {"database_error": -1}}),
            "error_weights.database_error",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = patch(&server, body).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
        assert_eq!(answer["error_type"], "validation_error");
    }
    let (status, answer) = patch(&server, json!({"routez": {}})).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("routez"),
        "{answer}"
    );
    assert_eq!(server.faults().await, before);
}

#[tokio::test]
async fn a_patch_changes_outcomes_and_reset_restores_them() {
    let server =
        TestServer::start(&["--admin-token", TOKEN, "--seed=11", "--home-error-rate=0"]).await;
    let calm = statuses(&server, "/", 200).await;
    assert!(calm.iter().all(|s| *s == 200));

    let (status, view) = patch(&server, json!({"routes": {"/": {"error_rate": 0.5}}})).await;
    assert_eq!(
        (status, view["routes"]["/"]["error_rate"].as_f64()),
        (200, Some(0.5))
    );
    let spiked = statuses(&server, "/", 2000).await;
    assert_binomial(
        "GET / after the patch",
        spiked.iter().filter(|s| **s == 500).count(),
        2000,
        0.5,
    );

    let (status, view) = admin(&server, reqwest::Method::POST, "/admin/faults/reset", None).await;
    assert_eq!(
        (status, view["routes"]["/"]["error_rate"].as_f64()),
        (200, Some(0.0))
    );
    assert!(statuses(&server, "/", 200).await.iter().all(|s| *s == 200));
}

#[tokio::test]
async fn an_outage_fails_every_route_but_admin_and_probes() {
    let server = TestServer::start(&["--admin-token", TOKEN]).await;
    patch(&server, json!({"outage": true})).await;
    for path in ["/livez", "/readyz"] {
        assert_eq!(
            server.get(path).await.0,
            200,
            "{path} keeps telling the truth"
        );
    }
    for path in ["/", "/stats", "/metrics", "/health"] {
        let (status, body) = server.get(path).await;
        assert_eq!(
            (status, body["error_type"].as_str()),
            (503, Some("outage")),
            "{path}"
        );
    }
    patch(&server, json!({"outage": false})).await;
    let text = server.scrape().await;
    assert_eq!(
        sum(&text, "flask_errors_total", &[("error_type", "outage")]),
        4.0
    );
}

#[tokio::test]
async fn the_profile_in_force_and_its_changes_are_exported() {
    let server = TestServer::start(&["--admin-token", TOKEN]).await;
    let gauge = |text: &str, name: &str, endpoint: &str| sum(text, name, &[("endpoint", endpoint)]);
    let text = server.scrape().await;
    assert_eq!(
        gauge(&text, "obslab_fault_error_probability", "/health"),
        0.2
    );
    assert_eq!(gauge(&text, "obslab_fault_delay_max_seconds", "/slow"), 1.5);
    assert_eq!(sum(&text, "obslab_fault_changes_total", &[]), 0.0);

    patch(&server, json!({"routes": {"/health": {"error_rate": 0.9, "delay_min": "50ms", "delay_max": "80ms"}}})).await;
    let text = server.scrape().await;
    assert_eq!(
        gauge(&text, "obslab_fault_error_probability", "/health"),
        0.9
    );
    assert_eq!(
        gauge(&text, "obslab_fault_delay_min_seconds", "/health"),
        0.05
    );
    assert_eq!(
        sum(&text, "obslab_fault_changes_total", &[("source", "admin")]),
        1.0
    );
    let admin_series = crate::util::samples(&text)
        .into_iter()
        .filter(|s| s.name == "flask_requests_total" && s.labels["endpoint"].starts_with("/admin"))
        .count();
    assert_eq!(admin_series, 1, "admin routes are labelled by template");
}

/// Polls `GET /admin/scenario` until `done` says so, within 10 s.
async fn wait_scenario(server: &TestServer, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, s) = admin(server, reqwest::Method::GET, "/admin/scenario", None).await;
        if done(&s) {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "scenario never reached the state: {s}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_posted_scenario_injects_its_phase_until_deleted() {
    let server = TestServer::start(&["--admin-token", TOKEN]).await;
    let scenario = "name: long-spike\nphases:\n  - name: spike\n    duration: 10m\n    faults:\n      routes:\n        \"/\": { error_rate: 1 }\n";
    let (status, answer) = admin(
        &server,
        reqwest::Method::POST,
        "/admin/scenario",
        Some(scenario),
    )
    .await;
    assert_eq!(
        (status, answer["name"].as_str()),
        (200, Some("long-spike")),
        "{answer}"
    );
    wait_scenario(&server, |s| s["phase"] == "spike").await;
    assert!(statuses(&server, "/", 50).await.iter().all(|s| *s == 500));
    let text = server.scrape().await;
    assert_eq!(
        sum(
            &text,
            "obslab_scenario_phase",
            &[("scenario", "long-spike"), ("phase", "spike")]
        ),
        1.0
    );

    let (status, answer) = admin(&server, reqwest::Method::DELETE, "/admin/scenario", None).await;
    assert_eq!(
        (status, answer["running"].as_bool()),
        (200, Some(false)),
        "{answer}"
    );
    let text = server.scrape().await;
    assert_eq!(
        sum(
            &text,
            "obslab_fault_error_probability",
            &[("endpoint", "/")]
        ),
        0.05
    );
    assert_eq!(sum(&text, "obslab_scenario_phase", &[]), 0.0);
}

#[tokio::test]
async fn a_scenario_plays_its_phases_then_restores_the_defaults() {
    let server = TestServer::start(&["--admin-token", TOKEN, "--scenario-speed=20"]).await;
    let scenario = r#"
name: quick
phases:
  - name: spike
    duration: 2s
    faults: { routes: { "/": { error_rate: 1 } } }
  - name: after
    duration: 1s
"#;
    let (status, _) = admin(
        &server,
        reqwest::Method::POST,
        "/admin/scenario",
        Some(scenario),
    )
    .await;
    assert_eq!(status, 200);
    let finished = wait_scenario(&server, |s| s["running"] == false).await;
    assert_eq!(
        finished["phase_index"], 2,
        "both phases were played: {finished}"
    );
    let phases = &finished["scenario"]["phases"];
    assert_eq!(
        (&phases[0]["duration"], &phases[0]["duration_seconds"]),
        (&json!("2s"), &json!(2.0)),
        "durations as text and as seconds: {phases}"
    );
    let text = server.scrape().await;
    assert_eq!(
        sum(
            &text,
            "obslab_fault_error_probability",
            &[("endpoint", "/")]
        ),
        0.05
    );
    assert_eq!(sum(&text, "obslab_scenario_phase", &[]), 0.0);
    // One change per phase, and one to restore the configured profile.
    assert_eq!(
        sum(
            &text,
            "obslab_fault_changes_total",
            &[("source", "scenario")]
        ),
        3.0
    );
}

#[tokio::test]
async fn a_bad_scenario_is_refused_naming_the_culprit() {
    let server = TestServer::start(&["--admin-token", TOKEN]).await;
    let bad = "name: x\nphases:\n  - name: a\n    duration: 1m\n    faults:\n      routes:\n        \"/\": { error_rate: 2 }\n";
    let (status, answer) =
        admin(&server, reqwest::Method::POST, "/admin/scenario", Some(bad)).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("phases[0].faults.routes./.error_rate"))
    );
    let (status, answer) = admin(
        &server,
        reqwest::Method::POST,
        "/admin/scenario",
        Some("name: x\nphases: []\n"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("phases"),
        "{answer}"
    );
    let (_, now) = admin(&server, reqwest::Method::GET, "/admin/scenario", None).await;
    assert_eq!(now["running"], false);
}

#[tokio::test]
async fn the_profile_shows_durations_as_text_and_as_seconds() {
    let server = TestServer::start(&["--admin-token", TOKEN]).await;
    let (status, _) = patch(
        &server,
        json!({"routes": {"/slow": {"delay_min_seconds": 0.25}}}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, view) = admin(&server, reqwest::Method::GET, "/admin/faults", None).await;
    let slow = &view["routes"]["/slow"];
    assert_eq!(
        (&slow["delay_min"], &slow["delay_min_seconds"]),
        (&json!("250ms"), &json!(0.25)),
        "{slow}"
    );
    assert_eq!(slow["timeout_seconds"], 3.0, "{slow}");
    assert_eq!(view["routes"]["/"]["delay_max_seconds"], 0.0, "{view}");
}
