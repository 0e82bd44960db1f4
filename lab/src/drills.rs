//! `obslab drill`: the drills of `scenarios/`, built into the binary, played
//! over the server's admin API.
//!
//! `status` reads the durations the server gives in seconds
//! (`duration_seconds`, `after_seconds`) and its `speed`, so the countdowns
//! need no duration parser: scenario time = wall time × speed.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context as _, anyhow};
use obslab_server::scenario::Scenario;
use reqwest::Method;
use serde_json::Value;

use crate::cli::{DrillCommand, LabArgs, drill_path};
use crate::http::Admin;

/// The drills of `scenarios/`, by file name without `.yml`.
pub const BUILT_IN: [(&str, &str); 6] = [
    (
        "error-spike",
        include_str!("../../scenarios/error-spike.yml"),
    ),
    (
        "health-flapping",
        include_str!("../../scenarios/health-flapping.yml"),
    ),
    (
        "latency-degradation",
        include_str!("../../scenarios/latency-degradation.yml"),
    ),
    (
        "slo-fast-burn",
        include_str!("../../scenarios/slo-fast-burn.yml"),
    ),
    (
        "slow-timeouts",
        include_str!("../../scenarios/slow-timeouts.yml"),
    ),
    (
        "total-outage",
        include_str!("../../scenarios/total-outage.yml"),
    ),
];

/// The text of drill `drill`: a built-in name or a file.
pub fn drill_text(drill: &str) -> anyhow::Result<String> {
    if let Some((_, text)) = BUILT_IN.iter().find(|(name, _)| *name == drill) {
        return Ok((*text).to_owned());
    }
    match drill_path(drill) {
        Some(path) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the drill file {}", path.display())),
        None => Err(anyhow!(
            "unknown drill `{drill}`: `obslab drill list` shows the built-in ones ({}), \
             or give the path of a scenario file",
            BUILT_IN.map(|(name, _)| name).join(", ")
        )),
    }
}

/// Runs `obslab drill ...`.
pub async fn run(lab: &LabArgs, command: DrillCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        DrillCommand::List => list(out),
        DrillCommand::Start { drill } => {
            let text = drill_text(&drill)?;
            let scenario = Scenario::parse(&text).with_context(|| format!("drill `{drill}`"))?;
            let admin = Admin::new(lab)?;
            let status = admin
                .request(Method::POST, "/admin/scenario", Some(text))
                .await?;
            writeln!(
                out,
                "started drill {} on {} ({} phases, {})",
                scenario.name,
                admin.base(),
                scenario.phases.len(),
                human(
                    scenario
                        .phases
                        .iter()
                        .map(|p| p.duration.as_secs_f64())
                        .sum()
                )
            )?;
            out.write_all(render_status(&status, false).as_bytes())?;
            Ok(())
        }
        DrillCommand::Status { answers } => {
            let admin = Admin::new(lab)?;
            let status = admin.request(Method::GET, "/admin/scenario", None).await?;
            out.write_all(render_status(&status, answers).as_bytes())?;
            Ok(())
        }
        DrillCommand::Stop => {
            let admin = Admin::new(lab)?;
            admin
                .request(Method::DELETE, "/admin/scenario", None)
                .await?;
            writeln!(out, "drill stopped; the configured faults are back")?;
            Ok(())
        }
    }
}

fn list(out: &mut dyn Write) -> anyhow::Result<()> {
    for (name, text) in BUILT_IN {
        let scenario = Scenario::parse(text).with_context(|| format!("built-in drill {name}"))?;
        let length: f64 = scenario
            .phases
            .iter()
            .map(|p| p.duration.as_secs_f64())
            .sum();
        let first = scenario
            .description
            .split_inclusive(". ")
            .next()
            .unwrap_or("")
            .trim();
        writeln!(out, "{name:<20} {:>7}  {first}", human(length))?;
    }
    Ok(())
}

/// `GET /admin/scenario`'s answer as lines for a person.
pub fn render_status(status: &Value, answers: bool) -> String {
    let mut out = String::new();
    let running = status["running"].as_bool().unwrap_or(false);
    let Some(name) = status["name"].as_str() else {
        out.push_str("no drill is playing\n");
        return out;
    };
    let scenario = &status["scenario"];
    let phases = scenario["phases"].as_array().cloned().unwrap_or_default();
    let speed = status["speed"].as_f64().filter(|s| *s > 0.0).unwrap_or(1.0);
    let elapsed = status["elapsed_seconds"].as_f64().unwrap_or(0.0);
    let total: f64 = phases
        .iter()
        .filter_map(|p| p["duration_seconds"].as_f64())
        .sum();
    let speed_note = if speed == 1.0 {
        String::new()
    } else {
        format!(", speed ×{speed}")
    };
    if running {
        let index = status["phase_index"].as_u64().unwrap_or(0);
        let _ = writeln!(
            out,
            "drill {name}: phase {} ({}/{}), {} elapsed, {} left{speed_note}",
            status["phase"].as_str().unwrap_or("?"),
            index + 1,
            phases.len(),
            human(elapsed),
            human((total / speed - elapsed).max(0.0)),
        );
    } else {
        let _ = writeln!(
            out,
            "drill {name}: finished or stopped, {} after it started",
            human(elapsed)
        );
    }
    if answers {
        let _ = writeln!(out, "answer key:");
        let expect = scenario["expect"].as_array().cloned().unwrap_or_default();
        if expect.is_empty() {
            let _ = writeln!(out, "  (no alert expected)");
        }
        for e in expect {
            let alert = e["alert"].as_str().unwrap_or("?");
            let phase = e["phase"].as_str().unwrap_or("?");
            let after = e["after_seconds"].as_f64().unwrap_or(0.0);
            let start: f64 = phases
                .iter()
                .take_while(|p| p["name"].as_str() != Some(phase))
                .filter_map(|p| p["duration_seconds"].as_f64())
                .sum();
            let due = (start + after) / speed - elapsed;
            let when = if !running {
                String::new()
            } else if due >= 0.0 {
                format!("due in {}", human(due))
            } else {
                format!("due {} ago", human(-due))
            };
            let _ = writeln!(
                out,
                "  {alert:<28} in {phase}, about {} into it  {when}",
                human(after)
            );
        }
    }
    out
}

/// Seconds as `1h 2m`, `3m 4s` or `5s`.
pub fn human(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_scenarios_is_built_in_and_valid() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".yml").map(str::to_owned)
            })
            .collect();
        files.sort();
        let built_in: Vec<&str> = BUILT_IN.iter().map(|(name, _)| *name).collect();
        assert_eq!(files, built_in);
        for (name, text) in BUILT_IN {
            let scenario = Scenario::parse(text).unwrap();
            assert_eq!(scenario.name, name, "a drill's name is its file's");
        }
    }

    #[test]
    fn countdowns_follow_phases_after_and_speed() {
        let status = serde_json::json!({
            "running": true, "name": "d", "phase": "bad", "phase_index": 1,
            "elapsed_seconds": 30.0, "speed": 2.0,
            "scenario": {
                "phases": [{"name": "calm", "duration_seconds": 120.0},
                           {"name": "bad", "duration_seconds": 300.0}],
                "expect": [{"alert": "A", "phase": "bad", "after_seconds": 60.0}]
            }
        });
        let text = render_status(&status, true);
        // (120 + 60) / 2 − 30 = 60 s; (420 / 2) − 30 = 180 s left.
        assert!(
            text.contains("phase bad (2/2), 30s elapsed, 3m 0s left, speed ×2"),
            "{text}"
        );
        assert!(text.contains("due in 1m 0s"), "{text}");
    }
}
