//! The connections' metrics: how many are open, how many were refused or
//! timed out, and every limit as a gauge, so a dashboard can put the load
//! beside its bound. Registered into the caller's registry; the names do not
//! take the server's `--metrics-namespace` (like `obslab_build_info`).

use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

use crate::Limits;
use crate::connection::Expired;

/// Handles on the connection families of one registry.
#[derive(Debug, Clone)]
pub struct ConnectionMetrics {
    open: IntGauge,
    refused: IntCounter,
    timed_out: [IntCounter; Expired::ALL.len()],
}

impl ConnectionMetrics {
    /// Registers `obslab_connections_open`,
    /// `obslab_connections_refused_total`,
    /// `obslab_connections_timed_out_total{timeout}` (both values at 0 from
    /// the start) and one `obslab_limit_*` gauge per limit.
    pub fn register(registry: &Registry, limits: &Limits) -> prometheus::Result<Self> {
        let open = IntGauge::new(
            "obslab_connections_open",
            "Client connections open now (at most obslab_limit_max_connections).",
        )?;
        let refused = IntCounter::new(
            "obslab_connections_refused_total",
            "Connections closed as soon as accepted because obslab_limit_max_connections were open.",
        )?;
        let timed_out = IntCounterVec::new(
            Opts::new(
                "obslab_connections_timed_out_total",
                "Connections closed by a timeout: header_read (a request head too slow) or idle.",
            ),
            &["timeout"],
        )?;
        registry.register(Box::new(open.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(timed_out.clone()))?;

        let seconds = [
            (
                "header_read_timeout_seconds",
                "How long a request head may take from its first byte (--header-read-timeout).",
                limits.header_read_timeout.as_secs_f64(),
            ),
            (
                "idle_timeout_seconds",
                "How long a connection may stay open with nothing in flight (--idle-timeout).",
                limits.idle_timeout.as_secs_f64(),
            ),
        ];
        let counts = [
            (
                "max_connections",
                "Open connections at most (--max-connections).",
                limits.max_connections,
            ),
            (
                "max_header_bytes",
                "Largest request head in bytes; larger ones get 431 (--max-header-bytes).",
                limits.max_header_bytes,
            ),
            (
                "http2_max_concurrent_streams",
                "HTTP/2 streams open at once per connection (--http2-max-concurrent-streams).",
                limits.http2_max_concurrent_streams as usize,
            ),
            (
                "http2_max_pending_reset_streams",
                "HTTP/2 streams a client may reset before they are served (--http2-max-pending-reset-streams).",
                limits.http2_max_pending_reset_streams,
            ),
            (
                "http2_max_local_error_reset_streams",
                "HTTP/2 streams the server may reset for a client's errors (--http2-max-local-error-reset-streams).",
                limits.http2_max_local_error_reset_streams,
            ),
        ];
        for (name, help, value) in seconds {
            let gauge = Gauge::new(format!("obslab_limit_{name}"), help)?;
            gauge.set(value);
            registry.register(Box::new(gauge))?;
        }
        for (name, help, value) in counts {
            let gauge = IntGauge::new(format!("obslab_limit_{name}"), help)?;
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
            registry.register(Box::new(gauge))?;
        }

        Ok(ConnectionMetrics {
            open,
            refused,
            timed_out: Expired::ALL.map(|e| timed_out.with_label_values(&[e.as_str()])),
        })
    }

    /// Open connections now.
    pub fn open(&self) -> i64 {
        self.open.get()
    }

    pub(crate) fn opened(&self) {
        self.open.inc();
    }

    pub(crate) fn closed(&self) {
        self.open.dec();
    }

    pub(crate) fn refused(&self) {
        self.refused.inc();
    }

    pub(crate) fn timed_out(&self, why: Expired) {
        self.timed_out[why.index()].inc();
    }
}
