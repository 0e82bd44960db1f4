//! The fault profile as JSON: the view `GET /admin/faults` answers, and the
//! partial patch that `PATCH /admin/faults` and scenario phases apply.
//!
//! A patch is validated whole before anything changes: the first invalid
//! field is named in the error and the profile in force stays as it was.

use std::collections::BTreeMap;
use std::time::Duration;

use obslab_common::duration::parse as parse_duration;
use serde::{Deserialize, Serialize};

use crate::error_type::ErrorType;
use crate::profile::{ErrorWeights, FaultProfile, Route};
use crate::values::{self, check_bounds, check_rate};

/// A patch that could not be applied: the field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `routes./health.error_rate`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Changes to a fault profile; absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Per route template (`/`, `/health`, `/slow`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, RoutePatch>,
    /// Weights of the `/error` types, by name; a patch replaces them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_weights: Option<BTreeMap<String, f64>>,
    /// Simulate a total outage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage: Option<bool>,
}

/// Changes to one route's faults. Durations are humantime strings (`250ms`)
/// or numbers of seconds in the `_seconds` twin of the field; a field given
/// both ways must say the same in both (as `GET /admin/faults` shows it).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoutePatch {
    /// Probability of an injected failure, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Shortest delay of a successful answer (humantime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_min: Option<String>,
    /// `delay_min` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_min_seconds: Option<f64>,
    /// Longest delay of a successful answer (humantime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_max: Option<String>,
    /// `delay_max` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_max_seconds: Option<f64>,
    /// `/slow` only: how long a timing-out call waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `timeout` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

impl ProfilePatch {
    /// `base` with this patch applied, or the first invalid field.
    pub fn apply(&self, base: &FaultProfile) -> Result<FaultProfile, FieldError> {
        let mut profile = base.clone();
        for (path, patch) in &self.routes {
            let field = |name: &str| format!("routes.{path}.{name}");
            let route = Route::from_path(path).ok_or_else(|| FieldError {
                field: format!("routes.{path}"),
                message: format!(
                    "no faults for this route; faultable routes: {}",
                    route_paths()
                ),
            })?;
            let faults = profile.route_mut(route);
            if let Some(rate) = patch.error_rate {
                faults.error_rate = check_rate(rate).map_err(|message| FieldError {
                    field: field("error_rate"),
                    message,
                })?;
            }
            if let Some(min) = duration(
                &patch.delay_min,
                patch.delay_min_seconds,
                &field("delay_min"),
            )? {
                faults.delay_min = min;
            }
            if let Some(max) = duration(
                &patch.delay_max,
                patch.delay_max_seconds,
                &field("delay_max"),
            )? {
                faults.delay_max = max;
            }
            check_bounds(
                ("delay_min", faults.delay_min),
                ("delay_max", faults.delay_max),
            )
            .map_err(|message| FieldError {
                field: field("delay_min"),
                message,
            })?;
            if let Some(timeout) =
                duration(&patch.timeout, patch.timeout_seconds, &field("timeout"))?
            {
                if route != Route::Slow {
                    return Err(FieldError {
                        field: field("timeout"),
                        message: "only /slow has a timeout".to_string(),
                    });
                }
                profile.slow_timeout = timeout;
            }
        }
        if let Some(weights) = &self.error_weights {
            profile.error_weights = error_weights(weights)?;
        }
        if let Some(outage) = self.outage {
            profile.outage = outage;
        }
        Ok(profile)
    }
}

/// A duration given as text (`field`), as seconds (`field_seconds`), or both
/// ways alike (to the microsecond).
fn duration(
    text: &Option<String>,
    seconds: Option<f64>,
    field: &str,
) -> Result<Option<Duration>, FieldError> {
    let error = |field: String, message: String| FieldError { field, message };
    let from_text = text
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(|message| error(field.to_string(), message))?;
    let from_seconds = seconds
        .map(values::seconds)
        .transpose()
        .map_err(|message| error(format!("{field}_seconds"), message))?;
    match (from_text, from_seconds) {
        (Some(t), Some(s)) if t.abs_diff(s) >= Duration::from_micros(1) => Err(error(
            format!("{field}_seconds"),
            format!(
                "says {}s but {field} says {}",
                s.as_secs_f64(),
                humantime::format_duration(t)
            ),
        )),
        (t, s) => Ok(t.or(s)),
    }
}

fn error_weights(weights: &BTreeMap<String, f64>) -> Result<ErrorWeights, FieldError> {
    ErrorWeights::from_named(weights.iter().map(|(n, w)| (n.as_str(), *w))).map_err(|e| {
        FieldError {
            field: match e.culprit() {
                Some(name) => format!("error_weights.{name}"),
                None => "error_weights".to_string(),
            },
            message: e.to_string(),
        }
    })
}

fn route_paths() -> String {
    Route::ALL.map(Route::path).join(", ")
}

/// The profile as `GET /admin/faults` shows it; the same shape as a patch.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    /// Per route template, every faultable route.
    pub routes: BTreeMap<&'static str, RouteView>,
    /// Weights of the `/error` types, by name, zeros included.
    pub error_weights: BTreeMap<&'static str, f64>,
    /// Whether a total outage is simulated.
    pub outage: bool,
}

