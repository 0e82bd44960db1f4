//! `obslab doctor`: the lab checked piece by piece, one line per check, ✓ or
//! ✗ with the fix. It answers "my dashboard shows No data" by finding the
//! link of the chain that broke: a process, a scrape, a rule, a route, a
//! datasource. A piece that is `off` is not checked; one that does not
//! answer fails its first check and skips the rest of its own.

use std::io::Write;

use reqwest::Method;

use crate::cli::LabArgs;
use crate::http::{Reply, Service, one_line};
use crate::prometheus_checks::{Verdict, alertmanagers, rules, targets};

/// The dashboards of grafana/dashboards/, by uid.
pub const DASHBOARDS: [&str; 2] = ["obslab-server", "obslab-loadgen"];

/// The datasource uid every dashboard query names.
pub const DATASOURCE_UID: &str = "prometheus";

/// The uid of the Alertmanager datasource, which Grafana's alerting pages
/// read the lab's alerts and silences through.
pub const ALERTMANAGER_UID: &str = "alertmanager";

/// The checks' lines, written as they come.
struct Report<'a> {
    out: &'a mut dyn Write,
    failed: usize,
}

impl Report<'_> {
    fn line(&mut self, piece: &str, verdict: Verdict) -> std::io::Result<bool> {
        match verdict {
            Ok(text) => {
                writeln!(self.out, "✓ {piece}: {text}")?;
                Ok(true)
            }
            Err(text) => {
                self.failed += 1;
                writeln!(self.out, "✗ {piece}: {text}")?;
                Ok(false)
            }
        }
    }
}

/// Runs every check; `Ok(true)` when all passed.
pub async fn run(lab: &LabArgs, out: &mut dyn Write) -> anyhow::Result<bool> {
    let mut report = Report { out, failed: 0 };
    if let Some(server) = Service::new("server", &lab.server) {
        server_checks(&server, &mut report).await?;
    }
    if let Some(prometheus) = Service::new("Prometheus", &lab.prometheus) {
        prometheus_checks(&prometheus, &mut report).await?;
    }
    if let Some(am) = Service::new("Alertmanager", &lab.alertmanager) {
        alertmanager_checks(&am, &mut report).await?;
    }
    if let Some(inbox) = Service::new("inbox", &lab.inbox) {
        let verdict = match inbox.call(Method::GET, "/livez", None, None).await {
            Ok(r) if r.status == 200 => Ok(format!("{} answers /livez", inbox.base)),
            Ok(r) => Err(format!(
                "{}/livez answered {}: docker compose restart inbox",
                inbox.base, r.status
            )),
            Err(e) => Err(format!("{e:#} — docker compose up -d inbox")),
        };
        report.line("inbox", verdict)?;
    }
    if let Some(grafana) = Service::new("Grafana", &lab.grafana) {
        grafana_checks(&grafana, lab, &mut report).await?;
    }
    let failed = report.failed;
    if failed > 0 {
        writeln!(
            report.out,
            "{failed} check{} failed",
            if failed == 1 { "" } else { "s" }
        )?;
    }
    Ok(failed == 0)
}

// === server ===

async fn server_checks(server: &Service, report: &mut Report<'_>) -> std::io::Result<()> {
    let live = match server.call(Method::GET, "/livez", None, None).await {
        Ok(r) if r.status == 200 => Ok(format!("{} answers /livez", server.base)),
        Ok(r) => Err(format!(
            "{}/livez answered {}: docker compose restart server",
            server.base, r.status
        )),
        Err(e) => Err(format!("{e:#} — docker compose up -d server")),
    };
    if !report.line("server", live)? {
        return Ok(());
    }
    let metrics = match server.call(Method::GET, "/metrics", None, None).await {
        Ok(r) if r.status == 200 => match parse_exposition(&r.body) {
            Ok(n) if r.body.contains("_requests_total") => Ok(format!("/metrics parses ({n} samples)")),
            Ok(_) => Err("/metrics has no *_requests_total: is this obslab-server?".to_owned()),
            Err(e) => Err(format!("/metrics does not parse: {e}")),
        },
        Ok(r) if r.status == 503 => Err(
            "/metrics answers 503: the server is in outage (a drill or `obslab faults set outage=true`): \
             obslab faults reset"
                .to_owned(),
        ),
        Ok(r) => Err(format!("/metrics answered {}: {}", r.status, one_line(&r.body))),
        Err(e) => Err(format!("{e:#}")),
    };
    report.line("server", metrics)?;
    Ok(())
}

