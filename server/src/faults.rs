//! Fault injection as data: a [`FaultProfile`] says, per faultable route, how
//! often it fails and how long it stalls; [`Faults`] turns it into decisions.
//!
//! Decisions are pure functions of the profile and a per-request RNG. That RNG
//! is seeded from `--seed` and a request sequence number, so the same seed and
//! the same sequence of requests give the same outcomes, without a lock shared
//! by concurrent requests. The profile sits behind an `ArcSwap` so the admin
//! API and scenarios can replace it while serving, and reading it costs no
//! lock either.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

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
    /// Bounds of the uniform delay before a successful answer.
    pub delay_min: Duration,
    pub delay_max: Duration,
}

/// How every faultable route misbehaves.
#[derive(Debug, Clone)]
pub struct FaultProfile {
    pub home: RouteFaults,
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
}

/// Why a set of named weights was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightError {
    UnknownType(String),
    BadWeight(String, f64),
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

/// What happens to one request of a faultable route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// How long to wait before answering.
    pub delay: Duration,
    /// The injected failure, if any.
    pub error: Option<ErrorType>,
}

/// The fault decisions of a running server.
#[derive(Debug)]
pub struct Faults {
    profile: ArcSwap<FaultProfile>,
    seed: u64,
    sequence: AtomicU64,
}

impl Faults {
    /// Decisions from `profile`, reproducible for a given `seed`.
    pub fn new(profile: FaultProfile, seed: u64) -> Faults {
        Faults {
            profile: ArcSwap::from_pointee(profile),
            seed,
            sequence: AtomicU64::new(0),
        }
    }

    /// The profile in force.
    pub fn profile(&self) -> Arc<FaultProfile> {
        self.profile.load_full()
    }

    /// Replaces the profile in force; requests already decided keep theirs.
    pub fn set_profile(&self, profile: FaultProfile) {
        self.profile.store(Arc::new(profile));
    }

    /// Whether a total outage is being simulated.
    pub fn outage(&self) -> bool {
        self.profile.load().outage
    }

    /// Fails at the route's rate, else waits a uniform delay. A failing
    /// `/slow` waits the timeout; the other routes fail at once.
    pub fn decide(&self, route: Route) -> Decision {
        let profile = self.profile.load();
        let faults = profile.route(route);
        let mut rng = self.rng();
        if rng.random_bool(faults.error_rate) {
            let delay = match route {
                Route::Slow => profile.slow_timeout,
                Route::Home | Route::Health => Duration::ZERO,
            };
            return Decision {
                delay,
                error: Some(route.error_type()),
            };
        }
        let delay = if faults.delay_max.is_zero() {
            Duration::ZERO
        } else {
            rng.random_range(faults.delay_min..=faults.delay_max)
        };
        Decision { delay, error: None }
    }

    /// `GET /error`: one of the four manual types, by weight.
    pub fn manual_error(&self) -> ErrorType {
        let profile = self.profile.load();
        ErrorType::MANUAL[profile.error_weights.index.sample(&mut self.rng())]
    }

    /// A fresh RNG for the next request: seeded by (seed, sequence number),
    /// so concurrent requests never share or lock one.
    fn rng(&self) -> SmallRng {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        // The golden-ratio multiplier spreads consecutive numbers over the
        // whole seed space before seed_from_u64 mixes them again.
        SmallRng::seed_from_u64(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn profile() -> FaultProfile {
        let instant = |error_rate| RouteFaults {
            error_rate,
            delay_min: Duration::ZERO,
            delay_max: Duration::ZERO,
        };
        FaultProfile {
            home: instant(0.05),
            health: instant(0.2),
            slow: RouteFaults {
                error_rate: 0.3,
                delay_min: ms(200),
                delay_max: ms(1500),
            },
            slow_timeout: Duration::from_secs(3),
            error_weights: ErrorWeights::new([1.0; 4]).unwrap(),
            outage: false,
        }
    }

    /// The number of failures in `n` draws at probability `p` lies within
    /// 5 standard deviations of n·p (a false alarm once in ~3.5 million runs).
    fn assert_binomial(failures: usize, n: usize, p: f64) {
        let mean = n as f64 * p;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        let f = failures as f64;
        assert!(
            (f - mean).abs() <= 5.0 * sd,
            "{failures} failures in {n} draws at p={p}"
        );
    }

    fn failures(faults: &Faults, route: Route, n: usize) -> usize {
        (0..n)
            .filter(|_| faults.decide(route).error.is_some())
            .count()
    }

    #[test]
    fn rates_hold_within_binomial_bounds() {
        let faults = Faults::new(profile(), 42);
        let n = 20_000;
        assert_binomial(failures(&faults, Route::Home, n), n, 0.05);
        assert_binomial(failures(&faults, Route::Health, n), n, 0.2);
        assert_binomial(failures(&faults, Route::Slow, n), n, 0.3);
    }

    #[test]
    fn delays_stay_within_bounds_and_timeouts_wait_the_timeout() {
        let faults = Faults::new(profile(), 1);
        for _ in 0..5_000 {
            let d = faults.decide(Route::Slow);
            match d.error {
                None => assert!((ms(200)..=ms(1500)).contains(&d.delay), "{d:?}"),
                Some(e) => assert_eq!((e, d.delay), (ErrorType::Timeout, Duration::from_secs(3))),
            }
            assert_eq!(faults.decide(Route::Home).delay, Duration::ZERO);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let run = |seed| {
            let faults = Faults::new(profile(), seed);
            (0..500)
                .map(|_| faults.decide(Route::Health))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn manual_errors_follow_their_weights() {
        let mut p = profile();
        p.error_weights = ErrorWeights::new([0.0, 0.0, 3.0, 1.0]).unwrap();
        let faults = Faults::new(p, 3);
        let n = 8_000;
        let picks: Vec<_> = (0..n).map(|_| faults.manual_error()).collect();
        assert!(!picks.contains(&ErrorType::ValidationError));
        assert!(!picks.contains(&ErrorType::PermissionError));
        let db = picks
            .iter()
            .filter(|t| **t == ErrorType::DatabaseError)
            .count();
        assert_binomial(db, n, 0.75);
    }

    #[test]
    fn a_new_profile_takes_effect_at_once() {
        let faults = Faults::new(profile(), 5);
        let mut changed = profile();
        changed.home.error_rate = 1.0;
        changed.health.delay_min = ms(40);
        changed.health.delay_max = ms(40);
        faults.set_profile(changed);
        assert_eq!(failures(&faults, Route::Home, 100), 100);
        let healthy = (0..100)
            .map(|_| faults.decide(Route::Health))
            .filter(|d| d.error.is_none());
        assert!(healthy.map(|d| d.delay).all(|delay| delay == ms(40)));
    }

    #[test]
    fn routes_round_trip_through_their_paths() {
        for route in Route::ALL {
            assert_eq!(Route::from_path(route.path()), Some(route));
        }
        assert_eq!(Route::from_path("/stats"), None);
    }
}
