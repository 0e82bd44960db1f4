//! Alertmanager's webhook payload, version 4, as its configuration page
//! documents it under `webhook_config`.
//!
//! Only what the inbox shows is typed here; the payload itself is kept as
//! received (unknown fields included), so a newer Alertmanager that adds a
//! field loses nothing. [`Notification::parse`] is the one gate: whatever it
//! accepts can be stored, rendered and counted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A payload as received: its JSON object, unknown fields included.
pub type Raw = serde_json::Map<String, serde_json::Value>;

/// One notification: a group of alerts sent to one receiver.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    /// Payload version; Alertmanager sends `"4"`.
    pub version: String,
    /// The receiver (route) the notification went through.
    pub receiver: String,
    /// `firing` when at least one alert of the group fires, else `resolved`.
    pub status: Status,
    /// The alerts of the group.
    pub alerts: Vec<Alert>,
    /// The labels the route groups by.
    #[serde(rename = "groupLabels", default)]
    pub group_labels: BTreeMap<String, String>,
    /// Alertmanager's own URL (links back to its UI).
    #[serde(rename = "externalURL", default)]
    pub external_url: String,
    /// Alerts left out by the receiver's `max_alerts`.
    #[serde(rename = "truncatedAlerts", default)]
    pub truncated_alerts: u64,
}

/// One alert of a notification.
#[derive(Debug, Clone, Deserialize)]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: Status,
    /// Identifying labels: `alertname`, `severity`, `instance`, ...
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, ...
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing (RFC 3339).
    #[serde(rename = "startsAt", deserialize_with = "de_time")]
    pub starts_at: DateTime<Utc>,
    /// When it resolved; Go's zero time (year 1) while it fires.
    #[serde(rename = "endsAt", default, deserialize_with = "de_opt_time")]
    pub ends_at: Option<DateTime<Utc>>,
    /// Alertmanager's fingerprint of the label set.
    #[serde(default)]
    pub fingerprint: String,
}

/// The two states the payload knows, as a closed label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Firing.
    Firing,
    /// Resolved.
    Resolved,
}

impl Status {
    /// Both, for metrics exported at zero from the start.
    pub const ALL: [Status; 2] = [Status::Firing, Status::Resolved];

    /// The payload's spelling, also the `status` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

impl Notification {
    /// Parses and checks a payload; the error says what is wrong, for the
    /// 400 answer.
    pub fn parse(body: &[u8]) -> Result<(Notification, Raw), String> {
        let raw: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
        let serde_json::Value::Object(map) = raw else {
            return Err("invalid payload: a JSON object is expected".to_owned());
        };
        let notification = Notification::from_map(&map)?;
        if notification.version != "4" {
            return Err(format!(
                "unsupported payload version {:?}: Alertmanager's webhook sends \"4\"",
                notification.version
            ));
        }
        Ok((notification, map))
    }

    /// The typed view of a stored payload (also used when reloading).
    pub fn from_map(map: &Raw) -> Result<Notification, String> {
        serde_json::from_value(serde_json::Value::Object(map.clone()))
            .map_err(|e| format!("invalid payload: {e}"))
    }
}

impl Alert {
    /// The `alertname` label, or `""`.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// `ends_at` unless it is Go's zero time (a firing alert).
    pub fn ended(&self) -> Option<DateTime<Utc>> {
        self.ends_at.filter(|t| t.timestamp() > 0)
    }
}

/// An RFC 3339 time, as Alertmanager writes them (nanoseconds, any offset).
fn de_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time: {e}")))
}

fn de_opt_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    de_time(d).map(Some)
}
