//! The one owner of fault changes. Every change of the profile in force (an
//! admin patch, a reset, a scenario phase beginning, a scenario ending) goes
//! through [`FaultControl`], under one lock, and reaches the fault gauges in
//! the same step; requests only read the profile, without a lock.
//!
//! Scenarios are played here too, each in a task of its own that sleeps
//! through its phases (`--scenario-speed` divides the durations). Stopping or
//! replacing a scenario does not rely on cancelling that task, whose
//! cancellation would land only at its next await: every scenario started
//! gets a number, and its task applies a phase, or restores the configured
//! profile at the end, only after checking under the lock that its number is
//! still the current one. A stop that meets a phase boundary thus takes
//! effect either before the phase (which is then never applied) or after it
//! (and undoes it); a stopped scenario never changes anything again.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use prometheus::Registry;
use serde::{Serialize, Serializer};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::error_type::ErrorType;
use crate::fault_metrics::{ChangeSource, FaultMetrics};
use crate::faults::{Decision, Faults};
use crate::patch::{FieldError, ProfilePatch};
use crate::profile::{FaultProfile, Route};
use crate::scenario::Scenario;
use crate::timestamp::now;

/// The fault profile in force, its changes, and the scenario being played.
#[derive(Debug)]
pub struct FaultControl {
    faults: Faults,
    defaults: FaultProfile,
    gauges: FaultMetrics,
    speed: f64,
    /// Held for every change of the profile. A std mutex: it is never held
    /// across an await, and requests never take it.
    player: Mutex<Player>,
}

/// What the lock guards besides the changes themselves.
#[derive(Debug, Default)]
struct Player {
    /// How many scenarios were started; numbers each one.
    started: u64,
    /// The scenario being, or last, played; `None` once stopped.
    current: Option<Playing>,
}

/// A scenario started by [`FaultControl::start_scenario`].
#[derive(Debug)]
struct Playing {
    number: u64,
    scenario: Arc<Scenario>,
    started: Instant,
    started_at: String,
    /// Index of the phase being played; `phases.len()` once finished.
    phase: usize,
    finished: bool,
    /// Dropped with this value when the scenario is stopped or replaced,
    /// which wakes its task so that it ends before its phase is over.
    _stop: oneshot::Sender<()>,
}

/// `GET /admin/scenario`'s answer: the scenario being, or last, played.
#[derive(Debug, Default, Serialize)]
pub struct Status {
    /// Whether a scenario is being played.
    pub running: bool,
    /// The scenario being or last played; absent after a stop.
    #[serde(flatten)]
    pub played: Option<Played>,
}

/// A scenario being or last played, as [`Status`] shows it.
#[derive(Debug, Serialize)]
pub struct Played {
    /// The scenario's name.
    pub name: String,
    /// The phase being played; absent once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Its index; the number of phases once finished.
    pub phase_index: usize,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// Wall time since it started (not divided by the speed).
    pub elapsed_seconds: f64,
    /// The `--scenario-speed` it is played at.
    pub speed: f64,
    /// The whole scenario, answer key included.
    #[serde(serialize_with = "shared")]
    pub scenario: Arc<Scenario>,
}

fn shared<S: Serializer>(scenario: &Arc<Scenario>, s: S) -> Result<S::Ok, S::Error> {
    Scenario::serialize(scenario, s)
}

impl FaultControl {
    /// Puts `defaults` in force, with decisions seeded by `seed`, and
    /// registers the fault gauges in `registry`; scenarios will be played
    /// `speed` times faster than written.
    pub fn new(
        defaults: FaultProfile,
        seed: u64,
        speed: f64,
        registry: &Registry,
    ) -> prometheus::Result<FaultControl> {
        let gauges = FaultMetrics::register(registry)?;
        gauges.show(&defaults);
        Ok(FaultControl {
            faults: Faults::new(defaults.clone(), seed),
            defaults,
            gauges,
            speed,
            player: Mutex::default(),
        })
    }

    /// What happens to one request of `route`.
    pub fn decide(&self, route: Route) -> Decision {
        self.faults.decide(route)
    }

    /// The type `GET /error` fails with, drawn by the weights in force.
    pub fn manual_error(&self) -> ErrorType {
        self.faults.manual_error()
    }

    /// Whether a total outage is being simulated.
    pub fn outage(&self) -> bool {
        self.faults.outage()
    }

