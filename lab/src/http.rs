//! HTTP calls to the pieces of the lab, with errors that name the piece,
//! its URL and what to do.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use reqwest::Method;
use serde_json::Value;

use crate::cli::{LabArgs, Target};

/// How long any call may take: everything the CLI asks is answered from
/// memory.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One piece of the lab, by name and base URL.
#[derive(Debug, Clone)]
pub struct Service {
    /// For messages: `server`, `Prometheus`, ...
    pub name: &'static str,
    /// Base URL, no trailing slash.
    pub base: String,
    client: reqwest::Client,
}

/// An answer: status and body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_str(&self.body).context("the answer is not JSON")
    }
}

impl Service {
    /// The piece at `target`, or `None` when it is `off`.
    pub fn new(name: &'static str, target: &Target) -> Option<Service> {
        let base = target.url()?.to_owned();
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client without TLS options builds");
        Some(Service { name, base, client })
    }

    /// `method path` with an optional bearer token and body; an error only
    /// when no answer came (the status is the caller's to judge).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> anyhow::Result<Reply> {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        self.send(request, &method, &url).await
    }

    /// `method path` with HTTP basic authentication when `auth` is set.
    pub async fn call_basic(
        &self,
        method: Method,
        path: &str,
        auth: Option<(&str, &str)>,
    ) -> anyhow::Result<Reply> {
        let Some((user, password)) = auth else {
            return self.call(method, path, None, None).await;
        };
        let url = format!("{}{path}", self.base);
        let request = self
            .client
            .request(method.clone(), &url)
            .basic_auth(user, Some(password));
        self.send(request, &method, &url).await
    }

    /// Sends `request`; an error only when no answer came, saying why.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        method: &Method,
        url: &str,
    ) -> anyhow::Result<Reply> {
        let response = request.send().await.map_err(|e| {
            let why = if e.is_timeout() {
                "no answer within 5s".to_owned()
            } else if e.is_connect() {
                "connection refused or unreachable".to_owned()
            } else {
                format!("{e}")
            };
            anyhow!("{} at {} does not answer ({why})", self.name, self.base)
        })?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .with_context(|| format!("{method} {url}: the answer was cut short"))?;
        Ok(Reply { status, body })
    }

    /// GET `path`, expecting 2xx JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let reply = self.call(Method::GET, path, None, None).await?;
        if !(200..300).contains(&reply.status) {
            bail!(
                "{} GET {path} answered {}: {}",
                self.name,
                reply.status,
                one_line(&reply.body)
            );
        }
        reply
            .json()
            .with_context(|| format!("{} GET {path}", self.name))
    }
}

/// The server's admin API, with the token.
#[derive(Debug)]
pub struct Admin {
    server: Service,
    token: String,
}

impl Admin {
    /// The admin API of `lab.server`; an error when the server is `off` or
    /// no token is set.
    pub fn new(lab: &LabArgs) -> anyhow::Result<Admin> {
        let server = Service::new("server", &lab.server)
            .ok_or_else(|| anyhow!("--server is off: the admin API is on the server"))?;
        let token = lab.admin_token.clone().ok_or_else(|| {
            anyhow!(
                "no admin token: set OBSLAB_ADMIN_TOKEN to the server's --admin-token \
                 (the compose lab's default is obslab-admin-token-change-me)"
            )
        })?;
        Ok(Admin { server, token })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.server.base
    }

    /// `method /admin/...`: the JSON answer, or an error saying what is
    /// wrong (the token, the admin API off, what the server refused).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> anyhow::Result<Value> {
        let reply = self
            .server
            .call(method.clone(), path, Some(&self.token), body)
            .await
            .map_err(|e| anyhow!("{e:#}: is the lab up? (docker compose up -d)"))?;
        match reply.status {
            200..=299 => reply.json().with_context(|| format!("{method} {path}")),
            401 => bail!(
                "the server at {} refused the admin token (401): OBSLAB_ADMIN_TOKEN must be \
                 its --admin-token",
                self.server.base
            ),
            404 => bail!(
                "the admin API of {} is off (404): start the server with --admin-token \
                 (OBSLAB_ADMIN_TOKEN)",
                self.server.base
            ),
            status => {
                let message = reply
                    .json()
                    .ok()
                    .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| one_line(&reply.body));
                bail!("{method} {path} answered {status}: {message}")
            }
        }
    }
}

/// The first line of a body, shortened, for an error message.
pub fn one_line(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(160).collect::<String>())
    } else {
        line.to_owned()
    }
}
