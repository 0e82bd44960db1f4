//! `--threshold`: a threshold that parses displays as what was written and
//! that text parses to a threshold judging every value the same way; an
//! error is an `Err` with a message, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_loadgen::threshold::{Measure, Metric, parse_threshold};

/// Every metric measures the same value.
struct Fixed(f64);

impl Measure for Fixed {
    fn measure(&self, _: Metric) -> f64 {
        self.0
    }
}

fuzz_target!(|expr: &str| {
    let threshold = match parse_threshold(expr) {
        Ok(t) => t,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let written = threshold.to_string();
    let again = parse_threshold(&written).unwrap_or_else(|e| panic!("{written:?}: {e}"));
    for v in [0.0, 0.5, 1.0, 5.0, 99.9, 500.0, 1e6, f64::MAX] {
        assert_eq!(
            threshold.evaluate(&Fixed(v)),
            again.evaluate(&Fixed(v)),
            "{written:?}"
        );
    }
});
