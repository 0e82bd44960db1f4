//! The closed set of error types: the `error_type` label of
//! `flask_errors_total`, the HTTP status each one answers with, and the JSON
//! error body every failure carries.
//!
//! A closed enum rather than strings, so that a client can never add a value
//! to the label, every type can be exported at 0 from the first scrape, and
//! the names (a contract with the Flask app's lab material) are written once.

use serde::Serialize;
use warp::http::StatusCode;

/// A kind of failure the server answers with. The names are a contract with
/// existing lab material (the Flask app's README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// An injected failure of `GET /` (500).
    HomeError,
    /// An injected failure of `GET /health` (503).
    HealthCheckFailed,
    /// A `GET /error` type, and any invalid request (400).
    ValidationError,
    /// A `GET /error` type (403).
    PermissionError,
    /// A `GET /error` type (500).
    DatabaseError,
    /// A `GET /error` type (504).
    TimeoutError,
    /// A `GET /slow` that waited its timeout (504).
    Timeout,
    /// A path the server does not serve, or the admin API when off (404).
    NotFound,
    /// A method the route does not answer (405).
    MethodNotAllowed,
    /// An admin request without the right bearer token.
    Unauthorized,
    /// A simulated total outage (admin API or scenario).
    Outage,
}

impl ErrorType {
    /// Every error type; all are exported at 0 from the first scrape.
    pub const ALL: [ErrorType; 11] = [
        ErrorType::HomeError,
        ErrorType::HealthCheckFailed,
        ErrorType::ValidationError,
        ErrorType::PermissionError,
        ErrorType::DatabaseError,
        ErrorType::TimeoutError,
        ErrorType::Timeout,
        ErrorType::NotFound,
        ErrorType::MethodNotAllowed,
        ErrorType::Unauthorized,
        ErrorType::Outage,
    ];

    /// The four types `GET /error` chooses from.
    pub const MANUAL: [ErrorType; 4] = [
        ErrorType::ValidationError,
        ErrorType::PermissionError,
        ErrorType::DatabaseError,
        ErrorType::TimeoutError,
    ];

    /// The `error_type` label value and JSON field.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::HomeError => "home_error",
            ErrorType::HealthCheckFailed => "health_check_failed",
            ErrorType::ValidationError => "validation_error",
            ErrorType::PermissionError => "permission_error",
            ErrorType::DatabaseError => "database_error",
            ErrorType::TimeoutError => "timeout_error",
            ErrorType::Timeout => "timeout",
            ErrorType::NotFound => "not_found",
            ErrorType::MethodNotAllowed => "method_not_allowed",
            ErrorType::Unauthorized => "unauthorized",
            ErrorType::Outage => "outage",
        }
    }

    /// One of the four `/error` types, by name.
    pub fn manual(name: &str) -> Option<ErrorType> {
        ErrorType::MANUAL.into_iter().find(|t| t.as_str() == name)
    }

    /// The four `/error` types' names, for messages listing them.
    pub fn manual_names() -> String {
        ErrorType::MANUAL.map(ErrorType::as_str).join(", ")
    }

    /// Parses a label value back into its type.
    pub fn from_name(name: &str) -> Option<ErrorType> {
        ErrorType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The status a response of this type carries.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::HomeError | ErrorType::DatabaseError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::HealthCheckFailed | ErrorType::Outage => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::ValidationError => StatusCode::BAD_REQUEST,
            ErrorType::PermissionError => StatusCode::FORBIDDEN,
            ErrorType::TimeoutError | ErrorType::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
            ErrorType::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorType::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }

    /// The default sentence of the `error` field.
    pub fn sentence(self) -> &'static str {
        match self {
            ErrorType::HomeError => "Random error on the home page",
            ErrorType::HealthCheckFailed => "Health check failed",
            ErrorType::ValidationError => "Validation failed: the request is invalid",
            ErrorType::PermissionError => "Permission denied",
            ErrorType::DatabaseError => "Database connection failed",
            ErrorType::TimeoutError => "The operation timed out",
            ErrorType::Timeout => "The slow request timed out",
            ErrorType::NotFound => "Not found",
            ErrorType::MethodNotAllowed => "Method not allowed",
            ErrorType::Unauthorized => "A valid bearer token is required",
            ErrorType::Outage => "Service unavailable: simulated outage",
        }
    }

    /// Position in [`ErrorType::ALL`], for tables of pre-resolved handles.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// What went wrong, as a sentence.
    pub error: &'a str,
    /// The [`ErrorType`]'s name.
    pub error_type: &'static str,
    /// The invalid field of an admin request, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
    /// When it was answered, RFC 3339.
    pub timestamp: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches() {
        for (i, t) in ErrorType::ALL.into_iter().enumerate() {
            assert_eq!(ErrorType::from_name(t.as_str()), Some(t));
            assert_eq!(t.index(), i);
        }
        assert_eq!(ErrorType::from_name("bogus"), None);
    }

    #[test]
    fn statuses_match_the_spec() {
        let want = [
            ("home_error", 500),
            ("health_check_failed", 503),
            ("validation_error", 400),
            ("permission_error", 403),
            ("database_error", 500),
            ("timeout_error", 504),
            ("timeout", 504),
            ("not_found", 404),
            ("method_not_allowed", 405),
            ("unauthorized", 401),
            ("outage", 503),
        ];
        for (name, status) in want {
            assert_eq!(
                ErrorType::from_name(name).unwrap().status().as_u16(),
                status,
                "{name}"
            );
        }
    }
}
