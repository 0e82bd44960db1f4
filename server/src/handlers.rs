//! One async handler per route. Each returns an [`Answer`]: the response and,
//! for a failure, its error type, so the observation point can count it
//! without parsing the body back. Waits use `tokio::time::sleep` only: a
//! stalled `/slow` never parks a runtime thread.

use std::time::Duration;

use serde::Serialize;
use warp::Reply;
use warp::http::{HeaderValue, StatusCode, header};

use crate::answer::Answer;
use crate::error_type::ErrorType;
use crate::faults::Decision;
use crate::profile::Route;
use crate::state::AppState;
use crate::timestamp::now;

/// Waits the decided delay; the injected failure, if any, as an answer.
async fn injected(decision: Decision) -> Option<Answer> {
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    decision.error.map(Answer::failure)
}

/// GET / — the home page; fails with home_error at its configured rate.
pub async fn home(state: &AppState) -> Answer {
    if let Some(failure) = injected(state.faults.decide(Route::Home)).await {
        return failure;
    }
    Answer::json(
        StatusCode::OK,
        &Home {
            message: "Observability TP - Flask App with Prometheus",
            status: "running",
            timestamp: now(),
        },
    )
}

/// GET /health — fails with health_check_failed at its configured rate.
pub async fn health(state: &AppState) -> Answer {
    if let Some(failure) = injected(state.faults.decide(Route::Health)).await {
        return failure;
    }
    Answer::json(
        StatusCode::OK,
        &Health {
            status: "healthy",
            uptime_seconds: state.metrics.uptime_seconds(),
            timestamp: now(),
        },
    )
}

/// The body of `GET /`, fields in the order the Flask app wrote them.
#[derive(Serialize)]
struct Home {
    message: &'static str,
    status: &'static str,
    timestamp: String,
}

/// The body of a healthy `GET /health`.
#[derive(Serialize)]
struct Health {
    status: &'static str,
    uptime_seconds: f64,
    timestamp: String,
}

/// The body of `GET /stats`: the seed README's fields.
#[derive(Serialize)]
struct Stats {
    uptime_seconds: f64,
    total_requests: u64,
    error_count: u64,
    error_rate: f64,
    timestamp: String,
}

/// The body of a successful `GET /slow`.
#[derive(Serialize)]
struct Slow {
    message: &'static str,
    delay_seconds: f64,
    timestamp: String,
}

/// The body of `/livez` and `/readyz`.
#[derive(Serialize)]
struct Probe {
    status: &'static str,
    timestamp: String,
}

/// GET /stats — totals since start, from the same counters as /metrics.
pub fn stats(state: &AppState) -> Answer {
    let s = state.metrics.snapshot();
    Answer::json(
        StatusCode::OK,
        &Stats {
            uptime_seconds: s.uptime_seconds,
            total_requests: s.total_requests,
            error_count: s.error_count,
            error_rate: s.error_rate,
            timestamp: now(),
        },
    )
}

/// GET /metrics — the Prometheus text exposition.
pub fn metrics(state: &AppState) -> Answer {
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(prometheus::TEXT_FORMAT),
    );
    Answer {
        response,
        error: None,
    }
}

/// GET /error?type=TYPE — always fails: with TYPE when given, else with a
/// type drawn by the configured weights. An unknown TYPE is the client's
/// mistake: 400 validation_error listing the valid types.
pub fn error(state: &AppState, requested: Option<&str>) -> Answer {
    let Some(name) = requested else {
        return Answer::failure(state.faults.manual_error());
    };
    match ErrorType::manual(name) {
        Some(error) => Answer::failure(error),
        None => Answer::error(
            ErrorType::ValidationError,
            &format!(
                "unknown error type `{name}`; valid types: {}",
                ErrorType::manual_names()
            ),
        ),
    }
}

/// GET /slow — sleeps a random delay, then 200; at its configured rate waits
/// the timeout instead, then fails with 504 timeout.
pub async fn slow(state: &AppState) -> Answer {
    let decision = state.faults.decide(Route::Slow);
    tokio::time::sleep(decision.delay).await;
    if decision.error.is_some() {
        let sentence = format!(
            "The slow request timed out after {}",
            humantime::format_duration(decision.delay)
        );
        return Answer::error(ErrorType::Timeout, &sentence);
    }
    Answer::json(
        StatusCode::OK,
        &Slow {
            message: "Slow request completed",
            delay_seconds: round_ms(decision.delay),
            timestamp: now(),
        },
    )
}

/// GET /livez — 200 while the process serves.
pub fn livez() -> Answer {
    Answer::json(
        StatusCode::OK,
        &Probe {
            status: "alive",
            timestamp: now(),
        },
    )
}

/// GET /readyz — 200 while serving, 503 once shutdown has begun.
pub fn readyz(state: &AppState) -> Answer {
    if state.is_draining() {
        Answer::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &Probe {
                status: "draining",
                timestamp: now(),
            },
        )
    } else {
        Answer::json(
            StatusCode::OK,
            &Probe {
                status: "ready",
                timestamp: now(),
            },
        )
    }
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}
