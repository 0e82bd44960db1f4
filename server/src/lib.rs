//! obslab-server: an instrumented, fault-injecting demo web app.
//!
//! [`run`] serves the app on a listener until a shutdown future resolves,
//! then drains. `main` only parses options and sets up logging, so tests drive
//! the real server in-process on `127.0.0.1:0`.

pub mod admin;
pub mod answer;
pub mod config;
pub mod control;
pub mod endpoint;
pub mod error_type;
pub mod fault_metrics;
pub mod faults;
pub mod handlers;
pub mod healthcheck;
pub mod metrics;
pub mod patch;
pub mod profile;
pub mod routes;
pub mod scenario;
pub mod shutdown;
pub mod state;
pub mod timestamp;
pub mod values;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::{Args, Config};
pub use state::AppState;

/// Serves the app on `listener` until `shutdown` resolves; then `/readyz`
/// turns 503, the listener closes, and in-flight requests get up to
/// `config.shutdown_grace` to finish.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = Arc::new(AppState::new(&config)?);
    if let Some(scenario) = config.scenario {
        state.faults.start_scenario(scenario);
    }
    let (signal, draining) = shutdown::draining(state.clone(), shutdown);
    let server = warp::serve(routes::app(state))
        .incoming(listener)
        .graceful(signal)
        .run();
    tokio::pin!(server);
    tokio::select! {
        () = &mut server => return Ok(()),
        _ = draining => {}
    }
    shutdown::drain(server, config.shutdown_grace).await;
    Ok(())
}
