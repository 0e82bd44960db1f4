//! The HTTP client of a run, configured to be honest, and the connections
//! of the closed model.
//!
//! One request in the report must be one request on the server: redirects
//! are not followed, nothing that reached the target is sent again, and the
//! default timeout is longer than obslab-server's slowest path so a slow
//! answer is not reported as a timeout the server never saw. Every request
//! of the mix is prepared once as a template (method, URI, headers with
//! `Host` and `User-Agent`, body) and cloned per send.
//!
//! Two ways to send share those templates and that accounting:
//! [`Client::send`] goes through hyper's connection pool, for the open
//! model, whose requests in flight come and go; a [`Connection`] is one
//! worker's own keep-alive connection, for the closed model, as in wrk and
//! oha: a worker never waits on a pool's lock or hash lookup.
//!
//! hyper is used directly, not through reqwest: reqwest's layers (redirect
//! policy, retry policy, the URL parsed again twice per request) cost more
//! CPU than the HTTP exchange itself, and on a shared machine a load
//! generator's CPU is taken from the target it measures.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST, HeaderMap, HeaderValue, USER_AGENT};
use http::{Method, Request, Response, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::net::TcpStream;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tower_service::Service as _;
use url::Url;

use crate::mix::{Mix, MixEntry};

/// Pause between two connection attempts of `--wait-for-target`.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// The three kinds of transport failure the report counts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No response status before `--timeout` (a body cut short after the
    /// status still counts as answered: the server counted the request).
    Timeout,
    /// The TCP (or TLS) connection could not be made.
    Connect,
    /// Anything else (connection reset mid-request, protocol error...).
    Other,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 3] = [ErrorKind::Timeout, ErrorKind::Connect, ErrorKind::Other];

    /// Position in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Label value and JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Other => "other",
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request that got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// See [`ErrorKind::Timeout`].
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// See [`ErrorKind::Connect`].
    #[error("could not connect")]
    Connect(#[source] BoxError),
    /// See [`ErrorKind::Other`].
    #[error("request failed")]
    Other(#[source] BoxError),
}

impl From<hyper_util::client::legacy::Error> for RequestError {
    fn from(e: hyper_util::client::legacy::Error) -> Self {
        if e.is_connect() {
            RequestError::Connect(e.into())
        } else {
            RequestError::Other(e.into())
        }
    }
}

impl RequestError {
    fn connect(e: impl Into<BoxError>) -> Self {
        RequestError::Connect(e.into())
    }

    /// The counter this failure goes to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RequestError::Timeout(_) => ErrorKind::Timeout,
            RequestError::Connect(_) => ErrorKind::Connect,
            RequestError::Other(_) => ErrorKind::Other,
        }
    }

    /// The message with its whole cause chain, for the log.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(e) = source {
            out.push_str(": ");
            out.push_str(&e.to_string());
            source = e.source();
        }
        out
    }
}

/// What happened to one request: an HTTP status, or a transport error.
pub type Outcome = Result<u16, RequestError>;

