//! Fault injection as data: a [`FaultProfile`] says how often each route
//! fails and how long `/slow` stalls; [`Faults`] turns it into decisions.
//!
//! Decisions are pure functions of the profile and a per-request RNG. That RNG
//! is seeded from `--seed` and a request sequence number, so the same seed and
//! the same sequence of requests give the same outcomes, without a lock shared
//! by concurrent requests. The profile sits behind an `ArcSwap` so it can be
//! replaced while serving, and reading it costs no lock either.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error_type::ErrorType;

/// How often and how each route misbehaves.
#[derive(Debug, Clone)]
pub struct FaultProfile {
    /// Probability that `GET /` answers 500 home_error.
    pub home_error_rate: f64,
    /// Probability that `GET /health` answers 503 health_check_failed.
    pub health_error_rate: f64,
    /// Probability that `GET /slow` waits `slow_timeout`, then answers 504.
    pub slow_timeout_rate: f64,
    /// Bounds of the uniform delay of a successful `GET /slow`.
    pub slow_min: Duration,
    pub slow_max: Duration,
    /// How long a timing-out `GET /slow` waits.
    pub slow_timeout: Duration,
    /// Weights of the error types `GET /error` picks from.
    pub error_weights: ErrorWeights,
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

    /// The weights, in the order of [`ErrorType::MANUAL`].
    pub fn as_array(&self) -> [f64; 4] {
        self.weights
    }
}

/// What happens to one `GET /slow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowOutcome {
    /// Sleep this long, then answer 200.
    Complete(Duration),
    /// Sleep this long (the timeout), then answer 504 timeout.
    TimeOut(Duration),
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

    /// `GET /`: fail with home_error at the configured rate.
    pub fn home(&self) -> Result<(), ErrorType> {
        let rate = self.profile.load().home_error_rate;
        fail_with(self.rng().random_bool(rate), ErrorType::HomeError)
    }

    /// `GET /health`: fail with health_check_failed at the configured rate.
    pub fn health(&self) -> Result<(), ErrorType> {
        let rate = self.profile.load().health_error_rate;
        fail_with(self.rng().random_bool(rate), ErrorType::HealthCheckFailed)
    }

    /// `GET /slow`: time out at the configured rate, else a uniform delay.
    pub fn slow(&self) -> SlowOutcome {
        let profile = self.profile.load();
        let mut rng = self.rng();
        if rng.random_bool(profile.slow_timeout_rate) {
            SlowOutcome::TimeOut(profile.slow_timeout)
        } else {
            SlowOutcome::Complete(rng.random_range(profile.slow_min..=profile.slow_max))
        }
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

fn fail_with(failed: bool, error: ErrorType) -> Result<(), ErrorType> {
    if failed { Err(error) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> FaultProfile {
        FaultProfile {
            home_error_rate: 0.05,
            health_error_rate: 0.2,
            slow_timeout_rate: 0.3,
            slow_min: Duration::from_millis(200),
            slow_max: Duration::from_millis(1500),
            slow_timeout: Duration::from_secs(3),
            error_weights: ErrorWeights::new([1.0; 4]).unwrap(),
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

    #[test]
    fn rates_hold_within_binomial_bounds() {
        let faults = Faults::new(profile(), 42);
        let n = 20_000;
        assert_binomial((0..n).filter(|_| faults.home().is_err()).count(), n, 0.05);
        assert_binomial((0..n).filter(|_| faults.health().is_err()).count(), n, 0.2);
        let timeouts = (0..n)
            .filter(|_| matches!(faults.slow(), SlowOutcome::TimeOut(_)))
            .count();
        assert_binomial(timeouts, n, 0.3);
    }

    #[test]
    fn slow_delays_stay_within_bounds() {
        let faults = Faults::new(profile(), 1);
        for _ in 0..5_000 {
            match faults.slow() {
                SlowOutcome::Complete(d) => {
                    assert!((Duration::from_millis(200)..=Duration::from_millis(1500)).contains(&d))
                }
                SlowOutcome::TimeOut(d) => assert_eq!(d, Duration::from_secs(3)),
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let run = |seed| {
            let faults = Faults::new(profile(), seed);
            (0..500)
                .map(|_| faults.health().is_err())
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
        let mut always = profile();
        always.home_error_rate = 1.0;
        faults.set_profile(always);
        assert!((0..100).all(|_| faults.home().is_err()));
    }
}
