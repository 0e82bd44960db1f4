//! Everything a request handler can reach, in one shared value.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::config::{AdminToken, Config};
use crate::fault_metrics::{ChangeSource, FaultMetrics};
use crate::faults::Faults;
use crate::metrics::Metrics;
use crate::profile::FaultProfile;
use crate::scenario::{Playing, Scenario};

/// The state shared by every request of a running server.
#[derive(Debug)]
pub struct AppState {
    pub faults: Faults,
    pub metrics: Metrics,
    /// Log one line per request.
    pub access_log: bool,
    /// Opens the admin API; `None` keeps it off.
    pub admin_token: Option<AdminToken>,
    /// Speed-up of scenario timelines.
    pub scenario_speed: f64,
    defaults: FaultProfile,
    fault_metrics: FaultMetrics,
    playing: Mutex<Option<Playing>>,
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
        let fault_metrics = FaultMetrics::register(metrics.registry())?;
        fault_metrics.show(&config.faults);
        Ok(AppState {
            faults: Faults::new(config.faults.clone(), seed),
            metrics,
            access_log: config.access_log,
            admin_token: config.admin_token.clone(),
            scenario_speed: config.scenario_speed,
            defaults: config.faults.clone(),
            fault_metrics,
            playing: Mutex::new(None),
            draining: AtomicBool::new(false),
        })
    }

    /// The fault profile the server was configured with.
    pub fn defaults(&self) -> &FaultProfile {
        &self.defaults
    }

    /// The gauges of the fault profile and scenario phase.
    pub fn fault_metrics(&self) -> &FaultMetrics {
        &self.fault_metrics
    }

    /// Puts `profile` in force, shows it in the gauges and counts the change.
    pub fn apply_profile(&self, profile: FaultProfile, source: ChangeSource) {
        self.fault_metrics.show(&profile);
        self.fault_metrics.changed(source);
        self.faults.set_profile(profile);
        tracing::info!(?source, "fault profile changed");
    }

    /// Starts playing `scenario`, stopping any other first.
    pub fn start_scenario(self: &Arc<Self>, scenario: Scenario) {
        let mut playing = self.playing();
        if let Some(previous) = playing.take() {
            previous.task.abort();
        }
        let scenario = Arc::new(scenario);
        let phase = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(crate::scenario::play(
            self.clone(),
            scenario.clone(),
            self.scenario_speed,
            phase.clone(),
        ));
        *playing = Some(Playing {
            scenario,
            started: Instant::now(),
            started_at: crate::timestamp::now(),
            speed: self.scenario_speed,
            phase,
            task,
        });
    }

    /// Stops any scenario and restores the configured profile.
    pub fn reset(&self) {
        if let Some(previous) = self.playing().take() {
            previous.task.abort();
        }
        self.fault_metrics.leave_scenario();
        self.apply_profile(self.defaults.clone(), ChangeSource::Reset);
    }

    /// The scenario being (or last) played. A std mutex: it is never held
    /// across an await, and only the admin API takes it.
    pub fn playing(&self) -> MutexGuard<'_, Option<Playing>> {
        self.playing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
