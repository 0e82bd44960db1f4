//! Graceful shutdown: the signal that starts it, and the drain that follows.

use std::future::Future;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::state::SharedState;

/// Installs the SIGINT and SIGTERM handlers now, so that a signal arriving
/// right after start-up is not lost to the default action, and returns a
/// future that resolves on the first of them. Call it inside the runtime.
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            tokio::select! {
                () = recv(interrupt, "SIGINT") => tracing::info!("SIGINT received"),
                () = recv(terminate, "SIGTERM") => tracing::info!("SIGTERM received"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received");
        } else {
            std::future::pending::<()>().await;
        }
    }
}

/// Waits for a signal whose handler is installed; forever if it could not be.
#[cfg(unix)]
async fn recv(signal: std::io::Result<tokio::signal::unix::Signal>, name: &'static str) {
    match signal {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for {name}");
            std::future::pending::<()>().await;
        }
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