/// Counts the samples of a text exposition; the first malformed line is an
/// error.
pub fn parse_exposition(text: &str) -> Result<usize, String> {
    let mut samples = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, rest) = match line.rfind('}') {
            Some(i) => (&line[..=i], line[i + 1..].trim()),
            None => line.split_once(' ').unwrap_or((line, "")),
        };
        let value = rest.split_whitespace().next().unwrap_or("");
        let name = series.split('{').next().unwrap_or("");
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let value_ok = value.parse::<f64>().is_ok() || matches!(value, "+Inf" | "-Inf" | "NaN");
        if !name_ok || !value_ok {
            return Err(format!("line {}: `{}`", n + 1, one_line(line)));
        }
        samples += 1;
    }
    Ok(samples)
}

// === Prometheus ===

async fn prometheus_checks(prom: &Service, report: &mut Report<'_>) -> std::io::Result<()> {
    let ready = match prom.call(Method::GET, "/-/ready", None, None).await {
        Ok(r) if r.status == 200 => Ok(format!("{} is ready", prom.base)),
        Ok(r) => Err(format!(
            "{}/-/ready answered {}: still starting? wait, or docker compose logs prometheus",
            prom.base, r.status
        )),
        Err(e) => Err(format!("{e:#} — docker compose up -d prometheus")),
    };
    if !report.line("Prometheus", ready)? {
        return Ok(());
    }
    report.line("Prometheus", targets(prom).await)?;
    report.line("Prometheus", rules(prom).await)?;
    report.line("Prometheus", alertmanagers(prom).await)?;
    Ok(())
}

// === Alertmanager ===

async fn alertmanager_checks(am: &Service, report: &mut Report<'_>) -> std::io::Result<()> {
    let ready = match am.call(Method::GET, "/-/ready", None, None).await {
        Ok(r) if r.status == 200 => Ok(format!("{} is ready", am.base)),
        Ok(r) => Err(format!(
            "{}/-/ready answered {}: docker compose logs alertmanager",
            am.base, r.status
        )),
        Err(e) => Err(format!("{e:#} — docker compose up -d alertmanager")),
    };
    if !report.line("Alertmanager", ready)? {
        return Ok(());
    }
    let config = match am.get_json("/api/v2/status").await {
        Ok(v) => {
            let original = v["config"]["original"].as_str().unwrap_or("");
            if original.contains("receivers") {
                Ok("configuration loaded".to_owned())
            } else {
                Err("no configuration loaded: is alertmanager/ mounted? docker compose logs alertmanager".to_owned())
            }
        }
        Err(e) => Err(format!("{e:#}")),
    };
    report.line("Alertmanager", config)?;
    Ok(())
}

// === Grafana ===

