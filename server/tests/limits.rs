//! The connection limits, tried as an attacker would, on real sockets:
//! slowloris heads are dropped at the header read timeout while others are
//! served, idle keep-alive connections close, a head over 16 KiB gets 431,
//! the connection table fills up and recovers, and HTTP/2 keeps its bounds.
//! Every wait polls with a deadline; the deadlines only bound a hang.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::util::{TestServer, status_on_new_connection, sum};

/// Reads one response on `stream`: its status line and body (by
/// Content-Length), leaving the connection open.
async fn read_response(stream: &mut BufReader<TcpStream>) -> (String, String) {
    let mut status = String::new();
    stream.read_line(&mut status).await.unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    (
        status.trim_end().to_string(),
        String::from_utf8(body).unwrap(),
    )
}

/// Waits until the peer closes `stream` (end of file or reset): when it
/// did, or `None` when it still had not after `within`. Anything the server
/// sends meanwhile is read and dropped.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Instant> {
    let deadline = Instant::now() + within;
    let mut buf = [0; 1024];
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Scrapes until `name{filter}` reaches `want`, or panics after 20 s.
async fn wait_metric(server: &TestServer, name: &str, filter: &[(&str, &str)], want: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = sum(&server.scrape().await, name, filter);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}{filter:?} is {got}, never {want}"
        );
        tokio::task::yield_now().await;
    }
}

/// Waits until the server closes `stream` by its `timeout` (`idle` or
/// `header_read`, as the metric counts it): when it did.
async fn closed_by(server: &TestServer, stream: &mut TcpStream, timeout: &str) -> Instant {
    let closed = closed_within(stream, Duration::from_secs(20)).await;
    let closed = closed.unwrap_or_else(|| panic!("never closed by the {timeout} timeout"));
    let counter = "obslab_connections_timed_out_total";
    wait_metric(server, counter, &[("timeout", timeout)], 1.0).await;
    closed
}

/// A slowloris client: a request line, then one header byte every 200 ms,
/// never the blank line. Says on `started` when its first bytes are sent;
/// returns how long the server held it from then, or `None` when still held
/// after `within`.
async fn slowloris(
    addr: SocketAddr,
    started: tokio::sync::mpsc::Sender<()>,
    within: Duration,
) -> Option<Duration> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nX-Slow: ")
        .await
        .unwrap();
    let since = Instant::now();
    started.send(()).await.unwrap();
    let mut buf = [0; 1024];
    loop {
        let tick = tokio::time::sleep(Duration::from_millis(200));
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return Some(since.elapsed()),
                Ok(_) => {}
            },
            () = tick => {
                if since.elapsed() > within {
                    return None;
                }
                // A write may fail once the server has closed: the read
                // above then sees it.
                let _ = stream.write_all(b"a").await;
            }
        }
    }
}

