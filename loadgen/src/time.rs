//! Instants as reports write them: RFC 3339, UTC, to the nanosecond.

use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};

/// `t` in RFC 3339, UTC, to the nanosecond: reports carry their windows
/// exactly, so a merge recomputes the same rates.
pub fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Nanos, true)
}