    /// The profile in force.
    pub fn profile(&self) -> Arc<FaultProfile> {
        self.faults.profile()
    }

    /// The profile the server was configured with.
    pub fn defaults(&self) -> &FaultProfile {
        &self.defaults
    }

    /// Applies `patch` over the profile in force, whole or not at all, and
    /// returns the profile it installed: the one to answer with, since a
    /// change landing once the lock is released (a scenario phase) would
    /// be in force by the time the profile were read again.
    pub fn patch(&self, patch: &ProfilePatch) -> Result<Arc<FaultProfile>, FieldError> {
        let player = self.lock();
        let profile = patch.apply(&self.faults.profile())?;
        Ok(self.put_in_force(&player, profile, ChangeSource::Admin))
    }

    /// Stops any scenario and restores the configured profile, which it
    /// returns as installed (see [`FaultControl::patch`]).
    pub fn reset(&self) -> Arc<FaultProfile> {
        let mut player = self.lock();
        player.current = None;
        self.gauges.leave_scenario();
        self.put_in_force(&player, self.defaults.clone(), ChangeSource::Reset)
    }

    /// Starts playing `scenario`, stopping any other first. Call it inside
    /// the runtime: the scenario plays in a task of its own.
    pub fn start_scenario(self: &Arc<Self>, scenario: Scenario) {
        let mut player = self.lock();
        player.started += 1;
        let number = player.started;
        let scenario = Arc::new(scenario);
        let (stop, stopped) = oneshot::channel();
        // Replacing the previous one drops its stop sender: its task ends.
        player.current = Some(Playing {
            number,
            scenario: scenario.clone(),
            started: Instant::now(),
            started_at: now(),
            phase: 0,
            finished: false,
            _stop: stop,
        });
        tokio::spawn(self.clone().play(scenario, number, stopped));
    }

    /// The scenario being, or last, played.
    pub fn scenario_status(&self) -> Status {
        let player = self.lock();
        let Some(playing) = &player.current else {
            return Status::default();
        };
        let scenario = &playing.scenario;
        Status {
            running: !playing.finished,
            played: Some(Played {
                name: scenario.name.clone(),
                phase: scenario.phases.get(playing.phase).map(|p| p.name.clone()),
                phase_index: playing.phase,
                started_at: playing.started_at.clone(),
                elapsed_seconds: playing.started.elapsed().as_secs_f64(),
                speed: self.speed,
                scenario: scenario.clone(),
            }),
        }
    }

    /// Plays scenario `number`: each phase over the configured profile for
    /// its length, then the configured profile again.
    async fn play(
        self: Arc<Self>,
        scenario: Arc<Scenario>,
        number: u64,
        mut stopped: oneshot::Receiver<()>,
    ) {
        for (index, phase) in scenario.phases.iter().enumerate() {
            let profile = match phase.faults.apply(&self.defaults) {
                Ok(profile) => profile,
                Err(e) => {
                    tracing::error!(scenario = %scenario.name, phase = %phase.name, "skipping phase: {e}");
                    continue;
                }
            };
            if !self.enter_phase(number, index, profile) {
                return;
            }
            tracing::info!(scenario = %scenario.name, phase = %phase.name, duration = %humantime::format_duration(phase.duration), "scenario phase");
            let length = Duration::try_from_secs_f64(phase.duration.as_secs_f64() / self.speed)
                .unwrap_or(Duration::MAX);
            tokio::select! {
                // When the phase ends in the instant of a stop, the check
                // under the lock decides, not the order of these branches.
                biased;
                () = tokio::time::sleep(length) => {}
                _ = &mut stopped => return,
            }
        }
        self.finish(number);
    }

    /// Puts phase `index` of scenario `number` in force, if that scenario is
    /// still the current one; `false` when it was stopped or replaced.
    fn enter_phase(&self, number: u64, index: usize, profile: FaultProfile) -> bool {
        let mut player = self.lock();
        let Some(playing) = current(&mut player, number) else {
            return false;
        };
        playing.phase = index;
        let scenario = playing.scenario.clone();
        self.put_in_force(&player, profile, ChangeSource::Scenario);
        self.gauges
            .enter_phase(&scenario.name, &scenario.phases[index].name);
        true
    }

