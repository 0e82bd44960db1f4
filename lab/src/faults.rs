//! `obslab faults`: the server's fault profile over its admin API.
//!
//! `set` turns words into the JSON patch of `PATCH /admin/faults`; the
//! server checks the values and names the field it refuses.

use std::fmt::Write as _;
use std::io::Write;

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::UsageError;
use crate::cli::{FaultsCommand, LabArgs};
use crate::http::Admin;

/// Runs `obslab faults ...`.
pub async fn run(lab: &LabArgs, command: FaultsCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let (method, path, body) = match command {
        FaultsCommand::Show => (Method::GET, "/admin/faults", None),
        FaultsCommand::Set { change } => (
            Method::PATCH,
            "/admin/faults",
            Some(patch(&change)?.to_string()),
        ),
        FaultsCommand::Reset => (Method::POST, "/admin/faults/reset", None),
    };
    let admin = Admin::new(lab)?;
    let profile = admin.request(method, path, body).await?;
    out.write_all(render(&profile).as_bytes())?;
    Ok(())
}

/// The patch of `obslab faults set` words.
pub fn patch(change: &[String]) -> Result<Value, UsageError> {
    let first = change.first().map(String::as_str).unwrap_or("");
    if first == "weights" {
        let spec = change[1..].join(",");
        let mut weights = Map::new();
        for pair in spec.split(',').filter(|p| !p.is_empty()) {
            let (kind, weight) = split(pair)?;
            let weight: f64 = weight.parse().map_err(|_| {
                UsageError(format!("weights: `{pair}`: the weight is not a number"))
            })?;
            weights.insert(kind.to_owned(), json!(weight));
        }
        if weights.is_empty() {
            return Err(UsageError(
                "weights: give TYPE=W,... (e.g. database_error=3,timeout_error=1)".into(),
            ));
        }
        return Ok(json!({"error_weights": weights}));
    }
    if let Some(value) = first.strip_prefix("outage=") {
        if change.len() > 1 {
            return Err(UsageError(
                "outage=true|false takes nothing after it".into(),
            ));
        }
        let on = match value {
            "true" | "on" => true,
            "false" | "off" => false,
            _ => return Err(UsageError(format!("outage={value}: true or false"))),
        };
        return Ok(json!({"outage": on}));
    }
    if !first.starts_with('/') {
        return Err(UsageError(format!(
            "`{first}`: give a ROUTE (/, /health, /slow) and KEY=VALUE..., `weights TYPE=W,...` or `outage=true|false`"
        )));
    }
    if change.len() < 2 {
        return Err(UsageError(format!(
            "{first}: give at least one KEY=VALUE (error_rate, delay_min, delay_max, timeout)"
        )));
    }
    let mut fields = Map::new();
    for pair in &change[1..] {
        let (key, value) = split(pair)?;
        let value = if key == "error_rate" || key.ends_with("_seconds") {
            json!(
                value
                    .parse::<f64>()
                    .map_err(|_| UsageError(format!("{pair}: {key} takes a number")))?
            )
        } else {
            json!(value)
        };
        fields.insert(key.to_owned(), value);
    }
    Ok(json!({"routes": {first: fields}}))
}

fn split(pair: &str) -> Result<(&str, &str), UsageError> {
    pair.split_once('=')
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .ok_or_else(|| UsageError(format!("`{pair}` is not KEY=VALUE")))
}

/// The profile of `GET /admin/faults` as a table.
pub fn render(profile: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:>10}  {:<22} timeout",
        "route", "error_rate", "delay"
    );
    if let Some(routes) = profile["routes"].as_object() {
        for (route, f) in routes {
            let delay = format!(
                "{}–{}",
                f["delay_min"].as_str().unwrap_or("?"),
                f["delay_max"].as_str().unwrap_or("?")
            );
            let _ = writeln!(
                out,
                "{route:<9} {:>10}  {delay:<22} {}",
                f["error_rate"]
                    .as_f64()
                    .map_or("?".to_owned(), |r| r.to_string()),
                f["timeout"].as_str().unwrap_or("")
            );
        }
    }
    if let Some(weights) = profile["error_weights"].as_object() {
        let weights: Vec<String> = weights.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "error weights (/error): {}", weights.join(","));
    }
    let _ = writeln!(
        out,
        "outage: {}",
        profile["outage"].as_bool().unwrap_or(false)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn words_become_the_admin_patch() {
        assert_eq!(
            patch(&words("/slow error_rate=0.6 timeout=5s")).unwrap(),
            json!({"routes": {"/slow": {"error_rate": 0.6, "timeout": "5s"}}})
        );
        assert_eq!(
            patch(&words("weights database_error=3,timeout_error=1")).unwrap(),
            json!({"error_weights": {"database_error": 3.0, "timeout_error": 1.0}})
        );
        assert_eq!(
            patch(&words("outage=true")).unwrap(),
            json!({"outage": true})
        );
    }

    #[test]
    fn malformed_words_are_usage_errors() {
        for bad in [
            "health error_rate=1",
            "/ error_rate",
            "/ error_rate=lots",
            "outage=maybe",
            "weights x",
            "/",
        ] {
            assert!(patch(&words(bad)).is_err(), "{bad}");
        }
    }
}
