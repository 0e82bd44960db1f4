//! Durations and the other single values of the command lines (the one
//! duration parser of every binary and its non-zero wrapper; loadgen's
//! counts and headers; the server's rates): what parses is in range and a
//! duration written back parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_common::duration;
use obslab_loadgen::value;
use obslab_server::values;

fuzz_target!(|s: &str| {
    if let Ok(d) = duration::parse_nonzero(s) {
        assert!(!d.is_zero());
        assert_eq!(duration::parse(s), Ok(d));
    }
    if let Ok(d) = duration::parse(s) {
        let written = humantime::format_duration(d).to_string();
        assert_eq!(duration::parse(&written), Ok(d), "{written:?}");
    }
    if let Ok(r) = values::parse_rate(s) {
        assert!((0.0..=1.0).contains(&r));
    }
    if let Ok(n) = value::parse_count(s) {
        assert!(n >= 1);
    }
    let _ = value::parse_header(s);
    let _ = value::parse_target(s);
});
