//! How connections are made: TCP (no Nagle), TLS for `https://`, and
//! hyper's pool over them for the open model.
//!
//! The TLS setup reads the system's CA certificates only for an `https://`
//! target, so a plain-HTTP run works on a machine or an image without any.
//! Built without the `tls` feature the connector is plain TCP (the command
//! line refuses `https://` targets then).

#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use url::Url;

use super::protocol::Protocol;

#[cfg(feature = "tls")]
use anyhow::Context as _;

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
pub(super) fn connector(_target: &Url, _protocol: Protocol) -> anyhow::Result<Connector> {
    Ok(tcp())
}

/// TLS through rustls with the *ring* provider, checking certificates
/// against the system's store (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), which
/// is read only for an `https://` target: a plain-HTTP run works on a
/// machine or an image without CA certificates. ALPN offers the versions
/// `protocol` allows (h2 and http/1.1 unless one is forced).
#[cfg(feature = "tls")]
pub(super) fn connector(target: &Url, protocol: Protocol) -> anyhow::Result<Connector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = if target.scheme() == "https" {
        builder
            .with_provider_and_platform_verifier(provider)
            .with_context(|| {
                format!("--target {target}: cannot load the system's CA certificates")
            })?
    } else {
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS")?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        builder.with_tls_config(config)
    };
    let builder = builder.https_or_http();
    Ok(match protocol {
        Protocol::Auto => builder.enable_all_versions().wrap_connector(tcp()),
        Protocol::Http1 => builder.enable_http1().wrap_connector(tcp()),
        Protocol::Http2 => builder.enable_http2().wrap_connector(tcp()),
    })
}
