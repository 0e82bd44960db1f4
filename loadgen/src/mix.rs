//! The traffic mix: which requests to send and how often.
//!
//! A mix is a list of weighted entries written `METHOD PATH=WEIGHT` and
//! separated by commas (`GET /=60,GET /health=20`), or given as a list in a
//! scenario file with headers and bodies. It exists as its own module so the
//! grammar has one home, one error type and one table of tests, and so the
//! weighted pick on the hot path is a precomputed `WeightedIndex` sample.

use http::Method;
use http::header::HeaderMap;
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

/// The default mix: every route of obslab-server, weighted like a lab.
pub const DEFAULT_MIX: &str = "GET /=60,GET /health=20,GET /stats=10,\
GET /error=5,GET /slow=5,GET /metrics=1,GET /livez=1,GET /readyz=1";

/// One kind of request in the mix.
#[derive(Debug, Clone)]
pub struct MixEntry {
    /// HTTP method, e.g. `GET`.
    pub method: Method,
    /// Path (with an optional query) appended to the target URL; it is also
    /// the `endpoint` label of this entry's metrics.
    pub path: String,
    /// Relative weight, at least 1.
    pub weight: u32,
    /// Headers sent with this entry only (scenario files).
    pub headers: HeaderMap,
    /// Request body (scenario files).
    pub body: Option<String>,
}

impl MixEntry {
    /// An entry without headers or body, validating method, path and weight.
    pub fn new(method: &str, path: &str, weight: u32) -> Result<Self, MixError> {
        let method = parse_method(method)?;
        if !path.starts_with('/') {
            return Err(MixError::Path(path.to_owned()));
        }
        if weight == 0 {
            return Err(MixError::Weight(format!("{method} {path}=0")));
        }
        let path = path.to_owned();
        let (headers, body) = (HeaderMap::new(), None);
        Ok(Self {
            method,
            path,
            weight,
            headers,
            body,
        })
    }
}

/// A validated, non-empty mix with its weighted picker.
#[derive(Debug, Clone)]
pub struct Mix {
    entries: Vec<MixEntry>,
    picker: WeightedIndex<u32>,
}

impl Mix {
    /// Builds a mix; fails when it is empty.
    pub fn new(entries: Vec<MixEntry>) -> Result<Self, MixError> {
        let weights = entries.iter().map(|e| e.weight);
        let picker = WeightedIndex::new(weights).map_err(|_| MixError::Empty)?;
        Ok(Self { entries, picker })
    }

    /// The entries, in the order they were written.
    pub fn entries(&self) -> &[MixEntry] {
        &self.entries
    }

    /// Draws the index of the next entry to send.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        self.picker.sample(rng)
    }
}

/// Why a mix was refused; the message names the faulty part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixError {
    /// No entries at all.
    #[error("the mix is empty: give at least one `METHOD PATH=WEIGHT`")]
    Empty,
    /// An entry is not `METHOD PATH=WEIGHT`.
    #[error("`{0}` is not `METHOD PATH=WEIGHT` (e.g. `GET /health=20`)")]
    Syntax(String),
    /// The method is not an HTTP token.
    #[error("`{0}` is not an HTTP method")]
    Method(String),
    /// The path does not start with `/`.
    #[error("path `{0}` must start with `/`")]
    Path(String),
    /// The weight is zero, negative or not an integer.
    #[error("`{0}`: the weight must be a whole number of at least 1")]
    Weight(String),
}

/// Parses `METHOD PATH=WEIGHT,...`; used as the clap value parser of `--mix`.
pub fn parse_mix(spec: &str) -> Result<Mix, MixError> {
    let entries = spec
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(parse_entry)
        .collect::<Result<Vec<_>, _>>()?;
    Mix::new(entries)
}

fn parse_entry(item: &str) -> Result<MixEntry, MixError> {
    let syntax = || MixError::Syntax(item.to_owned());
    // The weight follows the last `=`, so queries like `/error?type=x=5` work.
    let (request, weight) = item.rsplit_once('=').ok_or_else(syntax)?;
    let (method, path) = request.trim().split_once(' ').ok_or_else(syntax)?;
    let path = path.trim();
    if path.contains(char::is_whitespace) {
        return Err(syntax());
    }
    let weight = weight
        .trim()
        .parse::<u32>()
        .map_err(|_| MixError::Weight(item.to_owned()))?;
    if weight == 0 {
        return Err(MixError::Weight(item.to_owned()));
    }
    MixEntry::new(method, path, weight)
}

fn parse_method(method: &str) -> Result<Method, MixError> {
    let upper = method.to_ascii_uppercase();
    match Method::from_bytes(upper.as_bytes()) {
        Ok(m) if !upper.is_empty() => Ok(m),
        _ => Err(MixError::Method(method.to_owned())),
    }
}
