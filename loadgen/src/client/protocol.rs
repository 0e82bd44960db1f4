//! Which HTTP version a run speaks, and which ones its answers came in.
//!
//! `--http1` and `--http2` force a version; otherwise an `https://` target
//! picks one by ALPN (HTTP/2 when it offers it) and an `http://` target gets
//! HTTP/1.1, as with curl. The report says what the answers actually used,
//! per endpoint: [`Seen`] keeps one small set of versions per mix entry,
//! written once per version (a read per answer after that, so the threads
//! do not share a written cache line).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use http::Version;

/// The HTTP version asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// ALPN on `https://` (HTTP/2 or HTTP/1.1), HTTP/1.1 on `http://`.
    #[default]
    Auto,
    /// `--http1`: HTTP/1.1 only.
    Http1,
    /// `--http2`: HTTP/2 only, with prior knowledge (h2c) on `http://`.
    Http2,
}

/// The value of the report's `protocol` when answers came in several
/// versions.
pub const MIXED: &str = "mixed";

/// The versions the answers of each mix entry came in.
#[derive(Debug, Clone)]
pub struct Seen(Arc<[AtomicU8]>);

impl Seen {
    /// Nothing seen yet, for `entries` mix entries.
    pub(super) fn new(entries: usize) -> Self {
        Self((0..entries).map(|_| AtomicU8::new(0)).collect())
    }

    /// An answer to entry `idx` came in `version`.
    pub(super) fn mark(&self, idx: usize, version: Version) {
        let bit = bit(version);
        if self.0[idx].load(Relaxed) & bit == 0 {
            self.0[idx].fetch_or(bit, Relaxed);
        }
    }

    /// The versions entry `idx`'s answers came in, by name (e.g.
    /// `HTTP/1.1`, `HTTP/2`), oldest first.
    pub fn names(&self, idx: usize) -> Vec<&'static str> {
        let bits = self.0[idx].load(Relaxed);
        NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, name)| *name)
            .collect()
    }

    /// The report's `protocol` of entry `idx`: one version, [`MIXED`], or
    /// `None` when nothing was answered.
    pub fn report(&self, idx: usize) -> Option<String> {
        combine(self.names(idx).into_iter().map(str::to_owned))
    }
}

/// The one protocol of `names` (a report's or an answer's), [`MIXED`] when
/// they differ, `None` when there is none.
pub fn combine(names: impl IntoIterator<Item = String>) -> Option<String> {
    names
        .into_iter()
        .reduce(|a, b| if a == b { a } else { MIXED.to_owned() })
}

/// Version names, in the order of their bits.
const NAMES: [&str; 4] = ["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/3"];

fn bit(version: Version) -> u8 {
    match version {
        Version::HTTP_10 | Version::HTTP_09 => 1,
        Version::HTTP_2 => 4,
        Version::HTTP_3 => 8,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_version_is_named_and_two_are_mixed() {
        let seen = Seen::new(3);
        seen.mark(0, Version::HTTP_2);
        seen.mark(0, Version::HTTP_2);
        seen.mark(1, Version::HTTP_11);
        seen.mark(1, Version::HTTP_2);
        assert_eq!(seen.report(0).as_deref(), Some("HTTP/2"));
        assert_eq!(seen.names(1), ["HTTP/1.1", "HTTP/2"]);
        assert_eq!(seen.report(1).as_deref(), Some(MIXED));
        assert_eq!(seen.report(2), None);
        let all = (0..3).filter_map(|i| seen.report(i));
        assert_eq!(combine(all).as_deref(), Some(MIXED));
    }
}
