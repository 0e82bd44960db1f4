//! The one timestamp format of the server's answers.
//!
//! Every JSON body the server writes (successes, errors, the admin API's
//! scenario status) carries a `timestamp` in RFC 3339; they all take it from
//! here, so the format is decided once.

use chrono::{SecondsFormat, Utc};

/// The current time in RFC 3339, UTC, to the microsecond.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}
