//! Durations and the other single values of the command lines (loadgen's
//! `--duration`, counts and headers; the server's delays and rates): what
//! parses is in range and a duration written back parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_loadgen::value;
use obslab_server::values;

fuzz_target!(|s: &str| {
    if let Ok(d) = value::parse_duration(s) {
        assert!(!d.is_zero());
        let written = humantime::format_duration(d).to_string();
        assert_eq!(value::parse_duration(&written), Ok(d), "{written:?}");
    }
    if let Ok(d) = values::parse_duration(s) {
        let written = humantime::format_duration(d).to_string();
        assert_eq!(values::parse_duration(&written), Ok(d), "{written:?}");
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
