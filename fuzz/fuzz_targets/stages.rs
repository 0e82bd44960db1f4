//! `--stages` (and `--rate`): stages that parse have positive durations and
//! finite rates >= 0, written back they parse to the same stages, and the
//! open-model schedule built from them answers without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_loadgen::schedule::{Schedule, parse_rate, parse_stages};

fuzz_target!(|spec: &str| {
    if let Ok(rate) = parse_rate(spec) {
        assert!(rate.is_finite() && rate > 0.0);
        let _ = Schedule::constant(rate).intended(1_000);
    }
    let Ok(stages) = parse_stages(spec) else {
        return;
    };
    for s in &stages {
        assert!(!s.duration.is_zero() && s.target.is_finite() && s.target >= 0.0);
    }
    let written = stages
        .iter()
        .map(|s| format!("{}:{}", humantime::format_duration(s.duration), s.target))
        .collect::<Vec<_>>()
        .join(",");
    let again = parse_stages(&written).unwrap_or_else(|e| panic!("{written:?}: {e}"));
    assert_eq!(stages, again, "{written:?}");
    let schedule = Schedule::ramping(0.0, &stages);
    for n in [0, 1, 2, 10, 1_000, 1_000_000] {
        let _ = schedule.intended(n);
    }
    let _ = schedule.length();
});
