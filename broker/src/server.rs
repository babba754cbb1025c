//! Connection handling: accepting clients, framing requests and responses.
//!
//! Each connection is served by its own task, one request at a time and in
//! order, as Kafka clients expect. A request that cannot be read or decoded
//! closes only its own connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, info_span, warn, Instrument};

use crate::broker::State;
use crate::protocol::{self, RequestError};

const IO_BUFFER: usize = 64 * 1024;
/// A frame's buffer grows by at most this much ahead of the bytes received,
/// so a size prefix alone cannot make the broker allocate up to the maximum.
const FRAME_CHUNK: usize = 64 * 1024;

/// Accepts connections until shutdown, then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let span = info_span!("connection", %peer);
                    connections.spawn(connection(stream, peer, Arc::clone(&state)).instrument(span));
                }
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn connection(stream: TcpStream, peer: SocketAddr, state: Arc<State>) {
    if let Err(e) = stream.set_nodelay(true) {
        debug!(error = %e, "cannot disable Nagle's algorithm");
    }
    debug!("client connected");
    let (read, write) = stream.into_split();
    let mut reader = BufReader::with_capacity(IO_BUFFER, read);
    let mut writer = BufWriter::with_capacity(IO_BUFFER, write);
    let client_host = format!("/{}", peer.ip());
    loop {
        let frame = match read_frame(&mut reader, state.config.max_request_bytes).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                warn!(error = %e, "closing connection: unreadable request");
                break;
            }
        };
        let response = match protocol::handle(&state, &client_host, frame.freeze()).await {
            Ok(response) => response,
            Err(e) => {
                warn!(error = %e, "closing connection");
                break;
            }
        };
        let written = async {
            if let Some(response) = response {
                writer.write_all(&response).await?;
            }
            // Flushed at once: the next request may be a fetch that waits,
            // and this response must not wait with it.
            writer.flush().await?;
            std::io::Result::Ok(())
        };
        if let Err(e) = written.await {
            debug!(error = %e, "client went away");
            break;
        }
    }
    debug!("client disconnected");
}

/// Reads one size-prefixed frame; `None` on a clean end of stream.
async fn read_frame<R: AsyncReadExt + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<BytesMut>, RequestError> {
    let mut size = [0; 4];
    match reader.read_exact(&mut size).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(RequestError::Io(e)),
    }
    let size = i32::from_be_bytes(size);
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= max)
        .ok_or(RequestError::FrameSize(size))?;
    let mut frame = BytesMut::new();
    while frame.len() < size {
        let start = frame.len();
        frame.resize(start + (size - start).min(FRAME_CHUNK), 0);
        reader
            .read_exact(&mut frame[start..])
            .await
            .map_err(RequestError::Io)?;
    }
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, ReadBuf};

    use super::*;

    /// Serves `data` in pieces of at most `piece` bytes, then end of stream,
    /// noting the largest buffer it was asked to fill.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        piece: usize,
        largest_request: usize,
    }

    impl Trickle {
        fn new(frame_size: i32, body: &[u8], piece: usize) -> Self {
            let mut data = frame_size.to_be_bytes().to_vec();
            data.extend_from_slice(body);
            Self {
                data,
                at: 0,
                piece,
                largest_request: 0,
            }
        }
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.largest_request = self.largest_request.max(buf.remaining());
            let end = self
                .data
                .len()
                .min(self.at + self.piece.min(buf.remaining()));
            let at = self.at;
            buf.put_slice(&self.data[at..end]);
            self.at = end;
            Poll::Ready(Ok(()))
        }
    }

    fn read(reader: &mut Trickle, max: usize) -> Result<Option<BytesMut>, RequestError> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(read_frame(reader, max))
    }

    #[test]
    fn a_frame_arriving_in_pieces_is_read_whole() {
        let body: Vec<u8> = (0..3 * FRAME_CHUNK + 17).map(|i| i as u8).collect();
        let mut reader = Trickle::new(body.len() as i32, &body, 1000);
        let frame = read(&mut reader, body.len()).expect("frame");
        assert_eq!(frame.as_deref(), Some(&body[..]));
        assert!(matches!(read(&mut reader, body.len()), Ok(None)));
    }

    #[test]
    fn a_large_size_prefix_alone_does_not_claim_its_memory() {
        let max = 64 * 1024 * 1024;
        let mut reader = Trickle::new(max as i32, &[7; 100], usize::MAX);
        assert!(matches!(
            read(&mut reader, max),
            Err(RequestError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof
        ));
        assert!(reader.largest_request <= FRAME_CHUNK);
        let mut oversized = Trickle::new(max as i32 + 1, &[], usize::MAX);
        assert!(matches!(
            read(&mut oversized, max),
            Err(RequestError::FrameSize(size)) if size == max as i32 + 1
        ));
    }
}
