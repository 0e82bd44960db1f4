//! Tiny warp apps on 127.0.0.1:0 and helpers shared by the tests: runs
//! in-process and of the binary, and reading an exposition.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use obslab_loadgen::Plan;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Notify;
use warp::Filter;
use warp::http::StatusCode;

use crate::servers::{accept_each, next_head};

/// What the test app saw.
#[derive(Default)]
pub struct Seen {
    /// Requests that reached any route.
    pub hits: AtomicU64,
    /// Requests that reached `GET /`.
    pub home: AtomicU64,
    /// Woken at every hit.
    pub hit: Notify,
}

impl Seen {
    /// Waits until the app has seen `n` requests in all and returns the
    /// count then; panics after 10 s, naming the count reached.
    pub async fn hits_reach(&self, n: u64) -> u64 {
        let waiting = async {
            loop {
                // Created before the check, so no hit is missed between.
                let hit = self.hit.notified();
                let now = self.hits.load(Ordering::SeqCst);
                if now >= n {
                    return now;
                }
                hit.await;
            }
        };
        match tokio::time::timeout(Duration::from_secs(10), waiting).await {
            Ok(count) => count,
            Err(_) => panic!(
                "the app saw {} requests, not {n}",
                self.hits.load(Ordering::SeqCst)
            ),
        }
    }
}

/// Serves the test app and returns its base URL and counters. Routes:
/// `/` 200, `/fail` 500, `/slow` 200 after 400 ms, `/hang` 200 after 30 s,
/// `/moved` 302 to `/`.
pub async fn app() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let counted = {
        let seen = seen.clone();
        warp::any()
            .map(move || {
                seen.hits.fetch_add(1, Ordering::SeqCst);
                seen.hit.notify_waiters();
            })
            .untuple_one()
    };
    let home = {
        let seen = seen.clone();
        warp::path::end().map(move || {
            seen.home.fetch_add(1, Ordering::SeqCst);
            "ok"
        })
    };
    let fail = warp::path!("fail")
        .map(|| warp::reply::with_status("boom", StatusCode::INTERNAL_SERVER_ERROR));
    let slow = warp::path!("slow").then(|| async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        "slow"
    });
    let hang = warp::path!("hang").then(|| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "late"
    });
    let moved =
        warp::path!("moved").map(|| warp::redirect::found(warp::http::Uri::from_static("/")));
    let routes = counted.and(
        home.map(box_reply)
            .or(fail.map(box_reply))
            .unify()
            .or(slow.map(box_reply))
            .unify()
            .or(hang.map(box_reply))
            .unify()
            .or(moved.map(box_reply))
            .unify(),
    );
    let addr = serve(routes).await;
    (format!("http://{addr}"), seen)
}

fn box_reply(reply: impl warp::Reply + 'static) -> Box<dyn warp::Reply> {
    Box::new(reply)
}

async fn serve<F>(filter: F) -> SocketAddr
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(warp::serve(filter).incoming(listener).run());
    addr
}

/// A base URL whose port is bound but not listening, so connecting is
/// refused; the port stays reserved (no other test can take it) while the
/// returned socket lives.
pub fn dead_target() -> (String, TcpSocket) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let addr = socket.local_addr().expect("local addr");
    (format!("http://{addr}"), socket)
}

/// A bare HTTP/1.1 target that answers one request per connection with
/// `200 ok` and `Connection: close`, then closes the connection, as a
/// draining server does. Returns its base URL and the
/// head of every request it read, in order.
pub async fn closing_target() -> (String, Arc<Mutex<Vec<String>>>) {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let addr = accept_each(move |mut stream| {
        let seen = seen.clone();
        async move {
            let Some(head) = next_head(&mut stream, &mut Vec::new()).await else {
                return;
            };
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let answer = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok";
            let _ = stream.write_all(answer).await;
            // Dropping the stream closes the connection.
        }
    })
    .await;
    (format!("http://{addr}"), heads)
}

/// The obslab-loadgen binary with `words`, logging warnings only.
pub fn loadgen_command<S: AsRef<OsStr>>(words: &[S]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obslab-loadgen"));
    cmd.args(words).env("RUST_LOG", "warn");
    cmd
}

/// A fresh, empty directory for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obslab-loadgen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cmd` to its end on a blocking thread; its status and output.
pub async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}

/// A plan from command-line words, without progress output.
pub fn plan(words: &[&str]) -> Plan {
    let all = ["obslab-loadgen", "--progress", "off"].iter().chain(words);
    Plan::try_parse_from(all).expect("test arguments parse")
}

/// The text report of `s`.
pub fn text_report(s: &obslab_loadgen::Summary) -> String {
    let mut out = Vec::new();
    obslab_loadgen::report::text(s, &mut out).expect("text into a Vec");
    String::from_utf8(out).expect("UTF-8")
}

/// Runs `words` in-process to its natural end.
pub async fn run(words: &[&str]) -> obslab_loadgen::Summary {
    obslab_loadgen::run(plan(words), std::future::pending())
        .await
        .expect("the run completes")
}

/// Sum of the samples of `name` whose labels contain every `label="value"`.
pub fn sum_samples(exposition: &str, name: &str, labels: &[&str]) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let matches = (rest.is_empty() || rest.starts_with('{'))
                && labels.iter().all(|lv| rest.contains(lv));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// `GET url` body as text.
pub async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("GET")
        .text()
        .await
        .expect("body")
}
