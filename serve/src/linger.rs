//! The lingering close: what the client still sends once its answer is out
//! is read and dropped before the socket is closed.
//!
//! hyper answers a request whose body the app did not read (the inbox's 413
//! for a body over 1 MiB, the admin API's 400 over 64 KiB) and closes the
//! connection with that body still arriving. Closing a socket with unread
//! bytes in its receive buffer, or receiving more after the close, makes the
//! kernel send a reset; a client that writes its whole request before
//! reading (Python's urllib, most scripts) then fails in its write with
//! "broken pipe" or "connection reset", never having read the refusal that
//! was sent. nginx's `lingering_close` and Apache's lingering close exist
//! for this: after the answer, the server shuts down its side for writing
//! (the client sees the answer and its end) and reads and discards what
//! comes until the client closes too, within bounds of bytes and time,
//! and only then closes.
//!
//! hyper gives its connection's socket back to no one, so [`Lent`] hands it
//! back through a channel when hyper drops it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long a closing connection is read from at most.
pub const LINGER_TIME: Duration = Duration::from_secs(5);

/// How many bytes a closing connection reads and discards at most (a body
/// of several MiB still gets its refusal; an endless one does not hold the
/// connection past this).
pub const LINGER_BYTES: usize = 8 * 1024 * 1024;

/// A socket lent to hyper: when hyper drops it, it is sent back on the
/// channel given to [`Lent::new`].
#[derive(Debug)]
pub struct Lent<T> {
    io: Option<T>,
    back: Option<oneshot::Sender<T>>,
}

impl<T> Lent<T> {
    /// Lends `io`; the receiver gets it back once the borrower drops it.
    pub fn new(io: T) -> (Lent<T>, oneshot::Receiver<T>) {
        let (back, returned) = oneshot::channel();
        let lent = Lent {
            io: Some(io),
            back: Some(back),
        };
        (lent, returned)
    }

    fn io(&mut self) -> &mut T {
        self.io.as_mut().expect("the socket is lent until dropped")
    }
}

impl<T> Drop for Lent<T> {
    fn drop(&mut self) {
        if let (Some(io), Some(back)) = (self.io.take(), self.back.take()) {
            // No receiver: the connection's task is gone; the socket closes.
            let _ = back.send(io);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Lent<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().io()).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Lent<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().io()).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().io()).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.as_ref().is_some_and(T::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().io()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().io()).poll_shutdown(cx)
    }
}

/// Closes `io` the lingering way: shuts down its writing side (hyper has
/// mostly done so already), then reads and discards until the client
/// closes, [`LINGER_BYTES`] have come or [`LINGER_TIME`] has passed; the
/// caller drops it then. Returns how many bytes were discarded.
pub async fn linger<T: AsyncRead + AsyncWrite + Unpin>(io: &mut T) -> usize {
    let deadline = Instant::now() + LINGER_TIME;
    // An error (the client reset the connection) shows in the first read.
    if tokio::time::timeout_at(deadline, io.shutdown())
        .await
        .is_err()
    {
        return 0;
    }
    let mut buf = vec![0; 64 * 1024];
    let mut discarded = 0;
    while discarded < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, io.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => break,
            Ok(Ok(n)) => discarded += n,
        }
    }
    discarded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lent_socket_comes_back_when_dropped() {
        let (client, server) = tokio::io::duplex(64);
        let (lent, returned) = Lent::new(server);
        drop(lent);
        let mut server = returned.await.expect("given back");
        let mut client = client;
        client.write_all(b"more body").await.unwrap();
        drop(client);
        assert_eq!(linger(&mut server).await, 9);
    }

    #[tokio::test(start_paused = true)]
    async fn lingering_stops_at_its_time_when_the_client_never_closes() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let started = Instant::now();
        client.write_all(b"abc").await.unwrap();
        assert_eq!(linger(&mut server).await, 3);
        assert_eq!(started.elapsed(), LINGER_TIME);
        drop(client);
    }
}
