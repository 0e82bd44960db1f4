//! Reading one answer to its end within the timeout, and what that says
//! about the request and about its connection.
//!
//! Every exchange on a [`super::Connection`] ends here, so a status, a
//! timeout and a broken exchange are told apart by one rule.

use std::time::Duration;

use http::Response;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

use super::outcome::{Outcome, RequestError};

/// How one exchange ended.
#[derive(Debug)]
pub(super) struct Answer {
    /// The request's fate, as the report counts it.
    pub outcome: Outcome,
    /// The whole answer was read in time, so its connection may carry the
    /// next request; when false the connection is in an unknown state.
    pub connection_reusable: bool,
}

/// Runs `exchange` and reads the answer's body to the end (so the
/// connection can carry the next request), all within `timeout`. A body cut
/// short still leaves the request answered from its status line on, as the
/// server counted it.
pub(super) async fn answer(
    timeout: Duration,
    exchange: impl Future<Output = Result<Response<Incoming>, RequestError>>,
) -> Answer {
    let mut status = None;
    let whole = async {
        let mut response = exchange.await?;
        status = Some(response.status().as_u16());
        let body = response.body_mut();
        while let Some(frame) = body.frame().await {
            frame.map_err(RequestError::other)?;
        }
        Ok::<_, RequestError>(())
    };
    let ended = tokio::time::timeout(timeout, whole).await;
    let connection_reusable = matches!(ended, Ok(Ok(())));
    let outcome = match (ended, status) {
        (_, Some(status)) => Ok(status),
        (Ok(Err(e)), None) => Err(e),
        (_, None) => Err(RequestError::Timeout(timeout)),
    };
    Answer {
        outcome,
        connection_reusable,
    }
}
