//! The connection limits as options, each with its `OBSLAB_` twin: what a
//! client may hold (connections, time) and send (header bytes, HTTP/2
//! streams and resets). `obslab_serve` enforces them and exports each as an
//! `obslab_limit_*` gauge.

use std::time::Duration;

use obslab_common::duration::parse_nonzero;
use obslab_serve::Limits;

/// The limit options, flattened into the server's [`crate::Args`].
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// How long a request's head (request line and headers) may take to
    /// arrive, counted from its first byte; a slower request is dropped with
    /// its connection (slowloris).
    #[arg(long, env = "OBSLAB_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_nonzero)]
    pub header_read_timeout: Duration,

    /// How long a connection may stay open with no request in flight
    /// (keep-alive, or HTTP/2 with no stream), or with a request body that
    /// stopped coming; then it is closed.
    #[arg(long, env = "OBSLAB_IDLE_TIMEOUT", default_value = "75s", value_parser = parse_nonzero)]
    pub idle_timeout: Duration,

    /// Open connections at most; one beyond is closed as soon as accepted
    /// and counted in obslab_connections_refused_total.
    #[arg(long, env = "OBSLAB_MAX_CONNECTIONS", default_value = "16384", value_parser = positive())]
    pub max_connections: u32,

    /// Largest request head in bytes (HTTP/1: request line and headers;
    /// HTTP/2: the header list); a larger one is answered 431. From 8192 to
    /// 1048576.
    #[arg(
        long,
        env = "OBSLAB_MAX_HEADER_BYTES",
        default_value = "16384",
        value_parser = clap::value_parser!(u32)
            .range(Limits::MIN_HEADER_BYTES as i64..=Limits::MAX_HEADER_BYTES as i64)
    )]
    pub max_header_bytes: u32,

    /// HTTP/2: streams one connection may have open at once.
    #[arg(long, env = "OBSLAB_HTTP2_MAX_CONCURRENT_STREAMS", default_value = "250", value_parser = positive())]
    pub http2_max_concurrent_streams: u32,

    /// HTTP/2: streams a client may open and reset before they are served
    /// (the "rapid reset" attack); one more and the connection gets a GOAWAY.
    #[arg(long, env = "OBSLAB_HTTP2_MAX_PENDING_RESET_STREAMS", default_value = "20", value_parser = positive())]
    pub http2_max_pending_reset_streams: u32,

    /// HTTP/2: streams the server may reset for a client's protocol errors;
    /// one more and the connection gets a GOAWAY.
    #[arg(long, env = "OBSLAB_HTTP2_MAX_LOCAL_ERROR_RESET_STREAMS", default_value = "1024", value_parser = positive())]
    pub http2_max_local_error_reset_streams: u32,
}

impl LimitArgs {
    /// The limits these options describe.
    pub fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections as usize,
            max_header_bytes: self.max_header_bytes as usize,
            http2_max_concurrent_streams: self.http2_max_concurrent_streams,
            http2_max_pending_reset_streams: self.http2_max_pending_reset_streams as usize,
            http2_max_local_error_reset_streams: self.http2_max_local_error_reset_streams as usize,
        }
    }
}

/// A count of at least 1.
fn positive() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn defaults_match_the_spec_and_the_shared_defaults() {
        let c = Config::try_parse_from(["obslab-server"]).unwrap();
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.limits.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(75));
        assert_eq!(c.limits.max_connections, 16_384);
        assert_eq!(c.limits.max_header_bytes, 16 * 1024);
    }

    #[test]
    fn out_of_range_limits_are_usage_errors() {
        for bad in [
            &["--header-read-timeout", "0s"][..],
            &["--idle-timeout", "soon"],
            &["--max-connections", "0"],
            &["--max-header-bytes", "4096"],
            &["--http2-max-concurrent-streams", "0"],
        ] {
            let args = std::iter::once("obslab-server").chain(bad.iter().copied());
            let err = Config::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
            assert!(err.to_string().contains(bad[0]), "{err}");
        }
    }
}
