//! Request templates: every mix entry prepared once, cloned per send.
//!
//! Parsing the URL, joining the path, building the `Host`, `Authorization`
//! and `User-Agent` headers and overlaying the run's and the entry's own
//! headers happens once per run, not once per request: a send clones
//! reference-counted parts and one header map.

use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST, HeaderMap, HeaderValue, USER_AGENT};
use http::{Method, Request, Uri};
use http_body_util::Full;
use url::Url;

use crate::mix::{Mix, MixEntry};

/// One mix entry, ready to send: parsed and validated once; a send clones
/// reference-counted parts and the header map.
#[derive(Debug)]
pub(super) struct Template {
    method: Method,
    /// Path and query only, as HTTP/1 writes it on the wire.
    pub(super) origin: Uri,
    headers: HeaderMap,
    /// HTTP/2's form: the host in the URI's authority (`:authority`), no
    /// `Host` header beside it (RFC 9113 §8.3.1; nginx refuses the pair as
    /// a duplicate host).
    h2: (Uri, HeaderMap),
    body: Bytes,
}

impl Template {
    /// A request for this entry in HTTP/1's form: the origin-form URI,
    /// the `Host` header.
    pub(super) fn request(&self) -> Request<Full<Bytes>> {
        self.build(&self.origin, &self.headers)
    }

    /// A request for this entry in HTTP/2's form.
    pub(super) fn request_h2(&self) -> Request<Full<Bytes>> {
        self.build(&self.h2.0, &self.h2.1)
    }

    fn build(&self, uri: &Uri, headers: &HeaderMap) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers.clone();
        request
    }
}

/// `host[:port]` of `target`, the port only when it is not the scheme's
/// default: the `Host` header and what a connection dials.
pub(super) fn authority(target: &Url) -> anyhow::Result<String> {
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
pub(super) fn templates(
    target: &Url,
    mix: &Mix,
    headers: &HeaderMap,
) -> anyhow::Result<Arc<[Template]>> {
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
    let h2 = h2_form(&uri, &headers)?;
    Ok(Template {
        method: entry.method.clone(),
        origin,
        headers,
        h2,
        body,
    })
}

/// `uri` and `headers` as HTTP/2 sends them: the `Host` header (the
/// target's, or one the run sets) moved into the URI's authority.
fn h2_form(uri: &Uri, headers: &HeaderMap) -> anyhow::Result<(Uri, HeaderMap)> {
    let mut headers = headers.clone();
    let Some(host) = headers.remove(HOST) else {
        return Ok((uri.clone(), headers));
    };
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(
        host.to_str()
            .ok()
            .and_then(|h| h.parse().ok())
            .with_context(|| format!("the Host header {host:?} is not a host[:port]"))?,
    );
    let uri = Uri::from_parts(parts).context("an HTTP/2 request's URI")?;
    Ok((uri, headers))
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

    /// (target, path, extra header) → (absolute URI as HTTP/2 sends it,
    /// origin form, Host, Authorization).
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
                "http://other.test/",
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
            assert_eq!(t.request_h2().uri().to_string(), uri, "{target} {path}");
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

    /// HTTP/2 carries the host as `:authority` only: the `Host` header
    /// (the target's, or one the run sets) moves into the URI.
    #[test]
    fn the_http2_form_moves_the_host_into_the_authority() {
        let target = Url::parse("https://u:p@example.com:8443/api").unwrap();
        let mix = Mix::new(vec![MixEntry::new("GET", "/x?y=1", 1).unwrap()]).unwrap();
        let t = &templates(&target, &mix, &HeaderMap::new()).unwrap()[0];
        let request = t.request_h2();
        assert_eq!(request.uri(), "https://example.com:8443/api/x?y=1");
        assert!(request.headers().get(HOST).is_none());
        assert!(request.headers().get(AUTHORIZATION).is_some());

        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("vhost.test"));
        let t = &templates(&target, &mix, &headers).unwrap()[0];
        assert_eq!(t.request_h2().uri(), "https://vhost.test/api/x?y=1");
        assert_eq!(t.request().headers()[HOST], "vhost.test");
    }
}
