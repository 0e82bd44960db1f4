//! The two timeouts of a connection, kept apart as nginx, Go and Envoy keep
//! them: the header read timeout runs from a request's first byte until its
//! head is complete; the idle timeout runs while nothing is in flight.
//!
//! hyper has neither with these meanings. Its HTTP/1 `header_read_timeout`
//! starts as soon as a connection waits for a request, so on a keep-alive
//! connection it is also the idle timeout (10 s where nginx keeps 75 s); it
//! has no idle timeout at all. So each connection carries a small [`State`],
//! written by three observers and read by one timer:
//!
//! - [`Watched`], around the socket, sees bytes arrive: the first byte read
//!   while no request is in flight starts a head; the first 24 bytes tell
//!   HTTP/1 from HTTP/2's preface. A sent byte (HTTP/1) is activity.
//! - [`Counted`], around the service, sees a request's head complete (hyper
//!   calls the service) and its answer leave (the service's future ends or
//!   is dropped): a request is in flight in between. It also wraps the
//!   request's body: while the app waits for body bytes that do not come,
//!   the connection is idle (a slow body, "R.U.D.Y.", holds a connection as
//!   a slow head does).
//! - [`Deadlines`], around the connection's future, re-reads the state each
//!   time the connection is polled and keeps one timer no later than the
//!   nearest deadline (moved earlier at once, later only when it fires, so
//!   a busy connection does not touch the timer wheel per request); when
//!   the deadline has passed, the connection is dropped, which closes it.
//!
//! HTTP/2 multiplexes streams, so "the first byte of a request" means
//! nothing there once the preface is in: an h2 connection is timed by the
//! header read timeout until its preface is complete, then by the idle
//! timeout, which counts from its last stream's end (pings do not keep it
//! open). Its header lists are bounded by size instead. Its streams share
//! the connection's one body clock: body bytes of any stream reset it.
//!
//! Known imprecision (HTTP/1): bytes read after a request's answer without
//! belonging to a new head (the unread rest of a body hyper discards) start
//! a head, so that connection, left idle, is closed after the header read
//! timeout rather than the idle one. A pipelined head already buffered when
//! the previous answer leaves is timed by the idle timeout.

mod deadline;
mod service;
mod socket;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::Limits;

pub use self::deadline::Deadlines;
pub use self::service::{Counted, WatchedBody};
pub use self::socket::Watched;

/// Why a connection was closed by a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// A request head was not complete within the header read timeout.
    HeaderRead,
    /// Nothing was in flight for the idle timeout.
    Idle,
}

impl Expired {
    /// Every value, in the order of [`Expired::index`].
    pub const ALL: [Expired; 2] = [Expired::HeaderRead, Expired::Idle];

    /// The label value (`timeout="header_read"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Expired::HeaderRead => "header_read",
            Expired::Idle => "idle",
        }
    }

    /// Position in [`Expired::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the observers of one connection know, shared with the service's
/// futures (HTTP/2 runs each stream in a task of its own). Instants are
/// nanoseconds since the connection opened.
#[derive(Debug)]
pub struct State {
    opened: Instant,
    in_flight: AtomicU32,
    /// When the head being read began, plus one; 0 when none is.
    head_since: AtomicU64,
    /// When the connection last became or was seen idle.
    idle_since: AtomicU64,
    /// Since when the app has waited for body bytes, plus one; 0 when it
    /// does not.
    body_wait_since: AtomicU64,
}

