//! `obslab inbox`: the lab's offline Alertmanager webhook receiver.
//!
//! A notification goes Prometheus → Alertmanager → receiver `pager` or
//! `ticket` → `POST /webhook` here, where students watch it arrive on the
//! page at `/` (and its resolution follow). It runs as its own compose
//! service, so it keeps working while the server is down.
//!
//! ```text
//! POST   /webhook            Alertmanager's payload, version 4; 413 over 1 MiB,
//!                            400 with the reason when it is not one
//! GET    /                   the page (newest first, refreshing itself)
//! GET    /api/notifications  JSON array, newest first: the payloads as
//!                            received plus `received_at` (RFC 3339)
//! DELETE /api/notifications  empties the inbox (`obslab reset`), file included
//! GET    /metrics            obslab_inbox_* (see `metrics`)
//! GET    /livez              200 while the process serves
//! ```

pub mod metrics;
pub mod page;
pub mod payload;
pub mod store;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use clap::Subcommand;
use obslab_serve::Limits;
use tokio::net::TcpListener;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use self::metrics::Metrics;
use self::payload::Notification;
use self::store::{Entry, Store};

/// The largest webhook body accepted (Alertmanager's payloads are a few
/// kilobytes; a group of hundreds of alerts stays far below this).
pub const MAX_BODY: u64 = 1024 * 1024;

/// Options of `obslab inbox`. Their environment twins are its own
/// (`OBSLAB_INBOX_*`), so the server's `OBSLAB_LISTEN`, set in the same
/// image, never moves the inbox.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  obslab inbox                                  listen on 0.0.0.0:9095
  obslab inbox --listen 127.0.0.1:9095 --data /var/lib/obslab/inbox.jsonl
  obslab inbox healthcheck                      exit 0 when it answers /livez")]
pub struct InboxArgs {
    /// Address to listen on.
    #[arg(long, env = "OBSLAB_INBOX_LISTEN", default_value = "0.0.0.0:9095")]
    pub listen: SocketAddr,

    /// How many notifications to keep (the oldest go first).
    #[arg(
        long,
        env = "OBSLAB_INBOX_KEEP",
        default_value = "500",
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub keep: u32,

    /// A JSON-lines file: each notification is appended to it, and the last
    /// --keep are reloaded from it at start. Unset: memory only.
    #[arg(long, env = "OBSLAB_INBOX_DATA")]
    pub data: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<InboxCommand>,
}

/// What else `obslab inbox` does besides serving.
#[derive(Debug, Clone, Subcommand)]
pub enum InboxCommand {
    /// Probe GET /livez of the inbox at --listen (for a container health
    /// check: no shell or curl in the image); exit 0 when it answers 200.
    Healthcheck {
        /// How long to wait for the answer.
        #[arg(long, default_value = "2s", value_parser = obslab_common::duration::parse)]
        timeout: Duration,
    },
}

/// The inbox's state: the kept notifications and the metrics.
pub struct Inbox {
    /// The kept notifications.
    pub store: Store,
    /// `obslab_inbox_*`.
    pub metrics: Metrics,
}

impl Inbox {
    /// Opens the store (reloading `--data`) and registers the metrics.
    pub fn open(args: &InboxArgs) -> anyhow::Result<Inbox> {
        let (store, skipped) = Store::open(args.keep as usize, args.data.as_deref())?;
        if let Some(path) = &args.data {
            tracing::info!(
                reloaded = store.len(),
                skipped,
                "notifications reloaded from {}",
                path.display()
            );
        }
        let metrics = Metrics::new().context("cannot register the inbox metrics")?;
        Ok(Inbox { store, metrics })
    }

    /// Takes a webhook body: the stored entry, or why it was refused.
    pub fn receive(&self, body: &[u8]) -> Result<Arc<Entry>, String> {
        let (notification, raw) = Notification::parse(body)?;
        tracing::info!(
            receiver = %notification.receiver,
            status = notification.status.as_str(),
            alerts = notification.alerts.len(),
            "notification received"
        );
        self.metrics.received(&notification);
        Ok(self.store.add(Entry::new(notification, raw, Utc::now())))
    }
}

