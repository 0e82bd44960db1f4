//! Graceful shutdown: unready but serving for the shutdown delay, then
//! in-flight requests finish, new connections are refused, the grace period
//! bounds the wait, and the binary exits 0 on SIGTERM.

use std::time::{Duration, Instant};

use crate::util::{TestServer, start_binary, status_on_new_connection, wait_in_flight};

#[tokio::test]
async fn in_flight_requests_finish_and_new_connections_are_refused() {
    let mut server = TestServer::start(&[
        "--slow-timeout-rate=0",
        "--slow-min=600ms",
        "--slow-max=600ms",
    ])
    .await;
    let slow = tokio::spawn(server.client.get(server.url("/slow")).send());
    wait_in_flight(&server.url(""), &reqwest::Client::new(), 1.0).await;

    server.begin_shutdown();
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(server.addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the listener stayed open while draining"
        );
        tokio::task::yield_now().await;
    }
    assert!(
        !slow.is_finished(),
        "the slow request was still in flight when the listener closed"
    );

    let response = slow
        .await
        .unwrap()
        .expect("the in-flight /slow got its answer");
    assert_eq!(response.status(), 200);
    server
        .handle
        .await
        .unwrap()
        .expect("run() returns Ok after draining");
}

#[tokio::test]
async fn during_the_shutdown_delay_the_server_serves_but_is_unready() {
    let delay = Duration::from_secs(3);
    let mut server = TestServer::start(&["--shutdown-delay=3s"]).await;
    assert_eq!(
        status_on_new_connection(server.addr, "/readyz")
            .await
            .unwrap(),
        200
    );

    let begun = Instant::now();
    server.begin_shutdown();
    // Every probe below opens a connection of its own: the listener accepts.
    let deadline = begun + Duration::from_secs(20);
    while status_on_new_connection(server.addr, "/readyz")
        .await
        .expect("the listener accepts during the delay")
        != 503
    {
        assert!(Instant::now() < deadline, "/readyz never turned 503");
        tokio::task::yield_now().await;
    }
    let live = status_on_new_connection(server.addr, "/livez").await;
    assert_eq!(live.expect("the listener accepts during the delay"), 200);
    let unready = status_on_new_connection(server.addr, "/readyz").await;
    assert_eq!(unready.expect("the listener accepts during the delay"), 503);

    while tokio::net::TcpStream::connect(server.addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener never closed");
        tokio::task::yield_now().await;
    }
    assert!(
        begun.elapsed() >= delay,
        "the listener closed {:?} after the signal, before the {delay:?} delay",
        begun.elapsed()
    );
    server.handle.await.unwrap().expect("run() returns Ok");
}

#[tokio::test]
async fn the_grace_period_bounds_the_drain() {
    let mut server = TestServer::start(&[
        "--slow-timeout-rate=0",
        "--slow-min=60s",
        "--slow-max=60s",
        "--shutdown-grace=50ms",
    ])
    .await;
    let slow = tokio::spawn(server.client.get(server.url("/slow")).send());
    wait_in_flight(&server.url(""), &reqwest::Client::new(), 1.0).await;
    server.begin_shutdown();
    // A hang guard, far beyond the 50 ms grace and far below the 60 s sleep.
    let ended = tokio::time::timeout(Duration::from_secs(20), server.handle).await;
    ended
        .expect("run() returned once the grace elapsed")
        .unwrap()
        .unwrap();
    assert!(
        !slow.is_finished(),
        "run() returned while the request was still sleeping"
    );
    slow.abort();
}

#[test]
fn the_binary_drains_and_exits_0_on_sigterm() {
    let mut started = start_binary(
        &[
            "--slow-timeout-rate=0",
            "--slow-min=700ms",
            "--slow-max=700ms",
        ],
        &[],
    );
    let addr = started
        .listen
        .clone()
        .expect("a ready line with the address");
    let url = format!("http://{addr}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let slow = runtime.spawn(client.get(format!("{url}/slow")).send());
    runtime.block_on(wait_in_flight(&url, &reqwest::Client::new(), 1.0));

    started.sigterm();
    let response = runtime
        .block_on(slow)
        .unwrap()
        .expect("in-flight /slow answered");
    assert_eq!(response.status(), 200);
    assert_eq!(started.child.wait().unwrap().code(), Some(0));
    let rest: Vec<String> = started.rest.map(Result::unwrap).collect();
    assert!(rest.iter().any(|l| l.contains("drained")), "{rest:?}");
}
