//! The server's drill scenarios (`--scenario`, `POST /admin/scenario`):
//! any text is a scenario or an `Err`; a scenario has a name, phases of
//! non-zero length with unique names, and its patches are checked against
//! the default profile without panicking.
#![no_main]

use std::collections::HashSet;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use obslab_server::Config;
use obslab_server::profile::FaultProfile;
use obslab_server::scenario::Scenario;

static DEFAULTS: LazyLock<FaultProfile> =
    LazyLock::new(|| Config::try_parse_from(["obslab-server"]).unwrap().faults);

fuzz_target!(|text: &str| {
    let Ok(s) = Scenario::parse(text) else { return };
    assert!(!s.name.trim().is_empty() && !s.phases.is_empty());
    let mut names = HashSet::new();
    for phase in &s.phases {
        assert!(!phase.duration.is_zero());
        assert!(names.insert(phase.name.as_str()));
    }
    let _ = s.check_faults(&DEFAULTS);
});