impl State {
    /// The state of a connection opened now: idle, no head begun.
    pub fn new() -> Arc<State> {
        Arc::new(State {
            opened: Instant::now(),
            in_flight: AtomicU32::new(0),
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            body_wait_since: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    fn at(&self, nanos: u64) -> Instant {
        self.opened + Duration::from_nanos(nanos)
    }

    /// Bytes arrived on an HTTP/1 connection (or one not yet known to be
    /// HTTP/2): they begin a head unless a request is in flight or a head
    /// already began.
    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_since.load(Ordering::Relaxed) == 0
        {
            self.head_since.store(self.now() + 1, Ordering::Release);
        }
    }

    /// The connection did something that is not waiting: it sent bytes, or
    /// its HTTP/2 preface completed.
    fn active(&self) {
        self.idle_since.store(self.now(), Ordering::Release);
    }

    /// The HTTP/2 preface is in: no head is being read any more.
    fn preface_complete(&self) {
        self.head_since.store(0, Ordering::Release);
        self.active();
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
    }

    fn request_ended(&self) {
        // Idle from now on if this was the last one: the instant first, so
        // that a reader who sees 0 in flight sees it too.
        self.active();
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// The app waits for body bytes that have not come (from now, unless
    /// it already did).
    fn body_waiting(&self) {
        if self.body_wait_since.load(Ordering::Relaxed) == 0 {
            self.body_wait_since
                .store(self.now() + 1, Ordering::Release);
        }
    }

    /// Body bytes came, or the body is no longer waited for.
    fn body_moved(&self) {
        self.body_wait_since.store(0, Ordering::Release);
    }

    /// The nearest deadline and what expires then; `None` while a request
    /// is in flight and neither a head nor its body is awaited.
    pub fn due(&self, limits: &Limits) -> Option<(Instant, Expired)> {
        let head = self.head_since.load(Ordering::Acquire);
        if head != 0 {
            return Some((
                self.at(head - 1) + limits.header_read_timeout,
                Expired::HeaderRead,
            ));
        }
        if self.in_flight.load(Ordering::Acquire) > 0 {
            let body = self.body_wait_since.load(Ordering::Acquire);
            return (body != 0).then(|| (self.at(body - 1) + limits.idle_timeout, Expired::Idle));
        }
        let idle = self.idle_since.load(Ordering::Acquire);
        Some((self.at(idle) + limits.idle_timeout, Expired::Idle))
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(30),
            ..Limits::default()
        }
    }

    /// The nearest deadline as seconds from now, and what expires then.
    fn due_in(state: &State) -> Option<(u64, Expired)> {
        let (at, expired) = state.due(&limits())?;
        Some((at.duration_since(Instant::now()).as_secs(), expired))
    }

    async fn wait(seconds: u64) {
        tokio::time::advance(Duration::from_secs(seconds)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_connection_is_idle_until_its_first_byte_starts_a_head() {
        let state = State::new();
        assert_eq!(due_in(&state), Some((30, Expired::Idle)));
        wait(5).await;
        state.bytes_read();
        assert_eq!(due_in(&state), Some((2, Expired::HeaderRead)));
        // More bytes of the same head do not move its deadline.
        wait(1).await;
        state.bytes_read();
        assert_eq!(due_in(&state), Some((1, Expired::HeaderRead)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_has_no_deadline_and_its_end_starts_the_idle_one() {
        let state = State::new();
        state.bytes_read();
        state.request_started();
        assert_eq!(due_in(&state), None);
        // Body bytes while in flight begin no head.
        wait(60).await;
        state.bytes_read();
        assert_eq!(due_in(&state), None);
        state.request_ended();
        assert_eq!(due_in(&state), Some((30, Expired::Idle)));
        // The next request's first byte starts its head.
        wait(10).await;
        state.bytes_read();
        assert_eq!(due_in(&state), Some((2, Expired::HeaderRead)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_the_app_waits_for_in_vain_is_idle_time() {
        let state = State::new();
        state.request_started();
        wait(5).await;
        state.body_waiting();
        assert_eq!(due_in(&state), Some((30, Expired::Idle)));
        wait(10).await;
        state.body_waiting();
        assert_eq!(due_in(&state), Some((20, Expired::Idle)));
        state.body_moved();
        assert_eq!(due_in(&state), None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_http2_connection_is_idle_after_its_preface() {
        let state = State::new();
        state.bytes_read();
        wait(1).await;
        state.preface_complete();
        assert_eq!(due_in(&state), Some((30, Expired::Idle)));
    }
}
