//! The HTTP client of a run, configured to be honest.
//!
//! One request in the report must be one request on the server: redirects
//! are not followed, nothing that reached the target is sent again, and the
//! default timeout is longer than obslab-server's slowest path so a slow
//! answer is not reported as a timeout the server never saw. Every request
//! of the mix is prepared once as a template and cloned per send.
//!
//! Requests go on a [`Connection`]: one keep-alive connection (over
//! HTTP/2, one stream on a [`Shared`] connection), owned by a closed-model
//! worker or lent to one open-model request at a time by its sender thread.
//! There is no shared pool: its checkout and connects under bursts cost
//! more than the exchange and stalled the open model.
//!
//! The HTTP version is the one asked for or negotiated ([`Protocol`]);
//! [`Client::settle`] learns, before the run, whether the target's
//! connections multiplex, which decides how the drivers share them.
//!
//! A connection that has been idle for longer than an idle limit
//! ([`IDLE_LIMIT`] by default) is dropped and a new one opened, so a
//! request never goes out on a connection the target is closing for
//! idleness.
//!
//! Which TLS certificates are trusted (`--ca-cert`, `--insecure`) is
//! `tls.rs`'s (a `--ca-cert` certificate presented as it is, `given.rs`'s);
//! [`Client::check_certificate`] stops a run whose target's
//! certificate never could be.
//!
//! hyper is used directly, not through reqwest: reqwest's layers (redirect
//! policy, retry policy, the URL parsed again twice per request) cost more
//! CPU than the HTTP exchange itself, and on a shared machine a load
//! generator's CPU is taken from the target it measures.

mod answer;
mod connection;
mod connector;
#[cfg(feature = "tls")]
mod given;
mod link;
mod outcome;
mod protocol;
mod template;
mod tls;
mod wait;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use http::Uri;
use http::header::HeaderMap;
use tower_service::Service as _;
use url::Url;

pub use self::connection::{Connection, Shared};
pub use self::outcome::{ErrorKind, Outcome, RequestError};
pub use self::protocol::{MIXED, Protocol, Seen, combine};
pub use self::tls::{CaCert, Trust, parse_ca_cert};
pub use self::wait::wait_for;

use self::connector::Connector;
use self::link::Link;
use self::template::Template;
use crate::mix::Mix;

/// How long a kept-alive connection may stay idle before the next request
/// goes on a new one instead: well under common servers' idle timeouts
/// (obslab-server and nginx close idle connections after 75 s, many load
/// balancers after 60 s), so no request meets a connection the target is
/// closing at that very moment (written just as the close is in flight,
/// such a request fails, and it may not be resent: the target may have
/// seen it).
pub const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// What every connection of a run shares: how to dial the target, one
/// prepared request per mix entry, the limits and the versions seen.
#[derive(Debug, Clone)]
pub struct Client {
    connector: Connector,
    /// Scheme and authority of the target: what a new connection dials.
    dial: Uri,
    templates: Arc<[Template]>,
    timeout: Duration,
    /// A connection idle for longer is not used again.
    idle_limit: Duration,
    /// The HTTP version asked for.
    protocol: Protocol,
    /// Whether the target's connections are HTTP/2 (see [`Client::settle`]).
    multiplex: bool,
    /// The versions the answers came in, per mix entry.
    seen: Seen,
}

impl Client {
    /// Builds the connector and the request templates for `mix` at `target`,
    /// speaking `protocol` and trusting the certificates `trust` says; a
    /// connection idle for longer than `idle_limit` is not used again.
    pub fn new(
        target: &Url,
        mix: &Mix,
        headers: &HeaderMap,
        (timeout, idle_limit): (Duration, Duration),
        protocol: Protocol,
        trust: &Trust,
    ) -> anyhow::Result<Self> {
        let templates = template::templates(target, mix, headers)?;
        let dial = format!("{}://{}", target.scheme(), template::authority(target)?)
            .parse()
            .with_context(|| format!("{target} has no host to connect to"))?;
        let connector = connector::connector(target, trust, protocol)?;
        Ok(Self {
            connector,
            dial,
            templates,
            timeout,
            idle_limit,
            protocol,
            multiplex: protocol == Protocol::Http2,
            seen: Seen::new(mix.entries().len()),
        })
    }

    /// With neither `--http1` nor `--http2`, an `https://` target's
    /// connections speak what ALPN picks: one connection made now (a TLS
    /// handshake, no request) tells whether they multiplex. When it cannot
    /// be made, HTTP/1's way of sharing connections is kept (each one still
    /// speaks what it negotiated) and the run goes on, counting the errors.
    pub async fn settle(&mut self) {
        if self.protocol != Protocol::Auto || self.dial.scheme_str() != Some("https") {
            return;
        }
        let probe = tokio::time::timeout(self.timeout, Link::open(self)).await;
        match probe.unwrap_or(Err(RequestError::Timeout(self.timeout))) {
            Ok(link) => self.multiplex = link.share().is_some(),
            Err(e) => tracing::warn!(
                "cannot learn the target's HTTP version (ALPN), sharing connections as for HTTP/1.1: {}",
                e.chain()
            ),
        }
    }

    /// Whether requests share connections as HTTP/2 streams.
    pub fn multiplexes(&self) -> bool {
        self.multiplex
    }

    /// The versions the answers came in, per mix entry.
    pub fn seen(&self) -> &Seen {
        &self.seen
    }

    /// A keep-alive connection of its own for one closed-model worker,
    /// opened at its first send.
    pub fn connection(&self) -> Connection {
        Connection::new(self.clone(), None)
    }

    /// A stream on `shared`, an HTTP/2 connection opened by the first
    /// request that needs it.
    pub fn stream(&self, shared: &Arc<Shared>) -> Connection {
        Connection::new(self.clone(), Some(shared.clone()))
    }

    /// Opens one connection to the target (TCP, then the TLS handshake for
    /// `https://`) and fails, naming `target`, when its certificate is not
    /// trusted: no request could ever be answered. Anything else (connected,
    /// refused, no answer within the client's timeout, another TLS failure)
    /// is left to the run, which counts it per request. No HTTP request is
    /// sent, so the target's request counters see only the run.
    pub async fn check_certificate(&self, target: &Url) -> anyhow::Result<()> {
        if self.dial.scheme_str() != Some("https") {
            return Ok(());
        }
        let connect = self.connector.clone().call(self.dial.clone());
        let Ok(Err(error)) = tokio::time::timeout(self.timeout, connect).await else {
            return Ok(());
        };
        #[cfg(feature = "tls")]
        if let Some(reason) = tls::untrusted(&*error) {
            let target = target.as_str().trim_end_matches('/');
            anyhow::bail!(
                "{target}: TLS certificate not trusted: {reason} (use --ca-cert FILE or --insecure)"
            );
        }
        tracing::debug!("first connection to {target}: {error}");
        Ok(())
    }
}
