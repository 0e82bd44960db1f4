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

use futures_util::{Stream, StreamExt};
use warp::http::{HeaderValue, Method, header};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Buf, Filter, Rejection};

use crate::admin;
use crate::endpoint::{Endpoint, MethodLabel};
use crate::error_type::ErrorType;
use crate::handlers::{self, Answer};
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
        match admin::refusal(&state, authorization.as_deref()) {
            Some(refusal) => refusal,
            None if !endpoint.allows(&method) => method_not_allowed(&method, endpoint),
            None => match read_body(body).await {
                Some(body) => admin::handle(&state, endpoint, &method, &body),
                None => admin::too_large(),
            },
        }
    } else if endpoint == Endpoint::Unmatched {
        Answer::error(
            ErrorType::NotFound,
            &format!("No route for {method} {}", path.as_str()),
        )
    } else if !endpoint.allows(&method) {
        method_not_allowed(&method, endpoint)
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

/// The request body, or `None` when it is over the admin API's limit or
/// cannot be read.
async fn read_body<B: Buf>(body: impl Stream<Item = Result<B, warp::Error>>) -> Option<Vec<u8>> {
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.ok()?;
        if bytes.len() + chunk.remaining() > admin::BODY_LIMIT {
            return None;
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            bytes.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Some(bytes)
}

/// 405 with the `Allow` header of `endpoint`.
pub(crate) fn method_not_allowed(method: &Method, endpoint: Endpoint) -> Answer {
    let allow = endpoint.allow();
    let mut answer = Answer::error(
        ErrorType::MethodNotAllowed,
        &format!(
            "Method {method} is not allowed on {}; allowed: {allow}",
            endpoint.as_str()
        ),
    );
    answer
        .response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    answer
}
