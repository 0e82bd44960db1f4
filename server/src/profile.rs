//! The fault profile as data: per faultable route, how often it fails and
//! how long it stalls; the `/error` type weights; the outage switch.
//!
//! A [`FaultProfile`] is a plain value, built from the command line, patched
//! by the admin API and by scenario phases, shown as gauges, and read by
//! `Faults` for each request's decision. It knows nothing of how it is put
//! in force.

use std::time::Duration;

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

use crate::error_type::ErrorType;

/// The routes whose behaviour the profile controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /`: fails with home_error.
    Home,
    /// `GET /health`: fails with health_check_failed.
    Health,
    /// `GET /slow`: fails with timeout, after waiting the timeout.
    Slow,
}

impl Route {
    /// Every faultable route.
    pub const ALL: [Route; 3] = [Route::Home, Route::Health, Route::Slow];

    /// The route template, as in the `endpoint` label.
    pub fn path(self) -> &'static str {
        match self {
            Route::Home => "/",
            Route::Health => "/health",
            Route::Slow => "/slow",
        }
    }

    /// The route a template names.
    pub fn from_path(path: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.path() == path)
    }

    /// The error type of an injected failure.
    pub fn error_type(self) -> ErrorType {
        match self {
            Route::Home => ErrorType::HomeError,
            Route::Health => ErrorType::HealthCheckFailed,
            Route::Slow => ErrorType::Timeout,
        }
    }
}

/// How one route misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteFaults {
    /// Probability of an injected failure.
    pub error_rate: f64,
    /// Shortest delay before a successful answer (drawn uniformly).
    pub delay_min: Duration,
    /// Longest delay before a successful answer.
    pub delay_max: Duration,
}

impl RouteFaults {
    /// Fails at `error_rate` and otherwise answers at once.
    pub fn instant(error_rate: f64) -> RouteFaults {
        RouteFaults {
            error_rate,
            delay_min: Duration::ZERO,
            delay_max: Duration::ZERO,
        }
    }
}

/// How every faultable route misbehaves.
#[derive(Debug, Clone)]
pub struct FaultProfile {
    /// `GET /`.
    pub home: RouteFaults,
    /// `GET /health`.
    pub health: RouteFaults,
    /// `error_rate` is the timeout rate; the delay is a successful call's.
    pub slow: RouteFaults,
    /// How long a timing-out `GET /slow` waits before its 504.
    pub slow_timeout: Duration,
    /// Weights of the error types `GET /error` picks from.
    pub error_weights: ErrorWeights,
    /// Every route but `/admin/*`, `/livez` and `/readyz` answers 503
    /// outage, `/metrics` included, so Prometheus sees the target down while
    /// orchestrators still see a live, ready process.
    pub outage: bool,
}

impl FaultProfile {
    /// The faults of `route`.
    pub fn route(&self, route: Route) -> &RouteFaults {
        match route {
            Route::Home => &self.home,
            Route::Health => &self.health,
            Route::Slow => &self.slow,
        }
    }

    /// The faults of `route`, to change.
    pub fn route_mut(&mut self, route: Route) -> &mut RouteFaults {
        match route {
            Route::Home => &mut self.home,
            Route::Health => &mut self.health,
            Route::Slow => &mut self.slow,
        }
    }

    /// The command line's default profile, for unit tests.
    #[cfg(test)]
    pub(crate) fn example() -> FaultProfile {
        FaultProfile {
            home: RouteFaults::instant(0.05),
            health: RouteFaults::instant(0.2),
            slow: RouteFaults {
                error_rate: 0.3,
                delay_min: Duration::from_millis(200),
                delay_max: Duration::from_millis(1500),
            },
            slow_timeout: Duration::from_secs(3),
            error_weights: ErrorWeights::new([1.0; 4]).expect("a weight above 0"),
            outage: false,
        }
    }
}

/// Weights over [`ErrorType::MANUAL`], at least one above zero.
#[derive(Debug, Clone)]
pub struct ErrorWeights {
    weights: [f64; 4],
    index: WeightedIndex<f64>,
}

impl ErrorWeights {
    /// `None` when no weight is above zero (or one is negative or not finite).
    pub fn new(weights: [f64; 4]) -> Option<ErrorWeights> {
        let index = WeightedIndex::new(weights).ok()?;
        Some(ErrorWeights { weights, index })
    }

    /// Weights by type name (omitted types weigh 0): the one parser behind
    /// `--error-weights` and the admin API's `error_weights`.
    pub fn from_named<'a>(
        named: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<ErrorWeights, WeightError> {
        let mut weights = [0.0; 4];
        for (name, weight) in named {
            let index = ErrorType::MANUAL
                .iter()
                .position(|t| t.as_str() == name)
                .ok_or_else(|| WeightError::UnknownType(name.to_string()))?;
            if !weight.is_finite() || weight < 0.0 {
                return Err(WeightError::BadWeight(name.to_string(), weight));
            }
            weights[index] = weight;
        }
        ErrorWeights::new(weights).ok_or(WeightError::AllZero)
    }

    /// The weights, in the order of [`ErrorType::MANUAL`].
    pub fn as_array(&self) -> [f64; 4] {
        self.weights
    }

    /// One of the four manual types, drawn by weight.
    pub fn pick(&self, rng: &mut impl Rng) -> ErrorType {
        ErrorType::MANUAL[self.index.sample(rng)]
    }
}

/// Why a set of named weights was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightError {
    /// The name is not one of the four manual error types.
    UnknownType(String),
    /// The weight of the named type is negative or not a number.
    BadWeight(String, f64),
    /// No weight is above zero: nothing could be drawn.
    AllZero,
}

impl WeightError {
    /// The type to blame, when one is.
    pub fn culprit(&self) -> Option<&str> {
        match self {
            WeightError::UnknownType(name) | WeightError::BadWeight(name, _) => Some(name),
            WeightError::AllZero => None,
        }
    }
}

impl std::fmt::Display for WeightError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WeightError::UnknownType(name) => write!(
                f,
                "unknown error type `{name}`; valid: {}",
                ErrorType::manual_names()
            ),
            WeightError::BadWeight(name, w) => {
                write!(f, "weight {w} of {name} is not a number ≥ 0")
            }
            WeightError::AllZero => f.write_str("at least one weight must be above 0"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_through_their_paths() {
        for route in Route::ALL {
            assert_eq!(Route::from_path(route.path()), Some(route));
        }
        assert_eq!(Route::from_path("/stats"), None);
    }

    #[test]
    fn weights_are_named_by_type_and_need_one_above_zero() {
        let w = ErrorWeights::from_named([("database_error", 3.0), ("timeout_error", 1.0)]);
        assert_eq!(w.unwrap().as_array(), [0.0, 0.0, 3.0, 1.0]);
        let culprit = |named: &[(&str, f64)]| {
            ErrorWeights::from_named(named.iter().copied())
                .unwrap_err()
                .culprit()
                .map(str::to_string)
        };
        assert_eq!(culprit(&[("bogus", 1.0)]), Some("bogus".to_string()));
        assert_eq!(
            culprit(&[("database_error", f64::NAN)]),
            Some("database_error".to_string())
        );
        assert_eq!(culprit(&[("database_error", 0.0)]), None);
    }
}
