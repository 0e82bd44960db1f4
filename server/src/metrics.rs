//! The server's Prometheus metrics: an owned registry, label handles resolved
//! once, and the single observation point every response goes through.
//!
//! `flask_requests_total`, `flask_errors_total` and the duration histogram are
//! the whole bookkeeping: `/stats` and the `flask_error_rate` gauge are
//! computed from them when asked, so the JSON and the exposition cannot
//! disagree.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use prometheus::{
    Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};
use warp::http::StatusCode;

use crate::endpoint::{Endpoint, MethodLabel};
use crate::error_type::ErrorType;

/// Request-duration buckets, in seconds: 1 ms to 10 s, dense around the
/// 0.2–1.5 s delays of `/slow` and with a bound just above its 3 s timeout.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.5, 5.0, 10.0,
];

/// The statuses this server answers with; their counters are resolved on
/// first use and then read without a lock. Any other status still counts,
/// through the slower labelled lookup.
const KNOWN_STATUSES: [u16; 9] = [200, 400, 401, 403, 404, 405, 500, 503, 504];

const ENDPOINTS: usize = Endpoint::ALL.len();

/// The `flask_requests_total` series the alert rules divide or compare,
/// exported at 0 from the start (method `GET`, what clients and probes
/// send): a series born at its first increment hides that increment from
/// `rate()`, so the first failure after a start or an outage would go
/// unseen. Only statuses a route can answer with (a fault, an outage, a
/// drain) are listed, `/error` (which the rules exclude) and the admin API
/// aside: the 200s of every denominator, 500 for `GET /`'s injected
/// failures, 503 for an outage (every route but the probes), a failed
/// health check and a draining `/readyz`, 504 for `/slow`'s timeout.
pub const PRE_REGISTERED: [(Endpoint, u16); 15] = [
    (Endpoint::Home, 200),
    (Endpoint::Home, 500),
    (Endpoint::Home, 503),
    (Endpoint::Health, 200),
    (Endpoint::Health, 503),
    (Endpoint::Stats, 200),
    (Endpoint::Stats, 503),
    (Endpoint::Metrics, 200),
    (Endpoint::Metrics, 503),
    (Endpoint::Slow, 200),
    (Endpoint::Slow, 503),
    (Endpoint::Slow, 504),
    (Endpoint::Livez, 200),
    (Endpoint::Readyz, 200),
    (Endpoint::Readyz, 503),
];

/// Totals since start, as `/stats` reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Seconds since start.
    pub uptime_seconds: f64,
    /// Requests answered, errors included.
    pub total_requests: u64,
    /// Requests answered with an error.
    pub error_count: u64,
    /// Percent of responses that were errors; 0 before the first request.
    pub error_rate: f64,
}

/// Every metric of the server, registered in a registry of its own.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    errors: [IntCounter; ErrorType::ALL.len()],
    error_rate: Gauge,
    uptime: Gauge,
    in_flight: IntGauge,
    request_handles: Box<[OnceLock<IntCounter>]>,
    duration_handles: Box<[OnceLock<Histogram>]>,
    started: Instant,
}

impl Metrics {
    /// Registers the application metrics under `namespace` (`flask` by
    /// default), the process collector and a build-info gauge.
    pub fn new(namespace: &str) -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let opts = |name: &str, help: &str| Opts::new(name, help).namespace(namespace);

