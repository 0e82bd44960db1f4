//! Everything a request handler can reach, in one shared value.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::Config;
use crate::faults::Faults;
use crate::metrics::Metrics;

/// The state shared by every request of a running server.
#[derive(Debug)]
pub struct AppState {
    pub faults: Faults,
    pub metrics: Metrics,
    /// Log one line per request.
    pub access_log: bool,
    draining: AtomicBool,
}

/// How handlers hold the state.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// Builds the state from a validated configuration; without `--seed`,
    /// the fault RNG is seeded from the OS.
    pub fn new(config: &Config) -> anyhow::Result<AppState> {
        let seed = config.seed.unwrap_or_else(rand::random);
        Ok(AppState {
            faults: Faults::new(config.faults.clone(), seed),
            metrics: Metrics::new(&config.metrics_namespace)?,
            access_log: config.access_log,
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
