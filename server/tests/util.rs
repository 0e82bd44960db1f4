//! Starting servers, in this process or the binary, and reading their
//! answers.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Lines};
use std::net::SocketAddr;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process on 127.0.0.1:0.
pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    /// Starts a server with the given options (`--listen` is ignored).
    pub async fn start(options: &[&str]) -> TestServer {
        let args = std::iter::once("obslab-server").chain(options.iter().copied());
        let config = obslab_server::Config::try_parse_from(args).expect("valid options");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(obslab_server::run(config, listener, async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            client: reqwest::Client::new(),
            stop: Some(stop),
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path`: the status and the body parsed as JSON.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        (status, body)
    }

    /// The fault profile in force, through the admin API (token in `admin.rs`).
    pub async fn faults(&self) -> Value {
        let response = self
            .client
            .get(self.url("/admin/faults"))
            .bearer_auth("drill-token-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    }

    /// `GET path`: the status only.
    pub async fn status(&self, path: &str) -> u16 {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        response.status().as_u16()
    }

    /// `GET /metrics` as text.
    pub async fn scrape(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Starts the shutdown, as SIGTERM would.
    pub fn begin_shutdown(&mut self) {
        self.stop
            .take()
            .expect("shutdown begun once")
            .send(())
            .unwrap();
    }
}

/// `GET path` on a connection of its own: the status, or why the
/// connection failed (refused once the listener is closed).
pub async fn status_on_new_connection(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok());
    Ok(status.unwrap_or_else(|| panic!("no status line in: {response}")))
}

/// One sample of the text exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses the text exposition's samples (comments skipped). Label values in
/// our exposition contain no `,` or `"`, which keeps this parser small.
pub fn samples(exposition: &str) -> Vec<Sample> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("label is k=\"v\"");
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            Sample {
                name: name.to_string(),
                labels,
                value: value.parse().expect("numeric value"),
            }
        })
        .collect()
}

/// The sum of every sample named `name` whose labels include `filter`.
pub fn sum(exposition: &str, name: &str, filter: &[(&str, &str)]) -> f64 {
    samples(exposition)
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            filter
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
        })
        .map(|s| s.value)
        .sum()
}

/// Asserts `k` successes in `n` trials at probability `p` lie within 5
/// standard deviations of n·p (a false alarm about once in 3.5 million runs).
pub fn assert_binomial(what: &str, k: usize, n: usize, p: f64) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (k as f64 - mean).abs() <= 5.0 * sd,
        "{what}: {k} of {n}, expected {mean:.0} ± {:.0}",
        5.0 * sd
    );
}

/// Polls until the server reports `n` requests in flight besides the scrape.
pub async fn wait_in_flight(server_url: &str, client: &reqwest::Client, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = client
            .get(format!("{server_url}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if sum(&text, "flask_requests_in_flight", &[]) - 1.0 >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {n} requests in flight"
        );
        tokio::task::yield_now().await;
    }
}

/// The binary, started by [`start_binary`], its stderr read up to its ready
/// line.
pub struct Started {
    pub child: Child,
    /// The log lines read, the ready line last when there is one.
    pub logs: Vec<String>,
    /// The address of the ready line; `None` when the binary ended first.
    pub listen: Option<String>,
    /// The rest of its stderr.
    pub rest: Lines<BufReader<ChildStderr>>,
}

impl Started {
    /// Sends SIGTERM, as `docker stop` or systemd would.
    pub fn sigterm(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }
}

/// Starts the binary on 127.0.0.1:0 with JSON logs, `args` and `env`, and
/// reads its stderr until the ready line (`obslab-server ready`, with the
/// address in `listen`) or its end.
pub fn start_binary(args: &[&str], env: &[(&str, &str)]) -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_obslab-server"))
        .args(["--listen=127.0.0.1:0", "--log-format=json"])
        .args(args)
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut rest = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut logs = Vec::new();
    let mut listen = None;
    for line in rest.by_ref().map_while(Result::ok) {
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        logs.push(line);
        if v["fields"]["message"] == "obslab-server ready" {
            listen = v["fields"]["listen"].as_str().map(str::to_owned);
            break;
        }
    }
    Started {
        child,
        logs,
        listen,
        rest,
    }
}
