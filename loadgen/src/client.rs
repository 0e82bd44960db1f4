//! The one HTTP client of a run, configured to be honest.
//!
//! One request in the report must be one request on the server: redirects
//! are not followed, nothing is retried, and the default timeout is longer
//! than obslab-server's slowest path so a slow answer is not reported as a
//! timeout the server never saw. Every request of the mix is prepared once as
//! a template (URL, method, headers, body) and cloned per send.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Request, Url, redirect, retry};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::mix::Mix;

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

/// A request that got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// See [`ErrorKind::Timeout`].
    #[error("request timed out")]
    Timeout(#[source] reqwest::Error),
    /// See [`ErrorKind::Connect`].
    #[error("could not connect")]
    Connect(#[source] reqwest::Error),
    /// See [`ErrorKind::Other`].
    #[error("request failed")]
    Other(#[source] reqwest::Error),
}

impl From<reqwest::Error> for RequestError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            RequestError::Timeout(e)
        } else if e.is_connect() {
            RequestError::Connect(e)
        } else {
            RequestError::Other(e)
        }
    }
}

impl RequestError {
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

/// The shared client plus one prepared request per mix entry.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    templates: Arc<[Request]>,
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
        install_tls_provider();
        let http = build_http(timeout)?;
        let templates = mix
            .entries()
            .iter()
            .map(|entry| {
                let url = join(target, &entry.path)?;
                let mut builder = http
                    .request(entry.method.clone(), url)
                    .headers(headers.clone())
                    .headers(entry.headers.clone());
                if let Some(body) = &entry.body {
                    builder = builder.body(body.clone());
                }
                builder
                    .build()
                    .context("cannot prepare a request of the mix")
            })
            .collect::<anyhow::Result<Vec<_>>>()?
            .into();
        Ok(Self {
            http,
            templates,
            timeout,
        })
    }

    /// The same requests through a new connection pool, for another
    /// runtime: connections then stay on the runtime that drives them.
    pub fn fork(&self) -> anyhow::Result<Self> {
        Ok(Self {
            http: build_http(self.timeout)?,
            templates: self.templates.clone(),
            timeout: self.timeout,
        })
    }

    /// Sends mix entry `idx` once and reads the whole answer.
    pub async fn send(&self, idx: usize) -> Outcome {
        let request = self.templates[idx]
            .try_clone()
            .expect("request bodies are in memory, so they clone");
        let mut response = self.http.execute(request).await?;
        let status = response.status().as_u16();
        // Read the body to the end so the connection is reused; the answer
        // counts from its status line on, as the server counted it.
        while let Ok(Some(_)) = response.chunk().await {}
        Ok(status)
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

fn build_http(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    let mut defaults = HeaderMap::new();
    let agent = concat!("obslab-loadgen/", env!("CARGO_PKG_VERSION"));
    defaults.insert(USER_AGENT, HeaderValue::from_static(agent));
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        // `never()` alone still lets the retry layer clone every request
        // (method, URI, headers, extensions) in case it is retried; with no
        // retry allowed at all it hands each request straight through.
        .retry(retry::never().max_retries_per_request(0))
        .no_proxy()
        .timeout(timeout)
        .default_headers(defaults)
        .build()
        .context("cannot build the HTTP client")
}

/// `target` + `path`, keeping any base path of the target (`/api` + `/x`).
fn join(target: &Url, path: &str) -> anyhow::Result<Url> {
    let base = target.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}{path}"))
        .with_context(|| format!("`{path}` does not make a URL with {target}"))
}

#[cfg(feature = "tls")]
fn install_tls_provider() {
    // Fails only when a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(not(feature = "tls"))]
fn install_tls_provider() {}
