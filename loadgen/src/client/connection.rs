//! A closed-model worker's own keep-alive connection.
//!
//! As in wrk and oha, each worker owns one HTTP/1 connection, so a worker
//! never waits on a pool's lock or hash lookup. The connection is opened at
//! the first send and again whenever the target closes it; a request that
//! was never written (the kept-alive connection closed first) is sent anew,
//! one the target may have seen never is. A connection idle for longer than
//! the client's idle limit is closed and a new one opened before the next
//! request, which so never meets a target closing it for idleness.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tower_service::Service as _;

use super::Client;
use super::answer::answer;
use super::outcome::{Outcome, RequestError};

/// One closed-model worker's own HTTP/1 connection: opened at the first
/// send and again whenever the target closes it.
#[derive(Debug)]
pub struct Connection {
    client: Client,
    link: Option<Link>,
}

/// An open connection: the handle requests go through, and the task that
/// drives the socket, stopped (closing the socket) when the link is dropped.
#[derive(Debug)]
struct Link {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: AbortHandle,
    /// When its last answer ended (or it was opened): idle since.
    idle_since: Instant,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Link {
    /// Dials the target and starts an HTTP/1 connection on this runtime.
    async fn open(client: &Client) -> Result<Link, RequestError> {
        let io = client
            .connector
            .clone()
            .call(client.dial.clone())
            .await
            .map_err(RequestError::connect)?;
        let (sender, connection) = http1::handshake(io).await.map_err(RequestError::connect)?;
        let driver = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection closed: {e}");
            }
        })
        .abort_handle();
        Ok(Link {
            sender,
            driver,
            idle_since: Instant::now(),
        })
    }

    /// Whether a request may go on this connection: the target has not
    /// closed it, and it has not been idle past `idle_limit` (the target
    /// may be closing it).
    fn usable(&self, idle_limit: Duration) -> bool {
        !self.sender.is_closed() && self.idle_since.elapsed() <= idle_limit
    }
}

impl Connection {
    /// A connection for `client`'s target, opened at the first send.
    pub(super) fn new(client: Client) -> Self {
        Self { client, link: None }
    }

    /// Sends mix entry `idx` once on this connection and reads the whole
    /// answer.
    pub async fn send(&mut self, idx: usize) -> Outcome {
        let template = &self.client.templates[idx];
        let request = template.request(&template.origin);
        let exchange = exchange(&self.client, &mut self.link, request);
        let answer = answer(self.client.timeout, exchange).await;
        if !answer.connection_reusable {
            // A timed-out or broken exchange may still hold the connection
            // (HTTP/1 sends the next request only after this answer): the
            // next request goes on a new one.
            self.link = None;
        } else if let Some(link) = &mut self.link {
            link.idle_since = Instant::now();
        }
        answer.outcome
    }
}

/// Sends `request` on `slot`'s connection, opening one first when there is
/// none, the target closed it or it was idle past the client's limit.
async fn exchange(
    client: &Client,
    slot: &mut Option<Link>,
    mut request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, RequestError> {
    loop {
        let reused = slot.as_ref().is_some_and(|l| l.usable(client.idle_limit));
        let sender = match slot {
            Some(link) if reused => &mut link.sender,
            _ => &mut slot.insert(Link::open(client).await?).sender,
        };
        if let Err(e) = sender.ready().await {
            *slot = None;
            if reused {
                // Closed by the target while idle: nothing was sent.
                tracing::debug!("idle connection closed: {e}");
                continue;
            }
            return Err(RequestError::other(e));
        }
        match sender.try_send_request(request).await {
            Ok(response) => return Ok(response),
            Err(mut e) => {
                *slot = None;
                match e.take_message() {
                    // Never written (the kept-alive connection closed first):
                    // the target did not see it; send it anew.
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(RequestError::other(e.into_error())),
                }
            }
        }
    }
}
