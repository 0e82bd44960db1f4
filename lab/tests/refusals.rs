//! A refusal of an oversized body reaches a client that writes its whole
//! request before reading anything, as Python's urllib does: the inbox's
//! 413 and the admin API's 400, 50 times in a row each, on real sockets.
//!
//! Before obslab-serve drained what such a client still sends, the server
//! closed the connection with the body's bytes unread, the kernel answered
//! them with a reset, and the client's write (or read) failed before it saw
//! the refusal. A blocking client whose send buffer is small (64 KiB) makes
//! that reliable on loopback: its write cannot finish before the server has
//! answered and closed, so it meets the reset every time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::util::{TOKEN, start_inbox, start_server};

/// 2 MiB: over the inbox's 1 MiB and the admin API's 64 KiB.
const BODY: usize = 2 * 1024 * 1024;
const ROUNDS: usize = 50;

/// Writes `head` and a body of [`BODY`] bytes in one go on a new blocking
/// connection, then reads the answer to its end: the status line, or what
/// failed on the way.
fn write_all_then_read(addr: SocketAddr, head: &str) -> Result<String, String> {
    let stream = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .map_err(|e| format!("socket: {e}"))?;
    stream
        .set_send_buffer_size(64 * 1024)
        .map_err(|e| format!("SO_SNDBUF: {e}"))?;
    stream
        .connect(&addr.into())
        .map_err(|e| format!("connect: {e}"))?;
    let mut stream = TcpStream::from(stream);
    // Bounds a hang only: a drained answer takes milliseconds.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("{head}Content-Length: {BODY}\r\n\r\n").into_bytes();
    request.resize(request.len() + BODY, b'x');
    stream
        .write_all(&request)
        .map_err(|e| format!("writing the request: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("reading the answer ({} bytes so far): {e}", answer.len()))?;
    let answer = String::from_utf8_lossy(&answer);
    Ok(answer.lines().next().unwrap_or("").to_string())
}

/// Sends the oversized request [`ROUNDS`] times in a row; each must get
/// `status`.
async fn refused_every_time(addr: SocketAddr, head: String, status: &'static str) {
    tokio::task::spawn_blocking(move || {
        for round in 1..=ROUNDS {
            match write_all_then_read(addr, &head) {
                Ok(line) if line.starts_with(status) => {}
                Ok(line) => panic!("round {round}: {line:?} instead of {status:?}"),
                Err(e) => panic!("round {round}: the refusal did not arrive: {e}"),
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_413_reaches_a_client_that_writes_its_whole_body_first() {
    let inbox = start_inbox(&[]).await;
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n",
        inbox.addr
    );
    refused_every_time(inbox.addr, head, "HTTP/1.1 413 ").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_refusal_reaches_a_client_that_writes_its_whole_body_first() {
    let server = start_server(&[]).await;
    let head = format!(
        "PATCH /admin/faults HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\n",
        server.addr
    );
    // The admin API's refusal of a body over 64 KiB is a 400 naming the limit.
    refused_every_time(server.addr, head, "HTTP/1.1 400 ").await;
}
