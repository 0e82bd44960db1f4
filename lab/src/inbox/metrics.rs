//! The inbox's own metrics: what arrived, per receiver and per alert.
//!
//! `obslab_inbox_notifications_total{receiver,status}` counts notifications
//! (one per webhook call), `obslab_inbox_alerts_total{alertname,status}` the
//! alerts they carried. Receivers and alert names come from whoever posts,
//! so each label keeps at most [`MAX_VALUES`] distinct values and folds the
//! rest into `other`: a stray script cannot grow the series without bound.
//! The lab's receivers (`pager`, `ticket`) and the lab's alerts (each
//! firing and resolved) are exported at zero from the start: a dashboard
//! shows 0, not "No data", before the first page, and the first page of an
//! alert is an increase Prometheus sees (a series that appears at 1 has no
//! earlier sample, so `increase()` and a page annotation would miss it).

use std::collections::BTreeSet;
use std::sync::Mutex;

use prometheus::{Encoder as _, IntCounterVec, Opts, Registry, TextEncoder};

use super::payload::{Notification, Status};

/// Distinct values a label may take before the rest count as `other`.
pub const MAX_VALUES: usize = 50;

/// The receivers of alertmanager/alertmanager.yml.
pub const LAB_RECEIVERS: [&str; 2] = ["pager", "ticket"];

/// The alerts of prometheus/rules/ (a test keeps the two in step).
pub const LAB_ALERTS: [&str; 11] = [
    "ObslabServerDown",
    "ObslabHighErrorRatio",
    "ObslabHealthChecksFailing",
    "ObslabFastRoutesSlow",
    "ObslabSlowRouteTooSlow",
    "ObslabSlowTimeouts",
    "ObslabLoadgenDown",
    "ObslabLoadgenDroppingRequests",
    "ObslabClientErrorRatio",
    "ObslabErrorBudgetBurningFast",
    "ObslabErrorBudgetBurningSlowly",
];

/// The `obslab_inbox_*` families in their own registry.
pub struct Metrics {
    registry: Registry,
    notifications: IntCounterVec,
    alerts: IntCounterVec,
    receivers: Mutex<BTreeSet<String>>,
    alertnames: Mutex<BTreeSet<String>>,
}

impl Metrics {
    /// Registers the families into a registry of their own.
    pub fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let notifications = IntCounterVec::new(
            Opts::new(
                "obslab_inbox_notifications_total",
                "Notifications received on /webhook, by receiver and status.",
            ),
            &["receiver", "status"],
        )?;
        let alerts = IntCounterVec::new(
            Opts::new(
                "obslab_inbox_alerts_total",
                "Alerts carried by the notifications received, by alert name and status.",
            ),
            &["alertname", "status"],
        )?;
        registry.register(Box::new(notifications.clone()))?;
        registry.register(Box::new(alerts.clone()))?;
        let metrics = Metrics {
            registry,
            notifications,
            alerts,
            receivers: Mutex::new(BTreeSet::new()),
            alertnames: Mutex::new(BTreeSet::new()),
        };
        for (counter, seen, values) in [
            (
                &metrics.notifications,
                &metrics.receivers,
                &LAB_RECEIVERS[..],
            ),
            (&metrics.alerts, &metrics.alertnames, &LAB_ALERTS[..]),
        ] {
            for value in values {
                let value = metrics.bounded(seen, value);
                for status in Status::ALL {
                    counter.with_label_values(&[value.as_str(), status.as_str()]);
                }
            }
        }
        Ok(metrics)
    }

    /// Counts a notification and its alerts.
    pub fn received(&self, n: &Notification) {
        let receiver = self.bounded(&self.receivers, &n.receiver);
        self.notifications
            .with_label_values(&[receiver.as_str(), n.status.as_str()])
            .inc();
        for alert in &n.alerts {
            let name = self.bounded(&self.alertnames, alert.name());
            self.alerts
                .with_label_values(&[name.as_str(), alert.status.as_str()])
                .inc();
        }
    }

    /// `value` if already seen or if there is room for it, else `other`.
    fn bounded(&self, seen: &Mutex<BTreeSet<String>>, value: &str) -> String {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() < MAX_VALUES {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        "other".to_owned()
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("encoding to memory does not fail");
        String::from_utf8(buf).expect("the text exposition is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// `- alert: Name` lines of the rule files of prometheus/rules/.
    fn rule_alerts() -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prometheus/rules");
        let mut names = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).expect("prometheus/rules/ is readable") {
            let text = std::fs::read_to_string(entry.expect("a directory entry").path())
                .expect("a rule file is readable");
            names.extend(text.lines().filter_map(|l| {
                l.trim_start()
                    .strip_prefix("- alert:")
                    .map(|n| n.trim().to_owned())
            }));
        }
        names
    }

    #[test]
    fn the_lab_alerts_are_those_of_the_rule_files() {
        let lab: BTreeSet<String> = LAB_ALERTS.iter().map(|&n| n.to_owned()).collect();
        assert_eq!(
            lab,
            rule_alerts(),
            "LAB_ALERTS and prometheus/rules/ differ"
        );
    }

    #[test]
    fn every_lab_alert_and_receiver_starts_at_zero_in_both_states() {
        let text = Metrics::new().expect("the families register").render();
        for status in Status::ALL {
            let status = status.as_str();
            for name in LAB_ALERTS {
                let line = format!(
                    "obslab_inbox_alerts_total{{alertname=\"{name}\",status=\"{status}\"}} 0"
                );
                assert!(text.contains(&line), "no `{line}` in:\n{text}");
            }
            for receiver in LAB_RECEIVERS {
                let line = format!(
                    "obslab_inbox_notifications_total{{receiver=\"{receiver}\",status=\"{status}\"}} 0"
                );
                assert!(text.contains(&line), "no `{line}` in:\n{text}");
            }
        }
    }
}
