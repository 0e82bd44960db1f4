//! The timer's side: [`Deadlines`] closes a connection whose nearest
//! deadline has passed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use super::{Expired, State};
use crate::Limits;

pin_project! {
    /// A connection's future that ends with [`Expired`] when the state's
    /// nearest deadline passes first.
    pub struct Deadlines<F> {
        #[pin]
        connection: F,
        #[pin]
        timer: Sleep,
        state: Arc<State>,
        limits: Limits,
    }
}

impl<F> Deadlines<F> {
    /// Runs `connection` under `state`'s deadlines.
    pub fn new(connection: F, state: Arc<State>, limits: &Limits) -> Deadlines<F> {
        let first = state.due(limits).map_or_else(Instant::now, |(at, _)| at);
        Deadlines {
            connection,
            timer: tokio::time::sleep_until(first),
            state,
            limits: *limits,
        }
    }
}

impl<F: Future> Future for Deadlines<F> {
    type Output = Result<F::Output, Expired>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(output) = this.connection.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // The connection has just read, written or finished what it could:
        // the state is current. A deadline nearer than the timer moves it.
        if let Some((at, _)) = this.state.due(this.limits)
            && at < this.timer.deadline()
        {
            this.timer.as_mut().reset(at);
        }
        loop {
            ready!(this.timer.as_mut().poll(cx));
            // The timer fired: the deadline has passed, or moved later, or
            // there is none while a request is in flight (then look again
            // later: an HTTP/2 stream may end in its own task without this
            // connection being polled).
            let now = Instant::now();
            match this.state.due(this.limits) {
                Some((at, expired)) if at <= now => return Poll::Ready(Err(expired)),
                Some((at, _)) => this.timer.as_mut().reset(at),
                None => this.timer.as_mut().reset(now + this.limits.idle_timeout),
            }
        }
    }
}
