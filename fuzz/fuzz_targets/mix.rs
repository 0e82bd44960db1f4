//! `--mix`: a mix that parses is valid (non-empty, paths from `/`, weights of
//! at least 1) and, written back as `METHOD PATH=WEIGHT,...`, parses to the
//! same entries; anything else is an `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_loadgen::mix::{MixEntry, parse_mix};

fn key(e: &MixEntry) -> (String, String, u32) {
    (e.method.to_string(), e.path.clone(), e.weight)
}

fuzz_target!(|spec: &str| {
    let Ok(mix) = parse_mix(spec) else { return };
    let entries: Vec<_> = mix.entries().iter().map(key).collect();
    assert!(!entries.is_empty());
    for (_, path, weight) in &entries {
        assert!(path.starts_with('/') && *weight >= 1);
    }
    let written = entries
        .iter()
        .map(|(m, p, w)| format!("{m} {p}={w}"))
        .collect::<Vec<_>>()
        .join(",");
    let again = parse_mix(&written).unwrap_or_else(|e| panic!("{written:?}: {e}"));
    let again: Vec<_> = again.entries().iter().map(key).collect();
    assert_eq!(entries, again, "{written:?}");
});
