//! How connections are made: TCP (no Nagle), and TLS over it for
//! `https://`.
//!
//! What the TLS setup trusts is [`super::tls`]'s business. Built without
//! the `tls` feature the connector is plain TCP (the command line refuses
//! `https://` targets then).

use hyper_util::client::legacy::connect::HttpConnector;
use url::Url;

use super::protocol::Protocol;
use super::tls::Trust;

/// What dials the target: TCP, or TLS over TCP.
#[cfg(not(feature = "tls"))]
pub(super) type Connector = HttpConnector;
/// What dials the target: TCP, or TLS over TCP.
#[cfg(feature = "tls")]
pub(super) type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

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
