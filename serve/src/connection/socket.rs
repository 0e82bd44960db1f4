//! The socket's side: [`Watched`] sees bytes arrive and leave, and tells
//! HTTP/1 from HTTP/2 by the first 24 bytes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::State;

/// The client preface of HTTP/2 (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the first bytes of a connection said about its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// Every byte so far (this many) matches HTTP/2's preface.
    Unknown(usize),
    Http1,
    Http2,
}

pin_project! {
    /// A socket that reports its reads and writes to the connection's
    /// [`State`].
    #[derive(Debug)]
    pub struct Watched<T> {
        #[pin]
        io: T,
        state: Arc<State>,
        protocol: Protocol,
    }
}

impl<T> Watched<T> {
    /// Watches `io` on behalf of `state`.
    pub fn new(io: T, state: Arc<State>) -> Watched<T> {
        Watched {
            io,
            state,
            protocol: Protocol::Unknown(0),
        }
    }
}

/// The protocol after `protocol` has seen `bytes` more.
fn sniff(protocol: Protocol, bytes: &[u8]) -> Protocol {
    let Protocol::Unknown(seen) = protocol else {
        return protocol;
    };
    let expected = &H2_PREFACE[seen..];
    let n = bytes.len().min(expected.len());
    if bytes[..n] != expected[..n] {
        Protocol::Http1
    } else if seen + n == H2_PREFACE.len() {
        Protocol::Http2
    } else {
        Protocol::Unknown(seen + n)
    }
}

impl<T: AsyncRead> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        ready!(this.io.poll_read(cx, buf))?;
        let bytes = &buf.filled()[before..];
        if !bytes.is_empty() {
            let was = *this.protocol;
            *this.protocol = sniff(was, bytes);
            match *this.protocol {
                Protocol::Http2 if was != Protocol::Http2 => this.state.preface_complete(),
                Protocol::Http2 => {}
                Protocol::Http1 | Protocol::Unknown(_) => this.state.bytes_read(),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let n = ready!(this.io.poll_write(cx, buf))?;
        if n > 0 && *this.protocol == Protocol::Http1 {
            this.state.active();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let n = ready!(this.io.poll_write_vectored(cx, bufs))?;
        if n > 0 && *this.protocol == Protocol::Http1 {
            this.state.active();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preface_is_told_from_http1_byte_by_byte() {
        assert_eq!(
            sniff(Protocol::Unknown(0), b"GET / HTTP/1.1"),
            Protocol::Http1
        );
        assert_eq!(sniff(Protocol::Unknown(0), b"POST"), Protocol::Http1);
        assert_eq!(sniff(Protocol::Unknown(0), b"PRI *"), Protocol::Unknown(5));
        assert_eq!(
            sniff(Protocol::Unknown(5), b" HTTP/2.0"),
            Protocol::Unknown(14)
        );
        assert_eq!(
            sniff(Protocol::Unknown(14), b"\r\n\r\nSM\r\n\r\n\0\0\x12\x04"),
            Protocol::Http2
        );
        assert_eq!(sniff(Protocol::Unknown(0), H2_PREFACE), Protocol::Http2);
        assert_eq!(sniff(Protocol::Http1, H2_PREFACE), Protocol::Http1);
    }
}
