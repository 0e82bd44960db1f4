//! The request pipeline: one warp filter that routes through [`Endpoint`],
//! runs the handler and observes the answer.
//!
//! Instrumentation is outermost: the observation happens after the handler,
//! so injected failures, delays, 404s and 405s are measured exactly as the
//! client sees them. Routing is the closed `match` of `Endpoint::from_path`,
//! the same one that names the `endpoint` label.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Instant;

use warp::Filter;
use warp::http::{HeaderValue, Method, header};
use warp::path::FullPath;
use warp::reply::Response;

use crate::endpoint::{Endpoint, MethodLabel};
use crate::error_type::ErrorType;
use crate::handlers::{self, Answer};
use crate::state::SharedState;

/// The methods every route answers; the `Allow` header of a 405.
const ALLOW: &str = "GET, HEAD";

/// The whole application as a warp filter.
pub fn app(
    state: SharedState,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static {
    warp::method()
        .and(warp::path::full())
        .and(query())
        .and(warp::any().map(move || state.clone()))
        .then(dispatch)
}

/// The query string as a map; an absent or malformed one is empty.
fn query() -> impl Filter<Extract = (HashMap<String, String>,), Error = Infallible> + Clone {
    warp::query::<HashMap<String, String>>()
        .or(warp::any().map(HashMap::new))
        .unify()
}

async fn dispatch(
    method: Method,
    path: FullPath,
    query: HashMap<String, String>,
    state: SharedState,
) -> Response {
    let started = Instant::now();
    let _in_flight = state.metrics.in_flight();
    let endpoint = Endpoint::from_path(path.as_str());
    let answer = if endpoint == Endpoint::Unmatched {
        Answer::error(
            ErrorType::NotFound,
            &format!("No route for {method} {}", path.as_str()),
        )
    } else if method != Method::GET && method != Method::HEAD {
        method_not_allowed(&method, endpoint)
    } else {
        match endpoint {
            Endpoint::Home => handlers::home(&state),
            Endpoint::Health => handlers::health(&state),
            Endpoint::Stats => handlers::stats(&state),
            Endpoint::Metrics => handlers::metrics(&state),
            Endpoint::Error => handlers::error(&state, query.get("type").map(String::as_str)),
            Endpoint::Slow => handlers::slow(&state).await,
            Endpoint::Livez => handlers::livez(),
            Endpoint::Readyz => handlers::readyz(&state),
            Endpoint::Unmatched => unreachable!("answered 404 above"),
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

fn method_not_allowed(method: &Method, endpoint: Endpoint) -> Answer {
    let mut answer = Answer::error(
        ErrorType::MethodNotAllowed,
        &format!(
            "Method {method} is not allowed on {}; allowed: {ALLOW}",
            endpoint.as_str()
        ),
    );
    answer
        .response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    answer
}
