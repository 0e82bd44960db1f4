//! Parsers of single option values that the command line and the scenario
//! file share: the target URL, a header, a count (a duration is
//! `obslab_common::duration::parse_nonzero`, shared with the other
//! binaries).
//!
//! They live below both readers so a flag and a scenario field accept the
//! same text and refuse it with the same message. Each returns a `String`
//! error, which clap prints after the option's name (and exits 2).

use http::header::{HeaderName, HeaderValue};
use url::Url;

/// Parses an `http://` (or, built with `tls`, `https://`) base URL.
pub fn parse_target(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    match url.scheme() {
        "http" => {}
        "https" if cfg!(feature = "tls") => {}
        "https" => {
            return Err("https:// targets need obslab-loadgen built with `--features tls`".into());
        }
        _ => {
            return Err(format!(
                "`{s}` is not an http:// URL (e.g. http://localhost:5000)"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{s}` has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{s}`: put queries in the mix paths, not in the target"
        ));
    }
    Ok(url)
}

/// Parses `Name: value`.
pub fn parse_header(s: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("`{}` is not a header name", name.trim()))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|_| format!("the value of header `{name}` has invalid characters"))?;
    Ok((name, value))
}

/// Parses a whole number of at least 1.
pub fn parse_count(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a whole number of at least 1")),
    }
}
