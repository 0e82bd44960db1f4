//! obslab-serve: serves an HTTP service on a listener with the limits a
//! public demo target needs, for the three obslab binaries alike (the
//! server, the inbox of `obslab`, the load generator's `--metrics-listen`).
//!
//! A load tool or a scanner pointed at the lab must not be able to hold it:
//! a request whose headers take longer than [`Limits::header_read_timeout`]
//! from their first byte loses its connection (slowloris); a connection with
//! nothing in flight for [`Limits::idle_timeout`] is closed; at most
//! [`Limits::max_connections`] are open at once, and one beyond is closed as
//! soon as it is accepted; a request head over [`Limits::max_header_bytes`]
//! is answered 431 by hyper; HTTP/2 (h2c, prior knowledge) bounds its
//! streams, its header lists and the resets a client can provoke. A
//! connection that hyper ends closes the lingering way ([`linger`]): what
//! the client still sends is read and dropped for a moment first, so that a
//! refusal sent before a body was read (413) reaches a client that writes
//! its whole request before reading, instead of a reset.
//!
//! Each connection goes through hyper-util's automatic HTTP/1.1-or-h2
//! builder, the one warp's own `serve` uses, so the same warp filter answers
//! the same way; [`connection`] holds the per-connection bookkeeping behind
//! the two timeouts, which hyper does not offer with these meanings.

pub mod connection;
pub mod linger;
pub mod metrics;

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::connection::{Counted, Deadlines, Watched, WatchedBody};
use crate::linger::Lent;
pub use crate::metrics::ConnectionMetrics;

/// What a client may hold or send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a request's head (request line and headers) may take to
    /// arrive, from its first byte; then the connection is dropped.
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request in flight (and,
    /// in HTTP/1, no byte received or sent), or with the app waiting for
    /// request body bytes that do not come; then it is closed.
    pub idle_timeout: Duration,
    /// Open connections at most; one more is closed as soon as accepted.
    pub max_connections: usize,
    /// Largest request head in bytes: HTTP/1's request line and headers
    /// (hyper answers 431 and closes), HTTP/2's header list (the stream is
    /// refused with 431).
    pub max_header_bytes: usize,
    /// HTTP/2 streams a connection may have open at once
    /// (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2 streams the client may open and reset before they are served
    /// (the "rapid reset" attack); one more and the connection gets a GOAWAY.
    pub http2_max_pending_reset_streams: usize,
    /// HTTP/2 streams the server may have to reset for the client's protocol
    /// errors; one more and the connection gets a GOAWAY.
    pub http2_max_local_error_reset_streams: usize,
}

impl Limits {
    /// The limits of the lab's side doors (the inbox, the load generator's
    /// `--metrics-listen`): the server's timeouts and header bound, and
    /// 1,024 connections, for Alertmanager, Prometheus and a few browsers.
    pub fn companion() -> Limits {
        Limits {
            max_connections: 1024,
            ..Limits::default()
        }
    }

    /// The smallest `max_header_bytes` hyper accepts (its read buffer).
    pub const MIN_HEADER_BYTES: usize = 8192;
    /// The largest `max_header_bytes` (HTTP/2 carries it in a u32; beyond a
    /// megabyte a "header" is an attack).
    pub const MAX_HEADER_BYTES: usize = 1024 * 1024;
}

impl Default for Limits {
    /// The server's defaults: nginx's 75 s keep-alive, 16 KiB of headers,
    /// room for 10,000 pending `/slow` and the scrapes, Go's 250 streams and
    /// the h2 crate's reset bounds.
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            max_connections: 16_384,
            max_header_bytes: 16 * 1024,
            http2_max_concurrent_streams: 250,
            http2_max_pending_reset_streams: 20,
            http2_max_local_error_reset_streams: 1024,
        }
    }
}

