//! A bare warp hello-world: the baseline the benchmarks compare
//! obslab-server against (same framework, same runtime, no instrumentation).
//! `GET /slow` sleeps 60 s, the baseline of the memory held by pending
//! requests.
//!
//! Usage: `cargo run --release -p obslab-server --example hello_warp -- 127.0.0.1:8080`

use std::net::SocketAddr;
use std::time::Duration;

use warp::Filter;

#[tokio::main]
async fn main() {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string())
        .parse()
        .expect("usage: hello_warp ADDR (e.g. 127.0.0.1:8080)");
    let hello = warp::path::end().map(|| warp::reply::json(&"hello"));
    let slow = warp::path("slow").then(|| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        warp::reply::json(&"slow")
    });
    warp::serve(hello.or(slow)).run(addr).await;
}
