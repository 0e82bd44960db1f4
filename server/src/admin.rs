//! The admin API under `/admin/`: read and change the fault profile, reset
//! it, and play scenarios. Off unless `--admin-token` is set; every request
//! must carry `Authorization: Bearer <token>`, compared in constant time. The
//! token is never logged (the access log writes the path only).
//!
//! The module answers every request for an admin path by itself, in this
//! order: the API is off (404), the token is wrong (401), the method is not
//! the route's (405), the body is over [`BODY_LIMIT`] (400); then the
//! operation. Authentication comes first so that a caller without the token
//! learns nothing about the routes, not even their methods.

use futures_util::{Stream, StreamExt};
use subtle::ConstantTimeEq;
use warp::Buf;
use warp::http::{HeaderValue, Method, StatusCode, header};

use crate::answer::Answer;
use crate::endpoint::Endpoint;
use crate::error_type::ErrorType;
use crate::patch::{FieldError, ProfilePatch, ProfileView};
use crate::profile::FaultProfile;
use crate::scenario::Scenario;
use crate::state::SharedState;

/// Largest request body the admin API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Answers a request for an admin path, from its checks to its operation.
pub async fn answer<B: Buf>(
    state: &SharedState,
    endpoint: Endpoint,
    method: &Method,
    authorization: Option<&str>,
    body: impl Stream<Item = Result<B, warp::Error>> + Send,
) -> Answer {
    if let Some(refusal) = refusal(state, authorization) {
        return refusal;
    }
    if !endpoint.allows(method) {
        return Answer::method_not_allowed(method, endpoint);
    }
    match read_body(body).await {
        Some(body) => operate(state, endpoint, method, &body),
        None => invalid(&format!("the body is over {} KiB", BODY_LIMIT / 1024), None),
    }
}

/// The refusal of a request that may not use the admin API; `None` lets it
/// through.
fn refusal(state: &SharedState, authorization: Option<&str>) -> Option<Answer> {
    let Some(token) = &state.admin_token else {
        return Some(Answer::error(
            ErrorType::NotFound,
            "The admin API is off; start the server with --admin-token (OBSLAB_ADMIN_TOKEN) to open it",
        ));
    };
    let presented = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
        return None;
    }
    let mut refusal = Answer::failure(ErrorType::Unauthorized);
    refusal
        .response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(refusal)
}

/// The request body, or `None` when it is over [`BODY_LIMIT`] or cannot be
/// read.
async fn read_body<B: Buf>(body: impl Stream<Item = Result<B, warp::Error>>) -> Option<Vec<u8>> {
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.ok()?;
        if bytes.len() + chunk.remaining() > BODY_LIMIT {
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

/// Runs an authorized admin operation; `body` is at most [`BODY_LIMIT`].
fn operate(state: &SharedState, endpoint: Endpoint, method: &Method, body: &[u8]) -> Answer {
    match (endpoint, method.as_str()) {
        (Endpoint::AdminFaults, "GET") => profile(state),
        (Endpoint::AdminFaults, "PATCH") => patch(state, body),
        (Endpoint::AdminFaultsReset, "POST") => view(&state.faults.reset()),
        (Endpoint::AdminScenario, "GET") => scenario_status(state),
        (Endpoint::AdminScenario, "POST") => start_scenario(state, body),
        (Endpoint::AdminScenario, "DELETE") => {
            state.faults.reset();
            scenario_status(state)
        }
        // `answer` checked the method against the route table; should this
        // match and that table drift apart, still 405.
        _ => Answer::method_not_allowed(method, endpoint),
    }
}

/// The profile in force.
fn profile(state: &SharedState) -> Answer {
    view(&state.faults.profile())
}

/// `profile` as the admin API shows it.
fn view(profile: &FaultProfile) -> Answer {
    ok(&ProfileView::from(profile))
}

/// Applies a JSON [`ProfilePatch`] over the profile in force, whole or not
/// at all; answers with the profile it installed, whatever changed since.
fn patch(state: &SharedState, body: &[u8]) -> Answer {
    let patch: ProfilePatch = match serde_json::from_slice(body) {
        Ok(patch) => patch,
        Err(e) => return invalid(&format!("the body is not a fault patch: {e}"), None),
    };
    match state.faults.patch(&patch) {
        Ok(installed) => view(&installed),
        Err(e) => field_error(&e),
    }
}

/// Parses a scenario (YAML or JSON) and plays it from now, replacing any.
fn start_scenario(state: &SharedState, body: &[u8]) -> Answer {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(_) => return invalid("the body is not UTF-8 text", None),
    };
    let scenario = match Scenario::parse(text) {
        Ok(scenario) => scenario,
        Err(e) => return invalid(&format!("{e:#}"), None),
    };
    if let Err(e) = scenario.check_faults(state.faults.defaults()) {
        return field_error(&e);
    }
    state.faults.start_scenario(scenario);
    scenario_status(state)
}

/// The scenario being, or last, played.
fn scenario_status(state: &SharedState) -> Answer {
    ok(&state.faults.scenario_status())
}

fn ok(body: &impl serde::Serialize) -> Answer {
    Answer::json(StatusCode::OK, body)
}

fn field_error(e: &FieldError) -> Answer {
    invalid(&e.to_string(), Some(&e.field))
}

/// 400 validation_error, naming the field when one is to blame.
fn invalid(sentence: &str, field: Option<&str>) -> Answer {
    Answer::error_in_field(ErrorType::ValidationError, sentence, field)
}