#[tokio::test]
async fn slowloris_heads_are_dropped_at_the_timeout_while_others_are_served() {
    let server = TestServer::start(&["--header-read-timeout=2s"]).await;
    let (started, mut starts) = tokio::sync::mpsc::channel(50);
    let attackers: Vec<_> = (0..50)
        .map(|_| {
            let started = started.clone();
            tokio::spawn(slowloris(server.addr, started, Duration::from_secs(20)))
        })
        .collect();
    for _ in 0..50 {
        starts.recv().await.unwrap();
    }

    // Every attacker's head is open; another client, on connections of its
    // own, is answered meanwhile.
    let probe = Instant::now();
    for _ in 0..10 {
        assert_eq!(
            status_on_new_connection(server.addr, "/livez")
                .await
                .unwrap(),
            200
        );
    }
    let probe = probe.elapsed();
    let still_held = attackers.iter().filter(|a| !a.is_finished()).count();
    assert_eq!(
        still_held, 50,
        "the probe was served while every slowloris was held"
    );

    let mut held = Vec::new();
    for attacker in attackers {
        held.push(
            attacker
                .await
                .unwrap()
                .expect("a slowloris connection was never closed"),
        );
    }
    held.sort();
    eprintln!(
        "10 probes answered in {probe:?} while 50 slowloris were held; they were closed \
         {:?} (first) to {:?} (last) after their first byte, with a 2 s timeout",
        held[0], held[49]
    );
    assert!(
        held[0] >= Duration::from_millis(1900),
        "closed before the timeout"
    );
    wait_metric(
        &server,
        "obslab_connections_timed_out_total",
        &[("timeout", "header_read")],
        50.0,
    )
    .await;
    wait_metric(&server, "obslab_connections_open", &[], 1.0).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = TestServer::start(&["--idle-timeout=2s"]).await;
    let mut stream = BufReader::new(TcpStream::connect(server.addr).await.unwrap());
    let request = format!("GET /livez HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);

    // Busy: a request every 200 ms for longer than the idle timeout.
    let busy = Instant::now();
    let mut last_answer = busy;
    while busy.elapsed() < Duration::from_secs(3) {
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let (status, _) = read_response(&mut stream).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        last_answer = Instant::now();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Idle: closed after the timeout, not before.
    let idle = closed_by(&server, stream.get_mut(), "idle").await - last_answer;
    assert!(idle >= Duration::from_millis(1900), "closed after {idle:?}");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_idle_not_a_slow_head() {
    let server = TestServer::start(&["--header-read-timeout=1s", "--idle-timeout=3s"]).await;
    let connected = Instant::now();
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let idle = closed_by(&server, &mut stream, "idle").await - connected;
    assert!(idle >= Duration::from_millis(2900), "closed after {idle:?}");
}

#[tokio::test]
async fn a_request_in_flight_outlives_the_idle_timeout() {
    let server = TestServer::start(&[
        "--idle-timeout=1s",
        "--slow-timeout-rate=0",
        "--slow-min=2500ms",
        "--slow-max=2500ms",
    ])
    .await;
    assert_eq!(
        status_on_new_connection(server.addr, "/slow")
            .await
            .unwrap(),
        200
    );
}

#[tokio::test]
async fn a_body_that_stops_coming_is_idle_time() {
    let server =
        TestServer::start(&["--idle-timeout=2s", "--admin-token=drill-token-0123456789"]).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /admin/scenario HTTP/1.1\r\nHost: x\r\n\
                Authorization: Bearer drill-token-0123456789\r\nContent-Length: 1000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"name: slow").await.unwrap();
    let sent = Instant::now();
    let idle = closed_by(&server, &mut stream, "idle").await - sent;
    assert!(idle >= Duration::from_millis(1900), "closed after {idle:?}");
}

#[tokio::test]
async fn a_request_head_over_16_kib_is_answered_431_by_hyper() {
    let server = TestServer::start(&[]).await;
    let ask = |header_bytes: usize| async move {
        let mut stream = BufReader::new(TcpStream::connect(server.addr).await.unwrap());
        let request = format!(
            "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(header_bytes)
        );
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let (status, body) = read_response(&mut stream).await;
        let closed = closed_within(stream.get_mut(), Duration::from_secs(1)).await;
        (status, body, closed.is_some())
    };
    let (status, _, _) = ask(15 * 1024).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "15 KiB of headers are fine");
    let (status, body, closed) = ask(17 * 1024).await;
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(body, "", "hyper's own answer, before any route");
    assert!(closed, "the connection is closed after the 431");
    let (status, _, _) = ask(64 * 1024).await;
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
}

#[tokio::test]
async fn the_connection_limit_refuses_the_one_too_many_and_recovers() {
    let server = TestServer::start(&["--max-connections=4"]).await;
    // The test's own client keeps one connection for its scrapes.
    wait_metric(&server, "obslab_connections_open", &[], 1.0).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    wait_metric(&server, "obslab_connections_open", &[], 4.0).await;

    // The fifth is accepted by the kernel, then closed by the server at once.
    let mut fifth = TcpStream::connect(server.addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let closed = closed_within(&mut fifth, Duration::from_secs(20)).await;
    assert!(
        closed.is_some(),
        "the connection beyond the limit stayed open"
    );
    wait_metric(&server, "obslab_connections_refused_total", &[], 1.0).await;
    let text = server.scrape().await;
    assert_eq!(sum(&text, "obslab_limit_max_connections", &[]), 4.0);

    // Room again once some close.
    drop(held);
    wait_metric(&server, "obslab_connections_open", &[], 1.0).await;
    assert_eq!(
        status_on_new_connection(server.addr, "/livez")
            .await
            .unwrap(),
        200
    );
}

#[tokio::test]
async fn every_limit_is_exported_as_a_gauge() {
    let server = TestServer::start(&[
        "--header-read-timeout=3s",
        "--idle-timeout=1m",
        "--max-header-bytes=32768",
        "--http2-max-concurrent-streams=50",
    ])
    .await;
    let text = server.scrape().await;
    for (name, want) in [
        ("obslab_limit_header_read_timeout_seconds", 3.0),
        ("obslab_limit_idle_timeout_seconds", 60.0),
        ("obslab_limit_max_connections", 16384.0),
        ("obslab_limit_max_header_bytes", 32768.0),
        ("obslab_limit_http2_max_concurrent_streams", 50.0),
        ("obslab_limit_http2_max_pending_reset_streams", 20.0),
        ("obslab_limit_http2_max_local_error_reset_streams", 1024.0),
        ("obslab_connections_refused_total", 0.0),
    ] {
        assert_eq!(sum(&text, name, &[]), want, "{name}");
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "{name} is exported"
        );
    }
}

mod http2 {
    use bytes::Bytes;
    use http::{Request, StatusCode};

    use super::*;

    type SendRequest = h2::client::SendRequest<Bytes>;

    /// An h2c connection with prior knowledge, its driver spawned.
    async fn connect(
        addr: SocketAddr,
    ) -> (SendRequest, tokio::task::JoinHandle<Result<(), h2::Error>>) {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (send, connection) = h2::client::handshake(stream).await.unwrap();
        (send, tokio::spawn(connection))
    }

    fn get(path: &str) -> Request<()> {
        Request::get(format!("http://localhost{path}"))
            .body(())
            .unwrap()
    }

    #[tokio::test]
    async fn h2c_with_prior_knowledge_is_served_and_counted() {
        let server = TestServer::start(&["--http2-max-concurrent-streams=50"]).await;
        let (send, _driver) = connect(server.addr).await;
        let mut send = send.ready().await.unwrap();
        let (response, _) = send.send_request(get("/livez"), true).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), http::Version::HTTP_2);
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.data().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["status"], "alive", "{json}");
        // The server's SETTINGS carry the stream bound.
        assert_eq!(send.current_max_send_streams(), 50);
        let text = server.scrape().await;
        assert_eq!(
            sum(&text, "flask_requests_total", &[("endpoint", "/livez")]),
            1.0
        );
    }

    /// One port, both protocols: an HTTP/1.1 request and h2c streams on
    /// the same listener, each answered in its own version and counted.
    #[tokio::test]
    async fn one_port_serves_http1_and_h2c_side_by_side() {
        let server = TestServer::start(&[]).await;
        let http1 = server
            .client
            .get(server.url("/livez"))
            .send()
            .await
            .unwrap();
        assert_eq!(http1.version(), http::Version::HTTP_11);
        assert_eq!(http1.status(), StatusCode::OK);
        let (send, _driver) = connect(server.addr).await;
        let mut send = send.ready().await.unwrap();
        for _ in 0..3 {
            let (response, _) = send.send_request(get("/livez"), true).unwrap();
            let response = response.await.unwrap();
            assert_eq!(response.version(), http::Version::HTTP_2);
            assert_eq!(response.status(), StatusCode::OK);
        }
        let text = server.scrape().await;
        assert_eq!(
            sum(&text, "flask_requests_total", &[("endpoint", "/livez")]),
            4.0
        );
    }

    #[tokio::test]
    async fn an_h2_header_list_over_the_limit_is_refused() {
        let server = TestServer::start(&[]).await;
        let (send, _driver) = connect(server.addr).await;
        let mut send = send.ready().await.unwrap();
        let big = Request::get("http://localhost/livez")
            .header("x-big", "a".repeat(20 * 1024))
            .body(())
            .unwrap();
        let (response, _) = send.send_request(big, true).unwrap();
        match response.await {
            Ok(response) => {
                assert_eq!(
                    response.status(),
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
                )
            }
            Err(e) => panic!("expected a 431, got {e}"),
        }
        // The connection itself is fine.
        let mut send = send.ready().await.unwrap();
        let (response, _) = send.send_request(get("/livez"), true).unwrap();
        assert_eq!(response.await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn rapid_resets_end_the_connection_with_a_goaway() {
        let server = TestServer::start(&["--http2-max-pending-reset-streams=5"]).await;
        let (mut send, driver) = connect(server.addr).await;
        // Open and cancel streams faster than the server accepts them.
        for _ in 0..200 {
            send = match send.ready().await {
                Ok(send) => send,
                Err(_) => break,
            };
            let Ok((_, mut stream)) = send.send_request(get("/slow"), false) else {
                break;
            };
            stream.send_reset(h2::Reason::CANCEL);
        }
        let ended = tokio::time::timeout(Duration::from_secs(20), driver).await;
        let error = ended
            .expect("the connection was never ended")
            .unwrap()
            .unwrap_err();
        assert_eq!(
            error.reason(),
            Some(h2::Reason::ENHANCE_YOUR_CALM),
            "{error}"
        );
        // The server itself is fine.
        assert_eq!(
            status_on_new_connection(server.addr, "/livez")
                .await
                .unwrap(),
            200
        );
    }
}
