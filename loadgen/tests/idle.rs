//! Idle keep-alive connections: the generator stops using one before the
//! target's idle timeout closes it, so no request meets a closing
//! connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::AsyncWriteExt as _;

use crate::servers::{accept_each, next_head, spawn_server};
use crate::util::run;

/// Against obslab-server closing idle connections after 1 s, requests 2 s
/// apart (longer than its idle timeout) with `--idle-limit 500ms` are all
/// answered: no connection error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_after_the_servers_idle_timeout_meet_no_closing_connection() {
    let server = spawn_server(&["--idle-timeout", "1s"]).await;
    let base = server.base.clone();

    let s = run(&[
        "--target",
        &base,
        "--mix",
        "GET /health=1",
        "--rate",
        "0.5",
        "--requests",
        "3",
        "--threads",
        "1",
        "--idle-limit",
        "500ms",
    ])
    .await;
    assert_eq!((s.requests, s.responses), (3, 3), "errors: {:?}", s.errors);
    assert_eq!(s.errors.connect + s.errors.other + s.errors.timeout, 0);

    server.stop().await;
}

/// A target that keeps connections alive forever sees a new connection
/// for every request that follows a gap longer than `--idle-limit`, and
/// one connection for all when the gaps are shorter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_idle_past_the_limit_is_replaced() {
    let (target, accepted) = keep_alive_target().await;
    let words = |idle_limit: &'static str| {
        let target = target.clone();
        async move {
            let words = ["--target", &target, "--mix", "GET /=1", "--threads", "1"];
            let more = ["--rate", "4", "--requests", "3", "--idle-limit", idle_limit];
            run(&[&words[..], &more[..]].concat()).await
        }
    };
    // Requests 250 ms apart.
    let s = words("100ms").await;
    assert_eq!(s.responses, 3, "errors: {:?}", s.errors);
    assert_eq!(accepted.swap(0, Ordering::SeqCst), 3);
    let s = words("10s").await;
    assert_eq!(s.responses, 3, "errors: {:?}", s.errors);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

/// A bare HTTP/1.1 target answering `200 ok` on connections it never
/// closes; returns its base URL and the number of connections accepted.
async fn keep_alive_target() -> (String, Arc<AtomicU64>) {
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    let addr = accept_each(move |mut stream| {
        count.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut pending = Vec::new();
            while next_head(&mut stream, &mut pending).await.is_some() {
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                if stream.write_all(answer).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (format!("http://{addr}"), accepted)
}
