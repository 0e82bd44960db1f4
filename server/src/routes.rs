//! The request pipeline: one warp filter that routes through [`Endpoint`],
//! runs the handler and observes the answer.
//!
//! Instrumentation is outermost: the observation happens after the handler,
//! so injected failures, delays, 404s and 405s are measured exactly as the
//! client sees them. Routing is the closed `match` of `Endpoint::from_path`,
//! the same one that names the `endpoint` label. Admin paths are handed to
//! `admin` whole (it checks its token, methods and body itself); the other
//! routes get their 404, 405 or simulated outage here, before a handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Instant;

use futures_util::Stream;
use warp::http::Method;
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Buf, Filter, Rejection};

use crate::admin;
use crate::answer::Answer;
use crate::endpoint::{Endpoint, MethodLabel};
use crate::error_type::ErrorType;
use crate::handlers;
use crate::state::SharedState;

/// The whole application as a warp filter.
pub fn app(
    state: SharedState,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::method()
        .and(warp::path::full())
        .and(query())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::stream())
        .and(warp::any().map(move || state.clone()))
        .then(dispatch)
}

/// The query string as a map; an absent or malformed one is empty.
fn query() -> impl Filter<Extract = (HashMap<String, String>,), Error = Infallible> + Clone {
    warp::query::<HashMap<String, String>>()
        .or(warp::any().map(HashMap::new))
        .unify()
}

async fn dispatch<B: Buf>(
    method: Method,
    path: FullPath,
    query: HashMap<String, String>,
    authorization: Option<String>,
    body: impl Stream<Item = Result<B, warp::Error>> + Send,
    state: SharedState,
) -> Response {
    let started = Instant::now();
    let _in_flight = state.metrics.in_flight();
    let endpoint = Endpoint::from_path(path.as_str());
    let answer = if endpoint.is_admin() {
        admin::answer(&state, endpoint, &method, authorization.as_deref(), body).await
    } else if endpoint == Endpoint::Unmatched {
        Answer::error(
            ErrorType::NotFound,
            &format!("No route for {method} {}", path.as_str()),
        )
    } else if !endpoint.allows(&method) {
        Answer::method_not_allowed(&method, endpoint)
    } else if state.faults.outage() && !matches!(endpoint, Endpoint::Livez | Endpoint::Readyz) {
        Answer::error(ErrorType::Outage, ErrorType::Outage.sentence())
    } else {
        match endpoint {
            Endpoint::Home => handlers::home(&state).await,
            Endpoint::Health => handlers::health(&state).await,
            Endpoint::Stats => handlers::stats(&state),
            Endpoint::Metrics => handlers::metrics(&state),
            Endpoint::Error => handlers::error(&state, query.get("type").map(String::as_str)),
            Endpoint::Slow => handlers::slow(&state).await,
            Endpoint::Livez => handlers::livez(),
            Endpoint::Readyz => handlers::readyz(&state),
            _ => unreachable!("admin and unmatched endpoints are answered above"),
        }
    };
    let status = answer.response.status();
    let elapsed = started.elapsed();
    state.metrics.observe(
        MethodLabel::from_method(&method),
        endpoint,
        status,
        answer.error,
        elapsed,
    );
    if state.access_log {
        tracing::info!(
            target: "access",
            %method,
            path = path.as_str(),
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    }
    answer.response
}
