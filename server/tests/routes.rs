//! Every route's HTTP contract (paths, statuses, JSON fields, 404 and 405
//! answers), over a real socket.

use serde_json::Value;

use crate::util::TestServer;

/// No injected failures and instant `/slow`, to check the success shapes.
const CALM: &[&str] = &[
    "--home-error-rate=0",
    "--health-error-rate=0",
    "--slow-timeout-rate=0",
    "--slow-min=1ms",
    "--slow-max=2ms",
];

fn assert_rfc3339(body: &Value) {
    let ts = body["timestamp"].as_str().expect("timestamp is a string");
    chrono::DateTime::parse_from_rfc3339(ts).unwrap_or_else(|e| panic!("{ts}: {e}"));
}

fn assert_error_body(body: &Value, error_type: &str) {
    assert_eq!(body["error_type"], error_type, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert_rfc3339(body);
}

#[tokio::test]
async fn successful_routes_answer_json_with_their_fields() {
    let server = TestServer::start(CALM).await;

    let (status, home) = server.get("/").await;
    assert_eq!(status, 200);
    assert_eq!(home["status"], "running");
    assert!(home["message"].is_string());
    assert_rfc3339(&home);

    let (status, health) = server.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "healthy");
    assert_rfc3339(&health);

    let (status, stats) = server.get("/stats").await;
    assert_eq!(status, 200);
    for field in [
        "uptime_seconds",
        "total_requests",
        "error_count",
        "error_rate",
    ] {
        assert!(stats[field].is_number(), "{field} in {stats}");
    }
    assert_eq!(stats["total_requests"], 2);
    assert_rfc3339(&stats);

    let (status, slow) = server.get("/slow").await;
    assert_eq!(status, 200);
    assert_rfc3339(&slow);

    for (path, state) in [("/livez", "alive"), ("/readyz", "ready")] {
        let (status, body) = server.get(path).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some(state)),
            "{path}"
        );
    }
}

#[tokio::test]
async fn injected_failures_carry_their_type_and_status() {
    let server = TestServer::start(&[
        "--home-error-rate=1",
        "--health-error-rate=1",
        "--slow-timeout-rate=1",
        "--slow-timeout=10ms",
    ])
    .await;
    for (path, status, error_type) in [
        ("/", 500, "home_error"),
        ("/health", 503, "health_check_failed"),
        ("/slow", 504, "timeout"),
    ] {
        let (got, body) = server.get(path).await;
        assert_eq!(got, status, "{path}");
        assert_error_body(&body, error_type);
    }
}

#[tokio::test]
async fn error_route_answers_the_requested_type() {
    let server = TestServer::start(&[]).await;
    for (error_type, status) in [
        ("validation_error", 400),
        ("permission_error", 403),
        ("database_error", 500),
        ("timeout_error", 504),
    ] {
        let (got, body) = server.get(&format!("/error?type={error_type}")).await;
        assert_eq!(got, status, "{error_type}");
        assert_error_body(&body, error_type);
    }
}

#[tokio::test]
async fn an_unknown_error_type_is_a_client_mistake_listing_the_valid_ones() {
    let server = TestServer::start(&[]).await;
    let (status, body) = server.get("/error?type=bogus").await;
    assert_eq!(status, 400);
    assert_error_body(&body, "validation_error");
    let sentence = body["error"].as_str().unwrap();
    for valid in [
        "bogus",
        "validation_error",
        "permission_error",
        "database_error",
        "timeout_error",
    ] {
        assert!(sentence.contains(valid), "{sentence}");
    }
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let server = TestServer::start(&[]).await;
    for path in ["/nope", "/health/", "/slow/extra", "/%E2%9C%93"] {
        let (status, body) = server.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_error_body(&body, "not_found");
    }
}

#[tokio::test]
async fn wrong_methods_are_json_405s_with_allow() {
    let server = TestServer::start(&[]).await;
    for path in ["/", "/health", "/metrics", "/slow"] {
        let response = server.client.post(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], "GET, HEAD");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_error_body(&body, "method_not_allowed");
    }
}

#[tokio::test]
async fn head_is_answered_like_get_without_a_body() {
    let server = TestServer::start(CALM).await;
    let response = server.client.head(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn readyz_turns_503_while_draining() {
    let config = obslab_server::Config::try_parse_from(["obslab-server"]).unwrap();
    let state = std::sync::Arc::new(obslab_server::AppState::new(&config).unwrap());
    let app = obslab_server::routes::app(state.clone());
    let ready = warp::test::request().path("/readyz").reply(&app).await;
    assert_eq!(ready.status(), 200);
    state.start_draining();
    let draining = warp::test::request().path("/readyz").reply(&app).await;
    assert_eq!(draining.status(), 503);
    let body: Value = serde_json::from_slice(draining.body()).unwrap();
    assert_eq!(body["status"], "draining");
    let live = warp::test::request().path("/livez").reply(&app).await;
    assert_eq!(live.status(), 200, "liveness is unaffected by draining");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_pending_slow_requests_do_not_block_other_routes() {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;

    let server = TestServer::start(&[
        "--home-error-rate=0",
        "--slow-timeout-rate=0",
        "--slow-min=30s",
        "--slow-max=30s",
    ])
    .await;
    let addr = server.addr;
    let pending: Vec<tokio::net::TcpStream> = futures_util::stream::iter(0..5000)
        .map(|_| async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream
                .write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
                .await
                .unwrap();
            stream
        })
        .buffer_unordered(128)
        .collect()
        .await;
    crate::util::wait_in_flight(&server.url(""), &server.client, 5000.0).await;

    let started = std::time::Instant::now();
    let (status, _) = server.get("/").await;
    let took = started.elapsed();
    assert_eq!(status, 200);
    eprintln!("GET / answered in {took:?} with 5,000 /slow pending");
    // Every /slow sleeps 30 s: all were still pending when / answered.
    let in_flight = crate::util::sum(&server.scrape().await, "flask_requests_in_flight", &[]);
    assert!(in_flight >= 5001.0, "{in_flight}");
    drop(pending);
}
