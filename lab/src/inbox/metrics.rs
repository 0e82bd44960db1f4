//! The inbox's own metrics: what arrived, per receiver and per alert.
//!
//! `obslab_inbox_notifications_total{receiver,status}` counts notifications
//! (one per webhook call), `obslab_inbox_alerts_total{alertname,status}` the
//! alerts they carried. Receivers and alert names come from whoever posts,
//! so each label keeps at most [`MAX_VALUES`] distinct values and folds the
//! rest into `other`: a stray script cannot grow the series without bound.
//! The lab's receivers (`pager`, `ticket`) are exported at zero from the
//! start, so a dashboard shows 0, not "No data", before the first page.

use std::collections::BTreeSet;
use std::sync::Mutex;

use prometheus::{Encoder as _, IntCounterVec, Opts, Registry, TextEncoder};

use super::payload::{Notification, Status};

/// Distinct values a label may take before the rest count as `other`.
pub const MAX_VALUES: usize = 50;

/// The receivers of alertmanager/alertmanager.yml.
pub const LAB_RECEIVERS: [&str; 2] = ["pager", "ticket"];

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
        for receiver in LAB_RECEIVERS {
            let receiver = metrics.bounded(&metrics.receivers, receiver);
            for status in Status::ALL {
                metrics
                    .notifications
                    .with_label_values(&[receiver.as_str(), status.as_str()]);
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
