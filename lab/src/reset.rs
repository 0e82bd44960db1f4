//! `obslab reset`: the lab back to a clean state between two groups of
//! students, one line per piece. A piece that is `off` is skipped; one that
//! fails does not stop the others.

use std::io::Write;

use anyhow::bail;
use reqwest::Method;

use crate::cli::LabArgs;
use crate::http::{Admin, Service, one_line};

/// Runs `obslab reset`; `Ok(false)` when a step failed.
pub async fn run(lab: &LabArgs, out: &mut dyn Write) -> anyhow::Result<bool> {
    let mut ok = true;
    let mut report = |out: &mut dyn Write, what: &str, result: anyhow::Result<String>| match result
    {
        Ok(done) => writeln!(out, "✓ {what}: {done}"),
        Err(e) => {
            ok = false;
            writeln!(out, "✗ {what}: {e:#}")
        }
    };
    if lab.server.url().is_some() {
        report(out, "server", reset_server(lab).await)?;
    }
    if let Some(inbox) = Service::new("inbox", &lab.inbox) {
        report(out, "inbox", empty_inbox(&inbox).await)?;
    }
    if let Some(am) = Service::new("Alertmanager", &lab.alertmanager) {
        report(out, "Alertmanager", expire_silences(&am).await)?;
    }
    Ok(ok)
}

async fn reset_server(lab: &LabArgs) -> anyhow::Result<String> {
    let admin = Admin::new(lab)?;
    admin
        .request(Method::POST, "/admin/faults/reset", None)
        .await?;
    Ok("drill stopped, configured faults back".to_owned())
}

async fn empty_inbox(inbox: &Service) -> anyhow::Result<String> {
    let reply = inbox
        .call(Method::DELETE, "/api/notifications", None, None)
        .await?;
    if reply.status != 200 {
        bail!(
            "DELETE /api/notifications answered {}: {}",
            reply.status,
            one_line(&reply.body)
        );
    }
    let removed = reply.json()?["removed"].as_u64().unwrap_or(0);
    Ok(format!("emptied ({removed} notifications removed)"))
}

async fn expire_silences(am: &Service) -> anyhow::Result<String> {
    let silences = am.get_json("/api/v2/silences").await?;
    let mut expired = 0;
    for silence in silences.as_array().map(Vec::as_slice).unwrap_or_default() {
        let state = silence["status"]["state"].as_str().unwrap_or("");
        let Some(id) = silence["id"].as_str() else {
            continue;
        };
        if state == "expired" {
            continue;
        }
        let reply = am
            .call(Method::DELETE, &format!("/api/v2/silence/{id}"), None, None)
            .await?;
        if !(200..300).contains(&reply.status) {
            bail!(
                "cannot expire silence {id}: {} {}",
                reply.status,
                one_line(&reply.body)
            );
        }
        expired += 1;
    }
    Ok(format!(
        "{expired} silence{} expired",
        if expired == 1 { "" } else { "s" }
    ))
}
