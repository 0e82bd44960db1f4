//! What every route returns: the HTTP response and, for a failure, its error
//! type.
//!
//! The observation point in `routes` counts `flask_errors_total` from the
//! error type carried beside the response, so it never parses a body back.
//! The JSON error body (`error`, `error_type`, `timestamp`, and `field` when
//! one is to blame) is built here and nowhere else, for handlers, the admin
//! API and the 404/405 answers alike.

use serde::Serialize;
use warp::Reply;
use warp::http::{HeaderValue, Method, StatusCode, header};
use warp::reply::Response;

use crate::endpoint::Endpoint;
use crate::error_type::{ErrorBody, ErrorType};
use crate::timestamp::now;

/// A response and, when it is an error, its type.
#[derive(Debug)]
pub struct Answer {
    /// What the client receives.
    pub response: Response,
    /// The error type to count, for a failure.
    pub error: Option<ErrorType>,
}

impl Answer {
    /// A JSON response with `status`, not counted as an error.
    pub fn json(status: StatusCode, body: &impl Serialize) -> Answer {
        Answer {
            response: warp::reply::with_status(warp::reply::json(body), status).into_response(),
            error: None,
        }
    }

    /// The JSON error body of `error`, with its status.
    pub fn error(error: ErrorType, sentence: &str) -> Answer {
        Answer::error_in_field(error, sentence, None)
    }

    /// The JSON error body of `error` naming the request `field` to blame,
    /// when there is one.
    pub fn error_in_field(error: ErrorType, sentence: &str, field: Option<&str>) -> Answer {
        let body = ErrorBody {
            error: sentence,
            error_type: error.as_str(),
            field,
            timestamp: now(),
        };
        Answer {
            error: Some(error),
            ..Answer::json(error.status(), &body)
        }
    }

    /// The error `error` with its default sentence.
    pub fn failure(error: ErrorType) -> Answer {
        Answer::error(error, error.sentence())
    }

    /// 405 with the `Allow` header of `endpoint`.
    pub fn method_not_allowed(method: &Method, endpoint: Endpoint) -> Answer {
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
}