        let requests = IntCounterVec::new(
            opts(
                "requests_total",
                "HTTP requests answered, by method, route template and status.",
            ),
            &["method", "endpoint", "status"],
        )?;
        let errors_vec = IntCounterVec::new(
            opts("errors_total", "Error responses, by error type."),
            &["error_type"],
        )?;
        let error_rate = Gauge::with_opts(opts(
            "error_rate",
            "Percent of responses since start that were errors.",
        ))?;
        let uptime = Gauge::with_opts(opts("uptime_seconds", "Seconds since the server started."))?;
        let in_flight = IntGauge::with_opts(opts(
            "requests_in_flight",
            "Requests being handled, the scrape that reports it included.",
        ))?;
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "request_duration_seconds",
                "Time from request to response, by method and route template.",
            )
            .namespace(namespace)
            .buckets(DURATION_BUCKETS.to_vec()),
            &["method", "endpoint"],
        )?;
        let build_info = IntGauge::with_opts(
            Opts::new("obslab_build_info", "Always 1; labels carry the build.")
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        build_info.set(1);

        // Resolving every error type now exports each at 0 from the first
        // scrape, which rate()-based alerts need.
        let errors = ErrorType::ALL.map(|t| errors_vec.with_label_values(&[t.as_str()]));

        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors_vec))?;
        registry.register(Box::new(error_rate.clone()))?;
        registry.register(Box::new(uptime.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(durations.clone()))?;
        registry.register(Box::new(build_info))?;
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;

        let slots = MethodLabel::COUNT * ENDPOINTS;
        let metrics = Metrics {
            registry,
            requests,
            durations,
            errors,
            error_rate,
            uptime,
            in_flight,
            request_handles: (0..slots * KNOWN_STATUSES.len())
                .map(|_| OnceLock::new())
                .collect(),
            duration_handles: (0..slots).map(|_| OnceLock::new()).collect(),
            started: Instant::now(),
        };
        for (endpoint, status) in PRE_REGISTERED {
            let status = StatusCode::from_u16(status).expect("a valid status");
            metrics.requests_counter(MethodLabel::Get, endpoint, status);
        }
        Ok(metrics)
    }

    /// The `flask_requests_total` child of `method`, `endpoint` and
    /// `status`, resolved once for a known status.
    fn requests_counter(
        &self,
        method: MethodLabel,
        endpoint: Endpoint,
        status: StatusCode,
    ) -> Cow<'_, IntCounter> {
        let slot = method.index() * ENDPOINTS + endpoint.index();
        let labels = || {
            self.requests
                .with_label_values(&[method.as_str(), endpoint.as_str(), status.as_str()])
        };
        match KNOWN_STATUSES.iter().position(|s| *s == status.as_u16()) {
            Some(i) => Cow::Borrowed(
                self.request_handles[slot * KNOWN_STATUSES.len() + i].get_or_init(labels),
            ),
            None => Cow::Owned(labels()),
        }
    }

    /// Counts a request as in flight until the returned guard drops, which
    /// also happens when the client goes away before the answer.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// Records one answered request: its counter, its duration and, for a
    /// failure, its error type. The hot path is a few atomic adds.
    pub fn observe(
        &self,
        method: MethodLabel,
        endpoint: Endpoint,
        status: StatusCode,
        error: Option<ErrorType>,
        elapsed: Duration,
    ) {
        let slot = method.index() * ENDPOINTS + endpoint.index();
        self.requests_counter(method, endpoint, status).inc();
        self.duration_handles[slot]
            .get_or_init(|| {
                self.durations
                    .with_label_values(&[method.as_str(), endpoint.as_str()])
            })
            .observe(elapsed.as_secs_f64());
        if let Some(error) = error {
            self.errors[error.index()].inc();
        }
    }

    /// Seconds since the metrics (and so the server) started.
    pub fn uptime_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Totals since start, computed from the counters themselves.
    pub fn snapshot(&self) -> Snapshot {
        // Every observation goes through exactly one duration histogram, so
        // their counts sum to flask_requests_total, read without a lock.
        let total_requests: u64 = self
            .duration_handles
            .iter()
            .filter_map(OnceLock::get)
            .map(Histogram::get_sample_count)
            .sum();
        let error_count: u64 = self.errors.iter().map(IntCounter::get).sum();
        let error_rate = if total_requests == 0 {
            0.0
        } else {
            error_count as f64 * 100.0 / total_requests as f64
        };
        Snapshot {
            uptime_seconds: self.uptime_seconds(),
            total_requests,
            error_count,
            error_rate,
        }
    }

    /// The text exposition, with the derived gauges brought up to date.
    pub fn render(&self) -> String {
        let snapshot = self.snapshot();
        self.error_rate.set(snapshot.error_rate);
        self.uptime.set(snapshot.uptime_seconds);
        let mut out = String::with_capacity(8 * 1024);
        // Encoding into a String cannot fail for families we built ourselves.
        if let Err(e) = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }

    /// The registry, for collectors added by other parts of the server.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// A request in flight; see [`Metrics::in_flight`].
#[derive(Debug)]
pub struct InFlight<'a>(&'a IntGauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}
