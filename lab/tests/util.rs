//! Shared helpers: an inbox served on 127.0.0.1:0, HTTP calls.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use clap::Parser as _;
use obslab_lab::cli::{Cli, Command};
use obslab_lab::inbox::{self, Inbox, InboxArgs};
use tokio::sync::oneshot;

/// An inbox serving on 127.0.0.1:0 until dropped.
pub struct TestInbox {
    pub addr: SocketAddr,
    pub inbox: Arc<Inbox>,
    _stop: oneshot::Sender<()>,
}

impl TestInbox {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// The options of `obslab inbox` as a user would type them.
pub fn inbox_args(extra: &[&str]) -> InboxArgs {
    let mut argv = vec!["obslab", "inbox", "--listen", "127.0.0.1:0"];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).expect("valid options").command {
        Command::Inbox(args) => args,
        #[allow(unreachable_patterns)]
        _ => unreachable!(),
    }
}

/// Starts an inbox with `extra` options.
pub async fn start_inbox(extra: &[&str]) -> TestInbox {
    let args = inbox_args(extra);
    let inbox = Arc::new(Inbox::open(&args).expect("inbox opens"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(inbox::serve(inbox.clone(), listener, async {
        let _ = stopped.await;
    }));
    TestInbox {
        addr,
        inbox,
        _stop: stop,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs `body` to `url`: (status, body).
pub async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let r = client().post(url).body(body).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// GETs `url`: (status, body).
pub async fn get(url: &str) -> (u16, String) {
    let r = client().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "obslab-lab-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The admin token of [`start_server`]'s servers.
pub const TOKEN: &str = "lab-test-token-0123456789";

/// An obslab-server in this process on 127.0.0.1:0, admin API open.
pub struct TestServer {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts obslab-server with `--admin-token TOKEN` and `extra` options.
pub async fn start_server(extra: &[&str]) -> TestServer {
    let args = ["obslab-server", "--admin-token", TOKEN]
        .into_iter()
        .chain(extra.iter().copied());
    let config = obslab_server::Config::try_parse_from(args).expect("valid server options");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(obslab_server::run(config, listener, async move {
        let _ = stopped.await;
    }));
    TestServer { addr, _stop: stop }
}

/// Runs `obslab ARGS` in-process: (exit status is success, stdout, error).
pub async fn obslab(args: &[&str]) -> (bool, String, Option<String>) {
    let argv = std::iter::once("obslab").chain(args.iter().copied());
    let cli = Cli::try_parse_from(argv).expect("valid command line");
    let mut out = Vec::new();
    let result = obslab_lab::run_client(cli, &mut out).await;
    let out = String::from_utf8(out).unwrap();
    match result {
        Ok(code) => (code == std::process::ExitCode::SUCCESS, out, None),
        Err(e) => (false, out, Some(format!("{e:#}"))),
    }
}
