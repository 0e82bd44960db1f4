//! Scale-out: which part of one run a process sends (`--shard I/N`), and
//! when the run starts (`--start-at`).
//!
//! A run is numbered: request `n` of the open model's schedule, or of a
//! `--requests` count in the closed model. Shard `I` of `N` sends the
//! requests whose number is `I` modulo `N`, and the mix draw of request `n`
//! depends on the seed and `n` only, so `N` processes with one seed send
//! together exactly what one process would, whatever machine each runs on.
//! The closed model also splits its workers: `concurrency / N` each, the
//! first `concurrency % N` shards one more (worker `w` of the whole run
//! belongs to shard `w mod N`).
//!
//! Everything here is a pure value: the driver asks it which numbers and
//! workers are its own.

use std::fmt;
use std::time::{Duration, SystemTime};

use chrono::DateTime;
use serde::{Deserialize, Serialize};

/// How far in the past `--start-at` may be when the run begins: the
/// requests already due are sent at once, as when a sender falls behind.
/// Later than that, the run stops with exit 2 rather than send a burst or
/// lose its alignment with the other shards.
pub const START_AT_SLACK: Duration = Duration::from_secs(1);

/// This process's part of the run: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// `I`, from 0 (a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`).
    pub index: u64,
    /// `N`, at least 1.
    pub count: u64,
}

impl Shard {
    /// The whole run: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether request number `n` of the run is this shard's.
    pub fn owns(&self, n: u64) -> bool {
        n % self.count == self.index
    }

    /// The number of this shard's `k`-th request (from 0): `I + k·N`, or
    /// `None` past `u64::MAX`.
    pub fn nth(&self, k: u64) -> Option<u64> {
        k.checked_mul(self.count)?.checked_add(self.index)
    }

    /// The part of the run's schedule this shard sends: `1/N`.
    pub fn fraction(&self) -> f64 {
        1.0 / self.count as f64
    }

    /// How many of the numbers `0..total` are this shard's:
    /// `total / N`, plus one for the first `total % N` shards.
    pub fn share(&self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// The run's workers that are this shard's, out of `concurrency`
    /// (global numbers, `w ≡ I mod N`).
    pub fn workers(&self, concurrency: u64) -> impl Iterator<Item = u64> + use<> {
        let step = usize::try_from(self.count).unwrap_or(usize::MAX);
        (self.index..concurrency).step_by(step)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `I/N` for `--shard`: `0 <= I < N`.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let form = || format!("`{s}` is not `I/N` (e.g. `0/3`: the first of 3 shards)");
    let (index, count) = s.trim().split_once('/').ok_or_else(form)?;
    let number = |part: &str| part.trim().parse::<u64>().map_err(|_| form());
    let (index, count) = (number(index)?, number(count)?);
    if count == 0 {
        return Err(format!("`{s}`: the number of shards N must be at least 1"));
    }
    if index >= count {
        return Err(format!(
            "`{s}`: the shard index I must be below N (0 <= I < N: shards are numbered from 0, like a Kubernetes Indexed Job's JOB_COMPLETION_INDEX)"
        ));
    }
    Ok(Shard { index, count })
}

/// Parses an RFC 3339 instant for `--start-at` (`2025-06-01T10:00:00Z`,
/// `2025-06-01T12:00:00+02:00`, fractions of a second allowed).
pub fn parse_start_at(s: &str) -> Result<SystemTime, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(SystemTime::from)
        .map_err(|e| {
            format!("`{s}` is not an RFC 3339 time like 2025-06-01T10:00:00Z ({e}); `date -u -d '+1 min' +%FT%TZ` prints one")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::rfc3339;

    #[test]
    fn shards_partition_the_numbers_and_the_workers() {
        for count in 1..6u64 {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            for total in 0..20u64 {
                // Every number belongs to exactly one shard...
                for n in 0..total {
                    assert_eq!(shards.iter().filter(|s| s.owns(n)).count(), 1);
                }
                // ...each shard's share is the count of its numbers...
                for s in &shards {
                    let own = (0..total).filter(|n| s.owns(*n)).count() as u64;
                    assert_eq!(s.share(total), own, "{s} of {total}");
                    assert_eq!(s.workers(total).count() as u64, own, "{s} of {total}");
                }
                // ...and the workers of all shards are the run's, once each.
                let mut all: Vec<u64> = shards.iter().flat_map(|s| s.workers(total)).collect();
                all.sort_unstable();
                assert_eq!(all, (0..total).collect::<Vec<_>>());
            }
        }
        let s = Shard { index: 2, count: 3 };
        assert_eq!((s.nth(0), s.nth(4)), (Some(2), Some(14)));
        assert_eq!(s.nth(u64::MAX), None);
    }

    #[test]
    fn shard_values_parse_or_say_what_is_wrong() {
        assert_eq!(parse_shard("1/3"), Ok(Shard { index: 1, count: 3 }));
        assert_eq!(parse_shard(" 0 / 1 "), Ok(Shard::WHOLE));
        // (value, part of the message)
        let cases = [
            ("3/3", "below N"),
            ("4/3", "below N"),
            ("0/0", "at least 1"),
            ("1", "not `I/N`"),
            ("a/3", "not `I/N`"),
            ("-1/3", "not `I/N`"),
            ("1/3/4", "not `I/N`"),
            ("", "not `I/N`"),
        ];
        for (value, message) in cases {
            let err = parse_shard(value).unwrap_err();
            assert!(err.contains(message), "{value:?}: {err}");
        }
    }

    #[test]
    fn start_times_are_rfc_3339_with_any_offset() {
        let utc = parse_start_at("2025-06-01T10:00:00Z").unwrap();
        assert_eq!(parse_start_at("2025-06-01T12:00:00+02:00"), Ok(utc));
        assert_eq!(rfc3339(utc), "2025-06-01T10:00:00.000000000Z");
        let later = parse_start_at("2025-06-01T10:00:00.25Z").unwrap();
        assert_eq!(
            later.duration_since(utc).ok(),
            Some(Duration::from_millis(250))
        );
        for bad in ["10:00", "2025-06-01 10:00:00", "tomorrow", "1717236000"] {
            assert!(
                parse_start_at(bad).unwrap_err().contains("RFC 3339"),
                "{bad}"
            );
        }
    }
}
