//! The inbox's Alertmanager webhook (`POST /webhook`): any body is a
//! notification or an `Err` (the 400 answer), and a notification read back
//! from what is stored is the same one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_lab::inbox::payload::Notification;

fuzz_target!(|body: &[u8]| {
    let Ok((notification, raw)) = Notification::parse(body) else {
        return;
    };
    let reloaded = Notification::from_map(&raw).expect("a stored payload reloads");
    assert_eq!(format!("{notification:?}"), format!("{reloaded:?}"));
    for alert in &notification.alerts {
        let _ = (alert.name(), alert.ended());
    }
});
