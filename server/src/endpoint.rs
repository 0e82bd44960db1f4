//! The closed set of routes the server knows, used both to dispatch a request
//! and to label its metrics.
//!
//! Routing and labelling share this one `match`, so they cannot drift apart,
//! and a client can never mint a new `endpoint` label value: every path the
//! table does not know folds into [`Endpoint::Unmatched`].

use warp::http;

/// A route of obslab-server, named by its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /`: the home page.
    Home,
    /// `GET /health`: the app's own health check, which fails at a rate.
    Health,
    /// `GET /stats`: totals since start.
    Stats,
    /// `GET /metrics`: the Prometheus exposition.
    Metrics,
    /// `GET /error`: always fails.
    Error,
    /// `GET /slow`: answers after a delay, or times out.
    Slow,
    /// `GET /livez`: liveness for orchestrators.
    Livez,
    /// `GET /readyz`: readiness for orchestrators.
    Readyz,
    /// The fault profile in force (admin API).
    AdminFaults,
    /// Back to the configured fault profile (admin API).
    AdminFaultsReset,
    /// The scenario being played (admin API).
    AdminScenario,
    /// Any path the server does not serve (answered 404).
    Unmatched,
}

impl Endpoint {
    /// Every endpoint, in label order; `Endpoint::ALL[e.index()] == e`.
    pub const ALL: [Endpoint; 12] = [
        Endpoint::Home,
        Endpoint::Health,
        Endpoint::Stats,
        Endpoint::Metrics,
        Endpoint::Error,
        Endpoint::Slow,
        Endpoint::Livez,
        Endpoint::Readyz,
        Endpoint::AdminFaults,
        Endpoint::AdminFaultsReset,
        Endpoint::AdminScenario,
        Endpoint::Unmatched,
    ];

    /// The routing decision: the endpoint a request path belongs to.
    pub fn from_path(path: &str) -> Endpoint {
        match path {
            "/" => Endpoint::Home,
            "/health" => Endpoint::Health,
            "/stats" => Endpoint::Stats,
            "/metrics" => Endpoint::Metrics,
            "/error" => Endpoint::Error,
            "/slow" => Endpoint::Slow,
            "/livez" => Endpoint::Livez,
            "/readyz" => Endpoint::Readyz,
            "/admin/faults" => Endpoint::AdminFaults,
            "/admin/faults/reset" => Endpoint::AdminFaultsReset,
            "/admin/scenario" => Endpoint::AdminScenario,
            _ => Endpoint::Unmatched,
        }
    }

    /// The `endpoint` label value: the route template, or `unmatched`.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Home => "/",
            Endpoint::Health => "/health",
            Endpoint::Stats => "/stats",
            Endpoint::Metrics => "/metrics",
            Endpoint::Error => "/error",
            Endpoint::Slow => "/slow",
            Endpoint::Livez => "/livez",
            Endpoint::Readyz => "/readyz",
            Endpoint::AdminFaults => "/admin/faults",
            Endpoint::AdminFaultsReset => "/admin/faults/reset",
            Endpoint::AdminScenario => "/admin/scenario",
            Endpoint::Unmatched => "unmatched",
        }
    }

    /// Position in [`Endpoint::ALL`], for tables of pre-resolved handles.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether this is a route of the admin API.
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Endpoint::AdminFaults | Endpoint::AdminFaultsReset | Endpoint::AdminScenario
        )
    }

    /// The methods the route answers, as an `Allow` header value.
    pub fn allow(self) -> &'static str {
        match self {
            Endpoint::AdminFaults => "GET, PATCH",
            Endpoint::AdminFaultsReset => "POST",
            Endpoint::AdminScenario => "GET, POST, DELETE",
            _ => "GET, HEAD",
        }
    }

    /// Whether the route answers `method`.
    pub fn allows(self, method: &http::Method) -> bool {
        use http::Method as M;
        match self {
            Endpoint::AdminFaults => method == M::GET || method == M::PATCH,
            Endpoint::AdminFaultsReset => method == M::POST,
            Endpoint::AdminScenario => method == M::GET || method == M::POST || method == M::DELETE,
            _ => method == M::GET || method == M::HEAD,
        }
    }
}

/// The request method as a label value, clamped to a closed set so that
/// `FOO / HTTP/1.1` cannot create a series of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodLabel {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
    /// `PATCH`.
    Patch,
    /// `OPTIONS`.
    Options,
    /// Any other method, `CONNECT` and `TRACE` included.
    Other,
}

impl MethodLabel {
    /// Number of label values, for tables of pre-resolved handles.
    pub const COUNT: usize = 8;

    /// Clamps an HTTP method to its label.
    pub fn from_method(method: &http::Method) -> MethodLabel {
        match *method {
            http::Method::GET => MethodLabel::Get,
            http::Method::HEAD => MethodLabel::Head,
            http::Method::POST => MethodLabel::Post,
            http::Method::PUT => MethodLabel::Put,
            http::Method::DELETE => MethodLabel::Delete,
            http::Method::PATCH => MethodLabel::Patch,
            http::Method::OPTIONS => MethodLabel::Options,
            _ => MethodLabel::Other,
        }
    }

    /// The `method` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodLabel::Get => "GET",
            MethodLabel::Head => "HEAD",
            MethodLabel::Post => "POST",
            MethodLabel::Put => "PUT",
            MethodLabel::Delete => "DELETE",
            MethodLabel::Patch => "PATCH",
            MethodLabel::Options => "OPTIONS",
            MethodLabel::Other => "OTHER",
        }
    }

    /// Position in tables of pre-resolved handles.
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_template_routes_to_itself() {
        for endpoint in Endpoint::ALL {
            if endpoint != Endpoint::Unmatched {
                assert_eq!(Endpoint::from_path(endpoint.as_str()), endpoint);
            }
            assert_eq!(Endpoint::ALL[endpoint.index()], endpoint);
        }
    }

    #[test]
    fn near_misses_are_unmatched() {
        for path in [
            "",
            "/health/",
            "/HEALTH",
            "/slow/1",
            "//",
            "/metrics.json",
            "unmatched",
        ] {
            assert_eq!(Endpoint::from_path(path), Endpoint::Unmatched, "{path}");
        }
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let odd = http::Method::from_bytes(b"FOO").unwrap();
        assert_eq!(MethodLabel::from_method(&odd), MethodLabel::Other);
        assert_eq!(MethodLabel::from_method(&http::Method::GET).as_str(), "GET");
    }
}
