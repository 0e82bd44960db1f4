//! The fault profile in force, exported as gauges, and its changes as a
//! counter, so Grafana can draw what was injected beside what was observed
//! and annotate every change. Fixed `obslab_` names: they are not part of the
//! Flask app's contract, and `--metrics-namespace` leaves them alone.

use prometheus::{
    Gauge, GaugeVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use crate::profile::{FaultProfile, Route};

/// Who changed the fault profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// `PATCH /admin/faults`.
    Admin,
    /// A scenario phase began or ended.
    Scenario,
    /// `POST /admin/faults/reset` or `DELETE /admin/scenario`.
    Reset,
}

impl ChangeSource {
    const ALL: [ChangeSource; 3] = [
        ChangeSource::Admin,
        ChangeSource::Scenario,
        ChangeSource::Reset,
    ];

    fn as_str(self) -> &'static str {
        match self {
            ChangeSource::Admin => "admin",
            ChangeSource::Scenario => "scenario",
            ChangeSource::Reset => "reset",
        }
    }
}

/// Gauges of the profile in force and the scenario phase being played.
#[derive(Debug)]
pub struct FaultMetrics {
    error_probability: [Gauge; 3],
    delay_min: [Gauge; 3],
    delay_max: [Gauge; 3],
    slow_timeout: Gauge,
    outage: IntGauge,
    changes: [IntCounter; 3],
    phase: IntGaugeVec,
}

impl FaultMetrics {
    /// Registers the families in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<FaultMetrics> {
        let per_route = |name: &str, help: &str| -> prometheus::Result<[Gauge; 3]> {
            let vec = GaugeVec::new(Opts::new(name, help), &["endpoint"])?;
            registry.register(Box::new(vec.clone()))?;
            Ok(Route::ALL.map(|r| vec.with_label_values(&[r.path()])))
        };
        let error_probability = per_route(
            "obslab_fault_error_probability",
            "Configured probability of an injected failure, by route.",
        )?;
        let delay_min = per_route(
            "obslab_fault_delay_min_seconds",
            "Configured shortest injected delay, by route.",
        )?;
        let delay_max = per_route(
            "obslab_fault_delay_max_seconds",
            "Configured longest injected delay, by route.",
        )?;
        let slow_timeout = Gauge::new(
            "obslab_fault_slow_timeout_seconds",
            "How long a timing-out /slow waits.",
        )?;
        let outage = IntGauge::new(
            "obslab_fault_outage",
            "1 while a total outage is simulated.",
        )?;
        let changes_vec = IntCounterVec::new(
            Opts::new(
                "obslab_fault_changes_total",
                "Changes of the fault profile, by source.",
            ),
            &["source"],
        )?;
        let phase = IntGaugeVec::new(
            Opts::new(
                "obslab_scenario_phase",
                "1 for the scenario phase being played.",
            ),
            &["scenario", "phase"],
        )?;
        registry.register(Box::new(slow_timeout.clone()))?;
        registry.register(Box::new(outage.clone()))?;
        registry.register(Box::new(changes_vec.clone()))?;
        registry.register(Box::new(phase.clone()))?;
        let changes = ChangeSource::ALL.map(|s| changes_vec.with_label_values(&[s.as_str()]));
        Ok(FaultMetrics {
            error_probability,
            delay_min,
            delay_max,
            slow_timeout,
            outage,
            changes,
            phase,
        })
    }

    /// Shows `profile` as the one in force.
    pub fn show(&self, profile: &FaultProfile) {
        for (i, route) in Route::ALL.into_iter().enumerate() {
            let faults = profile.route(route);
            self.error_probability[i].set(faults.error_rate);
            self.delay_min[i].set(faults.delay_min.as_secs_f64());
            self.delay_max[i].set(faults.delay_max.as_secs_f64());
        }
        self.slow_timeout.set(profile.slow_timeout.as_secs_f64());
        self.outage.set(i64::from(profile.outage));
    }

    /// Counts a change of the profile.
    pub fn changed(&self, source: ChangeSource) {
        self.changes[source as usize].inc();
    }

    /// Shows `phase` of `scenario` as the one being played, and only it.
    pub fn enter_phase(&self, scenario: &str, phase: &str) {
        self.phase.reset();
        self.phase.with_label_values(&[scenario, phase]).set(1);
    }

    /// No scenario is being played.
    pub fn leave_scenario(&self) {
        self.phase.reset();
    }
}
