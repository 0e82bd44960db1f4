//! `--wait-for-target`: wait until the target accepts TCP connections.
//!
//! Containers started together come up in any order; the load generator
//! waits for the port instead of counting connect errors. No HTTP request
//! is sent, so the target's own request counters see only the run itself.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;
use url::Url;

/// Pause between two connection attempts.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// Waits until `url`'s host accepts TCP connections, for at most `within`.
pub async fn wait_for(url: &Url, within: Duration) -> anyhow::Result<()> {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let port = url.port_or_known_default().unwrap_or(80);
    let deadline = Instant::now() + within;
    loop {
        let attempt = TcpStream::connect((host, port));
        let error = match tokio::time::timeout_at(deadline, attempt).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer yet".to_owned(),
        };
        if Instant::now() >= deadline {
            anyhow::bail!(
                "--wait-for-target: {url} did not answer within {}: {error}",
                humantime::format_duration(within)
            );
        }
        tracing::info!("waiting for {url}: {error}");
        tokio::time::sleep_until(deadline.min(Instant::now() + RETRY_EVERY)).await;
    }
}
