//! Graceful shutdown: the signal that starts it, and the drain that follows.

use std::future::Future;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::state::SharedState;

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Wraps `shutdown` so that, when it fires, `/readyz` turns 503 before the
/// listener closes, and `started` learns that draining has begun.
pub fn draining(
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (
    impl Future<Output = ()> + Send + 'static,
    oneshot::Receiver<()>,
) {
    let (started, on_start) = oneshot::channel();
    let signal = async move {
        shutdown.await;
        state.start_draining();
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
