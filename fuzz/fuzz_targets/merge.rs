//! `obslab-loadgen merge`: any input (reports among log lines) gives
//! reports or an `Err` naming the line, and reports found are added up
//! or refused with an `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obslab_loadgen::merge::{combine, reports_in};

fuzz_target!(|bytes: &[u8]| {
    // `merge` reads its inputs lossily, as here.
    let text = String::from_utf8_lossy(bytes);
    let Ok(found) = reports_in("fuzz", &text) else {
        return;
    };
    assert!(!found.is_empty());
    let _ = combine(found);
});
