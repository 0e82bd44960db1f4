//! `PATCH /admin/faults`: any body is a patch or an `Err`; a patch that
//! applies gives a profile whose view (what `GET /admin/faults` answers),
//! sent back as a patch, applies to the same profile.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use obslab_server::Config;
use obslab_server::patch::{ProfilePatch, ProfileView};
use obslab_server::profile::{FaultProfile, Route};

static DEFAULTS: LazyLock<FaultProfile> =
    LazyLock::new(|| Config::try_parse_from(["obslab-server"]).unwrap().faults);

fuzz_target!(|body: &[u8]| {
    let Ok(patch) = serde_json::from_slice::<ProfilePatch>(body) else {
        return;
    };
    let Ok(profile) = patch.apply(&DEFAULTS) else {
        return;
    };
    let view = serde_json::to_string(&ProfileView::from(&profile)).unwrap();
    let back: ProfilePatch = serde_json::from_str(&view).unwrap();
    let again = back
        .apply(&DEFAULTS)
        .unwrap_or_else(|e| panic!("the view {view} does not apply: {e}"));
    for route in Route::ALL {
        assert_eq!(profile.route(route), again.route(route), "{view}");
    }
    assert_eq!(profile.slow_timeout, again.slow_timeout, "{view}");
    assert_eq!(profile.outage, again.outage);
    assert_eq!(
        profile.error_weights.as_array(),
        again.error_weights.as_array(),
        "{view}"
    );
});
