//! What can happen to one request: an HTTP status, or one of three kinds
//! of transport failure.
//!
//! The report, the thresholds and the `loadgen_errors_total{kind}` series
//! count failures by the same three kinds, so the taxonomy has one home,
//! below everything that sends or counts.

use std::time::Duration;

/// The three kinds of transport failure the report counts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No response status before `--timeout` (a body cut short after the
    /// status still counts as answered: the server counted the request).
    Timeout,
    /// The TCP (or TLS) connection could not be made.
    Connect,
    /// Anything else (connection reset mid-request, protocol error...).
    Other,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 3] = [ErrorKind::Timeout, ErrorKind::Connect, ErrorKind::Other];

    /// Position in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Label value and JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Other => "other",
        }
    }
}

/// Any error a transport layer gives back, kept as the cause.
pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request that got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// See [`ErrorKind::Timeout`].
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// See [`ErrorKind::Connect`].
    #[error("could not connect")]
    Connect(#[source] BoxError),
    /// See [`ErrorKind::Other`].
    #[error("request failed")]
    Other(#[source] BoxError),
}

impl RequestError {
    /// A failure to dial or to start the connection.
    pub(super) fn connect(e: impl Into<BoxError>) -> Self {
        RequestError::Connect(e.into())
    }

    /// A failure after the connection was made.
    pub(super) fn other(e: impl Into<BoxError>) -> Self {
        RequestError::Other(e.into())
    }

    /// The counter this failure goes to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RequestError::Timeout(_) => ErrorKind::Timeout,
            RequestError::Connect(_) => ErrorKind::Connect,
            RequestError::Other(_) => ErrorKind::Other,
        }
    }

    /// The message with its whole cause chain, for the log.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(e) = source {
            out.push_str(": ");
            out.push_str(&e.to_string());
            source = e.source();
        }
        out
    }
}

/// What happened to one request: an HTTP status, or a transport error.
pub type Outcome = Result<u16, RequestError>;