/// One mix entry, ready to send: parsed and validated once; a send clones
/// reference-counted parts and the header map.
#[derive(Debug)]
struct Template {
    method: Method,
    /// Absolute, for the pool (which picks a connection by it).
    uri: Uri,
    /// Path and query only, as written on the wire.
    origin: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Template {
    fn request(&self, uri: &Uri) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// hyper's pooled HTTP/1 client.
type Pooled = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

/// The shared client plus one prepared request per mix entry.
#[derive(Debug, Clone)]
pub struct Client {
    pool: Pooled,
    connector: Connector,
    /// Scheme and authority of the target: what a new connection dials.
    dial: Uri,
    templates: Arc<[Template]>,
    timeout: Duration,
}

impl Client {
    /// Builds the client and the request templates for `mix` at `target`.
    pub fn new(
        target: &Url,
        mix: &Mix,
        headers: &HeaderMap,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let templates = templates(target, mix, headers)?;
        let dial = format!("{}://{}", target.scheme(), authority(target)?)
            .parse()
            .with_context(|| format!("{target} has no host to connect to"))?;
        let connector = connector(target)?;
        Ok(Self {
            pool: pooled(connector.clone()),
            connector,
            dial,
            templates,
            timeout,
        })
    }

    /// A keep-alive connection of its own for one closed-model worker,
    /// opened at its first send.
    pub fn connection(&self) -> Connection {
        Connection {
            client: self.clone(),
            link: None,
        }
    }

    /// Sends mix entry `idx` once through the pool and reads the whole
    /// answer.
    pub async fn send(&self, idx: usize) -> Outcome {
        let template = &self.templates[idx];
        let request = template.request(&template.uri);
        // The pool itself drops a connection left mid-answer.
        let exchange = async { Ok(self.pool.request(request).await?) };
        answer(self.timeout, exchange).await.0
    }

    /// Dials the target and starts an HTTP/1 connection on this runtime.
    async fn open(&self) -> Result<Link, RequestError> {
        let io = self
            .connector
            .clone()
            .call(self.dial.clone())
            .await
            .map_err(RequestError::connect)?;
        let (sender, connection) = http1::handshake(io).await.map_err(RequestError::connect)?;
        let driver = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection closed: {e}");
            }
        })
        .abort_handle();
        Ok(Link { sender, driver })
    }

    /// Waits until `url`'s host accepts TCP connections, for at most
    /// `within`. No HTTP request is sent, so the target's own request
    /// counters see only the run itself.
    pub async fn wait_for(url: &Url, within: Duration) -> anyhow::Result<()> {
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let port = url.port_or_known_default().unwrap_or(80);
        let deadline = Instant::now() + within;
        loop {
            let attempt = TcpStream::connect((host, port));
            let error = match tokio::time::timeout_at(deadline, attempt).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer yet".to_owned(),
            };
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "--wait-for-target: {url} did not answer within {}: {error}",
                    humantime::format_duration(within)
                );
            }
            tracing::info!("waiting for {url}: {error}");
            tokio::time::sleep_until(deadline.min(Instant::now() + RETRY_EVERY)).await;
        }
    }
}

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
}

impl Drop for Link {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Connection {
    /// Sends mix entry `idx` once on this connection and reads the whole
    /// answer.
    pub async fn send(&mut self, idx: usize) -> Outcome {
        let template = &self.client.templates[idx];
        let request = template.request(&template.origin);
        let exchange = exchange(&self.client, &mut self.link, request);
        let (outcome, clean) = answer(self.client.timeout, exchange).await;
        if !clean {
            // A timed-out or broken exchange may still hold the connection
            // (HTTP/1 sends the next request only after this answer): the
            // next request goes on a new one.
            self.link = None;
        }
        outcome
    }
}

/// Sends `request` on `slot`'s connection, opening one first when there is
/// none or the target closed it.
async fn exchange(
    client: &Client,
    slot: &mut Option<Link>,
    mut request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, RequestError> {
    let other = |e: hyper::Error| RequestError::Other(e.into());
    loop {
        let reused = slot.as_ref().is_some_and(|l| !l.sender.is_closed());
        let sender = match slot {
            Some(link) if reused => &mut link.sender,
            _ => &mut slot.insert(client.open().await?).sender,
        };
        if let Err(e) = sender.ready().await {
            *slot = None;
            if reused {
                // Closed by the target while idle: nothing was sent.
                tracing::debug!("idle connection closed: {e}");
                continue;
            }
            return Err(other(e));
        }
        match sender.try_send_request(request).await {
            Ok(response) => return Ok(response),
            Err(mut e) => {
                *slot = None;
                match e.take_message() {
                    // Never written (the kept-alive connection closed first):
                    // the target did not see it; send it anew.
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(other(e.into_error())),
                }
            }
        }
    }
}

/// Runs `exchange` and reads the answer's body to the end (so the
/// connection can carry the next request), all within `timeout`. A body cut
/// short still leaves the request answered from its status line on, as the
/// server counted it. The flag tells whether the exchange ended cleanly:
/// when not, its connection is in an unknown state and carries no more
/// requests.
async fn answer(
    timeout: Duration,
    exchange: impl Future<Output = Result<Response<Incoming>, RequestError>>,
) -> (Outcome, bool) {
    let mut status = None;
    let whole = async {
        let mut response = exchange.await?;
        status = Some(response.status().as_u16());
        let body = response.body_mut();
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| RequestError::Other(e.into()))?;
        }
        Ok::<_, RequestError>(())
    };
    let ended = tokio::time::timeout(timeout, whole).await;
    let clean = matches!(ended, Ok(Ok(())));
    let outcome = match (ended, status) {
        (_, Some(status)) => Ok(status),
        (Ok(Err(e)), None) => Err(e),
        (_, None) => Err(RequestError::Timeout(timeout)),
    };
    (outcome, clean)
}

