//! The incident drills of `scenarios/`: each file loads as `--scenario` loads
//! it, and its answer key fits its timeline and the alert rules. Whether the
//! alerts really fire on cue is proven against a real Prometheus by
//! `tests/e2e/drills.sh`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use obslab_server::Config;
use obslab_server::patch::ProfilePatch;
use obslab_server::scenario::Scenario;

/// The longest window of the alert rules: a recovery phase shorter than this
/// may end before every alert has resolved.
const LONGEST_RULE_WINDOW: Duration = Duration::from_secs(5 * 60);

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `scenarios/*.yml`, by name.
fn drills() -> Vec<(String, PathBuf)> {
    let mut drills: Vec<_> = std::fs::read_dir(repository().join("scenarios"))
        .expect("a scenarios/ folder")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml"))
        .map(|path| {
            (
                path.file_stem().unwrap().to_string_lossy().into_owned(),
                path,
            )
        })
        .collect();
    drills.sort();
    assert!(
        drills.len() >= 5,
        "the lab ships at least five drills: {drills:?}"
    );
    drills
}

fn load(path: &Path) -> Scenario {
    Scenario::load(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
}

/// The names of the alerts of `prometheus/rules/*.yml`.
fn alert_names() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(repository().join("prometheus/rules")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        names.extend(text.lines().filter_map(|line| {
            let rest = line.trim_start().strip_prefix("- alert:")?;
            Some(rest.trim().to_string())
        }));
    }
    assert!(!names.is_empty(), "no alert rule found");
    names
}

#[test]
fn every_drill_loads_as_the_server_loads_it() {
    for (name, path) in drills() {
        let config =
            Config::try_parse_from(["obslab-server", "--scenario", path.to_str().unwrap()])
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        let scenario = config.scenario.expect("the scenario is loaded");
        assert_eq!(scenario.name, name, "a drill is named after its file");
        assert!(
            scenario.description.split_whitespace().count() >= 20,
            "{name}: the description tells students what happens and what to look for"
        );
    }
}

#[test]
fn every_answer_key_names_a_rule_and_a_moment_inside_its_phase() {
    let alerts = alert_names();
    for (name, path) in drills() {
        let scenario = load(&path);
        assert!(!scenario.expect.is_empty(), "{name}: no answer key");
        for e in &scenario.expect {
            assert!(
                alerts.contains(&e.alert),
                "{name}: {} is not an alert of prometheus/rules/",
                e.alert
            );
            let phase = scenario.phases.iter().find(|p| p.name == e.phase).unwrap();
            let after = e
                .after
                .unwrap_or_else(|| panic!("{name}: {} has no `after` hint", e.alert));
            assert!(
                after < phase.duration,
                "{name}: {} is due {after:?} into {}, which lasts {:?}",
                e.alert,
                phase.name,
                phase.duration
            );
        }
    }
}

#[test]
fn every_drill_starts_calm_and_ends_with_a_recovery_long_enough_to_resolve() {
    let calm = ProfilePatch::default();
    for (name, path) in drills() {
        let scenario = load(&path);
        let (first, last) = (&scenario.phases[0], scenario.phases.last().unwrap());
        assert_eq!(first.faults, calm, "{name}: the first phase is calm");
        assert_eq!(last.faults, calm, "{name}: the last phase is calm");
        assert_eq!(last.name, "recovery", "{name}: the last phase");
        assert!(
            last.duration >= LONGEST_RULE_WINDOW,
            "{name}: a recovery of {:?} is shorter than the rules' 5 m windows",
            last.duration
        );
        assert!(
            scenario.phases.iter().any(|p| p.faults != calm),
            "{name}: no phase injects anything"
        );
    }
}