/// Serves `service` on `listener` within `limits` until `shutdown`
/// resolves; then closes the listener, asks every connection to finish
/// gracefully (HTTP/1 closes once its request is answered, HTTP/2 sends a
/// GOAWAY) and returns when the last one has (one that lingers after its
/// last answer is not waited for). Bound the wait from outside
/// (the server's `--shutdown-grace`). `metrics`, when given, counts open,
/// refused and timed-out connections.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    limits: Limits,
    metrics: Option<ConnectionMetrics>,
    shutdown: impl Future<Output = ()>,
) where
    S: tower_service::Service<Request<WatchedBody<Incoming>>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let builder = Arc::new(builder(&limits));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let full = AtomicBool::new(false);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to
                    // close rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse(stream, &limits, &full, metrics.as_ref());
            continue;
        };
        // Said once the table has room again (a tenth of it), so that a
        // client hovering at the limit does not flood the log.
        if full.load(Ordering::Relaxed)
            && permits.available_permits() >= limits.max_connections / 10
            && full.swap(false, Ordering::Relaxed)
        {
            tracing::info!("open connections well below the limit again");
        }
        let open = Open::new(permit, metrics.clone());
        let builder = builder.clone();
        let service = service.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let conn = connection::State::new();
            let (stream, returned) = Lent::new(stream);
            let io = TokioIo::new(Watched::new(stream, conn.clone()));
            let service = TowerToHyperService::new(Counted::new(service, conn.clone()));
            let served = watcher.watch(builder.serve_connection(io, service));
            let outcome = Deadlines::new(served, conn, &limits).await;
            let ended = match outcome {
                Ok(Ok(())) => true,
                // A client that hangs up mid-request, or a head hyper
                // refused (431); not the server's fault.
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "connection error");
                    true
                }
                Err(expired) => {
                    tracing::debug!(timeout = expired.as_str(), "connection timed out");
                    if let Some(metrics) = &open.metrics {
                        metrics.timed_out(expired);
                    }
                    false
                }
            };
            // hyper has dropped the socket: it is back. A connection hyper
            // ended lingers, so that its last answer reaches a client still
            // sending; one closed by a deadline closes at once (lingering
            // would give a slow client more of the time it was refused).
            if ended && let Ok(mut stream) = returned.await {
                linger::linger(&mut stream).await;
            }
            drop(open);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The connection builder: HTTP/1.1, or HTTP/2 when the client opens with
/// its preface (h2c prior knowledge), both within `limits`.
fn builder(limits: &Limits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        // hyper's own header timeout also runs while a keep-alive
        // connection waits for its next request, which would make it an
        // idle timeout too; `connection::Deadlines` keeps the two apart.
        .header_read_timeout(None)
        // A head that does not fit in the read buffer is answered 431.
        .max_buf_size(limits.max_header_bytes.max(Limits::MIN_HEADER_BYTES));
    builder
        .http2()
        .max_concurrent_streams(limits.http2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_pending_accept_reset_streams(limits.http2_max_pending_reset_streams)
        .max_local_error_reset_streams(limits.http2_max_local_error_reset_streams);
    builder
}

/// Closes a connection beyond `--max-connections` at once. The log says when
/// the limit is first reached, not once per refusal (a flood would flood it).
fn refuse(
    stream: TcpStream,
    limits: &Limits,
    full: &AtomicBool,
    metrics: Option<&ConnectionMetrics>,
) {
    drop(stream);
    if let Some(metrics) = metrics {
        metrics.refused();
    }
    if !full.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            max_connections = limits.max_connections,
            "connection limit reached: new connections are closed at once until some end"
        );
    }
}

/// Errors of one connection that `accept` reports; the listener is fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// An open connection: its permit and its place in the gauge, both given
/// back when the connection's task ends, however it ends.
struct Open {
    _permit: OwnedSemaphorePermit,
    metrics: Option<ConnectionMetrics>,
}

impl Open {
    fn new(permit: OwnedSemaphorePermit, metrics: Option<ConnectionMetrics>) -> Open {
        if let Some(metrics) = &metrics {
            metrics.opened();
        }
        Open {
            _permit: permit,
            metrics,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(metrics) = &self.metrics {
            metrics.closed();
        }
    }
}
