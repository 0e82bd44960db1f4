//! The schedule as tables: request n → intended offset, no clock involved.

use std::time::Duration;

use obslab_loadgen::schedule::{Schedule, Stage};

fn stages(list: &[(u64, f64)]) -> Vec<Stage> {
    list.iter()
        .map(|&(secs, target)| Stage {
            duration: Duration::from_secs(secs),
            target,
        })
        .collect()
}

/// Asserts each `(n, Some(seconds) | None)` row to the microsecond.
fn check(schedule: &Schedule, rows: &[(u64, Option<f64>)]) {
    for &(n, want) in rows {
        let got = schedule.intended(n).map(|d| d.as_secs_f64());
        match (got, want) {
            (Some(g), Some(w)) => assert!(
                (g - w).abs() < 1e-6,
                "request {n}: due at {g}s, expected {w}s"
            ),
            (g, w) => assert_eq!(g, w, "request {n}"),
        }
    }
}

#[test]
fn constant_rate_is_n_over_rate_forever() {
    let s = Schedule::constant(10.0);
    check(
        &s,
        &[
            (0, Some(0.0)), // the first request leaves at once
            (1, Some(0.1)), // 10 req/s: one every 100 ms
            (25, Some(2.5)),
            (36_000_000, Some(3_600_000.0)), // no drift after 1,000 hours
        ],
    );
    assert_eq!(s.length(), None);
    assert_eq!(s.rate_at(Duration::from_secs(99)), 10.0);
}

#[test]
fn ramp_up_follows_the_integral_of_the_rate() {
    // 0 → 10 req/s over 10 s: H(t) = t²/2, 50 requests in all.
    let s = Schedule::ramping(0.0, &stages(&[(10, 10.0)]));
    check(
        &s,
        &[
            (0, Some(0.0)),
            (2, Some(2.0)),           // H(2) = 2
            (8, Some(4.0)),           // H(4) = 8
            (32, Some(8.0)),          // H(8) = 32
            (49, Some(98f64.sqrt())), // the last one, just before 10 s
            (50, None),               // the schedule is over
        ],
    );
    assert_eq!(s.length(), Some(Duration::from_secs(10)));
    assert_eq!(s.rate_at(Duration::from_secs(5)), 5.0);
    assert_eq!(s.hits(Duration::from_secs(10)), 50.0);
}

#[test]
fn ramp_then_hold_then_down() {
    // 0→10 in 10 s (50), hold 10 for 10 s (100), 10→0 in 10 s (50).
    let s = Schedule::ramping(0.0, &stages(&[(10, 10.0), (10, 10.0), (10, 0.0)]));
    check(
        &s,
        &[
            (50, Some(10.0)), // first request of the hold
            (60, Some(11.0)),
            (149, Some(19.9)),
            (150, Some(20.0)), // first request of the ramp down
            (168, Some(22.0)), // 10t - t²/2 = 18 → t = 2
            (199, Some(20.0 + 10.0 - 2f64.sqrt())),
            (200, None),
        ],
    );
    assert_eq!(s.rate_at(Duration::from_secs(25)), 5.0);
    assert_eq!(s.rate_at(Duration::from_secs(31)), 0.0);
}

#[test]
fn stages_start_from_the_given_rate_and_skip_empty_stretches() {
    // --rate 4 --stages "5s:4,5s:0,5s:0,2s:4": 20 requests, a silent
    // 10 s after the ramp down (10 requests), then a ramp up again (4).
    let s = Schedule::ramping(4.0, &stages(&[(5, 4.0), (5, 0.0), (5, 0.0), (2, 4.0)]));
    check(
        &s,
        &[
            (0, Some(0.0)),
            (19, Some(4.75)),
            (20, Some(5.0)),
            (29, Some(10.0 - 2.5f64.sqrt())), // 4t - 0.4t² = 9 → t = 5 - √2.5
            (30, Some(15.0)),                 // nothing is due in the silent stage
            (33, Some(15.0 + 1.5f64.sqrt() * 2f64.sqrt())), // t² = 3
            (34, None),
        ],
    );
    assert_eq!(s.hits(Duration::from_secs(60)), 34.0);
}
