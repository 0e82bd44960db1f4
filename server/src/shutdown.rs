//! Graceful shutdown: what follows the signal (`obslab_common::shutdown`),
//! the delay during which the server is unready but still serving, and the
//! drain.
//!
//! The order is what orchestrators need: first `/readyz` answers 503 (for
//! `--shutdown-delay`, so that a readiness probe or a load balancer can see
//! it), then the listener closes, then in-flight requests get up to
//! `--shutdown-grace` to finish.

use std::future::Future;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::state::SharedState;

/// Wraps `shutdown` into the signal that closes the listener. When
/// `shutdown` fires, `/readyz` turns 503 at once; the listener keeps
/// accepting and serving for `delay`, so that orchestrators can see the
/// server unready before its connections are refused; then the returned
/// future resolves, which closes the listener, and the receiver learns that
/// the drain has begun.
pub fn draining(
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    delay: Duration,
) -> (
    impl Future<Output = ()> + Send + 'static,
    oneshot::Receiver<()>,
) {
    let (started, on_start) = oneshot::channel();
    let signal = async move {
        shutdown.await;
        state.start_draining();
        if !delay.is_zero() {
            tracing::info!(
                delay = %humantime::format_duration(delay),
                "not ready: still serving for the shutdown delay"
            );
            tokio::time::sleep(delay).await;
        }
        tracing::info!("draining: no new connections; waiting for in-flight requests");
        let _ = started.send(());
    };
    (signal, on_start)
}

/// Waits for `server` to finish its in-flight requests, at most `grace`.
pub async fn drain(server: impl Future<Output = ()>, grace: Duration) {
    match tokio::time::timeout(grace, server).await {
        Ok(()) => tracing::info!("drained: all in-flight requests finished"),
        Err(_) => tracing::warn!(
            grace = %humantime::format_duration(grace),
            "shutdown grace period elapsed; abandoning the requests still in flight"
        ),
    }
}
