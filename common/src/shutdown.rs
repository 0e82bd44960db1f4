//! The signal that ends a binary's work: the server's and the inbox's
//! graceful shutdown, the load generator's early stop (with its report).

use std::future::Future;

/// Installs the SIGINT and SIGTERM handlers now, so that a signal arriving
/// right after start-up is not lost to the default action, and returns a
/// future that resolves on the first of them (logged at info level). Call
/// it inside the tokio runtime.
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
