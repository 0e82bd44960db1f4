//! A bare warp hello-world: the baseline the benchmarks compare
//! obslab-server against (same framework, same runtime, no instrumentation).
//! `GET /slow` sleeps 60 s, the baseline of the memory held by pending
//! requests.
//!
//! Usage: `cargo run --release -p obslab-server --example hello_warp -- 127.0.0.1:8080`
//!
//! Once bound it prints `hello_warp listening on ADDR` on stdout: given
//! port 0, that line tells the port the system picked (the benchmarks read
//! it back).

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
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("hello_warp: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let bound = listener
        .local_addr()
        .expect("a bound listener has an address");
    println!("hello_warp listening on {bound}");
    warp::serve(hello.or(slow)).incoming(listener).run().await;
}