#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

fn pooled(connector: Connector) -> Pooled {
    // A request the pool hands to a kept-alive connection the target has
    // just closed is sent again on a new one only when it was never
    // written (hyper's "canceled"), so the target still sees it once.
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
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
fn connector(_target: &Url) -> anyhow::Result<Connector> {
    Ok(tcp())
}

/// TLS through rustls with the *ring* provider, checking certificates
/// against the system's store (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), which
/// is read only for an `https://` target: a plain-HTTP run works on a
/// machine or an image without CA certificates.
#[cfg(feature = "tls")]
fn connector(target: &Url) -> anyhow::Result<Connector> {
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
    Ok(builder.https_or_http().enable_http1().wrap_connector(tcp()))
}

/// `host[:port]` of `target`, the port only when it is not the scheme's
/// default: the `Host` header and what a connection dials.
fn authority(target: &Url) -> anyhow::Result<String> {
    let host = target
        .host_str()
        .with_context(|| format!("{target} has no host"))?;
    Ok(match target.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// One template per mix entry: its path under `target` (without
/// credentials), the headers `target` implies with the run's over them and
/// the entry's over those, its body.
fn templates(target: &Url, mix: &Mix, headers: &HeaderMap) -> anyhow::Result<Arc<[Template]>> {
    let mut bare = target.clone();
    // Only fails for URLs that cannot have credentials, which have none.
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    let mut run_headers = implied_headers(target)?;
    overlay(&mut run_headers, headers);
    mix.entries()
        .iter()
        .map(|entry| template(&bare, entry, &run_headers))
        .collect::<anyhow::Result<Vec<_>>>()
        .map(Into::into)
}

/// The headers the target implies, which the run's and the entries' own
/// headers may replace: `Host`, `Authorization: Basic` from a
/// `user:password@` in the target (as curl and reqwest do), `User-Agent`.
fn implied_headers(target: &Url) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    let host = HeaderValue::try_from(authority(target)?)
        .with_context(|| format!("{target} does not make a Host header"))?;
    headers.insert(HOST, host);
    if !target.username().is_empty() {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = decode(target.username());
        let password = decode(target.password().unwrap_or_default());
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut value = HeaderValue::try_from(format!("Basic {token}"))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    let agent = concat!("obslab-loadgen/", env!("CARGO_PKG_VERSION"));
    headers.insert(USER_AGENT, HeaderValue::from_static(agent));
    Ok(headers)
}

/// Puts `top`'s headers over `base`'s: a name in `top` replaces all of
/// `base`'s values of that name and keeps all of its own.
fn overlay(base: &mut HeaderMap, top: &HeaderMap) {
    for name in top.keys() {
        base.remove(name);
    }
    for (name, value) in top {
        base.append(name, value.clone());
    }
}

fn template(target: &Url, entry: &MixEntry, headers: &HeaderMap) -> anyhow::Result<Template> {
    let url = join(target, &entry.path)?;
    let uri: Uri = url
        .as_str()
        .parse()
        .with_context(|| format!("`{url}` is not a URI an HTTP request can carry"))?;
    let origin = uri
        .path_and_query()
        .map_or_else(|| Uri::from_static("/"), |p| Uri::from(p.clone()));
    let mut headers = headers.clone();
    overlay(&mut headers, &entry.headers);
    let body = entry.body.clone().map(Bytes::from).unwrap_or_default();
    Ok(Template {
        method: entry.method.clone(),
        uri,
        origin,
        headers,
        body,
    })
}

/// `target` + `path`, keeping any base path of the target (`/api` + `/x`).
fn join(target: &Url, path: &str) -> anyhow::Result<Url> {
    let base = target.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}{path}"))
        .with_context(|| format!("`{path}` does not make a URL with {target}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (target, path, extra header) → (absolute URI, origin form, Host,
    /// Authorization).
    #[test]
    fn templates_carry_the_uri_host_and_credentials() {
        let cases = [
            (
                "http://127.0.0.1:8080",
                "/",
                None,
                "http://127.0.0.1:8080/",
                "/",
                "127.0.0.1:8080",
                None,
            ),
            (
                "http://example.com:80/",
                "/a?b=1",
                None,
                "http://example.com/a?b=1",
                "/a?b=1",
                "example.com",
                None,
            ),
            (
                "https://example.com:443",
                "/x",
                None,
                "https://example.com/x",
                "/x",
                "example.com",
                None,
            ),
            (
                "https://example.com:8443",
                "/x",
                None,
                "https://example.com:8443/x",
                "/x",
                "example.com:8443",
                None,
            ),
            (
                "http://[::1]:9000",
                "/health",
                None,
                "http://[::1]:9000/health",
                "/health",
                "[::1]:9000",
                None,
            ),
            (
                "http://h:1/api",
                "/items?page=2",
                None,
                "http://h:1/api/items?page=2",
                "/api/items?page=2",
                "h:1",
                None,
            ),
            (
                "http://h:1",
                "/",
                Some(("host", "other.test")),
                "http://h:1/",
                "/",
                "other.test",
                None,
            ),
            (
                "http://user:p%40ss@h:1",
                "/",
                None,
                "http://h:1/",
                "/",
                "h:1",
                Some("Basic dXNlcjpwQHNz"),
            ),
            (
                "http://user@h:1",
                "/",
                None,
                "http://h:1/",
                "/",
                "h:1",
                Some("Basic dXNlcjo="),
            ),
            (
                "http://u:p@h:1",
                "/",
                Some(("authorization", "Bearer t")),
                "http://h:1/",
                "/",
                "h:1",
                Some("Bearer t"),
            ),
        ];
        for (target, path, extra, uri, origin, host, authorization) in cases {
            let target = Url::parse(target).unwrap();
            let entry = MixEntry::new("GET", path, 1).unwrap();
            let mut headers = HeaderMap::new();
            if let Some((name, value)) = extra {
                headers.insert(
                    http::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
            let mix = Mix::new(vec![entry]).unwrap();
            let t = &templates(&target, &mix, &headers).unwrap()[0];
            assert_eq!(t.uri.to_string(), uri, "{target} {path}");
            assert_eq!(t.origin.to_string(), origin, "{target} {path}");
            assert_eq!(t.headers[HOST], host, "{target} {path}");
            let auth = t.headers.get(AUTHORIZATION).map(|v| v.to_str().unwrap());
            assert_eq!(auth, authorization, "{target} {path}");
            assert!(
                t.headers[USER_AGENT]
                    .to_str()
                    .unwrap()
                    .starts_with("obslab-loadgen/")
            );
        }
    }
}
