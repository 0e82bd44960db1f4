//! The value rules shared by the command line and the admin API: what a
//! rate, a number of seconds and a pair of delay bounds must be (a
//! duration as text is `obslab_common::duration`'s, for every binary).
//!
//! `--home-error-rate` and a patch's `error_rate`, `--slow-min`/`--slow-max`
//! and a patch's `delay_min`/`delay_max` obey the same rules; keeping each
//! rule in one function here means the two doors cannot drift apart. The
//! functions answer a sentence on refusal, which the caller attaches to its
//! option or field name.

use std::time::Duration;

/// A probability in [0, 1], as text.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s.trim().parse().map_err(|_| {
        format!("`{s}` is not a number (expected a probability between 0 and 1, e.g. 0.05)")
    })?;
    check_rate(rate)
}

/// `rate` when it is a probability in [0, 1].
pub fn check_rate(rate: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!(
            "{rate} is outside [0, 1] (a probability: 0.05 means 5 %)"
        ))
    }
}

/// A duration given as a number of seconds.
pub fn seconds(s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s).map_err(|_| format!("`{s}` is not a number of seconds >= 0"))
}

/// The one rule on delay bounds: the shortest may not exceed the longest.
/// `min_name` and `max_name` are how the caller calls them (`--slow-min`,
/// `delay_min`).
pub fn check_bounds(
    (min_name, min): (&str, Duration),
    (max_name, max): (&str, Duration),
) -> Result<(), String> {
    if min <= max {
        return Ok(());
    }
    Err(format!(
        "{min_name} ({}) must not exceed {max_name} ({})",
        humantime::format_duration(min),
        humantime::format_duration(max)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_outside_the_unit_interval_are_refused() {
        assert_eq!(parse_rate("0.05"), Ok(0.05));
        assert_eq!(parse_rate("1"), Ok(1.0));
        for bad in ["-0.1", "1.01", "five", "NaN", ""] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_must_be_a_finite_number_not_below_zero() {
        assert_eq!(seconds(0.25), Ok(Duration::from_millis(250)));
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_name_both_sides_when_min_exceeds_max() {
        let (one, two) = (Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!(check_bounds(("min", one), ("max", two)), Ok(()));
        assert_eq!(check_bounds(("min", one), ("max", one)), Ok(()));
        assert_eq!(
            check_bounds(("--slow-min", two), ("--slow-max", one)),
            Err("--slow-min (2s) must not exceed --slow-max (1s)".to_string())
        );
    }
}
