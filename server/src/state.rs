//! Everything a request handler can reach, in one shared value.
//!
//! [`AppState`] is built once from the validated [`Config`] and shared by
//! every request through an `Arc`: the fault control (the profile in force
//! and its changes), the metrics, the admin token, and whether the server
//! is draining. Nothing in it is global, so each test server owns its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use obslab_serve::ConnectionMetrics;

use crate::config::{AdminToken, Config};
use crate::control::FaultControl;
use crate::metrics::Metrics;

/// The state shared by every request of a running server.
#[derive(Debug)]
pub struct AppState {
    /// The fault profile in force, its changes and the scenario being played.
    pub faults: Arc<FaultControl>,
    /// The request metrics and the registry every collector lives in.
    pub metrics: Metrics,
    /// Open, refused and timed-out connections, and the limits, in the
    /// same registry.
    pub connections: ConnectionMetrics,
    /// Log one line per request.
    pub access_log: bool,
    /// Opens the admin API; `None` keeps it off.
    pub admin_token: Option<AdminToken>,
    draining: AtomicBool,
}

/// How handlers hold the state.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// Builds the state from a validated configuration; without `--seed`,
    /// the fault RNG is seeded from the OS.
    pub fn new(config: &Config) -> anyhow::Result<AppState> {
        let seed = config.seed.unwrap_or_else(rand::random);
        let metrics = Metrics::new(&config.metrics_namespace)?;
        let connections = ConnectionMetrics::register(metrics.registry(), &config.limits)?;
        let faults = FaultControl::new(
            config.faults.clone(),
            seed,
            config.scenario_speed,
            metrics.registry(),
        )?;
        Ok(AppState {
            faults: Arc::new(faults),
            metrics,
            connections,
            access_log: config.access_log,
            admin_token: config.admin_token.clone(),
            draining: AtomicBool::new(false),
        })
    }

    /// Marks the server as shutting down: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether the server is shutting down.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}
