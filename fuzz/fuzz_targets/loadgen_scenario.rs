//! Loadgen scenario files (`--scenario`): any text is a scenario or an
//! `Err`, and a scenario's mix, stages and rate are as valid as the flags'.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_loadgen::scenario;

fuzz_target!(|text: &str| {
    let Ok(s) = scenario::parse(text) else { return };
    if let Some(mix) = &s.mix {
        assert!(!mix.entries().is_empty());
        assert!(
            mix.entries()
                .iter()
                .all(|e| e.weight >= 1 && e.path.starts_with('/'))
        );
    }
    for stage in s.stages.iter().flatten() {
        assert!(!stage.duration.is_zero() && stage.target.is_finite() && stage.target >= 0.0);
    }
    if let Some(rate) = s.rate {
        assert!(rate.is_finite() && rate > 0.0);
    }
    assert!(!(s.concurrency.is_some() && (s.rate.is_some() || s.stages.is_some())));
});