    /// Restores the configured profile at the end of scenario `number`, if
    /// that scenario is still the current one.
    fn finish(&self, number: u64) {
        let mut player = self.lock();
        let Some(playing) = current(&mut player, number) else {
            return;
        };
        playing.phase = playing.scenario.phases.len();
        playing.finished = true;
        let name = playing.scenario.name.clone();
        self.put_in_force(&player, self.defaults.clone(), ChangeSource::Scenario);
        self.gauges.leave_scenario();
        tracing::info!(scenario = %name, "scenario finished; configured faults restored");
    }

    /// Puts `profile` in force, shows it in the gauges and counts the change;
    /// returns it as installed. Borrowing the guard proves the lock is held.
    fn put_in_force(
        &self,
        _held: &Player,
        profile: FaultProfile,
        source: ChangeSource,
    ) -> Arc<FaultProfile> {
        let profile = Arc::new(profile);
        self.gauges.show(&profile);
        self.gauges.changed(source);
        self.faults.set_profile(profile.clone());
        tracing::info!(?source, "fault profile changed");
        profile
    }

    fn lock(&self) -> MutexGuard<'_, Player> {
        self.player
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Scenario `number`, when it is the one being played.
fn current(player: &mut Player, number: u64) -> Option<&mut Playing> {
    player.current.as_mut().filter(|p| p.number == number)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRILL: &str = r#"
name: drill
phases:
  - name: calm
    duration: 1m
  - name: spike
    duration: 1m
    faults: { routes: { "/": { error_rate: 1 } } }
"#;

    const MINUTE: Duration = Duration::from_secs(60);

    fn control() -> (Arc<FaultControl>, Registry) {
        let registry = Registry::new();
        let control = FaultControl::new(FaultProfile::example(), 1, 1.0, &registry).unwrap();
        (Arc::new(control), registry)
    }

    /// The `scenario/phase` pairs `obslab_scenario_phase` shows as playing.
    fn phases_shown(registry: &Registry) -> Vec<String> {
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("obslab_scenario_phase{"))
            .filter(|l| l.ends_with("} 1"))
            .map(|l| l.trim_end_matches("} 1").to_string())
            .collect()
    }

    /// Lets the runtime run the woken tasks until `done`, at most 10 turns.
    async fn run_until(done: impl Fn() -> bool) {
        for _ in 0..10 {
            if done() {
                return;
            }
            tokio::task::yield_now().await;
        }
        assert!(done(), "the tasks never got there");
    }

    #[tokio::test(start_paused = true)]
    async fn a_scenario_plays_each_phase_for_its_length_then_restores_the_defaults() {
        let (control, registry) = control();
        control.start_scenario(Scenario::parse(DRILL).unwrap());
        run_until(|| !phases_shown(&registry).is_empty()).await;
        assert_eq!(
            phases_shown(&registry),
            [r#"phase="calm",scenario="drill""#]
        );

        tokio::time::advance(MINUTE).await;
        run_until(|| control.profile().home.error_rate == 1.0).await;
        assert_eq!(
            phases_shown(&registry),
            [r#"phase="spike",scenario="drill""#]
        );
        let played = control.scenario_status().played.unwrap();
        assert_eq!(played.phase.as_deref(), Some("spike"));

        tokio::time::advance(MINUTE).await;
        run_until(|| !control.scenario_status().running).await;
        assert_eq!(control.profile().home, control.defaults().home);
        assert!(phases_shown(&registry).is_empty());
        assert_eq!(control.scenario_status().played.unwrap().phase_index, 2);
    }

    /// A stop landing as a phase ends: the task is woken for the next phase
    /// but has not run yet. Cancelling it is not what saves the day here; the
    /// check under the lock is.
    #[tokio::test(start_paused = true)]
    async fn a_scenario_stopped_at_a_phase_boundary_applies_no_further_phase() {
        let (control, registry) = control();
        control.start_scenario(Scenario::parse(DRILL).unwrap());
        run_until(|| !phases_shown(&registry).is_empty()).await;

        tokio::time::advance(MINUTE).await;
        control.reset();
        // The task holds the last other reference until it ends.
        run_until(|| Arc::strong_count(&control) == 1).await;

        assert_eq!(
            control.profile().home,
            control.defaults().home,
            "the spike phase was applied after the stop"
        );
        assert!(
            phases_shown(&registry).is_empty(),
            "{:?}",
            phases_shown(&registry)
        );
        assert!(!control.scenario_status().running);
    }
}
