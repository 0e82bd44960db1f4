//! The service's side: [`Counted`] sees a request's head complete and its
//! answer leave, and [`WatchedBody`] sees the app wait for body bytes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::State;

/// A service that reports when each request's head is complete (it is
/// called) and when its answer leaves (its future ends or is dropped).
#[derive(Debug, Clone)]
pub struct Counted<S> {
    inner: S,
    state: Arc<State>,
}

impl<S> Counted<S> {
    /// Counts the requests `inner` answers on `state`'s connection.
    pub fn new(inner: S, state: Arc<State>) -> Counted<S> {
        Counted { inner, state }
    }
}

impl<S, B> tower_service::Service<http::Request<B>> for Counted<S>
where
    S: tower_service::Service<http::Request<WatchedBody<B>>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = InFlight<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.state.request_started();
        let request = request.map(|body| WatchedBody {
            body,
            state: self.state.clone(),
            waiting: false,
        });
        InFlight {
            future: self.inner.call(request),
            _guard: RequestGuard(self.state.clone()),
        }
    }
}

pin_project! {
    /// A request's body that tells the connection's [`State`] while the app
    /// waits for bytes that have not come.
    #[derive(Debug)]
    pub struct WatchedBody<B> {
        #[pin]
        body: B,
        state: Arc<State>,
        waiting: bool,
    }

    impl<B> PinnedDrop for WatchedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if this.waiting {
                this.state.body_moved();
            }
        }
    }
}

impl<B: http_body::Body> http_body::Body for WatchedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = this.body.poll_frame(cx);
        match (&frame, *this.waiting) {
            (Poll::Pending, false) => this.state.body_waiting(),
            (Poll::Ready(_), true) => this.state.body_moved(),
            _ => {}
        }
        *this.waiting = frame.is_pending();
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

pin_project! {
    /// A request's answer being computed; see [`Counted`].
    pub struct InFlight<F> {
        #[pin]
        future: F,
        _guard: RequestGuard,
    }
}

impl<F: Future> Future for InFlight<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

/// Ends the request in the state when dropped: answered or abandoned.
struct RequestGuard(Arc<State>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}
