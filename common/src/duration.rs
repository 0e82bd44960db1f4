//! Durations as the command lines, the scenario files and the admin API
//! write them: humantime text (`250ms`, `3s`, `1m30s`).
//!
//! One parser for every binary: [`parse`] accepts zero (the server's
//! `--shutdown-delay 0s`), [`parse_nonzero`] wraps it for the options where
//! zero makes no sense (a run's `--duration`, a timeout). Both answer a
//! sentence on refusal, which clap prints after the option's name (exit 2)
//! and the other readers after their field's.

use std::time::Duration;

/// A duration in humantime form, zero included; blanks around it are
/// ignored.
pub fn parse(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 250ms, 3s or 1m30s"))
}

/// A duration in humantime form, above zero.
pub fn parse_nonzero(s: &str) -> Result<Duration, String> {
    let d = parse(s)?;
    if d.is_zero() {
        return Err(format!("`{s}` is zero; this duration must be above 0"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_humantime() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse(" 2m "), Ok(Duration::from_secs(120)));
        assert!(parse("3").is_err());
        assert!(parse("soon").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn zero_is_a_duration_the_wrapper_refuses() {
        for zero in ["0s", "0ms", "0"] {
            assert_eq!(parse(zero), Ok(Duration::ZERO), "{zero}");
            let refused = parse_nonzero(zero).unwrap_err();
            assert!(refused.contains("above 0"), "{refused}");
        }
        assert_eq!(parse_nonzero("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_nonzero("soon"), parse("soon"));
    }
}
