//! The admin API under `/admin/`: read and change the fault profile, reset
//! it, and play scenarios. Off unless `--admin-token` is set; every request
//! must carry `Authorization: Bearer <token>`, compared in constant time. The
//! token is never logged (the access log writes the path only).

use subtle::ConstantTimeEq;
use warp::Reply;
use warp::http::{HeaderValue, Method, StatusCode, header};

use crate::endpoint::Endpoint;
use crate::error_type::{ErrorBody, ErrorType};
use crate::fault_metrics::ChangeSource;
use crate::handlers::{Answer, now};
use crate::patch::{FieldError, ProfilePatch, ProfileView};
use crate::scenario::{Scenario, Status};
use crate::state::SharedState;

/// Largest request body the admin API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The refusal of a request that may not use the admin API; `None` lets it
/// through.
pub fn refusal(state: &SharedState, authorization: Option<&str>) -> Option<Answer> {
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
    let mut refusal = Answer::error(ErrorType::Unauthorized, ErrorType::Unauthorized.sentence());
    refusal
        .response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(refusal)
}

/// Answers an authorized admin request; `body` is at most [`BODY_LIMIT`].
pub fn handle(state: &SharedState, endpoint: Endpoint, method: &Method, body: &[u8]) -> Answer {
    match (endpoint, method.as_str()) {
        (Endpoint::AdminFaults, "GET") => profile(state),
        (Endpoint::AdminFaults, "PATCH") => patch(state, body),
        (Endpoint::AdminFaultsReset, "POST") => {
            state.reset();
            profile(state)
        }
        (Endpoint::AdminScenario, "GET") => scenario_status(state),
        (Endpoint::AdminScenario, "POST") => start_scenario(state, body),
        (Endpoint::AdminScenario, "DELETE") => {
            state.reset();
            scenario_status(state)
        }
        // routes.rs answers 405 before this; should the tables drift, still 405.
        _ => crate::routes::method_not_allowed(method, endpoint),
    }
}

/// The profile in force.
fn profile(state: &SharedState) -> Answer {
    ok(&ProfileView::from(&*state.faults.profile()))
}

/// Applies a JSON [`ProfilePatch`] over the profile in force, whole or not
/// at all.
fn patch(state: &SharedState, body: &[u8]) -> Answer {
    let patch: ProfilePatch = match serde_json::from_slice(body) {
        Ok(patch) => patch,
        Err(e) => return invalid(&format!("the body is not a fault patch: {e}"), None),
    };
    match patch.apply(&state.faults.profile()) {
        Ok(profile) => {
            state.apply_profile(profile, ChangeSource::Admin);
            self::profile(state)
        }
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
    if let Err(e) = scenario.check_faults(state.defaults()) {
        return field_error(&e);
    }
    state.start_scenario(scenario);
    scenario_status(state)
}

fn scenario_status(state: &SharedState) -> Answer {
    match &*state.playing() {
        Some(playing) => ok(&playing.status()),
        None => ok(&Status {
            running: false,
            name: None,
            phase: None,
            phase_index: None,
            started_at: None,
            elapsed_seconds: None,
            speed: None,
            scenario: None,
        }),
    }
}

fn ok(body: &impl serde::Serialize) -> Answer {
    Answer {
        response: warp::reply::json(body).into_response(),
        error: None,
    }
}

fn field_error(e: &FieldError) -> Answer {
    invalid(&e.to_string(), Some(&e.field))
}

/// 400 validation_error, naming the field when one is to blame.
fn invalid(sentence: &str, field: Option<&str>) -> Answer {
    let body = ErrorBody {
        error: sentence,
        error_type: ErrorType::ValidationError.as_str(),
        field,
        timestamp: now(),
    };
    Answer {
        response: warp::reply::with_status(warp::reply::json(&body), StatusCode::BAD_REQUEST)
            .into_response(),
        error: Some(ErrorType::ValidationError),
    }
}

/// The answer to a body over [`BODY_LIMIT`].
pub fn too_large() -> Answer {
    invalid(&format!("the body is over {} KiB", BODY_LIMIT / 1024), None)
}
