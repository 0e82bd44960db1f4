//! Scripted incidents: a scenario is a timeline of phases, each a fault
//! patch over the configured profile held for a while, plus the answer key
//! (which alerts must fire, in which phase).
//!
//! This module is the scenario as data: parsing a YAML (or JSON) file from
//! `--scenario` or `POST /admin/scenario`, checking its timeline and its
//! patches, and showing it back with durations as text and as seconds.
//! Playing it is the job of the `control` module.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::patch::{FieldError, ProfilePatch};
use crate::profile::FaultProfile;

/// A drill: phases played in order, then back to the configured profile.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, the `scenario` label of `obslab_scenario_phase`.
    pub name: String,
    /// What happens and what to look for, for students.
    #[serde(default)]
    pub description: String,
    /// The answer key: the alerts this drill must trigger.
    #[serde(default)]
    pub expect: Vec<Expectation>,
    /// The timeline, played in order.
    pub phases: Vec<Phase>,
}

/// One step of the timeline. Shown with `duration_seconds` beside the
/// humantime `duration`, so that scripts need no duration parser.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Unique within the scenario; the `phase` label of `obslab_scenario_phase`.
    pub name: String,
    /// How long the phase lasts (humantime: `90s`, `3m`).
    #[serde(deserialize_with = "de_duration")]
    pub duration: Duration,
    /// Changes over the configured profile while the phase lasts; empty for
    /// a calm phase.
    #[serde(default)]
    pub faults: ProfilePatch,
}

/// An entry of the answer key; shown with `after_seconds` beside `after`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The alert's name, e.g. `ObslabHighErrorRatio`.
    pub alert: String,
    /// The phase during which it must start firing.
    pub phase: String,
    /// Roughly how long after the phase starts it fires (humantime), as a
    /// hint for students.
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub after: Option<Duration>,
}

impl Serialize for Phase {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Phase", 4)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("duration", &human(self.duration))?;
        out.serialize_field("duration_seconds", &self.duration.as_secs_f64())?;
        out.serialize_field("faults", &self.faults)?;
        out.end()
    }
}

impl Serialize for Expectation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Expectation", 4)?;
        out.serialize_field("alert", &self.alert)?;
        out.serialize_field("phase", &self.phase)?;
        out.serialize_field("after", &self.after.map(human))?;
        out.serialize_field("after_seconds", &self.after.map(|d| d.as_secs_f64()))?;
        out.end()
    }
}

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    obslab_common::duration::parse(&text).map_err(serde::de::Error::custom)
}

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_duration(d).map(Some)
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path).context("cannot read the file")?;
        Scenario::parse(&text)
    }

    /// Parses YAML (or JSON, a subset of it) and checks the timeline.
    pub fn parse(text: &str) -> anyhow::Result<Scenario> {
        let scenario: Scenario = serde_norway::from_str(text).context("not a valid scenario")?;
        scenario.check_timeline()?;
        Ok(scenario)
    }

    fn check_timeline(&self) -> anyhow::Result<()> {
        if self.name.trim().is_empty() {
            bail!("name: must not be empty");
        }
        if self.phases.is_empty() {
            bail!("phases: at least one phase is needed");
        }
        let mut names = HashSet::new();
        for (i, phase) in self.phases.iter().enumerate() {
            if phase.duration.is_zero() {
                bail!("phases[{i}].duration: must be above 0");
            }
            if !names.insert(phase.name.as_str()) {
                bail!("phases[{i}].name: `{}` is used twice", phase.name);
            }
        }
        for (i, e) in self.expect.iter().enumerate() {
            if !names.contains(e.phase.as_str()) {
                bail!("expect[{i}].phase: no phase is named `{}`", e.phase);
            }
        }
        Ok(())
    }

    /// Checks that every phase's patch applies to `base`, naming the first
    /// invalid field as `phases[i].faults.<field>`.
    pub fn check_faults(&self, base: &FaultProfile) -> Result<(), FieldError> {
        for (i, phase) in self.phases.iter().enumerate() {
            phase.faults.apply(base).map_err(|e| FieldError {
                field: format!("phases[{i}].faults.{}", e.field),
                message: e.message,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPIKE: &str = r#"
name: error-spike
description: The home page fails half the time.
expect:
  - alert: ObslabHighErrorRatio
    phase: spike
    after: 2m
phases:
  - name: calm
    duration: 1m
  - name: spike
    duration: 3m
    faults:
      routes:
        "/": { error_rate: 0.5 }
"#;

    #[test]
    fn a_scenario_file_parses_with_its_answer_key() {
        let s = Scenario::parse(SPIKE).unwrap();
        assert_eq!(s.name, "error-spike");
        assert_eq!(s.phases[1].duration, Duration::from_secs(180));
        assert_eq!(s.expect[0].alert, "ObslabHighErrorRatio");
    }

    #[test]
    fn bad_timelines_are_refused_with_the_culprit() {
        let cases = [
            (
                SPIKE.replace("duration: 1m", "duration: 0s"),
                "phases[0].duration",
            ),
            (SPIKE.replace("name: calm", "name: spike"), "used twice"),
            (
                SPIKE.replace("phase: spike", "phase: nope"),
                "expect[0].phase",
            ),
            (SPIKE.replace("duration: 1m", "duration: soon"), "soon"),
            (SPIKE.replace("description", "descripton"), "descripton"),
            (
                SPIKE.replace("after: 2m", "after: 2 minutes-ish"),
                "minutes-ish",
            ),
        ];
        for (text, culprit) in cases {
            let err = format!("{:#}", Scenario::parse(&text).unwrap_err());
            assert!(err.contains(culprit), "{culprit} not in: {err}");
        }
    }
}
