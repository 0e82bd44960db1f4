//! The client's own Prometheus metrics (`--metrics-listen`).
//!
//! Dashboards put the client's view beside the server's, so the names are a
//! contract: `loadgen_requests_total{method,endpoint,status}`,
//! `loadgen_errors_total{kind}`, `loadgen_dropped_total{method,endpoint}`,
//! `loadgen_request_duration_seconds{method,endpoint}`, `loadgen_in_flight`,
//! `loadgen_target_rate` and `loadgen_schedule_lag_seconds`, then
//! `loadgen_protocol_info{method,endpoint,protocol}` (1 for each HTTP
//! version an entry's answers came in). The registry is
//! owned (no global state), and every label handle is resolved when the run
//! starts, one set per mix entry, so a request costs atomic adds, not a hash
//! and a lock. Status codes are resolved on first sight into a fixed table.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use prometheus::process_collector::ProcessCollector;
use prometheus::{
    Encoder as _, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use tokio::net::TcpListener;
use warp::Filter as _;

use crate::client::{ErrorKind, Outcome, Seen};
use crate::mix::Mix;

/// Latency buckets (seconds): 1 ms to 10 s, then `+Inf`.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Schedule lag buckets (seconds): 100 µs to 5 s, then `+Inf`.
const LAG_BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Status codes 100..=999 each get a lazily resolved counter slot.
const STATUS_SLOTS: usize = 900;

/// The `loadgen_*` families in their own registry, with resolved handles.
pub struct Metrics {
    registry: Registry,
    entries: Vec<EntryMetrics>,
    protocols: IntGaugeVec,
    seen: Seen,
    errors: [IntCounter; 3],
    in_flight: IntGauge,
    target_rate: Gauge,
    schedule_lag: Histogram,
}

struct EntryMetrics {
    requests: IntCounterVec,
    labels: [String; 2],
    by_status: Box<[OnceLock<IntCounter>]>,
    failed: IntCounter,
    dropped: IntCounter,
    duration: Histogram,
}

impl EntryMetrics {
    fn status(&self, code: u16) -> &IntCounter {
        let resolve = || {
            let [method, endpoint] = &self.labels;
            self.requests.with_label_values(&[
                method.as_str(),
                endpoint.as_str(),
                &code.to_string(),
            ])
        };
        match usize::from(code)
            .checked_sub(100)
            .and_then(|i| self.by_status.get(i))
        {
            Some(slot) => slot.get_or_init(resolve),
            None => &self.failed, // not an HTTP status (hyper allows 100..=999)
        }
    }
}

impl Metrics {
    /// Registers every family and resolves the handles of each mix entry;
    /// the protocols come from `seen` when scraped.
    pub fn new(mix: &Mix, seen: Seen) -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "loadgen_requests_total",
                "Completed requests by mix entry and HTTP status (\"error\" when no answer).",
            ),
            &["method", "endpoint", "status"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "loadgen_errors_total",
                "Requests that got no HTTP answer, by kind.",
            ),
            &["kind"],
        )?;
        let dropped = IntCounterVec::new(
            Opts::new(
                "loadgen_dropped_total",
                "Scheduled requests refused by the --max-in-flight cap.",
            ),
            &["method", "endpoint"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "loadgen_request_duration_seconds",
                "Latency of answered requests, from the intended send time.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "endpoint"],
        )?;
        let in_flight = IntGauge::new("loadgen_in_flight", "Requests sent and not yet finished.")?;
        let target_rate = Gauge::new(
            "loadgen_target_rate",
            "Requests per second the schedule asks for now (0 in the closed model).",
        )?;
        let schedule_lag = Histogram::with_opts(
            HistogramOpts::new(
                "loadgen_schedule_lag_seconds",
                "How late requests leave: actual minus intended send time.",
            )
            .buckets(LAG_BUCKETS.to_vec()),
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(dropped.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(target_rate.clone()))?;
        registry.register(Box::new(schedule_lag.clone()))?;
        let protocols = IntGaugeVec::new(
            Opts::new(
                "loadgen_protocol_info",
                "1 for each HTTP version (HTTP/1.1, HTTP/2) a mix entry's answers came in.",
            ),
            &["method", "endpoint", "protocol"],
        )?;
        registry.register(Box::new(protocols.clone()))?;
        registry.register(Box::new(ProcessCollector::for_self()))?;

        let entries = mix
            .entries()
            .iter()
            .map(|e| {
                let (method, endpoint) = (e.method.as_str(), e.path.as_str());
                EntryMetrics {
                    requests: requests.clone(),
                    labels: [method.to_owned(), endpoint.to_owned()],
                    by_status: (0..STATUS_SLOTS).map(|_| OnceLock::new()).collect(),
                    failed: requests.with_label_values(&[method, endpoint, "error"]),
                    dropped: dropped.with_label_values(&[method, endpoint]),
                    duration: duration.with_label_values(&[method, endpoint]),
                }
            })
            .collect();
        let errors = ErrorKind::ALL.map(|k| errors.with_label_values(&[k.as_str()]));
        Ok(Self {
            registry,
            entries,
            protocols,
            seen,
            errors,
            in_flight,
            target_rate,
            schedule_lag,
        })
    }

    /// A request left, `lag` after its intended time (open model).
    pub(crate) fn sent(&self, lag: Option<Duration>) {
        self.in_flight.inc();
        if let Some(lag) = lag {
            self.schedule_lag.observe(lag.as_secs_f64());
        }
    }

    /// A request of entry `idx` finished with `outcome` after `latency`.
    pub(crate) fn finished(&self, idx: usize, latency: Duration, outcome: &Outcome) {
        self.in_flight.dec();
        let entry = &self.entries[idx];
        match outcome {
            Ok(status) => {
                entry.status(*status).inc();
                entry.duration.observe(latency.as_secs_f64());
            }
            Err(e) => {
                entry.failed.inc();
                self.errors[e.kind().index()].inc();
            }
        }
    }

    /// A request of entry `idx` was refused by the in-flight cap.
    pub(crate) fn dropped(&self, idx: usize) {
        self.entries[idx].dropped.inc();
    }

    /// Publishes the rate the schedule asks for now.
    pub(crate) fn set_target_rate(&self, rate: f64) {
        self.target_rate.set(rate);
    }

    /// The text exposition of every family.
    pub fn render(&self) -> String {
        for (i, entry) in self.entries.iter().enumerate() {
            let [method, endpoint] = &entry.labels;
            for protocol in self.seen.names(i) {
                let labels = [method.as_str(), endpoint.as_str(), protocol];
                self.protocols.with_label_values(&labels).set(1);
            }
        }
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("encoding to memory does not fail");
        String::from_utf8(buf).expect("the text exposition is UTF-8")
    }
}

/// Binds `addr` for [`serve`]; fails early (exit 2) when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("--metrics-listen {addr}: cannot listen"))
}

/// Serves `GET /metrics` on `listener` until the task is aborted, with the
/// server's header read and idle timeouts and at most 1,024 connections.
pub async fn serve(metrics: Arc<Metrics>, listener: TcpListener) {
    let route = warp::path!("metrics").and(warp::get()).map(move || {
        warp::reply::with_header(
            metrics.render(),
            "content-type",
            TextEncoder::new().format_type(),
        )
    });
    let service = warp::service(route);
    let limits = obslab_serve::Limits::companion();
    obslab_serve::serve(listener, service, limits, None, std::future::pending()).await;
}