/// Serves `inbox` on `listener` until `shutdown` resolves, with the
/// server's header read and idle timeouts and at most 1,024 connections
/// ([`Limits::companion`]).
pub async fn serve(
    inbox: Arc<Inbox>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let service = warp::service(routes(inbox));
    obslab_serve::serve(listener, service, Limits::companion(), None, shutdown).await;
}

/// Every route of the inbox, rejections answered as JSON.
pub fn routes(
    inbox: Arc<Inbox>,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    webhook(inbox.clone())
        .or(page(inbox.clone()))
        .or(list(inbox.clone()))
        .or(clear(inbox.clone()))
        .or(metrics(inbox))
        .or(livez())
        .recover(recover)
}

fn with_inbox(
    inbox: Arc<Inbox>,
) -> impl Filter<Extract = (Arc<Inbox>,), Error = Infallible> + Clone {
    warp::any().map(move || inbox.clone())
}

/// POST /webhook — Alertmanager's payload (the length limit comes before
/// the body is read, so an oversized body is refused unread).
fn webhook(inbox: Arc<Inbox>) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("webhook")
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .and(with_inbox(inbox))
        .map(
            |body: bytes::Bytes, inbox: Arc<Inbox>| match inbox.receive(&body) {
                Ok(_) => json_reply(StatusCode::OK, serde_json::json!({"status": "ok"})),
                Err(reason) => error_reply(StatusCode::BAD_REQUEST, reason),
            },
        )
}

/// GET / — the page.
fn page(inbox: Arc<Inbox>) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path::end()
        .and(warp::get())
        .and(with_inbox(inbox))
        .map(|inbox: Arc<Inbox>| {
            warp::reply::html(page::render(&inbox.store.newest_first(), Utc::now()))
        })
}

/// GET /api/notifications — newest first, as received plus `received_at`.
fn list(inbox: Arc<Inbox>) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("api" / "notifications")
        .and(warp::get())
        .and(with_inbox(inbox))
        .map(|inbox: Arc<Inbox>| {
            let entries = inbox.store.newest_first();
            let mut body =
                String::with_capacity(2 + entries.iter().map(|e| e.json.len() + 1).sum::<usize>());
            body.push('[');
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&entry.json);
            }
            body.push(']');
            warp::reply::with_header(body, "content-type", "application/json")
        })
}

/// DELETE /api/notifications — empties the inbox and its data file.
fn clear(inbox: Arc<Inbox>) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("api" / "notifications")
        .and(warp::delete())
        .and(with_inbox(inbox))
        .map(|inbox: Arc<Inbox>| match inbox.store.clear() {
            Ok(n) => {
                tracing::info!(removed = n, "inbox emptied");
                json_reply(StatusCode::OK, serde_json::json!({"removed": n}))
            }
            Err(e) => error_reply(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        })
}

/// GET /metrics — the text exposition.
fn metrics(inbox: Arc<Inbox>) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .and(with_inbox(inbox))
        .map(|inbox: Arc<Inbox>| {
            warp::reply::with_header(
                inbox.metrics.render(),
                "content-type",
                prometheus::TEXT_FORMAT,
            )
        })
}

/// GET /livez — the process serves.
fn livez() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("livez")
        .and(warp::get())
        .map(|| json_reply(StatusCode::OK, serde_json::json!({"status": "ok"})))
}

fn json_reply(status: StatusCode, body: serde_json::Value) -> warp::reply::Response {
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

fn error_reply(status: StatusCode, message: String) -> warp::reply::Response {
    json_reply(status, serde_json::json!({"error": message}))
}

/// The one place a rejection becomes an answer. Ordered by what the client
/// most needs to hear: a body too large beats "wrong method" from the
/// other routes that also rejected the request.
async fn recover(err: Rejection) -> Result<warp::reply::Response, Infallible> {
    let (status, message) = if err.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body over {MAX_BODY} bytes (1 MiB)"),
        )
    } else if err.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "a Content-Length is required".to_owned(),
        )
    } else if err.is_not_found() {
        (StatusCode::NOT_FOUND, "not found".to_owned())
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed".to_owned(),
        )
    } else {
        (StatusCode::BAD_REQUEST, format!("{err:?}"))
    };
    Ok(error_reply(status, message))
}
