//! obslab-server: an instrumented, fault-injecting demo web app.
//!
//! [`run`] serves the app on a listener until a shutdown future resolves,
//! then drains. `main` only parses options and sets up logging, so tests drive
//! the real server in-process on `127.0.0.1:0`. The modules below are listed
//! by layer, bottom up: each uses only those of its own layer or below
//! (the architecture page in `docs/` draws them).

// Leaves: the route table, error types, value rules, timestamps, the probe.
pub mod endpoint;
pub mod error_type;
pub mod healthcheck;
pub mod timestamp;
pub mod values;

// The fault domain as data, and the instruments.
pub mod fault_metrics;
pub mod faults;
pub mod metrics;
pub mod patch;
pub mod profile;
pub mod scenario;

// The one owner of fault changes, scenarios included.
pub mod control;

// The app: options, shared state, answers, handlers, admin API, shutdown.
pub mod admin;
pub mod answer;
pub mod config;
pub mod handlers;
pub mod limits;
pub mod shutdown;
pub mod state;

// The request pipeline over all of them.
pub mod routes;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::{Args, Config};
pub use state::AppState;

/// Serves the app on `listener` within `config.limits` until `shutdown`
/// resolves; then `/readyz` turns 503 while the listener still serves for
/// `config.shutdown_delay`, the listener closes, and in-flight requests get
/// up to `config.shutdown_grace` to finish.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = Arc::new(AppState::new(&config)?);
    if let Some(scenario) = config.scenario {
        state.faults.start_scenario(scenario);
    }
    let (signal, drain_begun) = shutdown::draining(state.clone(), shutdown, config.shutdown_delay);
    let connections = Some(state.connections.clone());
    let service = warp::service(routes::app(state));
    let server = obslab_serve::serve(listener, service, config.limits, connections, signal);
    tokio::pin!(server);
    tokio::select! {
        () = &mut server => return Ok(()),
        _ = drain_begun => {}
    }
    shutdown::drain(server, config.shutdown_grace).await;
    Ok(())
}