async fn grafana_checks(
    grafana: &Service,
    lab: &LabArgs,
    report: &mut Report<'_>,
) -> std::io::Result<()> {
    let health = match grafana.get_json("/api/health").await {
        Ok(v) if v["database"].as_str() == Some("ok") => Ok(format!(
            "{} is healthy (version {})",
            grafana.base,
            v["version"].as_str().unwrap_or("?")
        )),
        Ok(v) => Err(format!(
            "/api/health: database {}: docker compose logs grafana",
            v["database"]
        )),
        Err(e) => Err(format!("{e:#} — docker compose up -d grafana")),
    };
    if !report.line("Grafana", health)? {
        return Ok(());
    }
    let auth = lab
        .grafana_user
        .as_deref()
        .map(|u| (u, lab.grafana_password.as_deref().unwrap_or("")));
    let get = |path: String| async move {
        let reply = grafana
            .call_basic(Method::GET, &path, auth)
            .await
            .map_err(|e| format!("{e:#}"))?;
        Ok::<_, String>(reply)
    };
    let refused = |status: u16| {
        format!(
            "Grafana refused ({status}): set OBSLAB_GRAFANA_USER and OBSLAB_GRAFANA_PASSWORD \
             (the compose lab: admin / admin, or GRAFANA_ADMIN_*)"
        )
    };
    let no_datasource = |uid: &str, role: &str| {
        format!(
            "{role} use datasource uid {uid} but Grafana has none: \
             is grafana/provisioning/ mounted? docker compose restart grafana"
        )
    };
    // A missing uid: 404 from a proxy or a stand-in; Grafana's health API
    // answers 500 "Unable to load datasource metadata".
    let not_found = |r: &Reply| {
        r.status == 404
            || (r.status == 500 && r.body.contains("Unable to load datasource metadata"))
    };
    let datasource = match get(format!("/api/datasources/uid/{DATASOURCE_UID}/health")).await {
        Ok(r) if r.status == 200 => Ok(format!("datasource uid {DATASOURCE_UID} is healthy")),
        Ok(r) if not_found(&r) => Err(no_datasource(DATASOURCE_UID, "dashboard queries")),
        Ok(r) if r.status == 401 || r.status == 403 => Err(refused(r.status)),
        Ok(r) => Err(format!(
            "datasource uid {DATASOURCE_UID} is unhealthy ({}): {} — is Prometheus up?",
            r.status,
            r.json()
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| one_line(&r.body))
        )),
        Err(e) => Err(e),
    };
    report.line("Grafana", datasource)?;
    // The Alertmanager datasource has no backend health check: ask
    // Alertmanager's status through Grafana's datasource proxy, as its
    // "Save & test" does.
    let path = format!("/api/datasources/proxy/uid/{ALERTMANAGER_UID}/api/v2/status");
    let alertmanager = match get(path).await {
        Ok(r) if r.status == 200 => Ok(format!(
            "datasource uid {ALERTMANAGER_UID} reaches Alertmanager {}",
            r.json()
                .ok()
                .and_then(|v| v["versionInfo"]["version"].as_str().map(str::to_owned))
                .unwrap_or_default()
        )),
        Ok(r) if not_found(&r) => Err(no_datasource(ALERTMANAGER_UID, "Grafana's alerting pages")),
        Ok(r) if r.status == 401 || r.status == 403 => Err(refused(r.status)),
        Ok(r) => Err(format!(
            "datasource uid {ALERTMANAGER_UID} cannot reach Alertmanager ({}): {} — \
             is it up? docker compose up -d alertmanager",
            r.status,
            one_line(&r.body)
        )),
        Err(e) => Err(e),
    };
    report.line("Grafana", alertmanager)?;
    let dashboards = match get("/api/search?type=dash-db".to_owned()).await {
        Ok(r) if r.status == 200 => {
            let found: Vec<String> = r
                .json()
                .ok()
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|d| d["uid"].as_str().map(str::to_owned))
                .collect();
            let missing: Vec<&str> = DASHBOARDS
                .iter()
                .copied()
                .filter(|d| !found.iter().any(|f| f == d))
                .collect();
            if missing.is_empty() {
                Ok(format!("dashboards {} present", DASHBOARDS.join(", ")))
            } else {
                Err(format!(
                    "dashboard {} missing: is grafana/dashboards/ mounted? docker compose restart grafana",
                    missing.join(", ")
                ))
            }
        }
        Ok(r) if r.status == 401 || r.status == 403 => Err(refused(r.status)),
        Ok(r) => Err(format!(
            "/api/search answered {}: {}",
            r.status,
            one_line(&r.body)
        )),
        Err(e) => Err(e),
    };
    report.line("Grafana", dashboards)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_datasource_uids_the_doctor_asks_for_are_provisioned() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../grafana/provisioning/datasources");
        let mut uids = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("grafana/provisioning/datasources/ is readable")
        {
            let text = std::fs::read_to_string(entry.expect("a directory entry").path())
                .expect("a provisioning file is readable");
            uids.extend(text.lines().filter_map(|l| {
                l.trim()
                    .strip_prefix("uid:")
                    .map(|u| u.trim().trim_matches(['"', '\'']).to_owned())
            }));
        }
        for uid in [DATASOURCE_UID, ALERTMANAGER_UID] {
            assert!(
                uids.iter().any(|u| u == uid),
                "uid {uid} is not provisioned: {uids:?}"
            );
        }
    }

    #[test]
    fn the_exposition_parser_counts_samples_and_names_a_bad_line() {
        let good = "# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"b c\"} 3\nup 1 1700000000\nh_bucket{le=\"+Inf\"} +Inf\n";
        assert_eq!(parse_exposition(good), Ok(3));
        assert_eq!(
            parse_exposition("x_total 1\nnot a sample\n"),
            Err("line 2: `not a sample`".to_owned())
        );
    }
}
