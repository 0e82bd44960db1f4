//! `obslab-server healthcheck`: probe `/livez` with a raw HTTP/1.1 request
//! over a std `TcpStream`, so a container image needs no shell or curl.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};

/// Asks `GET /livez` of the server listening at `listen`; `Ok` when it
/// answers 200 within `timeout`.
pub fn probe(listen: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let addr = connectable(listen);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /livez HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: obslab-server-healthcheck\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let n = stream
        .read(&mut head)
        .with_context(|| format!("no answer from {addr}"))?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        bail!(
            "GET http://{addr}/livez answered `{}`",
            status_line.lines().next().unwrap_or("")
        );
    }
    Ok(())
}

/// A wildcard listen address is reached through loopback.
fn connectable(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}
