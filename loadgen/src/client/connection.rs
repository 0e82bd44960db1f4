//! A connection a request goes on: a closed-model worker's own, or one an
//! open-model sender lends to one request at a time.
//!
//! Over HTTP/1, as in wrk and oha, each [`Connection`] owns one keep-alive
//! connection, so a worker never waits on a pool's lock or hash lookup.
//! Over HTTP/2 several `Connection`s share one [`Shared`] connection, one
//! stream each. A connection is opened at the first send and again
//! whenever the target closes it; a request the target never saw (the
//! kept-alive connection closed before it was written, or HTTP/2 refused
//! its stream) is sent anew, one the target may have seen never is. An
//! HTTP/1 connection idle for longer than the client's idle limit is closed
//! and a new one opened before the next request, which so never meets a
//! target closing it for idleness (HTTP/2 says so with a `GOAWAY`, and the
//! streams it did not take are sent again).

use std::sync::Arc;

use http::Response;
use hyper::body::Incoming;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::Client;
use super::answer::answer;
use super::link::{Failed, Link};
use super::outcome::{Outcome, RequestError};

/// Refused HTTP/2 streams one request may meet before it counts as
/// failed (a target that refuses everything is not retried forever).
const REFUSALS: u32 = 8;

/// Where a request goes: an HTTP/1 connection of its own, or a stream on
/// a [`Shared`] HTTP/2 connection; opened at the first send and again
/// whenever the target closes it.
#[derive(Debug)]
pub struct Connection {
    client: Client,
    link: Option<Link>,
    shared: Option<Arc<Shared>>,
}

/// An HTTP/2 connection several [`Connection`]s send their streams on,
/// opened by the first that needs it and again once the target closed it.
#[derive(Debug, Default)]
pub struct Shared(Mutex<Option<Link>>);

impl Shared {
    /// A handle on the open connection, or on a new one.
    async fn link(&self, client: &Client) -> Result<Link, RequestError> {
        let mut slot = self.0.lock().await;
        if let Some(link) = slot.as_ref().filter(|l| l.usable(std::time::Duration::MAX)) {
            return Ok(link.share().expect("only HTTP/2 links are shared"));
        }
        let link = Link::open(client).await?;
        // A target that answered ALPN with HTTP/1.1 after all: not shared.
        *slot = link.share();
        Ok(link)
    }
}

impl Connection {
    /// A connection for `client`'s target, opened at the first send; with
    /// `shared`, on that HTTP/2 connection.
    pub(super) fn new(client: Client, shared: Option<Arc<Shared>>) -> Self {
        Self {
            client,
            link: None,
            shared,
        }
    }

    /// Sends mix entry `idx` once on this connection and reads the whole
    /// answer.
    pub async fn send(&mut self, idx: usize) -> Outcome {
        let exchange = exchange(&self.client, &mut self.link, self.shared.as_deref(), idx);
        let answer = answer(self.client.timeout, exchange).await;
        if !answer.connection_reusable {
            // A timed-out or broken exchange may still hold the connection
            // (HTTP/1 sends the next request only after this answer): the
            // next request goes on a new one (an HTTP/2 stream, on the
            // shared connection).
            self.link = None;
        } else if let Some(link) = &mut self.link {
            link.idle_since = Instant::now();
        }
        answer.outcome
    }
}

/// Sends entry `idx` on `slot`'s connection, opening one first (or taking
/// `shared`'s) when there is none, the target closed it or it was idle
/// past the client's limit.
async fn exchange(
    client: &Client,
    slot: &mut Option<Link>,
    shared: Option<&Shared>,
    idx: usize,
) -> Result<Response<Incoming>, RequestError> {
    let template = &client.templates[idx];
    let mut refusals = 0;
    loop {
        let reused = slot.as_ref().is_some_and(|l| l.usable(client.idle_limit));
        let link = match slot {
            Some(link) if reused => link,
            // Boxed: opening (a connect, a TLS and an HTTP/2 handshake) is
            // rare, and its futures are large; inline, they made this
            // future kilobytes long, copied on every request.
            _ => slot.insert(match shared {
                Some(shared) => Box::pin(shared.link(client)).await?,
                None => Box::pin(Link::open(client)).await?,
            }),
        };
        match link.send(template).await {
            Ok(response) => {
                client.seen.mark(idx, response.version());
                return Ok(response);
            }
            Err(failed) => {
                *slot = None;
                match failed {
                    // Closed by the target while idle: nothing was sent.
                    Failed::Unsent(e) if reused => tracing::debug!("{}", e.chain()),
                    Failed::Refused(e) if refusals < REFUSALS => {
                        refusals += 1;
                        tracing::debug!("stream refused, sent again: {}", e.chain());
                    }
                    Failed::Unsent(e) | Failed::Refused(e) | Failed::Seen(e) => return Err(e),
                }
            }
        }
    }
}
