//! `PATCH /admin/faults` answers with the profile the patch installed, even
//! when another change (a scenario phase, a reset) lands right after it.
//!
//! Before, the handler read the profile in force again once the lock was
//! released, so a change landing in between was what the client saw. The
//! window is a few hundred nanoseconds, so the patches go through the real
//! filter in this process (`warp::test`, no socket: a socket's round trip
//! would make the window a thousand times rarer) while a thread resets the
//! faults without pause. Each patch sets a value of its own, which the
//! answer must show; the old handler showed the reset's profile within a few
//! thousand patches (about 11 in 10,000 here).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

const TOKEN: &str = "drill-token-0123456789";
const PATCHES: u32 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_patch_answers_with_the_profile_it_installed_while_others_change_it() {
    let config = obslab_server::Config::try_parse_from([
        "obslab-server",
        "--admin-token",
        TOKEN,
        "--home-error-rate",
        "0.9",
    ])
    .unwrap();
    let state = Arc::new(obslab_server::AppState::new(&config).unwrap());
    let app = obslab_server::routes::app(state.clone());

    let stop = Arc::new(AtomicBool::new(false));
    let resets = std::thread::spawn({
        let (state, stop) = (state.clone(), stop.clone());
        move || {
            let mut n = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                state.faults.reset();
                n += 1;
            }
            n
        }
    });

    let mut wrong = Vec::new();
    for i in 1..=PATCHES {
        // Never the configured 0.9 that a reset puts back.
        let rate = f64::from(i) / f64::from(PATCHES) / 2.0;
        let body = json!({"routes": {"/": {"error_rate": rate}}}).to_string();
        let answer = warp::test::request()
            .method("PATCH")
            .path("/admin/faults")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(body)
            .reply(&app)
            .await;
        assert_eq!(answer.status(), 200);
        let view: Value = serde_json::from_slice(answer.body()).unwrap();
        if view["routes"]["/"]["error_rate"] != json!(rate) {
            wrong.push((rate, view["routes"]["/"]["error_rate"].clone()));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let resets = resets.join().unwrap();

    assert!(resets > 0, "the other thread changed nothing");
    assert!(
        wrong.is_empty(),
        "{} of {PATCHES} answers showed another profile than the one installed \
         ({resets} resets meanwhile); first (sent, shown): {:?}",
        wrong.len(),
        wrong.first()
    );
}
