//! One open connection to the target, HTTP/1.1 or HTTP/2, and one request
//! sent on it.
//!
//! The version is the one asked for (`--http1`, `--http2`) or, with neither,
//! the one the TLS handshake negotiated by ALPN (HTTP/1.1 without TLS). An
//! HTTP/1 link carries one request at a time and belongs to one
//! [`super::Connection`]; an HTTP/2 link multiplexes, so it can be
//! [`Link::share`]d: its clones send streams on the same socket, which
//! closes when the last clone is dropped.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::client::legacy::connect::Connection as _;
use hyper_util::rt::TokioExecutor;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tower_service::Service as _;

use super::Client;
use super::outcome::RequestError;
use super::protocol::Protocol;
use super::template::Template;

/// An open connection: the handle requests go through, and the task that
/// drives the socket.
#[derive(Debug)]
pub(super) struct Link {
    sender: Sender,
    /// Stops the socket's task (closing it) when the last clone goes.
    _driver: Arc<Driver>,
    /// When its last answer ended (or it was opened): idle since.
    pub idle_since: Instant,
}

#[derive(Debug)]
enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

#[derive(Debug)]
struct Driver(AbortHandle);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a request got no answer on a link.
pub(super) enum Failed {
    /// HTTP/1: the connection closed before the request was written; the
    /// target never saw it.
    Unsent(RequestError),
    /// HTTP/2: the connection was closed, or the target refused the stream
    /// before processing it; it never acted on it.
    Refused(RequestError),
    /// The target may have seen it: it counts as failed.
    Seen(RequestError),
}

impl Link {
    /// Dials the target and starts HTTP/1.1 or HTTP/2 on this runtime.
    pub(super) async fn open(client: &Client) -> Result<Link, RequestError> {
        let io = client
            .connector
            .clone()
            .call(client.dial.clone())
            .await
            .map_err(RequestError::connect)?;
        let h2 = match client.protocol {
            Protocol::Http2 => true,
            Protocol::Http1 => false,
            Protocol::Auto => io.connected().is_negotiated_h2(),
        };
        let (sender, driver) = if h2 {
            let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(RequestError::connect)?;
            (Sender::Http2(sender), tokio::spawn(drive(connection)))
        } else {
            let (sender, connection) = http1::handshake(io).await.map_err(RequestError::connect)?;
            (Sender::Http1(sender), tokio::spawn(drive(connection)))
        };
        Ok(Link {
            sender,
            _driver: Arc::new(Driver(driver.abort_handle())),
            idle_since: Instant::now(),
        })
    }

    /// Whether a request may go on this link: the target has not closed
    /// it, and it has not been idle past `idle_limit` (the target may be
    /// closing it).
    pub(super) fn usable(&self, idle_limit: Duration) -> bool {
        let closed = match &self.sender {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        };
        !closed && self.idle_since.elapsed() <= idle_limit
    }

    /// Another handle on this HTTP/2 connection; `None` for HTTP/1.
    pub(super) fn share(&self) -> Option<Link> {
        match &self.sender {
            Sender::Http2(s) => Some(Link {
                sender: Sender::Http2(s.clone()),
                _driver: self._driver.clone(),
                idle_since: self.idle_since,
            }),
            Sender::Http1(_) => None,
        }
    }

    /// Sends `template`'s request on this link (origin-form for HTTP/1,
    /// the whole URI for HTTP/2's `:scheme` and `:authority`).
    pub(super) async fn send(&mut self, template: &Template) -> Result<Response<Incoming>, Failed> {
        match &mut self.sender {
            Sender::Http1(sender) => {
                if let Err(e) = sender.ready().await {
                    return Err(Failed::Unsent(RequestError::other(e)));
                }
                let request = template.request();
                sender.try_send_request(request).await.map_err(|mut e| {
                    // Never written: the kept-alive connection closed first.
                    let unsent = e.take_message().is_some();
                    let error = RequestError::other(e.into_error());
                    if unsent {
                        Failed::Unsent(error)
                    } else {
                        Failed::Seen(error)
                    }
                })
            }
            Sender::Http2(sender) => {
                if let Err(e) = sender.ready().await {
                    return Err(Failed::Refused(RequestError::other(e)));
                }
                let request: Request<_> = template.request_h2();
                sender.try_send_request(request).await.map_err(|mut e| {
                    // Given back: the connection closed (after a GOAWAY, say)
                    // before the stream was opened; the target never saw it.
                    let unsent = e.take_message().is_some();
                    let e = e.into_error();
                    if unsent || refused(&e) {
                        Failed::Refused(RequestError::other(e))
                    } else {
                        Failed::Seen(RequestError::other(e))
                    }
                })
            }
        }
    }
}

/// Whether HTTP/2 says the target did not process the stream: reset with
/// `REFUSED_STREAM`, or above the last stream id of a graceful `GOAWAY`
/// (RFC 9113, 8.7). Any other reset may come after the target acted.
fn refused(e: &hyper::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            let reason = h2.reason();
            return h2.is_remote()
                && ((h2.is_reset() && reason == Some(h2::Reason::REFUSED_STREAM))
                    || (h2.is_go_away() && reason == Some(h2::Reason::NO_ERROR)));
        }
        source = cause.source();
    }
    false
}

async fn drive<E: std::fmt::Display>(connection: impl Future<Output = Result<(), E>>) {
    if let Err(e) = connection.await {
        tracing::debug!("connection closed: {e}");
    }
}