/// One route's faults, durations in humantime form and in seconds.
#[derive(Debug, Serialize)]
pub struct RouteView {
    /// Probability of an injected failure.
    pub error_rate: f64,
    /// Shortest delay of a successful answer (humantime).
    pub delay_min: String,
    /// `delay_min` in seconds.
    pub delay_min_seconds: f64,
    /// Longest delay of a successful answer (humantime).
    pub delay_max: String,
    /// `delay_max` in seconds.
    pub delay_max_seconds: f64,
    /// `/slow` only: how long a timing-out call waits (humantime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `timeout` in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

impl From<&FaultProfile> for ProfileView {
    fn from(profile: &FaultProfile) -> ProfileView {
        let human = |d: Duration| humantime::format_duration(d).to_string();
        let routes = Route::ALL
            .into_iter()
            .map(|route| {
                let f = profile.route(route);
                let timeout = (route == Route::Slow).then_some(profile.slow_timeout);
                let view = RouteView {
                    error_rate: f.error_rate,
                    delay_min: human(f.delay_min),
                    delay_min_seconds: f.delay_min.as_secs_f64(),
                    delay_max: human(f.delay_max),
                    delay_max_seconds: f.delay_max.as_secs_f64(),
                    timeout: timeout.map(human),
                    timeout_seconds: timeout.map(|t| t.as_secs_f64()),
                };
                (route.path(), view)
            })
            .collect();
        let error_weights = ErrorType::MANUAL
            .into_iter()
            .zip(profile.error_weights.as_array())
            .map(|(t, w)| (t.as_str(), w))
            .collect();
        ProfileView {
            routes,
            error_weights,
            outage: profile.outage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn defaults() -> FaultProfile {
        Config::try_parse_from(["obslab-server"]).unwrap().faults
    }

    fn patch(json: &str) -> ProfilePatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let p = patch(
            r#"{"routes": {"/": {"error_rate": 0.5, "delay_min": "100ms", "delay_max": "300ms"}}}"#,
        )
        .apply(&defaults())
        .unwrap();
        assert_eq!(p.home.error_rate, 0.5);
        assert_eq!(p.home.delay_max, Duration::from_millis(300));
        assert_eq!(p.health.error_rate, 0.2);
        assert_eq!(p.slow_timeout, Duration::from_secs(3));
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases = [
            (
                r#"{"routes": {"/": {"error_rate": 1.5}}}"#,
                "routes./.error_rate",
            ),
            (
                r#"{"routes": {"/stats": {"error_rate": 0.1}}}"#,
                "routes./stats",
            ),
            (
                r#"{"routes": {"/slow": {"delay_max": "soon"}}}"#,
                "routes./slow.delay_max",
            ),
            (
                r#"{"routes": {"/slow": {"delay_min": "2s"}}}"#,
                "routes./slow.delay_min",
            ),
            (
                r#"{"routes": {"/health": {"timeout": "1s"}}}"#,
                "routes./health.timeout",
            ),
            (r#"{"error_weights": {"bogus": 1}}"#, "error_weights.bogus"),
            (
                r#"{"error_weights": {"timeout_error": 0}}"#,
                "error_weights",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(
                patch(json).apply(&defaults()).unwrap_err().field,
                field,
                "{json}"
            );
        }
        assert!(serde_json::from_str::<ProfilePatch>(r#"{"route": {}}"#).is_err());
    }

    #[test]
    fn durations_may_be_given_in_seconds_but_not_two_ways_at_odds() {
        let p = patch(r#"{"routes": {"/slow": {"delay_max_seconds": 2.5, "timeout_seconds": 4}}}"#)
            .apply(&defaults())
            .unwrap();
        assert_eq!(p.slow.delay_max, Duration::from_millis(2500));
        assert_eq!(p.slow_timeout, Duration::from_secs(4));
        let cases = [
            (
                r#"{"routes": {"/slow": {"delay_max": "2s", "delay_max_seconds": 3}}}"#,
                "routes./slow.delay_max_seconds",
            ),
            (
                r#"{"routes": {"/slow": {"delay_min_seconds": -1}}}"#,
                "routes./slow.delay_min_seconds",
            ),
            (
                r#"{"routes": {"/": {"timeout_seconds": 1}}}"#,
                "routes./.timeout",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(
                patch(json).apply(&defaults()).unwrap_err().field,
                field,
                "{json}"
            );
        }
    }

    /// Found by the `admin_patch` fuzz target: a rate whose decimal form
    /// parses to a neighbouring float unless parsing rounds correctly
    /// (serde_json's `float_roundtrip`), so its view applied again changed
    /// the profile.
    #[test]
    fn a_rate_the_view_shows_applies_back_to_the_same_rate() {
        let body =
            r#"{"routes":{"/":{"error_rate":0.107777777778E-75,"delay_max_seconds":0.3333335}}}"#;
        let applied = patch(body).apply(&defaults()).unwrap();
        let view = serde_json::to_string(&ProfileView::from(&applied)).unwrap();
        let again = patch(&view).apply(&defaults()).unwrap();
        assert_eq!(applied.home, again.home, "{view}");
        assert_eq!(applied.home.error_rate, 0.107777777778E-75);
    }

    #[test]
    fn the_view_round_trips_as_a_patch() {
        let mut changed = defaults();
        changed.slow.delay_max = Duration::from_millis(2500);
        changed.outage = true;
        let view = serde_json::to_string(&ProfileView::from(&changed)).unwrap();
        let back = patch(&view).apply(&defaults()).unwrap();
        assert_eq!(back.slow, changed.slow);
        assert!(back.outage);
    }
}
