//! HTTP/2: which version each request went in, how many connections the
//! streams shared, and what a reset or a `GOAWAY` does to a stream.
//!
//! The targets are hyper's own server (HTTP/1.1 and h2c on one port, as
//! obslab-server), counting requests per version and connections, bare
//! `h2` servers that reset streams with a chosen reason, and a few bytes of
//! hand-written HTTP/2 that answer a stream with a `GOAWAY` below it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use bytes::Bytes;
use http::{Response, Version};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::util::run;

/// What the counting target saw.
#[derive(Default)]
struct Counts {
    http1: AtomicU64,
    http2: AtomicU64,
    connections: AtomicU64,
}

/// hyper's server on 127.0.0.1:0, HTTP/1.1 or h2c by what the client
/// sends first, answering `ok` and counting requests by version.
async fn counting_target() -> (String, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(Counts::default());
    let seen = counts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.connections.fetch_add(1, SeqCst);
            let seen = seen.clone();
            let service = service_fn(move |request: http::Request<_>| {
                let counter = match request.version() {
                    Version::HTTP_2 => &seen.http2,
                    _ => &seen.http1,
                };
                counter.fetch_add(1, SeqCst);
                async { Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from("ok")))) }
            });
            tokio::spawn(async move {
                let builder = Builder::new(TokioExecutor::new());
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_workers_share_connections_one_stream_each() {
    let (url, counts) = counting_target().await;
    let s = run(&[
        "--target",
        &url,
        "--mix",
        "GET /=1",
        "--http2",
        "--concurrency",
        "8",
        "--connections",
        "2",
        "--threads",
        "2",
        "--requests",
        "400",
    ])
    .await;
    assert_eq!((s.requests, s.responses), (400, 400), "{:?}", s.errors);
    assert_eq!(counts.http2.load(SeqCst), 400);
    assert_eq!(counts.http1.load(SeqCst), 0);
    // Eight workers, two connections (one per thread), none reopened.
    assert_eq!(counts.connections.load(SeqCst), 2);
    assert_eq!(s.protocol.as_deref(), Some("HTTP/2"));
    assert_eq!(s.endpoints[0].protocol.as_deref(), Some("HTTP/2"));
    let mut text = Vec::new();
    obslab_loadgen::report::text(&s, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("protocol      HTTP/2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_multiplexes_requests_over_few_connections() {
    let (url, counts) = counting_target().await;
    let s = run(&[
        "--target",
        &url,
        "--mix",
        "GET /=1",
        "--http2",
        "--rate",
        "1000",
        "--requests",
        "300",
        "--threads",
        "2",
    ])
    .await;
    assert_eq!((s.requests, s.responses), (300, 300), "{:?}", s.errors);
    assert_eq!(counts.http2.load(SeqCst), 300);
    assert_eq!(counts.http1.load(SeqCst), 0);
    // At most one connection per 100 streams in flight per sender
    // (`--max-in-flight` 1000 over two senders), never one per request.
    let opened = counts.connections.load(SeqCst);
    assert!((1..=20).contains(&opened), "{opened} connections");
    assert_eq!(s.protocol.as_deref(), Some("HTTP/2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_stays_on_http1_and_is_the_default_without_tls() {
    let (url, counts) = counting_target().await;
    let s = run(&[
        "--target",
        &url,
        "--mix",
        "GET /=1",
        "--concurrency",
        "4",
        "--requests",
        "100",
    ])
    .await;
    let forced = run(&[
        "--target",
        &url,
        "--mix",
        "GET /=1",
        "--http1",
        "--rate",
        "500",
        "--requests",
        "100",
    ])
    .await;
    assert_eq!((s.responses, forced.responses), (100, 100));
    assert_eq!(counts.http1.load(SeqCst), 200);
    assert_eq!(counts.http2.load(SeqCst), 0);
    assert_eq!(s.protocol.as_deref(), Some("HTTP/1.1"));
    assert_eq!(forced.protocol.as_deref(), Some("HTTP/1.1"));
}

/// What a resetting target saw.
#[derive(Default)]
struct Streams {
    streams: AtomicU64,
    reset: AtomicU64,
    answered: AtomicU64,
}

/// A bare h2c server that resets the first `resets` streams it receives
/// (of any connection) with `reason` and answers `200` to the others.
async fn resetting_target(resets: u64, reason: h2::Reason) -> (String, Arc<Streams>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let streams = Arc::new(Streams::default());
    let seen = streams.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(stream).await else {
                    return;
                };
                while let Some(Ok((_request, mut respond))) = connection.accept().await {
                    if seen.streams.fetch_add(1, SeqCst) < resets {
                        seen.reset.fetch_add(1, SeqCst);
                        respond.send_reset(reason);
                    } else {
                        seen.answered.fetch_add(1, SeqCst);
                        let _ = respond.send_response(Response::new(()), true);
                    }
                }
            });
        }
    });
    (url, streams)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_stream_is_sent_again() {
    let (url, streams) = resetting_target(3, h2::Reason::REFUSED_STREAM).await;
    let s = run(&[
        "--target",
        &url,
        "--mix",
        "GET /=1",
        "--http2",
        "--concurrency",
        "1",
        "--requests",
        "10",
    ])
    .await;
    // Refused before processing: sent again, and answered.
    assert_eq!(streams.reset.load(SeqCst), 3);
    assert_eq!(streams.answered.load(SeqCst), 10);
    assert_eq!((s.requests, s.responses, s.errors.total()), (10, 10, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_other_reset_counts_as_other_and_is_not_sent_again() {
    let (url, streams) = resetting_target(4, h2::Reason::INTERNAL_ERROR).await;
    let s = run(&[
        "--target",
        &url,
        "--mix",
        "GET /=1",
        "--http2",
        "--concurrency",
        "1",
        "--requests",
        "10",
    ])
    .await;
    assert_eq!(streams.reset.load(SeqCst), 4);
    assert_eq!(streams.answered.load(SeqCst), 6);
    assert_eq!((s.requests, s.responses, s.errors.other), (10, 6, 4));
    assert_eq!(s.errors.total(), 4);
}

/// Reads the client's preface and frames until its first HEADERS, then
/// answers with SETTINGS and `GOAWAY(last_stream_id = 0, NO_ERROR)`: the
/// stream is above the last id, so the server did not process it.
async fn go_away_before_any_stream(mut stream: TcpStream) {
    let mut preface = [0u8; 24];
    if stream.read_exact(&mut preface).await.is_err() {
        return;
    }
    loop {
        let mut head = [0u8; 9];
        if stream.read_exact(&mut head).await.is_err() {
            return;
        }
        let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; length];
        if stream.read_exact(&mut payload).await.is_err() {
            return;
        }
        if head[3] == 0x1 {
            break; // HEADERS
        }
    }
    let settings = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
    let go_away = [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let _ = stream
        .write_all(&[&settings[..], &go_away[..]].concat())
        .await;
    let _ = stream.shutdown().await;
    // Read until the client closes, so no unread byte turns the close into
    // a reset that could overtake the GOAWAY.
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
}

/// The first connection refuses its stream with a GOAWAY; the others are
/// served by `h2` and answer 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_above_a_goaways_last_id_is_sent_again() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicU64::new(0));
    let seen = answered.clone();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((stream, _)) = listener.accept().await {
            if std::mem::take(&mut first) {
                tokio::spawn(go_away_before_any_stream(stream));
                continue;
            }
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(stream).await else {
                    return;
                };
                while let Some(Ok((_request, mut respond))) = connection.accept().await {
                    seen.fetch_add(1, SeqCst);
                    let _ = respond.send_response(Response::new(()), true);
                }
            });
        }
    });
    let s = run(&[
        "--target",
        &url,
        "--mix",
        "GET /=1",
        "--http2",
        "--concurrency",
        "1",
        "--requests",
        "3",
    ])
    .await;
    assert_eq!(
        (s.requests, s.responses, s.errors.total()),
        (3, 3, 0),
        "{:?}",
        s.errors
    );
    assert_eq!(answered.load(SeqCst), 3);
}
