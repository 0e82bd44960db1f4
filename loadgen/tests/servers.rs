//! The servers the tests run against, besides the warp apps of `util`:
//! obslab-server in this process, and hyper's server counting requests by
//! HTTP version, in clear (HTTP/1.1 and h2c on one port) or behind TLS.
//! Each listens on 127.0.0.1:0; [`accept_each`] is the accept loop of every
//! hand-made target, [`next_head`] the reader of the bare HTTP/1.1 ones.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use bytes::Bytes;
use http::{Response, Version};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Listens on 127.0.0.1:0 and serves every connection accepted with
/// `serve`, each on a task of its own; returns the bound address.
pub async fn accept_each<F, Fut>(mut serve: F) -> SocketAddr
where
    F: FnMut(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

/// obslab-server running in this process.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Begins its shutdown, as SIGTERM would, and waits until it has
    /// stopped; panics if it had stopped already or its run failed.
    pub async fn stop(self) {
        self.stop.send(()).expect("the server still runs");
        self.task
            .await
            .expect("the server's task")
            .expect("the server stops cleanly");
    }
}

/// Starts obslab-server with `options` (its `--listen` is not used).
pub async fn spawn_server(options: &[&str]) -> Server {
    let args = std::iter::once("obslab-server").chain(options.iter().copied());
    let config = obslab_server::Config::try_parse_from(args).expect("server options");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(obslab_server::run(config, listener, async move {
        let _ = stopped.await;
    }));
    Server { base, stop, task }
}

/// obslab-server with seed 7 and a short `/slow`: it answers within 20 ms,
/// or times out after 50 ms, to keep the runs of the default mix short.
pub async fn short_slow_server() -> Server {
    let options = ["--seed", "7", "--slow-min", "5ms", "--slow-max", "20ms"];
    spawn_server(&[&options[..], &["--slow-timeout", "50ms"]].concat()).await
}

/// What a counting target saw.
#[derive(Default)]
pub struct Counts {
    /// Requests over HTTP/1.x.
    pub http1: AtomicU64,
    /// Requests over HTTP/2.
    pub http2: AtomicU64,
    /// Connections served (for TLS: handshakes completed).
    pub connections: AtomicU64,
}

/// Serves one connection with hyper, HTTP/1.1 or HTTP/2 by what the client
/// sends first, answering `ok` to every request and counting it by version.
pub async fn serve_counting<I>(io: I, counts: Arc<Counts>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    counts.connections.fetch_add(1, SeqCst);
    let service = service_fn(move |request: http::Request<_>| {
        let counter = match request.version() {
            Version::HTTP_2 => &counts.http2,
            _ => &counts.http1,
        };
        counter.fetch_add(1, SeqCst);
        async { Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from("ok")))) }
    });
    let builder = Builder::new(TokioExecutor::new());
    let _ = builder.serve_connection(TokioIo::new(io), service).await;
}

/// hyper's server in clear (HTTP/1.1 and h2c on one port, as
/// obslab-server), counting requests by version; its URL and counts.
pub async fn counting_target() -> (String, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let seen = counts.clone();
    let addr = accept_each(move |stream| serve_counting(stream, seen.clone())).await;
    (format!("http://{addr}"), counts)
}

/// Reads from `stream` until `pending` holds a whole request head (up to
/// its blank line), then takes that head out of `pending` and returns it;
/// `None` once the client closes or the read fails. What follows the head
/// (a pipelined request) stays in `pending` for the next call.
pub async fn next_head(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(pending.drain(..end + 4).collect());
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}
