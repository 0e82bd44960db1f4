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
use h2::server::SendResponse;
use http::Response;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::servers::{accept_each, counting_target};
use crate::util::run;

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

/// Serves one h2c connection with the bare `h2` server, handing every
/// stream's responder to `answer`.
async fn serve_h2(stream: TcpStream, answer: impl Fn(SendResponse<Bytes>)) {
    let Ok(mut connection) = h2::server::handshake(stream).await else {
        return;
    };
    while let Some(Ok((_request, respond))) = connection.accept().await {
        answer(respond);
    }
}

/// A bare h2c server that resets the first `resets` streams it receives
/// (of any connection) with `reason` and answers `200` to the others.
async fn resetting_target(resets: u64, reason: h2::Reason) -> (String, Arc<Streams>) {
    let streams = Arc::new(Streams::default());
    let seen = streams.clone();
    let addr = accept_each(move |stream| {
        let seen = seen.clone();
        serve_h2(stream, move |mut respond| {
            if seen.streams.fetch_add(1, SeqCst) < resets {
                seen.reset.fetch_add(1, SeqCst);
                respond.send_reset(reason);
            } else {
                seen.answered.fetch_add(1, SeqCst);
                let _ = respond.send_response(Response::new(()), true);
            }
        })
    })
    .await;
    (format!("http://{addr}"), streams)
}

/// `requests` requests over h2c from one worker, one stream at a time.
async fn one_stream_at_a_time(url: &str, requests: u64) -> obslab_loadgen::Summary {
    let requests = requests.to_string();
    let words = ["--target", url, "--mix", "GET /=1", "--http2"];
    run(&[&words[..], &["--concurrency", "1", "--requests", &requests]].concat()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_stream_is_sent_again() {
    let (url, streams) = resetting_target(3, h2::Reason::REFUSED_STREAM).await;
    let s = one_stream_at_a_time(&url, 10).await;
    // Refused before processing: sent again, and answered.
    assert_eq!(streams.reset.load(SeqCst), 3);
    assert_eq!(streams.answered.load(SeqCst), 10);
    assert_eq!((s.requests, s.responses, s.errors.total()), (10, 10, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_other_reset_counts_as_other_and_is_not_sent_again() {
    let (url, streams) = resetting_target(4, h2::Reason::INTERNAL_ERROR).await;
    let s = one_stream_at_a_time(&url, 10).await;
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
    let answered = Arc::new(AtomicU64::new(0));
    let seen = answered.clone();
    let mut first = true;
    let addr = accept_each(move |stream| {
        let seen = seen.clone();
        let go_away = std::mem::take(&mut first);
        async move {
            if go_away {
                return go_away_before_any_stream(stream).await;
            }
            serve_h2(stream, move |mut respond| {
                seen.fetch_add(1, SeqCst);
                let _ = respond.send_response(Response::new(()), true);
            })
            .await;
        }
    })
    .await;
    let url = format!("http://{addr}");
    let s = one_stream_at_a_time(&url, 3).await;
    assert_eq!(
        (s.requests, s.responses, s.errors.total()),
        (3, 3, 0),
        "{:?}",
        s.errors
    );
    assert_eq!(answered.load(SeqCst), 3);
}
