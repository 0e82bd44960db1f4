//! Fault decisions: [`Faults`] turns the [`FaultProfile`] in force into what
//! happens to each request of a faultable route.
//!
//! Decisions are pure functions of the profile and a per-request RNG. That RNG
//! is seeded from `--seed` and a request sequence number, so the same seed and
//! the same sequence of requests give the same outcomes, without a lock shared
//! by concurrent requests. The profile sits behind an `ArcSwap` so that the
//! fault control can replace it while serving, and reading it costs no lock
//! either.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error_type::ErrorType;
use crate::profile::{FaultProfile, Route};

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
    pub fn set_profile(&self, profile: impl Into<Arc<FaultProfile>>) {
        self.profile.store(profile.into());
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
        self.profile.load().error_weights.pick(&mut self.rng())
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
    use crate::profile::ErrorWeights;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn profile() -> FaultProfile {
        FaultProfile::example()
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
}
