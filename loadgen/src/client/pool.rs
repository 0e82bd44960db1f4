//! How connections are made: TCP (no Nagle), TLS for `https://`, and
//! hyper's pool over them for the open model.
//!
//! What the TLS setup trusts is [`super::tls`]'s business. Built without
//! the `tls` feature the connector is plain TCP (the command line refuses
//! `https://` targets then).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use url::Url;

use super::protocol::Protocol;
use super::tls::Trust;

/// What dials the target: TCP, or TLS over TCP.
#[cfg(not(feature = "tls"))]
pub(super) type Connector = HttpConnector;
/// What dials the target: TCP, or TLS over TCP.
#[cfg(feature = "tls")]
pub(super) type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// hyper's pooled HTTP/1 client.
pub(super) type Pooled = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

/// A pool over `connector`, which never resends a request the target may
/// have seen and drops a connection idle for longer than `idle_limit`
/// (hyper's default, 90 s, is past most servers' idle timeouts).
pub(super) fn pooled(connector: Connector, idle_limit: Duration, protocol: Protocol) -> Pooled {
    // A request the pool hands to a kept-alive connection the target has
    // just closed is sent again on a new one only when it was never
    // written (hyper's "canceled"), so the target still sees it once.
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(idle_limit)
        .http2_only(protocol == Protocol::Http2)
        .build(connector)
}

fn tcp() -> HttpConnector {
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(!cfg!(feature = "tls"));
    tcp
}

/// Plain HTTP only (`parse_target` refuses `https://` in this build).
#[cfg(not(feature = "tls"))]
#[expect(clippy::unnecessary_wraps, reason = "the TLS build can fail")]
pub(super) fn connector(
    _target: &Url,
    _trust: &Trust,
    _protocol: Protocol,
) -> anyhow::Result<Connector> {
    Ok(tcp())
}

/// TLS through rustls with the *ring* provider, trusting what `trust`
/// says (see [`super::tls`]); ALPN offers the versions `protocol` allows
/// (h2 and http/1.1 unless one is forced).
#[cfg(feature = "tls")]
pub(super) fn connector(
    target: &Url,
    trust: &Trust,
    protocol: Protocol,
) -> anyhow::Result<Connector> {
    let config = super::tls::client_config(target, trust)?;
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http();
    Ok(match protocol {
        Protocol::Auto => builder.enable_all_versions().wrap_connector(tcp()),
        Protocol::Http1 => builder.enable_http1().wrap_connector(tcp()),
        Protocol::Http2 => builder.enable_http2().wrap_connector(tcp()),
    })
}
